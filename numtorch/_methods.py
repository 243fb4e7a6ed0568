"""Binds the function modules onto Tensor as methods, in-place methods and Python operators."""
import numbers

import numpy as np

from . import dtypes as _dt
from . import fastpath as _fp
from . import ops as _ops
from .autograd import engine as _engine
from . import pointwise as _pw
from . import reductions as _red
from . import views as _views
from .device import as_device
from .tensor import Tensor

_SCALAR = (numbers.Number, np.generic)


def _operand_ok(x):
    return isinstance(x, (Tensor,) + _SCALAR)


def _binop(fn, reflected=False):
    def op(self, other):
        if not _operand_ok(other):
            return NotImplemented
        return fn(other, self) if reflected else fn(self, other)
    return op


def _fast_binop(name, fn):
    """An operator that tries the dispatch fast path (``numtorch.fastpath``) before ``fn``."""
    fast, classes = _fp.binary, _fp._FAST

    def op(self, other):
        if self.__class__ in classes:
            r = fast(name, self, other)
            if r is not None:
                return r
        if not _operand_ok(other):
            return NotImplemented
        return fn(self, other)
    return op


def _cmp(name):
    f = _pw.FUNCS[name]
    fast, classes = _fp.binary, _fp._FAST

    def op(self, other):
        if self.__class__ in classes and other is not None:
            r = fast(name, self, other)
            if r is not None:
                return r
        if other is None and name in ("eq", "ne"):
            return name == "ne"
        if not _operand_ok(other):
            return NotImplemented
        return f(self, other)
    return op


def _rtruediv(self, other):
    return _pw.FUNCS["reciprocal"](self) * other


def _rpow(self, other):
    return _pw.pow(other, self)


def _invert(self):
    return _pw.bitwise_not(self)


def _iop(name, **kw):
    def op(self, other):
        if not _operand_ok(other):
            return NotImplemented
        return _inplace_binary(name, self, other, **kw)
    return op


def _inplace_binary(name, self, other, alpha=1):
    if name in ("add", "sub"):
        _pw._alpha_check(self, other, alpha)
        return _ops.inplace(name, self, other, params=(alpha,), ctx=alpha)
    if name == "pow" and not isinstance(other, Tensor):
        _pw._int_neg_pow_check(self, other)
        return _ops.inplace("pow_scalar", self, params=(float(other),), ctx=other, promote_extra=(other,))
    return _ops.inplace(name, self, other)


def _make_inplace_binary(name):
    def f(self, other, *, alpha=1):
        return _inplace_binary(name, self, other, alpha) if name in ("add", "sub") else \
            _inplace_binary(name, self, other)
    f.__name__ = name + "_"
    return f


def _make_inplace_unary(name):
    def f(self):
        return _ops.inplace(name, self)
    f.__name__ = name + "_"
    return f


def _clamp_(self, min=None, max=None):
    import math
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return self.copy_(_pw.clamp(self, min, max))
    lo = -math.inf if min is None else float(min)
    hi = math.inf if max is None else float(max)
    extra = tuple(v for v in (min, max) if v is not None)
    return _ops.inplace("clamp", self, params=(lo, hi), ctx=(min, max), promote_extra=extra)


def _to(self, *args, **kwargs):
    """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``; returns self if nothing changes."""
    dtype = kwargs.get("dtype")
    device = kwargs.get("device")
    copy = kwargs.get("copy", False)
    for a in args:
        if isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        elif isinstance(a, _dt.dtype):
            dtype = a
        elif isinstance(a, bool):
            continue
        elif a is not None:
            device = a
    dt = self.dtype if dtype is None else _dt.to_dtype(dtype)
    dev = self.device if device is None else as_device(device)
    out = self
    if dev != self.device:
        from . import cuda as _cuda
        out = _cuda.to_device(out, dev)
        copy = False
    if dt is not out.dtype or copy:
        out = _ops.to_dtype(out, dt, copy=copy)
    mf = kwargs.get("memory_format")
    if mf is not None and mf != "torch.preserve_format":
        out = _ops.contiguous(out, mf)
    return out


def _caster(dt):
    def f(self, memory_format=None):
        return _ops.to_dtype(self, dt)
    return f


