"""The elementwise op table: one row per op, from which ``_gen`` writes ``ew_generated.py``.

``OPS[name] = (arity, exprs, kind, err)``:

* ``exprs`` maps a dtype class to a scalar expression: ``'f'`` float32/float64, ``'i'`` signed and
  unsigned integers, ``'b'`` bool (a key such as ``'fi'`` covers several classes); an ``'F'`` entry
  replaces ``'f'`` for float32 only (vectorisable exp/log/tanh: Numba calls scalar libm, 30-50x
  slower than NumPy's SIMD).  Inputs are ``a``, ``b``, ``c``; parameters ``p0``, ``p1``, ``p2``
  arrive as float64 and are cast in the kernel prologue (float class: to the compute dtype; int
  class: to int64; bool class: ``!= 0``).  ``zero``, ``one``, ``two``, ``half``, ``inf`` are
  constants of the compute dtype, so float32 math stays float32.
* ``kind``: ``'same'`` (output has the compute dtype) or ``'bool'`` (output buffer is bool).
* ``err``: optional ``{cls: expr}``; where it is true the kernel reports ``ZeroDivisionError``.

Names starting with ``_`` are internal fast variants that ``elementwise`` rewrites to
(``add`` with alpha == 1, ``pow_scalar`` with small exponents, ``round`` with decimals != 0).
For ``where`` the first operand is the bool condition.  ``*_backward`` take the incoming gradient
first, then the saved forward value named in the comment.

``CONTIG_FAST`` names binary kernels that get a unit-stride loop of their own on the CPU (long bodies
stay scalar otherwise); ``F32_ONLY`` names the CPU-only vectorised float32 helpers the CUDA generator
skips.  Special functions compute in float64 helpers (Cephes-style) and store in the output dtype.
"""

