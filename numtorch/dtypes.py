"""dtypes, PyTorch's promotion lattice and result_type rules (bool < integer < floating)."""
import builtins as _builtins

import numpy as np

__all__ = ["dtype", "bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32",
           "float64", "promote_types", "result_type", "get_default_dtype", "set_default_dtype",
           "finfo", "iinfo", "ALL_DTYPES"]

_BOOL, _INT, _FLOAT = 0, 1, 2


class dtype:
    """A tensor element type; prints as ``torch.float32`` so scripts print what PyTorch prints."""
    __slots__ = ("name", "np", "itemsize", "category", "is_floating_point", "is_signed",
                 "compute", "legacy", "short", "_rank")

    def __init__(self, name, np_dtype, category, legacy, short, rank):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.itemsize = self.np.itemsize
        self.category = category
        self.is_floating_point = category == _FLOAT
        self.is_signed = name not in ("bool", "uint8")
        # float16 is storage-only on the CPU: Numba has no half arithmetic, so kernels see float32.
        self.compute = np.dtype(np.float32) if name == "float16" else self.np
        self.legacy = legacy      # 'FloatTensor'
        self.short = short        # 'Float', used in PyTorch error texts
        self._rank = rank

    @property
    def is_complex(self):
        return False

    def to_real(self):
        return self

    def __repr__(self):
        return "torch." + self.name

    __str__ = __repr__

    def __reduce__(self):
        return (_by_name, (self.name,))


bool = dtype("bool", np.bool_, _BOOL, "BoolTensor", "Bool", 0)  # noqa: A001 (PyTorch's name)
uint8 = dtype("uint8", np.uint8, _INT, "ByteTensor", "Byte", 1)
int8 = dtype("int8", np.int8, _INT, "CharTensor", "Char", 2)
int16 = dtype("int16", np.int16, _INT, "ShortTensor", "Short", 3)
int32 = dtype("int32", np.int32, _INT, "IntTensor", "Int", 4)
int64 = dtype("int64", np.int64, _INT, "LongTensor", "Long", 5)
float16 = dtype("float16", np.float16, _FLOAT, "HalfTensor", "Half", 6)
float32 = dtype("float32", np.float32, _FLOAT, "FloatTensor", "Float", 7)
float64 = dtype("float64", np.float64, _FLOAT, "DoubleTensor", "Double", 8)

ALL_DTYPES = (bool, uint8, int8, int16, int32, int64, float16, float32, float64)
_BY_NAME = {d.name: d for d in ALL_DTYPES}
_BY_NAME.update({"float": float32, "double": float64, "half": float16, "int": int32,
                 "long": int64, "short": int16})
_BY_NP = {d.np: d for d in ALL_DTYPES}
_BY_LEGACY = {d.legacy: d for d in ALL_DTYPES}


def _by_name(name):
    return _BY_NAME[name]


def from_numpy_dtype(np_dtype):
    """numtorch dtype for a NumPy dtype; TypeError like PyTorch for unsupported ones."""
    d = _BY_NP.get(np.dtype(np_dtype))
    if d is None:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{np.dtype(np_dtype).name}. The only supported types "
            "are: float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint8, and bool.")
    return d


def to_dtype(x):
    """A ``dtype=`` argument as PyTorch's parser takes it: a numtorch dtype or the Python types
    float/int/bool; anything else (a name, a NumPy dtype) raises PyTorch's TypeError."""
    if isinstance(x, dtype):
        return x
    if x is float:
        return float64
    if x is int:
        return int64
    if x is _builtins.bool:
        return bool
    import sys
    f = sys._getframe(1)
    while f is not None and f.f_code.co_name.startswith("_"):
        f = f.f_back
    fn = f.f_code.co_name if f is not None else "tensor"
    raise TypeError(f"{fn}(): argument 'dtype' must be torch.dtype, not {type(x).__name__}")