def _fill_(self, value, _name=None):
    """Write the value through the (possibly strided) view, bump the version, record Fill/Zero history."""
    from .autograd.grad_mode import is_grad_enabled
    from .creation import tensor
    vt = None
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value.ndim} dimensions.")
        vt = value
        src = value
    else:
        if not self.dtype.is_floating_point and isinstance(value, float) and self.dtype is not _dt.bool:
            value = int(value)
        src = tensor(value, dtype=self.dtype, device=self.device)
    _ops.check_inplace(self)
    _ops._copy_data(self, src)
    self._bump()
    if is_grad_enabled() and (self._requires_grad or (vt is not None and vt._requires_grad)):
        from .autograd.inplace import record_fill
        name = _name or ("FillBackward3" if vt is not None else "FillBackward2")
        record_fill(self, name, vt if vt is not None and vt._requires_grad else None)
    return self


def _zero_(self):
    return _fill_(self, 0, "ZeroBackward0")


def _backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    _engine.backward(self, gradient, retain_graph, create_graph, inputs=inputs)


def _new_factory(name):
    def f(self, *size, dtype=None, device=None, requires_grad=False, **kw):
        from . import creation
        args = size if name != "new_full" else (size[0],)
        kwargs = dict(dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)
        if name == "new_full":
            return creation.full(size[0], size[1], **kwargs)
        return getattr(creation, name[4:])(*args, **kwargs)
    return f


def _new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    from .creation import tensor
    return tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


def _cpu(self, memory_format=None):
    return _to(self, "cpu")


def _cuda(self, device=None, non_blocking=False, memory_format=None):
    from . import cuda as _c
    return _to(self, device if device is not None else "cuda:%d" % _c.current_device())


def _resize_(self, *shape):
    from .shape import as_shape, contiguous_strides, numel
    shape = as_shape(shape)
    n = numel(shape)
    if n > len(self._storage) - self._offset:
        from .storage import empty_buffer
        buf = empty_buffer(self._offset + n, self._storage.data.dtype, self.device)
        buf[:len(self._storage)] = self._storage.data
        self._storage.data = buf
    self._shape, self._stride = shape, contiguous_strides(shape)
    return self


def _inplace_view(fn):
    """``t_``/``transpose_``/``squeeze_``/``unsqueeze_``: self takes the view's geometry."""
    def f(self, *args, **kw):
        from .autograd.grad_mode import no_grad
        with no_grad():
            v = fn(self, *args, **kw)
        self._shape, self._stride, self._offset = v._shape, v._stride, v._offset
        return self
    f.__name__ = fn.__name__ + "_"
    return f


def _bincount(self, weights=None, minlength=0):
    if self.ndim != 1 or self.dtype.is_floating_point:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    from .creation import tensor
    if self.numel() and int(self.min()) < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    n = max(int(self.max()) + 1 if self.numel() else 0, minlength)
    from .creation import zeros
    dev = self.device
    if weights is None:
        return zeros(n, dtype=_dt.int64, device=dev).index_add_(0, self, tensor(1, device=dev).expand(self.numel()))
    w = weights if weights.dtype.is_floating_point else weights.double()
    return zeros(n, dtype=w.dtype if w.dtype is _dt.float32 else _dt.float64, device=dev).index_add_(0, self, w)


def _dlpack_stubs(T):
    """DLPack / CUDA array interface entry points that load ``numtorch.dlpack`` on first use (it then
    rebinds the real ones)."""
    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        from . import dlpack
        return dlpack.__dlpack__(self, stream=stream, max_version=max_version, dl_device=dl_device, copy=copy)

    def __dlpack_device__(self):
        from . import dlpack
        return dlpack.__dlpack_device__(self)

    def _cai(self):
        from . import dlpack
        return dlpack._cuda_array_interface(self)
    T.__dlpack__, T.__dlpack_device__ = __dlpack__, __dlpack_device__
    T.__cuda_array_interface__ = property(_cai)


