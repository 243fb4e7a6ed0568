"""Batch-norm kernels over a contiguous (N, C, L) block: per-channel statistics (two passes in float64: the
mean first, then centred squares, so large offsets do not cancel), the per-channel affine apply, and the
backward's per-channel reductions. Channels (reductions) or (n, c) planes (applies) run in parallel."""
from numba import njit, prange

from . import parallel_ok
from ._device import cuda_impl, on_device

_J = dict(cache=True, error_model='numpy')
PAR_MIN = 1 << 15


# The per-channel sums keep 4 float64 partial sums (lanes j mod 4, combined pairwise at the end) in locals:
# one running sum is bound by the add latency (~4 cycles per element); independent ones run at the adders'
# throughput. Deterministic, and in float64 the reordering changes nothing visible in the results.
@njit(**_J)
def _stats_ch(x, N, C, L, mean, var, c):
    L4 = L - L % 4
    s0 = s1 = s2 = s3 = 0.0
    for n in range(N):
        seg = x[(n * C + c) * L:(n * C + c + 1) * L]
        for j in range(0, L4, 4):
            s0 += seg[j]
            s1 += seg[j + 1]
            s2 += seg[j + 2]
            s3 += seg[j + 3]
        for j in range(L4, L):
            s0 += seg[j]
    m = ((s0 + s2) + (s1 + s3)) / (N * L)
    s0 = s1 = s2 = s3 = 0.0
    for n in range(N):
        seg = x[(n * C + c) * L:(n * C + c + 1) * L]
        for j in range(0, L4, 4):
            d0 = seg[j] - m
            d1 = seg[j + 1] - m
            d2 = seg[j + 2] - m
            d3 = seg[j + 3] - m
            s0 += d0 * d0
            s1 += d1 * d1
            s2 += d2 * d2
            s3 += d3 * d3
        for j in range(L4, L):
            d0 = seg[j] - m
            s0 += d0 * d0
    mean[c] = m
    var[c] = ((s0 + s2) + (s1 + s3)) / (N * L)


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
    L4 = L - L % 4
    a0 = a1 = a2 = a3 = 0.0
    b0 = b1 = b2 = b3 = 0.0
    for n in range(N):
        gs = g[(n * C + c) * L:(n * C + c + 1) * L]
        xs = x[(n * C + c) * L:(n * C + c + 1) * L]
        for j in range(0, L4, 4):
            g0 = gs[j]
            g1 = gs[j + 1]
            g2 = gs[j + 2]
            g3 = gs[j + 3]
            a0 += g0
            a1 += g1
            a2 += g2
            a3 += g3
            b0 += g0 * (xs[j] - m)
            b1 += g1 * (xs[j + 1] - m)
            b2 += g2 * (xs[j + 2] - m)
            b3 += g3 * (xs[j + 3] - m)
        for j in range(L4, L):
            a0 += gs[j]
            b0 += gs[j] * (xs[j] - m)
    sg[c] = (a0 + a2) + (a1 + a3)
    sgx[c] = (b0 + b2) + (b1 + b3)


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
