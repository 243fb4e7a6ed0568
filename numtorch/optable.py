"""THE op table: every elementwise op declared once (kernel, promotion rule, grad_fn name, backward
formula, what backward saves, NumPy reference and test domain). Dispatch (``ops.py``), the Tensor
methods and the generated tests all read this table.

Backward formulas are ``f(node, g) -> tuple`` over tensor ops (so gradients run compiled kernels and
can be differentiated again); ``node.saved_tensors`` holds what ``save`` asked for: 'a', 'b' (inputs)
or 'out' (the result), in that order."""
from dataclasses import dataclass, field

import numpy as np

# Promotion categories (after PyTorch's _prims_common.ELEMENTWISE_TYPE_PROMOTION_KIND).
DEFAULT = "default"             # result_type of the operands
INT_TO_FLOAT = "int_to_float"   # integral/bool results become the default float dtype
ALWAYS_BOOL = "always_bool"     # computed in result_type, output bool
INT_ONLY = "int_only"           # bitwise ops: bool/integer only
NO_BOOL = "no_bool"             # like DEFAULT but bool inputs raise (neg, sub)
KEEP_INT = "keep_int"           # rounding ops: integer inputs are returned unchanged


@dataclass(frozen=True)
class OpDef:
    name: str
    arity: int
    kernel: str
    promote: str = DEFAULT
    grad_fn: str = None
    backward: object = None
    save: tuple = ()
    ref: object = None
    domain: tuple = (-3.0, 3.0)
    method: bool = True           # also a Tensor method / in-place `name_`
    params: tuple = field(default=())
    save_if: dict = field(default_factory=dict)   # saved input -> index of the input whose grad needs it
    grad_fn_tensor: str = None    # PyTorch's name when the second operand is a tensor (fmod/remainder)


# -- backward formulas (un-broadcasting is done centrally by the engine) ---------------------------------

def _zeros_like(g):
    # PyTorch's zero gradients are true zeros (g * 0 would give -0.0 and NaN).
    from .creation import zeros_like
    return zeros_like(g)


def _sv(node):
    return node.saved_tensors


def _bw_add(node, g):
    alpha = node.ctx
    return g, (g if alpha == 1 else g * alpha)


def _bw_sub(node, g):
    alpha = node.ctx
    return g, (-g if alpha == 1 else g * (-alpha))


def _bw_mul(node, g):
    a, b = node.saved_tensors
    need = node.needs
    return (g * b if need[0] else None), (g * a if need[1] else None)


def _bw_div(node, g):
    a, b = node.saved_tensors
    need = node.needs
    ga = g / b if need[0] else None
    gb = -g * a / (b * b) if need[1] else None
    return ga, gb


def _bw_neg(node, g):
    return (-g,)


def _unary(fn):
    f = lambda node, g: (fn(g, *_sv(node)),)  # noqa: E731
    f.__wrapped__ = fn
    return f


_bw = {
    "exp": _unary(lambda g, y: g * y),
    "exp2": _unary(lambda g, y: g * y * 0.6931471805599453),
    "expm1": _unary(lambda g, y: g * (y + 1)),
    "log": _unary(lambda g, x: g / x),
    "log2": _unary(lambda g, x: g / (x * 0.6931471805599453)),
    "log10": _unary(lambda g, x: g / (x * 2.302585092994046)),
    "log1p": _unary(lambda g, x: g / (x + 1)),
    "sqrt": _unary(lambda g, y: g / (2 * y)),
    "rsqrt": _unary(lambda g, y: g * (-0.5) * y * y * y),
    "square": _unary(lambda g, x: g * 2 * x),
    "reciprocal": _unary(lambda g, y: -g * y * y),
    "sin": _unary(lambda g, x: g * x.cos()),
    "cos": _unary(lambda g, x: -g * x.sin()),
    "tan": _unary(lambda g, y: g * (1 + y * y)),
    "asin": _unary(lambda g, x: g * (1 - x * x).rsqrt()),
    "acos": _unary(lambda g, x: -g * (1 - x * x).rsqrt()),
    "atan": _unary(lambda g, x: g / (1 + x * x)),
    "sinh": _unary(lambda g, x: g * x.cosh()),
    "cosh": _unary(lambda g, x: g * x.sinh()),
    "tanh": _unary(lambda g, y: g * (1 - y * y)),
    "asinh": _unary(lambda g, x: g * (x * x + 1).rsqrt()),
    "acosh": _unary(lambda g, x: g * (x * x - 1).rsqrt()),
    "atanh": _unary(lambda g, x: g / (1 - x * x)),
    "sigmoid": _unary(lambda g, y: g * y * (1 - y)),
    "relu": _unary(lambda g, y: g * (y > 0)),
    "erf": _unary(lambda g, x: g * 1.1283791670955126 * (-(x * x)).exp()),
    "erfc": _unary(lambda g, x: g * -1.1283791670955126 * (-(x * x)).exp()),
    "abs": _unary(lambda g, x: g * x.sign()),
    "sign": _unary(lambda g, x: _zeros_like(g)),
    "sgn": _unary(lambda g, x: _zeros_like(g)),
    "round": _unary(lambda g, x: _zeros_like(g)),
    "floor": _unary(lambda g, x: _zeros_like(g)),
    "ceil": _unary(lambda g, x: _zeros_like(g)),
    "trunc": _unary(lambda g, x: _zeros_like(g)),
    "frac": _unary(lambda g, x: g),
}


