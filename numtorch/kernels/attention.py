"""Scaled dot-product attention in blocks: memory stays O(T * d) whatever T (a fixed budget of scores).

Queries are taken a block of rows at a time, for a group of (batch*head) slices at once. Forward: the
block's scores Q_blk K^T are ONE stacked BLAS product, a compiled pass turns each row into probabilities
(scale, mask, causal cut, max, exp, sum: exact softmax over the row) and stores its logsumexp, and a second
BLAS product gives O_blk = P V. Backward per block: S and dP = dO V^T by BLAS, one compiled pass recomputes
P from the logsumexp and forms dS = P * (dP - rowsum(dO * O)) * scale in place, then BLAS products give
dQ_blk = dS K, and dK += dS^T Q_blk, dV += P^T dO_blk. A causal block only reaches keys up to its last row.
Masks are additive float buffers read through per-batch offsets and (i, j) strides (stride 0 broadcasts).
Causal masks are top-left aligned (key j <= query i); a fully masked row gives zeros (PyTorch's CPU flash
kernel), its logsumexp +inf. In parallel, (batch*head) slices are split over a few Python threads, each
running single-threaded BLAS and the compiled passes (``nogil``): OpenBLAS's own threads would spin
between the many mid-sized products and steal the cores from the passes.
"""
import math

import numpy as np
from numba import njit

from ._device import on_device, cuda_impl
from .rnn import _is_f32, split_rows
from .vmath import exp_poly10, vexp, _f64_from_bits

BUDGET = 1 << 18            # scores per block (and per dP block): 1 MiB in float32, whatever T
BR = 64                     # query rows per block (fewer when one slice's rows would exceed the budget)
BR_CAUSAL = 32              # causal: smaller blocks waste less of the cut triangle (measured: 32 beats 64)
SMALL = 1 << 16             # scores of a whole call below which it is one block
_NOOFF = np.zeros(1, np.int64)


@njit(cache=True, error_model='numpy', nogil=True)
def attn_rowdot(do, o, out, n, e):
    """out[r] = sum_e do[r, e] * o[r, e] for n rows."""
    for r in range(n):
        acc = 0.0
        for c in range(e):
            acc += do[r * e + c] * o[r * e + c]
        out[r] = acc


@njit(cache=True, error_model='numpy', inline='always')
def _exp32(v):
    """exp for float32 results, in float64 (relative error < 1e-12): ``vexp`` trimmed for a float32 range,
    -110 <= x <= 709 after clamping (exp(-110) rounds to 0 in float32, exp(709) to inf); NaN stays NaN."""
    x = np.float64(v)
    x = -110.0 if x < -110.0 else x
    x = 709.0 if x > 709.0 else x
    n = np.floor(x * 1.4426950408889634 + 0.5)
    p = exp_poly10(x, n)
    return p * _f64_from_bits((np.int64(n) + 1023) << 52)


@njit(cache=True, error_model='numpy', inline='always')
def _exp(v):
    """exp of a score: float32 scores through ``_exp32``, float64 through ``vexp``."""
    if _is_f32(v):
        return _exp32(v)
    return vexp(v)


@njit(cache=True, error_model='numpy', inline='always')
def _rowmax(row, w):
    """max of row[:w] (NaN skipped) with four running maxima: one chain would wait on each compare."""
    m0 = m1 = m2 = m3 = -np.inf
    c = 0
    while c + 4 <= w:
        m0 = row[c] if row[c] > m0 else m0
        m1 = row[c + 1] if row[c + 1] > m1 else m1
        m2 = row[c + 2] if row[c + 2] > m2 else m2
        m3 = row[c + 3] if row[c + 3] > m3 else m3
        c += 4
    while c < w:
        m0 = row[c] if row[c] > m0 else m0
        c += 1
    return max(max(m0, m1), max(m2, m3))


@njit(cache=True, error_model='numpy', inline='always')
def _rowsum(row, w):
    """sum of row[:w] in float64 with four partial sums (a reassociated sum, as PyTorch's vector sums)."""
    s0 = s1 = s2 = s3 = 0.0
    c = 0
    while c + 4 <= w:
        s0 += row[c]
        s1 += row[c + 1]
        s2 += row[c + 2]
        s3 += row[c + 3]
        c += 4
    while c < w:
        s0 += row[c]
        c += 1
    return (s0 + s1) + (s2 + s3)


