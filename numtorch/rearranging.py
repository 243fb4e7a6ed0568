"""Rearranging copies: flip/fliplr/flipud/roll/rot90, repeat/tile/repeat_interleave, tril/triu (and the
in-place tril_/triu_), diag/diag_embed/trace; also the allocation, strided-read and ``out=`` helpers that
joining.py (cat/stack family, grids, block_diag) shares. joining.py re-exports every function here.

Every copy runs the compiled strided copy (``kernels.index.copy_strided``, casts included): flip/rot90
read the input with negative strides, roll copies 2**k blocks, repeat writes one stride-0 view of the input
into the output seen as (r0, n0, r1, n1, ...). Backward formulas use numtorch ops, so double backward works."""
import itertools
import operator

import numpy as np

from . import dtypes as _dt
from . import ops as _ops
from . import views as _views
from .autograd.graph import needs_grad, record
from ._buffers import on
from .kernels import index as _ix
from .shape import as_shape, check_size_nonneg, contiguous_strides, numel, wrap_dim, wrap_dims
from .tensor import Tensor

__all__ = ["flip", "fliplr", "flipud", "roll", "tile", "tril", "triu", "repeat_interleave", "rot90", "diag",
           "diag_embed", "trace"]


# -- helpers ----------------------------------------------------------------------------------------

def _empty(shape, dt, dev):
    return _ops._new_out(tuple(shape), dt, dev)


def _zeros(shape, dt, dev):
    from .creation import zeros
    return zeros(tuple(shape), dtype=dt, device=dev)


def _read(dst, src, off, stride):
    """dst <- src's storage read at (off, stride) over dst's shape (compiled copy, casts)."""
    _ix.copy_strided(src._storage.data, off, stride, dst._storage.data, dst._offset, dst._stride, dst._shape)


def _block(t, starts, lens):
    """A view of ``t`` starting at index ``starts`` with sizes ``lens`` (no autograd)."""
    off = t._offset + sum(s * st for s, st in zip(starts, t._stride))
    return t._view_of(tuple(lens), t._stride, off)


def _finish(res, out, fname):
    """Write ``res`` into ``out=`` when given: cat/stack accept a castable dtype, the others only the same."""
    if out is None:
        return res
    if res.requires_grad:
        raise RuntimeError(f"{fname}(): functions with out=... arguments don't support automatic differentiation, "
                           "but one of the arguments requires grad.")
    cat_like = fname in ("cat", "stack")
    if cat_like and not _dt.can_cast(res.dtype, out.dtype):
        raise TypeError(f"torch.cat(): input types can't be cast to the desired output type {out.dtype.short}")
    if not cat_like and out.dtype is not res.dtype:
        from .linalg_ops import _CNAME
        raise RuntimeError(f"Expected out tensor to have dtype {_CNAME[res.dtype.name]}, but got "
                           f"{_CNAME[out.dtype.name]} instead")
    return _ops._to_out(res, out)


# -- flip / roll / rot90 ----------------------------------------------------------------------------

def _dims_arg(dims):
    if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
        return tuple(dims[0])
    return tuple(dims)


def _reversed_view(x, dims):
    """(offset, strides) reading ``x`` with ``dims`` reversed (negative strides)."""
    off, st = x._offset, list(x._stride)
    for d in dims:
        if x._shape[d] > 0:
            off += (x._shape[d] - 1) * st[d]
        st[d] = -st[d]
    return off, st


def flip(x, *dims, **kw):
    """Reverse the order of elements along ``dims`` (a copy, as in PyTorch)."""
    dims = _dims_arg(dims) if "dims" not in kw else _dims_arg((kw.pop("dims"),))
    ds = wrap_dims(dims, x.ndim) if dims else ()
    ds = tuple(d for d in ds if d < x.ndim)
    res = _empty(x._shape, x.dtype, x.device)
    _read(res, x, *_reversed_view(x, ds))
    if needs_grad(x):
        record("FlipBackward0", res, (x,), lambda node, g: (flip(g, ds),))
    return res