def _bw_pow_scalar(node, g):
    (x,) = _sv(node)
    n = node.ctx
    if n == 0:
        return (g * 0,)
    return (g * n * x ** (n - 1),)


def _bw_pow(node, g):
    a, b, y = _sv(node)
    from .ops import where
    ga = g * b * a ** (b - 1) if node.needs[0] else None
    gb = g * where(a == 0, 0.0, y * a.log()) if node.needs[1] else None
    return ga, gb


def _bw_rpow(node, g):          # base ** self (PowBackward2); input 0 is the exponent tensor
    (y,) = _sv(node)
    import math
    return (g * y * math.log(node.ctx),) if node.ctx > 0 else (g * y * float("nan"),)


def _bw_maxmin(node, g):
    a, b = _sv(node)
    pick = (a > b) if node.name() in ("MaximumBackward0", "FmaxBackward0") else (a < b)
    tie = a == b
    ga = g * (pick + tie * 0.5) if node.needs[0] else None
    gb = g * ((~pick & ~tie) + tie * 0.5) if node.needs[1] else None
    return ga, gb


def _bw_atan2(node, g):
    a, b = _sv(node)
    d = a * a + b * b
    return (g * b / d if node.needs[0] else None), (-g * a / d if node.needs[1] else None)


def _bw_hypot(node, g):
    a, b, y = _sv(node)
    return (g * a / y if node.needs[0] else None), (g * b / y if node.needs[1] else None)


def _bw_clamp(node, g):
    (x,) = _sv(node)
    lo, hi = node.ctx
    m = None
    if lo is not None:
        m = x >= lo
    if hi is not None:
        m = (x <= hi) if m is None else (m & (x <= hi))
    return (g * m if m is not None else g,)


def _bw_lerp(node, g):
    w = node.ctx
    return g * (1 - w), g * w


def _bw_where(node, g):
    (c,) = _sv(node)
    from .ops import where
    z = g * 0
    return None, (where(c, g, z) if node.needs[1] else None), (where(c, z, g) if node.needs[2] else None)


def _bw_fmod(node, g):
    a, b = _sv(node)
    return g, (-g * (a / b).trunc() if node.needs[1] else None)


def _bw_remainder(node, g):
    a, b = _sv(node)
    return g, (-g * (a / b).floor() if node.needs[1] else None)


def _bw_copysign(node, g):
    a, b, y = _sv(node)
    from .ops import where
    return g * where(a == 0, 0.0, y / a), None


def _bw_nan_to_num(node, g):
    (x,) = _sv(node)
    return (g * x.isfinite(),)


