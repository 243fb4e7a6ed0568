"""PyTorch indexing: ``x[idx]`` / ``x[idx] = v``, gather/scatter, index_*, masked_*, nonzero, take/put.

Basic indexing (ints, slices, None, ...) returns views; advanced indexing (integer/bool tensors,
lists, arrays) is planned here as (P, B, Q) blocks of element offsets (NumPy on the index arrays
only) and moved by the compiled kernels in ``kernels/index.py`` and ``kernels/index_extra.py``.
Every check runs before any write, so a failing call leaves its target untouched.
"""
import math
import numbers
import operator
import warnings

import numpy as np

from . import dtypes as _dt
from . import ops as _ops
from . import views as _views
from .autograd.graph import needs_grad, record
from .autograd.grad_mode import is_grad_enabled
from .autograd.inplace import rebase_history
from .kernels import index as _ix
from .kernels import index_extra as _ixx
from .shape import broadcast_shapes, broadcast_strides, contiguous_strides, numel, wrap_dim
from .tensor import Tensor

__all__ = ["index_select", "gather", "scatter", "scatter_add", "scatter_reduce", "index_add", "index_copy",
           "index_fill", "masked_select", "masked_fill", "masked_scatter", "nonzero", "argwhere", "take", "put",
           "index_put", "index_put_"]

_IDX = (_dt.int64, _dt.int32)
_CNAME = {"uint8": "unsigned char", "int8": "signed char", "int16": "short int", "int32": "int",
          "int64": "long int", "float16": "c10::Half", "float32": "float", "float64": "double"}
_CTYPE = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t",
          "float32": "float"}
_INVALID = "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices (got {})"


# ----------------------------------------------------------------------------- small helpers
def _new(shape, dt, buf=None):
    shape = tuple(shape)
    return Tensor._from_buffer(np.empty(numel(shape), dt.np) if buf is None else buf, shape, dt)


def _zeros(shape, dt):
    return _new(shape, dt, np.zeros(numel(shape), dt.np))


def _idx64(t):
    """Flat contiguous int64 copy-or-view of an index tensor's elements."""
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
    z = _zeros(shape, g.dtype)
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


# ----------------------------------------------------------------------------- parsing x[index]
def _is_int(o):
    return isinstance(o, (int, np.integer)) and not isinstance(o, (bool, np.bool_))


def _seq_array(o):
    if isinstance(o, str):
        raise TypeError("new(): invalid data type 'str'")
    if isinstance(o, np.ndarray):
        return o
    try:
        a = np.asarray(o)
        if a.dtype != object:
            return a
    except (ValueError, TypeError):
        pass
    from .creation import tensor
    return tensor(o)._np()


def _index_array(o):
    """('int' | 'mask' | 'bad', array) for a tensor, ndarray or sequence index."""
    if isinstance(o, Tensor):
        dt, a = o.dtype, o._np()
        if dt is _dt.uint8:
            warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool "
                          "instead.", UserWarning, stacklevel=3)
            return "mask", a != 0
        return ("mask", a) if dt is _dt.bool else ("int", a) if dt in _IDX else ("bad", a)
    a = _seq_array(o)
    if a.dtype == np.bool_:
        return "mask", a
    if a.dtype == np.uint8 and isinstance(o, np.ndarray):
        return "mask", a != 0
    return ("int", a.astype(np.int64)) if a.dtype.kind in "iuf" else ("bad", a)


def _classify(o):
    if o is None:
        return ("none",)
    if o is Ellipsis:
        return ("ell",)
    if isinstance(o, bool):
        return ("bool", o)
    if _is_int(o):
        return ("int", int(o))
    if isinstance(o, slice):
        return ("slice", o)
    if isinstance(o, Tensor) or isinstance(o, (np.ndarray, list, tuple, str)):
        if isinstance(o, Tensor) and o.ndim == 0 and not o.dtype.is_floating_point:
            return ("bool", bool(o.item())) if o.dtype in (_dt.bool, _dt.uint8) else ("int", int(o.item()))
        kind, a = _index_array(o)
        if a.ndim == 0 and kind != "bad":
            return ("bool", bool(a)) if kind == "mask" else ("int", int(a))
        return ("adv", kind, a)
    try:
        return ("int", operator.index(o))
    except TypeError:
        raise IndexError(_INVALID.format(_tpname(o))) from None


def _as_tuple(index):
    if isinstance(index, tuple):
        return index
    if isinstance(index, list) and len(index) < 32 and any(
            o is None or o is Ellipsis or isinstance(o, (Tensor, list, tuple, slice, np.ndarray, str)) for o in index):
        warnings.warn("Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed in "
                      "pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be interpreted as "
                      "tensor index, x[torch.tensor(seq)], which will result either in an error or a different "
                      "result", UserWarning, stacklevel=3)
        return tuple(index)
    return (index,)


