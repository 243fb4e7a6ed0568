"""dropout, dropout1d/2d/3d (channel masks), alpha_dropout and feature_alpha_dropout.

The keep mask is drawn inside one compiled kernel (``kernels/dropout.py``) from a seed taken from
numtorch's default generator, so ``manual_seed`` makes runs repeatable. Like PyTorch on the CPU the
result's grad_fn is ``MulBackward0`` (``AddBackward0`` for the alpha variants, which add a shift).
"""
import warnings

import numpy as np

from ... import dtypes as _dt
from ...autograd.graph import needs_grad, record
from ...kernels import dropout as _kd
from ...storage import empty_buffer
from ...tensor import Tensor
from .normalization import _flat, _is_grad_enabled, _tensor

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"]

_ALPHA = 1.7580993408473766


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _seed():
    from ...random import default_generator
    return int(default_generator._rng.bit_generator.random_raw())


def _mask_geometry(shape, feature):
    """(number of mask elements, values per mask element, broadcastable noise shape)."""
    n = 1
    for s in shape:
        n *= s
    if not feature:
        return n, 1, tuple(shape)
    if len(shape) < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    nm = shape[0] * shape[1]
    return nm, (n // nm if nm else 0), tuple(shape[:2]) + (1,) * (len(shape) - 2)


def _noise(input, p, feature):
    """The keep mask as a uint8 tensor of the noise shape (1 = kept)."""
    nm, _, nshape = _mask_geometry(input._shape, feature)
    m = empty_buffer(nm, np.uint8, input.device)
    _kd.keep_mask(m, nm, p, _seed())
    return Tensor._from_buffer(m, nshape, _dt.uint8, input.device)


def _fused(input, p, feature):
    """Out-of-place dropout: one kernel draws the mask and writes y; backward is one kernel too."""
    dt = input.dtype
    dev = input.device
    cnp = dt.compute
    nm, inner, nshape = _mask_geometry(input._shape, feature)
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    xb = _flat(input, cnp)
    y = empty_buffer(xb.shape[0], cnp, dev)
    mask = empty_buffer(nm, np.uint8, dev)
    _kd.dropout(xb, y, mask, nm, inner, p, scale, _seed())
    res = _tensor(y, input._shape, dt, dev)
    if needs_grad(input):
        shape = input._shape

        def bw(node, g):
            if _is_grad_enabled():
                noise = Tensor._from_buffer(mask, nshape, _dt.uint8, dev).to(g.dtype) * scale
                return (g * noise,)
            gb = _flat(g, cnp)
            out = empty_buffer(gb.shape[0], cnp, dev)
            _kd.dropout_backward(gb, mask, nm, inner, scale, out)
            return (Tensor._from_buffer(out, shape, _dt.from_numpy_dtype(cnp), dev),)
        record("MulBackward0", res, (input,), bw)
    return res


def _impl(input, p, train, inplace, feature, alpha):
    """PyTorch's ``_dropout_impl``: identity when p == 0, not training or empty; zeros when p == 1."""
    if p == 0 or not train or input.numel() == 0:
        return input
    if p == 1 and alpha:
        z = input.new_zeros(())
        return input.mul_(z) if inplace else input * z
    if not alpha and not inplace:
        return _fused(input, p, feature)
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"result type Float can't be cast to the desired output type {input.dtype.short}")
    noise = _noise(input, p, feature).to(input.dtype)
    if alpha:
        a = 1.0 / np.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
        b = noise.add(-1).mul_(_ALPHA * a).add_(_ALPHA * a * p)
        noise.mul_(a)
        return input.mul_(noise).add_(b) if inplace else (input * noise).add_(b)
    noise.div_(1 - p) if p < 1 else noise.mul_(0)
    return input.mul_(noise)


def dropout(input, p=0.5, training=True, inplace=False):
    """``F.dropout``: zero each element with probability p and scale the rest by 1/(1-p)."""
    _check_p(p)
    return _impl(input, p, training, inplace, False, False)


def _feature(name, input, p, training, inplace, batched):
    """Channel dropout of a (N, C, *) input; unbatched inputs are treated as N = 1."""
    if batched:
        return _impl(input, p, training, inplace, True, False)
    if p == 0 or not training or input.numel() == 0:
        return input
    res = _impl(input.unsqueeze(0), p, training, inplace, True, False)
    return input if inplace else res.squeeze(0)


def dropout1d(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    d = input.ndim
    if d not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {d}D input. Note that dropout1d "
                           "exists to provide channel-wise dropout on inputs with 1 spatial dimension, a channel "
                           "dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _feature("dropout1d", input, p, training, inplace, d == 3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    d = input.ndim
    if d not in (3, 4):
        warnings.warn(f"dropout2d: Received a {d}-D input to dropout2d, which is deprecated and will result in an "
                      "error in a future release. To retain the behavior and silence this warning, please use "
                      "dropout instead. Note that dropout2d exists to provide channel-wise dropout on inputs with 2 "
                      "spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 3D or 4D "
                      "inputs).", stacklevel=2)
    if d == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
                      "This behavior will change in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please "
                      "switch to using dropout1d instead.", stacklevel=2)
    return _impl(input, p, training, inplace, True, False)


def dropout3d(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    d = input.ndim
    if d not in (4, 5):
        warnings.warn(f"dropout3d: Received a {d}-D input to dropout3d, which is deprecated and will result in an "
                      "error in a future release. To retain the behavior and silence this warning, please use "
                      "dropout instead. Note that dropout3d exists to provide channel-wise dropout on inputs with 3 "
                      "spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 4D or 5D "
                      "inputs).", stacklevel=2)
    return _feature("dropout3d", input, p, training, inplace, d == 5)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """``F.alpha_dropout``: dropout that keeps the mean and variance of SELU activations."""
    _check_p(p)
    return _impl(input, p, training, inplace, False, True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """``F.feature_alpha_dropout``: alpha dropout of whole channels."""
    _check_p(p)
    return _impl(input, p, training, inplace, True, True)


# torch.<name> forms (PyTorch's top-level signatures); numtorch/__init__.py maps them lazily.
def _torch_dropout(input, p, train):
    _check_p(p)
    return _impl(input, p, train, False, False, False)


def _torch_dropout_(input, p, train):
    _check_p(p)
    return _impl(input, p, train, True, False, False)


def _torch_feature_dropout(input, p, train):
    _check_p(p)
    return _impl(input, p, train, False, True, False)


def _torch_alpha_dropout(input, p, train):
    _check_p(p)
    return _impl(input, p, train, False, False, True)


def _torch_feature_alpha_dropout(input, p, train):
    _check_p(p)
    return _impl(input, p, train, False, True, True)


TOPLEVEL = {"dropout": _torch_dropout, "dropout_": _torch_dropout_, "feature_dropout": _torch_feature_dropout,
            "alpha_dropout": _torch_alpha_dropout, "feature_alpha_dropout": _torch_feature_alpha_dropout}
