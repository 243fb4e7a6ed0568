"""layer_norm, rms_norm, group_norm (fused kernels with a fused backward) and local_response_norm.

First-order gradients run the fused backward kernels of ``kernels/norm.py``; when the backward itself
is recorded (``create_graph=True``) the gradients are built from differentiable tensor ops instead, so
double backward works.
"""
import numpy as np

from ... import dtypes as _dt
from ...autograd.graph import needs_grad, record
from ...autograd.grad_mode import no_grad
from ...kernels import norm as _kn
from ...reductions import _block
from ...storage import empty_buffer
from ...tensor import Tensor

__all__ = ["layer_norm", "rms_norm", "group_norm", "local_response_norm"]


def _is_grad_enabled():
    from ... import is_grad_enabled
    return is_grad_enabled()


def _same_device(*ts):
    """PyTorch's error when the tensors of one call live on different devices."""
    devs = {t._storage.device for t in ts if t is not None}
    if len(devs) > 1:
        a, b = sorted(devs, key=lambda d: d.type != "cuda")[:2]
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                           f"{a} and {b}!")


def _flat(t, cnp):
    """A contiguous flat buffer of ``t``'s values in NumPy dtype ``cnp`` (no copy when possible)."""
    return _block(t, (), cnp)[0]


def _opt(t, cnp, dev):
    return _flat(t, cnp) if t is not None else empty_buffer(0, cnp, dev)


def _tensor(buf, shape, dt, dev):
    """Wrap a compute buffer as a tensor of dtype ``dt`` (float16 results are computed in float32)."""
    if buf.dtype == dt.np:
        return Tensor._from_buffer(buf, shape, dt, dev)
    t = Tensor._from_buffer(buf, shape, _dt.from_numpy_dtype(buf.dtype), dev)
    with no_grad():
        return t.to(dt)


def _float_check(x, kernel):
    if not x.dtype.is_floating_point:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{x.dtype.short}'")


def _mixed(x, *ts):
    """Weights share the input's dtype; a float16 input may take float32 weights (PyTorch's mixed type)."""
    for t in ts:
        if t is not None and t.dtype is not x.dtype and not (x.dtype is _dt.float16 and t.dtype is _dt.float32):
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")


def _norm_shape(normalized_shape, fn):
    # PyTorch's functional forms take a sequence only (the modules accept an int and wrap it).
    if not isinstance(normalized_shape, (tuple, list)):
        raise TypeError(f"{fn}(): argument 'normalized_shape' (position 2) must be tuple of ints, not "
                        f"{type(normalized_shape).__name__}")
    return tuple(int(s) for s in normalized_shape)


def _check_norm_shape(x, ns, weight, bias, rms):
    k = len(ns)
    shp = x._shape
    if k and len(shp) >= k and tuple(shp[len(shp) - k:]) == ns and (weight is None or weight._shape == ns) \
            and (bias is None or bias._shape == ns):
        return                                  # the common case, checked cheaply
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != ns:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                               f"{list(t.shape)} and normalized_shape = {list(ns)}")
    if k == 0 and not rms:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., containing at least "
                           "one element, but got normalized_shape = []")
    if x.ndim < k or tuple(x.shape[x.ndim - k:]) != ns:
        sep = "" if rms else ", "
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape "
                           f"[*{sep}{', '.join(str(s) for s in ns)}], but got input of size{list(x.shape)}")


def _norm_rows(input, ns, weight, bias, eps, rms):
    """Shared forward of layer_norm / rms_norm: (y, saved (mean, rstd) buffers, rows, n)."""
    dev = input.device
    cnp = input.dtype.compute
    n = 1
    for s in ns:
        n *= s
    rows = input.numel() // n if n else 0
    xb = _flat(input, cnp)
    y = empty_buffer(input.numel(), cnp, dev)
    mean = empty_buffer(rows, cnp, dev)
    rstd = empty_buffer(rows, cnp, dev)
    if n:
        _kn.layer_norm(xb, rows, n, _opt(weight, cnp, dev), _opt(bias, cnp, dev), eps, y, mean, rstd, rms=rms)
    return _tensor(y, input._shape, input.dtype, dev), mean, rstd, rows, n


