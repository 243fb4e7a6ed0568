"""Convolution kernels: im2col / col2im over 3 spatial dims (1-d and 2-d inputs use D=1, H=1), a direct
depthwise kernel, and the Winograd F(2x2, 3x3) transforms. The GEMMs run in NumPy's BLAS
(numtorch/nn/_functional/conv.py). Serial entry points (par=False) release the GIL so the front end can run
batch tiles on its own threads.

Geometry travels in one int64 array ``p``:
    p = [nb, C, D, H, W, kD, kH, kW, sD, sH, sW, pD, pH, pW, dD, dH, dW, oD, oH, oW, ns, rs]
``x`` is a contiguous (nb, C, D, H, W) block starting at ``xoff``; column (c*K + k, l) of sample n lives at
``cols[n*ns + (c*K + k)*rs + l]`` (L = oD*oH*oW): ns = C*K*L, rs = L is a per-sample (nb, C*K, L) block;
ns = L, rs = nb*L is the wide (C*K, nb*L) matrix that one GEMM consumes for the whole tile. im2col reads x
through element strides p[22:27] = (n, c, d, h, w), so channels-last (or any strided) inputs need no copy;
col2im writes a contiguous x. Work is split
over (sample, channel) planes, which never overlap in col2im's scatter, so the parallel version needs no
atomics.
"""
import numpy as np
from numba import njit, prange

from . import parallel_ok
from ._device import cuda_impl, on_device

_J = dict(cache=True, error_model='numpy')
PAR_MIN = 1 << 15     # column elements; below this the serial loops win


@njit(inline='always', **_J)
def _range(o_n, s, pad, k, dil, n):
    """[lo, hi) of output positions o with 0 <= o*s - pad + k*dil < n."""
    off = k * dil - pad
    lo = 0
    if off < 0:
        lo = (-off + s - 1) // s
    hi = 0
    if n - off > 0:
        hi = (n - off + s - 1) // s
    if hi > o_n:
        hi = o_n
    if lo > hi:
        lo = hi
    return lo, hi


@njit(nogil=True, **_J)
def _im2col_planes(x, xoff, cols, p, q0, q1):
    C, D, H, W = p[1], p[2], p[3], p[4]
    kD, kH, kW, sD, sH, sW = p[5], p[6], p[7], p[8], p[9], p[10]
    pD, pH, pW, dD, dH, dW = p[11], p[12], p[13], p[14], p[15], p[16]
    oD, oH, oW = p[17], p[18], p[19]
    ns, rs = p[20], p[21]
    xsn, xsc, xsd, xsh, xsw = p[22], p[23], p[24], p[25], p[26]
    K = kD * kH * kW
    z = np.zeros(1, dtype=cols.dtype)[0]    # not cols[0] * 0: an uninitialised buffer may hold NaN
    for q in range(q0, q1):
        n = q // C
        xb = xoff + n * xsn + (q - n * C) * xsc
        cb = n * ns + (q - n * C) * K * rs      # plane q = n*C + c owns rows c*K..c*K+K-1 of sample n
        for kd in range(kD):
            d_lo, d_hi = _range(oD, sD, pD, kd, dD, D)
            for kh in range(kH):
                h_lo, h_hi = _range(oH, sH, pH, kh, dH, H)
                for kw in range(kW):
                    w_lo, w_hi = _range(oW, sW, pW, kw, dW, W)
                    r = cb + ((kd * kH + kh) * kW + kw) * rs
                    for od in range(oD):
                        valid_d = od >= d_lo and od < d_hi
                        idp = od * sD - pD + kd * dD
                        for oh in range(oH):
                            row = cols[r + (od * oH + oh) * oW:r + (od * oH + oh + 1) * oW]
                            if not (valid_d and oh >= h_lo and oh < h_hi):
                                for ow in range(oW):
                                    row[ow] = z
                                continue
                            ih = oh * sH - pH + kh * dH
                            src = xb + idp * xsd + ih * xsh + (kw * dW - pW) * xsw
                            for ow in range(w_lo):
                                row[ow] = z
                            if sW == 1 and xsw == 1:
                                seg = x[src + w_lo:src + w_hi]
                                for j in range(w_hi - w_lo):
                                    row[w_lo + j] = seg[j]
                            else:
                                step = sW * xsw
                                for ow in range(w_lo, w_hi):
                                    row[ow] = x[src + ow * step]
                            for ow in range(w_hi, oW):
                                row[ow] = z


