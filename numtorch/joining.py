"""Joining copies: cat/concat/concatenate, stack, hstack/vstack/row_stack/dstack/column_stack,
atleast_{1,2,3}d, meshgrid, cartesian_prod, block_diag. The rearranging copies (flip/roll/rot90,
repeat/tile/repeat_interleave, tril/triu, diag/diag_embed/trace) live in rearranging.py and are re-exported
here, so ``numtorch.joining`` still serves method binding and the ``torch.<name>`` namespace.

cat writes each piece into a narrow view of one output through the compiled strided copy (casts included);
backward formulas use numtorch ops, so double backward works."""
import operator
import warnings
from functools import reduce

from . import dtypes as _dt
from . import ops as _ops
from . import views as _views
from .autograd.graph import needs_grad, record
from .rearranging import (_block, _empty, _finish, _zeros, diag, diag_embed, flip, fliplr, flipud,  # noqa: F401
                          repeat, repeat_interleave, roll, rot90, tile, trace, tril, tril_, triu, triu_)
from .shape import wrap_dim
from .tensor import Tensor

__all__ = ["cat", "concat", "concatenate", "stack", "hstack", "vstack", "row_stack", "dstack", "column_stack",
           "flip", "fliplr", "flipud", "roll", "tile", "tril", "triu", "repeat_interleave", "rot90", "diag",
           "diag_embed", "trace", "meshgrid", "cartesian_prod", "block_diag", "atleast_1d", "atleast_2d",
           "atleast_3d"]


# -- helpers ----------------------------------------------------------------------------------------

def _narrow_raw(t, d, start, n):
    shp = list(t._shape)
    shp[d] = n
    return t._view_of(shp, t._stride, t._offset + start * t._stride[d])


def _tensors(tensors, fname):
    if isinstance(tensors, Tensor):
        raise TypeError(f"{fname}(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor")
    ts = list(tensors)
    for i, t in enumerate(ts):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    return ts


def _common(ts):
    return reduce(_dt.promote_types, [t.dtype for t in ts]), _ops._check_device(*ts)


def _int(v, fname, arg):
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f"{fname}(): argument '{arg}' must be int, not {type(v).__name__}") from None


# -- cat / stack family -----------------------------------------------------------------------------

def _bw_cat(node, g):
    d, bounds = node.ctx
    return tuple(None if b is None else _views.narrow(g, d, b[0], b[1]) for b in bounds)


def cat(tensors, dim=0, *, out=None):
    """Concatenate along ``dim``; legacy 1-D empty tensors are skipped; dtypes promote."""
    ts = _tensors(tensors, "cat")
    if not ts:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    dim = _int(dim, "cat", "dim")
    for i, t in enumerate(ts):
        if t.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    dt, dev = _common(ts)
    keep = [i for i, t in enumerate(ts) if t._shape != (0,)]
    bounds = [None] * len(ts)
    if not keep:
        res, d = _empty((0,), dt, dev), 0
    else:
        first = ts[keep[0]]
        d = wrap_dim(dim, first.ndim)
        total = 0
        for i in keep:
            t = ts[i]
            if t.ndim != first.ndim:
                raise RuntimeError(f"Tensors must have same number of dimensions: got {first.ndim} and {t.ndim}")
            for k in range(first.ndim):
                if k != d and t._shape[k] != first._shape[k]:
                    raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size "
                                       f"{first._shape[k]} but got size {t._shape[k]} for tensor number {i} in "
                                       "the list.")
            bounds[i] = (total, t._shape[d])
            total += t._shape[d]
        res = _empty(first._shape[:d] + (total,) + first._shape[d + 1:], dt, dev)
        for i in keep:
            if bounds[i][1]:
                _ops._copy_data(_narrow_raw(res, d, *bounds[i]), ts[i])
    if needs_grad(*ts):
        record("CatBackward0", res, tuple(ts), _bw_cat, ctx=(d, bounds))
    return _finish(res, out, "cat")


def concat(tensors, dim=0, *, out=None):
    return cat(tensors, dim, out=out)


def concatenate(tensors, axis=0, out=None):
    return cat(tensors, axis, out=out)