def fliplr(x):
    if x.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(x, 1)


def flipud(x):
    if x.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(x, 0)


def _roll_into(res, x, shifts, dims):
    segs = []
    for d, s in zip(dims, shifts):
        n = x._shape[d]
        s = s % n if n else 0
        segs.append([(a, b, m) for a, b, m in ((0, s, n - s), (n - s, 0, s)) if m] or [(0, 0, 0)])
    for combo in itertools.product(*segs):
        src_start, dst_start, lens = list([0] * x.ndim), list([0] * x.ndim), list(x._shape)
        for d, (a, b, m) in zip(dims, combo):
            src_start[d], dst_start[d], lens[d] = a, b, m
        src = _block(x, src_start, lens)
        _read(_block(res, dst_start, lens), src, src._offset, src._stride)


def roll(x, shifts, dims=None):
    """Rotate elements along ``dims`` by ``shifts``; without dims the flattened tensor rolls."""
    shifts = (operator.index(shifts),) if not isinstance(shifts, (tuple, list)) else tuple(map(operator.index, shifts))
    dl = () if dims is None else (dims,) if not isinstance(dims, (tuple, list)) else tuple(dims)
    if not shifts:
        raise RuntimeError("`shifts` required")
    if dims is None and len(shifts) == 1:
        src = x if x.is_contiguous() else x.detach().contiguous()
        flat = src._view_of((x.numel(),), (1,), src._offset)
        res = _empty((x.numel(),), x.dtype, x.device)
        _roll_into(res, flat, shifts, (0,))
        res = Tensor._from_buffer(res._storage.data, x._shape, x.dtype, x.device)
        back = lambda node, g: (roll(g, -shifts[0]),)  # noqa: E731
    else:
        if len(shifts) != len(dl):
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dl)}")
        ds = tuple(wrap_dim(d, x.ndim) for d in dl)
        total = {}
        for d, s in zip(ds, shifts):        # a repeated dim rolls by the sum of its shifts
            total[d] = total.get(d, 0) + s
        res = _empty(x._shape, x.dtype, x.device)
        _roll_into(res, x, tuple(total.values()), tuple(total))
        back = lambda node, g: (roll(g, tuple(-s for s in shifts), ds),)  # noqa: E731
    if needs_grad(x):
        record("RollBackward0", res, (x,), back)
    return res


