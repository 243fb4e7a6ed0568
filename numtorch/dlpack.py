"""DLPack and ``__cuda_array_interface__`` interop with PyTorch's semantics.

Exports use the classic unversioned ABI (a ``"dltensor"`` PyCapsule over a ``DLManagedTensor``), which
``np.from_dlpack`` and ``torch.from_dlpack`` accept whatever ``max_version`` they ask for. A
module-level registry keeps the exported buffer alive until the consumer calls the deleter (or the
capsule dies unconsumed). Imports accept classic and versioned capsules. Nothing here imports
numba.cuda until a CUDA tensor is involved. Under Numba's simulator a "CUDA" buffer is a host array,
so its host pointer stands in for the device pointer (the device type still reads kDLCUDA).
"""
import ctypes
import enum
import itertools

import numpy as np

from .tensor import Tensor

__all__ = ["DLDeviceType", "from_dlpack", "to_dlpack"]


class DLDeviceType(enum.IntEnum):
    """Same members and values as ``torch.utils.dlpack.DLDeviceType``."""
    kDLCPU = 1
    kDLCUDA = 2
    kDLCUDAHost = 3
    kDLOpenCL = 4
    kDLVulkan = 7
    kDLMetal = 8
    kDLVPI = 9
    kDLROCM = 10
    kDLROCMHost = 11
    kDLExtDev = 12
    kDLCUDAManaged = 13
    kDLOneAPI = 14
    kDLWebGPU = 15
    kDLHexagon = 16
    kDLMAIA = 17


# ---- the C structures (dlpack.h) -------------------------------------------------------------------

class DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", DLDevice), ("ndim", ctypes.c_int32),
                ("dtype", DLDataType), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)), ("byte_offset", ctypes.c_uint64)]


# The deleter takes the managed tensor's address; a void* keeps one callback type for both ABIs.
_Deleter = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


class DLManagedTensor(ctypes.Structure):
    _fields_ = [("dl_tensor", DLTensor), ("manager_ctx", ctypes.c_void_p), ("deleter", _Deleter)]


class DLPackVersion(ctypes.Structure):
    _fields_ = [("major", ctypes.c_uint32), ("minor", ctypes.c_uint32)]


class DLManagedTensorVersioned(ctypes.Structure):
    _fields_ = [("version", DLPackVersion), ("manager_ctx", ctypes.c_void_p), ("deleter", _Deleter),
                ("flags", ctypes.c_uint64), ("dl_tensor", DLTensor)]


kDLInt, kDLUInt, kDLFloat, kDLBool = 0, 1, 2, 6
_CODES = {np.dtype(np.bool_): (kDLBool, 8), np.dtype(np.uint8): (kDLUInt, 8), np.dtype(np.int8): (kDLInt, 8),
          np.dtype(np.int16): (kDLInt, 16), np.dtype(np.int32): (kDLInt, 32), np.dtype(np.int64): (kDLInt, 64),
          np.dtype(np.float16): (kDLFloat, 16), np.dtype(np.float32): (kDLFloat, 32),
          np.dtype(np.float64): (kDLFloat, 64)}
_NP_OF_CODE = {v: k for k, v in _CODES.items()}

# PyCapsule_New keeps the name pointer, so the names must be immortal (module-level bytes).
_NAME, _USED = b"dltensor", b"used_dltensor"
_VNAME, _VUSED = b"dltensor_versioned", b"used_dltensor_versioned"

# Private prototypes, so the shared ``ctypes.pythonapi`` function objects keep their own argtypes.
_api = ctypes.pythonapi
_capsule_new = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p)(
    ("PyCapsule_New", _api))
_capsule_name = ctypes.PYFUNCTYPE(ctypes.c_char_p, ctypes.py_object)(("PyCapsule_GetName", _api))
_capsule_pointer = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.py_object, ctypes.c_char_p)(
    ("PyCapsule_GetPointer", _api))
_capsule_set_name = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.py_object, ctypes.c_char_p)(
    ("PyCapsule_SetName", _api))