def bind():
    T = Tensor
    _dlpack_stubs(T)
    for name, f in _pw.METHODS.items():          # method signatures that differ from torch.<name>
        setattr(T, name, f)
    for name, f in _pw.PUBLIC.items():
        if not hasattr(T, name):
            setattr(T, name, f)
    for name in ("exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "reciprocal", "sin",
                 "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
                 "sigmoid", "relu", "erf", "erfc", "floor", "ceil", "trunc", "frac", "neg", "abs", "sign", "sgn",
                 "logical_not", "bitwise_not"):
        setattr(T, name + "_", _make_inplace_unary(name))
    for name in _pw.INPLACE_BINARY:
        setattr(T, name + "_", _make_inplace_binary(name))
    for a, t in (("subtract_", "sub_"), ("multiply_", "mul_"), ("true_divide_", "div_"), ("negative_", "neg_"),
                 ("absolute_", "abs_"), ("arctan_", "atan_"), ("fix_", "trunc_")):
        setattr(T, a, getattr(T, t))
    T.clamp_ = T.clip_ = _clamp_
    T.clamp_min_ = lambda self, min: _clamp_(self, min=min)
    T.clamp_max_ = lambda self, max: _clamp_(self, max=max)
    T.square_ = lambda self: _inplace_binary("pow", self, 2)
    T.round_ = lambda self, decimals=0: self.copy_(_pw.round(self, decimals=decimals))
    T.nan_to_num_ = lambda self, *a, **k: self.copy_(_pw.nan_to_num(self, *a, **k))
    T.lerp_ = lambda self, end, weight: self.copy_(_pw.lerp(self, end, weight))
    T.addcmul_ = lambda self, t1, t2, value=1: self.copy_(_pw.addcmul(self, t1, t2, value=value))
    T.addcdiv_ = lambda self, t1, t2, value=1: self.copy_(_pw.addcdiv(self, t1, t2, value=value))

    T.__add__ = T.__radd__ = _fast_binop("add", _pw.add)     # commutative: a + b == b + a exactly
    T.__sub__ = _fast_binop("sub", _pw.sub)
    T.__rsub__ = _binop(lambda s, o: _pw.rsub(s, o))
    T.__mul__ = T.__rmul__ = _fast_binop("mul", _pw.mul)
    T.__truediv__ = _fast_binop("div", _pw.div)
    T.__rtruediv__ = _binop(lambda s, o: _rtruediv(s, o))
    T.__floordiv__ = _binop(_pw.floor_divide)
    T.__rfloordiv__ = _binop(_pw.floor_divide, reflected=True)
    T.__mod__ = _binop(_pw.FUNCS["remainder"])
    T.__rmod__ = _binop(_pw.FUNCS["remainder"], reflected=True)
    T.__pow__ = _binop(_pw.pow)
    T.__rpow__ = _binop(lambda s, o: _rpow(s, o))
    T.__and__ = T.__rand__ = _binop(_pw.FUNCS["bitwise_and"])
    T.__or__ = T.__ror__ = _binop(_pw.FUNCS["bitwise_or"])
    T.__xor__ = T.__rxor__ = _binop(_pw.FUNCS["bitwise_xor"])
    T.__lshift__ = _binop(_pw.FUNCS["bitwise_left_shift"])
    T.__rlshift__ = _binop(_pw.FUNCS["bitwise_left_shift"], reflected=True)
    T.__rshift__ = _binop(_pw.FUNCS["bitwise_right_shift"])
    T.__rrshift__ = _binop(_pw.FUNCS["bitwise_right_shift"], reflected=True)
    for dn, name in (("__eq__", "eq"), ("__ne__", "ne"), ("__lt__", "lt"), ("__le__", "le"), ("__gt__", "gt"),
                     ("__ge__", "ge")):
        setattr(T, dn, _cmp(name))
    T.__hash__ = object.__hash__
    T.__neg__ = lambda self: _pw.FUNCS["neg"](self)
    T.__pos__ = lambda self: self
    T.__abs__ = lambda self: _pw.FUNCS["abs"](self)
    T.__invert__ = _invert
    for dn, name in (("__iadd__", "add"), ("__isub__", "sub"), ("__imul__", "mul"), ("__itruediv__", "div"),
                     ("__ifloordiv__", "floor_divide"), ("__imod__", "remainder"), ("__ipow__", "pow"),
                     ("__iand__", "bitwise_and"), ("__ior__", "bitwise_or"), ("__ixor__", "bitwise_xor"),
                     ("__ilshift__", "bitwise_left_shift"), ("__irshift__", "bitwise_right_shift")):
        setattr(T, dn, _iop(name))

    for name in ("view", "reshape", "view_as", "reshape_as", "flatten", "unflatten", "permute", "transpose", "t",
                 "movedim", "squeeze", "unsqueeze", "expand", "expand_as", "broadcast_to", "narrow", "select",
                 "unbind", "split", "chunk", "tensor_split", "diagonal", "as_strided", "swapaxes"):
        setattr(T, name, getattr(_views, name))
    T.swapdims = T.swapaxes
    for name in ("t", "transpose", "squeeze", "unsqueeze", "swapaxes"):
        setattr(T, name + "_", _inplace_view(getattr(_views, name)))
    T.swapdims_ = T.swapaxes_
    T.bincount = _bincount
    from . import linalg as _linalg
    T.inverse = _linalg.inv
    T.moveaxis = T.movedim
    T.T = property(_views.T)
    T.mT = property(_views.mT)
    T.H = T.T
    T.mH = T.mT

    for name in ("sum", "nansum", "mean", "nanmean", "prod", "max", "min", "amax", "amin", "aminmax", "argmax",
                 "argmin", "var", "std", "norm", "logsumexp", "softmax", "log_softmax", "all", "any",
                 "count_nonzero", "cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"):
        setattr(T, name, getattr(_red, name))
    T.cumsum_ = lambda self, dim: self.copy_(_red.cumsum(self, dim))

    T.contiguous = _ops.contiguous
    T.clone = _ops.clone
    T.copy_ = _ops.copy_
    T.to = _to
    T.cpu = _cpu
    T.cuda = _cuda
    T.fill_ = _fill_
    T.zero_ = _zero_
    T.resize_ = _resize_
    T.backward = _backward
    from .autograd.hooks import register_post_accumulate_grad_hook
    T.register_post_accumulate_grad_hook = register_post_accumulate_grad_hook
    for name, dt in (("float", _dt.float32), ("double", _dt.float64), ("half", _dt.float16), ("int", _dt.int32),
                     ("long", _dt.int64), ("short", _dt.int16), ("char", _dt.int8), ("byte", _dt.uint8),
                     ("bool", _dt.bool)):
        setattr(T, name, _caster(dt))
    for name in ("new_zeros", "new_ones", "new_empty", "new_full"):
        setattr(T, name, _new_factory(name))
    T.new_tensor = _new_tensor
    from . import random as _rnd
    for name in ("uniform_", "normal_", "random_", "bernoulli_", "exponential_"):
        setattr(T, name, getattr(_rnd, name))
    T.bernoulli = lambda self, p=None, generator=None: _rnd.bernoulli(self, p, generator=generator)
    T.multinomial = _rnd.multinomial
    _bind_optional(T)
    T.where = _where
    from . import tensor_surface
    tensor_surface.bind(T)