def _composite(x, w, b, g, ns, eps, rms, needs):
    """Differentiable gradients of layer/rms norm (used when the backward is itself recorded)."""
    dims = tuple(range(x.ndim - len(ns), x.ndim))
    if rms:
        xc = x
        rstd = (x * x).mean(dims, keepdim=True).add(eps).rsqrt()
    else:
        xc = x - x.mean(dims, keepdim=True)
        rstd = (xc * xc).mean(dims, keepdim=True).add(eps).rsqrt()
    xh = xc * rstd
    gw = g * w if w is not None else g
    dx = dw = db = None
    if needs[0]:
        t = gw - xh * (gw * xh).mean(dims, keepdim=True)
        if not rms:
            t = t - gw.mean(dims, keepdim=True)
        dx = rstd * t
    lead = tuple(range(x.ndim - len(ns)))
    if needs[1]:
        dw = (g * xh).sum(lead) if lead else g * xh
    if len(needs) > 2 and needs[2]:
        db = g.sum(lead) if lead else g
    return dx, dw, db


def _norm_backward(node_inputs, mean, rstd, rows, n, ns, eps, rms):
    def bw(node, g):
        saved = node.saved_tensors
        x, w = saved[0], saved[1]
        b = saved[2] if len(saved) > 2 else None
        needs = (x.requires_grad, w is not None and w.requires_grad, b is not None and b.requires_grad)
        if rms:
            needs = needs[:2]
        if _is_grad_enabled():
            return _composite(x, w, b, g, ns, eps, rms, needs)[:len(node_inputs)]
        dev = x.device
        cnp = x.dtype.compute
        gb = _flat(g, cnp)
        xb = _flat(x, cnp)
        dx = empty_buffer(rows * n, cnp, dev) if needs[0] else None
        dw = empty_buffer(n, cnp, dev) if needs[1] else None
        db = empty_buffer(n, cnp, dev) if len(needs) > 2 and needs[2] else None
        _kn.layer_norm_backward(gb, xb, mean, rstd, _opt(w, cnp, dev), rows, n, dx, dw, db, rms=rms)
        cdt = _dt.from_numpy_dtype(cnp)
        res = (Tensor._from_buffer(dx, x._shape, cdt, dev) if dx is not None else None,
               Tensor._from_buffer(dw, ns, cdt, dev) if dw is not None else None,
               Tensor._from_buffer(db, ns, cdt, dev) if db is not None else None)
        return res[:len(node_inputs)]
    return bw


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """``F.layer_norm``: normalise over the trailing ``normalized_shape`` dims (NativeLayerNormBackward0)."""
    ns = _norm_shape(normalized_shape, "layer_norm")
    _check_norm_shape(input, ns, weight, bias, False)
    _float_check(input, "LayerNormKernelImpl")
    _mixed(input, weight, bias)
    _same_device(input, weight, bias)
    res, mean, rstd, rows, n = _norm_rows(input, ns, weight, bias, float(eps), False)
    if needs_grad(input, weight, bias) and n:
        inputs = (input, weight, bias)
        record("NativeLayerNormBackward0", res, inputs, _norm_backward(inputs, mean, rstd, rows, n, ns, eps, False),
               save=inputs)
    return res


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """``F.rms_norm``: x / sqrt(mean(x**2) + eps) * weight over the trailing dims (MulBackward0, like torch)."""
    ns = _norm_shape(normalized_shape, "rms_norm")
    _check_norm_shape(input, ns, weight, None, True)
    _float_check(input, "rms_norm")
    _same_device(input, weight)
    if eps is None:
        eps = float(np.finfo(input.dtype.np).eps)
    res, mean, rstd, rows, n = _norm_rows(input, ns, weight, None, float(eps), True)
    if needs_grad(input, weight) and n:
        inputs = (input, weight)
        record("MulBackward0", res, inputs, _norm_backward(inputs, mean, rstd, rows, n, ns, eps, True), save=inputs)
    return res


# -- group norm ----------------------------------------------------------------------------------------

