"""Recurrent layers: the time loop of RNN (tanh/relu), LSTM (optional projection) and GRU.

The input projection of the whole sequence is one GEMM done by the caller (``xg``, without bias; the step
kernel adds ``bx``, in the order (x W^T + b) + h W^T). Per step: one BLAS GEMM (NumPy's, single-threaded)
for the hidden projection, then ONE fused kernel for every gate nonlinearity and the state update; backward
through time runs one fused gate-gradient kernel and one BLAS GEMM per step. The step loop is Python: a
BLAS call plus a kernel call cost a few microseconds, far less than a compiled GEMM loop (~10 GFLOP/s).
Sigmoid and tanh are evaluated in float64 in loops that vectorise (``math.exp``/``tanh`` are scalar
libm calls here and dominated the step); float32 values take shorter polynomials (``act_*``). Rows are
independent: large calls run blocks of rows on separate threads (``split_rows``). Buffers are flat and
contiguous; ``bs[s]`` is the number of active rows (a prefix: packed sequences are sorted by decreasing
length) at time ``s``; inactive rows carry their state unchanged, so the state at the last step holds
each sequence's last valid state.

Modes: 0 RNN tanh, 1 RNN relu, 2 LSTM, 3 GRU.
"""
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numba import njit, types
from numba.extending import overload

from ._device import on_device, cuda_impl
from .vmath import exp_poly10, vexp, _f64_from_bits
from . import blas_threads as _blas_threads
from . import parallel_ok

TANH, RELU, LSTM, GRU = 0, 1, 2, 3
NGATES = (1, 1, 4, 3)
PAR_WORK = 1 << 22          # multiply-adds of a call below which it stays on the calling thread
MIN_ROWS = 4                # rows per thread at least
STEP_PAR_WORK = 1 << 20     # multiply-adds of one step's hidden GEMM below which the rows stay together
_POOL = [None, None]          # (executor, pid that made it)
_POOL_LOCK = threading.Lock()


@njit(cache=True, error_model='numpy', inline='always')
def vsigmoid(v):
    """1 / (1 + exp(-v)) in float64; vectorises."""
    return 1.0 / (1.0 + vexp(-np.float64(v)))


@njit(cache=True, error_model='numpy', inline='always')
def vtanh(v):
    """tanh(v) in float64 (a few ulp); vectorises (branch-free: both forms computed, one selected).
    tanh x = -m / (2 + m) with m = expm1(-2x): by its Taylor series where exp(u) - 1 would cancel
    (|u| < 0.7; also keeps the sign of zero), else through ``vexp`` of -2|x| (no overflow)."""
    x = np.float64(v)
    u = -2.0 * x
    # expm1(u) / u = sum u^k / (k+1)!, k <= 19, Horner written out (a loop over a tuple this long is not
    # unrolled and would keep the caller's loop from vectorising)
    q = 4.110317623312165e-19
    q = q * u + 8.22063524662433e-18
    q = q * u + 1.5619206968586225e-16
    q = q * u + 2.8114572543455206e-15
    q = q * u + 4.779477332387385e-14
    q = q * u + 7.647163731819816e-13
    q = q * u + 1.1470745597729725e-11
    q = q * u + 1.6059043836821613e-10
    q = q * u + 2.08767569878681e-09
    q = q * u + 2.505210838544172e-08
    q = q * u + 2.755731922398589e-07
    q = q * u + 2.7557319223985893e-06
    q = q * u + 2.48015873015873e-05
    q = q * u + 0.0001984126984126984
    q = q * u + 0.001388888888888889
    q = q * u + 0.008333333333333333
    q = q * u + 0.041666666666666664
    q = q * u + 0.16666666666666666
    q = q * u + 0.5
    q = q * u + 1.0
    ms = u * q
    small = -ms / (2.0 + ms)
    a = abs(x)
    e = vexp(-2.0 * a) - 1.0
    big = -e / (2.0 + e)
    big = big if x > 0 else -big
    return small if a < 0.35 else big


@njit(cache=True, error_model='numpy', inline='always')
def _vexp_lo(v):
    """``vexp`` with a degree-10 polynomial: relative error < 1e-11, plenty for a float32 result."""
    x = np.float64(v)
    t = x * 1.4426950408889634
    t = t if t > -1100.0 else -1100.0
    t = t if t < 1100.0 else 1100.0
    n = np.floor(t + 0.5)
    p = exp_poly10(x, n)
    ni = np.int64(n)
    h = ni >> 1
    p = p * _f64_from_bits((h + 1023) << 52) * _f64_from_bits((ni - h + 1023) << 52)
    p = np.inf if x > 709.8 else p
    return 0.0 if x < -745.2 else p