@njit(cache=True, error_model='numpy', inline='always')
def _shift_row(row, w, wv, n, r, m, noffs, ms1, ms2, has_mask, use_max, l):
    """Scaled scores of one row -> (x + mask - l), -inf past a causal cut (wv keys kept); with ``use_max``
    the row's max is the shift l. Returns the shift used (-inf: every key masked)."""
    keep = row[:wv]
    tail = row[wv:w]
    for c in range(w - wv):
        tail[c] = -np.inf
    if has_mask:
        mo = noffs[n] + r * ms1
        for c in range(wv):
            keep[c] += m[mo + c * ms2]
    if use_max:
        l = _rowmax(keep, wv)
    if l == -np.inf or l == np.inf:
        # no key left (or a fully masked row's +inf logsumexp): probabilities 0
        for c in range(wv):
            keep[c] = -np.inf
        return l
    for c in range(wv):
        keep[c] = keep[c] - l
    return l


@njit(cache=True, error_model='numpy', inline='always')
def _scale(s, n, scale):
    for i in range(n):
        s[i] = s[i] * scale


@njit(cache=True, error_model='numpy', nogil=True)
def attn_softmax(s, nh, br, w, n0, r0, L, scale, m, noffs, ms1, ms2, has_mask, causal, lse):
    """s (nh, br, w) raw scores of slices n0.., query rows r0.. -> probabilities; logsumexp per row.
    The exp runs as one loop over the whole block (rows are short: per-row loops would mostly run their
    scalar remainder); per row only the cheap max / shift / sum / scale passes."""
    n = nh * br * w
    _scale(s, n, scale)
    for i in range(nh * br):
        h = i // br
        r = r0 + i - h * br
        wv = min(w, r + 1) if causal else w
        lse[(n0 + h) * L + r] = _shift_row(s[i * w:(i + 1) * w], w, wv, n0 + h, r, m, noffs, ms1, ms2, has_mask,
                                           True, 0.0)
    for i in range(n):
        s[i] = _exp(s[i])
    for i in range(nh * br):
        h = i // br
        r = r0 + i - h * br
        li = (n0 + h) * L + r
        mx = lse[li]
        if mx == -np.inf:
            lse[li] = np.inf
            continue
        wv = min(w, r + 1) if causal else w
        row = s[i * w:i * w + wv]
        tot = _rowsum(row, wv)
        inv = 1.0 / tot
        for c in range(wv):
            row[c] = row[c] * inv
        lse[li] = mx + math.log(tot)


@njit(cache=True, error_model='numpy', nogil=True)
def attn_grad(s, dp, nh, br, w, n0, r0, L, scale, m, noffs, ms1, ms2, has_mask, causal, lse, dvec):
    """s (nh, br, w) raw scores -> P (recomputed from the logsumexp); dp (same) dO V^T -> dS; the exp as
    one loop over the block, like ``attn_softmax``."""
    n = nh * br * w
    _scale(s, n, scale)
    for i in range(nh * br):
        h = i // br
        r = r0 + i - h * br
        wv = min(w, r + 1) if causal else w
        _shift_row(s[i * w:(i + 1) * w], w, wv, n0 + h, r, m, noffs, ms1, ms2, has_mask, False,
                   lse[(n0 + h) * L + r])
    for i in range(n):
        s[i] = _exp(s[i])
    for i in range(nh * br):
        h = i // br
        r = r0 + i - h * br
        d = dvec[(n0 + h) * L + r]
        wv = min(w, r + 1) if causal else w
        row = s[i * w:i * w + wv]
        drow = dp[i * w:i * w + wv]
        for c in range(wv):
            drow[c] = row[c] * (drow[c] - d) * scale
        dtail = dp[i * w + wv:(i + 1) * w]
        for c in range(w - wv):
            dtail[c] = 0


def _mask_args(mask, dt):
    if mask is None:
        return np.zeros(1, dt), _NOOFF, 0, 0, False
    m, noffs, ms1, ms2 = mask
    return m, noffs, ms1, ms2, True


