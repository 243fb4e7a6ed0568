"""CUDA twins of kernels.embedding: one thread per (row, column) element; the backward scatters with atomic adds."""
import math

import numpy as np
from numba import cuda

from . import launch
from ..embedding import MODE_MAX, MODE_MEAN


@cuda.jit
def _k_gather(w, dim, idx, out, n):
    for k in range(cuda.grid(1), n * dim, cuda.gridsize(1)):
        i = k // dim
        out[k] = w[idx[i] * dim + (k - i * dim)]


@cuda.jit
def _k_zero(out, n):
    for k in range(cuda.grid(1), n, cuda.gridsize(1)):
        out[k] = 0


@cuda.jit
def _k_count(idx, cnt, n):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        cuda.atomic.add(cnt, idx[i], 1)


@cuda.jit
def _k_scatter(g, idx, cnt, dim, out, n, pad, scale):
    for k in range(cuda.grid(1), n * dim, cuda.gridsize(1)):
        i = k // dim
        r = idx[i]
        if r == pad:
            continue
        v = g[k]
        if scale:
            v = v / cnt[r]
        cuda.atomic.add(out, r * dim + (k - i * dim), v)


@cuda.jit
def _k_renorm(w, dim, rows, nr, max_norm, p):
    for k in range(cuda.grid(1), nr, cuda.gridsize(1)):
        r = rows[k]
        s = 0.0
        for j in range(dim):
            a = abs(w[r * dim + j])
            if p == 2.0:
                s += a * a
            elif p == 1.0:
                s += a
            elif math.isinf(p):
                s = max(s, a)
            else:
                s += a ** p
        if p == 2.0:
            nrm = math.sqrt(s)
        elif p == 1.0 or math.isinf(p):
            nrm = s
        else:
            nrm = s ** (1.0 / p)
        if nrm > max_norm:
            sc = max_norm / (nrm + 1e-7)
            for j in range(dim):
                w[r * dim + j] = w[r * dim + j] * sc


def embedding(w, num, dim, idx, out):
    n = idx.size
    if n * dim:
        _k_gather[launch(n * dim)](w, dim, idx, out, n)
    return out


def embedding_backward(g, idx, num, dim, padding_idx, scale_grad_by_freq, out):
    if num * dim:
        _k_zero[launch(num * dim)](out, num * dim)
    n = idx.size
    if not n * dim:
        return out
    cnt = cuda.to_device(np.zeros(max(num, 1), np.int64))
    if scale_grad_by_freq:
        _k_count[launch(n)](idx, cnt, n)
    pad = -1 if padding_idx is None else int(padding_idx)
    _k_scatter[launch(n * dim)](g, idx, cnt, dim, out, n, pad, bool(scale_grad_by_freq))
    return out


def embedding_renorm(w, num, dim, rows, max_norm, norm_type):
    if rows.size:
        _k_renorm[launch(rows.size)](w, dim, rows, rows.size, float(max_norm), float(norm_type))
    return w


@cuda.jit
def _k_bag(w, dim, idx, offs, mode, psw, pad, out, arg, cnt, nb):
    hasw = psw.size > 0
    for q in range(cuda.grid(1), nb * dim, cuda.gridsize(1)):
        b = q // dim
        j = q - b * dim
        acc = out[q] * 0
        a = -1
        c = 0
        for k in range(offs[b], offs[b + 1]):
            r = idx[k]
            if r == pad:
                continue
            v = w[r * dim + j]
            if mode == MODE_MAX:
                if a < 0 or v > acc:
                    acc = v
                    a = r
            elif hasw:
                acc += v * psw[k]
            else:
                acc += v
            c += 1
        if mode == MODE_MEAN and c > 0:
            acc = acc / c
        out[q] = acc
        arg[q] = a
        if j == 0:
            cnt[b] = c


@cuda.jit
def _k_bag_bw(g, dim, idx, offs, mode, psw, pad, arg, cnt, nb, out):
    hasw = psw.size > 0
    for q in range(cuda.grid(1), nb * dim, cuda.gridsize(1)):
        b = q // dim
        j = q - b * dim
        if mode == MODE_MAX:
            r = arg[q]
            if r >= 0:
                cuda.atomic.add(out, r * dim + j, g[q])
            continue
        if mode == MODE_MEAN and cnt[b] == 0:
            continue
        for k in range(offs[b], offs[b + 1]):
            r = idx[k]
            if r == pad:
                continue
            v = g[q]
            if mode == MODE_MEAN:
                v = v / cnt[b]
            if hasw:
                v = v * psw[k]
            cuda.atomic.add(out, r * dim + j, v)


@cuda.jit
def _k_psw(g, w, dim, idx, offs, pad, nb, out):
    for b in range(cuda.grid(1), nb, cuda.gridsize(1)):
        for k in range(offs[b], offs[b + 1]):
            r = idx[k]
            s = out[k] * 0
            if r != pad:
                for j in range(dim):
                    s += g[b * dim + j] * w[r * dim + j]
            out[k] = s


def embedding_bag(w, num, dim, idx, offs, nbags, mode, psw, padding_idx, out, arg, cnt):
    pad = -1 if padding_idx is None else int(padding_idx)
    if nbags * dim:
        _k_bag[launch(nbags * dim)](w, dim, idx, offs, int(mode), psw, pad, out, arg, cnt, nbags)
    return out


def embedding_bag_backward(g, num, dim, idx, offs, nbags, mode, psw, padding_idx, arg, cnt, out):
    if num * dim:
        _k_zero[launch(num * dim)](out, num * dim)
    pad = -1 if padding_idx is None else int(padding_idx)
    if nbags * dim:
        _k_bag_bw[launch(nbags * dim)](g, dim, idx, offs, int(mode), psw, pad, arg, cnt, nbags, out)
    return out


def embedding_bag_psw_grad(g, w, num, dim, idx, offs, nbags, padding_idx, out):
    pad = -1 if padding_idx is None else int(padding_idx)
    if nbags:
        _k_psw[launch(nbags)](g, w, dim, idx, offs, pad, nbags, out)
    return out