@njit(cache=True, error_model='numpy', inline='always')
def _vsigmoid_lo(v):
    return 1.0 / (1.0 + _vexp_lo(-np.float64(v)))


@njit(cache=True, error_model='numpy', inline='always')
def _vtanh_lo(v):
    """tanh for float32 results: (1 - e) / (1 + e), e = exp(-2|x|), and an odd Taylor polynomial below
    1/16 where 1 - e would lose digits (relative error < 1e-10 overall)."""
    x = np.float64(v)
    a = abs(x)
    e = _vexp_lo(-2.0 * a)
    big = (1.0 - e) / (1.0 + e)
    big = big if x > 0 else -big
    x2 = x * x
    small = x * (1.0 + x2 * (-1.0 / 3.0 + x2 * (2.0 / 15.0 + x2 * (-17.0 / 315.0 + x2 * (62.0 / 2835.0)))))
    return small if a < 0.0625 else big


def _is_f32(v):
    """True for a float32 value: a constant per compiled type (LLVM folds the branch on it)."""


@overload(_is_f32)
def _ol_is_f32(v):
    if v == types.float32:
        return lambda v: True
    return lambda v: False


@njit(cache=True, error_model='numpy', inline='always')
def act_sigmoid(v):
    """Sigmoid of a float32 or float64 kernel value, in float64: float32 values take the cheaper
    polynomial (still correctly rounded to float32 but for ~1e-10 relative ties)."""
    if _is_f32(v):
        return _vsigmoid_lo(v)
    return vsigmoid(v)


@njit(cache=True, error_model='numpy', inline='always')
def act_tanh(v):
    """tanh, chosen per value type like ``act_sigmoid``."""
    if _is_f32(v):
        return _vtanh_lo(v)
    return vtanh(v)


@njit(cache=True, error_model='numpy', nogil=True)
def rnn_step_fwd(mode, xg, xo, xsb, bx, hg, bhh, hp, hpo, cp, cpo, hs, cs, gs, so, rs, nb, B, H, P, proj, b0,
                 b1):
    """One step over rows b0 <= b < b1. xg[xo + b * xsb:] input gates of row b (G*H), bx their bias (G*H);
    hg hidden gates (B, G*H) (rows < nb); hp[hpo:] previous h (B, P); cp[cpo:] previous c (B, H); writes h
    into hs at step so (rs: the unprojected h), c into cs, the saved gates into gs. Each loop reads/writes
    few arrays so that LLVM vectorises it."""
    for b in range(b0, b1):
        hrow = so * B * P + b * P
        if b >= nb:
            # inactive row: carry the state
            for j in range(P):
                hs[hrow + j] = hp[hpo + b * P + j]
            if mode == 2:
                for j in range(H):
                    cs[so * B * H + b * H + j] = cp[cpo + b * H + j]
                    if proj:
                        rs[so * B * H + b * H + j] = 0
            continue
        if mode <= 1:
            xr = xg[xo + b * xsb:xo + b * xsb + H]
            hr = hg[b * H:(b + 1) * H]
            ho = hs[hrow:hrow + H]
            if mode == 0:
                for j in range(H):
                    ho[j] = act_tanh((xr[j] + bx[j]) + hr[j])
            else:
                for j in range(H):
                    v = (xr[j] + bx[j]) + hr[j]
                    ho[j] = 0.0 if v <= 0 else v
        elif mode == 2:
            G = 4 * H
            xr = xg[xo + b * xsb:xo + b * xsb + G]
            hr = hg[b * G:(b + 1) * G]
            g = gs[so * B * G + b * G:so * B * G + (b + 1) * G]
            for k in range(G):
                g[k] = (xr[k] + bx[k]) + hr[k]
            # loops start at 0 over sub-slices: a loop from 2H does not vectorise here
            for k in range(2 * H):
                g[k] = act_sigmoid(g[k])
            gg = g[2 * H:3 * H]
            for k in range(H):
                gg[k] = act_tanh(gg[k])
            go = g[3 * H:G]
            for k in range(H):
                go[k] = act_sigmoid(go[k])
            co = so * B * H + b * H
            crow = cs[co:co + H]
            cprev = cp[cpo + b * H:cpo + (b + 1) * H]
            for j in range(H):
                crow[j] = g[H + j] * cprev[j] + g[j] * g[2 * H + j]
            ho = rs[co:co + H] if proj else hs[hrow:hrow + H]
            for j in range(H):
                ho[j] = g[3 * H + j] * act_tanh(crow[j])
        else:
            G = 3 * H
            xr = xg[xo + b * xsb:xo + b * xsb + G]
            hr = hg[b * G:(b + 1) * G]
            g = gs[so * B * 4 * H + b * 4 * H:so * B * 4 * H + (b + 1) * 4 * H]
            for k in range(2 * H):
                g[k] = act_sigmoid((xr[k] + bx[k]) + hr[k] + bhh[k])
            for j in range(H):
                g[3 * H + j] = hr[2 * H + j] + bhh[2 * H + j]
            for j in range(H):
                g[2 * H + j] = act_tanh((xr[2 * H + j] + bx[2 * H + j]) + g[j] * g[3 * H + j])
            ho = hs[hrow:hrow + H]
            hprev = hp[hpo + b * P:hpo + (b + 1) * P]
            for j in range(H):
                z = g[H + j]
                ho[j] = (1.0 - z) * g[2 * H + j] + z * hprev[j]