# The destructor gets a dying capsule: raw addresses, never a py_object (no refcounting on it).
_raw_is_valid = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p)(("PyCapsule_IsValid", _api))
_raw_pointer = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p)(
    ("PyCapsule_GetPointer", _api))

_LIVE = {}                    # manager_ctx -> (managed struct, shape array, strides array, buffer)
_KEYS = itertools.count(1)
READ_ONLY, IS_COPIED = 1, 2   # DLPACK_FLAG_BITMASK_* of the versioned ABI


def _release(addr, kind):
    if addr and _LIVE is not None:          # _LIVE is None during interpreter teardown
        _LIVE.pop(kind.from_address(addr).manager_ctx, None)


_deleter = _Deleter(lambda addr: _release(addr, DLManagedTensor))
_vdeleter = _Deleter(lambda addr: _release(addr, DLManagedTensorVersioned))


def _on_capsule_death(cap):
    # A capsule still carrying its original name was never consumed: the producer frees it (DLPack spec).
    if _raw_is_valid(cap, _NAME):
        _release(_raw_pointer(cap, _NAME), DLManagedTensor)
    elif _raw_is_valid(cap, _VNAME):
        _release(_raw_pointer(cap, _VNAME), DLManagedTensorVersioned)


_capsule_destructor = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(_on_capsule_death)
_DESTRUCTOR_PTR = ctypes.cast(_capsule_destructor, ctypes.c_void_p).value


# ---- export ----------------------------------------------------------------------------------------

def _buffer_ptr(buf):
    """Address of element 0 of a flat storage buffer (host, device, or the simulator's fake)."""
    if isinstance(buf, np.ndarray):
        return buf.ctypes.data
    cai = getattr(buf, "__cuda_array_interface__", None)
    if cai is not None:
        return cai["data"][0]
    return buf._ary.ctypes.data            # numba simulator: FakeCUDAArray wraps a host array


def _dl_device(t):
    d = t._storage.device
    if d.type == "cuda":
        return DLDeviceType.kDLCUDA, d.index or 0
    return DLDeviceType.kDLCPU, 0


def to_dlpack(tensor):
    """A ``"dltensor"`` PyCapsule sharing ``tensor``'s memory (``torch.utils.dlpack.to_dlpack``)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dlpack(): argument 'tensor' must be Tensor, not {type(tensor).__name__}")
    return _export(tensor, False, 0)


def _export(tensor, versioned, flags):
    if tensor.requires_grad:
        raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
    buf = tensor._storage.data
    code, bits = _CODES[tensor.dtype.np]
    ndim = len(tensor._shape)
    shape = (ctypes.c_int64 * max(ndim, 1))(*tensor._shape)
    strides = (ctypes.c_int64 * max(ndim, 1))(*tensor._stride)
    if versioned:
        m = DLManagedTensorVersioned()
        m.version.major, m.version.minor = 1, 0
        m.flags = flags
        m.deleter = _vdeleter
    else:
        m = DLManagedTensor()
        m.deleter = _deleter
    dl = m.dl_tensor
    dl.data = _buffer_ptr(buf) + tensor._offset * tensor.dtype.itemsize
    dl.device.device_type, dl.device.device_id = _dl_device(tensor)
    dl.ndim = ndim
    dl.dtype.code, dl.dtype.bits, dl.dtype.lanes = code, bits, 1
    dl.shape = ctypes.cast(shape, ctypes.POINTER(ctypes.c_int64))
    dl.strides = ctypes.cast(strides, ctypes.POINTER(ctypes.c_int64))
    dl.byte_offset = 0
    key = next(_KEYS)
    m.manager_ctx = key
    _LIVE[key] = (m, shape, strides, buf)
    return _capsule_new(ctypes.addressof(m), _VNAME if versioned else _NAME, _DESTRUCTOR_PTR)


def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
    """Export as a DLPack capsule: the versioned ABI (1.0) when ``max_version`` allows it, else the classic
    one. ``dl_device`` other than this tensor's device, or ``copy=True``, exports a copy."""
    if self.requires_grad:
        raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
    if stream is not None and type(stream) is not int:
        raise TypeError("stream must be ``int`` or ``none``")
    if self.is_cuda:
        if stream == 2:
            raise BufferError("per-thread default stream is not supported.")
        if stream == 0:
            raise AssertionError("unsupported stream on CUDA: 0.")
        if stream not in (None, -1, 1):
            # Numba launches on the legacy default stream; finishing them orders any consumer stream.
            from . import cuda as _cuda
            _cuda.synchronize()
    elif stream is not None and stream != -1:
        raise AssertionError("stream should be None on cpu.")
    t, copied = self, False
    if dl_device is not None and (int(dl_device[0]), int(dl_device[1])) != tuple(_dl_device(self)):
        target = {DLDeviceType.kDLCPU: "cpu", DLDeviceType.kDLCUDA: "cuda"}.get(int(dl_device[0]))
        if target is None:
            raise ValueError(f"numtorch: unsupported dl_device {tuple(dl_device)}")
        if copy is False:
            raise BufferError(f"cannot export a {self.device} tensor to dl_device {tuple(dl_device)} without a copy")
        t, copied = self.to(target if target == "cpu" else f"cuda:{int(dl_device[1])}"), True
    if copy and not copied:
        t, copied = t.clone(), True
    versioned = max_version is not None and max_version[0] >= 1
    return _export(t, versioned, IS_COPIED if copied else 0)


