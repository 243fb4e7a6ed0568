"""``torch.nn.functional`` activations: op-table rows (one fused kernel forward, one fused kernel backward)
plus the few that PyTorch itself composes (softsign, tanhshrink, softmin) or that need extra tensors
(prelu, rrelu, glu).  softmax/softmin/log_softmax live in ``_functional/softmax.py``."""

from ... import dtypes as _dt
from ...autograd.graph import needs_grad, record
from ...ops import elementwise, inplace as _inplace
from ...tensor import Tensor

__all__ = ["threshold", "threshold_", "relu", "relu_", "relu6", "hardtanh", "hardtanh_", "elu", "elu_", "selu",
           "selu_", "celu", "celu_", "leaky_relu", "leaky_relu_", "prelu", "rrelu", "rrelu_", "glu", "gelu",
           "silu", "mish", "hardswish", "hardsigmoid", "logsigmoid", "hardshrink", "softshrink", "softplus",
           "softsign", "tanhshrink", "sigmoid", "tanh"]

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_LABEL = {"gelu": "GeluKernelImpl", "gelu_tanh": "GeluKernelImpl", "logsigmoid": "log_sigmoid_cpu",
          "celu": "elu_cpu", "celu_": "elu_cpu", "elu_": "elu_cpu", "leaky_relu_": "leaky_relu_cpu"}


def _float_only(name, x):
    if not x.dtype.is_floating_point:
        label = _LABEL.get(name, name + "_cpu")
        raise NotImplementedError(f'"{label}" not implemented for \'{x.dtype.short}\'')


