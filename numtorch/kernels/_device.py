"""Which buffers live on a GPU, and the lazy hand-over of a kernel call to its CUDA twin.

Every CPU entry point that the front end calls starts with ``if on_device(buf): return
cuda_impl("<module>").<same name>(...)``: the CUDA twins in ``numtorch.kernels.cuda`` take the
same arguments with Numba device arrays in place of NumPy buffers, so the front end never
branches on the device. ``numba.cuda`` is imported only when the first device buffer shows up
(it costs 0.3-0.8 s), never by ``import numtorch``.
"""
import importlib

import numpy as np

_IMPLS = {}


def on_device(x):
    """True for a Numba CUDA device array (or the simulator's stand-in for one)."""
    return type(x) is not np.ndarray and hasattr(x, "copy_to_host")


def cuda_impl(name):
    """The module ``numtorch.kernels.cuda.<name>`` (imported on first use)."""
    m = _IMPLS.get(name)
    if m is None:
        m = _IMPLS[name] = importlib.import_module("numtorch.kernels.cuda." + name)
    return m
