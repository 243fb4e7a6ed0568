"""Batched matmul: float32/float64 through NumPy's BLAS, integer/bool through an njit kernel.

Integer products wrap like torch: the result is computed modulo 2**bits of the output dtype
(accumulating in that dtype or in int64 gives the same bits). bool is computed in int64 and
mapped back with ``!= 0`` (torch itself refuses bool matmul; the caller decides).
"""
import numpy as np
from numba import njit, prange

from ._device import on_device, cuda_impl
from .index import _nchunks, _numel
from . import index as _index
from . import blas_threads as _blas_threads
from time import perf_counter as _now

_BLAS = (np.dtype(np.float32), np.dtype(np.float64))


@njit(cache=True, error_model='numpy')
def _imm_rows(a, aoffs, b, boffs, out, n, k, m, r0, r1):
    # i-k-j order: the inner loop streams a row of b into a row of out (both contiguous)
    for r in range(r0, r1):
        bi = r // n
        i = r - bi * n
        ao = aoffs[bi] + i * k
        bo = boffs[bi]
        orow = out[r * m:(r + 1) * m]
        for j in range(m):
            orow[j] = 0
        arow = a[ao:ao + k]
        for p in range(k):
            v = arow[p]
            if v == 0:
                continue
            brow = b[bo + p * m:bo + (p + 1) * m]
            for j in range(m):
                orow[j] += v * brow[j]


@njit(cache=True, error_model='numpy', parallel=True)
def _imm_par(a, aoffs, b, boffs, out, n, k, m, rows, nch):
    for c in prange(nch):
        c = np.int64(c)
        _imm_rows(a, aoffs, b, boffs, out, n, k, m, c * rows // nch, (c + 1) * rows // nch)


def _batch_offsets(batch_shape, full_batch, size):
    nb = _numel(batch_shape)
    offs = (np.arange(nb, dtype=np.int64) * size).reshape(batch_shape)
    return np.array(np.broadcast_to(offs, full_batch), dtype=np.int64).ravel()  # writeable copy


def _int_matmul(a, b, out):
    n, k = a.shape[-2:]
    m = b.shape[-1]
    batch = out.shape[:-2]
    aoffs = _batch_offsets(a.shape[:-2], batch, n * k)
    boffs = _batch_offsets(b.shape[:-2], batch, k * m)
    flat = out.reshape(-1)
    av, bv = np.ascontiguousarray(a).reshape(-1), np.ascontiguousarray(b).reshape(-1)
    rows = flat.size // m if m else 0
    if rows == 0:
        return
    if rows > 1 and _index._par(rows * k * m):
        _imm_par(av, aoffs, bv, boffs, flat, n, k, m, rows, _nchunks(rows))
    else:
        _imm_rows(av, aoffs, bv, boffs, flat, n, k, m, 0, rows)


def matmul(a, b, out=None):
    """np.matmul semantics for contiguous arrays of one dtype (batch dims broadcast; 1-D operands
    are promoted and the added dim removed). Returns ``out`` (allocated when None)."""
    if on_device(a) or on_device(b):
        return cuda_impl("matmul").matmul(a, b, out)
    if a.dtype != b.dtype:
        raise TypeError("matmul: dtypes differ (%s, %s); promote first" % (a.dtype, b.dtype))
    if a.dtype in _BLAS:
        macs = a.size * (b.shape[-1] if b.ndim > 1 else 1)
        threads = _blas_threads.for_macs(macs)
        t0 = _now()
        res = np.matmul(a, b) if out is None else np.matmul(a, b, out=out)
        _blas_threads.observe(macs, _now() - t0, threads)
        return res
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    if a2.shape[-1] != b2.shape[-2]:
        raise ValueError("matmul: inner dimensions differ (%d vs %d)" % (a2.shape[-1], b2.shape[-2]))
    batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    shape = batch + (a2.shape[-2], b2.shape[-1])
    if a.dtype == np.bool_:
        res = np.empty(shape, np.int64)
        _int_matmul(a2.astype(np.int64), b2.astype(np.int64), res)
        res = res != 0
    else:
        res = np.empty(shape, a.dtype)
        _int_matmul(a2, b2, res)
    if a.ndim == 1:
        res = res[..., 0, :]
    if b.ndim == 1:
        res = res[..., 0]
    if out is None:
        return res
    out[...] = res
    return out


def dot(a, b):
    """1-D dot product; a 0-d array of the inputs' dtype (wrapping integer sum like torch)."""
    if on_device(a) or on_device(b):
        return cuda_impl("matmul").dot(a, b)
    if a.dtype in _BLAS:
        return np.asarray(np.dot(a, b), a.dtype)
    return np.asarray(matmul(a, b))


def outer(a, b):
    """Outer product of 1-D arrays, dtype kept (bool: logical and)."""
    if on_device(a) or on_device(b):
        return cuda_impl("matmul").outer(a, b)
    return np.multiply.outer(a, b)
