"""gather and the scatter family: scatter(_), scatter_add(_), scatter_reduce(_)."""
import math

import numpy as np

from . import dtypes as _dt
from . import ops as _ops
from ._index_util import (_IDX, _apply, _arith, _as1d, _check_range, _contig_buf, _done, _dsize, _idx64, _idx_tensor,
                          _inplace, _need_tensor, _new, _number, _pad_to, _scalar, _zeros)
from .autograd.graph import needs_grad, record
from .kernels import index as _ix
from .storage import empty_buffer
from .masked import masked_fill
from .shape import contiguous_strides, wrap_dim
from .tensor import Tensor

__all__ = ["gather", "scatter", "scatter_add", "scatter_reduce"]


# ----------------------------------------------------------------------------- gather
def _bw_gather(node, g):
    d, index = node.ctx
    return (scatter_add(_zeros(node._input_meta[0][0], g.dtype, g.device), d, index, g),)


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
    _ops._check_device(input, index)
    idx = _idx64(index)
    _check_range(idx, _dsize(input, d), d)
    buf = _ix.gather(input._storage.data, input._offset, input._stride, idx, index._shape, d,
                     empty_buffer(idx.size, input.dtype.np, input.device), _dsize(input, d))
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
    _ops._check_device(x, index, src)
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
        from .creation import full
        cnt = full(t._shape, int(include_self), dtype=_dt.int64, device=t.device)
        _ix.scatter(cnt._storage.data, 0, contiguous_strides(t._shape) or (1,), idx, ishape, d, 1, 0, (),
                    reduce="add", dim_size=_dsize(t, d))
        counts = cnt.clamp_min(1)
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
        n = _zeros(g._shape, g.dtype, g.device) + int(include_self)
        n = scatter_add(n, d, index, _zeros(index._shape, g.dtype, g.device) + 1)
        n = masked_fill(n, n == 0, 1)
        gs, gsrc = g / n, gather(g, d, index) / gather(n, d, index)
    elif reduce == "prod":
        masked_x = masked_fill(x, x == 0, 1)
        gs = g * scatter_reduce(masked_x, d, index, src_c, reduce, include_self=include_self) / masked_x
        src_zero = src_c == 0
        nz = gather(scatter_add(_zeros(x._shape, x.dtype, x.device), d, index, src_zero.to(x.dtype)), d, index)
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
