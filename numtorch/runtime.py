"""Process-wide knobs scripts set: thread counts (driving Numba's), deterministic algorithms, float32 matmul
precision (recorded: numtorch's matmul is always full float32)."""
import warnings

_state = {"deterministic": False, "warn_only": False, "matmul_precision": "highest", "interop": None}


def get_num_threads():
    import numba
    from .kernels import parallel_ok
    return numba.get_num_threads() if parallel_ok() else 1


def set_num_threads(n):
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"set_num_threads(): argument 'int' (position 1) must be int, not {type(n).__name__}")
    if n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    import numba
    from .kernels import parallel_ok
    if parallel_ok():
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))


def get_num_interop_threads():
    import os
    return _state["interop"] or os.cpu_count() or 1


def set_num_interop_threads(n):
    if n <= 0:
        raise RuntimeError("Expected positive number of threads")
    _state["interop"] = int(n)


def use_deterministic_algorithms(mode, *, warn_only=False):
    """numtorch kernels are deterministic already (atomics-free reductions on the CPU); the flag is recorded."""
    _state["deterministic"], _state["warn_only"] = bool(mode), bool(warn_only)


def are_deterministic_algorithms_enabled():
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    return _state["warn_only"]


def set_float32_matmul_precision(precision):
    if precision not in ("highest", "high", "medium"):
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                      "setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    _state["matmul_precision"] = precision


def get_float32_matmul_precision():
    return _state["matmul_precision"]


__all__ = ["get_num_threads", "set_num_threads", "get_num_interop_threads", "set_num_interop_threads",
           "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
           "is_deterministic_algorithms_warn_only_enabled", "set_float32_matmul_precision",
           "get_float32_matmul_precision"]
