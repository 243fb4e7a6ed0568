"""Metadata-only views (no copies), each recording PyTorch's grad_fn when autograd is on."""
import operator

import numpy as np

from . import fastpath as _fp
from .autograd.graph import needs_grad, record
from .shape import (Size, as_shape, broadcast_shapes, contiguous_strides, infer_size, numel, view_strides,
                    wrap_dim, wrap_dims)


def _rec(name, out, x, backward, ctx=None):
    if needs_grad(x):
        record(name, out, (x,), backward, ctx=ctx)
    return out


def _reshape_grad(node, g):
    return (g.reshape(node._input_meta[0][0]),)


def _view_error():
    raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one dimension "
                       "spans across two contiguous subspaces). Use .reshape(...) instead.")


def view_dtype(x, dtype):
    """``x.view(dtype)``: the same bytes read as ``dtype`` (PyTorch's rules for other element sizes: the
    last dim scales, other strides and the offset must divide). Not differentiable, like PyTorch's."""
    from .dtypes import to_dtype
    from .storage import Storage
    from .tensor import Tensor
    dt = to_dtype(dtype)
    old, new = x.dtype.itemsize, dt.itemsize
    if dt is x.dtype:
        return x._alias()
    x._cpu_only("view(dtype)")
    shape, stride, off = list(x._shape), list(x._stride), x._offset
    if old != new:
        what = f"to view {x.dtype.legacy[:-6]} as {dt.legacy[:-6]} (different element sizes)"
        if not shape:
            raise RuntimeError(f"self.dim() cannot be 0 {what}")
        if stride[-1] != 1:
            raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got {stride[-1]}")
        if new < old:
            r = old // new
            shape[-1] *= r
            stride = [s * r for s in stride[:-1]] + [1]
            off *= r
        else:
            r = new // old
            if shape[-1] % r:
                raise RuntimeError(f"self.size(-1) must be divisible by {r} {what}, but got {shape[-1]}")
            if off % r:
                raise RuntimeError(f"self.storage_offset() must be divisible by {r} {what}, but got {off}")
            for d, s in enumerate(stride[:-1]):
                if s % r:
                    raise RuntimeError(f"self.stride({d}) must be divisible by {r} {what}, but got {s}")
            shape[-1] //= r
            stride = [s // r for s in stride[:-1]] + [1]
            off //= r
    raw = x._storage.data.view(np.uint8)
    buf = raw[:len(raw) // new * new].view(dt.np)
    t = Tensor._make(Storage(buf), tuple(shape), tuple(stride), off, dt, x._vc)
    t._base = x if x._base is None else x._base
    return t


def view(x, *shape):
    if x.__class__ in _fp._FAST and not needs_grad(x):
        v = _fp.view_contiguous(x, shape[0] if len(shape) == 1 and shape[0].__class__ in (tuple, Size) else shape)
        if v is not None:
            return v
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list, Size)) and hasattr(shape[0], "np"):
        return view_dtype(x, shape[0])
    shape = infer_size(as_shape(shape), x.numel())
    st = view_strides(x._shape, x._stride, shape)
    if st is None:
        _view_error()
    return _rec("ViewBackward0", x._view_of(shape, st, x._offset), x, _reshape_grad)


def reshape(x, *shape):
    shape = infer_size(as_shape(shape), x.numel())
    st = view_strides(x._shape, x._stride, shape)
    if st is not None:
        return _rec("ViewBackward0", x._view_of(shape, st, x._offset), x, _reshape_grad)
    c = x.clone()
    out = c.detach()._view_of(shape, contiguous_strides(shape), 0)
    out._base = None
    return _rec("UnsafeViewBackward0", out, c, _reshape_grad) if needs_grad(c) else out


def view_as(x, other):
    return view(x, other.shape)


def reshape_as(x, other):
    return reshape(x, other.shape)


def flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return reshape(x, 1)
    s, e = wrap_dim(start_dim, x.ndim), wrap_dim(end_dim, x.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return x
    shp = x._shape
    return reshape(x, shp[:s] + (numel(shp[s:e + 1]),) + shp[e + 1:])


def unflatten(x, dim, sizes):
    d = wrap_dim(dim, x.ndim)
    sizes = infer_size(tuple(sizes), x._shape[d])
    return view(x, x._shape[:d] + tuple(sizes) + x._shape[d + 1:]) if \
        view_strides(x._shape, x._stride, x._shape[:d] + tuple(sizes) + x._shape[d + 1:]) is not None else \
        reshape(x, x._shape[:d] + tuple(sizes) + x._shape[d + 1:])


def _perm_grad(node, g):
    inv = [0] * len(node.ctx)
    for i, p in enumerate(node.ctx):
        inv[p] = i
    return (permute(g, inv),)


def permute(x, *dims):
    dims = as_shape(dims)
    if len(dims) != x.ndim:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           f"length of the desired ordering of dimensions i.e. input.dim() = {x.ndim} is not equal "
                           f"to len(dims) = {len(dims)}")
    dims = wrap_dims(dims, x.ndim)
    out = x._view_of(tuple(x._shape[d] for d in dims), tuple(x._stride[d] for d in dims), x._offset)
    return _rec("PermuteBackward0", out, x, _perm_grad, ctx=dims)


def _transpose_view(x, d0, d1):
    shp, st = list(x._shape), list(x._stride)
    shp[d0], shp[d1] = shp[d1], shp[d0]
    st[d0], st[d1] = st[d1], st[d0]
    return x._view_of(shp, st, x._offset)


def _transpose_grad(node, g):
    return (transpose(g, *node.ctx),)


def transpose(x, dim0, dim1):
    d0, d1 = wrap_dim(dim0, x.ndim), wrap_dim(dim1, x.ndim)
    return _rec("TransposeBackward0", _transpose_view(x, d0, d1), x, _transpose_grad, ctx=(d0, d1))


def t(x):
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    out = _transpose_view(x, 0, 1) if x.ndim == 2 else x._view_of(x._shape, x._stride, x._offset)
    return _rec("TBackward0", out, x, lambda node, g: (t(g),))


def T(x):
    return permute(x, *range(x.ndim - 1, -1, -1))


def mT(x):
    if x.ndim < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.")
    return transpose(x, -2, -1)


def movedim(x, source, destination):
    src = wrap_dims(source if isinstance(source, (tuple, list)) else (source,), x.ndim)
    dst = wrap_dims(destination if isinstance(destination, (tuple, list)) else (destination,), x.ndim)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} dims) should "
                           f"contain the same number of dims as destination ({list(dst)} dims)")
    order = [None] * x.ndim
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(i for i in range(x.ndim) if i not in src)
    order = [o if o is not None else next(rest) for o in order]
    return permute(x, order)


def _squeeze_grad(node, g):
    return (g.reshape(node._input_meta[0][0]),)


def squeeze(x, dim=None):
    if dim is None:
        keep = [i for i, s in enumerate(x._shape) if s != 1]
        name = "SqueezeBackward0"
    else:
        dims = wrap_dims(dim, x.ndim) if x.ndim else ()
        keep = [i for i, s in enumerate(x._shape) if not (i in dims and s == 1)]
        name = "SqueezeBackward1" if not isinstance(dim, (tuple, list)) else "SqueezeBackward2"
    out = x._view_of(tuple(x._shape[i] for i in keep), tuple(x._stride[i] for i in keep), x._offset)
    return _rec(name, out, x, _squeeze_grad)


def unsqueeze(x, dim):
    d = wrap_dim(dim, x.ndim + 1, scalar_ok=False)
    shp, st = list(x._shape), list(x._stride)
    new_st = st[d] * shp[d] if d < x.ndim else 1
    shp.insert(d, 1)
    st.insert(d, new_st)
    return _rec("UnsqueezeBackward0", x._view_of(shp, st, x._offset), x, _squeeze_grad)


def _expand_grad(node, g):
    return (g,)   # the engine sums over broadcast dims (central un-broadcast)


