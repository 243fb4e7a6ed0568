"""CUDA twins of the CPU kernel entry points: same names, same arguments, device buffers.

Buffers are flat 1-D Numba device arrays (``numba.cuda.device_array``; under
``NUMBA_ENABLE_CUDASIM=1`` the simulator's stand-in). Shapes, strides and offsets travel as
small int64 device arrays (``dev_ints``, cached) so one compiled kernel serves every ndim and
shape. Kernels use grid-stride loops; ``launch(n)`` gives the (blocks, threads) of a size class.
Under the simulator every thread is a Python thread, so launches there are capped at one block
of ``SIM_THREADS`` threads and the grid-stride loops do the rest.
"""
import math
import weakref

import numpy as np
from numba import cuda
from numba.core import config as _config

SIM = bool(_config.ENABLE_CUDASIM)
THREADS = 256                     # threads per block of elementwise-style kernels
SIM_THREADS = 32
_BLOCKS_PER_SM = 32
_LAUNCH = {}                      # size class -> (blocks, threads)
_INTS = {}                        # tuple of ints -> device int64 array
_HOST = {}                        # id(host scalar buffer) -> (host array, device copy)
_LIVE = [0, 0]                    # bytes held by live buffers from ``empty``, and their peak


def _lock_sim_shared_arrays():
    """The simulator allocates ``cuda.shared.array`` with an unlocked dict get-then-set, so two
    threads of one block can get different arrays (a wrong count, rarely): allocate under a lock."""
    import sys
    import threading
    import traceback

    from numba.core import types
    from numba.cuda.simulator import kernelapi
    from numba.np import numpy_support
    orig, lock = kernelapi.FakeCUDAShared.array, threading.Lock()
    if getattr(orig, "_numtorch_locked", False):
        return

    def array(self, shape, dtype):       # the original, keyed by the kernel's source line, locked
        if shape == 0:
            return orig(self, shape, dtype)
        caller = traceback.extract_stack(sys._getframe())[-2][0:2]
        with lock:
            res = self._allocations.get(caller)
            if res is None:
                dt = numpy_support.as_dtype(dtype) if isinstance(dtype, types.Type) else dtype
                res = self._allocations[caller] = np.empty(shape, dt)
        return res
    array._numtorch_locked = True
    kernelapi.FakeCUDAShared.array = array


if SIM:
    _lock_sim_shared_arrays()


def _sm_count():
    try:
        return cuda.get_current_device().MULTIPROCESSOR_COUNT
    except Exception:  # noqa: BLE001 - only sizes the grid
        return 80


def launch(n, threads=THREADS):
    """(blocks, threads) for ``n`` work items, computed once per power-of-two size class."""
    key = (max(int(n), 1).bit_length(), threads)
    cfg = _LAUNCH.get(key)
    if cfg is None:
        if SIM:
            cfg = (1, min(SIM_THREADS, threads, 1 << (key[0] - 1) if key[0] > 1 else 1))
        else:
            cap = _sm_count() * _BLOCKS_PER_SM
            cfg = (max(1, min(cap, math.ceil((1 << key[0]) / threads))), threads)
        _LAUNCH[key] = cfg
    return cfg


def block_threads(threads=THREADS):
    """Threads per block for one-block-per-row kernels (shared memory sized to match)."""
    return min(threads, SIM_THREADS) if SIM else threads


def _release(nbytes):
    _LIVE[0] -= nbytes


def empty(n, np_dtype):
    """A fresh flat device buffer of ``n`` elements, counted by ``memory_allocated``."""
    buf = cuda.device_array(int(n), dtype=np_dtype)
    nbytes = int(n) * np.dtype(np_dtype).itemsize
    _LIVE[0] += nbytes
    if _LIVE[0] > _LIVE[1]:
        _LIVE[1] = _LIVE[0]
    # Views (slices, reshapes) share the allocation, not the array object: watch the allocation.
    owner = buf._ary if SIM else buf.gpu_data
    weakref.finalize(owner, _release, nbytes)
    return buf


def allocated():
    return _LIVE[0]


def peak(reset=False):
    if reset:
        _LIVE[1] = _LIVE[0]
    return _LIVE[1]


def dev_ints(values):
    """A cached device int64 array holding ``values`` (shape/stride/offset metadata)."""
    key = tuple(int(v) for v in values)
    d = _INTS.get(key)
    if d is None:
        if len(_INTS) > 4096:
            _INTS.clear()
        d = _INTS[key] = cuda.to_device(np.array(key if key else (0,), dtype=np.int64))
    return d


def as_device(buf):
    """``buf`` if it is on the device; a (cached) device copy of a small host buffer, which is how
    Python scalars and 0-d CPU tensors enter CUDA ops (PyTorch allows those)."""
    if not isinstance(buf, np.ndarray):
        return buf
    if buf.size > 1:
        raise RuntimeError("Expected all tensors to be on the same device, but found at least two "
                           "devices, cuda:0 and cpu!")
    raw = buf.tobytes()
    hit = _HOST.get(id(buf))
    if hit is not None and hit[0] is buf and hit[2] == raw:
        return hit[1]
    d = cuda.to_device(np.ascontiguousarray(buf))
    if len(_HOST) > 1024:
        _HOST.clear()
    _HOST[id(buf)] = (buf, d, raw)
    return d


def to_host(buf):
    return buf.copy_to_host()


def flag():
    """A zeroed one-element int32 device array for a kernel to report an error into."""
    return cuda.to_device(np.zeros(1, np.int32))


def check_flag(f, exc, msg):
    """Raise ``exc(msg)`` if a kernel set ``f`` (one device-to-host copy)."""
    if int(f.copy_to_host()[0]):
        raise exc(msg)