def _blocks(N, L, S, causal):
    """(query rows per block, slices per block) within the score budget (at least one row of scores)."""
    if N * L * S <= SMALL:
        return L, N                 # one block: a call this small is dominated by per-block overheads
    br = max(1, min(L, BR_CAUSAL if causal else BR, BUDGET // max(S, 1)))
    return br, max(1, min(N, BUDGET // (br * max(S, 1))))


def _chunks(n0, n1, L, S, causal, hb, br):
    for a in range(n0, n1, hb):
        b = min(n1, a + hb)
        for r0 in range(0, L, br):
            r1 = min(L, r0 + br)
            yield a, b, r0, r1, (min(S, r1) if causal else S)


def _split(fn, N, macs):
    """fn(n0, n1) over (batch*head) slice ranges, split over threads when large (``rnn.split_rows``)."""
    split_rows(fn, N, macs, 1, macs // max(N, 1))


def sdpa_forward(q, k, v, mask, causal, scale):
    """q (N, Lq, E), k (N, Lk, E), v (N, Lk, Ev) (only handed to matmul: strided views are fine); mask None
    or (flat additive buffer, per-batch offsets (N,) int64, stride_i, stride_j). Returns (out (N, Lq, Ev),
    lse (N * Lq))."""
    if on_device(q):
        return cuda_impl("attention").sdpa_forward(q, k, v, mask, causal, scale)
    N, L, E = q.shape
    S, Ev = k.shape[1], v.shape[2]
    dt = q.dtype
    if S == 0 or L == 0:
        return np.zeros((N, L, Ev), dt), np.full(N * L, np.inf, dt)
    out = np.empty((N, L, Ev), dt)          # every row is written (a causal row reaches key 0 at least)
    lse = np.empty(N * L, dt)
    m, noffs, ms1, ms2, has = _mask_args(mask, dt)
    scale = dt.type(scale)     # a float32 scale keeps float32 score arithmetic in float32
    kt = np.ascontiguousarray(k.transpose(0, 2, 1))
    br, hb = _blocks(N, L, S, causal)

    def run(n0, n1):
        buf = np.empty(hb * br * S, dt)
        for a, b, r0, r1, w in _chunks(n0, n1, L, S, causal, hb, br):
            if w == 0:
                continue
            nh, nr = b - a, r1 - r0
            sb = buf[:nh * nr * w].reshape(nh, nr, w)
            np.matmul(q[a:b, r0:r1], kt[a:b, :, :w], out=sb)
            attn_softmax(buf, nh, nr, w, a, r0, L, scale, m, noffs, ms1, ms2, has, causal, lse)
            np.matmul(sb, v[a:b, :w], out=out[a:b, r0:r1])
    _split(run, N, N * L * S * (E + Ev) // (2 if causal else 1))
    return out, lse


def sdpa_backward(do, q, k, v, out, lse, mask, causal, scale):
    """Gradients (dq, dk, dv) of sdpa_forward given dO (N, Lq, Ev) contiguous; recomputes probabilities per
    block."""
    if on_device(do):
        return cuda_impl("attention").sdpa_backward(do, q, k, v, out, lse, mask, causal, scale)
    N, L, E = q.shape
    S, Ev = k.shape[1], v.shape[2]
    dt = q.dtype
    dk = np.zeros((N, S, E), dt)
    dv = np.zeros((N, S, Ev), dt)
    if S == 0 or L == 0:
        return np.zeros((N, L, E), dt), dk, dv
    dq = np.empty((N, L, E), dt)            # every row is written once
    dvec = np.empty(N * L, dt)
    attn_rowdot(do.reshape(-1), out.reshape(-1), dvec, N * L, Ev)
    m, noffs, ms1, ms2, has = _mask_args(mask, dt)
    scale = dt.type(scale)
    kt = np.ascontiguousarray(k.transpose(0, 2, 1))
    vt = np.ascontiguousarray(v.transpose(0, 2, 1))
    br, hb = _blocks(N, L, S, causal)

    def run(n0, n1):
        n = hb * br * S
        sbuf, dbuf = np.empty(n, dt), np.empty(n, dt)
        tk = np.empty(hb * S * E, dt)
        tv = np.empty(hb * S * Ev, dt)
        for a, b, r0, r1, w in _chunks(n0, n1, L, S, causal, hb, br):
            if w == 0:
                continue
            nh, nr = b - a, r1 - r0
            sb = sbuf[:nh * nr * w].reshape(nh, nr, w)
            db = dbuf[:nh * nr * w].reshape(nh, nr, w)
            np.matmul(q[a:b, r0:r1], kt[a:b, :, :w], out=sb)
            np.matmul(do[a:b, r0:r1], vt[a:b, :, :w], out=db)
            attn_grad(sbuf, dbuf, nh, nr, w, a, r0, L, scale, m, noffs, ms1, ms2, has, causal, lse, dvec)
            # dQ of these rows is complete (every key the rows reach is in the block); dK, dV accumulate
            np.matmul(db, k[a:b, :w], out=dq[a:b, r0:r1])
            t = tk[:nh * w * E].reshape(nh, w, E)
            np.matmul(db.transpose(0, 2, 1), q[a:b, r0:r1], out=t)
            dk[a:b, :w] += t
            t = tv[:nh * w * Ev].reshape(nh, w, Ev)
            np.matmul(sb.transpose(0, 2, 1), do[a:b, r0:r1], out=t)
            dv[a:b, :w] += t
    _split(run, N, N * L * S * (3 * E + 2 * Ev) // (2 if causal else 1))
    return dq, dk, dv
