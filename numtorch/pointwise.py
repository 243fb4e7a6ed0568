"""Public elementwise functions: generated from the op table, plus the ops with extra arguments."""
import math
import numbers

import numpy as np

from . import dtypes as _dt
from .ops import elementwise, where  # noqa: F401 (where is re-exported)
from .optable import ALIASES, OPS
from .tensor import Tensor


def _fn(name):
    op = OPS[name]
    if op.arity == 1:
        def f(input, *, out=None):
            return elementwise(name, input, out=out)
    else:
        def f(input, other, *, out=None):
            return elementwise(name, input, other, out=out)
    f.__name__ = name
    f.__doc__ = f"``torch.{name}`` (elementwise, PyTorch promotion and broadcasting)."
    return f


FUNCS = {n: _fn(n) for n in OPS}
for _a, _t in ALIASES.items():
    FUNCS[_a] = FUNCS[_t]


def _alpha_check(input, other, alpha):
    if alpha != 1 and isinstance(alpha, float) and not alpha.is_integer():
        rt = _dt.result_type_of((input, other))
        if not rt.is_floating_point:
            raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")


def add(input, other, *, alpha=1, out=None):
    if not isinstance(input, Tensor):
        return add(other, input, alpha=1, out=out) if alpha == 1 else add(_t(input, other), other, alpha=alpha)
    _alpha_check(input, other, alpha)
    return elementwise("add", input, other, out=out, params=(alpha,), ctx=alpha)


def sub(input, other, *, alpha=1, out=None):
    if not isinstance(input, Tensor):
        return rsub(other, input, alpha=alpha)
    _alpha_check(input, other, alpha)
    return elementwise("sub", input, other, out=out, params=(alpha,), ctx=alpha)


def rsub(input, other, *, alpha=1):
    """other - alpha * input."""
    return elementwise("rsub", other, input, params=(alpha,), ctx=alpha)


def _t(x, like):
    from .creation import tensor
    return tensor(x, device=like.device)


def div(input, other, *, rounding_mode=None, out=None):
    if rounding_mode is None:
        return elementwise("div", input, other, out=out)
    if rounding_mode == "trunc":
        return _rounding_div("div_trunc", input, other, out)
    if rounding_mode == "floor":
        return _rounding_div("floor_divide", input, other, out)
    raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                       f"'{rounding_mode}'")


def _rounding_div(kernel, input, other, out):
    return elementwise(kernel, input, other, out=out)


true_divide = FUNCS["div"]


def floor_divide(input, other, *, out=None):
    return elementwise("floor_divide", input, other, out=out)


def mul(input, other, *, out=None):
    if not isinstance(input, Tensor):
        return elementwise("mul", other, input, out=out)
    return elementwise("mul", input, other, out=out)


multiply = mul


def _int_neg_pow_check(x, exponent):
    if isinstance(x, Tensor) and not x.dtype.is_floating_point and isinstance(exponent, numbers.Integral) \
            and not isinstance(exponent, bool) and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")


def pow(input, exponent, *, out=None):
    if isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        _int_neg_pow_check(input, exponent)
        e = float(exponent)
        return elementwise("pow_scalar", input, out=out, params=(e,), ctx=exponent, promote_extra=(exponent,))
    if not isinstance(input, Tensor):
        return elementwise("rpow_scalar", exponent, out=out, params=(float(input),), ctx=input,
                           promote_extra=(input,))
    return elementwise("pow", input, exponent, out=out)


def float_power(input, exponent, *, out=None):
    def up(v):
        return v.double() if isinstance(v, Tensor) else float(v)
    return pow(up(input), up(exponent), out=out)


def square(input, *, out=None):
    if input.dtype is _dt.bool:
        return pow(input.long(), 2)
    return pow(input, 2, out=out)


def clamp(input, min=None, max=None, *, out=None, _op="clamp"):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        r = input
        if min is not None:
            r = elementwise("maximum", r, min)
        if max is not None:
            r = elementwise("minimum", r, max)
        return r if out is None else out.copy_(r)
    lo = -math.inf if min is None else float(min)
    hi = math.inf if max is None else float(max)
    extra = tuple(v for v in (min, max) if v is not None)
    return elementwise(_op, input, out=out, params=(lo, hi), ctx=(min, max), promote_extra=extra)


