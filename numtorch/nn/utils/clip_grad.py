"""Gradient clipping: ``clip_grad_norm_``, ``clip_grad_value_``, ``get_total_norm``, ``clip_grads_with_norm_``.

The total norm over all gradients is one compiled pass per (device, dtype) group (kernels/nnlinear.py:
sum of |g|**p, or max |g|), equal to PyTorch's norm of the per-tensor norms; the scaling is one more
compiled pass over the same buffers."""
import math
import types
import warnings

import numpy as np

from ...tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _flat(g):
    """A flat buffer viewing (or, when g is not contiguous, copying) g's elements, and whether it is a view."""
    if g.is_contiguous():
        n = g.numel()
        return g._storage.data[g._offset:g._offset + n], True
    c = g.contiguous()
    return c._storage.data[:c.numel()], False


def _groups(tensors):
    """{(device, np dtype): [flat buffers]}; float16 goes through float32 copies."""
    groups = {}
    for g in tensors:
        if g.dtype.name == "float16":
            g = g.float()
        buf, _ = _flat(g)
        groups.setdefault((g._storage.device, buf.dtype), []).append(buf)
    return groups


def _result_dtype(tensors):
    from ... import promote_types
    dt = tensors[0].dtype
    for t in tensors[1:]:
        dt = promote_types(dt, t.dtype)
    return dt


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of the per-tensor norms of ``tensors`` (PyTorch's total gradient norm)."""
    from ...creation import tensor as _tensor
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    norm_type = float(norm_type)
    if len(tensors) == 0:
        return _tensor(0.0)
    dev = tensors[0].device
    if norm_type == math.inf or norm_type > 0:
        from ...kernels import nnlinear as _kn
        accs = [_kn.grad_norm(bufs, norm_type) for bufs in _groups(tensors).values()]
        if norm_type == math.inf:
            total = max(accs) if not any(a != a for a in accs) else math.nan
        else:
            total = math.fsum(accs) ** (1.0 / norm_type)
        total_norm = _tensor(total, dtype=_result_dtype(tensors), device=dev)
    else:
        # 0, negative and -inf orders: PyTorch's composite (norm of the stacked per-tensor norms).
        from ... import stack
        from ...linalg import vector_norm
        norms = [vector_norm(g, norm_type).to(dev) for g in tensors]
        total_norm = vector_norm(stack(norms), norm_type)
    if error_if_nonfinite:
        v = float(total_norm.item())
        if math.isnan(v) or math.isinf(v):
            raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
                               "so it cannot be clipped. To disable this error and scale the gradients by the "
                               "non-finite norm anyway, set `error_if_nonfinite=False`")
    return total_norm


def _scale(grads, coef):
    """g *= coef for every gradient: one compiled pass per (device, dtype) group of contiguous grads."""
    from ...kernels import nnlinear as _kn
    from ...autograd.grad_mode import no_grad
    groups = {}
    for g in grads:
        if g.dtype.name == "float16" or not g.is_contiguous():
            with no_grad():
                g.mul_(coef)
            continue
        buf, _ = _flat(g)
        groups.setdefault((g._storage.device, buf.dtype), []).append(buf)
        g._bump()
    for bufs in groups.values():
        _kn.scale_all(bufs, coef)


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients of ``parameters`` by min(1, max_norm / (total_norm + 1e-6))."""
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    max_norm = float(max_norm)
    if len(grads) == 0:
        return
    # PyTorch computes the coefficient in the norm's dtype: mirror its rounding.
    tn = float(total_norm.item()) if isinstance(total_norm, Tensor) else float(total_norm)
    ft = total_norm.dtype.np.type if isinstance(total_norm, Tensor) and total_norm.dtype.is_floating_point \
        else np.float32
    with np.errstate(all="ignore"):
        coef = float(ft(max_norm) / (ft(tn) + ft(1e-6)))
    coef = min(coef, 1.0) if coef == coef else coef
    if coef == 1.0:
        return
    _scale(grads, coef)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Clip the gradient norm of ``parameters`` (computed over all gradients together) in place; returns
    the total norm before clipping."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and len(parameters) == 0:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=3)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated alias of ``clip_grad_norm_``."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient of ``parameters`` to [-clip_value, clip_value] in place."""
    from ...autograd.grad_mode import no_grad
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    clip_value = float(clip_value)
    with no_grad():
        for p in parameters:
            if p.grad is not None:
                p.grad.clamp_(min=-clip_value, max=clip_value)
