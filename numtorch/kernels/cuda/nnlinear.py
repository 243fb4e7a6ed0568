"""CUDA twins of kernels/nnlinear.py: ``linear_small`` (a thread per output element), ``bias_add``,
``transpose_bias`` and ``scale_all`` (a thread per element, grid-stride), ``col_sum`` (a thread per column)
and ``grad_norm`` (per buffer, each block folds its grid-stride share through a shared-memory tree into one
float64 partial; the partials of every buffer land in one device array, combined on the host)."""
import math

import numpy as np
from numba import cuda, float64

from . import block_threads, empty, launch

_SH = 256                    # shared tree size: >= block_threads(), a power of two


@cuda.jit(cache=True)
def _small_k(x, xo, xs0, xs1, w, wo, ws0, ws1, b, bo, bs, hasb, out, n, k, m):
    i = cuda.grid(1)
    s = cuda.gridsize(1)
    while i < n * m:
        r = i // m
        j = i - r * m
        acc = 0.0
        for p in range(k):
            acc += float64(x[xo + r * xs0 + p * xs1]) * float64(w[wo + j * ws0 + p * ws1])
        if hasb:
            acc += float64(b[bo + j * bs])
        out[i] = acc
        i += s


def linear_small(x, xo, xs0, xs1, w, wo, ws0, ws1, b, bo, bs, hasb, out, n, k, m):
    if n * m:
        _small_k[launch(n * m)](x, int(xo), int(xs0), int(xs1), w, int(wo), int(ws0), int(ws1), b, int(bo),
                                int(bs), bool(hasb), out, int(n), int(k), int(m))


@cuda.jit(cache=True)
def _bias_k(out, bias, boff, cols, n):
    i = cuda.grid(1)
    s = cuda.gridsize(1)
    while i < n:
        out[i] += bias[boff + i % cols]
        i += s


def bias_add(out, bias, boff, rows, cols):
    n = rows * cols
    if n:
        _bias_k[launch(n)](out, bias, int(boff), int(cols), int(n))


@cuda.jit(cache=True)
def _tbias_k(src, out, bias, boff, hasb, rows, cols):
    i = cuda.grid(1)
    s = cuda.gridsize(1)
    while i < rows * cols:
        r = i // cols
        c = i - r * cols
        v = src[c * rows + r]
        if hasb:
            v += bias[boff + c]
        out[i] = v
        i += s


def transpose_bias(src, out, bias, boff, hasb, rows, cols):
    if rows * cols:
        _tbias_k[launch(rows * cols)](src, out, bias, int(boff), bool(hasb), int(rows), int(cols))


@cuda.jit(cache=True)
def _colsum_k(g, rows, cols, out):
    c = cuda.grid(1)
    s = cuda.gridsize(1)
    while c < cols:                      # a thread per column: neighbouring threads read neighbouring elements
        acc = 0.0
        for r in range(rows):
            acc += float64(g[r * cols + c])
        out[c] = acc
        c += s


def col_sum(g, rows, cols, out):
    if cols:
        _colsum_k[launch(cols)](g, int(rows), int(cols), out)


@cuda.jit(cache=True)
def _norm_k(x, p, part, slot):
    sh = cuda.shared.array(_SH, float64)
    t = cuda.threadIdx.x
    nt = cuda.blockDim.x
    i = cuda.blockIdx.x * nt + t
    s = cuda.gridsize(1)
    acc = 0.0
    while i < x.size:
        v = abs(float64(x[i]))
        if p == math.inf:
            if v > acc or v != v:
                acc = v
        elif p == 2.0:
            acc += v * v
        elif p == 1.0:
            acc += v
        elif v != 0.0:
            acc += v ** p
        i += s
    sh[t] = acc
    cuda.syncthreads()
    h = nt // 2
    while h > 0:
        if t < h:
            a = sh[t]
            b = sh[t + h]
            if p == math.inf:
                sh[t] = a if (a > b or a != a) else b
            else:
                sh[t] = a + b
        cuda.syncthreads()
        h //= 2
    if t == 0:
        part[slot + cuda.blockIdx.x] = sh[0]


def grad_norm(bufs, p):
    p = float(p)
    nt = block_threads()
    plans = []
    total = 0
    for b in bufs:
        nb = min(launch(b.size, nt)[0], 64) if b.size else 0
        plans.append((b, nb, total))
        total += nb
    if total == 0:
        return 0.0
    part = empty(total, np.float64)
    for b, nb, slot in plans:
        if nb:
            _norm_k[nb, nt](b, p, part, slot)
    host = part.copy_to_host()
    return float(np.max(host) if p == math.inf else np.sum(host))


@cuda.jit(cache=True)
def _scale_k(x, c):
    i = cuda.grid(1)
    s = cuda.gridsize(1)
    while i < x.size:
        x[i] = x[i] * c
        i += s


def scale_all(bufs, c):
    for b in bufs:
        if b.size:
            _scale_k[launch(b.size)](b, b.dtype.type(c))