_U = [  # name, kernel, promotion, grad_fn, save, ref, domain
    ("neg", "neg", NO_BOOL, "NegBackward0", (), np.negative, None),
    ("abs", "abs", DEFAULT, "AbsBackward0", ("a",), np.abs, None),
    ("sign", "sign", DEFAULT, "SignBackward0", ("a",), np.sign, None),
    ("sgn", "sign", DEFAULT, "SgnBackward0", ("a",), np.sign, None),
    ("exp", "exp", INT_TO_FLOAT, "ExpBackward0", ("out",), np.exp, None),
    ("exp2", "exp2", INT_TO_FLOAT, "Exp2Backward0", ("out",), np.exp2, None),
    ("expm1", "expm1", INT_TO_FLOAT, "Expm1Backward0", ("out",), np.expm1, None),
    ("log", "log", INT_TO_FLOAT, "LogBackward0", ("a",), np.log, (0.1, 5.0)),
    ("log2", "log2", INT_TO_FLOAT, "Log2Backward0", ("a",), np.log2, (0.1, 5.0)),
    ("log10", "log10", INT_TO_FLOAT, "Log10Backward0", ("a",), np.log10, (0.1, 5.0)),
    ("log1p", "log1p", INT_TO_FLOAT, "Log1PBackward0", ("a",), np.log1p, (-0.5, 5.0)),
    ("sqrt", "sqrt", INT_TO_FLOAT, "SqrtBackward0", ("out",), np.sqrt, (0.1, 5.0)),
    ("rsqrt", "rsqrt", INT_TO_FLOAT, "RsqrtBackward0", ("out",), lambda x: 1 / np.sqrt(x), (0.1, 5.0)),
    ("square", "square", DEFAULT, "PowBackward0", ("a",), np.square, None),
    ("reciprocal", "reciprocal", INT_TO_FLOAT, "ReciprocalBackward0", ("out",), np.reciprocal, (0.5, 3.0)),
    ("sin", "sin", INT_TO_FLOAT, "SinBackward0", ("a",), np.sin, None),
    ("cos", "cos", INT_TO_FLOAT, "CosBackward0", ("a",), np.cos, None),
    ("tan", "tan", INT_TO_FLOAT, "TanBackward0", ("out",), np.tan, (-1.2, 1.2)),
    ("asin", "asin", INT_TO_FLOAT, "AsinBackward0", ("a",), np.arcsin, (-0.9, 0.9)),
    ("acos", "acos", INT_TO_FLOAT, "AcosBackward0", ("a",), np.arccos, (-0.9, 0.9)),
    ("atan", "atan", INT_TO_FLOAT, "AtanBackward0", ("a",), np.arctan, None),
    ("sinh", "sinh", INT_TO_FLOAT, "SinhBackward0", ("a",), np.sinh, None),
    ("cosh", "cosh", INT_TO_FLOAT, "CoshBackward0", ("a",), np.cosh, None),
    ("tanh", "tanh", INT_TO_FLOAT, "TanhBackward0", ("out",), np.tanh, None),
    ("asinh", "asinh", INT_TO_FLOAT, "AsinhBackward0", ("a",), np.arcsinh, None),
    ("acosh", "acosh", INT_TO_FLOAT, "AcoshBackward0", ("a",), np.arccosh, (1.2, 4.0)),
    ("atanh", "atanh", INT_TO_FLOAT, "AtanhBackward0", ("a",), np.arctanh, (-0.9, 0.9)),
    ("sigmoid", "sigmoid", INT_TO_FLOAT, "SigmoidBackward0", ("out",), lambda x: 1 / (1 + np.exp(-x)), None),
    ("relu", "relu", DEFAULT, "ReluBackward0", ("out",), lambda x: np.maximum(x, 0), None),
    ("erf", "erf", INT_TO_FLOAT, "ErfBackward0", ("a",), None, None),
    ("erfc", "erfc", INT_TO_FLOAT, "ErfcBackward0", ("a",), None, None),
    ("floor", "floor", KEEP_INT, "FloorBackward0", ("a",), np.floor, None),
    ("ceil", "ceil", KEEP_INT, "CeilBackward0", ("a",), np.ceil, None),
    ("trunc", "trunc", KEEP_INT, "TruncBackward0", ("a",), np.trunc, None),
    ("frac", "frac", DEFAULT, "FracBackward0", ("a",), lambda x: x - np.trunc(x), None),
    ("isnan", "isnan", ALWAYS_BOOL, None, (), np.isnan, None),
    ("isinf", "isinf", ALWAYS_BOOL, None, (), np.isinf, None),
    ("isfinite", "isfinite", ALWAYS_BOOL, None, (), np.isfinite, None),
    ("isposinf", "isposinf", ALWAYS_BOOL, None, (), np.isposinf, None),
    ("isneginf", "isneginf", ALWAYS_BOOL, None, (), np.isneginf, None),
    ("signbit", "signbit", ALWAYS_BOOL, None, (), np.signbit, None),
    ("logical_not", "logical_not", ALWAYS_BOOL, None, (), np.logical_not, None),
    ("bitwise_not", "bitwise_not", INT_ONLY, None, (), np.invert, None),
]

