"""CUDA twins of kernels/loss.py (same entry points and arguments, device arrays): one thread per
sample in a grid-stride loop, float64 arithmetic; a sample's classes are read at stride ``inner``."""
import math

import numpy as np
from numba import cuda

from numtorch.kernels.cuda import launch

__all__ = ['cross_entropy_forward', 'cross_entropy_backward', 'nll_forward', 'nll_backward', 'ctc_forward',
           'ctc_backward']

_EXP_MAX = 709.782712893384
_INF = float('inf')
_NAN = float('nan')


@cuda.jit(device=True)
def _exp(d):
    if d > _EXP_MAX:
        return _INF
    return math.exp(d)


@cuda.jit(device=True)
def _tw(target, weight, hasw, i, n, ignore_index):
    t = target[i]
    if t == ignore_index or t < 0 or t >= n:
        return -1, 0.0
    return t, (np.float64(weight[t]) if hasw else 1.0)


@cuda.jit(cache=True)
def _k_ce_fw(x, n, inner, target, weight, hasw, ignore_index, loss, wout, lse, m):
    i = cuda.grid(1)
    while i < m:
        o = i // inner
        base = o * n * inner + (i - o * inner)
        mx = np.float64(x[base])
        for k in range(n):
            v = np.float64(x[base + k * inner])
            if v > mx or v != v:
                mx = v
        s = 0.0
        for k in range(n):
            s += _exp(np.float64(x[base + k * inner]) - mx)
        c = mx + math.log(s) if s > 0 else (mx if s == 0 else _NAN)
        lse[i] = c
        t, w = _tw(target, weight, hasw, i, n, ignore_index)
        if t < 0:
            wout[i] = 0.0
            loss[i] = 0.0 if target[i] == ignore_index else _NAN
        else:
            wout[i] = w
            loss[i] = w * (c - np.float64(x[base + t * inner]))
        i += cuda.gridsize(1)


@cuda.jit(cache=True)
def _k_ce_bw(x, n, inner, target, weight, hasw, ignore_index, lse, gs, gstride, den, out, m):
    i = cuda.grid(1)
    while i < m:
        o = i // inner
        base = o * n * inner + (i - o * inner)
        t, w = _tw(target, weight, hasw, i, n, ignore_index)
        if t < 0:
            for k in range(n):
                out[base + k * inner] = 0
        else:
            sc = w * np.float64(gs[i * gstride]) / np.float64(den[0])
            c = np.float64(lse[i])
            for k in range(n):
                out[base + k * inner] = sc * _exp(np.float64(x[base + k * inner]) - c)
            out[base + t * inner] = out[base + t * inner] - sc
        i += cuda.gridsize(1)


@cuda.jit(cache=True)
def _k_nll_fw(x, n, inner, target, weight, hasw, ignore_index, loss, wout, m):
    i = cuda.grid(1)
    while i < m:
        o = i // inner
        base = o * n * inner + (i - o * inner)
        t, w = _tw(target, weight, hasw, i, n, ignore_index)
        if t < 0:
            wout[i] = 0.0
            loss[i] = 0.0 if target[i] == ignore_index else _NAN
        else:
            wout[i] = w
            loss[i] = -w * np.float64(x[base + t * inner])
        i += cuda.gridsize(1)


@cuda.jit(cache=True)
def _k_nll_bw(n, inner, target, weight, hasw, ignore_index, gs, gstride, den, out, m):
    i = cuda.grid(1)
    while i < m:
        o = i // inner
        base = o * n * inner + (i - o * inner)
        for k in range(n):
            out[base + k * inner] = 0
        t, w = _tw(target, weight, hasw, i, n, ignore_index)
        if t >= 0:
            out[base + t * inner] = -w * np.float64(gs[i * gstride]) / np.float64(den[0])
        i += cuda.gridsize(1)


def _wbuf(weight, like):
    # a zero-size device array stands for "no weight"; kernels get a one-element stand-in
    return (weight, True) if weight.size else (cuda.device_array(1, like.dtype), False)


def cross_entropy_forward(x, outer, n, inner, target, weight, ignore_index, loss, wout, lse):
    m = outer * inner
    if m:
        w, hasw = _wbuf(weight, x)
        _k_ce_fw[launch(m)](x, n, inner, target, w, hasw, np.int64(ignore_index), loss, wout, lse, m)
    return loss


def cross_entropy_backward(x, outer, n, inner, target, weight, ignore_index, lse, gs, den, out):
    m = outer * inner
    if m:
        w, hasw = _wbuf(weight, x)
        gstride = 0 if gs.size == 1 and m != 1 else 1
        _k_ce_bw[launch(m)](x, n, inner, target, w, hasw, np.int64(ignore_index), lse, gs, gstride, den, out, m)
    return out


def nll_forward(x, outer, n, inner, target, weight, ignore_index, loss, wout):
    m = outer * inner
    if m:
        w, hasw = _wbuf(weight, x)
        _k_nll_fw[launch(m)](x, n, inner, target, w, hasw, np.int64(ignore_index), loss, wout, m)
    return loss