def __dlpack_device__(self):
    return _dl_device(self)


def _cuda_array_interface(self):
    if not self.is_cuda:
        raise AttributeError(
            f"Can't get __cuda_array_interface__ on non-CUDA tensor type: {self.type()} "
            "If CUDA data is required use tensor.cuda() to copy tensor to device memory.")
    if self.requires_grad:
        raise RuntimeError(
            "Can't get __cuda_array_interface__ on Variable that requires grad. "
            "If gradients aren't required, use var.detach() to get Variable that doesn't require grad.")
    it = self.dtype.itemsize
    strides = None if self.is_contiguous() else tuple(s * it for s in self._stride)
    ptr = _buffer_ptr(self._storage.data) + self._offset * it if self.numel() > 0 else 0
    return {"typestr": self.dtype.np.str, "shape": tuple(self._shape), "strides": strides,
            "data": (ptr, False), "version": 3, "stream": None}


# ---- import ----------------------------------------------------------------------------------------

_INVALID = ("from_dlpack received an invalid capsule. Note that DLTensor capsules can be consumed only once, "
            "so you might have already constructed a tensor from it once.")


class _DLOwner:
    """Owns a consumed managed tensor; calls its deleter when the last view of the memory is gone."""

    def __init__(self, addr, deleter):
        self._addr, self._deleter = addr, deleter

    def __del__(self):
        if self._deleter:
            self._deleter(self._addr)


class _View:
    """An array-interface description (host: ``__array_interface__``, device:
    ``__cuda_array_interface__``) over a consumed capsule's memory, keeping its owner alive."""

    def __init__(self, attr, desc, owner):
        setattr(self, attr, desc)
        self._owner = owner


def _managed(capsule):
    name = _capsule_name(capsule)
    if name not in (_NAME, _VNAME):
        raise RuntimeError(_INVALID)
    addr = _capsule_pointer(capsule, name)
    kind = DLManagedTensorVersioned if name == _VNAME else DLManagedTensor
    return name, addr, kind.from_address(addr)