_B = [  # name, kernel, promotion, grad_fn, backward, save, ref
    ("add", "add", DEFAULT, "AddBackward0", _bw_add, (), np.add),
    ("sub", "sub", NO_BOOL, "SubBackward0", _bw_sub, (), np.subtract),
    ("mul", "mul", DEFAULT, "MulBackward0", _bw_mul, ("a", "b"), np.multiply),
    ("div", "div", INT_TO_FLOAT, "DivBackward0", _bw_div, ("a", "b"), np.true_divide),
    ("floor_divide", "div_floor", DEFAULT, None, None, (), np.floor_divide),
    ("remainder", "remainder", DEFAULT, "RemainderBackward0", _bw_remainder, ("a", "b"), np.remainder),
    ("fmod", "fmod", DEFAULT, "FmodBackward0", _bw_fmod, ("a", "b"), np.fmod),
    ("pow", "pow", DEFAULT, "PowBackward1", _bw_pow, ("a", "b", "out"), np.power),
    ("maximum", "maximum", DEFAULT, "MaximumBackward0", _bw_maxmin, ("a", "b"), np.maximum),
    ("minimum", "minimum", DEFAULT, "MinimumBackward0", _bw_maxmin, ("a", "b"), np.minimum),
    ("fmax", "fmax", DEFAULT, "FmaxBackward0", _bw_maxmin, ("a", "b"), np.fmax),
    ("fmin", "fmin", DEFAULT, "FminBackward0", _bw_maxmin, ("a", "b"), np.fmin),
    ("atan2", "atan2", INT_TO_FLOAT, "Atan2Backward0", _bw_atan2, ("a", "b"), np.arctan2),
    ("hypot", "hypot", INT_TO_FLOAT, "HypotBackward0", _bw_hypot, ("a", "b", "out"), np.hypot),
    ("copysign", "copysign", INT_TO_FLOAT, "CopysignBackward0", _bw_copysign, ("a", "b", "out"), np.copysign),
    ("eq", "eq", ALWAYS_BOOL, None, None, (), np.equal),
    ("ne", "ne", ALWAYS_BOOL, None, None, (), np.not_equal),
    ("lt", "lt", ALWAYS_BOOL, None, None, (), np.less),
    ("le", "le", ALWAYS_BOOL, None, None, (), np.less_equal),
    ("gt", "gt", ALWAYS_BOOL, None, None, (), np.greater),
    ("ge", "ge", ALWAYS_BOOL, None, None, (), np.greater_equal),
    ("logical_and", "logical_and", ALWAYS_BOOL, None, None, (), np.logical_and),
    ("logical_or", "logical_or", ALWAYS_BOOL, None, None, (), np.logical_or),
    ("logical_xor", "logical_xor", ALWAYS_BOOL, None, None, (), np.logical_xor),
    ("bitwise_and", "bitwise_and", INT_ONLY, None, None, (), np.bitwise_and),
    ("bitwise_or", "bitwise_or", INT_ONLY, None, None, (), np.bitwise_or),
    ("bitwise_xor", "bitwise_xor", INT_ONLY, None, None, (), np.bitwise_xor),
    ("bitwise_left_shift", "bitwise_left_shift", INT_ONLY, None, None, (), np.left_shift),
    ("bitwise_right_shift", "bitwise_right_shift", INT_ONLY, None, None, (), np.right_shift),
]

OPS = {}
for _n, _k, _p, _g, _s, _r, _d in _U:
    OPS[_n] = OpDef(_n, 1, _k, _p, _g, _bw.get(_n, _bw_neg if _n == "neg" else None), _s, _r,
                    _d or (-3.0, 3.0))
