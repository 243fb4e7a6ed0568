"""Creation: tensor()/as_tensor/from_numpy, zeros/ones/full/empty/arange/linspace/eye and *_like."""
import math
import numbers
import warnings

import numpy as np

from . import dtypes as _dt
from . import fastpath as _fp
from .kernels.elementwise import _CONTIG, _contig as _ew_contig   # the shape's strides, cached for the fast path
from .device import CPU, as_device, device as _device
from .shape import as_shape, check_size_nonneg, contiguous_strides, numel
from .storage import Storage, empty_buffer
from .tensor import Tensor


_CUDA0 = _device("cuda", 0)
_DEFAULT = [CPU]


def set_default_device(device):
    """``torch.set_default_device``: where factories put tensors when no ``device=`` is given."""
    _DEFAULT[0] = CPU if device is None else _dev(device)


def get_default_device():
    return _DEFAULT[0]


def _dev(device):
    d = as_device(device)
    if d is None:
        return _DEFAULT[0]
    if d.type == "cuda":
        from . import cuda as _cuda
        _cuda._check_available()
        _cuda._check_index(d)
        if d.index is None:
            d = _CUDA0
    return d


def _finish(t, requires_grad):
    if requires_grad:
        if not t.dtype.is_floating_point:
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t._requires_grad = True
    return t


def _from_host_array(arr, dtype, device, requires_grad=False):
    """A new tensor holding a contiguous copy of ``arr`` converted to ``dtype``."""
    with np.errstate(over="ignore", invalid="ignore"):       # PyTorch overflows to inf silently
        buf = np.ascontiguousarray(arr, dtype=dtype.np).reshape(-1)
    if np.may_share_memory(buf, arr):      # reshape(-1) of an owning array is a view of it
        buf = buf.copy()
    t = Tensor._from_buffer(buf, arr.shape, dtype)
    if device.type != "cpu":
        t = t.to(device)
    return _finish(t, requires_grad)


def _infer(data, target=None):
    """NumPy array plus PyTorch's inferred dtype for nested Python data. Nested Python numbers convert
    straight to ``target`` when given (one rounding, as PyTorch does), never through the inferred dtype."""
    if isinstance(data, Tensor):
        return data._host_values(), data.dtype
    if isinstance(data, np.ndarray):
        return data, _dt.from_numpy_dtype(data.dtype)
    if isinstance(data, np.generic):
        return np.asarray(data), _dt.from_numpy_dtype(data.dtype)
    if isinstance(data, bool):
        return np.asarray(data), _dt.bool
    if isinstance(data, numbers.Integral):
        if target is None or not target.is_floating_point:
            if not -2 ** 63 <= int(data) < 2 ** 63:
                raise ValueError("Overflow when unpacking long long")
            return np.asarray(data, dtype=np.int64), _dt.int64
        return np.asarray(float(data)), _dt.int64
    if isinstance(data, numbers.Real):
        return np.asarray(data, dtype=np.float64), _dt.get_default_dtype()
    if isinstance(data, (list, tuple)):
        dt = _scan(data)
        conv = target if target is not None else dt
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                arr = np.array(_unwrap(data), dtype=None if conv is None else conv.np)
        except (ValueError, OverflowError) as e:
            if isinstance(e, OverflowError):
                raise ValueError("Overflow when unpacking long long") from None
            raise ValueError(_ragged_message(data) or str(e)) from None
        if arr.dtype == object:
            raise ValueError(_ragged_message(data) or "could not convert data to a tensor")
        return arr, _dt.get_default_dtype() if dt is None else dt
    if hasattr(data, "__array__"):
        arr = np.asarray(data)
        return arr, _dt.from_numpy_dtype(arr.dtype)
    raise TypeError(f"Could not infer dtype of {type(data).__name__}")