OPS = {
    # ---- unary -------------------------------------------------------------------------------
    "copy": (1, {"fib": "a"}, "same", None),
    "fill": (1, {"fi": "p0", "b": "p0"}, "same", None),
    "neg": (1, {"fi": "-a"}, "same", None),
    "abs": (1, {"fi": "abs(a)", "b": "a"}, "same", None),
    "sign": (1, {"fi": "one if a > zero else (-one if a < zero else zero)", "b": "a"}, "same", None),
    "exp": (1, {"f": "math.exp(a)", "F": "_expf(a)"}, "same", None),
    "exp2": (1, {"f": "np.exp2(a)"}, "same", None),
    "expm1": (1, {"f": "math.expm1(a)"}, "same", None),
    "log": (1, {"f": "math.log(a)", "F": "_logf(a)"}, "same", None),
    "log2": (1, {"f": "math.log2(a)"}, "same", None),
    "log10": (1, {"f": "math.log10(a)"}, "same", None),
    "log1p": (1, {"f": "math.log1p(a)"}, "same", None),
    "sqrt": (1, {"f": "math.sqrt(a)"}, "same", None),
    "rsqrt": (1, {"f": "one / math.sqrt(a)"}, "same", None),
    "square": (1, {"fi": "a * a"}, "same", None),
    "reciprocal": (1, {"f": "one / a"}, "same", None),
    "sin": (1, {"f": "math.sin(a)"}, "same", None),
    "cos": (1, {"f": "math.cos(a)"}, "same", None),
    "tan": (1, {"f": "math.tan(a)"}, "same", None),
    "asin": (1, {"f": "math.asin(a)"}, "same", None),
    "acos": (1, {"f": "math.acos(a)"}, "same", None),
    "atan": (1, {"f": "math.atan(a)"}, "same", None),
    "sinh": (1, {"f": "math.sinh(a)"}, "same", None),
    "cosh": (1, {"f": "math.cosh(a)"}, "same", None),
    "tanh": (1, {"f": "math.tanh(a)", "F": "_tanhf(a)"}, "same", None),
    "asinh": (1, {"f": "math.asinh(a)"}, "same", None),
    "acosh": (1, {"f": "math.acosh(a)"}, "same", None),
    "atanh": (1, {"f": "math.atanh(a)"}, "same", None),
    "sigmoid": (1, {"f": "one / (one + math.exp(-a))", "F": "one / (one + _expf(-a))"}, "same", None),
    "relu": (1, {"fi": "zero if a < zero else a", "b": "a"}, "same", None),
    "erf": (1, {"f": "math.erf(a)", "F": "_erff(a)"}, "same", None),
    "erfc": (1, {"f": "math.erfc(a)"}, "same", None),
    "floor": (1, {"f": "np.floor(a)", "ib": "a"}, "same", None),
    "ceil": (1, {"f": "np.ceil(a)", "ib": "a"}, "same", None),
    "round": (1, {"f": "np.rint(a)", "ib": "a"}, "same", None),          # p0 = decimals
    "_round_pos": (1, {"f": "np.rint(a * p0) / p0"}, "same", None),      # p0 = 10**decimals
    "_round_neg": (1, {"f": "np.rint(a / p0) * p0"}, "same", None),      # p0 = 10**-decimals
    "trunc": (1, {"f": "np.trunc(a)", "ib": "a"}, "same", None),
    "frac": (1, {"f": "a - np.trunc(a)"}, "same", None),
    "clamp": (1, {"f": "_clamp_f(a, p0, p1)", "i": "min(max(a, p0), p1)"}, "same", None),
    "clamp_min": (1, {"f": "a if a != a else (p0 if (p0 != p0 or p0 > a) else a)",
                      "i": "max(a, p0)"}, "same", None),
    "clamp_max": (1, {"f": "a if a != a else (p0 if (p0 != p0 or p0 < a) else a)",
                      "i": "min(a, p0)"}, "same", None),
    "nan_to_num": (1, {"f": "p0 if a != a else (p1 if a == inf else (p2 if a == -inf else a))",
                       "ib": "a"}, "same", None),
    "isnan": (1, {"f": "a != a", "ib": "False"}, "bool", None),
    "isinf": (1, {"f": "abs(a) == inf", "ib": "False"}, "bool", None),
    "isfinite": (1, {"f": "a - a == zero", "ib": "True"}, "bool", None),
    "isposinf": (1, {"f": "a == inf", "ib": "False"}, "bool", None),
    "isneginf": (1, {"f": "a == -inf", "ib": "False"}, "bool", None),
    "signbit": (1, {"f": "math.copysign(one, a) < zero", "i": "a < 0", "b": "False"}, "bool", None),
    "logical_not": (1, {"fi": "a == zero", "b": "not a"}, "bool", None),
    "bitwise_not": (1, {"i": "~a", "b": "not a"}, "same", None),
    "pow_scalar": (1, {"f": "a ** p0", "i": "_pow_i(a, p0)"}, "same", None),   # a ** p0
    "_pow3": (1, {"fi": "a * a * a"}, "same", None),
    "_powm2": (1, {"f": "one / (a * a)"}, "same", None),
    "rpow_scalar": (1, {"f": "p0 ** a", "i": "_pow_i(p0, a)"}, "same", None),  # p0 ** a
    # ---- binary ------------------------------------------------------------------------------
    "add": (2, {"fi": "a + p0 * b", "b": "a | (p0 & b)"}, "same", None),      # p0 = alpha
    "_add1": (2, {"fi": "a + b", "b": "a | b"}, "same", None),
    "sub": (2, {"fi": "a - p0 * b"}, "same", None),
    "_sub1": (2, {"fi": "a - b"}, "same", None),
    "rsub": (2, {"fi": "b - p0 * a"}, "same", None),
    "_rsub1": (2, {"fi": "b - a"}, "same", None),
    "mul": (2, {"fi": "a * b", "b": "a & b"}, "same", None),
    "div": (2, {"f": "a / b"}, "same", None),
    "div_trunc": (2, {"f": "np.trunc(a / b)", "i": "_divtrunc_i(a, b)"}, "same", {"i": "b == 0"}),
    "div_floor": (2, {"f": "_floordiv_f(a, b, zero, one, half)", "i": "_floordiv_i(a, b)"}, "same",
                  {"i": "b == 0"}),
    "remainder": (2, {"f": "_rem_f(a, b, zero)", "i": "_rem_i(a, b)"}, "same", {"i": "b == 0"}),
    "fmod": (2, {"f": "np.fmod(a, b)", "i": "_fmod_i(a, b)"}, "same", {"i": "b == 0"}),
    "pow": (2, {"f": "a ** b", "i": "_pow_i(a, b)"}, "same", None),
    "maximum": (2, {"f": "a if a != a else (b if (b != b or a < b) else a)", "i": "max(a, b)",
                    "b": "a | b"}, "same", None),
    "minimum": (2, {"f": "a if a != a else (b if (b != b or b < a) else a)", "i": "min(a, b)",
                    "b": "a & b"}, "same", None),
    "fmax": (2, {"f": "b if (a != a or a < b) else a", "i": "max(a, b)", "b": "a | b"}, "same", None),
    "fmin": (2, {"f": "b if (a != a or b < a) else a", "i": "min(a, b)", "b": "a & b"}, "same", None),
    "atan2": (2, {"f": "math.atan2(a, b)"}, "same", None),
    "hypot": (2, {"f": "math.hypot(a, b)"}, "same", None),
    "copysign": (2, {"f": "math.copysign(a, b)"}, "same", None),
    "xlogy": (2, {"f": "b if b != b else (zero if a == zero else a * math.log(b))"}, "same", None),
    "eq": (2, {"fib": "a == b"}, "bool", None),
    "ne": (2, {"fib": "a != b"}, "bool", None),
    "lt": (2, {"fib": "a < b"}, "bool", None),
    "le": (2, {"fib": "a <= b"}, "bool", None),
    "gt": (2, {"fib": "a > b"}, "bool", None),
    "ge": (2, {"fib": "a >= b"}, "bool", None),
    "logical_and": (2, {"fi": "(a != zero) & (b != zero)", "b": "a & b"}, "bool", None),
    "logical_or": (2, {"fi": "(a != zero) | (b != zero)", "b": "a | b"}, "bool", None),
    "logical_xor": (2, {"fi": "(a != zero) ^ (b != zero)", "b": "a ^ b"}, "bool", None),
    "bitwise_and": (2, {"ib": "a & b"}, "same", None),
    "bitwise_or": (2, {"ib": "a | b"}, "same", None),
    "bitwise_xor": (2, {"ib": "a ^ b"}, "same", None),
    "bitwise_left_shift": (2, {"i": "_lshift_i(a, b)"}, "same", None),
    "bitwise_right_shift": (2, {"i": "_rshift_i(a, b)"}, "same", None),
    # ---- ternary -----------------------------------------------------------------------------
    "where": (3, {"fib": "b if a else c"}, "same", None),                 # a = bool condition
    "lerp": (3, {"f": "a + c * (b - a) if abs(c) < half else b - (b - a) * (one - c)"}, "same", None),
    "addcmul": (3, {"fi": "a + p0 * b * c"}, "same", None),              # p0 = value
    "addcdiv": (3, {"f": "a + p0 * b / c"}, "same", None),
    "clamp_tensor": (3, {"f": "_clamp_f(a, b, c)", "i": "min(max(a, b), c)"}, "same", None),
    # ---- gradients: (grad, saved) -> grad_input ----------------------------------------------
    "relu_backward": (2, {"f": "zero if b <= zero else a"}, "same", None),            # b = result
    "threshold_backward": (2, {"f": "zero if b <= p0 else a"}, "same", None),         # b = input
    "sigmoid_backward": (2, {"f": "a * (one - b) * b"}, "same", None),                # b = result
    "tanh_backward": (2, {"f": "a * (one - b * b)"}, "same", None),                   # b = result
    "exp_backward": (2, {"f": "a * b"}, "same", None),                                # b = result
    "log_backward": (2, {"f": "a / b"}, "same", None),                                # b = input
    "log1p_backward": (2, {"f": "a / (b + one)"}, "same", None),                      # b = input
    "sqrt_backward": (2, {"f": "a / (two * b)"}, "same", None),                       # b = result
    "rsqrt_backward": (2, {"f": "_rsqrt_bw(a, b, one, half)"}, "same", None),         # b = input
    "reciprocal_backward": (2, {"f": "-a * (b * b)"}, "same", None),                  # b = result
    "abs_backward": (2, {"f": "a * (one if b > zero else (-one if b < zero else zero))"}, "same", None),
    "sin_backward": (2, {"f": "a * math.cos(b)"}, "same", None),                      # b = input
    "cos_backward": (2, {"f": "a * -math.sin(b)"}, "same", None),                     # b = input
    "clamp_backward": (2, {"f": "a if ((b >= p0) & (b <= p1)) else zero"}, "same", None),  # b = input
    "pow_scalar_backward": (2, {"f": "zero if p0 == zero else a * (p0 * _pow_special(b, p0 - one, one))"},
                            "same", None),                                            # b = input
    "_pow2_backward": (2, {"f": "a * (two * b)"}, "same", None),
    "atan2_backward_self": (3, {"f": "(a * c) * (one / (b * b + c * c))"}, "same", None),  # b, c = inputs
    "atan2_backward_other": (3, {"f": "(a * -b) * (one / (b * b + c * c))"}, "same", None),
    "hypot_backward": (3, {"f": "a * b / c"}, "same", None),                  # b = that input, c = result
}

