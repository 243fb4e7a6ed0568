"""Pure shape/stride math: broadcasting, dim wrapping, view feasibility. No tensors, no kernels."""
import operator


class Size(tuple):
    """``torch.Size``: a tuple that prints as ``torch.Size([2, 3])``."""
    __slots__ = ()

    def __repr__(self):
        return f"torch.Size({list(self)})"

    __str__ = __repr__

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, i):
        r = tuple.__getitem__(self, i)
        return Size(r) if isinstance(i, slice) else r

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))


def numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


_CS = {}


def contiguous_strides(shape):
    if shape.__class__ is not tuple:
        shape = tuple(shape)
    r = _CS.get(shape)
    if r is not None:
        return r
    r = _contiguous_strides(shape)
    if len(_CS) < 4096:
        _CS[tuple(shape)] = r
    return r


def _contiguous_strides(shape):
    strides = [0] * len(shape)
    acc = 1
    for i in range(len(shape) - 1, -1, -1):
        strides[i] = acc
        acc *= max(shape[i], 1)
    return tuple(strides)


def is_contiguous(shape, strides):
    acc = 1
    for i in range(len(shape) - 1, -1, -1):
        s = shape[i]
        if s == 1:
            continue
        if s == 0:
            return True
        if strides[i] != acc:
            return False
        acc *= s
    return True


def wrap_dim(dim, ndim, scalar_ok=True):
    """PyTorch's dim wrapping: 0-d tensors accept dims -1 and 0."""
    try:
        dim = operator.index(dim)
    except TypeError:
        raise TypeError(f"dim must be an int, got {type(dim).__name__}") from None
    n = ndim if ndim > 0 or not scalar_ok else 1
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim + n if dim < 0 else dim


def wrap_dims(dims, ndim):
    """Normalise an int / tuple / list of dims; repeated dims raise like PyTorch."""
    if isinstance(dims, (list, tuple)):
        out = tuple(wrap_dim(d, ndim) for d in dims)
    else:
        out = (wrap_dim(dims, ndim),)
    if len(set(out)) != len(out):
        d = next(d for d in out if out.count(d) > 1)
        raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return out


def as_shape(args):
    """Accept ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(Size)`` like PyTorch factories."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    try:
        shape = tuple(operator.index(a) for a in args)
    except TypeError:
        bad = next(a for a in args if not hasattr(a, "__index__"))
        raise TypeError(f"expected a sequence of integers or a single integer, got '{bad!r}'") from None
    return shape


def check_size_nonneg(shape):
    for s in shape:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(shape)}")


def broadcast_shapes(*shapes):
    """Right-aligned broadcasting, folded pairwise from the left with PyTorch's error text."""
    out = tuple(shapes[0])
    for s in shapes[1:]:
        out = _infer_size(out, tuple(s))
    return out


def _infer_size(a, b):
    if a == b:
        return a
    ndim = max(len(a), len(b))
    out = [1] * ndim
    for i in range(ndim - 1, -1, -1):
        off = ndim - 1 - i
        sa = a[len(a) - 1 - off] if len(a) - 1 - off >= 0 else 1
        sb = b[len(b) - 1 - off] if len(b) - 1 - off >= 0 else 1
        if sa != sb and sa != 1 and sb != 1:
            raise RuntimeError(f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) "
                               f"at non-singleton dimension {i}")
        out[i] = sb if sa == 1 else sa
    return tuple(out)


def broadcast_strides(shape, strides, target):
    """Strides of a tensor broadcast (stride 0) to ``target``; assumes compatibility."""
    off = len(target) - len(shape)
    out = [0] * len(target)
    for i, (s, st) in enumerate(zip(shape, strides)):
        out[off + i] = 0 if (s == 1 and target[off + i] != 1) else st
    return tuple(out)


def infer_size(shape, n):
    """Resolve one -1 in a view/reshape target, with PyTorch's errors."""
    shape = tuple(shape)
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for s in shape:
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s}")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if neg:
        if known == 0 or n % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {n}")
        shape = shape[:neg[0]] + (n // known,) + shape[neg[0] + 1:]
    elif known != n:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {n}")
    return shape


def view_strides(old_shape, old_strides, new_shape):
    """Strides for viewing (old_shape, old_strides) as new_shape, or None (PyTorch's computeStride)."""
    if not old_shape:
        return (1,) * len(new_shape)
    n = numel(old_shape)
    if n == 0:
        return contiguous_strides(new_shape)
    new_strides = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    chunk_base_stride = old_strides[-1]
    tensor_numel = 1
    view_numel = 1
    for tensor_d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[tensor_d]
        if tensor_d == 0 or (old_shape[tensor_d - 1] != 1 and
                             old_strides[tensor_d - 1] != tensor_numel * chunk_base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new_strides[view_d] = view_numel * chunk_base_stride
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base_stride = old_strides[tensor_d - 1]
                tensor_numel = 1
                view_numel = 1
    if view_d != -1:
        return None
    return tuple(new_strides)
