"""Scaled dot-product attention, flash style: memory stays O(T * d) whatever T.

Forward: a task per (batch*head, block of BR query rows) walks the key blocks (BC keys) with an online
softmax (running max and sum, the accumulator rescaled), storing only the output and one logsumexp per
row. Backward: a task per batch*head walks key blocks x query blocks, recomputes the probabilities from
the logsumexp and accumulates dQ, dK, dV (dS = P * (dP - rowsum(dO * O)) * scale) in one fused pass.
Inner loops are axpys over contiguous rows (K and V are also passed transposed) so they vectorise.
Arrays are flat and contiguous; masks are additive float buffers read through per-batch offsets and
(i, j) strides (stride 0 broadcasts). Causal masks are top-left aligned (key j <= query i); a fully
masked row gives zeros (PyTorch's CPU flash kernel).
"""
import math

import numpy as np
from numba import njit, prange

from ._device import on_device, cuda_impl
from . import parallel_ok
from .vmath import vexp

PAR_MIN = 1 << 14
_NOOFF = np.zeros(1, np.int64)


@njit(cache=True, error_model='numpy')
def attn_rowdot(do, o, out, n, e):
    """out[r] = sum_e do[r, e] * o[r, e] for n rows."""
    for r in range(n):
        acc = 0.0
        for c in range(e):
            acc += do[r * e + c] * o[r * e + c]
        out[r] = acc


BR = 64          # query rows per block
BC = 64          # keys per block


@njit(cache=True, error_model='numpy', inline='always')
def _scores(q, kt, n, r0, r1, c0, c1, L, S, E, scale, m, noffs, ms1, ms2, has_mask, causal, sb):
    """sb[(r - r0) * BC + (c - c0)] = scale * q_r . k_c + mask, -inf where causal cuts (axpy over keys)."""
    w = c1 - c0
    for r in range(r0, r1):
        row = sb[(r - r0) * BC:(r - r0) * BC + w]
        for c in range(w):
            row[c] = 0
        qo = (n * L + r) * E
        for e in range(E):
            qv = q[qo + e]
            ko = (n * E + e) * S + c0
            krow = kt[ko:ko + w]
            for c in range(w):
                row[c] += qv * krow[c]
        mo = noffs[n] + r * ms1 if has_mask else 0
        for c in range(w):
            x = row[c] * scale
            if has_mask:
                x += m[mo + (c0 + c) * ms2]
            if causal and c0 + c > r:
                x = -np.inf
            row[c] = x


@njit(cache=True, error_model='numpy', inline='always')
def _fwd_task(task, q, kt, v, out, lse, N, L, S, E, Ev, scale, m, noffs, ms1, ms2, has_mask, causal):
    nrb = (L + BR - 1) // BR
    n = task // nrb
    r0 = (task - n * nrb) * BR
    r1 = min(L, r0 + BR)
    sb = np.empty(BR * BC, q.dtype)
    acc = np.zeros((r1 - r0) * Ev, q.dtype)
    mx = np.full(r1 - r0, -np.inf)
    tot = np.zeros(r1 - r0)
    cend = min(S, r1) if causal else S
    for c0 in range(0, cend, BC):
        c1 = min(cend, c0 + BC)
        w = c1 - c0
        _scores(q, kt, n, r0, r1, c0, c1, L, S, E, scale, m, noffs, ms1, ms2, has_mask, causal, sb)
        for r in range(r1 - r0):
            row = sb[r * BC:r * BC + w]
            bm = -np.inf
            for c in range(w):
                if row[c] > bm:
                    bm = row[c]
            mnew = max(mx[r], bm)
            if mnew == -np.inf:
                continue
            alpha = vexp(mx[r] - mnew)
            for c in range(w):
                row[c] = vexp(row[c] - mnew)
            ssum = 0.0
            for c in range(w):
                ssum += row[c]
            tot[r] = tot[r] * alpha + ssum
            arow = acc[r * Ev:(r + 1) * Ev]
            if alpha != 1.0:
                for e in range(Ev):
                    arow[e] *= alpha
            for c in range(w):
                p = row[c]
                if p == 0:
                    continue
                vo = (n * S + c0 + c) * Ev
                vrow = v[vo:vo + Ev]
                for e in range(Ev):
                    arow[e] += p * vrow[e]
            mx[r] = mnew
    for r in range(r1 - r0):
        oo = (n * L + r0 + r) * Ev
        if tot[r] == 0:
            for e in range(Ev):
                out[oo + e] = 0
            lse[n * L + r0 + r] = np.inf
        else:
            inv = 1.0 / tot[r]
            for e in range(Ev):
                out[oo + e] = acc[r * Ev + e] * inv
            lse[n * L + r0 + r] = mx[r] + math.log(tot[r])


