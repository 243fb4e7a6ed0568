"""Flat-buffer helpers the front end uses on either device (no NumPy-only operations)."""
import numpy as np

from .kernels import index as _ix
from .storage import empty_buffer


def copy_flat(src, dst):
    """``dst[:] = src`` with a cast, on the buffers' device (both flat, same length)."""
    n = len(dst)
    if n:
        _ix.copy_strided(src, 0, (1,), dst, 0, (1,), (n,))


def cast_flat(buf, np_dtype, device, copy=False):
    """``buf`` itself when it already has ``np_dtype`` (unless ``copy``), else a cast copy on ``device``."""
    if buf.dtype == np_dtype and not copy:
        return buf
    out = empty_buffer(len(buf), np_dtype, device)
    copy_flat(buf, out)
    return out


def on(buf, device):
    """A host array ``buf`` moved to ``device`` (index plans are built on the host)."""
    if device.type == "cpu" or not isinstance(buf, np.ndarray):
        return buf
    out = empty_buffer(buf.size, buf.dtype, device)
    if buf.size:
        out.copy_to_device(np.ascontiguousarray(buf).reshape(-1))
    return out


def host_ints(buf):
    """A small device index/count buffer as a NumPy array (an explicit, documented sync point)."""
    return buf if isinstance(buf, np.ndarray) else buf.copy_to_host()
