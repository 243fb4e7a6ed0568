"""Tensor: storage + shape/strides/offset + dtype/device + autograd fields. No math here: ops and
views are attached from their own modules (see ``_methods.py``)."""
import operator
import warnings

import numpy as np

from . import dtypes as _dt
from .device import CPU
from .shape import Size, contiguous_strides, is_contiguous, numel as _numel, wrap_dim
from .storage import Storage, VersionCounter

_NONLEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute won't be "
    "populated during autograd.backward(). If you indeed want the .grad field to be populated for a non-leaf "
    "Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure "
    "you access the leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 for more information. "
    "(Triggered internally at /pytorch/build/aten/src/ATen/core/TensorBody.h:494.)")


class Tensor:
    """A strided view of a Storage. Views share storage and the version counter."""
    __slots__ = ("_storage", "_shape", "_stride", "_offset", "dtype", "_vc", "_requires_grad", "_grad",
                 "grad_fn", "_output_nr", "_base", "_name", "__weakref__", "__dict__")
    # Rarely set: class defaults, so that building a tensor writes three fewer slots.
    _retains_grad = False
    _grad_acc = None
    _hooks = None

    # -- construction --------------------------------------------------------------------------------
    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        # ``torch.Tensor(2, 3)`` / ``torch.Tensor([1, 2])``: legacy float constructor.
        from .creation import _legacy_construct
        if getattr(self, "_storage", None) is None and (args or kwargs):
            _legacy_construct(self, _dt.get_default_dtype(), args, kwargs.get("device"))
        elif getattr(self, "_storage", None) is None:
            _legacy_construct(self, _dt.get_default_dtype(), (0,), None)

    @classmethod
    def _make(cls, storage, shape, stride, offset, dtype, vc=None):
        t = object.__new__(cls)
        t._storage = storage
        t._shape = shape
        t._stride = stride
        t._offset = offset
        t.dtype = dtype
        t._vc = VersionCounter() if vc is None else vc
        t._requires_grad = False
        t._grad = None
        t.grad_fn = None
        t._output_nr = 0
        t._base = None
        return t

    @classmethod
    def _from_buffer(cls, buf, shape, dtype, device=CPU):
        """A fresh contiguous tensor owning ``buf`` (a flat array of ``dtype``); a device buffer puts
        it on the GPU whatever ``device`` says."""
        if buf.__class__ is not np.ndarray and device.type == "cpu":
            from .device import device as _device
            device = _device("cuda", 0)
        return cls._make(Storage(buf, device), tuple(shape), contiguous_strides(shape), 0, dtype)

    def _view_of(self, shape, stride, offset):
        """A view sharing storage, version counter and base (no autograd recording)."""
        t = Tensor._make(self._storage, tuple(shape), tuple(stride), offset, self.dtype, self._vc)
        t._base = self if self._base is None else self._base
        return t

    def _alias(self):
        """Same storage, same version counter, no autograd (what ``detach()`` returns)."""
        return Tensor._make(self._storage, self._shape, self._stride, self._offset, self.dtype, self._vc)

    # -- metadata -----------------------------------------------------------------------------------
    @property
    def shape(self):
        return Size(self._shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._shape)
        if not self._shape:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        return self._shape[wrap_dim(dim, len(self._shape))]

    def dim(self):
        return len(self._shape)

    ndimension = dim

    @property
    def ndim(self):
        return len(self._shape)

    def numel(self):
        return _numel(self._shape)

    nelement = numel

    def stride(self, dim=None):
        if dim is None:
            return tuple(self._stride)
        return self._stride[wrap_dim(dim, len(self._shape), scalar_ok=False)]

    def storage_offset(self):
        return self._offset

    def is_contiguous(self, memory_format=None):
        if memory_format in ("torch.channels_last", "torch.channels_last_3d"):
            from .ops import _is_channels_last
            return _is_channels_last(self._shape, self._stride, memory_format)
        return is_contiguous(self._shape, self._stride)

    def element_size(self):
        return self.dtype.itemsize

    @property
    def itemsize(self):
        return self.dtype.itemsize

    @property
    def nbytes(self):
        return self.numel() * self.dtype.itemsize

    @property
    def device(self):
        return self._storage.device

    @property
    def is_cuda(self):
        return self._storage.device.type == "cuda"

    @property
    def is_cpu(self):
        return self._storage.device.type == "cpu"

    @property
    def layout(self):
        return "torch.strided"

    def is_floating_point(self):
        return self.dtype.is_floating_point

    def is_complex(self):
        return False

    def is_signed(self):
        return self.dtype.is_signed

    def data_ptr(self):
        return self._storage.data_ptr() + self._offset * self.dtype.itemsize

    def untyped_storage(self):
        return self._storage

    def get_device(self):
        d = self.device
        return -1 if d.type == "cpu" else d.index

    @property
    def _version(self):
        return self._vc.value

    def _bump(self):
        self._vc.value += 1

    @property
    def is_leaf(self):
        return self.grad_fn is None

    # -- autograd fields ----------------------------------------------------------------------------
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self._set_requires_grad(flag, "")

    def requires_grad_(self, requires_grad=True):
        self._set_requires_grad(requires_grad, "_")
        return self

    def _set_requires_grad(self, flag, form):
        if self.grad_fn is not None:
            if flag and form == "_":
                return          # PyTorch: requires_grad_(True) on a non-leaf is a no-op
            hint = (" If you want to use a computed variable in a subgraph that doesn't require differentiation "
                    "use var_no_grad = var.detach().") if not flag else ""
            raise RuntimeError("you can only change requires_grad flags of leaf variables." + hint)
        if flag and not self.dtype.is_floating_point:
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._requires_grad = bool(flag)

    def is_inference(self):
        return False

    @property
    def grad(self):
        if self.grad_fn is not None and not self._retains_grad:
            warnings.warn(_NONLEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value.dtype is not self.dtype:
                raise RuntimeError("assigned grad has data of a different type")
            if value._shape != self._shape:
                raise RuntimeError("assigned grad has data of a different size")
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    def retain_grad(self):
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None and not self._retains_grad:
            from .autograd.engine import _install_retain
            _install_retain(self)
        self._retains_grad = self.grad_fn is not None or self._retains_grad

    @property
    def retains_grad(self):
        return self._retains_grad

    def register_hook(self, hook):
        from .autograd.engine import register_tensor_hook
        return register_tensor_hook(self, hook)

    def detach(self):
        return self._alias()

    def detach_(self):
        if self._base is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead. If you are using "
                               "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set as "
                               "True, gradients are views of DDP buckets, and hence detach_() cannot be called on "
                               "these gradients. To fix this error, please refer to the Optimizer.zero_grad() "
                               "function in torch/optim/optimizer.py as the solution.")
        self.grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self):
        t = Tensor._make(self._storage, self._shape, self._stride, self._offset, self.dtype)
        return t

    @data.setter
    def data(self, other):
        if not isinstance(other, Tensor):
            raise TypeError("data must be a Tensor")
        self._storage, self._shape, self._stride = other._storage, other._shape, other._stride
        self._offset, self.dtype = other._offset, other.dtype

    @property
    def name(self):
        return None

    # -- host access --------------------------------------------------------------------------------
    def _np(self):
        """A zero-copy NumPy view of the elements (CPU storage only; float16 stays float16)."""
        buf = self._storage.data
        if buf.__class__ is not np.ndarray:
            raise RuntimeError(f"numtorch: this operation is not implemented for {self.device} tensors yet "
                               "(no silent copy to the host: call .cpu() first)")
        it = buf.itemsize
        return np.ndarray(self._shape, buf.dtype, buf, self._offset * it, tuple(s * it for s in self._stride))

    def _cpu_only(self, what):
        """Refuse ``what`` on a CUDA tensor rather than computing it on a silent host copy."""
        if self._storage.device.type != "cpu":
            raise RuntimeError(f"numtorch: {what} is not implemented for {self.device} tensors yet; move the "
                               "tensor with .cpu() first")

    def _host_values(self):
        if self._storage.device.type != "cpu":
            return self.cpu()._np()
        return self._np()

    def numpy(self, *, force=False):
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                               "instead.")
        if self.device.type != "cpu":
            if force:
                return self.cpu()._np()
            raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to copy "
                            "the tensor to host memory first.")
        return self._np()

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype, copy=False)

    def tolist(self):
        return self._host_values().tolist()

    def item(self):
        n = self.numel()
        if n != 1:
            raise RuntimeError(f"a Tensor with {n} elements cannot be converted to Scalar")
        buf = self._storage.data
        if buf.__class__ is np.ndarray:         # one element: it sits at the offset whatever the strides
            return buf[self._offset].item()
        v = self._host_values().reshape(-1)[0]
        return v.item()

    def __len__(self):
        if not self._shape:
            raise TypeError("len() of a 0-d tensor")
        return self._shape[0]

    def __iter__(self):
        if not self._shape:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self):
        n = self.numel()
        if n != 1:
            if n == 0:
                raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def __float__(self):
        if self.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return float(self.item())

    def __int__(self):
        if self.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return int(self.item())

    def __index__(self):
        if self.dtype.is_floating_point or self.dtype is _dt.bool or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __complex__(self):
        return complex(self.item())

    def __format__(self, spec):
        if not self._shape:
            return format(self.item(), spec)
        return format(repr(self), spec)

    def __repr__(self, *, tensor_contents=None):
        from ._printing import tensor_repr
        return tensor_repr(self)

    def __str__(self):
        return self.__repr__()          # subclasses' repr too (Parameter prints "Parameter containing:")

    __hash__ = object.__hash__

    def __reduce_ex__(self, proto):
        dev = self._storage.device
        args = (np.array(self._host_values()), self.dtype.name, self._requires_grad)
        return (_rebuild, args if dev.type == "cpu" else args + (str(dev),))

    def __deepcopy__(self, memo):
        c = self.detach().clone()
        c._requires_grad = self._requires_grad
        memo[id(self)] = c
        return c

    # -- dtype names --------------------------------------------------------------------------------
    def type(self, dtype=None, non_blocking=False, **kw):
        if dtype is None:
            prefix = "torch.cuda." if self.is_cuda else "torch."
            return prefix + self.dtype.legacy
        if isinstance(dtype, str) and dtype.startswith("torch.cuda."):
            return self.to(_dt.parse_dtype(dtype[len("torch.cuda."):])).cuda()
        return self.to(_dt.parse_dtype(dtype))

    def type_as(self, other):
        return self.to(other.dtype)


def _rebuild(arr, dtype_name, requires_grad, device="cpu"):
    from .creation import tensor as _tensor
    return _tensor(arr, dtype=_dt.parse_dtype(dtype_name), requires_grad=requires_grad, device=device)


# Scripts print ``type(t)``: PyTorch shows <class 'torch.Tensor'>.
Tensor.__module__ = "torch"


def is_tensor(obj):
    return isinstance(obj, Tensor)


__all__ = ["Tensor", "is_tensor", "operator"]