def _select(x, dim, i, real_dim):
    if not x._shape:
        if i == 0:
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` "
                             "in C++ to convert a 0-dim tensor to a number")
        raise IndexError(f"index {i} is out of bounds for dimension {real_dim} with size 0")
    n = x._shape[dim]
    if not -n <= i < n:
        raise IndexError(f"index {i} is out of bounds for dimension {real_dim} with size {n}")
    return _views.select(x, dim, i)


def _slice(x, dim, s, optimize):
    if not x._shape:
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    start, stop, step = slice(s.start, s.stop, s.step).indices(x._shape[dim])
    if step <= 0:
        raise ValueError("step must be greater than zero")
    if optimize and start == 0 and stop == x._shape[dim] and step == 1:
        return x
    return _views.slice_dim(x, dim, start, stop, step)


def _basic(x, index):
    """Apply the basic part of ``index`` (views); return (view, [(dim, kind, array)] advanced entries)."""
    items = [_classify(o) for o in _as_tuple(index)]
    specified = sum(c[2].ndim if c[0] == "adv" and c[1] == "mask" else 1 for c in items
                    if c[0] in ("int", "slice", "adv"))
    nd = x.ndim
    if specified > nd:
        raise IndexError(f"too many indices for tensor of dimension {nd}")
    v, dim, adv = x, 0, []
    for real, c in enumerate(items):
        k = c[0]
        if k == "int":
            v = _select(v, dim, c[1], real)
        elif k == "slice":
            v = _slice(v, dim, c[1], True)
            dim += 1
        elif k == "none":
            v = _views.unsqueeze(v, dim)
            dim += 1
        elif k == "ell":
            dim += nd - specified
        elif k == "bool":
            v = _views.unsqueeze(v, dim)
            adv.append((dim, "int", np.zeros(int(c[1]), np.int64)))
            dim += 1
        else:
            adv.append((dim, c[1], c[2]))
            dim += c[2].ndim if c[1] == "mask" else 1
    return v, adv


def _plan_get(v, plan):
    rshape = plan.result_shape()
    out = np.empty(numel(rshape), v.dtype.np)
    _ixx.adv_gather(v._storage.data, *plan.blocks(v._stride, v._offset), out)
    return _new(rshape, v.dtype, out)


def _values_buf(values, rshape, np_dtype):
    """Values as a flat buffer: 1 element (broadcast) or the whole result, C order."""
    if not isinstance(values, Tensor):
        return np.asarray(values).astype(np_dtype).reshape(1)
    if values.numel() == 1 or values._shape == rshape:
        return _contig_buf(values, np_dtype)
    out = np.empty(numel(rshape), np_dtype)
    _ix.copy_strided(values._storage.data, values._offset, broadcast_strides(values._shape, values._stride, rshape),
                     out, 0, contiguous_strides(rshape), rshape)
    return out


def _plan_put(t, plan, values, accumulate):
    """t[plan] (+)= values in place (no checks, no autograd, no version bump)."""
    work = _arith(t) if accumulate else t
    vals = _values_buf(values, plan.result_shape(), work.dtype.np)
    _ixx.adv_scatter(work._storage.data, *plan.blocks(work._stride, work._offset), vals, accumulate)
    if work is not t:
        _ops._copy_data(t, work)


def _bw_index(node, g):
    z = _zeros(node._input_meta[0][0], g.dtype)
    return (_put_out(z, node.ctx, g, True),)


def _bw_index_put(node, g):
    plan, accumulate = node.ctx
    gs = g if accumulate or not node.needs[0] else _put_out(g.clone(), plan, 0.0, False)
    return gs, (_get(g, plan) if node.needs[1] else None)


def _get(v, plan):
    return _done(_plan_get(v, plan), v, "IndexBackward0", (), _bw_index, ctx=plan)


def _put_out(z, plan, values, accumulate):
    """Write into a fresh tensor ``z`` and record IndexPutBackward0 for a differentiable ``values``."""
    _plan_put(z, plan, values, accumulate)
    vals = values if isinstance(values, Tensor) else None
    if needs_grad(z, vals):
        record("IndexPutBackward0", z, (z if z.requires_grad else None, vals), _bw_index_put,
               ctx=(plan, accumulate))
    return z


# ----------------------------------------------------------------------------- __getitem__
def _bw_mask_index(node, g):
    mask = node.ctx
    return (masked_scatter(_zeros(mask._shape, g.dtype), mask, g),)


def __getitem__(self, index):
    if _is_int(index):
        return _select(self, 0, int(index), 0)
    if isinstance(index, slice):
        return _slice(self, 0, index, False)
    if index is None:
        return _views.unsqueeze(self, 0)
    if index is Ellipsis:
        return _views.alias(self)
    v, adv = _basic(self, index)
    if not adv:
        return _views.alias(v) if v is self else v
    if len(adv) == 1 and adv[0][0] == 0 and adv[0][1] == "mask" and adv[0][2].shape == v._shape \
            and v.is_contiguous() and v.ndim:
        mask = np.ascontiguousarray(adv[0][2]).reshape(-1)
        out = _ixx.mask_select(_contig_buf(v), mask)
        saved = _new(v._shape, _dt.bool, mask.copy()) if needs_grad(v) else None
        return _done(_new(out.shape, v.dtype, out), v, "IndexBackward0", (), _bw_mask_index, ctx=saved)
    return _get(v, _ixx.AdvPlan(v._shape, adv))


# ----------------------------------------------------------------------------- __setitem__ / index_put_
def _value_tensor(value, self):
    if isinstance(value, Tensor):
        return value
    if _is_int(value) or isinstance(value, bool):
        if not -2 ** 63 <= int(value) < 2 ** 63:
            raise ValueError("Overflow when unpacking long long")
    elif not isinstance(value, (float, complex)):
        raise TypeError(f"can't assign a {_tpname(value)} to a torch.{self.dtype.legacy}")
    with np.errstate(all="ignore"):
        return _new((), self.dtype, np.asarray(_scalar(value, self.dtype)).astype(self.dtype.np).reshape(1))


def _copy_to(dst, src):
    if dst._shape == src._shape:
        dst.copy_(src)
    elif src.ndim == 0:
        dst.fill_(src)
    else:
        dst.copy_(_views.expand(_strip_ones(src), dst._shape))


def _strip_ones(t):
    k = 0
    while k < t.ndim and t._shape[k] == 1:
        k += 1
    return _views.view(t, t._shape[k:]) if k else t


def __setitem__(self, index, value):
    val = _value_tensor(value, self)
    if index is False:
        return
    if index is Ellipsis:
        return _copy_to(self, val)
    if index is None or index is True:
        return _copy_to(_views.unsqueeze(self, 0), val)
    if _is_int(index):
        return _copy_to(_select(self, 0, int(index), 0), val)
    if isinstance(index, slice):
        return _copy_to(_slice(self, 0, index, True), val)
    v, adv = _basic(self, index)
    if not adv:
        return _copy_to(v, val)
    _index_put_impl(v, adv, _strip_ones(val), False)


def _check_leaf(self):
    if not is_grad_enabled():
        return
    base = self._base
    if (self._requires_grad and self.grad_fn is None) or (base is not None and base._requires_grad
                                                         and base.grad_fn is None):
        raise RuntimeError(("a view of a leaf Variable" if base is not None else "a leaf Variable")
                           + " that requires grad is being used in an in-place operation.")
    if any(st == 0 and n > 1 for n, st in zip(self._shape, self._stride)):
        warnings.warn("Use of index_put_ on expanded tensors is deprecated. Please clone() the tensor before "
                      "performing this operation. This also applies to advanced indexing e.g. tensor[indices] = "
                      "tensor", UserWarning, stacklevel=4)


def _extent(t):
    return t._offset, t._offset + sum((n - 1) * s for n, s in zip(t._shape, t._stride))


def _index_put_core(self, adv, values, accumulate, need_plan):
    """Validate, then write self[adv] (+)= values. Returns (plan, values); no history, no version bump."""
    if not accumulate and values.numel() == 1 and len(adv) == 1 and adv[0][1] == "mask":
        d, _, m = adv[0]       # PyTorch's masked_fill dispatch: any value dtype, no overlap check
        for i in range(m.ndim):
            if d + i >= self.ndim or m.shape[i] != self._shape[d + i]:
                raise IndexError(f"The shape of the mask {list(m.shape)} at index {i} does not match the shape of "
                                 f"the indexed tensor {list(self._shape)} at index {d + i}")
        plan = _ixx.AdvPlan(self._shape, adv) if need_plan else None
        m = np.ascontiguousarray(m)
        mst = (0,) * d + contiguous_strides(m.shape) + (0,) * (self.ndim - d - m.ndim)
        _ix.masked_fill(self._storage.data, self._offset, self._stride, self._shape, m.reshape(-1), 0, mst,
                        values.item())
        return plan, values
    plan = _ixx.AdvPlan(self._shape, adv)
    rshape = plan.result_shape()
    vs = values._shape
    if len(vs) > len(rshape) or any(a not in (1, b) for a, b in zip(vs[::-1], rshape[::-1])):
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(vs)} cannot be broadcast to indexing "
                           f"result of shape {list(rshape)}")
    if values.dtype is not self.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got {self.dtype.short} for "
                           f"the destination and {values.dtype.short} for the source.")
    if values._storage is self._storage and values.numel() and self.numel():
        (a0, a1), (b0, b1) = _extent(self), _extent(values)
        if a0 <= b1 and b0 <= a1:
            if self.is_contiguous() and values.is_contiguous():
                raise RuntimeError("unsupported operation: some elements of the input tensor and the written-to "
                                   "tensor refer to a single memory location. Please clone() the tensor before "
                                   "performing the operation.")
            values = _ops.clone(values)
    _plan_put(self, plan, values, accumulate)
    return plan, values


def _index_put_impl(self, adv, values, accumulate):
    _check_leaf(self)
    plan, values = _index_put_core(self, adv, values, accumulate, is_grad_enabled() and needs_grad(self, values))
    return _inplace(self, self, "IndexPutBackward0", (values,), _bw_index_put, ctx=(plan, accumulate), check=False)


def _put_adv(self, indices):
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put_(): argument 'indices' (position 1) must be tuple of Tensors, not "
                        f"{_tpname(indices)}")
    if len(indices) > self.ndim:
        raise IndexError(f"too many indices for tensor of dimension {self.ndim} (got {len(indices)})")
    adv, d = [], 0
    for i, t in enumerate(indices):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {_tpname(t)}")
        kind, a = _index_array(t)
        adv.append((d, kind, a))
        d += a.ndim if kind == "mask" else 1
    return adv


def index_put_(input, indices, values, accumulate=False):
    _need_tensor(values, "index_put_", "values", 2)
    return _index_put_impl(input, _put_adv(input, indices), values, accumulate)


def index_put(input, indices, values, accumulate=False):
    _need_tensor(values, "index_put", "values", 2)
    adv = _put_adv(input, indices)
    res = _ops.clone(input.detach())
    plan, values = _index_put_core(res, adv, values, accumulate, needs_grad(input, values))
    return _done(res, input, "IndexPutBackward0", (values,), _bw_index_put, ctx=(plan, accumulate))


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
    return _new(shape, _dt.int64, np.array(idx, np.int64).reshape(-1))


def _dsize(t, d):
    return t._shape[d] if t._shape else 1


# ----------------------------------------------------------------------------- index_select / gather
def _bw_index_select(node, g):
    d, index = node.ctx
    return (index_add(_zeros(node._input_meta[0][0], g.dtype), d, index, g),)


def index_select(input, dim, index, *, out=None):
    _need_tensor(index, "index_select", "index", 2)
    if index.dtype not in _IDX:
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    d = wrap_dim(dim, input.ndim)
    idx = _idx64(index)
    if not input.ndim and idx.size > 1:
        raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {idx.size} value(s)")
    if not _ix.check_range(idx, _dsize(input, d), allow_negative=False)[0]:
        raise IndexError("index out of range in self")
    x = _as1d(input)
    shape = x._shape[:d] + (idx.size,) + x._shape[d + 1:]
    buf = _ix.index_select(x._storage.data, x._offset, x._stride, x._shape, d, idx,
                           np.empty(numel(shape), x.dtype.np))
    res = _done(_new(shape if input.ndim else (), input.dtype, buf), input, "IndexSelectBackward0", (),
                _bw_index_select, ctx=(d, _idx_tensor(idx, idx.shape)))
    return _ops._to_out(res, out) if out is not None else res


def _bw_gather(node, g):
    d, index = node.ctx
    return (scatter_add(_zeros(node._input_meta[0][0], g.dtype), d, index, g),)


def gather(input, dim, index, *, sparse_grad=False, out=None):
    _need_tensor(index, "gather", "index", 2)
    d = wrap_dim(dim, input.ndim)
    if index.dtype not in _IDX:
        raise RuntimeError("gather(): Expected dtype int32/int64 for index")
    if max(index.ndim, 1) != max(input.ndim, 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    ish, xsh = index._shape or (1,), input._shape or (1,)
    if index.numel() and any(k != d and ish[k] > xsh[k] for k in range(len(ish))):
        k = next(k for k in range(len(ish)) if k != d and ish[k] > xsh[k])
        raise RuntimeError(f"Size does not match at dimension {k} expected index {list(index._shape)} to be no "
                           f"larger than self {list(input._shape)} apart from dimension {d}")
    idx = _idx64(index)
    _check_range(idx, _dsize(input, d), d)
    buf = _ix.gather(input._storage.data, input._offset, input._stride, idx, index._shape, d,
                     np.empty(idx.size, input.dtype.np), _dsize(input, d))
    res = _done(_new(index._shape, input.dtype, buf), input, "GatherBackward0", (), _bw_gather,
                ctx=(d, _idx_tensor(idx, index._shape)))
    return _ops._to_out(res, out) if out is not None else res


# ----------------------------------------------------------------------------- scatter family
def _scatter_check(x, d, index, src):
    if index.dtype not in _IDX:
        raise RuntimeError("scatter(): Expected dtype int32/int64 for index")
    if src is not None and src.dtype is not x.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    nd = max(x.ndim, 1)
    if max(index.ndim, 1) != nd:
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if src is not None and max(src.ndim, 1) != nd:
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    ish, xsh = index._shape or (1,), x._shape or (1,)
    ssh = (src._shape or (1,)) if src is not None else None
    if index.numel() and any((k != d and ish[k] > xsh[k]) or (ssh is not None and ish[k] > ssh[k])
                             for k in range(nd)):
        msg = (f"Expected index {list(index._shape)} to be no larger than self {list(x._shape)} apart from "
               f"dimension {d}")
        raise RuntimeError(msg + (f" and to be no larger size than src {list(src._shape)}" if src is not None else ""))
    idx = _idx64(index)
    _check_range(idx, _dsize(x, d), d)
    return idx


def _scatter_into(t, d, idx, ishape, src, value, reduce):
    """Kernel call: t (any strides) <- src/value at idx along d, reduce None/add/multiply/amax/amin."""
    work = _arith(t) if reduce else t
    buf = work._storage.data
    if reduce and work.dtype is _dt.bool:   # or / and on bytes
        buf, reduce = buf.view(np.uint8), {"add": "amax", "multiply": "amin"}.get(reduce, reduce)
    w = _as1d(work)
    if src is None:
        _ix.scatter(buf, w._offset, w._stride, idx, ishape, d, value, 0, (), reduce=reduce, dim_size=_dsize(t, d))
    else:
        s = _as1d(src)
        sbuf = s._storage.data
        if sbuf.dtype != buf.dtype:
            sbuf, soff, sst = _contig_buf(s, buf.dtype), 0, contiguous_strides(s._shape)
        else:
            soff, sst = s._offset, s._stride
        _ix.scatter(buf, w._offset, w._stride, idx, ishape, d, sbuf, soff, sst, reduce=reduce, dim_size=_dsize(t, d))
    if work is not t:
        _ops._copy_data(t, work)


def _bw_scatter(node, g):
    d, index, src_shape = node.ctx
    gs = scatter(g, d, index, 0.0) if node.needs[0] else None
    if src_shape is None:
        return (gs,)
    return gs, (_pad_to(gather(g, d, index), src_shape) if node.needs[1] else None)


def _bw_not_implemented(node, g):
    raise RuntimeError("derivative for aten::scatter is not implemented")


def _scatter(x, dim, index, src, value, reduce, inplace):
    _need_tensor(index, "scatter", "index", 2)
    if src is not None and not isinstance(src, Tensor):
        if value is not None:
            raise TypeError("scatter() received an invalid combination of arguments - got both src and value")
        src, value = None, src
    if src is None:
        if value is None:
            raise TypeError("scatter() missing 1 required positional argument: 'src' or 'value'")
        _number(value, "scatter", "int, Tensor, ")
    d = wrap_dim(dim, x.ndim)
    if inplace:
        _ops.check_inplace(x)
    idx = _scatter_check(x, d, index, src)
    if reduce not in (None, "add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    v = _scalar(value, x.dtype) if src is None else None
    name = "NotImplemented" if reduce else "ScatterBackward0" if src is not None else "ScatterBackward1"
    bw = _bw_not_implemented if reduce else _bw_scatter
    ctx = (d, _idx_tensor(idx, index._shape), src._shape if src is not None else None)
    others = (src,) if src is not None else ()
    return _apply(x, inplace, lambda t: _scatter_into(t, d, idx, index._shape, src, v, reduce), name, others, bw, ctx)


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    return _scatter(input, dim, index, src, value, reduce, False)


def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
    return _scatter(self, dim, index, src, value, reduce, True)


def _bw_scatter_add(node, g):
    d, index, src_shape = node.ctx
    return g, (_pad_to(gather(g, d, index), src_shape) if node.needs[1] else None)


def _scatter_add(x, dim, index, src, inplace):
    _need_tensor(index, "scatter_add", "index", 2)
    _need_tensor(src, "scatter_add", "src", 3)
    d = wrap_dim(dim, x.ndim)
    if inplace:
        _ops.check_inplace(x)
    idx = _scatter_check(x, d, index, src)
    return _apply(x, inplace, lambda t: _scatter_into(t, d, idx, index._shape, src, None, "add"),
                  "ScatterAddBackward0", (src,), _bw_scatter_add, (d, _idx_tensor(idx, index._shape), src._shape))


def scatter_add(input, dim, index, src):
    return _scatter_add(input, dim, index, src, False)


def scatter_add_(self, dim, index, src):
    return _scatter_add(self, dim, index, src, True)


_REDUCE = {"sum": "add", "prod": "multiply", "mean": "add", "amax": "amax", "amin": "amin", "max": "amax",
           "min": "amin"}


def _identity(reduce, dt):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    hi = reduce in ("amin", "min")
    if dt is _dt.bool:
        return hi
    if dt.is_floating_point:
        return math.inf if hi else -math.inf
    info = np.iinfo(dt.np)
    return int(info.max if hi else info.min)


def _scatter_reduce_into(t, d, idx, ishape, src, reduce, include_self):
    if not include_self:
        _scatter_into(t, d, idx, ishape, None, _identity(reduce, t.dtype), None)
    _scatter_into(t, d, idx, ishape, src, None, _REDUCE[reduce])
    if reduce == "mean":
        cnt = np.full(t.numel(), int(include_self), np.int64)
        _ix.scatter(cnt, 0, contiguous_strides(t._shape) or (1,), idx, ishape, d, 1, 0, (), reduce="add",
                    dim_size=_dsize(t, d))
        counts = _new(t._shape, _dt.int64, np.maximum(cnt, 1))
        from . import pointwise as _pw
        r = _pw.div(t, counts) if t.dtype.is_floating_point else _pw.floor_divide(t, counts.to(t.dtype))
        _ops._copy_data(t, r)


def _bw_scatter_reduce(node, g):
    from . import pointwise as _pw
    d, index, reduce, include_self = node.ctx
    x, src, result = node.saved_tensors
    src_c = src[tuple(slice(0, n) for n in index._shape)] if src._shape != index._shape else src
    if reduce == "sum":
        gs, gsrc = g, gather(g, d, index)
    elif reduce == "mean":
        n = _zeros(g._shape, g.dtype) + int(include_self)
        n = scatter_add(n, d, index, _zeros(index._shape, g.dtype) + 1)
        n = masked_fill(n, n == 0, 1)
        gs, gsrc = g / n, gather(g, d, index) / gather(n, d, index)
    elif reduce == "prod":
        masked_x = masked_fill(x, x == 0, 1)
        gs = g * scatter_reduce(masked_x, d, index, src_c, reduce, include_self=include_self) / masked_x
        src_zero = src_c == 0
        nz = gather(scatter_add(_zeros(x._shape, x.dtype), d, index, src_zero.to(x.dtype)), d, index)
        single = src_zero & (nz == 1)
        masked_res = scatter_reduce(x, d, index, masked_fill(src_c, single, 1), reduce, include_self=include_self)
        gsrc = _pw.where(single, gather(g * masked_res, d, index),
                         gather(g * result, d, index) / masked_fill(src_c, src_zero, 1))
    else:
        value = gather(result, d, index)
        x_is = (x == result).to(g.dtype)
        src_is = (src_c == value).to(g.dtype)
        dist = g / scatter_add(x_is, d, index, src_is)
        gs, gsrc = x_is * dist, src_is * gather(dist, d, index)
    if not include_self:
        gs = scatter(gs, d, index, 0.0)
    return gs, _pad_to(gsrc, src._shape)


def _scatter_reduce(x, dim, index, src, reduce, include_self, inplace):
    _need_tensor(index, "scatter_reduce", "index", 2)
    _need_tensor(src, "scatter_reduce", "src", 3)
    d = wrap_dim(dim, x.ndim)
    if reduce not in _REDUCE:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if inplace:
        _ops.check_inplace(x)
    idx = _scatter_check(x, d, index, src)
    if reduce == "mean" and x.dtype is _dt.bool:
        raise NotImplementedError("\"scatter_gather_tensor_cpu_reduce_mean\" not implemented for 'Bool'")
    res = _ops.clone(x.detach())
    _scatter_reduce_into(res, d, idx, index._shape, src, reduce, include_self)
    ctx = (d, _idx_tensor(idx, index._shape), reduce, include_self)
    if inplace:
        orig = x.detach().clone() if needs_grad(x, src) else None
        return _inplace(x, res, "ScatterReduceBackward0", (src,), _bw_scatter_reduce, save=(orig, src, res),
                        ctx=ctx, check=False)
    if needs_grad(x, src):
        record("ScatterReduceBackward0", res, (x, src), _bw_scatter_reduce, save=(x, src), save_outputs=(0,),
               ctx=ctx)
    return res


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    return _scatter_reduce(input, dim, index, src, reduce, include_self, False)


def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    return _scatter_reduce(self, dim, index, src, reduce, include_self, True)


# ----------------------------------------------------------------------------- index_add / copy / fill
def _bw_index_add(node, g):
    d, index, alpha = node.ctx
    gsrc = index_select(g, d, index) if node.needs[1] else None
    return g, (gsrc * alpha if gsrc is not None and alpha != 1 else gsrc)


def _index_add(x, dim, index, source, alpha, inplace):
    _need_tensor(index, "index_add", "index", 2)
    _need_tensor(source, "index_add", "source", 3)
    if index.dtype not in _IDX:
        raise RuntimeError(f"index_add_(): Expected dtype int32/int64 for index but got: {index.dtype.short}")
    if index.ndim > 1:
        raise IndexError(f"index_add_(): Index is supposed to be a vector, but got dim: {index.ndim} with type: "
                         f"{index.dtype.short} and size: {list(index._shape)}")
    d = wrap_dim(dim, x.ndim)
    if source.dtype is not x.dtype:
        raise RuntimeError(f"index_add_(): self ({x.dtype.short}) and source ({source.dtype.short}) must have the "
                           "same scalar type")
    if index.numel() != _dsize(source, d):
        raise RuntimeError(f"index_add_(): Number of indices ({index.numel()}) should be equal to source.size(dim): "
                           f"({_dsize(source, d)}), for dim: {d}")
    if source.ndim != x.ndim or any(a != b for k, (a, b) in enumerate(zip(x._shape, source._shape)) if k != d):
        raise RuntimeError("source tensor shape must match self tensor shape, excluding the specified dimension. Got "
                           f"self.shape = {list(x._shape)} source.shape = {list(source._shape)}")
    if inplace:
        _ops.check_inplace(x)
    idx = _idx64(index)
    _check_range(idx, _dsize(x, d), d)
    alpha = bool(alpha) if x.dtype is _dt.bool else float(alpha) if x.dtype.is_floating_point else int(alpha)

    def kernel(t):
        if t.dtype is _dt.bool:   # bool index_add is a logical or: the accumulate-scatter kernel's bool mode
            if alpha:
                _plan_put(_as1d(t), _ixx.AdvPlan(_as1d(t)._shape, [(d, "int", idx)]), source, True)
            return
        work = _arith(t)
        w = _as1d(work)
        _ix.index_add(work._storage.data, w._offset, w._stride, w._shape, d, idx,
                      _contig_buf(source, work.dtype.np), alpha)
        if work is not t:
            _ops._copy_data(t, work)
    return _apply(x, inplace, kernel, "IndexAddBackward0", (source,), _bw_index_add,
                  (d, _idx_tensor(idx, idx.shape), alpha))


def index_add(input, dim, index, source, *, alpha=1):
    return _index_add(input, dim, index, source, alpha, False)


def index_add_(self, dim, index, source, *, alpha=1):
    return _index_add(self, dim, index, source, alpha, True)


def _bw_index_copy(node, g):
    d, index = node.ctx
    return (index_fill(g, d, index, 0) if node.needs[0] else None,
            index_select(g, d, index) if node.needs[1] else None)


def _index_copy(x, dim, index, source, inplace):
    _need_tensor(index, "index_copy", "index", 2)
    _need_tensor(source, "index_copy", "source", 3)
    d = wrap_dim(dim, x.ndim)
    if index.dtype is not _dt.int64:
        raise RuntimeError(f"index_copy_(): Expected a long tensor for index, but got {index.dtype.short}")
    if index.ndim > 1:
        raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got {index.ndim})")
    if source.dtype is not x.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, but got (self) "
                           f"{x.dtype.short} and (source) {source.dtype.short}")
    if index.numel() != _dsize(source, d):
        raise IndexError(f"index_copy_(): Number of indices ({index.numel()}) should be equal to source.size(dim) "
                         f"({_dsize(source, d)})")
    if source.ndim != x.ndim and (source.ndim or x.ndim > 1):
        raise IndexError(f"index_copy_(): When source and destination are not scalars, their dimensionality must "
                         f"match. Source dimensionality ({source.ndim}), destination dimensionality ({x.ndim})")
    for i, k in enumerate(k for k in range(x.ndim) if k != d):
        if x._shape[k] != source._shape[k]:
            raise RuntimeError(f"index_copy_(): Source/destination tensor must have same slice shapes. Destination "
                               f"slice shape: {x._shape[k]} at dimension {i} and source slice shape: "
                               f"{source._shape[k]} at dimension {i}.")
    if inplace:
        _ops.check_inplace(x)
    idx = _idx64(index)
    _check_range(idx, _dsize(x, d), d, exc=IndexError, prefix="index_copy_(): ")

    def kernel(t):
        w = _as1d(t)
        _ix.index_copy(t._storage.data, w._offset, w._stride, w._shape, d, idx, _contig_buf(source))
    return _apply(x, inplace, kernel, "IndexCopyBackward0", (source,), _bw_index_copy,
                  (d, _idx_tensor(idx, idx.shape)))


def index_copy(input, dim, index, source):
    return _index_copy(input, dim, index, source, False)


def index_copy_(self, dim, index, source):
    return _index_copy(self, dim, index, source, True)


def _bw_index_fill(node, g):
    d, index, is_tensor = node.ctx
    gs = index_fill(g, d, index, 0) if node.needs[0] else None
    if not is_tensor:
        return (gs,)
    uniq = np.unique(index._np())
    uniq = _idx_tensor(uniq, uniq.shape)
    return gs, (index_select(g, d, uniq).sum() if node.needs[1] else None)


def _index_fill(x, dim, index, value, inplace):
    _need_tensor(index, "index_fill", "index", 2)
    d = wrap_dim(dim, x.ndim)
    if index.dtype is not _dt.int64:
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    if index.ndim > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.ndim} dimension(s).")
    else:
        _number(value, "index_fill", "int, Tensor, ")
    if inplace:
        _ops.check_inplace(x)
    idx = _idx64(index)
    _check_range(idx, _dsize(x, d), d, neg=True, exc=IndexError)
    v = _scalar(value, x.dtype)

    def kernel(t):
        w = _as1d(t)
        _ix.index_fill(t._storage.data, w._offset, w._stride, w._shape, d, idx, v)
    is_t = isinstance(value, Tensor)
    return _apply(x, inplace, kernel, "IndexFillBackward1" if is_t else "IndexFillBackward0",
                  (value,) if is_t else (), _bw_index_fill, (d, _idx_tensor(idx, idx.shape), is_t))


def index_fill(input, dim, index, value):
    return _index_fill(input, dim, index, value, False)


def index_fill_(self, dim, index, value):
    return _index_fill(self, dim, index, value, True)


# ----------------------------------------------------------------------------- masked ops
def _bool_mask(mask, what, cname=True):
    _need_tensor(mask, what.rstrip("_"), "mask", 1)
    if mask.dtype is not _dt.bool:
        name = _CNAME.get(mask.dtype.name, mask.dtype.name) if cname else mask.dtype.short
        raise RuntimeError(f"{what} only supports boolean masks, but got mask with dtype {name}")


def _inplace_shape(self, other):
    b = broadcast_shapes(self._shape, other._shape)
    if b != self._shape:
        raise RuntimeError(f"output with shape {list(self._shape)} doesn't match the broadcast shape {list(b)}")


def _bw_masked_fill(node, g):
    (mask,), is_tensor = node.saved_tensors, node.ctx
    gs = masked_fill(g, mask, 0) if node.needs[0] else None
    if not is_tensor:
        return (gs,)
    return gs, (masked_fill(g, ~mask, 0).sum() if node.needs[1] else None)


def _masked_fill(x, mask, value, inplace):
    _bool_mask(mask, "masked_fill_")
    is_t = isinstance(value, Tensor)
    if is_t and value.ndim:
        raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value.ndim} dimension(s).")
    if not is_t:
        _number(value, "masked_fill", "Tensor, ")
    v = _scalar(value, x.dtype)
    if inplace:
        _ops.check_inplace(x)
        _inplace_shape(x, mask)
        t = x
    else:
        t = _new(broadcast_shapes(x._shape, mask._shape), x.dtype)
        _ops._copy_data(t, x)
    mst = broadcast_strides(mask._shape, mask._stride, t._shape)
    _ix.masked_fill(t._storage.data, t._offset, t._stride, t._shape, mask._storage.data, mask._offset, mst, v)
    name = "MaskedFillBackward1" if is_t else "MaskedFillBackward0"
    others = (value,) if is_t else ()
    if inplace:
        return _inplace(x, x, name, others, _bw_masked_fill, save=(mask,), ctx=is_t, check=False)
    return _done(t, x, name, others, _bw_masked_fill, save=(mask,), ctx=is_t)


def masked_fill(input, mask, value):
    return _masked_fill(input, mask, value, False)


def masked_fill_(self, mask, value):
    return _masked_fill(self, mask, value, True)


def _bcast_buf(t, shape, np_dtype=None):
    """t broadcast to ``shape`` as a flat contiguous buffer."""
    if t._shape == tuple(shape):
        return _contig_buf(t, np_dtype)
    out = np.empty(numel(shape), t.dtype.np if np_dtype is None else np_dtype)
    _ix.copy_strided(t._storage.data, t._offset, broadcast_strides(t._shape, t._stride, shape), out, 0,
                     contiguous_strides(shape), shape)
    return out


def _bw_masked_select(node, g):
    (mask,) = node.saved_tensors
    return (masked_scatter(_zeros(node.ctx, g.dtype), mask, g),)


def masked_select(input, mask, *, out=None):
    _need_tensor(mask, "masked_select", "mask", 1)
    if mask.dtype is not _dt.bool:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = broadcast_shapes(mask._shape, input._shape)
    buf = _ixx.mask_select(_bcast_buf(input, shape), _bcast_buf(mask, shape))
    res = _done(_new(buf.shape, input.dtype, buf), input, "MaskedSelectBackward0", (), _bw_masked_select,
                save=(mask,), ctx=shape)
    return _ops._to_out(res, out) if out is not None else res


def _bw_masked_scatter(node, g):
    (mask,), src_shape = node.saved_tensors, node.ctx
    gs = masked_fill(g, mask, 0) if node.needs[0] else None
    if not node.needs[1]:
        return gs, None
    sel = masked_select(g, mask)
    n = numel(src_shape)
    return gs, _pad_to(sel, (n,)).reshape(src_shape) if sel.numel() <= n else sel[:n].reshape(src_shape)


def _masked_scatter(x, mask, source, inplace):
    _need_tensor(source, "masked_scatter", "source", 2)
    _bool_mask(mask, "masked_scatter_", cname=False)
    if source.dtype is not x.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got"
                           f"{x.dtype.short} and {source.dtype.short}")
    if inplace:
        _ops.check_inplace(x)
        _inplace_shape(x, mask)
    shape = x._shape if inplace else broadcast_shapes(x._shape, mask._shape)
    if inplace and x.is_contiguous():
        buf = x._storage.data[x._offset:x._offset + x.numel()]      # written in place
    else:
        buf = _bcast_buf(x, shape)
        if buf.base is not None:                                    # a view of x's storage: work on a copy
            buf = buf.copy()
    _ix.masked_scatter(buf, _bcast_buf(mask, shape), _contig_buf(source))
    if inplace:
        if not x.is_contiguous():
            _ops._copy_data(x, _new(shape, x.dtype, buf))
        return _inplace(x, x, "MaskedScatterBackward0", (source,), _bw_masked_scatter, save=(mask,),
                        ctx=source._shape, check=False)
    return _done(_new(shape, x.dtype, buf), x, "MaskedScatterBackward0", (source,), _bw_masked_scatter,
                 save=(mask,), ctx=source._shape)


def masked_scatter(input, mask, source):
    return _masked_scatter(input, mask, source, False)


def masked_scatter_(self, mask, source):
    return _masked_scatter(self, mask, source, True)


# ----------------------------------------------------------------------------- nonzero / take / put
def nonzero(input, *, out=None, as_tuple=False):
    coords = _ix.nonzero(input._storage.data, input._offset, input._stride, input._shape)
    if as_tuple:
        if not input.ndim:
            return (_new((coords.shape[0],), _dt.int64, np.zeros(coords.shape[0], np.int64)),)
        return tuple(_new((coords.shape[0],), _dt.int64, np.ascontiguousarray(coords[:, j]))
                     for j in range(coords.shape[1]))
    res = _new(coords.shape, _dt.int64, coords.reshape(-1))
    return _ops._to_out(res, out) if out is not None else res


def argwhere(input):
    return nonzero(input)


def _flat_index(x, index, fn):
    _need_tensor(index, fn, "index", 1)
    if index.dtype is not _dt.int64:
        raise RuntimeError(f"{fn}(): Expected a long tensor for index, but got {index.dtype.short}")
    n = x.numel()
    idx = _idx64(index)
    if n == 0 and idx.size:
        raise IndexError(f"{fn}(): tried to take from an empty tensor")
    ok, bad = _ix.check_range(idx, n, allow_negative=True)
    if not ok:
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} elements.")
    return idx


def _bw_take(node, g):
    return (put(_zeros(node._input_meta[0][0], g.dtype), node.ctx, g, accumulate=True),)


def take(input, index):
    idx = _flat_index(input, index, "take")
    buf = _ix.take(input._storage.data, input._offset, input._stride, input._shape, idx)
    return _done(_new(index._shape, input.dtype, buf), input, "TakeBackward0", (), _bw_take,
                 ctx=_idx_tensor(idx, index._shape))


def _bw_put(node, g):
    index, accumulate, src_shape = node.ctx
    gs = (g if accumulate else put(g, index, _zeros(src_shape, g.dtype))) if node.needs[0] else None
    return gs, (take(g, index).reshape(src_shape) if node.needs[1] else None)


def _put(x, index, source, accumulate, inplace):
    _need_tensor(source, "put_", "source", 2)
    if inplace:
        _ops.check_inplace(x)
    idx = _flat_index(x, index, "put_")
    if source.dtype is not x.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got self.dtype = "
                           f"{x.dtype.short} and source.dtype = {source.dtype.short}")
    if source.numel() != idx.size:
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but got "
                         f"source.numel() = {source.numel()}, index.numel() = {idx.size}")

    def kernel(t):
        work = _arith(t) if accumulate else t
        flat = _ix.wrap_negative(idx, max(t.numel(), 1))
        if work.is_contiguous():
            offs = flat + work._offset
        else:
            coords = np.unravel_index(flat, work._shape)
            offs = sum(c * s for c, s in zip(coords, work._stride)) + work._offset
        _ixx.adv_scatter(work._storage.data, np.zeros(1, np.int64), np.ascontiguousarray(offs, np.int64),
                         (1, 1, np.empty(0, np.int64)), _contig_buf(source, work.dtype.np), accumulate)
        if work is not t:
            _ops._copy_data(t, work)
    return _apply(x, inplace, kernel, "PutBackward0", (source,), _bw_put,
                  (_idx_tensor(idx, index._shape), accumulate, source._shape))


def put_(self, index, source, accumulate=False):
    return _put(self, index, source, accumulate, True)


def put(input, index, source, accumulate=False):
    return _put(input, index, source, accumulate, False)