def _scan(data):
    """PyTorch's inferred dtype of nested data: the promotion of every element's dtype (Python bool/int/float
    -> bool/int64/default float; tensors and NumPy values keep theirs); None when there is no element."""
    out = None
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, (list, tuple)):
            stack.extend(x)
            continue
        if isinstance(x, Tensor):
            d = x.dtype
        elif isinstance(x, (np.ndarray, np.generic)):
            d = _dt.from_numpy_dtype(x.dtype)
        elif isinstance(x, (bool, numbers.Real)):
            d = _dt.scalar_dtype(x)
        else:
            raise TypeError(f"new(): invalid data type '{type(x).__name__}'")
        out = d if out is None else _dt.promote_types(out, d)
    return out


def _unwrap(data):
    if isinstance(data, Tensor):
        return data._host_values()
    if isinstance(data, (list, tuple)):
        return [_unwrap(x) for x in data]
    return data


def _ragged_message(data, dim=0):
    if not isinstance(data, (list, tuple)) or not data:
        return None
    lens = [len(x) if isinstance(x, (list, tuple)) else None for x in data]
    if any(n is not None for n in lens):
        first = lens[0]
        for n in lens[1:]:
            if n != first:
                return f"expected sequence of length {first} at dim {dim + 1} (got {n})"
        for x in data:
            m = _ragged_message(x, dim + 1)
            if m:
                return m
    return None


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """``torch.tensor``: always copies; infers dtype like PyTorch."""
    if data.__class__ is list and dtype is None and device is None and not requires_grad and 0 < len(data) <= 64 \
            and _DEFAULT[0] is CPU:
        t = _small_list(data)
        if t is not None:
            return t
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() "
                      "or sourceTensor.detach().clone().requires_grad_(True), rather than "
                      "torch.tensor(sourceTensor).", UserWarning, stacklevel=2)
    req = _dt.to_dtype(dtype) if dtype is not None else None
    arr, inferred = _infer(data, req)
    dt = req if req is not None else inferred
    return _from_host_array(np.asarray(arr), dt, _dev(device), requires_grad)


_F32_MAX = 3.4028234663852886e38


def _small_list(data):
    """``tensor([1., 2.])`` / ``tensor([1, 2])``: a short flat list of Python floats and ints, the values in
    range of the result dtype (no overflow to handle), or None for the general path."""
    fl = False
    for v in data:
        c = v.__class__
        if c is float:
            if not -_F32_MAX <= v <= _F32_MAX:
                return None
            fl = True
        elif c is not int or not -0x8000000000000000 <= v <= 0x7FFFFFFFFFFFFFFF:
            return None
    dt = _dt.get_default_dtype() if fl else _dt.int64
    if dt.np.itemsize < 4:
        return None
    return _fp.tensor_of(np.array(data, dtype=dt.np), (len(data),), (1,), dt)


def as_tensor(data, dtype=None, device=None):
    """Shares memory with a Tensor or a NumPy array when dtype and device allow it."""
    dt = _dt.to_dtype(dtype) if dtype is not None else None
    if isinstance(data, Tensor):
        out = data if dt is None else data.to(dt)
        return out if device is None else out.to(device)
    if not isinstance(data, np.ndarray) and (hasattr(data, "__cuda_array_interface__") or
                                             type(data).__module__.startswith("numba.cuda")):
        from . import cuda as _cuda
        out = _cuda.from_cuda_array(data, dt)
        return out if device is None else out.to(device)
    if isinstance(data, np.ndarray) and (dt is None or dt.np == data.dtype) and device in (None, "cpu", CPU):
        try:
            return from_numpy(data)
        except (TypeError, ValueError):
            pass
    return tensor(data, dtype=dt, device=device)