@njit(nogil=True, **_J)
def _col2im_planes(cols, x, xoff, p, q0, q1):
    """x[plane] += scatter of cols (x must be zeroed or hold what to add to)."""
    C, D, H, W = p[1], p[2], p[3], p[4]
    kD, kH, kW, sD, sH, sW = p[5], p[6], p[7], p[8], p[9], p[10]
    pD, pH, pW, dD, dH, dW = p[11], p[12], p[13], p[14], p[15], p[16]
    oD, oH, oW = p[17], p[18], p[19]
    ns, rs = p[20], p[21]
    K = kD * kH * kW
    for q in range(q0, q1):
        xb = xoff + q * D * H * W
        n = q // C
        cb = n * ns + (q - n * C) * K * rs
        for kd in range(kD):
            d_lo, d_hi = _range(oD, sD, pD, kd, dD, D)
            for kh in range(kH):
                h_lo, h_hi = _range(oH, sH, pH, kh, dH, H)
                for kw in range(kW):
                    w_lo, w_hi = _range(oW, sW, pW, kw, dW, W)
                    r = cb + ((kd * kH + kh) * kW + kw) * rs
                    for od in range(d_lo, d_hi):
                        idp = od * sD - pD + kd * dD
                        for oh in range(h_lo, h_hi):
                            ih = oh * sH - pH + kh * dH
                            src = xb + (idp * H + ih) * W - pW + kw * dW
                            rb = r + (od * oH + oh) * oW
                            if sW == 1:
                                seg = cols[rb + w_lo:rb + w_hi]
                                dst = x[src + w_lo:src + w_hi]
                                for j in range(w_hi - w_lo):
                                    dst[j] += seg[j]
                            else:
                                for ow in range(w_lo, w_hi):
                                    x[src + ow * sW] += cols[rb + ow]


@njit(parallel=True, **_J)
def _im2col_par(x, xoff, cols, p, nq):
    for q in prange(nq):
        _im2col_planes(x, xoff, cols, p, q, q + 1)


@njit(parallel=True, **_J)
def _col2im_par(cols, x, xoff, p, nq):
    for q in prange(nq):
        _col2im_planes(cols, x, xoff, p, q, q + 1)


def contiguous_strides5(C, D, H, W):
    """Element strides (n, c, d, h, w) of a contiguous (N, C, D, H, W) block."""
    return (C * D * H * W, D * H * W, H * W, W, 1)


def _par(p):
    return parallel_ok() and p[0] * p[1] > 1 and p[0] * p[1] * p[5] * p[6] * p[7] * p[17] * p[18] * p[19] >= PAR_MIN


def im2col(x, xoff, cols, p, par=True):
    """cols <- patches of x (nb, C, D, H, W) at xoff (layout by p's ns/rs); zero where the window meets
    padding. par=False: serial, without the GIL (callers that split batch tiles over their own threads)."""
    if on_device(x):
        return cuda_impl("conv").im2col(x, xoff, cols, p, par)
    nq = int(p[0] * p[1])
    if par and _par(p):
        _im2col_par(x, xoff, cols, p, nq)
    else:
        _im2col_planes(x, xoff, cols, p, 0, nq)


def col2im(cols, x, xoff, p, par=True):
    """x (nb, C, D, H, W) at xoff += the adjoint of im2col applied to cols; par as im2col's."""
    if on_device(x):
        return cuda_impl("conv").col2im(cols, x, xoff, p, par)
    nq = int(p[0] * p[1])
    if par and _par(p):
        _col2im_par(cols, x, xoff, p, nq)
    else:
        _col2im_planes(cols, x, xoff, p, 0, nq)