clip = clamp


def clamp_min(input, min):
    return clamp(input, min=min, _op="clamp_min" if not isinstance(min, Tensor) else "clamp")


def clamp_max(input, max):
    return clamp(input, max=max, _op="clamp_max" if not isinstance(max, Tensor) else "clamp")


def round(input, *, decimals=0, out=None):
    if not input.dtype.is_floating_point:
        return input.clone()
    return elementwise("round", input, out=out, params=(float(decimals),))


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    if not input.dtype.is_floating_point:
        return input.clone()
    fi = np.finfo(input.dtype.np)
    return elementwise("nan_to_num", input, out=out,
                       params=(float(nan), float(fi.max if posinf is None else posinf),
                               float(fi.min if neginf is None else neginf)))


def lerp(input, end, weight, *, out=None):
    return input + weight * (end - input) if out is None else out.copy_(input + weight * (end - input))


def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    r = input + value * tensor1 * tensor2 if value != 1 else input + tensor1 * tensor2
    return r if out is None else out.copy_(r)


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    if not tensor1.dtype.is_floating_point and not tensor2.dtype.is_floating_point:
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future release addcdiv "
                           "will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can "
                           "be implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for "
                           "integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future "
                           "addcdiv behavior is just the latter implementation: (input + value * tensor1 / "
                           "tensor2), for all dtypes.")
    r = input + value * (tensor1 / tensor2)
    return r if out is None else out.copy_(r)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    if input.dtype is not getattr(other, "dtype", input.dtype):
        raise RuntimeError(f"{input.dtype.short} did not match {other.dtype.short}")
    if not input.dtype.is_floating_point:
        return (input == other) | ((input - other).abs() <= atol + rtol * other.abs())
    diff = (input - other).abs()
    close = (input == other) | (diff <= atol + rtol * other.abs())
    close = close & input.isfinite() & other.isfinite() | (input == other)
    if equal_nan:
        close = close | (input.isnan() & other.isnan())
    return close


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def equal(input, other):
    if input._shape != other._shape:
        return False
    return bool((input == other).all())


def sigmoid(input, *, out=None):
    return elementwise("sigmoid", input, out=out)


def xlogy(input, other, *, out=None):
    return elementwise("xlogy", input, other, out=out)


def xlog1py(input, other, *, out=None):
    return elementwise("xlog1py", input, other, out=out)


def logit(input, eps=None, *, out=None):
    p = (-1.0 if eps is None else float(eps),)
    return elementwise("logit", input, out=out, params=p, ctx=p)


def polygamma(n, input, *, out=None):
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    p = (float(n),)
    return elementwise("polygamma", input, out=out, params=p, ctx=p)


def mvlgamma(input, p):
    """Multivariate log-gamma: sum_j lgamma(x - j/2) + p(p-1)/4 log(pi) (one MvlgammaBackward0 node)."""
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    from .autograd.graph import needs_grad, record
    from .autograd.grad_mode import no_grad
    with no_grad():
        out = FUNCS["lgamma"](input)
        for j in range(1, p):
            out = out + FUNCS["lgamma"](input - j / 2)
        out = out + p * (p - 1) / 4 * math.log(math.pi)
    if needs_grad(input):
        def bw(node, g):
            (x,) = node.saved_tensors
            d = FUNCS["digamma"](x)
            for j in range(1, p):
                d = d + FUNCS["digamma"](x - j / 2)
            return (g * d,)
        record("MvlgammaBackward0", out, (input,), bw, save=(input,))
    return out


def heaviside(input, values, *, out=None):
    if not isinstance(values, Tensor):      # torch insists on a tensor; a scalar acts as one of input's dtype
        return elementwise("heaviside", input, values, out=out)
    if input.dtype is not values.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    return elementwise("heaviside", input, values, out=out)


def frexp(input, *, out=None):
    """(mantissa in [0.5, 1) with input's dtype, int32 exponent), as ``torch.return_types.frexp``."""
    from . import return_types
    from .autograd.graph import needs_grad, record
    from .autograd.grad_mode import no_grad
    if not input.dtype.is_floating_point:
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    with no_grad():
        m = elementwise("frexp_mantissa", input)
        e = elementwise("frexp_exponent", input)
    if needs_grad(input):
        record("FrexpBackward0", m, (input,), lambda node, g: (g * (-node.saved_tensors[0]).exp2(),), save=(e,))
    res = return_types.frexp((m, e.to(_dt.int32)))
    if out is not None:
        out[0].copy_(res[0])
        out[1].copy_(res[1])
        return return_types.frexp(out)
    return res


