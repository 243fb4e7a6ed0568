"""Less common Tensor methods scripts still reach for: unfold, new, sum_to_size, fill_diagonal_, renorm,
index_reduce, storage(), share_memory_, pin_memory, apply_/map_, conj/neg flags, dim_order, as_subclass."""
import mmap
import warnings
import weakref

import numpy as np

from . import dtypes as _dt
from .shape import wrap_dim
from .tensor import Tensor


def unfold(self, dimension, size, step):
    """Sliding windows of ``size`` every ``step`` along ``dimension``: a view with one more dim."""
    d = wrap_dim(dimension, max(self.ndim, 1))
    n = self._shape[d] if self.ndim else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    from .views import _rec
    if not self.ndim:
        shape, stride = (size,), (1,)
    else:
        shape = self._shape[:d] + ((n - size) // step + 1,) + self._shape[d + 1:] + (size,)
        stride = self._stride[:d] + (self._stride[d] * step,) + self._stride[d + 1:] + (self._stride[d],)
    in_shape, windows = self._shape, shape[d] if self.ndim else 1

    def bw(node, g):
        # Windows overlap when step < size: scatter-add every window element back to its position.
        from .creation import arange, zeros
        if not in_shape:
            return (g.sum(),)
        gm = g.movedim(d, -2)
        idx = (arange(windows, device=g.device).unsqueeze(1) * step + arange(size, device=g.device)).reshape(-1)
        base = zeros(gm.shape[:-2] + (n,), dtype=g.dtype, device=g.device)
        return (base.index_add(-1, idx, gm.reshape(gm.shape[:-2] + (windows * size,))).movedim(-1, d),)
    return _rec("UnfoldBackward0", self._view_of(shape, stride, self._offset), self, bw)


def new(self, *args, device=None):
    """Legacy ``x.new(...)``: same dtype/device; sizes give uninitialised data, a sequence gives values."""
    from .creation import empty, tensor
    dev = self.device if device is None else device
    if not args:
        return empty(0, dtype=self.dtype, device=dev)
    if len(args) == 1 and isinstance(args[0], Tensor):
        return args[0].detach()
    from .shape import Size
    if len(args) == 1 and isinstance(args[0], (list, tuple, np.ndarray)) and not isinstance(args[0], Size):
        return tensor(args[0], dtype=self.dtype, device=dev)
    return empty(*args, dtype=self.dtype, device=dev)


def new_empty_strided(self, size, stride, *, dtype=None, device=None, requires_grad=False, **kw):
    from .creation_extras import empty_strided
    return empty_strided(size, stride, dtype=self.dtype if dtype is None else dtype,
                         device=self.device if device is None else device, requires_grad=requires_grad)


def sum_to_size(self, *size):
    """Sum the broadcast dims of ``self`` down to ``size`` (the reverse of expand)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    from .shape import broadcast_shapes
    try:
        ok = broadcast_shapes(tuple(size), self._shape) == self._shape
    except RuntimeError:
        ok = False
    if not ok:
        raise RuntimeError(f"size {{{', '.join(map(str, size))}}} is not expandable to size "
                           f"{{{', '.join(map(str, self._shape))}}}.")
    lead = self.ndim - len(size)
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(size) if s == 1 and self._shape[lead + i] != 1)
    out = self.sum(dims, keepdim=True) if dims else self
    return out.reshape(size) if out._shape != tuple(size) else out


def fill_diagonal_(self, fill_value, wrap=False):
    if self.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    if self.ndim > 2 and len(set(self._shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    from .creation import tensor
    if self.ndim == 2:
        r, c = self._shape
        n = r * c if wrap and r > c + 1 else min(r, c) * (c + 1)
        pos = np.arange(0, n, c + 1)
        pos = pos[pos < r * c] if wrap else pos[:min(r, c)]
        idx = (tensor(pos // c), tensor(pos % c))
    else:
        k = tensor(np.arange(self._shape[0]))
        idx = (k,) * self.ndim
    self[idx] = fill_value
    return self


def renorm(self, p, dim, maxnorm):
    """Sub-tensors along ``dim`` whose p-norm exceeds ``maxnorm`` are rescaled to norm ``maxnorm``."""
    if self.ndim <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {self.ndim} dimensions")
    d = wrap_dim(dim, self.ndim)
    others = tuple(i for i in range(self.ndim) if i != d)
    norm = self.detach().norm(p, dim=others, keepdim=True)
    from .ops import where
    factor = where(norm > maxnorm, maxnorm / (norm + 1e-7), norm * 0 + 1)
    return self * factor


def renorm_(self, p, dim, maxnorm):
    from .autograd.grad_mode import no_grad
    with no_grad():
        res = renorm(self.detach(), p, dim, maxnorm)
    return self.copy_(res)


def _index_reduce_args(self, dim, index, source):
    d = wrap_dim(dim, max(self.ndim, 1))
    shape = [1] * source.ndim
    shape[d] = -1
    return d, index.reshape(shape).expand(source.shape)


def index_reduce(self, dim, index, source, reduce, *, include_self=True):
    d, idx = _index_reduce_args(self, dim, index, source)
    return self.scatter_reduce(d, idx, source, reduce, include_self=include_self)


def index_reduce_(self, dim, index, source, reduce, *, include_self=True):
    d, idx = _index_reduce_args(self, dim, index, source)
    return self.scatter_reduce_(d, idx, source, reduce, include_self=include_self)


class TypedStorage:
    """What ``Tensor.storage()`` returns: the tensor's storage seen as elements of its dtype."""
    __slots__ = ("_untyped", "dtype")

    def __init__(self, untyped, dtype):
        self._untyped, self.dtype = untyped, dtype

    @property
    def device(self):
        return self._untyped.device

    def size(self):
        return len(self._untyped)

    __len__ = size

    def nbytes(self):
        return self._untyped.nbytes()

    def element_size(self):
        return self.dtype.itemsize

    def data_ptr(self):
        return self._untyped.data_ptr()

    def untyped(self):
        return self._untyped

    def tolist(self):
        return np.asarray(self._untyped.data).tolist()

    def __getitem__(self, i):
        return np.asarray(self._untyped.data)[i].item()

    def __repr__(self):
        body = "\n".join(f" {v}" for v in self.tolist())
        return f"{body}\n[torch.storage.TypedStorage(dtype=torch.{self.dtype.name}, device={self.device}) " \
               f"of size {self.size()}]"


def storage(self):
    warnings.warn("TypedStorage is deprecated. It will be removed in the future and UntypedStorage will be the "
                  "only storage class. This should only matter to you if you are using storages directly.  To "
                  "access UntypedStorage directly, use tensor.untyped_storage() instead of tensor.storage()",
                  UserWarning, stacklevel=2)
    return TypedStorage(self._storage, self.dtype)


_SHARED = weakref.WeakSet()     # storages moved into shared memory


def share_memory_(self):
    """Move the storage into an anonymous shared mapping (visible to forked worker processes)."""
    st = self._storage
    if self.is_cuda or st in _SHARED:
        return self
    buf = st.data
    m = mmap.mmap(-1, max(buf.nbytes, 1))
    shared = np.frombuffer(m, dtype=buf.dtype, count=buf.shape[0])
    shared[...] = buf
    st.data = shared
    _SHARED.add(st)
    return self


def is_shared(self):
    return self.is_cuda or self._storage in _SHARED


def is_pinned(self, device=None):
    return False


def pin_memory(self, device=None):
    from . import cuda
    if not cuda.is_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")
    return self


def apply_(self, callable):
    if self.is_cuda:
        raise TypeError("apply_ is only implemented on CPU tensors")
    a = self._np()
    flat = [callable(v) for v in a.reshape(-1).tolist()] if a.size else []
    with np.errstate(all="ignore"):
        a[...] = np.asarray(flat, dtype=a.dtype).reshape(a.shape) if flat else a
    self._bump()
    return self


def map_(self, tensor, callable):
    from .views import expand
    other = expand(tensor, self._shape)._np()
    a = self._np()
    out = [callable(x, y) for x, y in zip(a.reshape(-1).tolist(), np.broadcast_to(other, a.shape).reshape(-1).tolist())]
    if out:
        a[...] = np.asarray(out, dtype=a.dtype).reshape(a.shape)
    self._bump()
    return self


def dim_order(self, *, ambiguity_check=False):
    """Dims from outermost to innermost by stride (ties keep dim order)."""
    return tuple(sorted(range(self.ndim), key=lambda i: -self._stride[i]))


def as_subclass(self, cls):
    t = cls._make(self._storage, self._shape, self._stride, self._offset, self.dtype, self._vc)
    t._requires_grad, t.grad_fn, t._output_nr, t._base = self._requires_grad, self.grad_fn, self._output_nr, \
        self._base
    return t


def positive(self):
    if self.dtype is _dt.bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return self


def _identity(self):
    return self


def _false(self):
    return False


def _imag(self):
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


def bind(T):
    for f in (unfold, new, new_empty_strided, sum_to_size, fill_diagonal_, renorm, renorm_, index_reduce,
              index_reduce_, storage, share_memory_, is_shared, is_pinned, pin_memory, apply_, map_, dim_order,
              as_subclass, positive):
        setattr(T, f.__name__, f)
    T.resolve_conj = T.resolve_neg = T.conj = T.conj_physical = _identity
    T.is_conj = T.is_neg = _false
    T.real = property(_identity)
    T.imag = property(_imag)
    T.output_nr = property(lambda self: self._output_nr)