# -- depthwise (groups == C == O): a direct loop per plane, no column buffer ------------------------------
@njit(**_J)
def _dw_planes(x, w, b, hasb, y, p, q0, q1):
    """y[n, c] = sum_k w[c, k] * x[n, c, window(k)] (+ b[c]); p as im2col's with nb = N, C = channels."""
    C, D, H, W = p[1], p[2], p[3], p[4]
    kD, kH, kW, sD, sH, sW = p[5], p[6], p[7], p[8], p[9], p[10]
    pD, pH, pW, dD, dH, dW = p[11], p[12], p[13], p[14], p[15], p[16]
    oD, oH, oW = p[17], p[18], p[19]
    K = kD * kH * kW
    L = oD * oH * oW
    z = np.zeros(1, dtype=y.dtype)[0]
    for q in range(q0, q1):
        c = q % C
        xb = q * D * H * W
        yb = q * L
        out = y[yb:yb + L]
        bv = b[c] if hasb else z
        for j in range(L):
            out[j] = bv
        for kd in range(kD):
            d_lo, d_hi = _range(oD, sD, pD, kd, dD, D)
            for kh in range(kH):
                h_lo, h_hi = _range(oH, sH, pH, kh, dH, H)
                for kw in range(kW):
                    w_lo, w_hi = _range(oW, sW, pW, kw, dW, W)
                    wv = w[c * K + (kd * kH + kh) * kW + kw]
                    for od in range(d_lo, d_hi):
                        idp = od * sD - pD + kd * dD
                        for oh in range(h_lo, h_hi):
                            ih = oh * sH - pH + kh * dH
                            src = xb + (idp * H + ih) * W - pW + kw * dW
                            ob = (od * oH + oh) * oW
                            if sW == 1:
                                seg = x[src + w_lo:src + w_hi]
                                dst = out[ob + w_lo:ob + w_hi]
                                for j in range(w_hi - w_lo):
                                    dst[j] += wv * seg[j]
                            else:
                                for ow in range(w_lo, w_hi):
                                    out[ob + ow] += wv * x[src + ow * sW]


@njit(nogil=True, **_J)
def _dwp_planes(x, w, b, hasb, y, p, flip, q0, q1):
    """_dw_planes for stride-1 2-d windows (flip: taps reversed, the input-gradient form) on the padded-width
    grid: each tap is ONE contiguous multiply-add over the plane (oH rows at pitch Wp) instead of a short one
    per output row; the pitch's extra columns are dropped. Same taps in the same order as _dw_planes."""
    C, H, W = p[1], p[3], p[4]
    kH, kW = p[6], p[7]
    pH, pW, dH, dW = p[12], p[13], p[15], p[16]
    oH, oW = p[18], p[19]
    K = kH * kW
    Hp, Wp = H + 2 * pH, W + 2 * pW
    Lp = oH * Wp
    z = np.zeros(1, dtype=y.dtype)[0]
    xp = np.zeros(Hp * Wp + (kW - 1) * dW, dtype=y.dtype)
    acc = np.empty(Lp, dtype=y.dtype)
    for q in range(q0, q1):
        c = q % C
        xb = q * H * W
        for h in range(H):
            src = x[xb + h * W:xb + (h + 1) * W]
            dst = xp[(h + pH) * Wp + pW:(h + pH) * Wp + pW + W]
            for j in range(W):
                dst[j] = src[j]
        bv = b[c] if hasb else z
        for j in range(Lp):
            acc[j] = bv
        for kh in range(kH):
            for kw in range(kW):
                t = kh * kW + kw
                wv = w[c * K + (K - 1 - t if flip else t)]
                seg = xp[kh * dH * Wp + kw * dW:kh * dH * Wp + kw * dW + Lp]
                for j in range(Lp):
                    acc[j] += wv * seg[j]
        yb = q * oH * oW
        for oh in range(oH):
            src = acc[oh * Wp:oh * Wp + oW]
            dst = y[yb + oh * oW:yb + (oh + 1) * oW]
            for j in range(oW):
                dst[j] = src[j]


@njit(parallel=True, **_J)
def _dwp_par(x, w, b, hasb, y, p, flip, nq):
    for q in prange(nq):
        _dwp_planes(x, w, b, hasb, y, p, flip, q, q + 1)


def _dw_pitch_ok(p):
    # stride 1, 2-d; the pitch's extra columns cost (kW-1)*dW/oW more multiply-adds than they save when the
    # rows are long and the taps few
    return p[2] == 1 and p[5] == 1 and p[9] == 1 and p[10] == 1 and p[11] == 0 and p[19] >= 1 and p[18] >= 1


@njit(parallel=True, **_J)
def _dw_par(x, w, b, hasb, y, p, nq):
    for q in prange(nq):
        _dw_planes(x, w, b, hasb, y, p, q, q + 1)