_SAVE_IF = {"mul": {"a": 1, "b": 0}, "div": {"a": 1}}
_TENSOR_NAME = {"fmod": "FmodBackward1", "remainder": "RemainderBackward1"}
for _n, _k, _p, _g, _f, _s, _r in _B:
    OPS[_n] = OpDef(_n, 2, _k, _p, _g, _f, _s, _r, save_if=_SAVE_IF.get(_n, {}), grad_fn_tensor=_TENSOR_NAME.get(_n))

# Reflected/scalar variants with their own PyTorch names.
SPECIAL = {
    # rsub(self, other) = other - alpha*self runs the sub kernel on swapped operands.
    "rsub": OpDef("rsub", 2, "sub", NO_BOOL, "RsubBackward1", _bw_sub, ()),
    "pow_scalar": OpDef("pow_scalar", 1, "pow_scalar", DEFAULT, "PowBackward0", _bw_pow_scalar, ("a",)),
    "rpow_scalar": OpDef("rpow_scalar", 1, "rpow_scalar", DEFAULT, "PowBackward2", _bw_rpow, ("out",)),
    "clamp": OpDef("clamp", 1, "clamp", DEFAULT, "ClampBackward1", _bw_clamp, ("a",)),
    "clamp_min": OpDef("clamp_min", 1, "clamp", DEFAULT, "ClampMinBackward0", _bw_clamp, ("a",), method=False),
    "clamp_max": OpDef("clamp_max", 1, "clamp", DEFAULT, "ClampMaxBackward0", _bw_clamp, ("a",), method=False),
    "round": OpDef("round", 1, "round", KEEP_INT, "RoundBackward0", _bw["round"], ("a",), np.round),
    "nan_to_num": OpDef("nan_to_num", 1, "nan_to_num", KEEP_INT, "NanToNumBackward0", _bw_nan_to_num, ("a",),
                        np.nan_to_num),
    "div_trunc": OpDef("div_trunc", 2, "div_trunc", DEFAULT, "DivBackward3", None, ()),
}
# Input categories PyTorch has no kernel for: 'b' bool, 'i' integer, 'f' floating -> (categories, kernel label
# used in PyTorch's NotImplementedError text).
REJECT = {"abs": ("b", "abs_cpu"), "floor": ("b", "floor_vml_cpu"), "ceil": ("b", "ceil_vml_cpu"),
          "trunc": ("b", "trunc_vml_cpu"), "frac": ("bi", "frac_cpu"), "bitwise_not": ("f", "bitwise_not_cpu"),
          "floor_divide": ("b", "div_floor_cpu"), "remainder": ("b", "remainder_cpu"), "fmod": ("b", "fmod_cpu"),
          "pow": ("b", "pow"), "hypot": ("bi", "hypot_cpu"), "bitwise_and": ("f", "bitwise_and_cpu"),
          "bitwise_or": ("f", "bitwise_or_cpu"), "bitwise_xor": ("f", "bitwise_xor_cpu"),
          "bitwise_left_shift": ("bf", "lshift_cpu"), "bitwise_right_shift": ("bf", "rshift_cpu"),
          "div_trunc": ("b", "div_trunc_cpu"), "round": ("b", "round_cpu")}

ALIASES = {"true_divide": "div", "multiply": "mul", "subtract": "sub", "greater": "gt", "greater_equal": "ge",
           "less": "lt", "less_equal": "le", "not_equal": "ne", "absolute": "abs", "negative": "neg",
           "arctan": "atan", "arcsin": "asin", "arccos": "acos", "arctan2": "atan2", "arcsinh": "asinh",
           "arccosh": "acosh", "arctanh": "atanh", "fix": "trunc"}


# -- activations (nn.functional): fused forward and backward kernels ------------------------------------
# Each backward runs one fused kernel ``<kernel>_backward(grad, input, params)``; under create_graph it
# uses the composite formula instead (differentiable tensor ops), so double backward works.

def _where(c, a, b):
    from .ops import where
    return where(c, a, b)


def _act_bw(kernel, composite):
    def bw(node, g):
        (x,) = _sv(node)
        from .autograd.grad_mode import is_grad_enabled
        if is_grad_enabled():
            return (composite(g, x, *node.ctx),)
        from .ops import elementwise
        return (elementwise(kernel, g, x, params=node.ctx),)
    return bw