def _where(self, condition, other):
    """``Tensor.where(condition, y)`` is ``torch.where(condition, self, y)``."""
    return _ops.where(condition, self, other)


def _bind_optional(T):
    """Methods from the indexing, joining, sorting and linalg modules."""
    import importlib
    for mod, names in (
            ("indexing", ("__getitem__", "__setitem__", "index_select", "gather", "scatter", "scatter_",
                          "scatter_add", "scatter_add_", "scatter_reduce", "index_add", "index_add_",
                          "index_copy", "index_copy_", "index_fill", "index_fill_", "masked_select",
                          "masked_fill", "masked_fill_", "masked_scatter", "masked_scatter_", "nonzero", "take",
                          "put_", "put", "scatter_reduce_", "index_put_", "index_put", "argwhere")),
            ("joining", ("flip", "fliplr", "flipud", "roll", "repeat", "tile", "tril", "triu", "tril_",
                         "triu_", "repeat_interleave", "rot90", "diag", "diag_embed", "trace")),
            ("sorting", ("topk", "sort", "argsort", "msort", "kthvalue", "median", "nanmedian", "mode",
                         "unique", "unique_consecutive")),
            ("linalg", ("det", "slogdet")),
            ("extras", ("ravel", "diff", "dist", "logaddexp", "cross", "kron", "heaviside", "histc",
                        "take_along_dim", "logdet", "hsplit", "vsplit", "dsplit")),
            ("linalg_ops", ("matmul", "mm", "bmm", "mv", "dot", "vdot", "outer", "ger", "addmm", "addmv",
                            "addbmm", "baddbmm", "inner", "__matmul__", "__rmatmul__"))):
        try:
            m = importlib.import_module("numtorch." + mod)
        except ImportError:
            continue
        for n in names:
            if hasattr(m, n):
                setattr(T, n, getattr(m, n))