def stack(tensors, dim=0, *, out=None):
    """Join equal-shaped tensors along a new dimension ``dim``."""
    ts = _tensors(tensors, "stack")
    if not ts:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape0 = ts[0]._shape
    for i, t in enumerate(ts):
        if t._shape != shape0:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shape0)} at entry 0 and "
                               f"{list(t._shape)} at entry {i}")
    d = wrap_dim(_int(dim, "stack", "dim"), len(shape0) + 1)
    dt, dev = _common(ts)
    res = _empty(shape0[:d] + (len(ts),) + shape0[d:], dt, dev)
    for i, t in enumerate(ts):
        _ops._copy_data(_views._select_view(res, d, i), t)
    if needs_grad(*ts):
        n = len(ts)
        record("StackBackward0", res, tuple(ts), lambda node, g: tuple(_views.select(g, d, i) for i in range(n)))
    return _finish(res, out, "stack")


def _nonempty(tensors, fname):
    ts = _tensors(tensors, fname)
    if not ts:
        raise RuntimeError(f"{fname} expects a non-empty TensorList")
    return ts


def hstack(tensors, *, out=None):
    ts = _atleast(_nonempty(tensors, "hstack"), 1)
    return cat(ts, 0 if ts[0].ndim == 1 else 1, out=out)


def vstack(tensors, *, out=None):
    return cat(_atleast(_nonempty(tensors, "vstack"), 2), 0, out=out)


row_stack = vstack


def dstack(tensors, *, out=None):
    return cat(_atleast(_nonempty(tensors, "dstack"), 3), 2, out=out)


def column_stack(tensors, *, out=None):
    ts = [t.reshape(t.numel(), 1) if t.ndim <= 1 else t for t in _nonempty(tensors, "column_stack")]
    return hstack(ts, out=out)


def _at1(t, n):
    if t.ndim >= n:
        return t
    if t.ndim == 0:
        return t.reshape((1,) * n)
    if n == 2 or t.ndim == 2:
        return t.unsqueeze(0) if n == 2 else t.unsqueeze(-1)
    return t.unsqueeze(0).unsqueeze(-1)


def _atleast(ts, n):
    return tuple(_at1(t, n) for t in ts)


def _atleast_api(tensors, n):
    if len(tensors) == 1 and isinstance(tensors[0], Tensor):
        return _at1(tensors[0], n)
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    return _atleast(_tensors(tensors, f"atleast_{n}d"), n)


def atleast_1d(*tensors):
    return _atleast_api(tensors, 1)


def atleast_2d(*tensors):
    return _atleast_api(tensors, 2)


def atleast_3d(*tensors):
    return _atleast_api(tensors, 3)


# -- grids and blocks -------------------------------------------------------------------------------

def meshgrid(*tensors, indexing=None):
    """Coordinate grids (expanded views); 'ij' (default, with PyTorch's warning) or 'xy'."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    ts = _tensors(tensors, "meshgrid")
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    if not ts:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in ts:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t}")
        if t.dtype is not ts[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
        if t.device != ts[0].device:
            raise RuntimeError("meshgrid expects all tensors to have the same device")
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = [t.numel() for t in ts]
    grids = []
    for i, t in enumerate(ts):
        vs = [1] * len(ts)
        vs[i] = -1
        grids.append(t.view(vs).expand(shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def cartesian_prod(*tensors):
    ts = _tensors(tensors, "cartesian_prod")
    for t in ts:
        if t.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t._shape)}")
    if len(ts) == 1:
        return ts[0]
    return stack([g.flatten() for g in meshgrid(*ts, indexing="ij")], 1)


def block_diag(*tensors):
    """Block-diagonal matrix of 0-, 1- (a row) and 2-D tensors; dtypes promote."""
    ts = _tensors(tensors, "block_diag")
    mats = []
    for i, t in enumerate(ts):
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{t.ndim} dimensions")
        shp = t._shape if t.ndim == 2 else (1, t._shape[0]) if t.ndim == 1 else (1, 1)
        st = t._stride if t.ndim == 2 else (0, t._stride[0]) if t.ndim == 1 else (0, 0)
        mats.append(t._view_of(shp, st, t._offset))
    dt, dev = _common(ts) if ts else (_dt.get_default_dtype(), None)
    rows = sum(m._shape[0] for m in mats) if mats else 1
    res = _zeros((rows, sum(m._shape[1] for m in mats)), dt, dev)
    r = c = 0
    spans = []
    for m in mats:
        _ops._copy_data(_block(res, (r, c), m._shape), m)
        spans.append((r, c) + m._shape)
        r, c = r + m._shape[0], c + m._shape[1]
    if needs_grad(*ts):
        def bw(node, g):
            return tuple(g.narrow(0, a, m).narrow(1, b, n).reshape(meta[0])
                         for (a, b, m, n), meta in zip(spans, node._input_meta))
        record("BlockDiagBackward0", res, tuple(ts), bw)
    return res