@njit(cache=True, error_model='numpy', nogil=True)
def rnn_step_bwd(mode, acc, dh, dm, gy, gyo, dc, dr, gs, so, hs, hp, hpo, cs, cp, cpo, dxg, dhg, dhc, nb, B, H,
                 P, proj, b0, b1):
    """Gate gradients of one step. With ``acc`` first dh = (dm + dhc) + gy[gyo:] (dm: the previous step's
    hidden GEMM). dh (B, P) is then the gradient of this step's h (dr (B, H) replaces it when projecting),
    dc (B, H) of its c (updated in place to the previous c's); writes dxg/dhg (B, G*H) at step ``so`` and
    dhc (B, P): the part of the previous h's gradient that skips the hidden GEMM."""
    G = 4 * H if mode == 2 else (3 * H if mode == 3 else H)
    if acc:
        for i in range(b0 * P, b1 * P):
            dh[i] = (dm[i] + dhc[i]) + gy[gyo + i]
    for b in range(b0, b1):
        xo = so * B * G + b * G
        if b >= nb:
            for j in range(G):
                dxg[xo + j] = 0
                dhg[xo + j] = 0
            for j in range(P):
                dhc[b * P + j] = dh[b * P + j]
            continue
        if mode <= 1:
            for j in range(H):
                h = hs[so * B * H + b * H + j]
                d = dh[b * H + j]
                if mode == 0:
                    v = d * (1.0 - h * h)
                else:
                    v = d if h > 0 else d * 0
                dxg[xo + j] = v
                dhg[xo + j] = v
                dhc[b * P + j] = 0
        elif mode == 2:
            go = so * B * G + b * G
            co = so * B * H + b * H
            g = gs[go:go + G]
            crow = cs[co:co + H]
            cprev = cp[cpo + b * H:cpo + (b + 1) * H]
            drow = dr[b * H:(b + 1) * H] if proj else dh[b * P:b * P + H]
            dcrow = dc[b * H:(b + 1) * H]
            out = dxg[xo:xo + G]
            for j in range(H):
                ig = g[j]
                fg = g[H + j]
                gg = g[2 * H + j]
                og = g[3 * H + j]
                tc = act_tanh(crow[j])
                d = drow[j]
                dct = dcrow[j] + d * og * (1.0 - tc * tc)
                out[j] = dct * gg * ig * (1.0 - ig)
                out[H + j] = dct * cprev[j] * fg * (1.0 - fg)
                out[2 * H + j] = dct * ig * (1.0 - gg * gg)
                out[3 * H + j] = d * tc * og * (1.0 - og)
                dcrow[j] = dct * fg
            for j in range(P):
                dhc[b * P + j] = 0
        else:
            go = so * B * 4 * H + b * 4 * H
            g = gs[go:go + 4 * H]
            drow = dh[b * P:b * P + H]
            hprev = hp[hpo + b * P:hpo + b * P + H]
            out = dxg[xo:xo + G]
            # few arrays per loop, so that each vectorises
            for j in range(H):
                r = g[j]
                z = g[H + j]
                n = g[2 * H + j]
                d = drow[j]
                dn = d * (1.0 - z) * (1.0 - n * n)
                out[j] = dn * g[3 * H + j] * r * (1.0 - r)
                out[H + j] = d * (hprev[j] - n) * z * (1.0 - z)
                out[2 * H + j] = dn
            hout = dhg[xo:xo + G]
            for j in range(2 * H):
                hout[j] = out[j]
            hdn = hout[2 * H:G]
            for j in range(H):
                hdn[j] = out[2 * H + j] * g[j]
            crow = dhc[b * P:b * P + H]
            for j in range(H):
                crow[j] = drow[j] * g[H + j]


