"""Recurrent layers: the time loop of RNN (tanh/relu), LSTM (optional projection) and GRU.

The input projection of the whole sequence is one GEMM done by the caller (``xg``, (T, B, G*H), biases
folded in except GRU's hidden bias). Per step: one GEMM for the hidden projection, then ONE fused kernel
for every gate nonlinearity and the state update; backward through time runs one fused gate-gradient
kernel and one GEMM per step. Buffers are flat and contiguous; ``bs[s]`` is the number of active rows
(a prefix: packed sequences are sorted by decreasing length) at time ``s``; inactive rows carry their
state unchanged, so the state at the last step holds each sequence's last valid state.

Modes: 0 RNN tanh, 1 RNN relu, 2 LSTM, 3 GRU.
"""
import math

import numpy as np
from numba import njit

from ._device import on_device, cuda_impl

TANH, RELU, LSTM, GRU = 0, 1, 2, 3
NGATES = (1, 1, 4, 3)


@njit(cache=True, error_model='numpy', inline='always')
def _sig(x):
    return 1.0 / (1.0 + math.exp(-x))


@njit(cache=True, error_model='numpy')
def rnn_step_fwd(mode, xg, xo, hg, bhh, hp, hpo, cp, cpo, hs, cs, gs, so, rs, nb, B, H, P, proj):
    """One step. xg[xo:] input gates (B, G*H); hg hidden gates (B, G*H); hp[hpo:] previous h (B, P);
    cp[cpo:] previous c (B, H); writes h into hs[so*P/...], c into cs, saved gates into gs, r into rs."""
    for b in range(B):
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
            xr = xg[xo + b * H:xo + (b + 1) * H]
            hr = hg[b * H:(b + 1) * H]
            for j in range(H):
                v = xr[j] + hr[j]
                if mode == 0:
                    hs[hrow + j] = math.tanh(v)
                else:
                    hs[hrow + j] = 0.0 if v <= 0 else v
        elif mode == 2:
            G = 4 * H
            xr = xg[xo + b * G:xo + (b + 1) * G]
            hr = hg[b * G:(b + 1) * G]
            go = so * B * G + b * G
            co = so * B * H + b * H
            for j in range(H):
                ig = _sig(xr[j] + hr[j])
                fg = _sig(xr[H + j] + hr[H + j])
                gg = math.tanh(xr[2 * H + j] + hr[2 * H + j])
                og = _sig(xr[3 * H + j] + hr[3 * H + j])
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
            xr = xg[xo + b * G:xo + (b + 1) * G]
            hr = hg[b * G:(b + 1) * G]
            go = so * B * 4 * H + b * 4 * H
            for j in range(H):
                r = _sig(xr[j] + hr[j] + bhh[j])
                z = _sig(xr[H + j] + hr[H + j] + bhh[H + j])
                hn = hr[2 * H + j] + bhh[2 * H + j]
                n = math.tanh(xr[2 * H + j] + r * hn)
                hs[hrow + j] = (1.0 - z) * n + z * hp[hpo + b * P + j]
                gs[go + j] = r
                gs[go + H + j] = z
                gs[go + 2 * H + j] = n
                gs[go + 3 * H + j] = hn


@njit(cache=True, error_model='numpy')
def rnn_step_bwd(mode, dh, dc, dr, gs, so, hs, hp, hpo, cs, cp, cpo, dxg, dhg, dhc, nb, B, H, P, proj):
    """Gate gradients of one step. dh (B, P) gradient of this step's h (dr (B, H) replaces it when
    projecting), dc (B, H) of its c (updated in place to the previous c's); writes dxg/dhg (B, G*H)
    at step ``so`` and dhc (B, P): the part of the previous h's gradient that skips the hidden GEMM."""
    G = 4 * H if mode == 2 else (3 * H if mode == 3 else H)
    for b in range(B):
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
            for j in range(H):
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
            for j in range(P):
                dhc[b * P + j] = 0
        else:
            go = so * B * 4 * H + b * 4 * H
            for j in range(H):
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


@njit(cache=True, error_model='numpy')
def _gemm(a, ao, w, B, K, N, out):
    """out[:B*N] = a[ao:ao+B*K] (B, K) @ w (K, N); the inner loop streams a row of w (vectorises)."""
    for b in range(B):
        orow = out[b * N:(b + 1) * N]
        for n in range(N):
            orow[n] = 0
        arow = a[ao + b * K:ao + (b + 1) * K]
        for k in range(K):
            v = arow[k]
            if v == 0:
                continue
            wrow = w[k * N:(k + 1) * N]
            for n in range(N):
                orow[n] += v * wrow[n]


@njit(cache=True, error_model='numpy')
def _proj_carry(tmp, hs, so, hp, hpo, nb, B, P):
    """Projected h: active rows from tmp (B, P), inactive rows carried from the previous h."""
    for b in range(B):
        for j in range(P):
            hs[so * B * P + b * P + j] = tmp[b * P + j] if b < nb else hp[hpo + b * P + j]


