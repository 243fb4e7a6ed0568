"""Masked ops (masked_fill / masked_select / masked_scatter), nonzero and argwhere."""
import numpy as np

from . import dtypes as _dt
from . import ops as _ops
from ._index_util import _contig_buf, _done, _inplace, _need_tensor, _new, _number, _pad_to, _scalar, _zeros
from .kernels import index as _ix
from .storage import empty_buffer
from .kernels import index_extra as _ixx
from .shape import broadcast_shapes, broadcast_strides, contiguous_strides, numel
from .tensor import Tensor

__all__ = ["masked_select", "masked_fill", "masked_scatter", "nonzero", "argwhere"]

_CNAME = {"uint8": "unsigned char", "int8": "signed char", "int16": "short int", "int32": "int",
          "int64": "long int", "float16": "c10::Half", "float32": "float", "float64": "double"}


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
    _ops._check_device(x, mask, value)
    if inplace:
        _ops.check_inplace(x)
        _inplace_shape(x, mask)
        t = x
    else:
        t = _new(broadcast_shapes(x._shape, mask._shape), x.dtype, dev=x.device)
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


def _bcast_buf(t, shape, np_dtype=None, fresh=False):
    """t broadcast to ``shape`` as a flat contiguous buffer (``fresh``: never a view of t)."""
    if t._shape == tuple(shape) and not fresh:
        return _contig_buf(t, np_dtype)
    out = empty_buffer(numel(shape), t.dtype.np if np_dtype is None else np_dtype, t.device)
    _ix.copy_strided(t._storage.data, t._offset, broadcast_strides(t._shape, t._stride, shape), out, 0,
                     contiguous_strides(shape), shape)
    return out


def _bw_masked_select(node, g):
    (mask,) = node.saved_tensors
    return (masked_scatter(_zeros(node.ctx, g.dtype, g.device), mask, g),)


def masked_select(input, mask, *, out=None):
    _need_tensor(mask, "masked_select", "mask", 1)
    if mask.dtype is not _dt.bool:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = broadcast_shapes(mask._shape, input._shape)
    _ops._check_device(input, mask)
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
        buf = _bcast_buf(x, shape, fresh=True)
    _ops._check_device(x, mask, source)
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


# ----------------------------------------------------------------------------- nonzero
def nonzero(input, *, out=None, as_tuple=False):
    coords = _ix.nonzero(input._storage.data, input._offset, input._stride, input._shape)
    if as_tuple:
        if not input.ndim:
            return (_zeros((coords.shape[0],), _dt.int64, input.device),)
        res = _new(coords.shape, _dt.int64, coords.reshape(coords.size), input.device)
        return tuple(_ops.clone(res[:, j]) for j in range(coords.shape[1]))
    res = _new(coords.shape, _dt.int64, coords.reshape(coords.size), input.device)
    return _ops._to_out(res, out) if out is not None else res


def argwhere(input):
    return nonzero(input)