def _c_gelu(g, x):
    return g * (0.5 * (1 + (x * 0.7071067811865476).erf()) + x * ((x * x * -0.5).exp() * 0.3989422804014327))


def _c_gelu_tanh(g, x):
    t = ((x + 0.044715 * x * x * x) * 0.7978845608028654).tanh()
    return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * 0.7978845608028654 * (1 + 0.134145 * x * x))


def _c_silu(g, x):
    s = x.sigmoid()
    return g * s * (1 + x * (1 - s))


def _c_mish(g, x):
    s, t = x.sigmoid(), x.exp().log1p().tanh()
    return g * (t + x * s * (1 - t * t))


def _c_elu(g, x, alpha, scale, iscale):
    return _where(x <= 0, g * (iscale * alpha * scale) * (x * iscale).exp(), g * scale)


def _c_softplus(g, x, beta, th):
    z = (x * beta).exp()
    return _where(x * beta > th, g, g * z / (z + 1))


_ACT_BW = {  # kernel -> composite(g, x, *params)
    "gelu": _c_gelu, "gelu_tanh": _c_gelu_tanh, "silu": _c_silu, "mish": _c_mish, "elu": _c_elu,
    "leaky_relu": lambda g, x, s: _where(x > 0, g, g * s),
    "hardtanh": lambda g, x, lo, hi: _where((x <= lo) | (x >= hi), 0.0, g),
    "hardswish": lambda g, x: _where(x < -3, 0.0, _where(x <= 3, g * (x / 3 + 0.5), g)),
    "hardsigmoid": lambda g, x: _where((x > -3) & (x < 3), g * 0.1666666716337204, 0.0),
    "shrink": lambda g, x, lam: _where((x >= -lam) & (x <= lam), 0.0, g),
    "softplus": _c_softplus,
    "logsigmoid": lambda g, x: g * (-x).sigmoid(),
    "threshold": lambda g, x, th, v: _where(x <= th, 0.0, g),
}
_ACT = [  # name, kernel, grad_fn, backward kernel family
    ("gelu", "gelu", "GeluBackward0", "gelu"), ("gelu_tanh", "gelu_tanh", "GeluBackward0", "gelu_tanh"),
    ("silu", "silu", "SiluBackward0", "silu"), ("mish", "mish", "MishBackward0", "mish"),
    ("elu", "elu", "EluBackward0", "elu"), ("elu_", "elu", "EluBackward1", "elu"),
    ("celu", "elu", "CeluBackward0", "elu"), ("celu_", "elu", "CeluBackward1", "elu"),
    ("leaky_relu", "leaky_relu", "LeakyReluBackward0", "leaky_relu"),
    ("leaky_relu_", "leaky_relu", "LeakyReluBackward1", "leaky_relu"),
    ("hardtanh", "hardtanh", "HardtanhBackward0", "hardtanh"),
    ("hardswish", "hardswish", "HardswishBackward0", "hardswish"),
    ("hardsigmoid", "hardsigmoid", "HardsigmoidBackward0", "hardsigmoid"),
    ("hardshrink", "hardshrink", "HardshrinkBackward0", "shrink"),
    ("softshrink", "softshrink", "SoftshrinkBackward0", "shrink"),
    ("softplus", "softplus", "SoftplusBackward0", "softplus"),
    ("logsigmoid", "logsigmoid", "LogSigmoidBackward0", "logsigmoid"),
    ("threshold", "threshold", "ThresholdBackward0", "threshold"),
    ("threshold_", "threshold", "ThresholdBackward1", "threshold"),
]
for _n, _k, _g, _b in _ACT:
    SPECIAL[_n] = OpDef(_n, 1, _k, DEFAULT, _g, _act_bw(_b + "_backward", _ACT_BW[_b]), ("a",), method=False)
for _b in _ACT_BW:
    SPECIAL[_b + "_backward"] = OpDef(_b + "_backward", 2, _b + "_backward", DEFAULT, method=False)
SPECIAL["threshold_backward"] = OpDef("threshold_backward", 2, "threshold_backward", DEFAULT, method=False)


def _fused_out_bw(kernel, composite):
    """relu/sigmoid/tanh: one fused kernel over (grad, saved result); composite under create_graph."""
    def bw(node, g):
        (y,) = _sv(node)
        from .autograd.grad_mode import is_grad_enabled
        if is_grad_enabled():
            return (composite(g, y),)
        from .ops import elementwise
        return (elementwise(kernel, g, y),)
    return bw


