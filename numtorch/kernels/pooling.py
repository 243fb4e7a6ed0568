"""Pooling kernels over contiguous (planes, D, H, W) blocks (1-d/2-d pools use D=1, H=1).

Geometry ``p`` (int64): [P, D, H, W, kD, kH, kW, sD, sH, sW, pD, pH, pW, dD, dH, dW, oD, oH, oW, a, b]
where P = N*C planes and a, b are op flags (avg: count_include_pad, divisor_override or 0). Max pooling
stores the argmax as a flat index into its input plane (d*H*W + h*W + w, PyTorch's convention); ties keep
the first maximum and NaN wins. Backward kernels scatter into a zeroed input gradient; a plane's windows
only touch that plane, so planes run in parallel without atomics.
"""
import numpy as np
from numba import njit, prange

from . import parallel_ok
from ._device import cuda_impl, on_device

_J = dict(cache=True, error_model='numpy')
PAR_MIN = 1 << 15


@njit(**_J)
def _max_planes(x, y, idx, p, q0, q1):
    D, H, W = p[1], p[2], p[3]
    kD, kH, kW, sD, sH, sW = p[4], p[5], p[6], p[7], p[8], p[9]
    pD, pH, pW, dD, dH, dW = p[10], p[11], p[12], p[13], p[14], p[15]
    oD, oH, oW = p[16], p[17], p[18]
    for q in range(q0, q1):
        xb = q * D * H * W
        ob = q * oD * oH * oW
        for od in range(oD):
            d0 = od * sD - pD
            for oh in range(oH):
                h0 = oh * sH - pH
                for ow in range(oW):
                    w0 = ow * sW - pW
                    best = -np.inf
                    bi = -1
                    for kd in range(kD):
                        d = d0 + kd * dD
                        if d < 0 or d >= D:
                            continue
                        for kh in range(kH):
                            h = h0 + kh * dH
                            if h < 0 or h >= H:
                                continue
                            for kw in range(kW):
                                w = w0 + kw * dW
                                if w < 0 or w >= W:
                                    continue
                                j = (d * H + h) * W + w
                                v = x[xb + j]
                                if bi < 0 or v > best or v != v:
                                    best = v
                                    bi = j
                    o = ob + (od * oH + oh) * oW + ow
                    y[o] = best
                    idx[o] = bi


@njit(**_J)
def _max2_planes(x, y, idx, p, q0, q1):
    """_max_planes for the common 2x2 window, stride 2, no padding/dilation, full windows: the same scan order
    (ties keep the first, a later NaN wins) without per-tap bounds checks, unit-stride over output columns."""
    H, W = p[2], p[3]
    oH, oW = p[17], p[18]
    for q in range(q0, q1):
        xb = q * H * W
        ob = q * oH * oW
        for oh in range(oH):
            r0 = x[xb + 2 * oh * W:xb + (2 * oh + 1) * W]
            r1 = x[xb + (2 * oh + 1) * W:xb + (2 * oh + 2) * W]
            yo = y[ob + oh * oW:ob + (oh + 1) * oW]
            io = idx[ob + oh * oW:ob + (oh + 1) * oW]
            j0 = 2 * oh * W
            for ow in range(oW):
                best = r0[2 * ow]
                bi = j0 + 2 * ow
                v = r0[2 * ow + 1]
                if v > best or v != v:
                    best = v
                    bi = j0 + 2 * ow + 1
                v = r1[2 * ow]
                if v > best or v != v:
                    best = v
                    bi = j0 + W + 2 * ow
                v = r1[2 * ow + 1]
                if v > best or v != v:
                    best = v
                    bi = j0 + W + 2 * ow + 1
                yo[ow] = best
                io[ow] = bi


@njit(parallel=True, **_J)
def _max_par(x, y, idx, p, nq):
    for q in prange(nq):
        _max_planes(x, y, idx, p, q, q + 1)


@njit(parallel=True, **_J)
def _max2_par(x, y, idx, p, nq):
    for q in prange(nq):
        _max2_planes(x, y, idx, p, q, q + 1)


def _is_max2(p):
    return (p[1] == 1 and p[4] == 1 and p[10] == 0 and p[16] == 1 and p[5] == 2 and p[6] == 2 and p[8] == 2 and p[9] == 2 and p[11] == 0
            and p[12] == 0 and p[14] == 1 and p[15] == 1 and 2 * p[17] <= p[2] and 2 * p[18] <= p[3])


