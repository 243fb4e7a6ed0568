"""Numba-compiled kernels of numtorch: flat buffers, offsets, shapes and strides; never a Tensor.

Importing this package selects a thread-safe Numba threading layer: the default ``workqueue`` layer aborts
the process when two Python threads enter ``parallel=True`` code, so numtorch asks for ``tbb`` (loading
``libtbb.so.12`` from the environment's ``lib`` folder first, which the loader does not search) and runs
every kernel serially when no safe layer can be loaded."""
import ctypes
import glob
import os
import sys
import threading

import numba

_lock = threading.Lock()
_parallel = None


def _preload_tbb():
    for root in {sys.prefix, sys.base_prefix, os.path.dirname(os.path.dirname(sys.executable))}:
        for path in sorted(glob.glob(os.path.join(root, "lib", "libtbb.so*"))):
            try:
                ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
                return True
            except OSError:
                continue
    return False


def parallel_ok():
    """True when parallel kernels may run: a safe threading layer (tbb/omp) loaded. Decided once."""
    global _parallel
    if _parallel is None:
        with _lock:
            if _parallel is None:
                _parallel = _select_layer()
    return _parallel


def _select_layer():
    if os.environ.get("NUMTORCH_SERIAL") == "1":
        return False
    requested = os.environ.get("NUMBA_THREADING_LAYER", "")
    if requested not in ("", "default", "tbb", "safe"):
        return False
    _preload_tbb()
    numba.config.THREADING_LAYER = "tbb"
    try:
        from numba.np.ufunc import parallel as _p
        _p._launch_threads()
        return numba.threading_layer() == "tbb"
    except (ValueError, RuntimeError, ImportError):
        return False


def nthreads():
    return numba.get_num_threads() if parallel_ok() else 1


def cache_info():
    """Per kernel dispatcher: compiled signatures, cache hits and misses (``cache=True`` on disk)."""
    from . import _registry
    return _registry.cache_info()
