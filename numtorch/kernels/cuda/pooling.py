"""CUDA twins of kernels.pooling: max / average / adaptive pooling and their backward kernels.

Forward kernels run a thread per output element. Backward kernels gather: a thread per input element
visits the output windows that contain it (average pools) or the outputs whose argmax is it (max pools and
max_unpool, by scanning the windows that can contain the element), so no atomics are needed. Geometry
``p`` arrives as the CPU's int64 host array.
"""
import math

from numba import cuda

from . import dev_ints, launch


@cuda.jit
def _k_max(x, y, idx, p, total):
    D, H, W = p[1], p[2], p[3]
    kD, kH, kW, sD, sH, sW = p[4], p[5], p[6], p[7], p[8], p[9]
    pD, pH, pW, dD, dH, dW = p[10], p[11], p[12], p[13], p[14], p[15]
    oD, oH, oW = p[16], p[17], p[18]
    i = cuda.grid(1)
    while i < total:
        ow = i % oW
        t = i // oW
        oh = t % oH
        t //= oH
        od = t % oD
        q = t // oD
        xb = q * D * H * W
        best = -math.inf
        bi = -1
        for kd in range(kD):
            d = od * sD - pD + kd * dD
            if d < 0 or d >= D:
                continue
            for kh in range(kH):
                h = oh * sH - pH + kh * dH
                if h < 0 or h >= H:
                    continue
                for kw in range(kW):
                    w = ow * sW - pW + kw * dW
                    if w < 0 or w >= W:
                        continue
                    j = (d * H + h) * W + w
                    v = x[xb + j]
                    if bi < 0 or v > best or v != v:
                        best = v
                        bi = j
        y[i] = best
        idx[i] = bi
        i += cuda.gridDim.x * cuda.blockDim.x


def max_pool(x, y, idx, p):
    total = int(p[0] * p[16] * p[17] * p[18])
    if total:
        b, t = launch(total)
        _k_max[b, t](x, y, idx, dev_ints(p), total)


@cuda.jit
def _k_scatter(g, idx, gx, L, Lin, total, assign):
    """Thread per input element e of plane q: sum g over the plane's outputs whose index is e (assign: the
    last such g in order, written; untouched when none)."""
    i = cuda.grid(1)
    while i < total:
        q = i // Lin
        e = i % Lin
        acc = 0.0
        hit = False
        for j in range(q * L, q * L + L):
            if idx[j] == e:
                acc = g[j] if assign else acc + g[j]
                hit = True
        if assign:
            if hit:
                gx[i] = acc
        else:
            gx[i] += acc
        i += cuda.gridDim.x * cuda.blockDim.x


def scatter_add_planes(g, idx, gx, L, Lin, P, assign=False):
    total = int(P * Lin)
    if total:
        b, t = launch(total)
        _k_scatter[b, t](g, idx, gx, int(L), int(Lin), total, bool(assign))


@cuda.jit(device=True)
def _win(o, s, pad, k, n):
    st = o * s - pad
    en = min(st + k, n + pad)
    size = en - st
    return max(st, 0), min(en, n), size


@cuda.jit(device=True)
def _divisor(cip, div, ds, de, dn, hs, he, hn, ws, we, wn):
    if div != 0:
        return div
    if cip != 0:
        return dn * hn * wn
    return (de - ds) * (he - hs) * (we - ws)


@cuda.jit
def _k_avg(x, y, p, total):
    D, H, W = p[1], p[2], p[3]
    kD, kH, kW, sD, sH, sW = p[4], p[5], p[6], p[7], p[8], p[9]
    pD, pH, pW = p[10], p[11], p[12]
    oD, oH, oW = p[16], p[17], p[18]
    cip, div = p[19], p[20]
    i = cuda.grid(1)
    while i < total:
        ow = i % oW
        t = i // oW
        oh = t % oH
        t //= oH
        od = t % oD
        q = t // oD
        ds, de, dn = _win(od, sD, pD, kD, D)
        hs, he, hn = _win(oh, sH, pH, kH, H)
        ws, we, wn = _win(ow, sW, pW, kW, W)
        acc = 0.0
        for d in range(ds, de):
            for h in range(hs, he):
                for w in range(ws, we):
                    acc += x[((q * D + d) * H + h) * W + w]
        f = _divisor(cip, div, ds, de, dn, hs, he, hn, ws, we, wn)
        y[i] = acc / f if f > 0 else math.nan
        i += cuda.gridDim.x * cuda.blockDim.x