@njit(cache=True, error_model='numpy')
def flash_fwd(q, kt, v, out, lse, N, L, S, E, Ev, scale, m, noffs, ms1, ms2, has_mask, causal):
    """Flash-style forward over flat q (N,L,E), kt (N,E,S), v (N,S,Ev): online softmax per query block."""
    for task in range(N * ((L + BR - 1) // BR)):
        _fwd_task(task, q, kt, v, out, lse, N, L, S, E, Ev, scale, m, noffs, ms1, ms2, has_mask, causal)


@njit(cache=True, error_model='numpy', parallel=True)
def flash_fwd_par(q, kt, v, out, lse, N, L, S, E, Ev, scale, m, noffs, ms1, ms2, has_mask, causal):
    for task in prange(N * ((L + BR - 1) // BR)):
        _fwd_task(np.int64(task), q, kt, v, out, lse, N, L, S, E, Ev, scale, m, noffs, ms1, ms2, has_mask, causal)


@njit(cache=True, error_model='numpy', inline='always')
def _bwd_head(n, q, k, kt, v, vt, do, lse, dvec, dq, dk, dv, L, S, E, Ev, scale, m, noffs, ms1, ms2, has_mask,
              causal):
    """Gradients of one (batch, head): per key block, per query block, recompute P from the logsumexp."""
    sb = np.empty(BR * BC, q.dtype)
    dp = np.empty(BR * BC, q.dtype)
    for c0 in range(0, S, BC):
        c1 = min(S, c0 + BC)
        w = c1 - c0
        rstart = (c0 // BR) * BR if causal else 0
        for r0 in range(rstart, L, BR):
            r1 = min(L, r0 + BR)
            _scores(q, kt, n, r0, r1, c0, c1, L, S, E, scale, m, noffs, ms1, ms2, has_mask, causal, sb)
            for r in range(r1 - r0):
                l = lse[n * L + r0 + r]
                row = sb[r * BC:r * BC + w]
                for c in range(w):
                    row[c] = vexp(row[c] - l)
                # dP row = dO_r . V_c (axpy over keys with V^T)
                drow = dp[r * BC:r * BC + w]
                for c in range(w):
                    drow[c] = 0
                do_o = (n * L + r0 + r) * Ev
                for e in range(Ev):
                    g = do[do_o + e]
                    vo = (n * Ev + e) * S + c0
                    vtrow = vt[vo:vo + w]
                    for c in range(w):
                        drow[c] += g * vtrow[c]
                dd = dvec[n * L + r0 + r]
                for c in range(w):
                    drow[c] = row[c] * (drow[c] - dd) * scale
                dorow = do[do_o:do_o + Ev]
                qo = (n * L + r0 + r) * E
                qrow = q[qo:qo + E]
                dqrow = dq[qo:qo + E]
                for c in range(w):
                    p = row[c]
                    ds = drow[c]
                    if p == 0 and ds == 0:
                        continue
                    vo = (n * S + c0 + c) * Ev
                    dvrow = dv[vo:vo + Ev]
                    for e in range(Ev):
                        dvrow[e] += p * dorow[e]
                    ko = (n * S + c0 + c) * E
                    dkrow = dk[ko:ko + E]
                    for e in range(E):
                        dkrow[e] += ds * qrow[e]
                    krow = k[ko:ko + E]
                    for e in range(E):
                        dqrow[e] += ds * krow[e]


@njit(cache=True, error_model='numpy')
def flash_bwd(q, k, kt, v, vt, do, lse, dvec, dq, dk, dv, N, L, S, E, Ev, scale, m, noffs, ms1, ms2, has_mask,
              causal):
    for n in range(N):
        _bwd_head(n, q, k, kt, v, vt, do, lse, dvec, dq, dk, dv, L, S, E, Ev, scale, m, noffs, ms1, ms2, has_mask,
                  causal)


@njit(cache=True, error_model='numpy', parallel=True)
def flash_bwd_par(q, k, kt, v, vt, do, lse, dvec, dq, dk, dv, N, L, S, E, Ev, scale, m, noffs, ms1, ms2, has_mask,
                  causal):
    for n in prange(N):
        _bwd_head(np.int64(n), q, k, kt, v, vt, do, lse, dvec, dq, dk, dv, L, S, E, Ev, scale, m, noffs, ms1, ms2,
                  has_mask, causal)


def _mask_args(mask, dt):
    if mask is None:
        return np.zeros(1, dt), _NOOFF, 0, 0, False
    m, noffs, ms1, ms2 = mask
    return m, noffs, ms1, ms2, True


def sdpa_forward(q, k, v, mask, causal, scale):
    """q (N, Lq, E), k (N, Lk, E), v (N, Lk, Ev) contiguous; mask None or (flat additive buffer,
    per-batch offsets (N,) int64, stride_i, stride_j). Returns (out (N, Lq, Ev), lse (N * Lq))."""
    if on_device(q):
        return cuda_impl("attention").sdpa_forward(q, k, v, mask, causal, scale)
    N, L, E = q.shape
    S, Ev = k.shape[1], v.shape[2]
    out = np.empty((N, L, Ev), q.dtype)
    lse = np.empty(N * L, q.dtype)
    kt = np.ascontiguousarray(k.transpose(0, 2, 1))
    m, noffs, ms1, ms2, has = _mask_args(mask, q.dtype)
    scale = q.dtype.type(scale)     # a float32 scale keeps float32 score arithmetic in float32
    tasks = N * ((L + BR - 1) // BR)
    f = flash_fwd_par if (tasks > 1 and N * L * S * E >= PAR_MIN and parallel_ok()) else flash_fwd
    f(q.reshape(-1), kt.reshape(-1), v.reshape(-1), out.reshape(-1), lse, N, L, S, E, Ev, scale, m, noffs, ms1,
      ms2, has, causal)
    return out, lse


def sdpa_backward(do, q, k, v, out, lse, mask, causal, scale):
    """Gradients (dq, dk, dv) of sdpa_forward given dO (N, Lq, Ev); recomputes probabilities per block."""
    if on_device(do):
        return cuda_impl("attention").sdpa_backward(do, q, k, v, out, lse, mask, causal, scale)
    N, L, E = q.shape
    S, Ev = k.shape[1], v.shape[2]
    dq = np.zeros((N, L, E), q.dtype)
    dk = np.zeros((N, S, E), q.dtype)
    dv = np.zeros((N, S, Ev), q.dtype)
    if S == 0 or L == 0:
        return dq, dk, dv
    dvec = np.empty(N * L, q.dtype)
    attn_rowdot(do.reshape(-1), out.reshape(-1), dvec, N * L, Ev)
    kt = np.ascontiguousarray(k.transpose(0, 2, 1))
    vt = np.ascontiguousarray(v.transpose(0, 2, 1))
    m, noffs, ms1, ms2, has = _mask_args(mask, q.dtype)
    scale = q.dtype.type(scale)
    f = flash_bwd_par if (N > 1 and N * L * S * E >= PAR_MIN and parallel_ok()) else flash_bwd
    f(q.reshape(-1), k.reshape(-1), kt.reshape(-1), v.reshape(-1), vt.reshape(-1), do.reshape(-1), lse, dvec,
      dq.reshape(-1), dk.reshape(-1), dv.reshape(-1), N, L, S, E, Ev, scale, m, noffs, ms1, ms2, has, causal)
    return dq, dk, dv
