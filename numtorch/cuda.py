"""``numtorch.cuda``: device queries, and moving tensors between the host and the GPU.

CUDA storage is a flat Numba device array; kernels come from ``numtorch.kernels.cuda``. Without a
usable GPU every CUDA request fails like a CPU-only PyTorch build. Numba's simulator
(``NUMBA_ENABLE_CUDASIM=1``) counts as a GPU only when ``NUMTORCH_CUDASIM=1`` opts in (the tests do),
so scripts run under the simulator still see PyTorch's CPU behaviour by default.
"""
import builtins
import os

import numpy as np

_NOT_COMPILED = "Torch not compiled with CUDA enabled"


class AssertionError(builtins.AssertionError, RuntimeError):      # noqa: A001
    """What a CPU-only PyTorch raises for CUDA requests (an AssertionError), also catchable as the
    RuntimeError that a missing GPU raises in CUDA builds."""


AssertionError.__module__ = "builtins"
_AVAILABLE = {}


def _numba_cuda():
    try:
        from numba import cuda
    except ImportError:
        return None
    return cuda


def _simulated():
    return os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"


def is_available():
    """True with a working GPU (or the simulator, when NUMTORCH_CUDASIM=1 opts in)."""
    if _simulated():
        if os.environ.get("NUMTORCH_CUDASIM") != "1":
            return False
    key = _simulated()
    hit = _AVAILABLE.get(key)
    if hit is None:
        cuda = _numba_cuda()
        try:
            hit = bool(cuda is not None and cuda.is_available())
        except Exception:  # noqa: BLE001 - any driver failure means "no GPU"
            hit = False
        _AVAILABLE[key] = hit
    return hit


def is_initialized():
    return is_available()


def _check_available():
    if not is_available():
        raise AssertionError(_NOT_COMPILED)


def _cuda_version():
    return None if not is_available() else "12.0"


def device_count():
    if not is_available():
        return 0
    if _simulated():
        return 1
    return len(_numba_cuda().gpus)


def current_device():
    _check_available()
    return 0


def set_device(device):
    from .device import as_device
    d = as_device(device)
    if d is not None and d.type == "cuda" and (d.index or 0) != 0:
        raise RuntimeError("CUDA error: invalid device ordinal")


def get_device_name(device=None):
    _check_available()
    if _simulated():
        return "Numba CUDA simulator"
    name = _numba_cuda().get_current_device().name
    return name.decode() if isinstance(name, bytes) else str(name)


def get_device_capability(device=None):
    _check_available()
    if _simulated():
        return (9, 0)
    return tuple(_numba_cuda().get_current_device().compute_capability)


def synchronize(device=None):
    _check_available()
    _numba_cuda().synchronize()


def manual_seed(seed):
    from .random import manual_seed as _ms
    _ms(seed)


manual_seed_all = manual_seed


def memory_allocated(device=None):
    """Bytes held by live CUDA tensor storages."""
    if not is_available():
        return 0
    from .kernels import cuda as _kc
    return _kc.allocated()


def max_memory_allocated(device=None):
    """Peak of ``memory_allocated`` since the start or the last ``reset_peak_memory_stats``."""
    if not is_available():
        return 0
    from .kernels import cuda as _kc
    return _kc.peak()


def reset_peak_memory_stats(device=None):
    if is_available():
        from .kernels import cuda as _kc
        _kc.peak(reset=True)


memory_reserved = memory_allocated


def empty_cache():
    """Numba frees device memory when the last reference goes; nothing is cached to release."""


def _empty_buffer(n, np_dtype):
    # No availability check: a CUDA device object only reaches here once creation has checked it.
    from .kernels import cuda as _kc
    return _kc.empty(n, np_dtype)


def _check_index(dev):
    if dev.index not in (None, 0) and dev.index >= device_count():
        raise RuntimeError("CUDA error: invalid device ordinal")


def _contiguous_data(t):
    """A flat contiguous buffer (same device) holding ``t``'s elements."""
    from .shape import contiguous_strides, numel
    from .storage import empty_buffer
    from .kernels import index as _ix
    buf = t._storage.data
    if t.is_contiguous() and t._offset == 0 and len(buf) == numel(t._shape):
        return buf
    out = empty_buffer(numel(t._shape), buf.dtype, t.device)
    if numel(t._shape):
        _ix.copy_strided(buf, t._offset, t._stride, out, 0, contiguous_strides(t._shape), t._shape)
    return out


