"""Flat element buffers per device, and the version counter shared by views and detach()."""
import numpy as np

from .device import device as _device, CPU


class Storage:
    """A flat 1-D buffer (NumPy array on the CPU) that tensors view with shape/strides/offset."""
    __slots__ = ("data", "device", "__weakref__")

    def __init__(self, data, device=CPU):
        self.data = data
        self.device = device

    def __len__(self):
        return self.data.shape[0]

    def nbytes(self):
        return self.data.nbytes

    def data_ptr(self):
        return self.data.ctypes.data if isinstance(self.data, np.ndarray) else \
            self.data.__cuda_array_interface__["data"][0]


class VersionCounter:
    """Bumped by every in-place write; saved tensors compare it at backward time."""
    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


def empty_buffer(n, np_dtype, device=CPU):
    if device.type == "cuda":
        from . import cuda as _cuda
        return _cuda._empty_buffer(n, np_dtype)
    return np.empty(n, dtype=np_dtype)


__all__ = ["Storage", "VersionCounter", "empty_buffer", "_device"]