def depthwise(x, w, b, y, p):
    """Direct depthwise convolution (one filter per channel) of contiguous x into y; b may be None."""
    if on_device(x):
        return cuda_impl("conv").depthwise(x, w, b, y, p)
    hasb = b is not None
    bb = b if hasb else w[:1]
    nq = int(p[0] * p[1])
    if _dw_pitch_ok(p):
        if _par(p):
            _dwp_par(x, w, bb, hasb, y, p, False, nq)
        else:
            _dwp_planes(x, w, bb, hasb, y, p, False, 0, nq)
    elif _par(p):
        _dw_par(x, w, bb, hasb, y, p, nq)
    else:
        _dw_planes(x, w, bb, hasb, y, p, 0, nq)


@njit(**_J)
def _dw_bwd_in_planes(gy, w, gx, p, q0, q1):
    """gx[n, c] += sum_k w[c, k] * gy[n, c] scattered to window(k) (gx zeroed by the caller)."""
    C, D, H, W = p[1], p[2], p[3], p[4]
    kD, kH, kW, sD, sH, sW = p[5], p[6], p[7], p[8], p[9], p[10]
    pD, pH, pW, dD, dH, dW = p[11], p[12], p[13], p[14], p[15], p[16]
    oD, oH, oW = p[17], p[18], p[19]
    K = kD * kH * kW
    L = oD * oH * oW
    for q in range(q0, q1):
        c = q % C
        xb = q * D * H * W
        g = gy[q * L:(q + 1) * L]
        for kd in range(kD):
            d_lo, d_hi = _range(oD, sD, pD, kd, dD, D)
            for kh in range(kH):
                h_lo, h_hi = _range(oH, sH, pH, kh, dH, H)
                for kw in range(kW):
                    w_lo, w_hi = _range(oW, sW, pW, kw, dW, W)
                    wv = w[c * K + (kd * kH + kh) * kW + kw]
                    for od in range(d_lo, d_hi):
                        idp = od * sD - pD + kd * dD
                        for oh in range(h_lo, h_hi):
                            ih = oh * sH - pH + kh * dH
                            dst = xb + (idp * H + ih) * W - pW + kw * dW
                            ob = (od * oH + oh) * oW
                            if sW == 1:
                                seg = g[ob + w_lo:ob + w_hi]
                                out = gx[dst + w_lo:dst + w_hi]
                                for j in range(w_hi - w_lo):
                                    out[j] += wv * seg[j]
                            else:
                                for ow in range(w_lo, w_hi):
                                    gx[dst + ow * sW] += wv * g[ob + ow]


@njit(**_J)
def _dw_bwd_w_channels(x, gy, gw, p, c0, c1):
    """gw[c, k] = sum_n sum_o gy[n, c, o] * x[n, c, window(o, k)] (float64 accumulation)."""
    N, C, D, H, W = p[0], p[1], p[2], p[3], p[4]
    kD, kH, kW, sD, sH, sW = p[5], p[6], p[7], p[8], p[9], p[10]
    pD, pH, pW, dD, dH, dW = p[11], p[12], p[13], p[14], p[15], p[16]
    oD, oH, oW = p[17], p[18], p[19]
    K = kD * kH * kW
    L = oD * oH * oW
    for c in range(c0, c1):
        for kd in range(kD):
            d_lo, d_hi = _range(oD, sD, pD, kd, dD, D)
            for kh in range(kH):
                h_lo, h_hi = _range(oH, sH, pH, kh, dH, H)
                for kw in range(kW):
                    w_lo, w_hi = _range(oW, sW, pW, kw, dW, W)
                    # 4 partial sums: one running float64 sum is bound by the add latency
                    acc = a1 = a2 = a3 = 0.0
                    nw = w_hi - w_lo
                    nw4 = nw - nw % 4
                    for n in range(N):
                        q = n * C + c
                        xb = q * D * H * W
                        gb = q * L
                        for od in range(d_lo, d_hi):
                            idp = od * sD - pD + kd * dD
                            for oh in range(h_lo, h_hi):
                                ih = oh * sH - pH + kh * dH
                                src = xb + (idp * H + ih) * W - pW + kw * dW
                                ob = gb + (od * oH + oh) * oW
                                if sW == 1:
                                    seg = x[src + w_lo:src + w_hi]
                                    g = gy[ob + w_lo:ob + w_hi]
                                    for j in range(0, nw4, 4):
                                        acc += seg[j] * g[j]
                                        a1 += seg[j + 1] * g[j + 1]
                                        a2 += seg[j + 2] * g[j + 2]
                                        a3 += seg[j + 3] * g[j + 3]
                                    for j in range(nw4, nw):
                                        acc += seg[j] * g[j]
                                else:
                                    for ow in range(w_lo, w_hi):
                                        acc += x[src + ow * sW] * gy[ob + ow]
                    gw[c * K + (kd * kH + kh) * kW + kw] = (acc + a2) + (a1 + a3)


