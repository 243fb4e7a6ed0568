"""CUDA twins of kernels/softmax.py: one block per row (or column) of the (outer, n, inner) layout; the
kernels are shared with cuda/reduction.py, which already serves torch.softmax there."""
from .reduction import softmax, softmax_backward  # noqa: F401

__all__ = ['softmax', 'softmax_backward']