def parse_dtype(x):
    """Accept a numtorch dtype, a NumPy dtype, a Python type (float/int/bool) or a name (``Tensor.type``)."""
    if isinstance(x, dtype) or x in (float, int, _builtins.bool):
        return to_dtype(x)
    if isinstance(x, str):
        name = x[6:] if x.startswith("torch.") else x
        if name in _BY_NAME:
            return _BY_NAME[name]
        if name in _BY_LEGACY:
            return _BY_LEGACY[name]
        raise TypeError(f"invalid dtype {x!r}")
    try:
        return from_numpy_dtype(x)
    except TypeError:
        raise TypeError(f"dtype must be a numtorch.dtype (got {type(x).__name__})") from None


_pybool = _builtins.bool

# PyTorch's promotion: within integers uint8 and int8 meet at int16; any float beats any integer.
_INT_ORDER = {uint8: 1, int8: 1, int16: 2, int32: 3, int64: 4}


def promote_types(a, b):
    """PyTorch's ``promote_types`` for the supported dtypes."""
    if a is b:
        return a
    if a.category != b.category:
        hi, lo = (a, b) if a.category > b.category else (b, a)
        return hi
    if a.category == _FLOAT:
        return a if a._rank > b._rank else b
    if {a, b} == {uint8, int8}:
        return int16
    return a if _INT_ORDER[a] > _INT_ORDER[b] else b


_default_float = float32


def get_default_dtype():
    return _default_float


def set_default_dtype(d):
    global _default_float
    d = to_dtype(d)
    if not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _default_float = d


def scalar_dtype(x):
    """dtype PyTorch gives a Python scalar operand (a 'wrapped number')."""
    if isinstance(x, _pybool) or isinstance(x, np.bool_):
        return bool
    if isinstance(x, (int, np.integer)):
        return int64
    if isinstance(x, (float, np.floating)):
        return _default_float
    raise TypeError(f"unsupported scalar type {type(x).__name__}")


def _combine(higher, lower):
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.category == _FLOAT:
        return higher
    if higher is bool or lower.category == _FLOAT:
        return promote_types(higher, lower)
    return higher


def result_type_of(operands):
    """PyTorch's result type: dimensioned tensors, then 0-d tensors, then Python scalars, each
    raising the result only when it raises the category."""
    dim = zero = wrapped = None
    for o in operands:
        d = getattr(o, "dtype", None)
        if isinstance(d, dtype):
            if o.ndim:
                dim = d if dim is None else promote_types(dim, d)
            else:
                zero = d if zero is None else promote_types(zero, d)
        elif o is not None:
            s = scalar_dtype(o)
            wrapped = s if wrapped is None else promote_types(wrapped, s)
    return _combine(dim, _combine(zero, wrapped))


def result_type(a, b):
    """``torch.result_type(tensor_or_scalar, tensor_or_scalar)``."""
    return result_type_of((a, b))


def can_cast(from_, to):
    """PyTorch's same-kind rule used for in-place ops and ``out=``."""
    return from_.category <= to.category


class finfo:
    """Machine limits of a floating dtype (fields as in ``torch.finfo``)."""

    def __init__(self, type=None):
        type = _default_float if type is None else to_dtype(type)
        if not type.is_floating_point:
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                            "'torch.finfo'")
        fi = np.finfo(type.np)
        self.dtype = type.name
        self.bits = fi.bits
        self.eps = float(fi.eps)
        self.max = float(fi.max)
        self.min = float(fi.min)
        self.tiny = self.smallest_normal = float(fi.smallest_normal)
        self.resolution = float(fi.resolution)

    def __repr__(self):
        return (f"finfo(resolution={self.resolution}, min={self.min:e}, max={self.max:e}, eps={self.eps:e}, "
                f"smallest_normal={self.smallest_normal:e}, tiny={self.tiny:e}, dtype={self.dtype})")


class iinfo:
    """Integer limits (fields as in ``torch.iinfo``)."""

    def __init__(self, type):
        type = to_dtype(type)
        if type.category != _INT and type is not bool:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle "
                            "'torch.iinfo'")
        if type is bool:
            self.bits, self.min, self.max = 8, 0, 1
        else:
            ii = np.iinfo(type.np)
            self.bits, self.min, self.max = ii.bits, int(ii.min), int(ii.max)
        self.dtype = type.name

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"