@njit(parallel=True, **_J)
def _dw_bwd_in_par(gy, w, gx, p, nq):
    for q in prange(nq):
        _dw_bwd_in_planes(gy, w, gx, p, q, q + 1)


@njit(parallel=True, **_J)
def _dw_bwd_w_par(x, gy, gw, p, C):
    for c in prange(C):
        _dw_bwd_w_channels(x, gy, gw, p, c, c + 1)


def depthwise_backward_input(gy, w, gx, p):
    """gx (zeroed, (N, C, D, H, W)) += the input gradient of depthwise(x, w) for output gradient gy."""
    if on_device(gy):
        return cuda_impl("conv").depthwise_backward_input(gy, w, gx, p)
    nq = int(p[0] * p[1])
    pf_h, pf_w = (p[6] - 1) * p[15] - p[12], (p[7] - 1) * p[16] - p[13]
    if _dw_pitch_ok(p) and pf_h >= 0 and pf_w >= 0:
        # stride 1: the input gradient is the depthwise convolution of gy with reversed taps, padding (k-1)d - p
        # (written, not added: gx arrives zeroed)
        q = p.copy()
        q[3], q[4], q[12], q[13], q[18], q[19] = p[18], p[19], pf_h, pf_w, p[3], p[4]
        if _par(q):
            _dwp_par(gy, w, w[:1], False, gx, q, True, nq)
        else:
            _dwp_planes(gy, w, w[:1], False, gx, q, True, 0, nq)
        return
    if _par(p):
        _dw_bwd_in_par(gy, w, gx, p, nq)
    else:
        _dw_bwd_in_planes(gy, w, gx, p, 0, nq)


def depthwise_backward_weight(x, gy, gw, p):
    """gw (C*K) <- the weight gradient of depthwise(x, w) for output gradient gy."""
    if on_device(x):
        return cuda_impl("conv").depthwise_backward_weight(x, gy, gw, p)
    if _par(p) and p[1] > 1:
        _dw_bwd_w_par(x, gy, gw, p, int(p[1]))
    else:
        _dw_bwd_w_channels(x, gy, gw, p, 0, int(p[1]))


# -- Winograd F(2x2, 3x3): 3x3 stride-1 2-d convolutions as 16 GEMMs of (O, C) x (C, tiles) ----------------
# Each 2x2 output tile needs 16 products per (o, c) instead of 36; the input transform B^T d B and the output
# transform A^T m A only add and subtract (exact coefficients 0, +-1), so rounding stays at the im2col path's
# level. Geometry ``g`` = [C, H, W, pH, pW, m, th, tw, O, oH, oW]: m samples, th x tw tiles per sample.
# V is (16, C, m*T) and M (16, O, m*T), T = th*tw, tile t = n*T + i*tw + j.
@njit(nogil=True, **_J)
def _wg_in_channels(x, xoff, V, g, c0, c1):
    """V[:, c, tiles of sample n] = B^T d B of the 4x4 patches at (2i - pH, 2j - pW) of x[n, c]."""
    C, H, W, pH, pW, m, th, tw = g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7]
    T = th * tw
    ES = C * m * T
    z = np.zeros(1, dtype=V.dtype)[0]
    Wp = 2 * tw + 2
    P = np.empty((4, Wp), dtype=V.dtype)        # the 4 zero-padded input rows of a tile row
    Tr = np.empty((4, Wp), dtype=V.dtype)       # B^T applied down the columns
    lo = min(Wp, pW)                            # padded columns u with 0 <= u - pW < W
    hi = max(lo, min(Wp, W + pW))
    for c in range(c0, c1):
        for n in range(m):
            xb = xoff + (n * C + c) * H * W
            vb = c * m * T + n * T
            for i in range(th):
                for a in range(4):
                    hh = 2 * i - pH + a
                    pr = P[a]
                    if hh < 0 or hh >= H:
                        for u in range(Wp):
                            pr[u] = z
                        continue
                    src = x[xb + hh * W - pW + lo:xb + hh * W - pW + hi]
                    for u in range(lo):
                        pr[u] = z
                    for u in range(hi - lo):
                        pr[lo + u] = src[u]
                    for u in range(hi, Wp):
                        pr[u] = z
                p0, p1, p2, p3 = P[0], P[1], P[2], P[3]
                t0, t1, t2, t3 = Tr[0], Tr[1], Tr[2], Tr[3]
                for u in range(Wp):
                    t0[u] = p0[u] - p2[u]
                    t1[u] = p1[u] + p2[u]
                    t2[u] = p2[u] - p1[u]
                    t3[u] = p1[u] - p3[u]
                t = vb + i * tw
                for a in range(4):                  # (B^T d) B along the rows
                    tr = Tr[a]
                    v0 = V[(4 * a) * ES + t:(4 * a) * ES + t + tw]
                    v1 = V[(4 * a + 1) * ES + t:(4 * a + 1) * ES + t + tw]
                    v2 = V[(4 * a + 2) * ES + t:(4 * a + 2) * ES + t + tw]
                    v3 = V[(4 * a + 3) * ES + t:(4 * a + 3) * ES + t + tw]
                    for j in range(tw):
                        q0 = tr[2 * j]
                        q1 = tr[2 * j + 1]
                        q2 = tr[2 * j + 2]
                        q3 = tr[2 * j + 3]
                        v0[j] = q0 - q2
                        v1[j] = q1 + q2
                        v2[j] = q2 - q1
                        v3[j] = q1 - q3


