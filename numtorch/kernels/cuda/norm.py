"""CUDA twins of kernels.norm: layer/rms norm and group norm, forward and fused backward.

One block per row (blocks stride over the rows): the threads stride over the row's elements and
combine their float64 partial sums through a shared-memory tree, then write y (or dx) coalesced.
The weight and bias gradients are a second kernel with one thread per column (layer norm; adjacent
threads read adjacent columns) or per channel (group norm), summing over rows, so no atomics are
needed. Absent weight/bias arrive as empty arrays.
"""
import math

from numba import cuda, float64

from . import SIM, _sm_count, block_threads, empty, launch

_SH = 256                        # shared tree size: >= block_threads(), a power of two


def _grid(rows):
    return max(1, min(int(rows), 2 if SIM else 16 * _sm_count())), block_threads()


@cuda.jit(device=True)
def _bsum(sh, s):
    """Sum every thread's s through sh; every thread gets the total."""
    tid = cuda.threadIdx.x
    sh[tid] = s
    cuda.syncthreads()
    step = cuda.blockDim.x // 2
    while step > 0:
        if tid < step:
            sh[tid] += sh[tid + step]
        cuda.syncthreads()
        step //= 2
    r = sh[0]
    cuda.syncthreads()          # sh is reused by the next reduction
    return r


@cuda.jit
def _k_ln_fwd(x, y, w, b, mean, rstd, rows, n, eps, rms):
    sh = cuda.shared.array(_SH, float64)
    tid = cuda.threadIdx.x
    nt = cuda.blockDim.x
    hw = w.size > 0
    hb = b.size > 0
    r = cuda.blockIdx.x
    while r < rows:
        o = r * n
        m = 0.0
        if not rms:
            s = 0.0
            for j in range(tid, n, nt):
                s += x[o + j]
            m = _bsum(sh, s) / n
        q = 0.0
        for j in range(tid, n, nt):
            d = x[o + j] - m
            q += d * d
        rs = 1.0 / math.sqrt(_bsum(sh, q) / n + eps)
        if tid == 0:
            mean[r] = m
            rstd[r] = rs
        for j in range(tid, n, nt):
            v = (x[o + j] - m) * rs
            if hw:
                v *= w[j]
            if hb:
                v += b[j]
            y[o + j] = v
        r += cuda.gridDim.x


@cuda.jit
def _k_ln_bwd_dx(g, x, mean, rstd, w, dx, rows, n, rms):
    sh = cuda.shared.array(_SH, float64)
    tid = cuda.threadIdx.x
    nt = cuda.blockDim.x
    hw = w.size > 0
    r = cuda.blockIdx.x
    while r < rows:
        o = r * n
        m = float64(mean[r])
        rs = float64(rstd[r])
        s1 = 0.0
        s2 = 0.0
        for j in range(tid, n, nt):
            gw = float64(g[o + j] * w[j]) if hw else float64(g[o + j])
            s1 += gw
            s2 += gw * ((x[o + j] - m) * rs)
        a = 0.0 if rms else _bsum(sh, s1) / n
        c = _bsum(sh, s2) / n
        for j in range(tid, n, nt):
            gw = float64(g[o + j] * w[j]) if hw else float64(g[o + j])
            dx[o + j] = rs * (gw - a - (x[o + j] - m) * rs * c)
        r += cuda.gridDim.x


@cuda.jit
def _k_ln_bwd_wb(g, x, mean, rstd, dw, db, rows, n, want_w, want_b):
    for j in range(cuda.grid(1), n, cuda.gridsize(1)):
        sw = 0.0
        sb = 0.0
        for r in range(rows):
            gv = g[r * n + j]
            sw += gv * ((x[r * n + j] - mean[r]) * rstd[r])
            sb += gv
        if want_w:
            dw[j] = sw
        if want_b:
            db[j] = sb


def layer_norm(x, rows, n, w, b, eps, y, mean, rstd, rms=False):
    if rows:
        _k_ln_fwd[_grid(rows)](x, y, w, b, mean, rstd, rows, n, float(eps), bool(rms))
    return y


