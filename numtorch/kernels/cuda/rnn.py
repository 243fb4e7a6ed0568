"""CUDA twins of ``kernels.rnn``: ``rnn_forward``, ``rnn_backward`` (same arguments, device buffers).

The time loop runs on the host: per step one device GEMM (``cuda.matmul``) and one fused gate kernel
(a thread per (row, hidden unit), grid-stride), exactly the CPU schedule."""
import math

from numba import cuda

from . import empty, launch
from .matmul import matmul

NGATES = (1, 1, 4, 3)


@cuda.jit(device=True, inline=True)
def _sig(x):
    return 1.0 / (1.0 + math.exp(-x))


@cuda.jit(cache=True)
def _step_fwd(mode, xg, xo, xsb, bx, hg, bhh, hp, hpo, cp, cpo, hs, cs, gs, so, rs, nb, B, H, P, proj):
    W = H if H > P else P
    start = cuda.grid(1)
    stride = cuda.gridsize(1)
    for idx in range(start, B * W, stride):
        b = idx // W
        j = idx - b * W
        hrow = so * B * P + b * P
        if b >= nb:
            if j < P:
                hs[hrow + j] = hp[hpo + b * P + j]
            if mode == 2 and j < H:
                cs[so * B * H + b * H + j] = cp[cpo + b * H + j]
                if proj:
                    rs[so * B * H + b * H + j] = 0
            continue
        if j >= H:
            continue
        if mode <= 1:
            v = (xg[xo + b * xsb + j] + bx[j]) + hg[b * H + j]
            if mode == 0:
                hs[hrow + j] = math.tanh(v)
            else:
                hs[hrow + j] = 0.0 if v <= 0 else v
        elif mode == 2:
            G = 4 * H
            xr = xo + b * xsb
            hr = b * G
            go = so * B * G + b * G
            co = so * B * H + b * H
            ig = _sig((xg[xr + j] + bx[j]) + hg[hr + j])
            fg = _sig((xg[xr + H + j] + bx[H + j]) + hg[hr + H + j])
            gg = math.tanh((xg[xr + 2 * H + j] + bx[2 * H + j]) + hg[hr + 2 * H + j])
            og = _sig((xg[xr + 3 * H + j] + bx[3 * H + j]) + hg[hr + 3 * H + j])
            c = fg * cp[cpo + b * H + j] + ig * gg
            cs[co + j] = c
            gs[go + j] = ig
            gs[go + H + j] = fg
            gs[go + 2 * H + j] = gg
            gs[go + 3 * H + j] = og
            hv = og * math.tanh(c)
            if proj:
                rs[co + j] = hv
            else:
                hs[hrow + j] = hv
        else:
            G = 3 * H
            xr = xo + b * xsb
            hr = b * G
            go = so * B * 4 * H + b * 4 * H
            r = _sig((xg[xr + j] + bx[j]) + hg[hr + j] + bhh[j])
            z = _sig((xg[xr + H + j] + bx[H + j]) + hg[hr + H + j] + bhh[H + j])
            hn = hg[hr + 2 * H + j] + bhh[2 * H + j]
            n = math.tanh((xg[xr + 2 * H + j] + bx[2 * H + j]) + r * hn)
            hs[hrow + j] = (1.0 - z) * n + z * hp[hpo + b * P + j]
            gs[go + j] = r
            gs[go + H + j] = z
            gs[go + 2 * H + j] = n
            gs[go + 3 * H + j] = hn


@cuda.jit(cache=True)
def _step_bwd(mode, dh, dc, dr, gs, so, hs, hp, hpo, cs, cp, cpo, dxg, dhg, dhc, nb, B, H, P, proj):
    G = 4 * H if mode == 2 else (3 * H if mode == 3 else H)
    W = G if G > P else P
    start = cuda.grid(1)
    stride = cuda.gridsize(1)
    for idx in range(start, B * W, stride):
        b = idx // W
        j = idx - b * W
        xo = so * B * G + b * G
        if b >= nb:
            if j < G:
                dxg[xo + j] = 0
                dhg[xo + j] = 0
            if j < P:
                dhc[b * P + j] = dh[b * P + j]
            continue
        if j < P and mode != 3:
            dhc[b * P + j] = 0
        if j >= H:
            continue
        if mode <= 1:
            h = hs[so * B * H + b * H + j]
            d = dh[b * H + j]
            v = d * (1.0 - h * h) if mode == 0 else (d if h > 0 else d * 0)
            dxg[xo + j] = v
            dhg[xo + j] = v
        elif mode == 2:
            go = so * B * G + b * G
            co = so * B * H + b * H
            ig = gs[go + j]
            fg = gs[go + H + j]
            gg = gs[go + 2 * H + j]
            og = gs[go + 3 * H + j]
            tc = math.tanh(cs[co + j])
            d = dr[b * H + j] if proj else dh[b * P + j]
            dct = dc[b * H + j] + d * og * (1.0 - tc * tc)
            di = dct * gg * ig * (1.0 - ig)
            df = dct * cp[cpo + b * H + j] * fg * (1.0 - fg)
            dg = dct * ig * (1.0 - gg * gg)
            do = d * tc * og * (1.0 - og)
            dxg[xo + j] = di
            dxg[xo + H + j] = df
            dxg[xo + 2 * H + j] = dg
            dxg[xo + 3 * H + j] = do
            dhg[xo + j] = di
            dhg[xo + H + j] = df
            dhg[xo + 2 * H + j] = dg
            dhg[xo + 3 * H + j] = do
            dc[b * H + j] = dct * fg
        else:
            go = so * B * 4 * H + b * 4 * H
            r = gs[go + j]
            z = gs[go + H + j]
            n = gs[go + 2 * H + j]
            hn = gs[go + 3 * H + j]
            d = dh[b * P + j]
            hprev = hp[hpo + b * P + j]
            dn = d * (1.0 - z) * (1.0 - n * n)
            dz = d * (hprev - n) * z * (1.0 - z)
            drr = dn * hn * r * (1.0 - r)
            dxg[xo + j] = drr
            dxg[xo + H + j] = dz
            dxg[xo + 2 * H + j] = dn
            dhg[xo + j] = drr
            dhg[xo + H + j] = dz
            dhg[xo + 2 * H + j] = dn * r
            dhc[b * P + j] = d * z