# Scalar helpers copied verbatim into ew_generated.py (so Numba's cache sees one source file).
HELPERS = '''
@njit(error_model='numpy')
def _p2i(p):
    # A float64 parameter as int64, saturating: clamp's missing bound arrives as +-inf.
    if p >= 9.2233720368547758e18:
        return np.int64(9223372036854775807)
    if p <= -9.2233720368547758e18:
        return np.int64(-9223372036854775807 - 1)
    return np.int64(p)


@njit(error_model='numpy')
def _clamp_f(a, lo, hi):
    # NaN in the value or in either bound propagates; min > max gives max (as torch).
    if a != a:
        return a
    if lo != lo:
        return lo
    if hi != hi:
        return hi
    r = lo if a < lo else a
    return hi if r > hi else r


@njit(error_model='numpy')
def _floordiv_f(a, b, zero, one, half):
    # CPython's float floor division, which torch.floor_divide follows.
    if b == zero:
        return a / b
    mod = np.fmod(a, b)
    div = (a - mod) / b
    if mod != zero and (b < zero) != (mod < zero):
        div -= one
    if div != zero:
        fd = np.floor(div)
        if div - fd > half:
            fd += one
        return fd
    return math.copysign(zero, a / b)


@njit(error_model='numpy')
def _rem_f(a, b, zero):
    mod = np.fmod(a, b)
    if mod != zero and (b < zero) != (mod < zero):
        mod += b
    return mod


@njit(error_model='numpy')
def _floordiv_i(a, b):
    # b == -1 is special-cased: INT_MIN // -1 traps in hardware (torch itself dies with SIGFPE).
    if b == 0:
        return a - a
    if b == -1:
        return -a
    return a // b


@njit(error_model='numpy')
def _divtrunc_i(a, b):
    if b == 0:
        return a - a
    if b == -1:
        return -a
    q = a // b
    if q < 0 and q * b != a:
        q += 1
    return q


@njit(error_model='numpy')
def _rem_i(a, b):
    if b == 0 or b == -1:
        return a - a
    return a % b


@njit(error_model='numpy')
def _fmod_i(a, b):
    if b == 0 or b == -1:
        return a - a
    r = a % b
    if r != 0 and (r < 0) != (a < 0):
        r -= b
    return r


@njit(error_model='numpy')
def _pow_i(a, e):
    # Repeated squaring in int64; the store into the output buffer wraps like torch.
    e = np.int64(e)
    base = np.int64(a)
    if e < 0:
        if base == 1:
            return base
        if base == -1:
            return base if e & 1 else -base
        return base - base
    r = np.int64(1)
    while e:
        if e & 1:
            r *= base
        e >>= 1
        base *= base
    return r


@njit(error_model='numpy')
def _lshift_i(a, b):
    # Computed in int64 and truncated on store: gives torch's result for every width
    # (shifts >= the width of the type give 0).
    s = np.int64(b)
    if s < 0 or s > 63:
        return np.int64(0)
    return np.int64(a) << s


@njit(error_model='numpy')
def _rshift_i(a, b):
    s = np.int64(b)
    if s < 0 or s > 63:
        s = np.int64(63)
    return np.int64(a) >> s


@intrinsic
def _f32_from_bits(typingctx, x):
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], context.get_value_type(types.float32))
    return types.float32(types.int32), codegen


@intrinsic
def _f32_bits(typingctx, x):
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], context.get_value_type(types.int32))
    return types.int32(types.float32), codegen


@njit(error_model='numpy', inline='always')
def _expf(x):
    # Cephes expf (< 2 ulp) written with selects so the loop vectorises (Numba's math.exp is a
    # scalar libm call, 5x slower).  2**n is built from exponent bits in two halves so overflow to
    # inf and gradual underflow to subnormals come out of the final multiplications.
    xc = x if x > np.float32(-104.0) else np.float32(-104.0)     # NaN -> -104, fixed up below
    xc = xc if xc < np.float32(89.0) else np.float32(89.0)
    n = np.floor(xc * np.float32(1.44269504088896341) + np.float32(0.5))
    r = (xc - n * np.float32(0.693359375)) - n * np.float32(-2.12194440e-4)
    p = np.float32(1.9875691500e-4) * r + np.float32(1.3981999507e-3)
    p = p * r + np.float32(8.3334519073e-3)
    p = p * r + np.float32(4.1665795894e-2)
    p = p * r + np.float32(1.6666665459e-1)
    p = p * r + np.float32(5.0000001201e-1)
    p = p * (r * r) + r + np.float32(1.0)
    ni = np.int32(n)
    h = ni >> 1
    p = p * _f32_from_bits((h + 127) << 23) * _f32_from_bits((ni - h + 127) << 23)
    p = np.float32(np.inf) if x > np.float32(88.8) else p
    p = np.float32(0.0) if x < np.float32(-104.0) else p
    return x if x != x else p


@njit(error_model='numpy', inline='always')
def _tanhf(x):
    # Cephes tanhf (< 2 ulp), both branches computed and selected so the loop vectorises.
    ax = abs(x)
    z = x * x
    small = ((((np.float32(-5.70498872745e-3) * z + np.float32(2.06390887954e-2)) * z
               - np.float32(5.37397155531e-2)) * z + np.float32(1.33314422036e-1)) * z
             - np.float32(3.33332819422e-1)) * z * x + x
    big = np.float32(1.0) - np.float32(2.0) / (_expf(ax + ax) + np.float32(1.0))
    big = big if x >= np.float32(0.0) else -big
    r = small if ax < np.float32(0.625) else big
    return x if x == np.float32(0.0) else r     # keeps the sign of -0.0


@njit(error_model='numpy', inline='always')
def _erff(x):
    # Cephes erff/erfcf (~1e-7): odd polynomial below |x| = 1, else 1 - exp(-x*x) * P(1/x**2) / x;
    # all branches computed and selected so the loop vectorises (GELU's erf).
    z = x * x
    small = x * ((((((np.float32(7.853861353153693e-5) * z - np.float32(8.010193625184903e-4)) * z
                     + np.float32(5.188327685732524e-3)) * z - np.float32(2.685381193529856e-2)) * z
                   + np.float32(1.128358514861418e-1)) * z - np.float32(3.761262582423300e-1)) * z
                 + np.float32(1.128379165726710))
    ax = abs(x)
    q = np.float32(1.0) / ax
    y = q * q
    p = np.float32(2.326819970068386e-2) * y - np.float32(1.387039388740657e-1)
    p = p * y + np.float32(3.687424674597105e-1)
    p = p * y - np.float32(5.824733027278666e-1)
    p = p * y + np.float32(6.210004621745983e-1)
    p = p * y - np.float32(4.944515323274145e-1)
    p = p * y + np.float32(3.404879937665872e-1)
    p = p * y - np.float32(2.741127028184656e-1)
    p = p * y + np.float32(5.638259427386472e-1)
    r = np.float32(-1.047766399936249e+1) * y + np.float32(1.297719955372516e+1)
    r = r * y - np.float32(7.495518717768503)
    r = r * y + np.float32(2.921019019210786)
    r = r * y - np.float32(1.015265279202700)
    r = r * y + np.float32(4.218463358204948e-1)
    r = r * y - np.float32(2.820767439740514e-1)
    r = r * y + np.float32(5.641895067754075e-1)
    erfc = _expf(-z) * q * (p if ax < np.float32(2.0) else r)
    big = np.float32(1.0) - erfc
    big = big if x > np.float32(0.0) else -big
    out = small if ax < np.float32(1.0) else big
    return x if x != x else out


@njit(error_model='numpy', inline='always')
def _logf(x):
    # Cephes logf (< 2 ulp) with selects; subnormal inputs are scaled by 2**23 first.
    sub = x < np.float32(1.17549435e-38)
    xs = x * np.float32(8388608.0) if sub else x
    bits = _f32_bits(xs)
    e = np.float32(((bits >> 23) & 0xff) - (149 if sub else 126))
    m = _f32_from_bits((bits & 0x007fffff) | 0x3f000000)      # xs = m * 2**e, m in [0.5, 1)
    low = m < np.float32(0.707106781186547524)
    e = e - np.float32(1.0) if low else e
    m = (m + m if low else m) - np.float32(1.0)
    z = m * m
    y = np.float32(7.0376836292e-2) * m - np.float32(1.1514610310e-1)
    y = y * m + np.float32(1.1676998740e-1)
    y = y * m - np.float32(1.2420140846e-1)
    y = y * m + np.float32(1.4249322787e-1)
    y = y * m - np.float32(1.6668057665e-1)
    y = y * m + np.float32(2.0000714765e-1)
    y = y * m - np.float32(2.4999993993e-1)
    y = y * m + np.float32(3.3333331174e-1)
    y = y * m * z + e * np.float32(-2.12194440e-4) - np.float32(0.5) * z
    r = (m + y) + e * np.float32(0.693359375)
    r = r if x > np.float32(0.0) else (np.float32(-np.inf) if x == np.float32(0.0) else np.float32(np.nan))
    return x if x == np.float32(np.inf) else r


@njit(error_model='numpy')
def _rsqrt_bw(g, x, one, half):
    y = one / math.sqrt(x)
    return (-half * g) * (y * y * y)


@njit(error_model='numpy')
def _pow_special(x, e, one):
    # torch's pow(x, scalar) fast paths, so gradients match torch bit for bit.
    if e == 0:
        return one
    if e == 1:
        return x
    if e == 2:
        return x * x
    if e == 3:
        return x * x * x
    if e == 0.5:
        return math.sqrt(x)
    if e == -0.5:
        return one / math.sqrt(x)
    if e == -1:
        return one / x
    if e == -2:
        return one / (x * x)
    return x ** e
'''