def _from_capsule(capsule):
    """Consume a classic or versioned capsule into a zero-copy tensor on its device."""
    from .creation import from_numpy
    name, addr, m = _managed(capsule)
    dl = m.dl_tensor
    kind = int(dl.device.device_type)
    if kind == DLDeviceType.kDLCUDA:
        from . import cuda as _cuda
        _cuda._check_available()
    elif kind not in (DLDeviceType.kDLCPU, DLDeviceType.kDLCUDAHost):
        raise RuntimeError(f"Unsupported device_type: {kind}")
    np_dt = _NP_OF_CODE.get((dl.dtype.code, dl.dtype.bits)) if dl.dtype.lanes == 1 else None
    if np_dt is None:
        raise RuntimeError(f"Unsupported DLPack dtype (code={dl.dtype.code}, bits={dl.dtype.bits}, "
                           f"lanes={dl.dtype.lanes})")
    shape = tuple(dl.shape[i] for i in range(dl.ndim))
    # NULL strides mean compact row-major (allowed before DLPack 1.0).
    strides = tuple(dl.strides[i] * np_dt.itemsize for i in range(dl.ndim)) if dl.strides else None
    # Everything is validated: take ownership (the consumer renames, then eventually calls the deleter).
    owner = _DLOwner(addr, m.deleter)
    _capsule_set_name(capsule, _VUSED if name == _VNAME else _USED)
    empty = 0 in shape or not dl.data
    desc = {"shape": shape, "strides": strides, "typestr": np_dt.str, "version": 3,
            "data": (0 if empty else dl.data + dl.byte_offset, False)}   # like PyTorch, ignores READ_ONLY
    if kind == DLDeviceType.kDLCUDA:
        desc["stream"] = None
        return _cuda.from_cuda_array(_View("__cuda_array_interface__", desc, owner))
    arr = np.empty(shape, np_dt) if empty else np.asarray(_View("__array_interface__", desc, owner))
    return from_numpy(arr)


def _is_capsule(obj):
    return type(obj).__name__ == "PyCapsule"


def _has_cai(obj):
    try:
        return getattr(obj, "__cuda_array_interface__", None) is not None
    except AttributeError:
        return False


def _is_numba_device_array(obj):
    return type(obj).__module__.startswith("numba.cuda") and hasattr(obj, "copy_to_host")


def _call_dlpack(ext, **kwargs):
    # Ask for the versioned ABI first; older producers reject max_version with a TypeError.
    try:
        return ext.__dlpack__(max_version=(1, 0), **kwargs)
    except TypeError:
        return ext.__dlpack__(**kwargs)


def from_dlpack(ext_tensor):
    """``torch.from_dlpack``: a zero-copy tensor over ``ext_tensor`` (an object with ``__dlpack__``, a
    DLPack capsule, or a CUDA array exposing ``__cuda_array_interface__`` such as a Numba device array).
    For CUDA producers the ``__cuda_array_interface__`` is preferred when present."""
    if _is_capsule(ext_tensor):
        return _from_capsule(ext_tensor)
    if isinstance(ext_tensor, Tensor) and ext_tensor.requires_grad:
        raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
    if _is_numba_device_array(ext_tensor):
        # Checked first: the simulator's arrays forward __dlpack__ to their host array (a CPU answer).
        from . import cuda as _cuda
        return _cuda.from_cuda_array(ext_tensor)
    if hasattr(ext_tensor, "__dlpack__"):
        dev = ext_tensor.__dlpack_device__() if hasattr(ext_tensor, "__dlpack_device__") else None
        if dev is not None and int(dev[0]) == DLDeviceType.kDLCUDA:
            if _has_cai(ext_tensor):
                from . import cuda as _cuda
                return _cuda.from_cuda_array(ext_tensor)
            return _from_capsule(_call_dlpack(ext_tensor, stream=None))
        return _from_capsule(_call_dlpack(ext_tensor))
    if _has_cai(ext_tensor):
        from . import cuda as _cuda
        return _cuda.from_cuda_array(ext_tensor)
    raise TypeError(f"from_dlpack: expected an object with __dlpack__ or a DLPack capsule, "
                    f"got {type(ext_tensor).__name__}")


def _bind():
    Tensor.__dlpack__ = __dlpack__
    Tensor.__dlpack_device__ = __dlpack_device__
    Tensor.__cuda_array_interface__ = property(_cuda_array_interface)


_bind()
