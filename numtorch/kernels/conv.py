"""Convolution kernels: im2col / col2im over 3 spatial dims (1-d and 2-d inputs use D=1, H=1) and a direct
depthwise kernel. The GEMM between weights and columns runs in NumPy's BLAS (numtorch/nn/_functional/conv.py).

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


@njit(**_J)
def _im2col_planes(x, xoff, cols, p, q0, q1):
    C, D, H, W = p[1], p[2], p[3], p[4]
    kD, kH, kW, sD, sH, sW = p[5], p[6], p[7], p[8], p[9], p[10]
    pD, pH, pW, dD, dH, dW = p[11], p[12], p[13], p[14], p[15], p[16]
    oD, oH, oW = p[17], p[18], p[19]
    ns, rs = p[20], p[21]
    xsn, xsc, xsd, xsh, xsw = p[22], p[23], p[24], p[25], p[26]
    K = kD * kH * kW
    z = cols[0] * 0
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


@njit(**_J)
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


def im2col(x, xoff, cols, p):
    """cols <- patches of x (nb, C, D, H, W) at xoff (layout by p's ns/rs); zero where the window meets
    padding."""
    if on_device(x):
        return cuda_impl("conv").im2col(x, xoff, cols, p)
    nq = int(p[0] * p[1])
    if _par(p):
        _im2col_par(x, xoff, cols, p, nq)
    else:
        _im2col_planes(x, xoff, cols, p, 0, nq)


def col2im(cols, x, xoff, p):
    """x (nb, C, D, H, W) at xoff += the adjoint of im2col applied to cols."""
    if on_device(x):
        return cuda_impl("conv").col2im(cols, x, xoff, p)
    nq = int(p[0] * p[1])
    if _par(p):
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
    for q in range(q0, q1):
        c = q % C
        xb = q * D * H * W
        yb = q * L
        out = y[yb:yb + L]
        bv = b[c] if hasb else y[0] * 0
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
    if _par(p):
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
                    acc = 0.0
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
                                    for j in range(w_hi - w_lo):
                                        acc += seg[j] * g[j]
                                else:
                                    for ow in range(w_lo, w_hi):
                                        acc += x[src + ow * sW] * gy[ob + ow]
                    gw[c * K + (kd * kH + kh) * kW + kw] = acc


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