def nll_backward(n, inner, target, weight, ignore_index, gs, den, out):
    m = target.size
    if m:
        w, hasw = _wbuf(weight, out)
        gstride = 0 if gs.size == 1 and m != 1 else 1
        _k_nll_bw[launch(m)](n, inner, target, w, hasw, np.int64(ignore_index), gs, gstride, den, out, m)
    return out


# ----------------------------------------------------------------------------- CTC
@cuda.jit(device=True)
def _lae(a, b):
    if a == -_INF:
        return b
    if b == -_INF:
        return a
    m = a if a > b else b
    return m + math.log1p(math.exp(-abs(a - b)))


@cuda.jit(device=True)
def _label(targets, toff, s, blank):
    return blank if s % 2 == 0 else targets[toff + (s - 1) // 2]


@cuda.jit(device=True)
def _alpha(lp, N, C, targets, toff, tl, Tn, blank, n, la):
    L = 2 * tl + 1
    for t in range(la.shape[1]):
        for s in range(la.shape[2]):
            la[n, t, s] = -_INF
    if Tn == 0:
        return 0.0 if tl == 0 else _INF
    la[n, 0, 0] = lp[n * C + blank]
    if L > 1:
        la[n, 0, 1] = lp[n * C + _label(targets, toff, 1, blank)]
    for t in range(1, Tn):
        row = (t * N + n) * C
        for s in range(L):
            c = _label(targets, toff, s, blank)
            v = la[n, t - 1, s]
            if s > 0:
                v = _lae(v, la[n, t - 1, s - 1])
            if s > 1 and c != blank and c != _label(targets, toff, s - 2, blank):
                v = _lae(v, la[n, t - 1, s - 2])
            la[n, t, s] = v + lp[row + c] if v != -_INF else -_INF
    r = la[n, Tn - 1, L - 1]
    if L > 1:
        r = _lae(r, la[n, Tn - 1, L - 2])
    return -r


@cuda.jit(cache=True)
def _k_ctc_fw(lp, N, C, targets, toffs, tls, ils, blank, loss, la):
    n = cuda.grid(1)
    while n < N:
        loss[n] = _alpha(lp, N, C, targets, toffs[n], tls[n], ils[n], blank, n, la)
        n += cuda.gridsize(1)


@cuda.jit(cache=True)
def _k_ctc_bw(lp, T, N, C, targets, toffs, tls, ils, blank, gs, zero_inf, out, la, lb, lcab):
    n = cuda.grid(1)
    while n < N:
        toff, tl, Tn = toffs[n], tls[n], ils[n]
        L = 2 * tl + 1
        nll = _alpha(lp, N, C, targets, toff, tl, Tn, blank, n, la)
        g = gs[n]
        for t in range(T):
            for c in range(C):
                out[(t * N + n) * C + c] = 0.0
        if Tn > 0 and not (zero_inf and nll == _INF):
            for t in range(Tn):
                for s in range(L):
                    lb[n, t, s] = -_INF
            last = ((Tn - 1) * N + n) * C
            lb[n, Tn - 1, L - 1] = lp[last + blank]
            if L > 1:
                lb[n, Tn - 1, L - 2] = lp[last + _label(targets, toff, L - 2, blank)]
            for t in range(Tn - 2, -1, -1):
                row = (t * N + n) * C
                for s in range(L):
                    c = _label(targets, toff, s, blank)
                    v = lb[n, t + 1, s]
                    if s < L - 1:
                        v = _lae(v, lb[n, t + 1, s + 1])
                    if s < L - 2 and c != blank and c != _label(targets, toff, s + 2, blank):
                        v = _lae(v, lb[n, t + 1, s + 2])
                    lb[n, t, s] = v + lp[row + c] if v != -_INF else -_INF
            for t in range(Tn):
                row = (t * N + n) * C
                for c in range(C):
                    lcab[n, c] = -_INF
                for s in range(L):
                    c = _label(targets, toff, s, blank)
                    lcab[n, c] = _lae(lcab[n, c], la[n, t, s] + lb[n, t, s])
                for c in range(C):
                    v = lp[row + c]
                    e = lcab[n, c] + nll - v
                    out[row + c] = (_exp(v) - (_exp(e) if e == e else _NAN)) * g
        n += cuda.gridsize(1)


def _smax(tls):
    return int(tls.copy_to_host().max()) if tls.size else 0


def ctc_forward(lp, T, N, C, targets, toffs, tls, ils, blank, loss):
    if N:
        la = cuda.device_array((N, T, 2 * _smax(tls) + 1), np.float64)
        _k_ctc_fw[launch(N)](lp, N, C, targets, toffs, tls, ils, blank, loss, la)
    return loss


def ctc_backward(lp, T, N, C, targets, toffs, tls, ils, blank, gs, zero_inf, out):
    if N:
        L = 2 * _smax(tls) + 1
        la = cuda.device_array((N, T, L), np.float64)
        lb = cuda.device_array((N, T, L), np.float64)
        lcab = cuda.device_array((N, C), np.float64)
        _k_ctc_bw[launch(N)](lp, T, N, C, targets, toffs, tls, ils, blank, gs, bool(zero_inf), out, la, lb, lcab)
    return out