@njit(cache=True, error_model='numpy', nogil=True)
def _proj_carry(tmp, hs, so, hp, hpo, nb, B, P, b0, b1):
    """Projected h: active rows from tmp (B, P), inactive rows carried from the previous h (rows b0..b1)."""
    for b in range(b0, b1):
        for j in range(P):
            hs[so * B * P + b * P + j] = tmp[b * P + j] if b < nb else hp[hpo + b * P + j]


def split_rows(fn, n, macs, min_rows=1, serial_macs=None):
    """fn(r0, r1) over row ranges of [0, n): on the calling thread, or split over Numba's thread count of
    Python threads when ``macs`` (the call's multiply-adds) is large. Each part runs single-threaded BLAS
    and ``nogil`` kernels; OpenBLAS's own threads would spin between the many small products and steal
    the cores. Off where parallel kernels are (``parallel_ok``) and with NUMBA_NUM_THREADS=1. A serial
    run first sets OpenBLAS's thread count for products of ``serial_macs`` when given."""
    nthr = min(n // max(min_rows, 1), numba.get_num_threads()) if (macs >= PAR_WORK and parallel_ok()) else 1
    if nthr <= 1:
        if serial_macs is not None:
            _blas_threads.for_macs(serial_macs)
        fn(0, n)
        return
    _blas_threads.for_macs(0)
    with _POOL_LOCK:
        # a new pool after a fork too: the child does not have the parent's worker threads
        if _POOL[0] is None or _POOL[0]._max_workers < nthr - 1 or _POOL[1] != os.getpid():
            _POOL[0], _POOL[1] = ThreadPoolExecutor(nthr - 1, thread_name_prefix="numtorch-split"), os.getpid()
        pool = _POOL[0]
    cuts = [n * i // nthr for i in range(nthr + 1)]
    futs = [pool.submit(fn, cuts[i], cuts[i + 1]) for i in range(1, nthr)]
    try:
        fn(cuts[0], cuts[1])
    finally:
        for f in futs:
            f.result()


def rnn_forward(mode, xg, whh_t, bhh, h0, c0, whr_t, bs, T, B, H, P, reverse, bx=None, xst=0, xsb=0):
    """Run the recurrence. xg: the input gates without bias, row (t, b) at t * xst + b * xsb (default
    (T, B, G*H) contiguous; a batch-first product passes xst = G*H, xsb = T*G*H), bx (G*H) their bias or
    None, whh_t (P, G*H) contiguous, bhh (G*H) (GRU), h0 (B*P), c0 (B*H), whr_t (H, P) or None, bs int64 (T).
    Returns flat hs (T,B,P), cs (T,B,H), gs (T,B,G'*H), rs (T,B,H). Rows are independent: large calls
    run blocks of rows on separate threads (``split_rows``)."""
    if on_device(xg):
        return cuda_impl("rnn").rnn_forward(mode, xg, whh_t, bhh, h0, c0, whr_t, bs, T, B, H, P, reverse, bx,
                                            xst, xsb)
    dt = xg.dtype
    G = NGATES[mode] * H
    proj = whr_t is not None
    hs = np.empty(T * B * P, dt)
    cs = np.empty(T * B * H if mode == 2 else 0, dt)
    gs = np.empty(T * B * (4 * H if mode >= 2 else 0), dt)
    rs = np.empty(T * B * H if proj else 0, dt)
    hg = np.empty((B, G), dt)
    hgf = hg.reshape(-1)
    tmp = np.empty((B, P) if proj else (0, P), dt)
    tmpf = tmp.reshape(-1)
    empty = np.zeros(0, dt)
    w = whh_t.reshape(P, G)
    wr = whr_t.reshape(H, P) if proj else None
    bhh = np.zeros(G, dt) if bhh is None else bhh
    bx = np.zeros(G, dt) if bx is None else bx
    xst = xst or B * G
    xsb = xsb or G
    c0 = empty if c0 is None else c0
    bs = [int(n) for n in bs]
    _blas_threads.for_macs(B * P * G)
    hs2, rs2 = hs.reshape(T, B, P), rs.reshape(T, B, H) if proj else None

    def rows(b0, b1):
        for s in range(T):
            t = T - 1 - s if reverse else s
            nb = bs[t]
            a1 = min(b1, nb)
            if s == 0:
                hp, hpo, cp, cpo, hp2 = h0, 0, c0, 0, h0.reshape(B, P)
            else:
                tp = t + 1 if reverse else t - 1
                hp, hpo, cp, cpo, hp2 = hs, tp * B * P, cs, tp * B * H, hs2[tp]
            if a1 > b0:
                np.matmul(hp2[b0:a1], w, out=hg[b0:a1])
            rnn_step_fwd(mode, xg, t * xst, xsb, bx, hgf, bhh, hp, hpo, cp, cpo, hs, cs, gs, t, rs, nb, B, H, P,
                         proj, b0, b1)
            if proj:
                if a1 > b0:
                    np.matmul(rs2[t, b0:a1], wr, out=tmp[b0:a1])
                _proj_carry(tmpf, hs, t, hp, hpo, nb, B, P, b0, b1)
    step = B * G * (P + (H if proj else 0))
    # a short step (a few microseconds of GEMM and gates) would be dominated by the hand-offs between threads
    split_rows(rows, B, T * step if step >= STEP_PAR_WORK else 0, MIN_ROWS)
    return hs, cs, gs, rs


def rnn_backward(mode, gy, ghn, gcn, whh, whr, hs, cs, gs, rs, h0, c0, bs, T, B, H, P, reverse):
    """Backward through time. gy (T*B*P) gradient of hs; ghn (B*P), gcn (B*H) of the final states (zeros
    when unused); whh (G*H, P), whr (P, H) or None. Returns dxg (T,B,G*H), dhg (same; differs for GRU),
    dh0 (B,P), dc0 (B,H), dht (T,B,P) the total gradient of each projected h (projection only). Rows are
    independent, as in ``rnn_forward``."""
    if on_device(gy):
        return cuda_impl("rnn").rnn_backward(mode, gy, ghn, gcn, whh, whr, hs, cs, gs, rs, h0, c0, bs, T, B, H,
                                             P, reverse)
    dt = gy.dtype
    G = NGATES[mode] * H
    proj = whr is not None
    dxg = np.empty(T * B * G, dt)
    dhg = np.empty(T * B * G, dt) if mode == 3 else dxg
    dht = np.empty(T * B * P if proj else 0, dt)
    dm = ghn.copy()                     # the hidden GEMM's output (B, P); the final state's gradient first
    dh = np.empty(B * P, dt)
    dhc = np.zeros(B * P, dt)
    dc = gcn.copy() if mode == 2 else np.zeros(0, dt)
    dr = np.empty((B, H) if proj else (0, H), dt)
    empty = np.zeros(0, dt)
    c0 = empty if c0 is None else c0
    w = whh.reshape(G, P)
    wr = whr.reshape(P, H) if proj else None
    dm2, dhg2, dh2 = dm.reshape(B, P), dhg.reshape(T, B, G), dh.reshape(B, P)
    drf = dr.reshape(-1)
    bs = [int(n) for n in bs]
    _blas_threads.for_macs(B * P * G)

    def rows(b0, b1):
        for s in range(T - 1, -1, -1):
            t = T - 1 - s if reverse else s
            nb = bs[t]
            a1 = min(b1, nb)
            if proj:
                sl = slice(b0 * P, b1 * P)
                np.add(dm[sl], dhc[sl], out=dh[sl])
                dh[sl] += gy[t * B * P + b0 * P:t * B * P + b1 * P]
                dht[t * B * P + b0 * P:t * B * P + b1 * P] = dh[sl]
                if a1 > b0:
                    np.matmul(dh2[b0:a1], wr, out=dr[b0:a1])
            if s > 0:
                tp = t + 1 if reverse else t - 1
                hp, hpo, cp, cpo = hs, tp * B * P, cs, tp * B * H
            else:
                hp, hpo, cp, cpo = h0, 0, c0, 0
            rnn_step_bwd(mode, not proj, dh, dm, gy, t * B * P, dc, drf, gs, t, hs, hp, hpo, cs, cp, cpo, dxg, dhg,
                         dhc, nb, B, H, P, proj, b0, b1)
            if a1 > b0:
                np.matmul(dhg2[t, b0:a1], w, out=dm2[b0:a1])
            if a1 < b1:
                dm2[max(a1, b0):b1] = 0
    step = B * G * (P + (H if proj else 0))
    # a short step (a few microseconds of GEMM and gates) would be dominated by the hand-offs between threads
    split_rows(rows, B, T * step if step >= STEP_PAR_WORK else 0, MIN_ROWS)
    dm += dhc
    return dxg, dhg, dm, dc, dht