def from_numpy(arr):
    """Zero-copy: the tensor and the array share memory both ways."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    dt = _dt.from_numpy_dtype(arr.dtype)
    it = arr.itemsize
    if any(s < 0 for s in arr.strides):
        raise ValueError("At least one stride in the given numpy array is negative, and tensors with negative "
                         "strides are not currently supported. (You can probably work around this by making a "
                         "copy of your array  with array.copy().) ")
    if any(s % it for s in arr.strides):
        raise ValueError("given numpy array strides not a multiple of the element byte size. Copy the numpy "
                         "array to reallocate the memory.")
    if not arr.dtype.isnative:
        raise ValueError("given numpy array has byte order different from the native byte order. Conversion "
                         "between byte orders is currently not supported.")
    strides = tuple(s // it for s in arr.strides)
    extent = 1 + sum((n - 1) * s for n, s in zip(arr.shape, strides)) if arr.size else 0
    flat = np.lib.stride_tricks.as_strided(arr, shape=(extent,), strides=(it,))
    return Tensor._make(Storage(flat), tuple(arr.shape), strides, 0, dt)


# ---- factories -------------------------------------------------------------------------------------

def _ones(n, dt):
    b = np.empty(n, dt)      # np.ones is a Python-level wrapper (~0.9 us for 4 elements); fill is C
    b.fill(1)
    return b


_FILLS = {None: np.empty, 0: np.zeros, 1: _ones}


def _factory(size, dtype, device, requires_grad, fill):
    if device is None and dtype is None and _DEFAULT[0] is CPU and fill.__class__ is not float and fill in _FILLS:
        # ones(2, 2): a shape seen before (its contiguous strides are cached) of plain ints.
        if len(size) == 1 and size[0].__class__ is tuple:
            size = size[0]
        try:
            c = _CONTIG.get(size) if size.__class__ is tuple else None
        except TypeError:           # ones([2, 3]) reaches here as ([2, 3],)
            c = None
        if c is not None:
            for d in size:
                if d.__class__ is not int:          # 2.0 == 2 as a key; PyTorch refuses floats
                    c = None
                    break
        if c is not None:
            dt = _dt.get_default_dtype()
            t = _fp.tensor_of(_FILLS[fill](c[1], dt.np), size, c[0], dt)
            if requires_grad:
                t._requires_grad = True
            return t
    shape = as_shape(size)
    check_size_nonneg(shape)
    dt = _dt.get_default_dtype() if dtype is None else _dt.to_dtype(dtype)
    dev = _dev(device)
    buf = empty_buffer(numel(shape), dt.np, dev)
    if fill is not None:
        if dev.type == "cpu":
            buf[...] = fill
        elif len(buf):
            from .kernels import elementwise as _ew
            cnp = np.float32 if dt.np == np.float16 else dt.np
            if cnp == dt.np:
                _ew.unary("fill", buf, 0, (1,), buf, 0, (1,), (len(buf),), float(fill))
            else:
                from .kernels import index as _ix
                _ix.copy_strided(np.array([fill], cnp), 0, (0,), buf, 0, (1,), (len(buf),))
    t = Tensor._make(Storage(buf, dev), shape, (_CONTIG.get(shape) or _ew_contig(shape))[0], 0, dt)
    return _finish(t, requires_grad)


def _contig(shape):
    return contiguous_strides(shape)


def empty(*size, dtype=None, device=None, requires_grad=False, out=None, **kw):
    return _factory(size, dtype, device, requires_grad, None)


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None, **kw):
    return _factory(size, dtype, device, requires_grad, 0)


def ones(*size, dtype=None, device=None, requires_grad=False, out=None, **kw):
    return _factory(size, dtype, device, requires_grad, 1)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, out=None, **kw):
    if dtype is None:
        fv = fill_value.item() if isinstance(fill_value, Tensor) else fill_value
        dtype = _dt.scalar_dtype(fv)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _factory(as_shape((size,) if isinstance(size, int) else size), dtype, device, requires_grad,
                    fill_value)


def _like(t, dtype, device):
    return (t.dtype if dtype is None else _dt.to_dtype(dtype)), (t.device if device is None else device)


def empty_like(t, *, dtype=None, device=None, requires_grad=False, memory_format=None, **kw):
    dt, dev = _like(t, dtype, device)
    return empty(t.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def zeros_like(t, *, dtype=None, device=None, requires_grad=False, memory_format=None, **kw):
    dt, dev = _like(t, dtype, device)
    return zeros(t.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def ones_like(t, *, dtype=None, device=None, requires_grad=False, memory_format=None, **kw):
    dt, dev = _like(t, dtype, device)
    return ones(t.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def full_like(t, fill_value, *, dtype=None, device=None, requires_grad=False, memory_format=None, **kw):
    dt, dev = _like(t, dtype, device)
    return full(t.shape, fill_value, dtype=dt, device=dev, requires_grad=requires_grad)


def _num(x):
    return x.item() if isinstance(x, Tensor) else x


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False, out=None, **kw):
    start, end, step = _num(start), _num(end), _num(step)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0 and end != start:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        is_float = any(isinstance(v, float) or isinstance(v, np.floating) for v in (start, end, step))
        dt = _dt.get_default_dtype() if is_float else _dt.int64
    else:
        dt = _dt.to_dtype(dtype)
    n = max(0, math.ceil((end - start) / step))
    if dt.is_floating_point:
        vals = start + np.arange(n, dtype=np.float64) * step
    else:
        vals = np.arange(n, dtype=np.int64) * int(step) + int(start) if float(step).is_integer() and \
            float(start).is_integer() else np.floor(start + np.arange(n) * step)
    return _from_host_array(vals, dt, _dev(device), requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False, out=None, **kw):
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dt = _dt.get_default_dtype() if dtype is None else _dt.to_dtype(dtype)
    start, end = _num(start), _num(end)
    vals = _torch_linspace(start, end, steps)
    if not dt.is_floating_point:
        vals = np.trunc(vals)
    return _from_host_array(vals, dt, _dev(device), requires_grad)


def _torch_linspace(start, end, steps):
    # PyTorch fills the first half from start and the second half from end (symmetric rounding).
    if steps == 1:
        return np.array([start], dtype=np.float64)
    step = (end - start) / (steps - 1)
    i = np.arange(steps, dtype=np.float64)
    half = steps // 2
    return np.where(i < half, start + step * i, end - step * (steps - 1 - i))


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False, out=None, **kw):
    dt = _dt.get_default_dtype() if dtype is None else _dt.to_dtype(dtype)
    vals = np.power(base, _torch_linspace(_num(start), _num(end), steps))
    return _from_host_array(vals, dt, _dev(device), requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False, out=None, **kw):
    m = n if m is None else m
    if n < 0 or m < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n if n < 0 else m}")
    dt = _dt.get_default_dtype() if dtype is None else _dt.to_dtype(dtype)
    return _from_host_array(np.eye(n, m), dt, _dev(device), requires_grad)


def _legacy_construct(self, dtype, args, device):
    """``torch.FloatTensor([...])`` / ``torch.FloatTensor(2, 3)`` into an existing object."""
    if len(args) == 1 and isinstance(args[0], (list, tuple, np.ndarray, Tensor)):
        src = tensor(args[0] if not isinstance(args[0], Tensor) else args[0].detach(), dtype=dtype)
    elif all(isinstance(a, int) for a in args):
        src = zeros(*args, dtype=dtype)
    else:
        raise TypeError(f"new(): invalid data type '{type(args[0]).__name__}'")
    for k in ("_storage", "_shape", "_stride", "_offset", "dtype", "_vc", "_requires_grad", "_grad", "grad_fn",
              "_output_nr", "_retains_grad", "_grad_acc", "_base", "_hooks"):
        setattr(self, k, getattr(src, k))


def _legacy_type(name, dt):
    def __new__(cls, *args, device=None):
        t = object.__new__(Tensor)
        _legacy_construct(t, dt, args if args else (0,), device)
        return t
    return type(name, (), {"__new__": __new__, "__doc__": f"Legacy constructor for {dt} tensors."})


FloatTensor = _legacy_type("FloatTensor", _dt.float32)
DoubleTensor = _legacy_type("DoubleTensor", _dt.float64)
HalfTensor = _legacy_type("HalfTensor", _dt.float16)
LongTensor = _legacy_type("LongTensor", _dt.int64)
IntTensor = _legacy_type("IntTensor", _dt.int32)
ShortTensor = _legacy_type("ShortTensor", _dt.int16)
CharTensor = _legacy_type("CharTensor", _dt.int8)
ByteTensor = _legacy_type("ByteTensor", _dt.uint8)
BoolTensor = _legacy_type("BoolTensor", _dt.bool)