for _n, _k in (("relu", "relu_backward"), ("sigmoid", "sigmoid_backward"), ("tanh", "tanh_backward")):
    SPECIAL[_k] = OpDef(_k, 2, _k, DEFAULT, method=False)
    OPS[_n] = OpDef(_n, 1, OPS[_n].kernel, OPS[_n].promote, OPS[_n].grad_fn, _fused_out_bw(_k, _bw[_n].__wrapped__),
                    OPS[_n].save, OPS[_n].ref, OPS[_n].domain)


# -- special functions: kernels from the table, backward formulas as differentiable tensor ops ---------------

def _e(name, *args, params=()):
    from .ops import elementwise
    return elementwise(name, *args, params=params, ctx=params)


def _bw_xlogy(node, g):
    a, b = _sv(node)
    fn = "xlogy" if node.name() == "XlogyBackward0" else "xlog1py"
    ga = g * _e(fn, (a != 0).to(g.dtype), b) if node.needs[0] else None
    gb = (g * a / (b if fn == "xlogy" else b + 1)) if node.needs[1] else None
    return ga, gb


def _bw_logaddexp(node, g):
    a, b = _sv(node)
    f = (lambda t: t.exp()) if node.name() == "LogaddexpBackward0" else (lambda t: t.exp2())
    return (g / (1 + f(b - a)) if node.needs[0] else None), (g / (1 + f(a - b)) if node.needs[1] else None)


def _bw_ldexp(node, g):
    a, b = _sv(node)
    p = b.exp2() if b.dtype.is_floating_point else b.to(g.dtype).exp2()
    return (g * p if node.needs[0] else None), (g * a * p * 0.6931471805599453 if node.needs[1] else None)


def _bw_zeta(node, g):
    a, b = _sv(node)
    return None, (g * -a * _e("zeta", a + 1, b) if node.needs[1] else None)


def _bw_sinc(g, x):
    px = x * 3.141592653589793
    return g * _where(x == 0, 0.0, (px * px.cos() - px.sin()) / (px * x))


def _bw_logit(node, g):
    (x,) = _sv(node)
    eps = node.ctx[0] if node.ctx else -1.0
    d = g / (x * (1 - x))
    return (d if eps < 0 else _where((x < eps) | (x > 1 - eps), 0.0, d),)


def _bw_i1(g, x, y):
    return g * _where(x == 0, 0.5, _e("i0", x) - y / x)


def _bw_i1e(g, x, y):
    return g * _where(x == 0, 0.5, _e("i0e", x) - y * (x.sign() + x.reciprocal()))


_bw.update({
    "erfinv": _unary(lambda g, y: g * 0.886226925452758 * (y * y).exp()),
    "lgamma": _unary(lambda g, x: g * _e("digamma", x)),
    "digamma": _unary(lambda g, x: g * _e("polygamma", x, params=(1.0,))),
    "i0": _unary(lambda g, x: g * _e("i1", x)),
    "sinc": _unary(_bw_sinc),
    "deg2rad": lambda node, g: (g * 0.017453292519943295,),
    "rad2deg": lambda node, g: (g * 57.29577951308232,),
})
_U_SPECIAL = [  # name, grad_fn, save, ref, domain (all INT_TO_FLOAT)
    ("erfinv", "ErfinvBackward0", ("out",), None, (-0.9, 0.9)),
    ("lgamma", "LgammaBackward0", ("a",), None, (0.1, 5.0)),
    ("digamma", "DigammaBackward0", ("a",), None, (0.1, 5.0)),
    ("i0", "I0Backward0", ("a",), np.i0, None),
    ("sinc", "SincBackward0", ("a",), np.sinc, None),
    ("deg2rad", "Deg2RadBackward0", (), np.deg2rad, None),
    ("rad2deg", "Rad2DegBackward0", (), np.rad2deg, None),
]
for _n, _g, _s, _r, _d in _U_SPECIAL:
    OPS[_n] = OpDef(_n, 1, _n, INT_TO_FLOAT, _g, _bw[_n], _s, _r, _d or (-3.0, 3.0))
