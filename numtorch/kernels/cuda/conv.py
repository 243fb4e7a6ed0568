"""CUDA twins of kernels.conv: im2col, col2im, depthwise forward and its two backward kernels, and the
Winograd F(2x2, 3x3) input/output transforms and the weight gradient's gy transform.

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


def im2col(x, xoff, cols, p, par=True):
    total = int(p[0] * p[1] * p[5] * p[6] * p[7] * p[17] * p[18] * p[19])
    if total:
        b, t = launch(total)
        _k_im2col[b, t](x, int(xoff), cols, _g(p), total)


def col2im(cols, x, xoff, p, par=True):
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


# -- Winograd F(2x2, 3x3) transforms: one thread per (channel, tile) -------------------------------------------
@cuda.jit(device=True)
def _ld(x, xb, hh, ww, H, W):
    if 0 <= hh < H and 0 <= ww < W:
        return x[xb + hh * W + ww]
    return 0.0


@cuda.jit(device=True)
def _bt4(a, b, c, d):
    """B^T applied to (a, b, c, d): (a - c, b + c, c - b, b - d)."""
    return a - c, b + c, c - b, b - d


@cuda.jit
def _k_wg_in(x, xoff, V, g, total):
    C, H, W, pH, pW, m, th, tw = g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7]
    T = th * tw
    ES = C * m * T
    i = cuda.grid(1)
    while i < total:
        # i enumerates (c, n, ti, tj): V's column c*m*T + n*T + ti*tw + tj
        t = i % (m * T)
        c = i // (m * T)
        n = t // T
        tj = t % tw
        ti = (t // tw) % th
        xb = xoff + (n * C + c) * H * W
        h0 = 2 * ti - pH
        w0 = 2 * tj - pW
        for b in range(4):                      # column b of B^T d, then that column's share of (B^T d) B
            c0, c1, c2, c3 = _bt4(_ld(x, xb, h0, w0 + b, H, W), _ld(x, xb, h0 + 1, w0 + b, H, W),
                                  _ld(x, xb, h0 + 2, w0 + b, H, W), _ld(x, xb, h0 + 3, w0 + b, H, W))
            # V[4a + s] = sum_b (B^T d)[a, b] B[b, s]; B's columns: s0 = b0 - b2, s1 = b1 + b2, s2 = b2 - b1,
            # s3 = b1 - b3 -> accumulate column b's contribution with its sign
            for a in range(4):
                v = c0 if a == 0 else (c1 if a == 1 else (c2 if a == 2 else c3))
                base = (4 * a) * ES + i
                if b == 0:
                    V[base] = v
                    V[base + ES] = 0.0
                    V[base + 2 * ES] = 0.0
                    V[base + 3 * ES] = 0.0
                elif b == 1:
                    V[base + ES] += v
                    V[base + 2 * ES] -= v
                    V[base + 3 * ES] += v
                elif b == 2:
                    V[base] -= v
                    V[base + ES] += v
                    V[base + 2 * ES] += v
                else:
                    V[base + 3 * ES] -= v
        i += cuda.gridDim.x * cuda.blockDim.x


@cuda.jit
def _k_wg_out(M, y, yoff, b, hasb, g, total):
    m, th, tw, O, oH, oW = g[5], g[6], g[7], g[8], g[9], g[10]
    T = th * tw
    ES = O * m * T
    i = cuda.grid(1)
    while i < total:
        t = i % (m * T)
        o = i // (m * T)
        n = t // T
        tj = t % tw
        ti = (t // tw) % th
        # rows of A^T M: r0[s] = M[0, s] + M[1, s] + M[2, s], r1[s] = M[1, s] - M[2, s] - M[3, s]
        r00 = M[i] + M[4 * ES + i] + M[8 * ES + i]
        r01 = M[ES + i] + M[5 * ES + i] + M[9 * ES + i]
        r02 = M[2 * ES + i] + M[6 * ES + i] + M[10 * ES + i]
        r03 = M[3 * ES + i] + M[7 * ES + i] + M[11 * ES + i]
        r10 = M[4 * ES + i] - M[8 * ES + i] - M[12 * ES + i]
        r11 = M[5 * ES + i] - M[9 * ES + i] - M[13 * ES + i]
        r12 = M[6 * ES + i] - M[10 * ES + i] - M[14 * ES + i]
        r13 = M[7 * ES + i] - M[11 * ES + i] - M[15 * ES + i]
        bv = 0.0
        if hasb:
            bv = b[o]
        yb = yoff + (n * O + o) * oH * oW
        h = 2 * ti
        w = 2 * tj
        y[yb + h * oW + w] = r00 + r01 + r02 + bv
        if w + 1 < oW:
            y[yb + h * oW + w + 1] = r01 - r02 - r03 + bv
        if h + 1 < oH:
            y[yb + (h + 1) * oW + w] = r10 + r11 + r12 + bv
            if w + 1 < oW:
                y[yb + (h + 1) * oW + w + 1] = r11 - r12 - r13 + bv
        i += cuda.gridDim.x * cuda.blockDim.x


def winograd_input(x, xoff, V, g, par=True):
    total = int(g[0] * g[5] * g[6] * g[7])
    if total:
        bl, t = launch(total)
        _k_wg_in[bl, t](x, int(xoff), V, _g(g), total)


def winograd_output(M, y, yoff, b, g, par=True):
    total = int(g[8] * g[5] * g[6] * g[7])
    if total:
        bl, t = launch(total)
        _k_wg_out[bl, t](M, y, int(yoff), M if b is None else b, b is not None, _g(g), total)


@cuda.jit
def _k_wg_gy(gy, gyoff, Ug, g, total):
    m, th, tw, O, oH, oW = g[5], g[6], g[7], g[8], g[9], g[10]
    T = th * tw
    ES = O * m * T
    i = cuda.grid(1)
    while i < total:
        t = i % (m * T)
        o = i // (m * T)
        n = t // T
        tj = t % tw
        ti = (t // tw) % th
        gb = gyoff + (n * O + o) * oH * oW
        h = 2 * ti
        w = 2 * tj
        g00 = gy[gb + h * oW + w]
        g01 = 0.0
        g10 = 0.0
        g11 = 0.0
        if w + 1 < oW:
            g01 = gy[gb + h * oW + w + 1]
        if h + 1 < oH:
            g10 = gy[gb + (h + 1) * oW + w]
            if w + 1 < oW:
                g11 = gy[gb + (h + 1) * oW + w + 1]
        for a in range(4):                      # A g: rows g0, g0 + g1, g0 - g1, -g1; then (A g) A^T
            q0 = g00 if a == 0 else (g00 + g10 if a == 1 else (g00 - g10 if a == 2 else -g10))
            q1 = g01 if a == 0 else (g01 + g11 if a == 1 else (g01 - g11 if a == 2 else -g11))
            Ug[(4 * a) * ES + i] = q0
            Ug[(4 * a + 1) * ES + i] = q0 + q1
            Ug[(4 * a + 2) * ES + i] = q0 - q1
            Ug[(4 * a + 3) * ES + i] = -q1
        i += cuda.gridDim.x * cuda.blockDim.x


def winograd_grad_output(gy, gyoff, Ug, g, par=True):
    total = int(g[8] * g[5] * g[6] * g[7])
    if total:
        bl, t = launch(total)
        _k_wg_gy[bl, t](gy, int(gyoff), Ug, _g(g), total)