# ---- activations (nn.functional): forward bodies and their fused backward kernels ------------------
# Parameters: elu (p0 alpha, p1 scale, p2 input_scale), leaky_relu (p0 slope), hardtanh (p0 min, p1 max),
# hard/softshrink (p0 lambd), softplus (p0 beta, p1 threshold), threshold (p0 threshold, p1 value).
# 'F' bodies use the vectorisable float32 helpers; ``*_backward`` take (grad, input).
OPS.update({
    "gelu": (1, {"f": "a * half * (one + math.erf(a * rsqrt2))",
                 "F": "a * half * (one + _erff(a * rsqrt2))"}, "same", None),
    "gelu_tanh": (1, {"f": "half * a * (one + math.tanh(kbeta * (a + kappa * (a * a * a))))",
                      "F": "half * a * (one + _tanhf(kbeta * (a + kappa * (a * a * a))))"}, "same", None),
    "silu": (1, {"f": "a / (one + math.exp(-a))", "F": "a / (one + _expf(-a))"}, "same", None),
    "mish": (1, {"f": "a * math.tanh(math.log1p(math.exp(a)))",
                 "F": "a * _tanhf(_log1pf(_expf(a)))"}, "same", None),
    "elu": (1, {"f": "math.expm1(a * p2) * (p0 * p1) if a < zero else a * p1",
                "F": "_expm1f(a * p2) * (p0 * p1) if a < zero else a * p1"}, "same", None),
    "leaky_relu": (1, {"f": "a if a > zero else a * p0"}, "same", None),
    "hardtanh": (1, {"f": "a if a != a else (p0 if a < p0 else (p1 if a > p1 else a))",
                     "i": "min(max(a, p0), p1)"}, "same", None),
    "hardswish": (1, {"f": "a * (zero if a + three < zero else (six if a + three > six else a + three)) / six"},
                  "same", None),
    "hardsigmoid": (1, {"f": "(zero if a + three < zero else (six if a + three > six else a + three)) / six"},
                    "same", None),
    "hardshrink": (1, {"f": "zero if (a >= -p0) & (a <= p0) else a"}, "same", None),
    "softshrink": (1, {"f": "a - p0 if a > p0 else (a + p0 if a < -p0 else a * zero)"}, "same", None),
    "softplus": (1, {"f": "a if a * p0 > p1 else math.log1p(math.exp(a * p0)) / p0",
                     "F": "a if a * p0 > p1 else _log1pf(_expf(a * p0)) / p0"}, "same", None),
    "logsigmoid": (1, {"f": "(a if a < zero else zero) - math.log1p(math.exp(-abs(a)))",
                       "F": "(a if a < zero else zero) - _log1pf(_expf(-abs(a)))"}, "same", None),
    "threshold": (1, {"f": "p1 if a <= p0 else a", "i": "p1 if a <= p0 else a"}, "same", None),
    "gelu_backward": (2, {"f": "a * (half * (one + math.erf(b * rsqrt2)) + b * (kalpha * math.exp(-half * b * b)))",
                          "F": "a * (half * (one + _erff(b * rsqrt2)) + b * (kalpha * _expf(-half * b * b)))"},
                      "same", None),
    "gelu_tanh_backward": (2, {"f": "_gelu_tanh_bw(a, b, math.tanh(kbeta * (b + kappa * (b * b * b))), half, "
                                    "one, three, kbeta, kappa)",
                               "F": "_gelu_tanh_bw(a, b, _tanhf(kbeta * (b + kappa * (b * b * b))), half, "
                                    "one, three, kbeta, kappa)"}, "same", None),
    "silu_backward": (2, {"f": "_silu_bw(a, b, one / (one + math.exp(-b)), one)",
                          "F": "_silu_bw(a, b, one / (one + _expf(-b)), one)"}, "same", None),
    "mish_backward": (2, {"f": "_mish_bw(a, b, one / (one + math.exp(-b)), math.tanh(math.log1p(math.exp(b))), one)",
                          "F": "_mish_bw(a, b, one / (one + _expf(-b)), _tanhf(_log1pf(_expf(b))), one)"},
                      "same", None),
    "elu_backward": (2, {"f": "a * p2 * (p0 * p1) * math.exp(b * p2) if b <= zero else a * p1",
                         "F": "a * p2 * (p0 * p1) * _expf(b * p2) if b <= zero else a * p1"}, "same", None),
    "leaky_relu_backward": (2, {"f": "a if b > zero else a * p0"}, "same", None),
    "hardtanh_backward": (2, {"f": "zero if (b <= p0) | (b >= p1) else a"}, "same", None),
    "hardswish_backward": (2, {"f": "zero if b < -three else (a * (b / three + half) if b <= three else a)"},
                           "same", None),
    "hardsigmoid_backward": (2, {"f": "a * sixth if (b > -three) & (b < three) else zero"}, "same", None),
    "shrink_backward": (2, {"f": "zero if (b >= -p0) & (b <= p0) else a"}, "same", None),
    "softplus_backward": (2, {"f": "a if b * p0 > p1 else _softplus_bw(a, math.exp(b * p0), one)",
                              "F": "a if b * p0 > p1 else _softplus_bw(a, _expf(b * p0), one)"}, "same", None),
    "logsigmoid_backward": (2, {"f": "_logsigmoid_bw(a, b, math.exp(-abs(b)), zero, one)",
                                "F": "_logsigmoid_bw(a, b, _expf(-abs(b)), zero, one)"}, "same", None),
})