_B_SPECIAL = [  # name, promotion, grad_fn, backward, save, ref
    ("heaviside", DEFAULT, None, None, (), lambda a, b: np.where(a == 0, b, (a > 0).astype(np.result_type(a, b)))),
    ("nextafter", DEFAULT, None, None, (), np.nextafter),
    ("logaddexp", DEFAULT, "LogaddexpBackward0", _bw_logaddexp, ("a", "b"), np.logaddexp),
    ("logaddexp2", DEFAULT, "Logaddexp2Backward0", _bw_logaddexp, ("a", "b"), np.logaddexp2),
    ("gcd", INT_ONLY, None, None, (), np.gcd),
    ("lcm", INT_ONLY, None, None, (), np.lcm),
    ("ldexp", INT_TO_FLOAT, "LdexpBackward0", _bw_ldexp, ("a", "b"), lambda a, b: a * np.exp2(b)),
]
for _n, _p, _g, _f, _s, _r in _B_SPECIAL:
    OPS[_n] = OpDef(_n, 2, _n, _p, _g, _f, _s, _r)
REJECT.update({"nextafter": ("bi", "nextafter_cpu"), "logaddexp": ("bi", "logaddexp_cpu"),
               "logaddexp2": ("bi", "logaddexp2_cpu"), "gcd": ("b", "gcd_cpu"), "lcm": ("b", "lcm_cpu")})

_S1 = [  # torch.special / signature-specific rows: name, kernel, grad_fn, backward, save
    ("logit", "logit", "LogitBackward0", _bw_logit, ("a",)),
    ("i0e", "i0e", "SpecialI0EBackward0", lambda node, g: (g * (_e("i1e", _sv(node)[0]) - _sv(node)[0].sign() *
                                                                 _sv(node)[1]),), ("a", "out")),
    ("i1", "i1", "SpecialI1Backward0", lambda node, g: (_bw_i1(g, *_sv(node)),), ("a", "out")),
    ("i1e", "i1e", "SpecialI1EBackward0", lambda node, g: (_bw_i1e(g, *_sv(node)),), ("a", "out")),
    ("erfcx", "erfcx", "SpecialErfcxBackward0",
     lambda node, g: (g * (2 * _sv(node)[0] * _sv(node)[1] - 1.1283791670955126),), ("a", "out")),
    ("ndtr", "ndtr", "MulBackward1",
     _unary(lambda g, x: g * (x * x * -0.5).exp() * 0.3989422804014327), ("a",)),
    ("ndtri", "ndtri", "SpecialNdtriBackward0",
     _unary(lambda g, y: g * 2.5066282746310002 * (y * y * 0.5).exp()), ("out",)),
    ("log_ndtr", "log_ndtr", "SpecialLogNdtrBackward0",
     lambda node, g: (g * (_sv(node)[0] ** 2 * -0.5 - _sv(node)[1]).exp() * 0.3989422804014327,), ("a", "out")),
    ("entr", "entr", "SpecialEntrBackward0", _unary(lambda g, x: g * -(x.log() + 1)), ("a",)),
]
for _n, _k, _g, _f, _s in _S1:
    SPECIAL[_n] = OpDef(_n, 1, _k, INT_TO_FLOAT, _g, _f, _s, method=False)


def _bw_polygamma(node, g):
    (x,) = _sv(node)
    return (g * _e("polygamma", x, params=(node.ctx[0] + 1.0,)),)


SPECIAL["polygamma"] = OpDef("polygamma", 1, "polygamma", INT_TO_FLOAT, "PolygammaBackward0", _bw_polygamma, ("a",),
                             method=False)
for _n, _g in (("xlogy", "XlogyBackward0"), ("xlog1py", "SpecialXlog1PyBackward0")):
    SPECIAL[_n] = OpDef(_n, 2, _n, INT_TO_FLOAT, _g, _bw_xlogy, ("a", "b"), method=False)
SPECIAL["zeta"] = OpDef("zeta", 2, "zeta", INT_TO_FLOAT, "SpecialZetaBackward0", _bw_zeta, ("a", "b"), method=False)
for _n in ("frexp_mantissa", "frexp_exponent"):
    SPECIAL[_n] = OpDef(_n, 1, _n, DEFAULT, method=False)