def layer_norm_backward(g, x, mean, rstd, w, rows, n, dx, dw, db, rms=False):
    if dx is not None and rows:
        _k_ln_bwd_dx[_grid(rows)](g, x, mean, rstd, w, dx, rows, n, bool(rms))
    if dw is not None or db is not None:
        dummy = empty(1, x.dtype)
        _k_ln_bwd_wb[launch(n)](g, x, mean, rstd, dw if dw is not None else dummy,
                                db if db is not None else dummy, rows, n, dw is not None, db is not None)
    return dx


@cuda.jit
def _k_gn_fwd(x, y, w, b, mean, rstd, rows, G, cg, hw, eps):
    sh = cuda.shared.array(_SH, float64)
    tid = cuda.threadIdx.x
    nt = cuda.blockDim.x
    L = cg * hw
    hw_ = w.size > 0
    hb = b.size > 0
    r = cuda.blockIdx.x
    while r < rows:
        o = r * L
        s = 0.0
        for j in range(tid, L, nt):
            s += x[o + j]
        m = _bsum(sh, s) / L
        q = 0.0
        for j in range(tid, L, nt):
            d = x[o + j] - m
            q += d * d
        rs = 1.0 / math.sqrt(_bsum(sh, q) / L + eps)
        if tid == 0:
            mean[r] = m
            rstd[r] = rs
        c0 = (r % G) * cg
        for j in range(tid, L, nt):
            c = c0 + j // hw
            v = (x[o + j] - m) * rs
            if hw_:
                v *= w[c]
            if hb:
                v += b[c]
            y[o + j] = v
        r += cuda.gridDim.x


@cuda.jit
def _k_gn_bwd_dx(g, x, mean, rstd, w, dx, rows, G, cg, hw):
    sh = cuda.shared.array(_SH, float64)
    tid = cuda.threadIdx.x
    nt = cuda.blockDim.x
    L = cg * hw
    hw_ = w.size > 0
    r = cuda.blockIdx.x
    while r < rows:
        o = r * L
        m = float64(mean[r])
        rs = float64(rstd[r])
        c0 = (r % G) * cg
        s1 = 0.0
        s2 = 0.0
        for j in range(tid, L, nt):
            gw = float64(g[o + j] * w[c0 + j // hw]) if hw_ else float64(g[o + j])
            s1 += gw
            s2 += gw * ((x[o + j] - m) * rs)
        a = _bsum(sh, s1) / L
        c = _bsum(sh, s2) / L
        for j in range(tid, L, nt):
            gw = float64(g[o + j] * w[c0 + j // hw]) if hw_ else float64(g[o + j])
            dx[o + j] = rs * (gw - a - (x[o + j] - m) * rs * c)
        r += cuda.gridDim.x


@cuda.jit
def _k_gn_bwd_wb(g, x, mean, rstd, dw, db, N, C, hw, G, want_w, want_b):
    cg = C // G
    for c in range(cuda.grid(1), C, cuda.gridsize(1)):
        sw = 0.0
        sb = 0.0
        for s in range(N):
            r = s * G + c // cg
            o = (s * C + c) * hw
            for j in range(hw):
                sw += g[o + j] * ((x[o + j] - mean[r]) * rstd[r])
                sb += g[o + j]
        if want_w:
            dw[c] = sw
        if want_b:
            db[c] = sb


def group_norm(x, N, C, hw, G, w, b, eps, y, mean, rstd):
    rows = N * G
    if rows and C * hw:
        _k_gn_fwd[_grid(rows)](x, y, w, b, mean, rstd, rows, G, C // G, hw, float(eps))
    return y


def group_norm_backward(g, x, mean, rstd, w, N, C, hw, G, dx, dw, db):
    rows = N * G
    if dx is not None and rows and C * hw:
        _k_gn_bwd_dx[_grid(rows)](g, x, mean, rstd, w, dx, rows, G, C // G, hw)
    if (dw is not None or db is not None) and C:
        dummy = empty(1, x.dtype)
        _k_gn_bwd_wb[launch(C)](g, x, mean, rstd, dw if dw is not None else dummy,
                                db if db is not None else dummy, N, C, hw, G, dw is not None, db is not None)
    return dx
