"""Helpers shared by the indexing front end (``indexing``, ``gather_scatter``, ``index_ops``, ``masked``).

Buffers and scalars for kernels, PyTorch-style argument checks, and the out-of-place/in-place
recording used by every op of the family.
"""
import math
import numbers

import numpy as np

from . import dtypes as _dt
from . import ops as _ops
from .autograd.graph import needs_grad, record
from .autograd.grad_mode import is_grad_enabled
from .autograd.inplace import rebase_history
from .kernels import index as _ix
from .kernels import index_extra as _ixx
from .shape import broadcast_strides, contiguous_strides, numel
from ._buffers import copy_flat, on
from .device import CPU
from .storage import empty_buffer
from .tensor import Tensor

_IDX = (_dt.int64, _dt.int32)
_CTYPE = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t",
          "float32": "float"}


# ----------------------------------------------------------------------------- small helpers
def _new(shape, dt, buf=None, dev=CPU):
    shape = tuple(shape)
    return Tensor._from_buffer(empty_buffer(numel(shape), dt.np, dev) if buf is None else buf, shape, dt, dev)


def _zeros(shape, dt, dev=CPU):
    if dev.type == "cpu":
        return _new(shape, dt, np.zeros(numel(shape), dt.np))
    from .creation import zeros
    return zeros(shape, dtype=dt, device=dev)


def _idx64(t):
    """Flat contiguous int64 copy-or-view of an index tensor's elements."""
    if t._storage.device.type != "cpu":
        return _contig_buf(t, np.int64)
    return np.ascontiguousarray(t._np(), dtype=np.int64).reshape(-1)


def _contig_buf(t, np_dtype=None):
    """Flat contiguous buffer of t's elements (zero-copy when already contiguous)."""
    np_dtype = t.dtype.np if np_dtype is None else np_dtype
    buf = t._storage.data
    if t.is_contiguous() and buf.dtype == np_dtype:
        return buf[t._offset:t._offset + t.numel()]
    return _ops._cast_contiguous(t, np_dtype)


def _tpname(o):
    m = type(o).__module__
    return type(o).__name__ if m == "builtins" else f"{m.split('.')[0]}.{type(o).__name__}"


def _need_tensor(x, fn, arg, pos):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{arg}' (position {pos}) must be Tensor, not {_tpname(x)}")


def _overflow(dt):
    raise RuntimeError(f"value cannot be converted to type {_CTYPE.get(dt.name, dt.name)} without overflow")


def _scalar(v, dt):
    """A Python number converted for ``dt`` with c10's overflow checks (ints truncate)."""
    if isinstance(v, Tensor):
        return v.item()
    if isinstance(v, complex):
        if v.imag:
            _overflow(dt)
        v = v.real
    if dt is _dt.bool:
        return bool(v)
    if dt.is_floating_point:
        f = float(v)
        if dt is _dt.float32 and math.isfinite(f) and abs(f) > 3.4028234663852886e38:
            _overflow(dt)
        return f
    if isinstance(v, (float, np.floating)) and not math.isfinite(v):
        _overflow(dt)
    info = np.iinfo(dt.np)
    lo = -int(info.max) if info.min == 0 else int(info.min)
    if not lo <= v <= int(info.max):
        _overflow(dt)
    return int(v)


def _number(v, fn, sig):
    if not isinstance(v, (numbers.Number, np.generic)) or isinstance(v, np.ndarray):
        raise TypeError(f"{fn}() received an invalid combination of arguments - got ({sig}{_tpname(v)}), but "
                        "expected one of a Tensor or a Number value")


def _check_range(idx, n, dim, neg=False, exc=RuntimeError, prefix=""):
    ok, bad = _ix.check_range(idx, n, allow_negative=neg)
    if not ok:
        raise exc(f"{prefix}index {bad} is out of bounds for dimension {dim} with size {n}")


def _arith(t):
    """float16 targets of arithmetic kernels run on a float32 copy (Numba has no half math)."""
    return _ops.to_dtype(t.detach(), _dt.float32) if t.dtype is _dt.float16 else t


def _pad_to(g, shape):
    """Zero-pad a gradient to ``shape`` (src larger than index in scatter)."""
    if g._shape == tuple(shape):
        return g
    z = _zeros(shape, g.dtype, g.device)
    z[tuple(slice(0, n) for n in g._shape)] = g
    return z


def _inplace(self, res, name, others, backward, save=(), ctx=None, check=True):
    """Write ``res`` into self, bump its version, and record ``name`` when autograd needs it."""
    if check:
        _ops.check_inplace(self)
    grad = is_grad_enabled() and needs_grad(self, *others)
    if res is not self:
        _ops._copy_data(self, res)
    self._bump()
    if grad:
        rebase_history(self, lambda prev: record(name, self, (prev,) + tuple(others), backward, save=save,
                                                 ctx=ctx))
    return self


def _done(res, inp, name, others, backward, save=(), ctx=None):
    if needs_grad(inp, *others):
        record(name, res, (inp,) + tuple(others), backward, save=save, ctx=ctx)
    return res


# ----------------------------------------------------------------------------- advanced-index writes
def _values_buf(values, rshape, np_dtype, dev=CPU):
    """Values as a flat buffer: 1 element (broadcast) or the whole result, C order."""
    if not isinstance(values, Tensor):
        return on(np.asarray(values).astype(np_dtype).reshape(1), dev)
    if values._storage.device != dev:
        values = values.to(dev)             # a 0-d CPU value tensor written into a CUDA tensor
    if values.numel() == 1 or values._shape == rshape:
        return _contig_buf(values, np_dtype)
    out = empty_buffer(numel(rshape), np_dtype, dev)
    _ix.copy_strided(values._storage.data, values._offset, broadcast_strides(values._shape, values._stride, rshape),
                     out, 0, contiguous_strides(rshape), rshape)
    return out


def _plan_put(t, plan, values, accumulate):
    """t[plan] (+)= values in place (no checks, no autograd, no version bump)."""
    work = _arith(t) if accumulate else t
    vals = _values_buf(values, plan.result_shape(), work.dtype.np, t.device)
    _ixx.adv_scatter(work._storage.data, *plan.blocks(work._stride, work._offset), vals, accumulate)
    if work is not t:
        _ops._copy_data(t, work)


# ----------------------------------------------------------------------------- shared machinery
def _apply(x, inplace, kernel, name, others, backward, ctx=None):
    """Run ``kernel(target)`` on self (in place) or on a clone, then record ``name``."""
    if inplace:   # callers ran check_inplace before validating (PyTorch's order)
        kernel(x)
        return _inplace(x, x, name, others, backward, ctx=ctx, check=False)
    res = _ops.clone(x.detach())
    kernel(res)
    return _done(res, x, name, others, backward, ctx=ctx)


def _as1d(t):
    return t._view_of((1,), (1,), t._offset) if not t._shape else t


def _idx_tensor(idx, shape):
    if isinstance(idx, np.ndarray):
        return _new(shape, _dt.int64, np.array(idx, np.int64).reshape(-1))
    dev = Tensor._from_buffer(idx, (len(idx),), _dt.int64).device
    copy = empty_buffer(len(idx), np.int64, dev)
    copy_flat(idx, copy)                    # saved for backward: must not alias the caller's index
    return _new(shape, _dt.int64, copy, dev)


def _dsize(t, d):
    return t._shape[d] if t._shape else 1
