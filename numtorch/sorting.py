"""sort / argsort / topk / kthvalue / median / mode / unique: the dim moves last, per-row compiled
kernels run on a contiguous (rows, n) buffer, results come back as views in the original layout.

Ties resolve lowest index first and NaN counts as the largest value (valid PyTorch results)."""
import numpy as np

from . import dtypes as _dt
from .autograd.graph import needs_grad, record
from ._buffers import cast_flat
from .kernels import sort as _ks
from .storage import empty_buffer
from .ops import _cast_contiguous
from .return_types import kthvalue as _RT_kth, median as _RT_median, mode as _RT_mode, \
    nanmedian as _RT_nanmedian, sort as _RT_sort, topk as _RT_topk
from .shape import numel, wrap_dim
from .tensor import Tensor

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode", "unique",
           "unique_consecutive"]


def _rows(x, dim):
    """(moved shape, dim, contiguous buffer, rows, n) with ``dim`` moved last."""
    d = wrap_dim(dim, x.ndim)
    if x.ndim == 0:
        return (1,), d, _cast_contiguous(x, x.dtype.compute), 1, 1
    src = x.detach()
    moved = src.movedim(d, -1) if d != x.ndim - 1 else src
    buf = _cast_contiguous(moved, x.dtype.compute)
    n = x._shape[d]
    return moved._shape, d, buf, (numel(moved._shape) // n) if n else numel(moved._shape[:-1]), n


def _outputs(x, moved_shape, d, k, values=True):
    shape = moved_shape[:-1] + (k,)
    cnp = x.dtype.compute
    vals = empty_buffer(numel(shape), cnp, x.device) if values else None
    idx = empty_buffer(numel(shape), np.int64, x.device)
    return shape, vals, idx


def _back(x, buf, shape, d, dtype):
    """A tensor from a moved-layout buffer, viewed back so ``d`` is where it was."""
    buf = cast_flat(buf, dtype.np, x.device)
    t = Tensor._from_buffer(buf, shape, dtype, x.device)
    if x.ndim == 0:
        return t.reshape(())
    return t.movedim(-1, d) if d != x.ndim - 1 else t


def _index_backward(name, vals, idx, x, d, keepdim=True):
    if needs_grad(x):
        shape = x._shape

        def bw(node, g, gi=None):
            from .creation import zeros
            (ix,) = node.saved_tensors
            gg = g
            if not keepdim and x.ndim:
                gg, ix = g.unsqueeze(d), ix.unsqueeze(d)
            if not x.ndim:
                return (g.reshape(shape),)
            return (zeros(shape, dtype=g.dtype, device=g.device).scatter(d, ix, gg),)
        record(name, (vals, idx), (x,), bw, save=(idx,))


def sort(input, dim=-1, descending=False, stable=False, *, out=None):
    moved, d, buf, rows, n = _rows(input, dim)
    shape, vals, idx = _outputs(input, moved, d, n)
    _ks.sort(buf, rows, n, bool(descending), bool(stable), vals, idx)
    v, i = _back(input, vals, shape, d, input.dtype), _back(input, idx, shape, d, _dt.int64)
    _index_backward("SortBackward0", v, i, input, d)
    return _RT_sort((v, i))


def argsort(input, dim=-1, descending=False, stable=False):
    moved, d, buf, rows, n = _rows(input, dim)
    shape, _, idx = _outputs(input, moved, d, n, values=False)
    _ks.argsort(buf, rows, n, bool(descending), bool(stable), idx)
    return _back(input, idx, shape, d, _dt.int64)


def msort(input):
    return sort(input, 0)[0]


def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    d = wrap_dim(dim, input.ndim)
    size = input._shape[d] if input.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    moved, d, buf, rows, n = _rows(input, d)
    shape, vals, idx = _outputs(input, moved, d, k)
    _ks.topk(buf, rows, n, k, bool(largest), bool(sorted), vals, idx)
    v, i = _back(input, vals, shape, d, input.dtype), _back(input, idx, shape, d, _dt.int64)
    _index_backward("TopkBackward0", v, i, input, d)
    return _RT_topk((v, i))


def _select_one(kernel, name, rt, input, dim, keepdim, k=None):
    d = wrap_dim(dim, input.ndim)
    if input.ndim and input._shape[d] == 0:
        raise IndexError(f"{name.lower()}(): Expected reduction dim {d} to have non-zero size.")
    moved, d, buf, rows, n = _rows(input, d)
    shape, vals, idx = _outputs(input, moved, d, 1)
    if k is None:
        kernel(buf, rows, n, vals, idx)
    else:
        kernel(buf, rows, n, k, vals, idx)
    v, i = _back(input, vals, shape, d, input.dtype), _back(input, idx, shape, d, _dt.int64)
    if not keepdim and input.ndim:
        v, i = v.squeeze(d), i.squeeze(d)
    _index_backward(name + "Backward0" if name != "Median" and name != "Nanmedian" else name + "Backward1",
                    v, i, input, d, keepdim)
    return rt((v, i))


def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    d = wrap_dim(dim, input.ndim)
    size = input._shape[d] if input.ndim else 1
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    return _select_one(_ks.kthvalue, "Kthvalue", _RT_kth, input, d, keepdim, k)


def _median_all(input, kernel, name):
    if input.numel() == 0:
        from .creation import tensor
        return tensor(float("nan"), dtype=input.dtype)
    flat = input.reshape(-1)
    r = _select_one(kernel, name, _RT_median, flat.detach(), 0, False)[0]
    if needs_grad(input):
        def bw(node, g):
            xi, y = node.saved_tensors
            mask = xi == y
            return (g * mask / mask.sum(),)
        record(name + "Backward0", r, (input,), bw, save=(input,), save_outputs=(0,))
    return r


def median(input, dim=None, keepdim=False, *, out=None):
    if dim is None:
        return _median_all(input, _ks.median, "Median")
    return _select_one(_ks.median, "Median", _RT_median, input, dim, keepdim)


def nanmedian(input, dim=None, keepdim=False, *, out=None):
    if dim is None:
        return _median_all(input, _ks.nanmedian, "Nanmedian")
    return _select_one(_ks.nanmedian, "Nanmedian", _RT_nanmedian, input, dim, keepdim)


def mode(input, dim=-1, keepdim=False, *, out=None):
    return _select_one(_ks.mode, "Mode", _RT_mode, input, dim, keepdim)


def _unique_impl(input, consecutive, sorted, return_inverse, return_counts, dim):
    if dim is not None:
        return _unique_dim(input, dim, return_inverse, return_counts)
    buf = _cast_contiguous(input, input.dtype.compute)
    vals, inverse, counts = (_ks.unique_consecutive if consecutive else _ks.unique)(buf)
    dev = input.device
    out = [Tensor._from_buffer(cast_flat(vals, input.dtype.np, dev), (len(vals),), input.dtype, dev)]
    if return_inverse:
        out.append(Tensor._from_buffer(cast_flat(inverse, np.int64, dev), input._shape, _dt.int64, dev))
    if return_counts:
        out.append(Tensor._from_buffer(cast_flat(counts, np.int64, dev), (len(counts),), _dt.int64, dev))
    return out[0] if len(out) == 1 else tuple(out)


def _unique_dim(input, dim, return_inverse, return_counts):
    # Unique slices along a dim: rare and small in practice, so NumPy does the bookkeeping.
    d = wrap_dim(dim, input.ndim)
    input._cpu_only("unique(dim=...)")
    a = np.moveaxis(input._host_values(), d, 0)
    vals, inv, cnt = np.unique(a.reshape(a.shape[0], -1), axis=0, return_inverse=True, return_counts=True)
    vals = np.moveaxis(vals.reshape((-1,) + a.shape[1:]), 0, d)
    from .creation import tensor
    out = [tensor(np.ascontiguousarray(vals), dtype=input.dtype)]
    if return_inverse:
        out.append(tensor(inv.reshape(-1), dtype=_dt.int64))
    if return_counts:
        out.append(tensor(cnt, dtype=_dt.int64))
    return out[0] if len(out) == 1 else tuple(out)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    return _unique_impl(input, False, sorted, return_inverse, return_counts, dim)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    return _unique_impl(input, True, True, return_inverse, return_counts, dim)