def positive(input):
    if input.dtype is _dt.bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def logical_not(input, *, out=None):
    return elementwise("logical_not", input, out=out)


def bitwise_not(input, *, out=None):
    if input.dtype is _dt.bool:
        return elementwise("logical_not", input, out=out)
    return elementwise("bitwise_not", input, out=out)


def relu(input):
    if input.dtype is _dt.bool:
        raise RuntimeError("Boolean inputs not supported for relu")
    return elementwise("relu", input)


PUBLIC = dict(FUNCS)
PUBLIC.update({"polygamma": polygamma, "mvlgamma": mvlgamma})
PUBLIC.update({"add": add, "sub": sub, "subtract": sub, "rsub": rsub, "div": div, "divide": div,
               "true_divide": true_divide, "floor_divide": floor_divide, "mul": mul, "multiply": multiply,
               "pow": pow, "float_power": float_power, "square": square, "clamp": clamp, "clip": clip,
               "clamp_min": clamp_min, "clamp_max": clamp_max, "round": round, "nan_to_num": nan_to_num,
               "lerp": lerp, "addcmul": addcmul, "addcdiv": addcdiv, "isclose": isclose, "allclose": allclose,
               "equal": equal, "where": where, "xlogy": xlogy, "logit": logit, "heaviside": heaviside,
               "frexp": frexp, "positive": positive, "logical_not": logical_not,
               "bitwise_not": bitwise_not, "relu": relu, "sigmoid": sigmoid})

# In-place forms: (public name, table op) -> Tensor.<name>_
INPLACE_BINARY = ["add", "sub", "mul", "div", "remainder", "fmod", "pow", "maximum", "minimum", "atan2",
                  "hypot", "floor_divide", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
                  "bitwise_right_shift", "logical_and", "logical_or", "logical_xor", "eq", "ne", "lt", "le", "gt",
                  "ge", "copysign", "fmax", "fmin", "xlogy", "heaviside", "nextafter", "ldexp", "gcd", "lcm"]


def _lazy_act(name):
    # nn.functional loads on first call: importing numtorch.nn while numtorch initialises would be circular
    def f(*args, **kwargs):
        from .nn._functional import activation
        return getattr(activation, name)(*args, **kwargs)
    f.__name__ = f.__qualname__ = name
    return f


# torch.<name> functions that are not Tensor methods (PyTorch's activations at top level)
TORCH_LEVEL = {n: _lazy_act(n) for n in ("selu", "selu_", "celu", "celu_", "rrelu", "rrelu_", "threshold",
                                         "threshold_", "relu_", "prelu", "hardshrink")}


def _method_inplace(name, params=None):
    from .ops import inplace

    def f(self, *args):
        p = params(*args) if params else ()
        return inplace(name, self, params=p, ctx=p)
    f.__name__ = name + "_"
    return f


def _float_power_(self, exponent):
    if self.dtype is not _dt.float64:
        raise RuntimeError(f"the base given to float_power_ has dtype {self.dtype.legacy[:-6]} but the operation's "
                           f"result requires dtype Double")
    return self.pow_(exponent.double() if isinstance(exponent, Tensor) else exponent)


def _methods():
    """Tensor methods whose signature differs from the torch-level function (or that exist only as methods)."""
    m = {n + "_": _method_inplace(n) for n in ("erfinv", "lgamma", "digamma", "i0", "sinc", "deg2rad", "rad2deg")}
    m["logit_"] = _method_inplace("logit", lambda eps=None: (-1.0 if eps is None else float(eps),))
    m["polygamma_"] = _method_inplace("polygamma", lambda n: (float(n),))
    m.update({"polygamma": lambda self, n: polygamma(n, self), "mvlgamma": mvlgamma,
              "mvlgamma_": lambda self, p: self.copy_(mvlgamma(self, p)), "float_power_": _float_power_,
              "hardshrink": TORCH_LEVEL["hardshrink"], "prelu": TORCH_LEVEL["prelu"], "logit": logit})
    return m


METHODS = _methods()
