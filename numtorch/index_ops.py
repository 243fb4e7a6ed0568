"""index_select / index_add / index_copy / index_fill along a dim, and take / put on flat indices."""
import numpy as np

from . import dtypes as _dt
from . import ops as _ops
from ._index_util import (_IDX, _apply, _arith, _as1d, _check_range, _contig_buf, _done, _dsize, _idx64,
                          _idx_tensor, _need_tensor, _new, _number, _plan_put, _scalar, _zeros)
from ._buffers import host_ints, on
from .kernels import index as _ix
from .storage import empty_buffer
from .kernels import index_extra as _ixx
from .shape import numel, wrap_dim
from .tensor import Tensor

__all__ = ["index_select", "index_add", "index_copy", "index_fill", "take", "put"]


# ----------------------------------------------------------------------------- index_select
def _bw_index_select(node, g):
    d, index = node.ctx
    return (index_add(_zeros(node._input_meta[0][0], g.dtype, g.device), d, index, g),)


def index_select(input, dim, index, *, out=None):
    _need_tensor(index, "index_select", "index", 2)
    if index.dtype not in _IDX:
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    d = wrap_dim(dim, input.ndim)
    _ops._check_device(input, index)
    idx = _idx64(index)
    if not input.ndim and idx.size > 1:
        raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {idx.size} value(s)")
    if not _ix.check_range(idx, _dsize(input, d), allow_negative=False)[0]:
        raise IndexError("index out of range in self")
    x = _as1d(input)
    shape = x._shape[:d] + (idx.size,) + x._shape[d + 1:]
    buf = _ix.index_select(x._storage.data, x._offset, x._stride, x._shape, d, idx,
                           empty_buffer(numel(shape), x.dtype.np, x.device))
    res = _done(_new(shape if input.ndim else (), input.dtype, buf), input, "IndexSelectBackward0", (),
                _bw_index_select, ctx=(d, _idx_tensor(idx, idx.shape)))
    return _ops._to_out(res, out) if out is not None else res


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
    _ops._check_device(x, index, source)
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
    _ops._check_device(x, index, source)
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
    uniq = index.detach().reshape(-1).to(_dt.int64).unique()
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
    _ops._check_device(x, index, value)
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


# ----------------------------------------------------------------------------- take / put
def _flat_index(x, index, fn):
    _need_tensor(index, fn, "index", 1)
    if index.dtype is not _dt.int64:
        raise RuntimeError(f"{fn}(): Expected a long tensor for index, but got {index.dtype.short}")
    n = x.numel()
    _ops._check_device(x, index)
    idx = _idx64(index)
    if n == 0 and idx.size:
        raise IndexError(f"{fn}(): tried to take from an empty tensor")
    ok, bad = _ix.check_range(idx, n, allow_negative=True)
    if not ok:
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} elements.")
    return idx


def _bw_take(node, g):
    return (put(_zeros(node._input_meta[0][0], g.dtype, g.device), node.ctx, g, accumulate=True),)


def take(input, index):
    idx = _flat_index(input, index, "take")
    buf = _ix.take(input._storage.data, input._offset, input._stride, input._shape, idx)
    return _done(_new(index._shape, input.dtype, buf), input, "TakeBackward0", (), _bw_take,
                 ctx=_idx_tensor(idx, index._shape))


def _bw_put(node, g):
    index, accumulate, src_shape = node.ctx
    gs = (g if accumulate else put(g, index, _zeros(src_shape, g.dtype, g.device))) if node.needs[0] else None
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
        flat = _ix.wrap_negative(host_ints(idx), max(t.numel(), 1))     # offsets are planned on the host
        if work.is_contiguous():
            offs = flat + work._offset
        else:
            coords = np.unravel_index(flat, work._shape)
            offs = sum(c * s for c, s in zip(coords, work._stride)) + work._offset
        dev = work.device
        _ixx.adv_scatter(work._storage.data, on(np.zeros(1, np.int64), dev),
                         on(np.ascontiguousarray(offs, np.int64), dev), (1, 1, np.empty(0, np.int64)),
                         _contig_buf(source, work.dtype.np), accumulate)
        if work is not t:
            _ops._copy_data(t, work)
    return _apply(x, inplace, kernel, "PutBackward0", (source,), _bw_put,
                  (_idx_tensor(idx, index._shape), accumulate, source._shape))


def put_(self, index, source, accumulate=False):
    return _put(self, index, source, accumulate, True)


def put(input, index, source, accumulate=False):
    return _put(input, index, source, accumulate, False)
