"""``numtorch.cuda``: device queries. Without a usable GPU, CUDA requests fail like a CPU-only PyTorch."""

_NOT_COMPILED = "Torch not compiled with CUDA enabled"


def _numba_cuda():
    try:
        from numba import cuda
    except ImportError:
        return None
    return cuda


def _simulated():
    import os
    return os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"


def is_available():
    """True with a real GPU; under Numba's simulator only when NUMTORCH_CUDASIM=1 opts in (tests)."""
    import os
    if _simulated() and os.environ.get("NUMTORCH_CUDASIM") != "1":
        return False
    cuda = _numba_cuda()
    if cuda is None:
        return False
    try:
        return bool(cuda.is_available())
    except Exception:
        return False


def _check_available():
    if not is_available():
        raise AssertionError(_NOT_COMPILED)


def _cuda_version():
    return None if not is_available() else "12.0"


def device_count():
    if not is_available():
        return 0
    return len(_numba_cuda().gpus)


def current_device():
    _check_available()
    return 0


def get_device_name(device=None):
    _check_available()
    return _numba_cuda().get_current_device().name.decode() if hasattr(
        _numba_cuda().get_current_device().name, "decode") else str(_numba_cuda().get_current_device().name)


def synchronize(device=None):
    if is_available():
        _numba_cuda().synchronize()


def manual_seed(seed):
    from .random import manual_seed as _ms
    _ms(seed)


manual_seed_all = manual_seed


def memory_allocated(device=None):
    return 0


def _empty_buffer(n, np_dtype):
    _check_available()
    return _numba_cuda().device_array(n, dtype=np_dtype)


def to_device(t, dev):
    if dev.type == "cuda":
        _check_available()
    raise RuntimeError(f"numtorch: moving tensors to {dev} is not supported yet")


def copy_between(dst, src):
    raise RuntimeError("numtorch: CUDA copies are not supported yet")


def from_cuda_array(obj, dtype=None):
    _check_available()
    raise RuntimeError("numtorch: CUDA tensors are not supported yet")