@cuda.jit
def _k_avg_bwd(g, gx, p, total):
    D, H, W = p[1], p[2], p[3]
    kD, kH, kW, sD, sH, sW = p[4], p[5], p[6], p[7], p[8], p[9]
    pD, pH, pW = p[10], p[11], p[12]
    oD, oH, oW = p[16], p[17], p[18]
    cip, div = p[19], p[20]
    i = cuda.grid(1)
    while i < total:
        w_ = i % W
        t = i // W
        h_ = t % H
        t //= H
        d_ = t % D
        q = t // D
        acc = 0.0
        # output windows along each dim whose clamped range contains the element
        for od in range(oD):
            ds, de, dn = _win(od, sD, pD, kD, D)
            if d_ < ds or d_ >= de:
                continue
            for oh in range(oH):
                hs, he, hn = _win(oh, sH, pH, kH, H)
                if h_ < hs or h_ >= he:
                    continue
                for ow in range(oW):
                    ws, we, wn = _win(ow, sW, pW, kW, W)
                    if w_ < ws or w_ >= we:
                        continue
                    f = _divisor(cip, div, ds, de, dn, hs, he, hn, ws, we, wn)
                    if f > 0:
                        acc += g[((q * oD + od) * oH + oh) * oW + ow] / f
        gx[i] += acc
        i += cuda.gridDim.x * cuda.blockDim.x


def avg_pool(x, y, p):
    total = int(p[0] * p[16] * p[17] * p[18])
    if total:
        b, t = launch(total)
        _k_avg[b, t](x, y, dev_ints(p), total)


def avg_pool_backward(g, gx, p):
    total = int(p[0] * p[1] * p[2] * p[3])
    if total:
        b, t = launch(total)
        _k_avg_bwd[b, t](g, gx, dev_ints(p), total)


@cuda.jit(device=True)
def _ad(o, n_in, n_out):
    return (o * n_in) // n_out, ((o + 1) * n_in + n_out - 1) // n_out


@cuda.jit
def _k_adaptive(x, y, idx, p, ismax, total):
    D, H, W = p[1], p[2], p[3]
    oD, oH, oW = p[16], p[17], p[18]
    i = cuda.grid(1)
    while i < total:
        ow = i % oW
        t = i // oW
        oh = t % oH
        t //= oH
        od = t % oD
        q = t // oD
        ds, de = _ad(od, D, oD)
        hs, he = _ad(oh, H, oH)
        ws, we = _ad(ow, W, oW)
        xb = q * D * H * W
        if ismax:
            best = -math.inf
            bi = -1
            for d in range(ds, de):
                for h in range(hs, he):
                    for w in range(ws, we):
                        j = (d * H + h) * W + w
                        v = x[xb + j]
                        if bi < 0 or v > best or v != v:
                            best = v
                            bi = j
            y[i] = best
            idx[i] = bi
        else:
            acc = 0.0
            for d in range(ds, de):
                for h in range(hs, he):
                    for w in range(ws, we):
                        acc += x[xb + (d * H + h) * W + w]
            y[i] = acc / ((de - ds) * (he - hs) * (we - ws))
        i += cuda.gridDim.x * cuda.blockDim.x


@cuda.jit
def _k_adaptive_avg_bwd(g, gx, p, total):
    D, H, W = p[1], p[2], p[3]
    oD, oH, oW = p[16], p[17], p[18]
    i = cuda.grid(1)
    while i < total:
        w_ = i % W
        t = i // W
        h_ = t % H
        t //= H
        d_ = t % D
        q = t // D
        acc = 0.0
        for od in range(oD):
            ds, de = _ad(od, D, oD)
            if d_ < ds or d_ >= de:
                continue
            for oh in range(oH):
                hs, he = _ad(oh, H, oH)
                if h_ < hs or h_ >= he:
                    continue
                for ow in range(oW):
                    ws, we = _ad(ow, W, oW)
                    if w_ < ws or w_ >= we:
                        continue
                    acc += g[((q * oD + od) * oH + oh) * oW + ow] / ((de - ds) * (he - hs) * (we - ws))
        gx[i] += acc
        i += cuda.gridDim.x * cuda.blockDim.x


def adaptive_pool(x, y, idx, p, ismax):
    total = int(p[0] * p[16] * p[17] * p[18])
    if total:
        b, t = launch(total)
        _k_adaptive[b, t](x, y, idx if ismax else y, dev_ints(p), bool(ismax), total)


def adaptive_avg_backward(g, gx, p):
    total = int(p[0] * p[1] * p[2] * p[3])
    if total:
        b, t = launch(total)
        _k_adaptive_avg_bwd[b, t](g, gx, dev_ints(p), total)
