"""PyTorch indexing: ``x[idx]`` / ``x[idx] = v`` and index_put(_); re-exports the rest of the family.

Basic indexing (ints, slices, None, ...) returns views; advanced indexing (integer/bool tensors,
lists, arrays) is planned here as (P, B, Q) blocks of element offsets (NumPy on the index arrays
only) and moved by the compiled kernels in ``kernels/index.py`` and ``kernels/index_extra.py``.
Every check runs before any write, so a failing call leaves its target untouched.

gather/scatter live in ``gather_scatter``, index_select/index_*/take/put in ``index_ops``, masked
ops and nonzero in ``masked``, shared helpers in ``_index_util``; every name stays importable from
here because Tensor methods (``_methods._bind_optional``) and ``torch.<name>`` resolve through this module.
"""
import operator
import warnings

import numpy as np

from . import dtypes as _dt
from . import fastpath as _fp
from . import ops as _ops
from . import views as _views
from .autograd.graph import needs_grad, record
from .autograd.grad_mode import is_grad_enabled
from .autograd.inplace import rebase_history  # noqa: F401 (re-exported)
from ._buffers import cast_flat, on
from .kernels import index as _ix
from .storage import empty_buffer
from .kernels import index_extra as _ixx
from .shape import broadcast_shapes, broadcast_strides, contiguous_strides, numel, wrap_dim  # noqa: F401
from .tensor import Tensor

# The family's other modules, re-exported (private helpers included) so every name of the former
# single module still resolves here.
from ._index_util import (_CTYPE, _IDX, _apply, _arith, _as1d, _check_range, _contig_buf, _done,  # noqa: F401
                          _dsize, _idx64, _idx_tensor, _inplace, _need_tensor, _new, _number, _overflow, _pad_to,
                          _plan_put, _scalar, _tpname, _values_buf, _zeros)
from .gather_scatter import (_REDUCE, _bw_gather, _bw_not_implemented, _bw_scatter, _bw_scatter_add,  # noqa: F401
                             _bw_scatter_reduce, _identity, _scatter, _scatter_add, _scatter_check, _scatter_into,
                             _scatter_reduce, _scatter_reduce_into, gather, scatter, scatter_, scatter_add,
                             scatter_add_, scatter_reduce, scatter_reduce_)
from .index_ops import (_bw_index_add, _bw_index_copy, _bw_index_fill, _bw_index_select, _bw_put,  # noqa: F401
                        _bw_take, _flat_index, _index_add, _index_copy, _index_fill, _put, index_add, index_add_,
                        index_copy, index_copy_, index_fill, index_fill_, index_select, put, put_, take)
from .masked import (_CNAME, _bcast_buf, _bool_mask, _bw_masked_fill, _bw_masked_scatter,  # noqa: F401
                     _bw_masked_select, _inplace_shape, _masked_fill, _masked_scatter, argwhere, masked_fill,
                     masked_fill_, masked_scatter, masked_scatter_, masked_select, nonzero)

__all__ = ["index_select", "gather", "scatter", "scatter_add", "scatter_reduce", "index_add", "index_copy",
           "index_fill", "masked_select", "masked_fill", "masked_scatter", "nonzero", "argwhere", "take", "put",
           "index_put", "index_put_"]

_INVALID = "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices (got {})"


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


def _device_index(o, dev):
    """A CUDA index tensor as a contiguous device array of its shape: the plan is built on the GPU."""
    if dev.type == "cpu":
        raise RuntimeError(f"indices should be either on cpu or on the same device as the indexed tensor ({dev})")
    dt = o.dtype
    if dt is _dt.uint8:
        warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool "
                      "instead.", UserWarning, stacklevel=4)
        o, dt = o != 0, _dt.bool
    if dt is _dt.bool:
        return "mask", _contig_buf(o, np.bool_).reshape(o._shape)
    if dt in _IDX:
        return "int", _contig_buf(o, np.int64).reshape(o._shape)
    return "bad", _contig_buf(o).reshape(o._shape)


def _index_array(o, dev=None):
    """('int' | 'mask' | 'bad', array) for a tensor, ndarray or sequence index (a device array for a
    CUDA index tensor of a CUDA tensor; CPU indices of a CUDA tensor are planned on the host)."""
    if isinstance(o, Tensor):
        if o._storage.device.type != "cpu":
            return _device_index(o, dev or o.device)
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


def _classify(o, dev=None):
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
    if isinstance(o, Tensor) or isinstance(o, (np.ndarray, list, tuple, str, range)):
        if isinstance(o, Tensor) and o.ndim == 0 and not o.dtype.is_floating_point:
            return ("bool", bool(o.item())) if o.dtype in (_dt.bool, _dt.uint8) else ("int", int(o.item()))
        kind, a = _index_array(o, dev)
        if a.ndim == 0 and kind != "bad":
            a = a if isinstance(a, np.ndarray) else a.copy_to_host()
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
    items = [_classify(o, x.device) for o in _as_tuple(index)]
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
    out = empty_buffer(numel(rshape), v.dtype.np, v.device)
    _ixx.adv_gather(v._storage.data, *plan.blocks(v._stride, v._offset), out)
    return _new(rshape, v.dtype, out)


def _bw_index(node, g):
    z = _zeros(node._input_meta[0][0], g.dtype, g.device)
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
    return (masked_scatter(_zeros(mask._shape, g.dtype, g.device), mask, g),)


def __getitem__(self, index):
    if index.__class__ is int and self.__class__ in _fp._FAST:
        shp = self._shape
        if shp and -shp[0] <= index < shp[0] and not needs_grad(self):
            st = self._stride
            return _fp.view_of(self, shp[1:], st[1:], self._offset + (index % shp[0]) * st[0])
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
        mask = on(_flat(adv[0][2]), v.device)
        out = _ixx.mask_select(_contig_buf(v), mask)
        saved = _new(v._shape, _dt.bool, cast_flat(mask, np.bool_, v.device, copy=True)) if needs_grad(v) else None
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
        return _new((), self.dtype, on(np.asarray(_scalar(value, self.dtype)).astype(self.dtype.np).reshape(1),
                                       self.device))


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


def _flat(a):
    """A contiguous 1-D version of an index array (host or device)."""
    return np.ascontiguousarray(a).reshape(-1) if isinstance(a, np.ndarray) else a.reshape(a.size)


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
        mst = (0,) * d + contiguous_strides(tuple(m.shape)) + (0,) * (self.ndim - d - m.ndim)
        _ix.masked_fill(self._storage.data, self._offset, self._stride, self._shape, on(_flat(m), self.device), 0,
                        mst, values.item())
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
        kind, a = _index_array(t, self.device)
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
