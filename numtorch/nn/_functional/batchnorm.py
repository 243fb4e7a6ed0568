"""batch_norm and instance_norm: one fused forward (statistics + affine apply) and one fused backward
(per-channel reductions + one apply pass), recorded as NativeBatchNormBackward0. Under create_graph the
backward is rebuilt from differentiable tensor ops so double backward works."""
import numpy as np

from ...autograd.graph import needs_grad, record
from ...kernels import batchnorm as _kb
from .pooling import _empty, _np_in as _flat, _wrap

__all__ = ["batch_norm", "instance_norm"]


def _grad_on():
    import numtorch
    return numtorch.is_grad_enabled()


def _verify_batch_size(size):
    prod = size[0]
    for s in size[2:]:
        prod *= s
    if prod == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")


def _ch(t, C):
    """A per-channel tensor as a float64 host NumPy vector (a small copy for a CUDA tensor)."""
    if t is None:
        return None
    t = t.detach()
    a = t._np() if t._storage.device.type == "cpu" else t.cpu()._np()
    return np.asarray(a, dtype=np.float64).reshape(C)


def _update_running(buf, old_np, new_vals):
    """Write a running statistic in place (host view on the CPU, a copy_ on CUDA) and bump its version."""
    if buf._storage.device.type == "cpu":
        a = buf._np()
        a[...] = new_vals.astype(a.dtype)
        buf._bump()
    else:
        import numtorch
        with numtorch.no_grad():
            buf.copy_(numtorch.tensor(new_vals, dtype=buf.dtype))


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-05):
    if training:
        _verify_batch_size(input.size())
    return _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)[0]


def _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps):
    """Returns (output, batch mean, batch biased var) — the last two NumPy float64 or None in eval."""
    if input.ndim < 2:
        raise RuntimeError(f"running_mean should contain {input.shape[0] if input.ndim else 1} elements not "
                           f"{running_mean.numel() if running_mean is not None else 0}")
    N, C = input.shape[0], input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and t.numel() != C:
            raise RuntimeError(f"{name} should contain {C} elements not {t.numel()}")
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f'"batch_norm" not implemented for \'{input.dtype.short}\'')
    L = int(np.prod(input.shape[2:])) if input.ndim > 2 else 1
    cd = input.dtype.compute
    x = _flat(input)
    M = N * L
    if training:
        mean = np.empty(C)
        var = np.empty(C)
        _kb.stats(x, N, C, L, mean, var)
        invstd = 1.0 / np.sqrt(var + eps)
        if running_mean is not None or running_var is not None:
            mom = 0.0 if momentum is None else momentum
            if running_mean is not None:
                _update_running(running_mean, None, (1 - mom) * _ch(running_mean, C) + mom * mean)
            if running_var is not None:
                unb = var * (M / (M - 1)) if M > 1 else np.full(C, np.nan)
                _update_running(running_var, None, (1 - mom) * _ch(running_var, C) + mom * unb)
    else:
        mean = _ch(running_mean, C)
        var = _ch(running_var, C)
        invstd = 1.0 / np.sqrt(var + eps)
    w = _ch(weight, C)
    b = _ch(bias, C)
    scale = invstd if w is None else w * invstd
    shift = -mean * scale if b is None else b - mean * scale
    y = _empty(N * C * L, cd, input)
    _kb.affine(x, scale.astype(cd), shift.astype(cd), y, N, C, L)
    out = _wrap(y, tuple(input.shape), input)
    if needs_grad(input) or (weight is not None and needs_grad(weight)) or (bias is not None and needs_grad(bias)):
        saved = (mean, invstd, training, eps, running_mean, running_var)
        record("NativeBatchNormBackward0", out, (input, weight, bias),
               lambda node, g: _bn_backward(node, g, saved), save=(input, weight))
    return out, (mean if training else None), (var if training else None)


