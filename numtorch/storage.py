"""Flat element buffers per device, and the version counter shared by views and detach()."""
import ctypes
import os
import sys

import numpy as np

from .device import device as _device, CPU


def _tune_malloc():
    """Let glibc reuse freed large buffers instead of mmap/munmap-ing each one: a fresh 64 MiB output
    otherwise page-faults and zero-fills every page (4096^2 add: 8.5 -> ~4-6 ms). Freed memory kept
    in the heap is capped at 256 MiB by the trim threshold. NUMTORCH_NO_MALLOPT=1 opts out."""
    if not sys.platform.startswith("linux") or os.environ.get("NUMTORCH_NO_MALLOPT") == "1":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        cap = 256 << 20
        return bool(libc.mallopt(-3, cap) and libc.mallopt(-1, cap))   # M_MMAP_THRESHOLD, M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        return False


MALLOC_TUNED = _tune_malloc()


def _tune_gc():
    """Raise the cyclic GC's first threshold from CPython's default 700 to 10000 net allocations. Every
    op leaves a few tracked objects (tensor, storage, graph node, edge tuples) alive until backward, so
    at 700 a 100-op graph is scanned by a collection or two on its way (a 100-op forward: 415 -> 282 us
    without it); graphs of fewer than ~1000 ops now die unscanned. A threshold the program already changed
    is left alone; NUMTORCH_GC_THRESHOLD sets another value (0 or not a number: leave the GC untouched)."""
    import gc
    want = os.environ.get("NUMTORCH_GC_THRESHOLD")
    t0, t1, t2 = gc.get_threshold()
    if want is not None:
        if want.strip().isdigit() and int(want) > 0:
            gc.set_threshold(int(want), t1, t2)
    elif t0 == 700:
        gc.set_threshold(10000, t1, t2)
    return gc.get_threshold()[0]


GC_THRESHOLD = _tune_gc()


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
        if isinstance(self.data, np.ndarray):
            return self.data.ctypes.data
        from .dlpack import _buffer_ptr
        return _buffer_ptr(self.data)


class FreshStorage(Storage):
    """A CPU storage whose buffer numtorch allocated itself (``np.empty``: 1-D, C-contiguous, aligned, of its
    tensors' dtype). The dispatch fast path calls compiled entry points directly on such buffers, skipping
    Numba's argument typing, which a buffer from outside (unaligned, other dtype) would need."""
    __slots__ = ()


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


__all__ = ["Storage", "FreshStorage", "VersionCounter", "empty_buffer", "_device"]