def _transfer(t, dev):
    """The elements of ``t`` as a new contiguous buffer on ``dev`` (no autograd)."""
    from .storage import empty_buffer
    src = _contiguous_data(t)
    if dev.type == "cuda":
        out = empty_buffer(len(src), src.dtype, dev)
        if len(src):
            out.copy_to_device(np.ascontiguousarray(src))
        return out
    return src.copy_to_host() if len(src) else np.empty(0, src.dtype)


def to_device(t, dev):
    """``t.to(dev)``: a copy on ``dev``, recorded as ToCopyBackward0 like PyTorch."""
    from .device import device as _device
    from .tensor import Tensor
    if dev.type == "cuda":
        _check_available()
        _check_index(dev)
        dev = _device("cuda", 0 if dev.index is None else dev.index)
    elif dev.type != "cpu":
        raise RuntimeError(f"numtorch: tensors cannot live on {dev}")
    res = Tensor._from_buffer(_transfer(t, dev), t._shape, t.dtype, dev)
    from .autograd.graph import needs_grad, record
    if needs_grad(t):
        src_dev = t.device
        record("ToCopyBackward0", res, (t,), lambda node, g: (g.to(src_dev),))
    return res


def copy_between(dst, src):
    """``dst.copy_(src)`` across devices: move ``src``'s elements to ``dst``'s device (casting there)."""
    from .shape import broadcast_strides, contiguous_strides
    from .kernels import index as _ix
    from .tensor import Tensor
    moved = Tensor._from_buffer(_transfer(src, dst.device), src._shape, src.dtype, dst.device)
    st = broadcast_strides(moved._shape, contiguous_strides(moved._shape), dst._shape)
    _ix.copy_strided(moved._storage.data, 0, st, dst._storage.data, dst._offset, dst._stride, dst._shape)


def from_cuda_array(obj, dtype=None):
    """A zero-copy tensor over an object exposing ``__cuda_array_interface__`` (CuPy, PyTorch CUDA...)."""
    _check_available()
    from . import dtypes as _dt
    from .device import device as _device
    from .storage import Storage
    from .tensor import Tensor
    arr = _sim_cuda_array(obj) if _simulated() else _numba_cuda().as_cuda_array(obj)
    dt = _dt.from_numpy_dtype(arr.dtype)
    it = arr.dtype.itemsize
    shape = tuple(arr.shape)
    strides = tuple(s // it for s in arr.strides)
    extent = 1 + sum((n - 1) * s for n, s in zip(shape, strides)) if arr.size else 0
    if any(s < 0 for s in strides):
        raise ValueError("numtorch: negative strides in __cuda_array_interface__ are not supported")
    flat = arr.reshape(arr.size) if arr.is_c_contiguous() else _flat_view(arr, extent)
    t = Tensor._make(Storage(flat, _device("cuda", 0)), shape, strides, 0, dt)
    if dtype is not None and _dt.to_dtype(dtype) is not dt:
        t = t.to(dtype)
    return t


def _flat_view(arr, extent):
    if _simulated():
        return type(arr)(np.lib.stride_tricks.as_strided(arr._ary, shape=(extent,), strides=(arr.dtype.itemsize,)))
    from numba.cuda.cudadrv.devicearray import DeviceNDArray
    return DeviceNDArray(shape=(extent,), strides=(arr.dtype.itemsize,), dtype=arr.dtype,
                         gpu_data=arr.gpu_data)


class _HostInterface:
    """``__array_interface__`` over the host memory that a simulated ``__cuda_array_interface__`` names."""

    def __init__(self, desc, owner):
        self.__array_interface__ = {"shape": tuple(desc["shape"]), "typestr": desc["typestr"],
                                    "data": (desc["data"][0], False), "strides": desc.get("strides"), "version": 3}
        self._owner = owner


def _sim_cuda_array(obj):
    """What ``numba.cuda.as_cuda_array`` gives on a GPU, for the simulator (which lacks it): the
    simulator's device arrays as they are, and other producers' (host) pointers wrapped without a copy."""
    from numba.cuda.simulator.cudadrv.devicearray import FakeCUDAArray
    if isinstance(obj, FakeCUDAArray):
        return obj
    desc = obj.__cuda_array_interface__
    shape = tuple(desc["shape"])
    if desc["data"][0] == 0 or 0 in shape:
        return FakeCUDAArray(np.empty(shape, np.dtype(desc["typestr"])))
    return FakeCUDAArray(np.asarray(_HostInterface(desc, obj)))
