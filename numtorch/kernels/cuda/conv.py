"""CUDA twins of kernels.conv: im2col, col2im, depthwise forward and its two backward kernels.

One thread per output element (grid-stride). col2im and the depthwise input gradient gather instead of
scatter: a thread per input element sums the (kernel offset, output) pairs that read it, so no atomics are
needed and sums run in a fixed order. The depthwise weight gradient is a thread per (channel, tap) summing
over the batch and positions. Geometry ``p`` arrives as the CPU's int64 host array.
"""
from numba import cuda

from . import dev_ints, launch


def _g(p):
    return dev_ints(p)


@cuda.jit
def _k_im2col(x, xoff, cols, p, total):
    N, C, D, H, W = p[0], p[1], p[2], p[3], p[4]
    kD, kH, kW, sD, sH, sW = p[5], p[6], p[7], p[8], p[9], p[10]
    pD, pH, pW, dD, dH, dW = p[11], p[12], p[13], p[14], p[15], p[16]
    oD, oH, oW, ns, rs = p[17], p[18], p[19], p[20], p[21]
    xsn, xsc, xsd, xsh, xsw = p[22], p[23], p[24], p[25], p[26]
    K = kD * kH * kW
    L = oD * oH * oW
    i = cuda.grid(1)
    while i < total:
        # i enumerates (n, c, k, l)
        l_ = i % L
        t = i // L
        k = t % K
        t //= K
        c = t % C
        n = t // C
        kw = k % kW
        kh = (k // kW) % kH
        kd = k // (kW * kH)
        ow = l_ % oW
        oh = (l_ // oW) % oH
        od = l_ // (oW * oH)
        di = od * sD - pD + kd * dD
        hi = oh * sH - pH + kh * dH
        wi = ow * sW - pW + kw * dW
        v = 0.0
        if 0 <= di < D and 0 <= hi < H and 0 <= wi < W:
            v = x[xoff + n * xsn + c * xsc + di * xsd + hi * xsh + wi * xsw]
        cols[n * ns + (c * K + k) * rs + l_] = v
        i += cuda.gridDim.x * cuda.blockDim.x


@cuda.jit(device=True)
def _taps_hitting(i_, s, pad, dil, k, o_n, tap):
    """Output position o with o*s - pad + tap*dil == i_, or -1."""
    num = i_ + pad - tap * dil
    if num < 0 or num % s != 0:
        return -1
    o = num // s
    if o >= o_n:
        return -1
    return o


@cuda.jit
def _k_col2im(cols, x, xoff, p, total):
    N, C, D, H, W = p[0], p[1], p[2], p[3], p[4]
    kD, kH, kW, sD, sH, sW = p[5], p[6], p[7], p[8], p[9], p[10]
    pD, pH, pW, dD, dH, dW = p[11], p[12], p[13], p[14], p[15], p[16]
    oD, oH, oW, ns, rs = p[17], p[18], p[19], p[20], p[21]
    K = kD * kH * kW
    i = cuda.grid(1)
    while i < total:
        # i enumerates (n, c, d, h, w) of the contiguous x block
        w_ = i % W
        t = i // W
        h_ = t % H
        t //= H
        d_ = t % D
        t //= D
        c = t % C
        n = t // C
        acc = 0.0
        for kd in range(kD):
            od = _taps_hitting(d_, sD, pD, dD, kD, oD, kd)
            if od < 0:
                continue
            for kh in range(kH):
                oh = _taps_hitting(h_, sH, pH, dH, kH, oH, kh)
                if oh < 0:
                    continue
                for kw in range(kW):
                    ow = _taps_hitting(w_, sW, pW, dW, kW, oW, kw)
                    if ow < 0:
                        continue
                    k = (kd * kH + kh) * kW + kw
                    acc += cols[n * ns + (c * K + k) * rs + (od * oH + oh) * oW + ow]
        x[xoff + i] += acc
        i += cuda.gridDim.x * cuda.blockDim.x


def im2col(x, xoff, cols, p):
    total = int(p[0] * p[1] * p[5] * p[6] * p[7] * p[17] * p[18] * p[19])
    if total:
        b, t = launch(total)
        _k_im2col[b, t](x, int(xoff), cols, _g(p), total)


def col2im(cols, x, xoff, p):
    total = int(p[0] * p[1] * p[2] * p[3] * p[4])
    if total:
        b, t = launch(total)
        _k_col2im[b, t](cols, x, int(xoff), _g(p), total)


@cuda.jit
def _k_dw(x, w, b, hasb, y, p, total):
    N, C, D, H, W = p[0], p[1], p[2], p[3], p[4]
    kD, kH, kW, sD, sH, sW = p[5], p[6], p[7], p[8], p[9], p[10]
    pD, pH, pW, dD, dH, dW = p[11], p[12], p[13], p[14], p[15], p[16]
    oD, oH, oW = p[17], p[18], p[19]
    K = kD * kH * kW
    L = oD * oH * oW
    i = cuda.grid(1)
    while i < total:
        l_ = i % L
        q = i // L
        c = q % C
        ow = l_ % oW
        oh = (l_ // oW) % oH
        od = l_ // (oW * oH)
        acc = 0.0
        if hasb:
            acc = b[c]
        for kd in range(kD):
            di = od * sD - pD + kd * dD
            if di < 0 or di >= D:
                continue
            for kh in range(kH):
                hi = oh * sH - pH + kh * dH
                if hi < 0 or hi >= H:
                    continue
                for kw in range(kW):
                    wi = ow * sW - pW + kw * dW
                    if wi < 0 or wi >= W:
                        continue
                    acc += w[c * K + (kd * kH + kh) * kW + kw] * x[((q * D + di) * H + hi) * W + wi]
        y[i] = acc
        i += cuda.gridDim.x * cuda.blockDim.x


def depthwise(x, w, b, y, p):
    total = int(p[0] * p[1] * p[17] * p[18] * p[19])
    if total:
        bl, t = launch(total)
        _k_dw[bl, t](x, w, w if b is None else b, b is not None, y, _g(p), total)


@cuda.jit
def _k_dw_bwd_in(gy, w, gx, p, total):
    N, C, D, H, W = p[0], p[1], p[2], p[3], p[4]
    kD, kH, kW, sD, sH, sW = p[5], p[6], p[7], p[8], p[9], p[10]
    pD, pH, pW, dD, dH, dW = p[11], p[12], p[13], p[14], p[15], p[16]
    oD, oH, oW = p[17], p[18], p[19]
    K = kD * kH * kW
    L = oD * oH * oW
    i = cuda.grid(1)
    while i < total:
        w_ = i % W
        t = i // W
        h_ = t % H
        t //= H
        d_ = t % D
        q = t // D
        c = q % C
        acc = 0.0
        for kd in range(kD):
            od = _taps_hitting(d_, sD, pD, dD, kD, oD, kd)
            if od < 0:
                continue
            for kh in range(kH):
                oh = _taps_hitting(h_, sH, pH, dH, kH, oH, kh)
                if oh < 0:
                    continue
                for kw in range(kW):
                    ow = _taps_hitting(w_, sW, pW, dW, kW, oW, kw)
                    if ow < 0:
                        continue
                    acc += w[c * K + (kd * kH + kh) * kW + kw] * gy[q * L + (od * oH + oh) * oW + ow]
        gx[i] += acc
        i += cuda.gridDim.x * cuda.blockDim.x


@cuda.jit
def _k_dw_bwd_w(x, gy, gw, p, total):
    N, C, D, H, W = p[0], p[1], p[2], p[3], p[4]
    kD, kH, kW, sD, sH, sW = p[5], p[6], p[7], p[8], p[9], p[10]
    pD, pH, pW, dD, dH, dW = p[11], p[12], p[13], p[14], p[15], p[16]
    oD, oH, oW = p[17], p[18], p[19]
    K = kD * kH * kW
    L = oD * oH * oW
    i = cuda.grid(1)
    while i < total:
        c = i // K
        k = i % K
        kw = k % kW
        kh = (k // kW) % kH
        kd = k // (kW * kH)
        acc = 0.0
        for n in range(N):
            q = n * C + c
            for od in range(oD):
                di = od * sD - pD + kd * dD
                if di < 0 or di >= D:
                    continue
                for oh in range(oH):
                    hi = oh * sH - pH + kh * dH
                    if hi < 0 or hi >= H:
                        continue
                    for ow in range(oW):
                        wi = ow * sW - pW + kw * dW
                        if wi < 0 or wi >= W:
                            continue
                        acc += x[((q * D + di) * H + hi) * W + wi] * gy[q * L + (od * oH + oh) * oW + ow]
        gw[i] = acc
        i += cuda.gridDim.x * cuda.blockDim.x


def depthwise_backward_input(gy, w, gx, p):
    total = int(p[0] * p[1] * p[2] * p[3] * p[4])
    if total:
        b, t = launch(total)
        _k_dw_bwd_in[b, t](gy, w, gx, _g(p), total)


def depthwise_backward_weight(x, gy, gw, p):
    total = int(p[1] * p[5] * p[6] * p[7])
    if total:
        b, t = launch(total)
        _k_dw_bwd_w[b, t](x, gy, gw, _g(p), total)