@njit(**_J)
def _scatter_planes(g, idx, gx, L, Lin, q0, q1, assign):
    """gx[q, idx[q, j]] += g[q, j] (max-pool backward), or = g[q, j] in order, the last write winning
    (max_unpool forward, as PyTorch's CPU loop does for repeated indices)."""
    for q in range(q0, q1):
        for j in range(q * L, q * L + L):
            if assign:
                gx[q * Lin + idx[j]] = g[j]
            else:
                gx[q * Lin + idx[j]] += g[j]


@njit(parallel=True, **_J)
def _scatter_par(g, idx, gx, L, Lin, nq, assign):
    for q in prange(nq):
        _scatter_planes(g, idx, gx, L, Lin, q, q + 1, assign)


@njit(inline='always', **_J)
def _avg_win(o, s, pad, k, n):
    """(start, end, padded size) of an average-pool window along one dim (PyTorch's rule)."""
    st = o * s - pad
    en = min(st + k, n + pad)
    size = en - st
    st = max(st, 0)
    en = min(en, n)
    return st, en, size


@njit(**_J)
def _avg_fwd_planes(x, y, p, q0, q1):
    D, H, W = p[1], p[2], p[3]
    kD, kH, kW, sD, sH, sW = p[4], p[5], p[6], p[7], p[8], p[9]
    pD, pH, pW = p[10], p[11], p[12]
    oD, oH, oW = p[16], p[17], p[18]
    cip, div = p[19], p[20]
    for q in range(q0, q1):
        xb = q * D * H * W
        ob = q * oD * oH * oW
        for od in range(oD):
            ds, de, dn = _avg_win(od, sD, pD, kD, D)
            for oh in range(oH):
                hs, he, hn = _avg_win(oh, sH, pH, kH, H)
                for ow in range(oW):
                    ws, we, wn = _avg_win(ow, sW, pW, kW, W)
                    acc = 0.0
                    for d in range(ds, de):
                        for h in range(hs, he):
                            row = x[xb + (d * H + h) * W + ws:xb + (d * H + h) * W + we]
                            for j in range(we - ws):
                                acc += row[j]
                    if div != 0:
                        f = div
                    elif cip != 0:
                        f = dn * hn * wn
                    else:
                        f = (de - ds) * (he - hs) * (we - ws)
                    y[ob + (od * oH + oh) * oW + ow] = acc / f if f > 0 else acc * np.nan


@njit(**_J)
def _avg_bwd_planes(g, gx, p, q0, q1):
    D, H, W = p[1], p[2], p[3]
    kD, kH, kW, sD, sH, sW = p[4], p[5], p[6], p[7], p[8], p[9]
    pD, pH, pW = p[10], p[11], p[12]
    oD, oH, oW = p[16], p[17], p[18]
    cip, div = p[19], p[20]
    for q in range(q0, q1):
        xb = q * D * H * W
        ob = q * oD * oH * oW
        for od in range(oD):
            ds, de, dn = _avg_win(od, sD, pD, kD, D)
            for oh in range(oH):
                hs, he, hn = _avg_win(oh, sH, pH, kH, H)
                for ow in range(oW):
                    ws, we, wn = _avg_win(ow, sW, pW, kW, W)
                    if div != 0:
                        f = div
                    elif cip != 0:
                        f = dn * hn * wn
                    else:
                        f = (de - ds) * (he - hs) * (we - ws)
                    if f <= 0:
                        continue
                    v = g[ob + (od * oH + oh) * oW + ow] / f
                    for d in range(ds, de):
                        for h in range(hs, he):
                            b = xb + (d * H + h) * W
                            for w in range(ws, we):
                                gx[b + w] += v


@njit(parallel=True, **_J)
def _avg_fwd_par(x, y, p, nq):
    for q in prange(nq):
        _avg_fwd_planes(x, y, p, q, q + 1)


@njit(parallel=True, **_J)
def _avg_bwd_par(g, gx, p, nq):
    for q in prange(nq):
        _avg_bwd_planes(g, gx, p, q, q + 1)


@njit(inline='always', **_J)
def _ad(o, n_in, n_out):
    """Adaptive window [start, end) of output o (floor / ceil of the scaled bounds)."""
    return (o * n_in) // n_out, ((o + 1) * n_in + n_out - 1) // n_out


@njit(**_J)
def _adaptive_planes(x, y, idx, p, ismax, q0, q1):
    D, H, W = p[1], p[2], p[3]
    oD, oH, oW = p[16], p[17], p[18]
    for q in range(q0, q1):
        xb = q * D * H * W
        ob = q * oD * oH * oW
        for od in range(oD):
            ds, de = _ad(od, D, oD)
            for oh in range(oH):
                hs, he = _ad(oh, H, oH)
                for ow in range(oW):
                    ws, we = _ad(ow, W, oW)
                    o = ob + (od * oH + oh) * oW + ow
                    if ismax:
                        best = -np.inf
                        bi = -1
                        for d in range(ds, de):
                            for h in range(hs, he):
                                for w in range(ws, we):
                                    j = (d * H + h) * W + w
                                    v = x[xb + j]
                                    if bi < 0 or v > best or v != v:
                                        best = v
                                        bi = j
                        y[o] = best
                        idx[o] = bi
                    else:
                        acc = 0.0
                        for d in range(ds, de):
                            for h in range(hs, he):
                                b = xb + (d * H + h) * W
                                for w in range(ws, we):
                                    acc += x[b + w]
                        y[o] = acc / ((de - ds) * (he - hs) * (we - ws))


