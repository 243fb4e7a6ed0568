"""Vectorisable math for kernels: ``vexp``, an exp that LLVM vectorises (Numba's ``math.exp`` is a scalar
libm call here), used by logsumexp (reduction.py) and softmax / logcumsumexp (scan.py); ``exp_poly10``, the
shorter polynomial core that float32-result exps build on (rnn.py gates, attention.py scores)."""
import numpy as np
from numba import njit, types
from numba.extending import intrinsic

_J = dict(cache=True, error_model='numpy')


@intrinsic
def _f64_from_bits(typingctx, x):
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))
    return types.float64(types.int64), codegen


@njit(inline='always', **_J)
def vexp(v):
    """exp(v) in float64 (< 1 ulp) that vectorises, unlike Numba's scalar libm call.

    Cody-Waite reduction v = n*ln2 + r, |r| <= ln2/2, degree-13 Taylor, 2**n built from exponent bits
    in two halves so that underflow to subnormals and overflow to inf come out of the multiplication.
    """
    x = np.float64(v)
    t = x * 1.4426950408889634
    t = t if t > -1100.0 else -1100.0  # also maps NaN to a finite n
    t = t if t < 1100.0 else 1100.0
    n = np.floor(t + 0.5)
    r = (x - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10
    p = 1.0 / 6227020800.0
    for c in (479001600.0, 39916800.0, 3628800.0, 362880.0, 40320.0, 5040.0, 720.0, 120.0, 24.0, 6.0,
              2.0, 1.0):
        p = p * r + 1.0 / c
    p = p * r + 1.0
    ni = np.int64(n)
    h = ni >> 1
    p = p * _f64_from_bits((h + 1023) << 52) * _f64_from_bits((ni - h + 1023) << 52)
    p = np.inf if x > 709.8 else p  # NaN compares false and keeps its NaN
    return 0.0 if x < -745.2 else p


@njit(inline='always', **_J)
def exp_poly10(x, n):
    """exp(x) / 2**n for x = n*ln2 + r, |r| <= ln2/2: Cody-Waite reduction and a degree-10 Taylor
    polynomial (relative error < 1e-11: enough for results rounded to float32). Written out: a loop
    over a tuple of coefficients this long keeps the caller's loop from vectorising."""
    r = (x - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10
    p = 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    return p * r + 1.0