def _gn_composite(x, w, b, g, G, eps, needs):
    N, C = x.shape[0], x.shape[1]
    xs = x.reshape(N, G, -1)
    xc = xs - xs.mean(2, keepdim=True)
    rstd = (xc * xc).mean(2, keepdim=True).add(eps).rsqrt()
    xh = (xc * rstd).reshape(x.shape)
    bshape = (1, C) + (1,) * (x.ndim - 2)
    gw = g * w.reshape(bshape) if w is not None else g
    dx = dw = db = None
    red = (0,) + tuple(range(2, x.ndim))
    if needs[0]:
        gws = gw.reshape(N, G, -1)
        xhs = xh.reshape(N, G, -1)
        dx = (rstd * (gws - gws.mean(2, keepdim=True) - xhs * (gws * xhs).mean(2, keepdim=True))).reshape(x.shape)
    if needs[1]:
        dw = (g * xh).sum(red)
    if needs[2]:
        db = g.sum(red)
    return dx, dw, db


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """``F.group_norm`` over (N, C, *) with per-channel affine (NativeGroupNormBackward0)."""
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.ndim}")
    N, C = input.shape[0], input.shape[1]
    G = int(num_groups)
    if G <= 0 or C % G:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {list(input.shape)} and num_groups={G}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.ndim != 1 or t.numel() != C):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of channels in input, "
                               f"but got {name} of shape {list(t.shape)} and input of shape {list(input.shape)}")
    _float_check(input, "GroupNormKernelImpl")
    _mixed(input, weight, bias)
    _same_device(input, weight, bias)
    dev = input.device
    cnp = input.dtype.compute
    hw = input.numel() // (N * C) if N * C else 0
    eps = float(eps)
    xb = _flat(input, cnp)
    y = empty_buffer(input.numel(), cnp, dev)
    mean = empty_buffer(N * G, cnp, dev)
    rstd = empty_buffer(N * G, cnp, dev)
    _kn.group_norm(xb, N, C, hw, G, _opt(weight, cnp, dev), _opt(bias, cnp, dev), eps, y, mean, rstd)
    res = _tensor(y, input._shape, input.dtype, dev)
    if needs_grad(input, weight, bias):
        def bw(node, g):
            x, w, b = node.saved_tensors
            needs = (x.requires_grad, w is not None and w.requires_grad, b is not None and b.requires_grad)
            if _is_grad_enabled():
                return _gn_composite(x, w, b, g, G, eps, needs)
            xb2 = _flat(x, cnp)
            gb = _flat(g, cnp)
            dx = empty_buffer(x.numel(), cnp, dev) if needs[0] else None
            dw = empty_buffer(C, cnp, dev) if needs[1] else None
            db = empty_buffer(C, cnp, dev) if needs[2] else None
            _kn.group_norm_backward(gb, xb2, mean, rstd, _opt(w, cnp, dev), N, C, hw, G, dx, dw, db)
            cdt = _dt.from_numpy_dtype(cnp)
            return (Tensor._from_buffer(dx, x._shape, cdt, dev) if dx is not None else None,
                    Tensor._from_buffer(dw, (C,), cdt, dev) if dw is not None else None,
                    Tensor._from_buffer(db, (C,), cdt, dev) if db is not None else None)
        inputs = (input, weight, bias)
        record("NativeGroupNormBackward0", res, inputs, bw, save=inputs)
    return res


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """``F.local_response_norm``: x / (k + alpha * mean over ``size`` neighbouring channels of x**2) ** beta."""
    dim = input.ndim
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    from ...joining import cat
    C = input.shape[1]
    sq = input.mul(input)
    front, back = size // 2, (size - 1) // 2
    parts = []
    if front:
        parts.append(sq.new_zeros((input.shape[0], front) + tuple(input.shape[2:])))
    parts.append(sq)
    if back:
        parts.append(sq.new_zeros((input.shape[0], back) + tuple(input.shape[2:])))
    padded = cat(parts, 1) if len(parts) > 1 else sq
    div = padded[:, 0:C]
    for j in range(1, size):
        div = div + padded[:, j:j + C]
    div = (div / size).mul(alpha).add(k).pow(beta)
    return input / div


# torch.<name> forms (PyTorch's top-level signatures); numtorch/__init__.py maps them lazily.
def _torch_layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    return layer_norm(input, normalized_shape, weight, bias, eps)


def _torch_group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    return group_norm(input, num_groups, weight, bias, eps)


TOPLEVEL = {"layer_norm": _torch_layer_norm, "group_norm": _torch_group_norm, "rms_norm": rms_norm}