def _act(name, x, params=(), inplace=False, iname=None):
    """Run table row ``name`` (or ``iname`` in place) with scalar parameters."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")
    params = tuple(float(p) for p in params)
    if inplace:
        return _inplace(iname or name, x, params=params, ctx=params)
    return elementwise(name, x, params=params, ctx=params)


def threshold(input, threshold, value, inplace=False):
    return _act("threshold", input, (threshold, value), inplace, "threshold_")


def threshold_(input, threshold, value):
    return _act("threshold", input, (threshold, value), True, "threshold_")


def relu(input, inplace=False):
    from ...pointwise import relu as _relu
    if inplace:
        return relu_(input)
    return _relu(input)


def relu_(input):
    if input.dtype is _dt.bool:
        raise RuntimeError("Boolean inputs not supported for relu")
    return _inplace("relu", input)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _act("hardtanh", input, (min_val, max_val), inplace)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, True)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def elu(input, alpha=1.0, inplace=False):
    _float_only("elu", input)
    return _act("elu", input, (alpha, 1.0, 1.0), inplace, "elu_")


def elu_(input, alpha=1.0):
    return elu(input, alpha, True)


def selu(input, inplace=False):
    _float_only("elu", input)
    return _act("elu", input, (SELU_ALPHA, SELU_SCALE, 1.0), inplace, "elu_")


def selu_(input):
    return selu(input, True)


def celu(input, alpha=1.0, inplace=False):
    _float_only("elu", input)
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return _act("celu", input, (alpha, 1.0, 1.0 / alpha), inplace, "celu_")


def celu_(input, alpha=1.0):
    return celu(input, alpha, True)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    _float_only("leaky_relu", input)
    return _act("leaky_relu", input, (negative_slope,), inplace, "leaky_relu_")


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, True)


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    _float_only("gelu", input)
    return _act("gelu" if approximate == "none" else "gelu_tanh", input)


def silu(input, inplace=False):
    _float_only("silu", input)
    return _act("silu", input, (), inplace)


def mish(input, inplace=False):
    _float_only("mish", input)
    return _act("mish", input, (), inplace)


def hardswish(input, inplace=False):
    _float_only("hardswish", input)
    return _act("hardswish", input, (), inplace)


def hardsigmoid(input, inplace=False):
    _float_only("hardsigmoid", input)
    return _act("hardsigmoid", input, (), inplace)


def logsigmoid(input):
    _float_only("logsigmoid", input)
    return _act("logsigmoid", input)


def _lambd_check(lambd, x):
    if lambd < 0:
        hi = "3.40282e+38" if x.dtype is not _dt.float64 else "1.79769e+308"
        raise RuntimeError(f"lambda must be in range [0, {hi}] for input dtype {x.dtype.legacy[:-6]}, but found "
                           f"{lambd:g}")


def hardshrink(input, lambd=0.5):
    _float_only("hardshrink", input)
    return _act("hardshrink", input, (lambd,))


def softshrink(input, lambd=0.5):
    _float_only("softshrink", input)
    _lambd_check(lambd, input)
    return _act("softshrink", input, (lambd,))


def softplus(input, beta=1.0, threshold=20.0):
    _float_only("softplus", input)
    return _act("softplus", input, (beta, threshold))


def softsign(input):
    # PyTorch composes it too (grad_fn DivBackward0).
    return input / (input.abs() + 1)


def tanhshrink(input):
    return input - input.tanh()        # SubBackward0, as PyTorch


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


# -- activations with tensors beside the input -------------------------------------------------------------

def glu(input, dim=-1):
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = dim + input.ndim if dim < 0 else dim
    n = input.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    from ...autograd.grad_mode import no_grad
    with no_grad():
        a, b = input.chunk(2, d)
        s = b.sigmoid()
        out = a * s
    if needs_grad(input):
        def bw(node, g):
            x, = node.saved_tensors
            from ...joining import cat
            a, b = x.chunk(2, d)
            s = b.sigmoid()
            return (cat([g * s, g * a * s * (1 - s)], d),)
        record("GluBackward0", out, (input,), bw, save=(input,))
    return out


def prelu(input, weight):
    if input.dtype is not weight.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {input.dtype.legacy[:-6]} and "
                           f"{weight.dtype.legacy[:-6]}")
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.ndim}")
    nw = weight.numel()
    if nw != 1:
        c = input.shape[1] if input.ndim >= 2 else 1
        if input.ndim == 0 or nw != c:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                               f"{nw} and channel size = {c}.")
    w = _channel_view(weight, input.ndim)
    from ...autograd.grad_mode import no_grad
    from ...ops import where
    with no_grad():
        out = where(input > 0, input, w * input)
    if needs_grad(input, weight):
        def bw(node, g):
            x, wt = node.saved_tensors
            wv = _channel_view(wt, x.ndim)
            pos = x > 0
            gx = where(pos, g, g * wv) if node.needs[0] else None
            gw = None
            if node.needs[1]:
                gw = where(pos, 0.0, g * x)
                if wt.numel() == 1:
                    gw = gw.sum().reshape(wt.shape)
                else:
                    dims = [i for i in range(x.ndim) if i != 1]
                    gw = gw.sum(dims) if dims else gw
            return gx, gw
        record("PreluKernelBackward0", out, (input, weight), bw, save=(input, weight))
    return out


def _channel_view(w, ndim):
    """The weight shaped to broadcast over dim 1 of an ``ndim``-d input."""
    if w.numel() == 1 or ndim < 2:
        return w.reshape(()) if w.numel() == 1 else w
    return w.reshape((1, -1) + (1,) * (ndim - 2))


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    _float_only("rrelu_with_noise", input)
    from ...autograd.grad_mode import no_grad
    from ...ops import check_inplace, where
    if inplace:
        check_inplace(input)
    grad = needs_grad(input)
    noise, slope = None, (lower + upper) / 2
    if training:
        from ...random import rand_like
        with no_grad():
            # Slopes drawn uniformly in [lower, upper) for the negative inputs, 1 elsewhere.
            noise = where(input >= 0, 1.0, rand_like(input) * (upper - lower) + lower)
    saved = noise if noise is not None else (input.detach().clone() if inplace and grad else input)
    with no_grad():
        if noise is not None:
            out = input.mul_(noise) if inplace else input * noise
        else:
            out = _act("leaky_relu", input, (slope,), inplace)
    if grad:
        def bw(node, g):
            s, = node.saved_tensors
            return (g * s,) if noise is not None else (_where_pos(s, g, slope),)
        if inplace:
            from ...autograd.inplace import rebase_history
            rebase_history(out, lambda prev: record("RreluWithNoiseBackward1", out, (prev,), bw, save=(saved,)))
        else:
            record("RreluWithNoiseBackward0", out, (input,), bw, save=(saved,))
    return out


def _where_pos(x, g, slope):
    from ...ops import where
    return where(x > 0, g, g * slope)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, True)