def _bn_backward(node, g, saved):
    mean, invstd, training, eps, rm, rv = saved
    x_t, w_t = node.saved_tensors
    needs = node.next_functions
    want = [e[0] is not None for e in needs]
    N, C = x_t.shape[0], x_t.shape[1]
    L = int(np.prod(x_t.shape[2:])) if x_t.ndim > 2 else 1
    if _grad_on():
        return _bn_backward_composite(x_t, w_t, g, training, eps, rm, rv, want)
    cd = x_t.dtype.compute
    x = _flat(x_t)
    ga = _flat(g)
    sg = np.empty(C)
    sgx = np.empty(C)
    _kb.backward_reduce(ga, x, N, C, L, mean, sg, sgx)
    w = np.ones(C) if w_t is None else _ch(w_t, C)
    gx = gw = gb = None
    if want[0]:
        M = N * L
        A = w * invstd
        if training:
            B = -w * invstd ** 3 * sgx / M
            K = -A * sg / M - B * mean
        else:
            B = np.zeros(C)
            K = np.zeros(C)
        out = _empty(N * C * L, cd, x_t)
        _kb.affine2(ga, x, A.astype(cd), B.astype(cd), K.astype(cd), out, N, C, L)
        gx = _wrap(out, tuple(x_t.shape), x_t)
    if len(want) > 1 and want[1]:
        gw = _vec(sgx * invstd, w_t)
    if len(want) > 2 and want[2]:
        gb = _vec(sg, w_t if w_t is not None else x_t)
    return gx, gw, gb


def _vec(a, like):
    import numtorch
    return numtorch.tensor(a, dtype=like.dtype, device=like.device)


def _bn_backward_composite(x, w, g, training, eps, rm, rv, want):
    dims = [0] + list(range(2, x.ndim))
    shape = [1, x.shape[1]] + [1] * (x.ndim - 2)
    if training:
        mu = x.mean(dims, keepdim=True)
        var = ((x - mu) * (x - mu)).mean(dims, keepdim=True)
    else:
        mu = rm.detach().reshape(shape)
        var = rv.detach().reshape(shape)
    invstd = (var + eps).rsqrt()
    xhat = (x - mu) * invstd
    wv = w.reshape(shape) if w is not None else None
    gx = gw = gb = None
    if want[0]:
        if training:
            t = g - g.mean(dims, keepdim=True) - xhat * (g * xhat).mean(dims, keepdim=True)
        else:
            t = g
        gx = t * invstd if wv is None else t * (wv * invstd)
    if len(want) > 1 and want[1]:
        gw = (g * xhat).sum(dims)
    if len(want) > 2 and want[2]:
        gb = g.sum(dims)
    return gx, gw, gb


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-05):
    """Batch norm of each (sample, channel) plane: runs as batch_norm over a (1, N*C, ...) view."""
    if use_input_stats:
        _verify_batch_size_instance(input.size())
    N, C = input.shape[0], input.shape[1]
    shape = tuple(input.shape)
    x = input.reshape((1, N * C) + shape[2:])
    w = None if weight is None else weight.repeat(N)
    b = None if bias is None else bias.repeat(N)
    rm = None if running_mean is None else running_mean.repeat(N)
    rv = None if running_var is None else running_var.repeat(N)
    out, mean, var = _batch_norm(x, rm, rv, w, b, use_input_stats, momentum, eps)
    if use_input_stats:
        import numtorch
        with numtorch.no_grad():
            if running_mean is not None:
                running_mean.copy_(rm.view(N, C).mean(0))
            if running_var is not None:
                running_var.copy_(rv.view(N, C).mean(0))
    return out.view(shape)


def _verify_batch_size_instance(size):
    prod = 1
    for s in size[2:]:
        prod *= s
    if prod == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {size}")


def _torch_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled=True):
    """``torch.batch_norm`` (ATen argument order: weight and bias before the running statistics)."""
    return _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)[0]


def _torch_instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps,
                         cudnn_enabled=True):
    return instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


# torch.<name> forms (numtorch/__init__.py looks names up here)
TOPLEVEL = {"batch_norm": _torch_batch_norm, "instance_norm": _torch_instance_norm}