def expand(x, *sizes):
    sizes = as_shape(sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(x._shape)}}}, size={list(sizes)}): the number of sizes "
                           f"provided ({len(sizes)}) must be greater or equal to the number of dimensions in the "
                           f"tensor ({x.ndim})")
    off = len(sizes) - x.ndim
    shp, st = [], []
    for i, s in enumerate(sizes):
        if i < off:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a leading, "
                                   f"non-existing dimension {i}")
            shp.append(s)
            st.append(0)
            continue
        cur, cst = x._shape[i - off], x._stride[i - off]
        if s == -1:
            s = cur
        if cur == s:
            shp.append(s)
            st.append(cst)
        elif cur == 1:
            shp.append(s)
            st.append(0)
        else:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size ({cur}) at "
                               f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                               f"{list(x._shape)}")
    return _rec("ExpandBackward0", x._view_of(shp, st, x._offset), x, _expand_grad)


def expand_as(x, other):
    return expand(x, other.shape)


def broadcast_to(x, size):
    return expand(x, size)


def broadcast_tensors(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    shape = broadcast_shapes(*(t._shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


def _slice_grad(node, g):
    from .creation import zeros
    shape, dt, dev = node._input_meta[0]
    z = zeros(shape, dtype=dt, device=dev)
    node.ctx(z).copy_(g)
    return (z,)


def _slice_view(x, dim, start, stop, step):
    n = x._shape[dim]
    start, stop, _ = slice(start, stop, step).indices(n)
    length = max(0, (stop - start + step - 1) // step)
    shp, st = list(x._shape), list(x._stride)
    shp[dim] = length
    st[dim] = st[dim] * step
    return x._view_of(shp, st, x._offset + (start * x._stride[dim] if length else 0))


def slice_dim(x, dim, start, stop, step=1):
    """``x[..., start:stop:step, ...]`` along ``dim`` (SliceBackward0)."""
    if step <= 0:
        raise ValueError("step must be greater than zero")
    out = _slice_view(x, dim, start, stop, step)
    return _rec("SliceBackward0", out, x, _slice_grad,
                ctx=lambda z, d=dim, a=start, b=stop, s=step: _slice_view(z, d, a, b, s))


def narrow(x, dim, start, length):
    d = wrap_dim(dim, x.ndim)
    start = operator.index(start)
    n = x._shape[d]
    if start < 0:
        start += n
    if not 0 <= start <= n or length < 0 or start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return slice_dim(x, d, start, start + length)


def _select_view(x, dim, index):
    shp, st = list(x._shape), list(x._stride)
    off = x._offset + index * st[dim]
    del shp[dim], st[dim]
    return x._view_of(shp, st, off)


def select(x, dim, index):
    if x.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, x.ndim)
    n = x._shape[d]
    index = operator.index(index)
    if not -n <= index < n:
        raise IndexError(f"index {index} is out of bounds for dimension {d} with size {n}")
    index %= n
    return _rec("SelectBackward0", _select_view(x, d, index), x, _slice_grad,
                ctx=lambda z, d=d, i=index: _select_view(z, d, i))


def _multi_grad(node, *grads):
    from .creation import zeros
    shape, dt, dev = node._input_meta[0]
    z = zeros(shape, dtype=dt, device=dev)
    for view_fn, g in zip(node.ctx, grads):
        if g is not None:
            view_fn(z).copy_(g)
    return (z,)


def _record_multi(name, outs, x, view_fns):
    if needs_grad(x):
        record(name, outs, (x,), _multi_grad, ctx=view_fns)
    return outs


def _pieces(x, d, bounds, name):
    outs = tuple(_slice_view(x, d, a, b, 1) for a, b in bounds)
    fns = [lambda z, a=a, b=b: _slice_view(z, d, a, b, 1) for a, b in bounds]
    return _record_multi(name, outs, x, fns)


def split(x, split_size_or_sections, dim=0):
    d = wrap_dim(dim, x.ndim)
    n = x._shape[d]
    if isinstance(split_size_or_sections, int):
        s = split_size_or_sections
        if s < 0 or (s == 0 and n != 0):
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        bounds = [(i, min(i + s, n)) for i in range(0, n, s)] if s else [(0, 0)]
        return _pieces(x, d, bounds or [(0, 0)], "SplitBackward0")
    sizes = list(split_size_or_sections)
    if sum(sizes) != n or any(s < 0 for s in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                           f"dimension {d}), but got split_sizes={sizes}")
    bounds, a = [], 0
    for s in sizes:
        bounds.append((a, a + s))
        a += s
    return _pieces(x, d, bounds, "SplitWithSizesBackward0")


def chunk(x, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = wrap_dim(dim, x.ndim)
    n = x._shape[d]
    if n == 0:          # PyTorch returns `chunks` empty pieces
        return _pieces(x, d, [(0, 0)] * chunks, "SplitBackward0")
    return split(x, -(-n // chunks), d)


def tensor_split(x, indices_or_sections, dim=0):
    d = wrap_dim(dim, x.ndim)
    n = x._shape[d]
    ios = indices_or_sections
    if hasattr(ios, "tolist") and not isinstance(ios, int):
        ios = ios.tolist()
    if isinstance(ios, int):
        if ios <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {ios}")
        q, r = divmod(n, ios)
        bounds, a = [], 0
        for i in range(ios):
            s = q + (1 if i < r else 0)
            bounds.append((a, a + s))
            a += s
    else:
        pts = [0] + [min(max(i if i >= 0 else i + n, 0), n) for i in ios] + [n]
        bounds = [(pts[i], max(pts[i], pts[i + 1])) for i in range(len(pts) - 1)]
    return _pieces(x, d, bounds, "SliceBackward0") if len(bounds) else ()


def unbind(x, dim=0):
    if x.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = wrap_dim(dim, x.ndim)
    outs = tuple(_select_view(x, d, i) for i in range(x._shape[d]))
    fns = [lambda z, i=i: _select_view(z, d, i) for i in range(x._shape[d])]
    return _record_multi("UnbindBackward0", outs, x, fns)


def _diag_view(x, offset, d1, d2):
    shp, st = list(x._shape), list(x._stride)
    off = x._offset
    if offset >= 0:
        n = max(0, min(shp[d1], shp[d2] - offset))
        off += offset * st[d2] if n else 0
    else:
        n = max(0, min(shp[d1] + offset, shp[d2]))
        off += -offset * st[d1] if n else 0
    dst = st[d1] + st[d2]
    for d in sorted((d1, d2), reverse=True):
        del shp[d], st[d]
    return x._view_of(shp + [n], st + [dst], off)


def diagonal(x, offset=0, dim1=0, dim2=1):
    d1, d2 = wrap_dim(dim1, x.ndim), wrap_dim(dim2, x.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return _rec("DiagonalBackward0", _diag_view(x, offset, d1, d2), x, _slice_grad,
                ctx=lambda z: _diag_view(z, offset, d1, d2))


def as_strided(x, size, stride, storage_offset=None):
    size, stride = tuple(size), tuple(stride)
    off = x._offset if storage_offset is None else storage_offset
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise RuntimeError("as_strided: Negative strides are not supported at the moment, got strides: "
                           f"{list(stride)}")
    need = off + sum((n - 1) * s for n, s in zip(size, stride)) + 1 if numel(size) else 0
    if need > len(x._storage):
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {off}, and "
                           f"itemsize {x.dtype.itemsize} requiring a storage size of {need * x.dtype.itemsize} "
                           f"are out of bounds for storage of size {len(x._storage) * x.dtype.itemsize}")
    return _rec("AsStridedBackward0", x._view_of(size, stride, off), x, _slice_grad,
                ctx=lambda z: z._view_of(size, stride, off - x._offset + z._offset))


def swapaxes(x, a, b):
    return transpose(x, a, b)


def alias(x):
    return _rec("AliasBackward0", x._view_of(x._shape, x._stride, x._offset), x, lambda n, g: (g,))