@njit(**_J)
def _adaptive_avg_bwd_planes(g, gx, p, q0, q1):
    D, H, W = p[1], p[2], p[3]
    oD, oH, oW = p[16], p[17], p[18]
    for q in range(q0, q1):
        xb = q * D * H * W
        ob = q * oD * oH * oW
        for od in range(oD):
            ds, de = _ad(od, D, oD)
            for oh in range(oH):
                hs, he = _ad(oh, H, oH)
                for ow in range(oW):
                    ws, we = _ad(ow, W, oW)
                    v = g[ob + (od * oH + oh) * oW + ow] / ((de - ds) * (he - hs) * (we - ws))
                    for d in range(ds, de):
                        for h in range(hs, he):
                            b = xb + (d * H + h) * W
                            for w in range(ws, we):
                                gx[b + w] += v


@njit(parallel=True, **_J)
def _adaptive_par(x, y, idx, p, ismax, nq):
    for q in prange(nq):
        _adaptive_planes(x, y, idx, p, ismax, q, q + 1)


@njit(parallel=True, **_J)
def _adaptive_avg_bwd_par(g, gx, p, nq):
    for q in prange(nq):
        _adaptive_avg_bwd_planes(g, gx, p, q, q + 1)


def _par(p):
    return parallel_ok() and p[0] > 1 and p[0] * p[1] * p[2] * p[3] >= PAR_MIN


def max_pool(x, y, idx, p):
    """y, idx (int64) <- max over each window of x."""
    if on_device(x):
        return cuda_impl("pooling").max_pool(x, y, idx, p)
    nq = int(p[0])
    if _is_max2(p):
        if _par(p):
            _max2_par(x, y, idx, p, nq)
        else:
            _max2_planes(x, y, idx, p, 0, nq)
    elif _par(p):
        _max_par(x, y, idx, p, nq)
    else:
        _max_planes(x, y, idx, p, 0, nq)


def scatter_add_planes(g, idx, gx, L, Lin, P, assign=False):
    """gx (P, Lin) += g (P, L) scattered to idx (P, L) (max-pool backward); with ``assign`` the values are
    written instead, the last one winning for a repeated index (max_unpool forward)."""
    if on_device(g):
        return cuda_impl("pooling").scatter_add_planes(g, idx, gx, L, Lin, P, assign)
    if parallel_ok() and P > 1 and P * L >= PAR_MIN:
        _scatter_par(g, idx, gx, L, Lin, P, bool(assign))
    else:
        _scatter_planes(g, idx, gx, L, Lin, 0, P, bool(assign))


def avg_pool(x, y, p):
    if on_device(x):
        return cuda_impl("pooling").avg_pool(x, y, p)
    nq = int(p[0])
    if _par(p):
        _avg_fwd_par(x, y, p, nq)
    else:
        _avg_fwd_planes(x, y, p, 0, nq)


def avg_pool_backward(g, gx, p):
    """gx (zeroed) += the adjoint of avg_pool applied to g."""
    if on_device(g):
        return cuda_impl("pooling").avg_pool_backward(g, gx, p)
    nq = int(p[0])
    if _par(p):
        _avg_bwd_par(g, gx, p, nq)
    else:
        _avg_bwd_planes(g, gx, p, 0, nq)


def adaptive_pool(x, y, idx, p, ismax):
    """Adaptive average (ismax False; idx unused) or max pooling with argmax indices."""
    if on_device(x):
        return cuda_impl("pooling").adaptive_pool(x, y, idx, p, ismax)
    nq = int(p[0])
    if _par(p):
        _adaptive_par(x, y, idx, p, ismax, nq)
    else:
        _adaptive_planes(x, y, idx, p, ismax, 0, nq)


def adaptive_avg_backward(g, gx, p):
    if on_device(g):
        return cuda_impl("pooling").adaptive_avg_backward(g, gx, p)
    nq = int(p[0])
    if _par(p):
        _adaptive_avg_bwd_par(g, gx, p, nq)
    else:
        _adaptive_avg_bwd_planes(g, gx, p, 0, nq)