# Binary kernels with long bodies: the CPU generator gives them a unit-stride loop of their own (see _gen).
CONTIG_FAST = frozenset(("gelu_backward", "gelu_tanh_backward", "silu_backward", "mish_backward", "elu_backward",
                         "leaky_relu_backward", "hardtanh_backward", "hardswish_backward", "hardsigmoid_backward",
                         "shrink_backward", "softplus_backward", "logsigmoid_backward"))

# CPU-only float32 helpers (the CUDA generator skips these names: a GPU's expm1f/log1pf are fast).
F32_ONLY = ("_expf", "_tanhf", "_erff", "_logf", "_expm1f", "_log1pf")

HELPERS += '''

@njit(error_model='numpy', inline='always')
def _expm1f(x):
    # Taylor polynomial below |x| = 0.5 (exp(x) - 1 cancels there; the x**9 term is < 1e-8 relative),
    # _expf(x) - 1 above; both computed and selected so the loop vectorises.
    small = x * (np.float32(1.0) + x * (np.float32(0.5) + x * (np.float32(1.0 / 6) + x * (
        np.float32(1.0 / 24) + x * (np.float32(1.0 / 120) + x * (np.float32(1.0 / 720) + x * (
            np.float32(1.0 / 5040) + x * np.float32(1.0 / 40320))))))))
    big = _expf(x) - np.float32(1.0)
    return small if abs(x) < np.float32(0.5) else big


@njit(error_model='numpy', inline='always')
def _log1pf(x):
    # log(u) * x / (u - 1) with u = 1 + x corrects the rounding of u (Goldberg); selects only.
    u = np.float32(1.0) + x
    d = u - np.float32(1.0)
    r = _logf(u) * (x / d)
    r = x if d == np.float32(0.0) else r
    return u if u == np.float32(np.inf) else r


@njit(error_model='numpy', inline='always')
def _gelu_tanh_bw(g, x, t, half, one, three, kbeta, kappa):
    # torch's GeluBackward (tanh): d/dx 0.5 x (1 + tanh(inner)), t = tanh(inner).
    left = half * x
    right = one + t
    return g * (half * right + left * (one - t * t) * kbeta * (one + three * kappa * (x * x)))


@njit(error_model='numpy', inline='always')
def _silu_bw(g, x, s, one):
    return g * s * (one + x * (one - s))


@njit(error_model='numpy', inline='always')
def _mish_bw(g, x, s, t, one):
    return g * (t + x * s * (one - t * t))


@njit(error_model='numpy', inline='always')
def _softplus_bw(g, z, one):
    return g * z / (z + one)


@njit(error_model='numpy', inline='always')
def _logsigmoid_bw(g, x, z, zero, one):
    neg = x < zero
    return g * ((one if neg else zero) - (one if neg else -one) * (z / (one + z)))
'''

