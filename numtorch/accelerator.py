"""``torch.accelerator``: CUDA when a GPU is usable, nothing otherwise (as PyTorch 2.13 reports)."""
from .device import device as _device

_NONE = "Cannot access accelerator device when none is available."


def is_available():
    from . import cuda
    return cuda.is_available()


def device_count():
    from . import cuda
    return cuda.device_count() if is_available() else 0


def current_accelerator(check_available=False):
    return _device("cuda", 0) if is_available() else None


def current_device_index():
    if not is_available():
        raise RuntimeError(_NONE)
    from . import cuda
    return cuda.current_device()


current_device_idx = current_device_index


def set_device_index(device):
    if not is_available():
        raise RuntimeError(_NONE)
    from . import cuda
    cuda.set_device(device)


set_device_idx = set_device_index


def synchronize(device=None):
    if not is_available():
        raise RuntimeError(_NONE)
    from . import cuda
    cuda.synchronize()