@cuda.jit(cache=True)
def _proj_carry(tmp, hs, so, hp, hpo, nb, B, P):
    start = cuda.grid(1)
    for idx in range(start, B * P, cuda.gridsize(1)):
        b = idx // P
        hs[so * B * P + idx] = tmp[idx] if b < nb else hp[hpo + idx]


@cuda.jit(cache=True)
def _axpy(dst, do, src, so, n):
    """dst[do + i] += src[so + i]"""
    start = cuda.grid(1)
    for i in range(start, n, cuda.gridsize(1)):
        dst[do + i] += src[so + i]


@cuda.jit(cache=True)
def _copy(dst, do, src, so, n):
    start = cuda.grid(1)
    for i in range(start, n, cuda.gridsize(1)):
        dst[do + i] = src[so + i]


def _zeros(n, dt):
    b = empty(max(n, 1), dt)
    if n:
        b[:] = 0
    return b


def _dup(buf):
    n = buf.shape[0]
    out = empty(max(n, 1), buf.dtype)
    if n:
        _copy[launch(n)](out, 0, buf, 0, n)
    return out


def rnn_forward(mode, xg, whh_t, bhh, h0, c0, whr_t, bs, T, B, H, P, reverse, bx=None, xst=0, xsb=0):
    dt = xg.dtype
    G = NGATES[mode] * H
    proj = whr_t is not None
    hs = empty(max(T * B * P, 1), dt)
    cs = empty(max(T * B * H if mode == 2 else 0, 1), dt)
    gs = empty(max(T * B * (4 * H if mode >= 2 else 0), 1), dt)
    rs = empty(max(T * B * H if proj else 0, 1), dt)
    hg = empty(B * G, dt)
    tmp = empty(B * P, dt) if proj else hg
    whh2 = whh_t.reshape(P, G)
    whr2 = whr_t.reshape(H, P) if proj else None
    if bhh is None:
        bhh = _zeros(G, dt)
    if bx is None:
        bx = _zeros(G, dt)
    xst = xst or B * G
    xsb = xsb or G
    if c0 is None:
        c0 = _zeros(0, dt)
    hp, hpo, cp, cpo = h0, 0, c0, 0
    W = max(H, P)
    for s in range(T):
        t = T - 1 - s if reverse else s
        nb = int(bs[t])
        matmul(hp[hpo:hpo + B * P].reshape(B, P), whh2, out=hg.reshape(B, G))
        _step_fwd[launch(B * W)](mode, xg, t * xst, xsb, bx, hg, bhh, hp, hpo, cp, cpo, hs, cs, gs, t, rs, nb, B, H, P,
                                 proj)
        if proj:
            matmul(rs[t * B * H:(t + 1) * B * H].reshape(B, H), whr2, out=tmp.reshape(B, P))
            _proj_carry[launch(B * P)](tmp, hs, t, hp, hpo, nb, B, P)
        hp, hpo = hs, t * B * P
        if mode == 2:
            cp, cpo = cs, t * B * H
    return hs, cs, gs, rs


def rnn_backward(mode, gy, ghn, gcn, whh, whr, hs, cs, gs, rs, h0, c0, bs, T, B, H, P, reverse):
    dt = gy.dtype
    G = NGATES[mode] * H
    proj = whr is not None
    dxg = empty(max(T * B * G, 1), dt)
    dhg = empty(max(T * B * G, 1), dt) if mode == 3 else dxg
    dht = empty(max(T * B * P if proj else 0, 1), dt)
    dh = _dup(ghn)
    dc = _dup(gcn) if mode == 2 else _zeros(0, dt)
    dhc = empty(B * P, dt)
    dr = empty(max(B * H if proj else 0, 1), dt)
    whh2 = whh.reshape(G, P)
    whr2 = whr.reshape(P, H) if proj else None
    if c0 is None:
        c0 = _zeros(0, dt)
    W = max(G, P)
    for s in range(T - 1, -1, -1):
        t = T - 1 - s if reverse else s
        nb = int(bs[t])
        _axpy[launch(B * P)](dh, 0, gy, t * B * P, B * P)
        if s > 0:
            tp = t + 1 if reverse else t - 1
            hp, hpo, cp, cpo = hs, tp * B * P, cs, tp * B * H
        else:
            hp, hpo, cp, cpo = h0, 0, c0, 0
        if proj:
            _copy[launch(B * P)](dht, t * B * P, dh, 0, B * P)
            matmul(dh.reshape(B, P), whr2, out=dr.reshape(B, H))
        _step_bwd[launch(B * W)](mode, dh, dc, dr, gs, t, hs, hp, hpo, cs, cp, cpo, dxg, dhg, dhc, nb, B, H, P,
                                 proj)
        matmul(dhg[t * B * G:(t + 1) * B * G].reshape(B, G), whh2, out=dh.reshape(B, P))
        _axpy[launch(B * P)](dh, 0, dhc, 0, B * P)
    return dxg, dhg, dh, dc, dht