@njit(parallel=True, **_J)
def _wg_in_par(x, xoff, V, g):
    for c in prange(g[0]):
        _wg_in_channels(x, xoff, V, g, c, c + 1)


@njit(nogil=True, **_J)
def _wg_out_channels(M, y, yoff, b, hasb, g, o0, o1):
    """y[n, o] (+ b[o]) = A^T M A of each tile, cut at the output's edge."""
    m, th, tw, O, oH, oW = g[5], g[6], g[7], g[8], g[9], g[10]
    T = th * tw
    ES = O * m * T
    R = np.empty((8, tw), dtype=M.dtype)
    z = np.zeros(1, dtype=y.dtype)[0]
    jf = oW // 2
    for o in range(o0, o1):
        bv = b[o] if hasb else z
        for n in range(m):
            yb = yoff + (n * O + o) * oH * oW
            mb = o * m * T + n * T
            for i in range(th):
                t = mb + i * tw
                for bb in range(4):                 # rows: A^T M
                    m0 = M[bb * ES + t:bb * ES + t + tw]
                    m1 = M[(4 + bb) * ES + t:(4 + bb) * ES + t + tw]
                    m2 = M[(8 + bb) * ES + t:(8 + bb) * ES + t + tw]
                    m3 = M[(12 + bb) * ES + t:(12 + bb) * ES + t + tw]
                    r0 = R[bb]
                    r1 = R[4 + bb]
                    for j in range(tw):
                        r0[j] = m0[j] + m1[j] + m2[j]
                        r1[j] = m1[j] - m2[j] - m3[j]
                for rr in range(2):                 # columns: (A^T M) A
                    h = 2 * i + rr
                    if h >= oH:
                        break
                    q0, q1, q2, q3 = R[4 * rr], R[4 * rr + 1], R[4 * rr + 2], R[4 * rr + 3]
                    out = y[yb + h * oW:yb + (h + 1) * oW]
                    for j in range(jf):
                        out[2 * j] = q0[j] + q1[j] + q2[j] + bv
                        out[2 * j + 1] = q1[j] - q2[j] - q3[j] + bv
                    if oW > 2 * jf:
                        out[2 * jf] = q0[jf] + q1[jf] + q2[jf] + bv


