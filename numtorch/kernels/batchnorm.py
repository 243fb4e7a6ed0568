"""Batch-norm kernels over a contiguous (N, C, L) block: per-channel statistics (two passes in float64: the
mean first, then centred squares, so large offsets do not cancel), the per-channel affine apply, and the
backward's per-channel reductions. Channels (reductions) or (n, c) planes (applies) run in parallel."""
from numba import njit, prange

from . import parallel_ok
from ._device import cuda_impl, on_device

_J = dict(cache=True, error_model='numpy')
PAR_MIN = 1 << 15


@njit(**_J)
def _stats_ch(x, N, C, L, mean, var, c):
    s = 0.0
    for n in range(N):
        seg = x[(n * C + c) * L:(n * C + c + 1) * L]
        for j in range(L):
            s += seg[j]
    m = s / (N * L)
    q = 0.0
    for n in range(N):
        seg = x[(n * C + c) * L:(n * C + c + 1) * L]
        for j in range(L):
            d = seg[j] - m
            q += d * d
    mean[c] = m
    var[c] = q / (N * L)


@njit(**_J)
def _stats_ser(x, N, C, L, mean, var):
    for c in range(C):
        _stats_ch(x, N, C, L, mean, var, c)


@njit(parallel=True, **_J)
def _stats_par(x, N, C, L, mean, var):
    for c in prange(C):
        _stats_ch(x, N, C, L, mean, var, c)


def stats(x, N, C, L, mean, var):
    """mean[c], var[c] (biased, float64) of x (N, C, L)."""
    if on_device(x):
        return cuda_impl("batchnorm").stats(x, N, C, L, mean, var)
    if parallel_ok() and C > 1 and N * C * L >= PAR_MIN:
        _stats_par(x, N, C, L, mean, var)
    else:
        _stats_ser(x, N, C, L, mean, var)


@njit(**_J)
def _affine_planes(x, scale, shift, y, C, L, q0, q1):
    for q in range(q0, q1):
        c = q % C
        a = scale[c]
        b = shift[c]
        src = x[q * L:(q + 1) * L]
        dst = y[q * L:(q + 1) * L]
        for j in range(L):
            dst[j] = src[j] * a + b


@njit(parallel=True, **_J)
def _affine_par(x, scale, shift, y, C, L, nq):
    for q in prange(nq):
        _affine_planes(x, scale, shift, y, C, L, q, q + 1)


def affine(x, scale, shift, y, N, C, L):
    """y[n, c, :] = x[n, c, :] * scale[c] + shift[c] (scale/shift in x's dtype)."""
    if on_device(x):
        return cuda_impl("batchnorm").affine(x, scale, shift, y, N, C, L)
    if parallel_ok() and N * C > 1 and N * C * L >= PAR_MIN:
        _affine_par(x, scale, shift, y, C, L, N * C)
    else:
        _affine_planes(x, scale, shift, y, C, L, 0, N * C)


@njit(**_J)
def _bwd_reduce_ch(g, x, N, C, L, mean, sg, sgx, c):
    m = mean[c]
    a = 0.0
    b = 0.0
    for n in range(N):
        gs = g[(n * C + c) * L:(n * C + c + 1) * L]
        xs = x[(n * C + c) * L:(n * C + c + 1) * L]
        for j in range(L):
            a += gs[j]
            b += gs[j] * (xs[j] - m)
    sg[c] = a
    sgx[c] = b


@njit(**_J)
def _bwd_reduce_ser(g, x, N, C, L, mean, sg, sgx):
    for c in range(C):
        _bwd_reduce_ch(g, x, N, C, L, mean, sg, sgx, c)


@njit(parallel=True, **_J)
def _bwd_reduce_par(g, x, N, C, L, mean, sg, sgx):
    for c in prange(C):
        _bwd_reduce_ch(g, x, N, C, L, mean, sg, sgx, c)


def backward_reduce(g, x, N, C, L, mean, sg, sgx):
    """sg[c] = sum g, sgx[c] = sum g * (x - mean[c]) (float64 outputs)."""
    if on_device(g):
        return cuda_impl("batchnorm").backward_reduce(g, x, N, C, L, mean, sg, sgx)
    if parallel_ok() and C > 1 and N * C * L >= PAR_MIN:
        _bwd_reduce_par(g, x, N, C, L, mean, sg, sgx)
    else:
        _bwd_reduce_ser(g, x, N, C, L, mean, sg, sgx)


@njit(**_J)
def _affine2_planes(g, x, a, b, k, out, C, L, q0, q1):
    for q in range(q0, q1):
        c = q % C
        ac = a[c]
        bc = b[c]
        kc = k[c]
        gs = g[q * L:(q + 1) * L]
        xs = x[q * L:(q + 1) * L]
        dst = out[q * L:(q + 1) * L]
        for j in range(L):
            dst[j] = gs[j] * ac + xs[j] * bc + kc


@njit(parallel=True, **_J)
def _affine2_par(g, x, a, b, k, out, C, L, nq):
    for q in prange(nq):
        _affine2_planes(g, x, a, b, k, out, C, L, q, q + 1)


def affine2(g, x, a, b, k, out, N, C, L):
    """out[n, c, :] = g * a[c] + x * b[c] + k[c]: the input gradient of batch norm in one pass."""
    if on_device(g):
        return cuda_impl("batchnorm").affine2(g, x, a, b, k, out, N, C, L)
    if parallel_ok() and N * C > 1 and N * C * L >= PAR_MIN:
        _affine2_par(g, x, a, b, k, out, C, L, N * C)
    else:
        _affine2_planes(g, x, a, b, k, out, C, L, 0, N * C)