# ---- special functions (torch.special and friends): computed in float64, stored in the output dtype --------
OPS.update({
    "erfinv": (1, {"f": "_erfinv(a)"}, "same", None),
    "lgamma": (1, {"f": "_lgamma(a)"}, "same", None),
    "digamma": (1, {"f": "_digamma(a)"}, "same", None),
    "polygamma": (1, {"f": "_polygamma(p0, a)"}, "same", None),                  # p0 = n
    "i0": (1, {"f": "_i0e(a) * math.exp(abs(np.float64(a)))"}, "same", None),
    "i0e": (1, {"f": "_i0e(a)"}, "same", None),
    "i1": (1, {"f": "_i1e(a) * math.exp(abs(np.float64(a)))"}, "same", None),
    "i1e": (1, {"f": "_i1e(a)"}, "same", None),
    "sinc": (1, {"f": "one if a == zero else math.sin(pi_ * a) / (pi_ * a)"}, "same", None),
    "deg2rad": (1, {"f": "a * deg"}, "same", None),
    "rad2deg": (1, {"f": "a * rad"}, "same", None),
    "logit": (1, {"f": "_logit(a, p0, zero, one)"}, "same", None),              # p0 = eps (< 0: none)
    "erfcx": (1, {"f": "_erfcx(a)"}, "same", None),
    "ndtr": (1, {"f": "(one + math.erf(a * rsqrt2)) * half"}, "same", None),
    "ndtri": (1, {"f": "_ndtri(a)"}, "same", None),
    "log_ndtr": (1, {"f": "_log_ndtr(a)"}, "same", None),
    "entr": (1, {"f": "a if a != a else (-a * math.log(a) if a > zero else (zero if a == zero else -inf))"},
             "same", None),
    "frexp_mantissa": (1, {"f": "math.frexp(a)[0]"}, "same", None),
    "frexp_exponent": (1, {"f": "math.frexp(a)[1]"}, "same", None),
    "xlog1py": (2, {"f": "b if b != b else (zero if a == zero else a * math.log1p(b))"}, "same", None),
    "heaviside": (2, {"fi": "b if a == zero else (one if a > zero else zero)", "b": "a | b"}, "same", None),
    "nextafter": (2, {"f": "np.nextafter(a, b)"}, "same", None),
    "logaddexp": (2, {"f": "_logaddexp(a, b, one)"}, "same", None),
    "logaddexp2": (2, {"f": "_logaddexp2(a, b, one)"}, "same", None),
    "gcd": (2, {"i": "_gcd(a, b)"}, "same", None),
    "lcm": (2, {"i": "_lcm(a, b)"}, "same", None),
    "ldexp": (2, {"f": "a * np.exp2(b)"}, "same", None),
    "zeta": (2, {"f": "_zeta(np.float64(a), np.float64(b))"}, "same", None),
})

