"""Softmax / log-softmax forward and their fused backward over the middle axis of a contiguous
(outer, n, inner) buffer.

Rows (inner == 1) take three passes over one row held in cache (max, exp-sum, write); columns
(inner > 1) run blocks of <= _BL columns with a running row of maxima and sums, so any dim works
without a transpose. float32 uses a float32 polynomial exp (8 lanes per AVX2 vector) and float32
sums, float64 uses vmath.vexp; the choice is made at compile time by ``_exp`` / ``_zero`` overloads,
so each entry point compiles once per dtype.
"""
import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic, overload

from numtorch.kernels import reduction as _red
from numtorch.kernels._device import cuda_impl, on_device
from numtorch.kernels.vmath import vexp

_BL = 512  # column block width
_J = dict(cache=True, error_model='numpy')
_JF = dict(cache=True, error_model='numpy', fastmath={'reassoc'})  # sums only; NaN/inf kept


@intrinsic
def _f32_from_bits(typingctx, x):
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], context.get_value_type(types.float32))
    return types.float32(types.int32), codegen


@njit(inline='always', **_J)
def vexpf(x):
    """float32 exp (about 1 ulp) that vectorises: Cody-Waite reduction, Cephes' polynomial, 2**n in two
    halves so subnormal results and overflow to inf come out of the multiplications."""
    t = x * np.float32(1.442695040888963)
    t = t if t > np.float32(-300.0) else np.float32(-300.0)  # also maps NaN to a finite n
    t = t if t < np.float32(300.0) else np.float32(300.0)
    # round to nearest by truncating t +- 0.5 (a vector cvttps; np.floor is a scalar libm call here)
    ni = np.int32(t + np.float32(0.5) if t >= np.float32(0.0) else t - np.float32(0.5))
    n = np.float32(ni)
    r = (x - n * np.float32(0.693359375)) - n * np.float32(-2.12194440e-4)
    p = np.float32(1.9875691500e-4)  # Cephes expf minimax polynomial
    p = p * r + np.float32(1.3981999507e-3)
    p = p * r + np.float32(8.3334519073e-3)
    p = p * r + np.float32(4.1665795894e-2)
    p = p * r + np.float32(1.6666665459e-1)
    p = p * r + np.float32(5.0000001201e-1)
    p = p * (r * r) + r + np.float32(1.0)
    h = ni >> 1
    p = p * _f32_from_bits((h + 127) << 23) * _f32_from_bits((ni - h + 127) << 23)
    p = np.float32(np.inf) if x > np.float32(88.72283) else p  # NaN compares false and keeps its NaN
    return np.float32(0.0) if x < np.float32(-103.98) else p


def _exp(v):
    """exp in the precision of v (float32 or float64), vectorisable."""


@overload(_exp)
def _exp_ov(v):
    if v == types.float32:
        return lambda v: vexpf(v)
    return lambda v: vexp(v)


def _zero(v):
    """0 in v's float type (keeps float32 sums in float32)."""


@overload(_zero)
def _zero_ov(v):
    if v == types.float32:
        return lambda v: np.float32(0.0)
    return lambda v: 0.0


def _inv(v):
    """1 / v in v's float type."""


@overload(_inv)
def _inv_ov(v):
    if v == types.float32:
        return lambda v: np.float32(1.0) / v
    return lambda v: 1.0 / v


@njit(inline='always', **_J)
def _span(t, n, inner, nblk):
    """(offset of row 0, width) of task t: a whole row (inner == 1) or a block of <= _BL columns."""
    if inner == 1:
        return t * n, 1
    o = t // nblk
    j0 = (t - o * nblk) * _BL
    return o * n * inner + j0, min(inner, j0 + _BL) - j0


@njit(inline='always', **_J)
def _rowmax(src):
    """Max of a row in 16 independent lanes (a select chain does not vectorise without nnan). NaN may be
    skipped here: it still reaches every output through the exp-sum."""
    n = src.size
    m = src[0]
    n16 = n - n % 16
    if n16:
        a0, a1, a2, a3, a4, a5, a6, a7 = src[0], src[1], src[2], src[3], src[4], src[5], src[6], src[7]
        b0, b1, b2, b3, b4, b5, b6, b7 = src[8], src[9], src[10], src[11], src[12], src[13], src[14], src[15]
        for j in range(16, n16, 16):
            w = src[j:j + 16]
            a0 = w[0] if w[0] > a0 else a0
            a1 = w[1] if w[1] > a1 else a1
            a2 = w[2] if w[2] > a2 else a2
            a3 = w[3] if w[3] > a3 else a3
            a4 = w[4] if w[4] > a4 else a4
            a5 = w[5] if w[5] > a5 else a5
            a6 = w[6] if w[6] > a6 else a6
            a7 = w[7] if w[7] > a7 else a7
            b0 = w[8] if w[8] > b0 else b0
            b1 = w[9] if w[9] > b1 else b1
            b2 = w[10] if w[10] > b2 else b2
            b3 = w[11] if w[11] > b3 else b3
            b4 = w[12] if w[12] > b4 else b4
            b5 = w[13] if w[13] > b5 else b5
            b6 = w[14] if w[14] > b6 else b6
            b7 = w[15] if w[15] > b7 else b7
        for v in (a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, b3, b4, b5, b6, b7):
            m = v if v > m else m
    for j in range(n16, n):
        v = src[j]
        m = v if v > m else m
    return m


@njit(**_JF)
def _row(src, dst, log):
    m = _rowmax(src)
    s = _zero(m)
    if log:
        for j in range(src.size):
            s += _exp(src[j] - m)
        c = m + np.log(s)
        for j in range(src.size):
            dst[j] = src[j] - c
    else:
        for j in range(src.size):
            e = _exp(src[j] - m)
            dst[j] = e
            s += e
        inv = _inv(s)
        for j in range(src.size):
            dst[j] = dst[j] * inv