def rot90(x, k=1, dims=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``dims`` (from the first towards the second)."""
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if x.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {x.ndim}")
    if dims[0] == dims[1] or abs(dims[0] - dims[1]) == x.ndim:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} and dim1 = {dims[1]}")
    d0, d1 = wrap_dim(dims[0], x.ndim), wrap_dim(dims[1], x.ndim)
    k = operator.index(k) % 4
    flips = {0: (), 1: (d1,), 2: (d0, d1), 3: (d0,)}[k]
    res = _empty(x._shape, x.dtype, x.device)
    _read(res, x, *_reversed_view(x, flips))
    if k % 2:   # PyTorch returns the transposed view of the flipped copy
        shp, st = list(res._shape), list(res._stride)
        shp[d0], shp[d1], st[d0], st[d1] = shp[d1], shp[d0], st[d1], st[d0]
        res._shape, res._stride = tuple(shp), tuple(st)
    if needs_grad(x):
        record("Rot90Backward0", res, (x,), lambda node, g: (rot90(g, -k, (d0, d1)),))
    return res


# -- repeat / tile / repeat_interleave --------------------------------------------------------------

def _bw_repeat(node, g):
    sizes, xs, in_shape = node.ctx
    red = tuple(2 * i for i, r in enumerate(sizes) if r != 1)
    if red:
        inter = tuple(v for r, n in zip(sizes, xs) for v in (r, n))
        g = g.reshape(inter).sum(red)
    return (g.reshape(in_shape),)


def repeat(x, *sizes):
    """Tile ``x`` ``sizes[i]`` times along each dim (leading dims added as needed)."""
    sizes = as_shape(sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           "tensor")
    pad = len(sizes) - x.ndim
    xs, xst = (1,) * pad + x._shape, (0,) * pad + x._stride
    shape = tuple(r * n for r, n in zip(sizes, xs))
    check_size_nonneg(shape)
    res = _empty(shape, x.dtype, x.device)
    inter = tuple(v for r, n in zip(sizes, xs) for v in (r, n))
    src_st = tuple(v for s in xst for v in (0, s))
    _ix.copy_strided(x._storage.data, x._offset, src_st, res._storage.data, 0, contiguous_strides(inter), inter)
    if needs_grad(x):
        record("RepeatBackward0", res, (x,), _bw_repeat, ctx=(sizes, xs, x._shape))
    return res


def tile(x, *dims, **kw):
    dims = as_shape(dims if "dims" not in kw else (kw.pop("dims"),))
    if len(dims) < x.ndim:
        dims = (1,) * (x.ndim - len(dims)) + dims
    return repeat(x, dims)


def _index_select(x, d, idx):
    """x.index_select(d, idx) for a validated int64 NumPy index (IndexSelectBackward0)."""
    shape = list(x._shape)
    shape[d] = idx.size
    idx = on(idx, x.device)
    res = _empty(shape, x.dtype, x.device)
    _ix.index_select(x._storage.data, x._offset, x._stride, x._shape, d, idx, res._storage.data)
    if needs_grad(x):
        record("IndexSelectBackward0", res, (x,), lambda node, g: (_index_add(g, d, idx, node._input_meta[0][0]),))
    return res


def _index_add(g, d, idx, shape):
    """zeros(shape).index_add_(d, idx, g): the gradient of _index_select (differentiable)."""
    cnp = g.dtype.compute
    z = _zeros((numel(shape),), _dt.from_numpy_dtype(np.dtype(cnp)), g.device)._storage.data
    _ix.index_add(z, 0, contiguous_strides(tuple(shape)), shape, d, idx, _ops._cast_contiguous(g, cnp))
    res = Tensor._from_buffer(z, shape, g.dtype, g.device) if cnp == g.dtype.np else \
        Tensor._from_buffer(z, shape, _dt.float32, g.device).to(g.dtype)
    if needs_grad(g):
        record("IndexAddBackward0", res, (g,), lambda node, gg: (_index_select(gg, d, idx),))
    return res


def _repeats_array(repeats, n):
    if repeats.dtype not in (_dt.int32, _dt.int64):
        raise NotImplementedError(f"\"repeat_interleave_cpu\" not implemented for '{repeats.dtype.short}'")
    if repeats.ndim > 1:
        raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
    r = np.array(repeats._host_values(), dtype=np.int64).reshape(-1)      # sizes the output: a host sync
    if r.size == 1 and n is not None:
        r = np.repeat(r, n)
    if n is not None and r.size != n:
        raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = {r.size} "
                           f"and input.size(0) = {n}")
    if (r < 0).any():
        raise RuntimeError("repeats can not be negative")
    return r


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element ``repeats`` times along ``dim`` (flattened input when dim is None)."""
    if repeats is None:         # torch.repeat_interleave(repeats): the index vector
        r = _repeats_array(input, None)
        idx = np.repeat(np.arange(r.size, dtype=np.int64), r)
        return Tensor._from_buffer(on(idx.astype(input.dtype.np), input.device), (idx.size,), input.dtype,
                                   input.device)
    x, d = (input.flatten(), 0) if dim is None else (input, wrap_dim(dim, input.ndim))
    if x.ndim == 0:
        x = x.reshape(1)
    if isinstance(repeats, Tensor):
        r = _repeats_array(repeats, x._shape[d])
        return _index_select(x, d, np.repeat(np.arange(x._shape[d], dtype=np.int64), r))
    r = operator.index(repeats)
    if r < 0:
        raise RuntimeError("Repeats must be non-negative")
    shape = list(x._shape)
    shape.insert(d + 1, r)
    return x.unsqueeze(d + 1).expand(shape).clone().flatten(d, d + 1)


# -- triangles and diagonals ------------------------------------------------------------------------

def _tri_check(x, upper):
    if x.ndim < 2:
        raise RuntimeError(f"{'triu' if upper else 'tril'}: input tensor must have at least 2 dimensions")


def _tri_record(res, x, k, upper):
    name = "TriuBackward0" if upper else "TrilBackward0"
    record(name, res, (x,), lambda node, g: (_tri(g, k, upper),))


def _tri(x, k, upper):
    _tri_check(x, upper)
    k = operator.index(k)
    res = _empty(x._shape, x.dtype, x.device)
    _ops._copy_data(res, x)
    _ix.tril_mask_fill(res._storage.data, x._shape[-2], x._shape[-1], numel(x._shape[:-2]), k, upper)
    if needs_grad(x):
        _tri_record(res, x, k, upper)
    return res


def _tri_(x, k, upper):
    _tri_check(x, upper)
    _ops.check_inplace(x)
    k = operator.index(k)
    grad = needs_grad(x)
    if x.is_contiguous():
        _ix.tril_mask_fill(x._storage.data, x._shape[-2], x._shape[-1], numel(x._shape[:-2]), k, upper, x._offset)
    else:
        _ops._copy_data(x, _tri(x.detach(), k, upper))
    x._bump()
    if grad:
        from .autograd.inplace import rebase_history
        rebase_history(x, lambda prev: _tri_record(x, prev, k, upper))
    return x


def tril(x, diagonal=0, *, out=None):
    return _finish(_tri(x, diagonal, False), out, "tril")


def triu(x, diagonal=0, *, out=None):
    return _finish(_tri(x, diagonal, True), out, "triu")


def tril_(x, diagonal=0):
    return _tri_(x, diagonal, False)


def triu_(x, diagonal=0):
    return _tri_(x, diagonal, True)


def _diag_scatter(g, shape, offset, d1, d2):
    """zeros(shape) with g written on its (offset, d1, d2) diagonal (differentiable through copy_)."""
    z = _zeros(shape, g.dtype, g.device)
    _views.diagonal(z, offset, d1, d2).copy_(g)
    return z


def diag_embed(x, offset=0, dim1=-2, dim2=-1):
    """Batched diagonal matrices from the last dim of ``x`` placed on (dim1, dim2)."""
    nd = x.ndim + 1
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = (x._shape[-1] if x.ndim else 1) + abs(offset)
    shape = list(x._shape[:-1])
    for d in sorted((d1, d2)):
        shape.insert(d, n)
    res = _zeros(shape, x.dtype, x.device)
    _ops._copy_data(_views._diag_view(res, offset, d1, d2), x)
    if needs_grad(x):
        record("DiagEmbedBackward0", res, (x,), lambda node, g: (_views.diagonal(g, offset, d1, d2),))
    return res


def diag(x, diagonal=0, *, out=None):
    """1-D -> square matrix with ``x`` on a diagonal; 2-D -> a copy of that diagonal."""
    if x.ndim not in (1, 2):
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {x.ndim}D")
    if x.ndim == 1:
        return _finish(diag_embed(x, diagonal, 0, 1), out, "diag")
    v = _views._diag_view(x, diagonal, 0, 1)
    res = _empty(v._shape, x.dtype, x.device)
    _ops._copy_data(res, v)
    if needs_grad(x):
        record("DiagonalBackward0_copy", res, (x,),
               lambda node, g: (_diag_scatter(g, node._input_meta[0][0], diagonal, 0, 1),))
    return _finish(res, out, "diag")


def trace(x):
    """Sum of the main diagonal of a matrix (integers sum to int64)."""
    if x.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {x.ndim}")
    if x.dtype is _dt.bool:
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    from .reductions import sum as _sum
    res = _sum(_views._diag_view(x.detach(), 0, 0, 1))
    if needs_grad(x):
        record("TraceBackward0", res, (x,), lambda node, g: (_diag_scatter(g, node._input_meta[0][0], 0, 0, 1),))
    return res