HELPERS += '''

_I0E_A = (-4.41534164647933937950E-18, 3.33079451882223809783E-17, -2.43127984654795469359E-16,
          1.71539128555513303061E-15, -1.16853328779934516808E-14, 7.67618549860493561688E-14,
          -4.85644678311192946090E-13, 2.95505266312963983461E-12, -1.72682629144155570723E-11,
          9.67580903537323691224E-11, -5.18979560163526290666E-10, 2.65982372468238665035E-9,
          -1.30002500998624804212E-8, 6.04699502254191894932E-8, -2.67079385394061173391E-7,
          1.11738753912010371815E-6, -4.41673835845875056359E-6, 1.64484480707288970893E-5,
          -5.75419501008210370398E-5, 1.88502885095841655729E-4, -5.76375574538582365885E-4,
          1.63947561694133579842E-3, -4.32430999505057594430E-3, 1.05464603945949983183E-2,
          -2.37374148058994688156E-2, 4.93052842396707084878E-2, -9.49010970480476444210E-2,
          1.71620901522208775349E-1, -3.04682672343198398683E-1, 6.76795274409476084995E-1)
_I0E_B = (-7.23318048787475395456E-18, -4.83050448594418207126E-18, 4.46562142029675999901E-17,
          3.46122286769746109310E-17, -2.82762398051658348494E-16, -3.42548561967721913462E-16,
          1.77256013305652638360E-15, 3.81168066935262242075E-15, -9.55484669882830764870E-15,
          -4.15056934728722208663E-14, 1.54008621752140982691E-14, 3.85277838274214270114E-13,
          7.18012445138366623367E-13, -1.79417853150680611778E-12, -1.32158118404477131188E-11,
          -3.14991652796324136454E-11, 1.18891471078464383424E-11, 4.94060238822496958910E-10,
          3.39623202570838634515E-9, 2.26666899049817806459E-8, 2.04891858946906374183E-7,
          2.89137052083475648297E-6, 6.88975834691682398426E-5, 3.36911647825569408990E-3,
          8.04490411014108831608E-1)
_I1E_A = (2.77791411276104639959E-18, -2.11142121435816608115E-17, 1.55363195773620046921E-16,
          -1.10559694773538630805E-15, 7.60068429473540693410E-15, -5.04218550472791168711E-14,
          3.22379336594557470981E-13, -1.98397439776494371520E-12, 1.17361862988909016308E-11,
          -6.66348972350202774223E-11, 3.62559028155211703701E-10, -1.88724975172282928790E-9,
          9.38153738649577178388E-9, -4.44505912879632808065E-8, 2.00329475355213526229E-7,
          -8.56872026469545474066E-7, 3.47025130813767847674E-6, -1.32731636560394358279E-5,
          4.78156510755005422638E-5, -1.61760815825896745588E-4, 5.12285956168575772895E-4,
          -1.51357245063125314899E-3, 4.15642294431288815669E-3, -1.05640848946261981558E-2,
          2.47264490306265168283E-2, -5.29459812080949914269E-2, 1.02643658689847095384E-1,
          -1.76416518357834055153E-1, 2.52587186443633654823E-1)
_I1E_B = (7.51729631084210481353E-18, 4.41434832307170791151E-18, -4.65030536848935832153E-17,
          -3.20952592199342395980E-17, 2.96262899764595013876E-16, 3.30820231092092828324E-16,
          -1.88035477551078244854E-15, -3.81440307243700780478E-15, 1.04202769841288027642E-14,
          4.27244001671195135429E-14, -2.10154184277266431302E-14, -4.08355111109219731823E-13,
          -7.19855177624590851209E-13, 2.03562854414708950722E-12, 1.41258074366137813316E-11,
          3.25260358301548823856E-11, -1.89749581235054123450E-11, -5.58974346219658380687E-10,
          -3.83538038596423702205E-9, -2.63146884688951950684E-8, -2.51223623787020892529E-7,
          -3.88256480887769039346E-6, -1.10588938762623716291E-4, -9.76109749136146840777E-3,
          7.78576235018280120474E-1)
_PSI_A = (8.33333333333333333333E-2, -2.10927960927960927961E-2, 7.57575757575757575758E-3,
          -4.16666666666666666667E-3, 3.96825396825396825397E-3, -8.33333333333333333333E-3,
          8.33333333333333333333E-2)
_ZETA_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9, 7.47242496e10,
           -2.950130727918164224e12, 1.1646782814350067249e14, -4.5979787224074726105e15,
           1.8152105401943546773e17, -7.1661652561756670113e18)
_NDTRI_P0 = (-5.99633501014107895267E1, 9.80010754185999661536E1, -5.66762857469070293439E1,
             1.39312609387279679503E1, -1.23916583867381258016E0)
_NDTRI_Q0 = (1.0, 1.95448858338141759834E0, 4.67627912898881538453E0, 8.63602421390890590575E1,
             -2.25462687854119370527E2, 2.00260212380060660359E2, -8.20372256168333339912E1,
             1.59056225126211695515E1, -1.18331621121330003142E0)
_NDTRI_P1 = (4.05544892305962419923E0, 3.15251094599893866154E1, 5.71628192246421288162E1,
             4.40805073893200834700E1, 1.46849561928858024014E1, 2.18663306850790267539E0,
             -1.40256079171354495875E-1, -3.50424626827848203418E-2, -8.57456785154685413611E-4)
_NDTRI_Q1 = (1.0, 1.57799883256466749731E1, 4.53907635128879210584E1, 4.13172038254672030440E1,
             1.50425385692907503408E1, 2.50464946208309415979E0, -1.42182922854787788574E-1,
             -3.80806407691578277194E-2, -9.33259480895457427372E-4)
_NDTRI_P2 = (3.23774891776946035970E0, 6.91522889068984211695E0, 3.93881025292474443415E0,
             1.33303460815807542389E0, 2.01485389549179081538E-1, 1.23716634817820021358E-2,
             3.01581553508235416007E-4, 2.65806974686737550832E-6, 6.23974539184983293730E-9)
_NDTRI_Q2 = (1.0, 6.02427039364742014255E0, 3.67983563856160859403E0, 1.37702099489081330271E0,
             2.16236993594496635890E-1, 1.34204006088543189037E-2, 3.28014464682127739104E-4,
             2.89247864745380683936E-6, 6.79019408009981274425E-9)


@njit(error_model='numpy')
def _polevl(x, c):
    # c[0] x**n + ... + c[n] (Cephes' coefficient order).
    r = c[0]
    for i in range(1, len(c)):
        r = r * x + c[i]
    return r


@njit(error_model='numpy')
def _chbevl(x, c):
    # Clenshaw sum of a Chebyshev series in Cephes' order (zeroth term last).
    b0 = c[0]
    b1 = 0.0
    b2 = 0.0
    for i in range(1, len(c)):
        b2 = b1
        b1 = b0
        b0 = x * b1 - b2 + c[i]
    return 0.5 * (b0 - b2)


@njit(error_model='numpy')
def _i0e(a):
    x = abs(np.float64(a))
    if x <= 8.0:
        return _chbevl(x / 2.0 - 2.0, _I0E_A)
    return _chbevl(32.0 / x - 2.0, _I0E_B) / math.sqrt(x)


@njit(error_model='numpy')
def _i1e(a):
    v = np.float64(a)
    x = abs(v)
    if x <= 8.0:
        r = _chbevl(x / 2.0 - 2.0, _I1E_A) * x
    else:
        r = _chbevl(32.0 / x - 2.0, _I1E_B) / math.sqrt(x)
    return -r if v < 0.0 else r


@njit(error_model='numpy')
def _lgamma(a):
    return math.lgamma(np.float64(a))


@njit(error_model='numpy')
def _digamma(a):
    # Cephes psi: reflection below 0, recurrence up to 10, asymptotic series.
    x = np.float64(a)
    if x == 0.0:
        return math.copysign(np.inf, -x)
    result = 0.0
    if x < 0.0:
        if x == np.trunc(x):
            return np.nan
        r = x - np.trunc(x)
        result = -math.pi / math.tan(math.pi * r)
        x = 1.0 - x
    while x < 10.0:
        result -= 1.0 / x
        x += 1.0
    if x == 10.0:
        return result + 2.25175258906672110764
    y = 0.0
    if x < 1.0e17:
        z = 1.0 / (x * x)
        y = z * _polevl(z, _PSI_A)
    return result + math.log(x) - 0.5 / x - y


@njit(error_model='numpy')
def _trigamma(a):
    x = np.float64(a)
    sign = 1.0
    result = 0.0
    if x < 0.5:
        sign = -1.0
        s = math.sin(math.pi * x)
        result -= (math.pi * math.pi) / (s * s)
        x = 1.0 - x
    for i in range(6):
        result += 1.0 / (x * x)
        x += 1.0
    ixx = 1.0 / (x * x)
    result += (1.0 + 1.0 / (2.0 * x) + ixx * (1.0 / 6 - ixx * (1.0 / 30 - ixx * (1.0 / 42)))) / x
    return sign * result


@njit(error_model='numpy')
def _zeta(x, q):
    # Hurwitz zeta (Cephes): direct sum, then Euler-Maclaurin.
    machep = 1.11022302462515654042E-16
    if x == 1.0:
        return np.inf
    if x < 1.0:
        return np.nan
    if q <= 0.0:
        if q == np.floor(q):
            return np.inf
        if x != np.floor(x):
            return np.nan
    s = q ** -x
    a = q
    i = 0
    b = 0.0
    while i < 9 or a <= 9.0:
        i += 1
        a += 1.0
        b = a ** -x
        s += b
        if -machep * s < b and b < machep * s:
            return s
    w = a
    s += b * w / (x - 1.0)
    s -= 0.5 * b
    a = 1.0
    k = 0.0
    for j in range(12):
        a *= x + k
        b /= w
        t = a * b / _ZETA_A[j]
        s = s + t
        if abs(t / s) < machep:
            return s
        k += 1.0
        a *= x + k
        b /= w
        k += 1.0
    return s


@njit(error_model='numpy')
def _polygamma(n, a):
    k = int(n)
    if k == 0:
        return _digamma(a)
    if k == 1:
        return _trigamma(a)
    f = 1.0
    for i in range(2, k + 1):
        f *= i
    return (1.0 if k % 2 else -1.0) * f * _zeta(np.float64(k + 1), np.float64(a))


@njit(error_model='numpy')
def _erfinv(a):
    # Rational first guess, then Newton steps on erf (erfc in the tails, where 1 - |y| is exact).
    y = np.float64(a)
    ay = abs(y)
    if ay > 1.0 or y != y:
        return np.nan
    if ay == 1.0:
        return math.copysign(np.inf, y)
    if ay <= 0.7:
        z = y * y
        x = y * (((-0.140543331 * z + 0.914624893) * z - 1.645349621) * z + 0.886226899) / \\
            ((((0.012229801 * z - 0.329097515) * z + 1.442710462) * z - 2.118377725) * z + 1.0)
        for i in range(2):
            x = x - (math.erf(x) - y) / (1.1283791670955126 * math.exp(-x * x))
        return x
    z = math.sqrt(-math.log((1.0 - ay) / 2.0))
    x = (((1.641345311 * z + 3.429567803) * z - 1.624906493) * z - 1.970840454) / \\
        ((1.637067800 * z + 3.543889200) * z + 1.0)
    c = 1.0 - ay
    for i in range(3):
        x = x + (math.erfc(x) - c) / (1.1283791670955126 * math.exp(-x * x))
    return math.copysign(x, y)


@njit(error_model='numpy')
def _expsq(x):
    # exp(x * x) without the rounding error of x * x (Dekker's split: hi * hi is exact).
    c = 134217729.0 * x
    hi = c - (c - x)
    lo = x - hi
    return math.exp(hi * hi) * math.exp(lo * (hi + hi) + lo * lo)


@njit(error_model='numpy')
def _erfcx(a):
    x = np.float64(a)
    if x != x:
        return x
    if x < 26.0:
        return _expsq(x) * math.erfc(x) if x > -26.7 else np.inf
    # asymptotic series 1/(x sqrt(pi)) * sum (-1)^k (2k-1)!! / (2x^2)^k (terms < 1e-19 by k = 10)
    v = 1.0 / (2.0 * x * x)
    s = 1.0
    t = 1.0
    for k in range(1, 11):
        t *= -(2.0 * k - 1.0) * v
        s += t
    return s / (x * 1.7724538509055160)


@njit(error_model='numpy')
def _log_ndtr(a):
    x = np.float64(a)
    t = x * 0.7071067811865476
    if x < -1.0:
        return math.log(_erfcx(-t) / 2.0) - t * t
    return math.log1p(-math.erfc(t) / 2.0)


@njit(error_model='numpy')
def _ndtri(a):
    y0 = np.float64(a)
    if y0 == 0.0:
        return -np.inf
    if y0 == 1.0:
        return np.inf
    if y0 < 0.0 or y0 > 1.0 or y0 != y0:
        return np.nan
    code = True
    y = y0
    if y > 1.0 - 0.13533528323661269189:
        y = 1.0 - y
        code = False
    if y > 0.13533528323661269189:
        y = y - 0.5
        y2 = y * y
        return (y + y * (y2 * _polevl(y2, _NDTRI_P0) / _polevl(y2, _NDTRI_Q0))) * 2.50662827463100050242
    x = math.sqrt(-2.0 * math.log(y))
    x0 = x - math.log(x) / x
    z = 1.0 / x
    if x < 8.0:
        x1 = z * _polevl(z, _NDTRI_P1) / _polevl(z, _NDTRI_Q1)
    else:
        x1 = z * _polevl(z, _NDTRI_P2) / _polevl(z, _NDTRI_Q2)
    x = x0 - x1
    return -x if code else x


@njit(error_model='numpy')
def _logit(a, eps, zero, one):
    x = a
    if eps >= zero:
        x = eps if a < eps else (one - eps if a > one - eps else a)
    return math.log(x / (one - x))


@njit(error_model='numpy')
def _logaddexp(a, b, one):
    if a != a or b != b:
        return a + b
    if abs(a) == np.inf and a == b:
        return a
    m = a if a > b else b
    return m + math.log1p(math.exp(-abs(a - b)))


@njit(error_model='numpy')
def _logaddexp2(a, b, one):
    if a != a or b != b:
        return a + b
    if abs(a) == np.inf and a == b:
        return a
    m = a if a > b else b
    return m + math.log1p(np.exp2(-abs(a - b))) * 1.4426950408889634


@njit(error_model='numpy')
def _gcd(a, b):
    x = abs(a)
    y = abs(b)
    while x != 0:
        c = x
        x = y % x
        y = c
    return y


@njit(error_model='numpy')
def _lcm(a, b):
    g = _gcd(a, b)
    return a - a if g == 0 else abs(a // g * b)
'''