@njit(nogil=True, **_J)
def _wg_gy_channels(gy, gyoff, Ug, g, o0, o1):
    """Ug[:, o, tiles of sample n] = A gy_t A^T of the 2x2 tiles of gy[n, o] (zero past the edge): the
    weight gradient's output-side transform (the adjoint of the output transform)."""
    m, th, tw, O, oH, oW = g[5], g[6], g[7], g[8], g[9], g[10]
    T = th * tw
    ES = O * m * T
    z = np.zeros(1, dtype=Ug.dtype)[0]
    R = np.empty((2, 2 * tw), dtype=Ug.dtype)
    P = np.empty((4, 2 * tw), dtype=Ug.dtype)
    for o in range(o0, o1):
        for n in range(m):
            gb = gyoff + (n * O + o) * oH * oW
            ub = o * m * T + n * T
            for i in range(th):
                for rr in range(2):
                    h = 2 * i + rr
                    row = R[rr]
                    if h >= oH:
                        for u in range(2 * tw):
                            row[u] = z
                        continue
                    src = gy[gb + h * oW:gb + (h + 1) * oW]
                    for u in range(oW):
                        row[u] = src[u]
                    for u in range(oW, 2 * tw):
                        row[u] = z
                r0, r1 = R[0], R[1]
                p0, p1, p2, p3 = P[0], P[1], P[2], P[3]
                for u in range(2 * tw):             # A g: rows g0, g0 + g1, g0 - g1, -g1
                    p0[u] = r0[u]
                    p1[u] = r0[u] + r1[u]
                    p2[u] = r0[u] - r1[u]
                    p3[u] = -r1[u]
                t = ub + i * tw
                for a in range(4):                  # (A g) A^T along the rows
                    pr = P[a]
                    v0 = Ug[(4 * a) * ES + t:(4 * a) * ES + t + tw]
                    v1 = Ug[(4 * a + 1) * ES + t:(4 * a + 1) * ES + t + tw]
                    v2 = Ug[(4 * a + 2) * ES + t:(4 * a + 2) * ES + t + tw]
                    v3 = Ug[(4 * a + 3) * ES + t:(4 * a + 3) * ES + t + tw]
                    for j in range(tw):
                        q0 = pr[2 * j]
                        q1 = pr[2 * j + 1]
                        v0[j] = q0
                        v1[j] = q0 + q1
                        v2[j] = q0 - q1
                        v3[j] = -q1


@njit(parallel=True, **_J)
def _wg_gy_par(gy, gyoff, Ug, g):
    for o in prange(g[8]):
        _wg_gy_channels(gy, gyoff, Ug, g, o, o + 1)


@njit(parallel=True, **_J)
def _wg_out_par(M, y, yoff, b, hasb, g):
    for o in prange(g[8]):
        _wg_out_channels(M, y, yoff, b, hasb, g, o, o + 1)


def _wg_par(g, rows):
    return parallel_ok() and rows > 1 and rows * g[5] * g[6] * g[7] * 16 >= PAR_MIN


def winograd_input(x, xoff, V, g, par=True):
    """V (16, C, m*T) <- the Winograd F(2x2, 3x3) input transform of the contiguous (m, C, H, W) block of x
    at xoff (zero padding pH, pW). par=False: serial, without the GIL (callers that split batch tiles over
    their own threads)."""
    if on_device(x):
        return cuda_impl("conv").winograd_input(x, xoff, V, g, par)
    if par and _wg_par(g, g[0]):
        _wg_in_par(x, xoff, V, g)
    else:
        _wg_in_channels(x, xoff, V, g, 0, int(g[0]))


def winograd_output(M, y, yoff, b, g, par=True):
    """The contiguous (m, O, oH, oW) block of y at yoff <- the output transform of M (16, O, m*T), plus b[o]
    (b may be None); par as winograd_input's."""
    if on_device(M):
        return cuda_impl("conv").winograd_output(M, y, yoff, b, g, par)
    hasb = b is not None
    bb = b if hasb else M[:1]
    if par and _wg_par(g, g[8]):
        _wg_out_par(M, y, yoff, bb, hasb, g)
    else:
        _wg_out_channels(M, y, yoff, bb, hasb, g, 0, int(g[8]))


def winograd_grad_output(gy, gyoff, Ug, g, par=True):
    """Ug (16, O, m*T) <- A gy_t A^T of the 2x2 tiles of the contiguous (m, O, oH, oW) block of gy at gyoff:
    with V = winograd_input(x), sum_t Ug[e] V[e]^T is the Winograd form of the weight gradient."""
    if on_device(gy):
        return cuda_impl("conv").winograd_grad_output(gy, gyoff, Ug, g, par)
    if par and _wg_par(g, g[8]):
        _wg_gy_par(gy, gyoff, Ug, g)
    else:
        _wg_gy_channels(gy, gyoff, Ug, g, 0, int(g[8]))