@njit(**_JF)
def _col(x, out, base, n, inner, bl, log):
    m = x[base:base + bl].copy()
    for k in range(1, n):
        src = x[base + k * inner:base + k * inner + bl]
        for j in range(bl):
            v = src[j]
            m[j] = v if v > m[j] else m[j]
    s = np.zeros(bl, x.dtype)
    for k in range(n):
        src = x[base + k * inner:base + k * inner + bl]
        dst = out[base + k * inner:base + k * inner + bl]
        if log:
            for j in range(bl):
                s[j] += _exp(src[j] - m[j])
        else:
            for j in range(bl):
                e = _exp(src[j] - m[j])
                dst[j] = e
                s[j] += e
    for j in range(bl):
        s[j] = (m[j] + np.log(s[j])) if log else _inv(s[j])
    for k in range(n):
        src = x[base + k * inner:base + k * inner + bl]
        dst = out[base + k * inner:base + k * inner + bl]
        if log:
            for j in range(bl):
                dst[j] = src[j] - s[j]
        else:
            for j in range(bl):
                dst[j] = dst[j] * s[j]


@njit(inline='always', **_J)
def _fw_task(x, out, t, n, inner, nblk, log):
    base, bl = _span(t, n, inner, nblk)
    if inner == 1:
        _row(x[base:base + n], out[base:base + n], log)
    else:
        _col(x, out, base, n, inner, bl, log)


@njit(**_J)
def _fw_ser(x, out, ntask, n, inner, nblk, log):
    for t in range(ntask):
        _fw_task(x, out, t, n, inner, nblk, log)


@njit(parallel=True, **_J)
def _fw_par(x, out, ntask, n, inner, nblk, log):
    for t in prange(ntask):
        _fw_task(x, out, np.int64(t), n, inner, nblk, log)


@njit(**_JF)
def _bw(g, y, out, base, n, inner, bl, log):
    """softmax: y * (g - sum(g * y)); log_softmax: g - exp(y) * sum(g); sums over the middle axis."""
    if inner == 1:
        gr, yr, dst = g[base:base + n], y[base:base + n], out[base:base + n]
        r = _zero(gr[0])
        if log:
            for j in range(n):
                r += gr[j]
            for j in range(n):
                dst[j] = gr[j] - _exp(yr[j]) * r
        else:
            for j in range(n):
                r += gr[j] * yr[j]
            for j in range(n):
                dst[j] = yr[j] * (gr[j] - r)
        return
    s = np.zeros(bl, g.dtype)
    for k in range(n):
        gk = g[base + k * inner:base + k * inner + bl]
        yk = y[base + k * inner:base + k * inner + bl]
        if log:
            for j in range(bl):
                s[j] += gk[j]
        else:
            for j in range(bl):
                s[j] += gk[j] * yk[j]
    for k in range(n):
        gk = g[base + k * inner:base + k * inner + bl]
        yk = y[base + k * inner:base + k * inner + bl]
        dst = out[base + k * inner:base + k * inner + bl]
        if log:
            for j in range(bl):
                dst[j] = gk[j] - _exp(yk[j]) * s[j]
        else:
            for j in range(bl):
                dst[j] = yk[j] * (gk[j] - s[j])


@njit(**_J)
def _bw_ser(g, y, out, ntask, n, inner, nblk, log):
    for t in range(ntask):
        base, bl = _span(t, n, inner, nblk)
        _bw(g, y, out, base, n, inner, bl, log)


@njit(parallel=True, **_J)
def _bw_par(g, y, out, ntask, n, inner, nblk, log):
    for t in prange(ntask):
        base, bl = _span(np.int64(t), n, inner, nblk)
        _bw(g, y, out, base, n, inner, bl, log)


# ---------------------------------------------------------------- Python entry points
def tasks(outer, inner):
    """(number of tasks, column blocks per outer index) for the (outer, n, inner) layout."""
    nblk = 1 if inner == 1 else -(-inner // _BL)
    return outer * nblk, nblk


def _check(outer, n, inner, *bufs):
    total = outer * n * inner
    for a in bufs:
        if not isinstance(a, np.ndarray) or a.ndim != 1 or not a.flags.c_contiguous \
                or a.dtype not in (np.float32, np.float64) or a.dtype != bufs[0].dtype:
            raise ValueError("softmax buffers must be contiguous 1-D float32/float64 arrays of one dtype")
        if a.size != total:
            raise ValueError(f"buffer has {a.size} elements, expected {outer}*{n}*{inner}")
    return total


def softmax(x, outer, n, inner, out, log=False):
    """Numerically stable softmax (log=True: log_softmax) along the middle axis; returns out."""
    if on_device(x):
        return cuda_impl("softmax").softmax(x, outer, n, inner, out, log)
    total = _check(outer, n, inner, x, out)
    if total:
        ntask, nblk = tasks(outer, inner)
        par = _red._use_par(total) and ntask > 1
        (_fw_par if par else _fw_ser)(x, out, ntask, n, inner, nblk, bool(log))
    return out


def softmax_backward(g, y, outer, n, inner, out, log=False):
    """Input gradient from the output gradient g and the forward output y:
    softmax y * (g - sum(g * y)); log_softmax (log=True) g - exp(y) * sum(g)."""
    if on_device(g):
        return cuda_impl("softmax").softmax_backward(g, y, outer, n, inner, out, log)
    total = _check(outer, n, inner, g, y, out)
    if total:
        ntask, nblk = tasks(outer, inner)
        par = _red._use_par(total) and ntask > 1
        (_bw_par if par else _bw_ser)(g, y, out, ntask, n, inner, nblk, bool(log))
    return out