@njit(cache=True, error_model='numpy')
def rnn_seq_fwd(mode, xg, whh_t, bhh, h0, c0, whr_t, bs, T, B, H, P, reverse, proj, hs, cs, gs, rs, hg, tmp):
    """The whole recurrence in one call: per step the hidden GEMM then the fused gate kernel."""
    G = 4 * H if mode == 2 else (3 * H if mode == 3 else H)
    for s in range(T):
        t = T - 1 - s if reverse else s
        nb = bs[t]
        if s == 0:
            _gemm(h0, 0, whh_t, B, P, G, hg)
            rnn_step_fwd(mode, xg, t * B * G, hg, bhh, h0, 0, c0, 0, hs, cs, gs, t, rs, nb, B, H, P, proj)
            if proj:
                _gemm(rs, t * B * H, whr_t, B, H, P, tmp)
                _proj_carry(tmp, hs, t, h0, 0, nb, B, P)
        else:
            tp = t + 1 if reverse else t - 1
            _gemm(hs, tp * B * P, whh_t, B, P, G, hg)
            rnn_step_fwd(mode, xg, t * B * G, hg, bhh, hs, tp * B * P, cs, tp * B * H, hs, cs, gs, t, rs, nb, B, H,
                         P, proj)
            if proj:
                _gemm(rs, t * B * H, whr_t, B, H, P, tmp)
                _proj_carry(tmp, hs, t, hs, tp * B * P, nb, B, P)


@njit(cache=True, error_model='numpy')
def rnn_seq_bwd(mode, gy, dh, dc, whh, whr, hs, cs, gs, h0, c0, bs, T, B, H, P, reverse, proj, dxg, dhg, dht,
                dhc, dr):
    """Backward through time in one call; dh/dc hold the final states' gradients and end as h0's/c0's."""
    G = 4 * H if mode == 2 else (3 * H if mode == 3 else H)
    for s in range(T - 1, -1, -1):
        t = T - 1 - s if reverse else s
        nb = bs[t]
        for i in range(B * P):
            dh[i] += gy[t * B * P + i]
        if proj:
            for i in range(B * P):
                dht[t * B * P + i] = dh[i]
            _gemm(dh, 0, whr, B, P, H, dr)
        if s > 0:
            tp = t + 1 if reverse else t - 1
            rnn_step_bwd(mode, dh, dc, dr, gs, t, hs, hs, tp * B * P, cs, cs, tp * B * H, dxg, dhg, dhc, nb, B, H,
                         P, proj)
        else:
            rnn_step_bwd(mode, dh, dc, dr, gs, t, hs, h0, 0, cs, c0, 0, dxg, dhg, dhc, nb, B, H, P, proj)
        _gemm(dhg, t * B * G, whh, B, G, P, dh)
        for i in range(B * P):
            dh[i] += dhc[i]


def rnn_forward(mode, xg, whh_t, bhh, h0, c0, whr_t, bs, T, B, H, P, reverse):
    """Run the recurrence. xg (T*B*G*H), whh_t (P, G*H) contiguous, bhh (G*H) (GRU) , h0 (B*P), c0 (B*H),
    whr_t (H, P) or None, bs int64 (T). Returns flat hs (T,B,P), cs (T,B,H), gs (T,B,G'*H), rs (T,B,H)."""
    if on_device(xg):
        return cuda_impl("rnn").rnn_forward(mode, xg, whh_t, bhh, h0, c0, whr_t, bs, T, B, H, P, reverse)
    dt = xg.dtype
    G = NGATES[mode] * H
    proj = whr_t is not None
    hs = np.empty(T * B * P, dt)
    cs = np.empty(T * B * H if mode == 2 else 0, dt)
    gs = np.empty(T * B * (4 * H if mode >= 2 else 0), dt)
    rs = np.empty(T * B * H if proj else 0, dt)
    hg = np.empty(B * G, dt)
    tmp = np.empty(B * P if proj else 0, dt)
    empty = np.zeros(0, dt)
    rnn_seq_fwd(mode, xg, whh_t.reshape(-1), np.zeros(G, dt) if bhh is None else bhh, h0,
                empty if c0 is None else c0, empty if whr_t is None else whr_t.reshape(-1),
                np.ascontiguousarray(bs, dtype=np.int64), T, B, H, P, reverse, proj, hs, cs, gs, rs, hg, tmp)
    return hs, cs, gs, rs


def rnn_backward(mode, gy, ghn, gcn, whh, whr, hs, cs, gs, rs, h0, c0, bs, T, B, H, P, reverse):
    """Backward through time. gy (T*B*P) gradient of hs; ghn (B*P), gcn (B*H) of the final states (zeros
    when unused); whh (G*H, P), whr (P, H) or None. Returns dxg (T,B,G*H), dhg (same; differs for GRU),
    dh0 (B,P), dc0 (B,H), dht (T,B,P) the total gradient of each projected h (projection only)."""
    if on_device(gy):
        return cuda_impl("rnn").rnn_backward(mode, gy, ghn, gcn, whh, whr, hs, cs, gs, rs, h0, c0, bs, T, B, H,
                                             P, reverse)
    dt = gy.dtype
    G = NGATES[mode] * H
    proj = whr is not None
    dxg = np.empty(T * B * G, dt)
    dhg = np.empty(T * B * G, dt) if mode == 3 else dxg
    dht = np.empty(T * B * P if proj else 0, dt)
    dh = ghn.copy()
    dc = gcn.copy() if mode == 2 else np.zeros(0, dt)
    empty = np.zeros(0, dt)
    rnn_seq_bwd(mode, gy, dh, dc, whh.reshape(-1), empty if whr is None else whr.reshape(-1), hs, cs, gs, h0,
                empty if c0 is None else c0, np.ascontiguousarray(bs, dtype=np.int64), T, B, H, P, reverse, proj,
                dxg, dhg, dht, np.empty(B * P, dt), np.empty(B * H if proj else 0, dt))
    return dxg, dhg, dh, dc, dht
