"""CUDA LU-based det / slogdet / inverse / solve for batches of row-major n x n matrices.

There is no CPU twin (the CPU front end calls NumPy's LAPACK); these functions serve the device
branch of ``numtorch.linalg``. Buffers are flat float32/float64 device arrays, matrix ``z`` at
``z * n * n``. ``lu`` factors in place with LAPACK getrf's pivot rule (the first row of largest
|value| in the column; a zero pivot sets ``info`` to its 1-based column and the factorization
goes on, as in getrf): one thread per matrix for n <= ``TINY``, else one block per matrix,
in shared memory up to ``SH_N`` (smaller under the simulator so tests reach the global-memory
path), in global memory above. Substitution (getrs) runs one thread per (matrix, right-hand column).
"""
import math

import numpy as np
from numba import cuda, float32, float64

from numtorch.kernels.cuda import SIM, block_threads, dev_ints, empty, flag, launch

TINY = 4                          # n up to this: one thread factors a whole matrix
SH_N = 8 if SIM else 64           # n up to this: the block works in shared memory (64*64*8 = 32 KiB)
_SH = SH_N * SH_N                 # (a literal for cuda.shared.array: a product in the kernel is not)
MAX_THREADS = 256                 # >= block_threads(): size of the pivot-search arrays


def _blocks(items):
    return max(1, min(int(items), 2 if SIM else 8192))


def _pow2_at_most(v, cap):
    t = 1
    while t * 2 <= min(v, cap):
        t *= 2
    return t


# ----------------------------------------------------------------------------- factorization
@cuda.jit(device=True)
def _factor_seq(m, base, n, piv, pbase):
    """Unblocked getf2 on m[base:base+n*n] by one thread; returns info (0 or first zero pivot, 1-based)."""
    info = 0
    for k in range(n):
        p = k
        best = abs(m[base + k * n + k])
        for i in range(k + 1, n):
            v = abs(m[base + i * n + k])
            if v > best:
                best = v
                p = i
        piv[pbase + k] = p
        if p != k:
            for j in range(n):
                t = m[base + k * n + j]
                m[base + k * n + j] = m[base + p * n + j]
                m[base + p * n + j] = t
        d = m[base + k * n + k]
        if d == 0:
            if info == 0:
                info = k + 1
            continue                       # the column below is zero too: nothing to eliminate
        for i in range(k + 1, n):
            f = m[base + i * n + k] / d
            m[base + i * n + k] = f
            for j in range(k + 1, n):
                m[base + i * n + j] -= f * m[base + k * n + j]
    return info


@cuda.jit(cache=True)
def _lu_tiny(a, piv, info, bad, batch, n):
    z = cuda.grid(1)
    s = cuda.gridsize(1)
    while z < batch:
        r = _factor_seq(a, z * n * n, n, piv, z * n)
        info[z] = r
        if r != 0:
            bad[0] = 1
        z += s


@cuda.jit(device=True)
def _factor_block(m, base, n, piv, pbase, rv, ri, tid, nt):
    """getf2 on m[base:base+n*n] by the whole block (nt a power of two); returns info on every thread."""
    info = 0
    for k in range(n):
        # pivot search: per-thread first maximum, then a tree that keeps the larger (ties: lower row)
        bv = -1.0
        bi = n
        i = k + tid
        while i < n:
            v = abs(m[base + i * n + k])
            if v > bv:
                bv = v
                bi = i
            i += nt
        rv[tid] = bv
        ri[tid] = bi
        cuda.syncthreads()
        h = nt // 2
        while h > 0:
            if tid < h:
                ov = rv[tid + h]
                oi = ri[tid + h]
                if ov > rv[tid] or (ov == rv[tid] and oi < ri[tid]):
                    rv[tid] = ov
                    ri[tid] = oi
            cuda.syncthreads()
            h //= 2
        p = ri[0]
        if p >= n:
            p = k                          # an all-NaN column: keep the diagonal
        cuda.syncthreads()                 # every thread has read ri[0] before the next column reuses it
        if p != k:
            j = tid
            while j < n:
                t = m[base + k * n + j]
                m[base + k * n + j] = m[base + p * n + j]
                m[base + p * n + j] = t
                j += nt
        if tid == 0:
            piv[pbase + k] = p
        cuda.syncthreads()
        d = m[base + k * n + k]
        if d == 0:
            if info == 0:
                info = k + 1
            continue                       # uniform across the block: every thread read the same d
        i = k + 1 + tid
        while i < n:
            m[base + i * n + k] = m[base + i * n + k] / d
            i += nt
        cuda.syncthreads()
        r = n - k - 1
        t = tid
        while t < r * r:
            i = k + 1 + t // r
            j = k + 1 + t % r
            m[base + i * n + j] -= m[base + i * n + k] * m[base + k * n + j]
            t += nt
        cuda.syncthreads()
    return info


@cuda.jit(device=True, inline=True)
def _lu_blocks(a, piv, info, bad, batch, n, sh, rv, ri):
    tid = cuda.threadIdx.x
    nt = cuda.blockDim.x
    nn = n * n
    z = cuda.blockIdx.x
    while z < batch:
        if n <= SH_N:
            t = tid
            while t < nn:
                sh[t] = a[z * nn + t]
                t += nt
            cuda.syncthreads()
            r = _factor_block(sh, 0, n, piv, z * n, rv, ri, tid, nt)
            t = tid
            while t < nn:
                a[z * nn + t] = sh[t]
                t += nt
        else:
            r = _factor_block(a, z * nn, n, piv, z * n, rv, ri, tid, nt)
        if tid == 0:
            info[z] = r
            if r != 0:
                bad[0] = 1
        cuda.syncthreads()                 # sh is reused by the next matrix
        z += cuda.gridDim.x


@cuda.jit(cache=True)
def _lu_f32(a, piv, info, bad, batch, n):
    sh = cuda.shared.array(_SH, float32)
    rv = cuda.shared.array(MAX_THREADS, float64)
    ri = cuda.shared.array(MAX_THREADS, np.int32)
    _lu_blocks(a, piv, info, bad, batch, n, sh, rv, ri)


@cuda.jit(cache=True)
def _lu_f64(a, piv, info, bad, batch, n):
    sh = cuda.shared.array(_SH, float64)
    rv = cuda.shared.array(MAX_THREADS, float64)
    ri = cuda.shared.array(MAX_THREADS, np.int32)
    _lu_blocks(a, piv, info, bad, batch, n, sh, rv, ri)


# ----------------------------------------------------------------------------- uses of the factors
@cuda.jit(device=True, inline=True)
def _log_abs(d, ninf):
    return math.log(abs(d)) if d != 0 else ninf   # (the simulator's math.log(0) raises)


@cuda.jit(cache=True)
def _det_k(lu, piv, out, batch, n, one):
    z = cuda.grid(1)
    s = cuda.gridsize(1)
    while z < batch:
        d = one
        for k in range(n):
            d *= lu[z * n * n + k * n + k]
            if piv[z * n + k] != k:
                d = -d
        out[z] = d
        z += s


@cuda.jit(cache=True)
def _slogdet_k(lu, piv, sign, logabs, batch, n, one, ninf):
    z = cuda.grid(1)
    s = cuda.gridsize(1)
    zero = one - one
    while z < batch:
        sg = one
        la = zero
        for k in range(n):
            d = lu[z * n * n + k * n + k]
            if d < zero:
                sg = -sg
            elif d == zero:
                sg = zero
            if piv[z * n + k] != k:
                sg = -sg
            la += _log_abs(d, ninf)
        sign[z] = sg
        logabs[z] = la
        z += s


@cuda.jit(cache=True)
def _eye_k(b, batch, n, one):
    i = cuda.grid(1)
    s = cuda.gridsize(1)
    nn = n * n
    while i < batch * nn:
        t = i % nn
        b[i] = one if t // n == t % n else one - one
        i += s


@cuda.jit(cache=True)
def _getrs_k(lu, piv, amap, mapped, b, batch, n, k):
    """b[z] <- A^-1 b[z], A the factored matrix amap[z] (z unless ``mapped``): a thread per (z, column)."""
    idx = cuda.grid(1)
    s = cuda.gridsize(1)
    while idx < batch * k:
        z = idx // k
        j = idx - z * k
        za = amap[z] if mapped else z
        lb = za * n * n
        pb = za * n
        bb = z * n * k + j
        for r in range(n):
            p = piv[pb + r]
            if p != r:
                t = b[bb + r * k]
                b[bb + r * k] = b[bb + p * k]
                b[bb + p * k] = t
        for r in range(n):
            acc = b[bb + r * k]
            for c in range(r):
                acc -= lu[lb + r * n + c] * b[bb + c * k]
            b[bb + r * k] = acc
        for r in range(n - 1, -1, -1):
            acc = b[bb + r * k]
            for c in range(r + 1, n):
                acc -= lu[lb + r * n + c] * b[bb + c * k]
            b[bb + r * k] = acc / lu[lb + r * n + r]
        idx += s


# ----------------------------------------------------------------------------- entry points
def lu(a, batch, n):
    """Factor the ``batch`` matrices of ``a`` in place (L below the diagonal, U on and above);
    returns (pivots: int32 device array of batch*n 0-based rows, singular flag: int32 device array)."""
    piv = empty(batch * n, np.int32)
    info = empty(batch, np.int32)
    bad = flag()
    if batch:
        if n <= TINY:
            _lu_tiny[launch(batch)](a, piv, info, bad, batch, n)
        else:
            kern = _lu_f64 if a.dtype == np.float64 else _lu_f32
            kern[_blocks(batch), _pow2_at_most(n * n, block_threads())](a, piv, info, bad, batch, n)
    return piv, bad


def det(a, batch, n):
    """Determinants (a device array of ``batch`` values); ``a`` is overwritten by its LU factors."""
    piv, _ = lu(a, batch, n)
    out = empty(batch, a.dtype)
    if batch:
        _det_k[launch(batch)](a, piv, out, batch, n, a.dtype.type(1))
    return out


def slogdet(a, batch, n):
    """(sign, log|det|) device arrays of ``batch`` values (0 and -inf for a singular matrix)."""
    piv, _ = lu(a, batch, n)
    sign, logabs = empty(batch, a.dtype), empty(batch, a.dtype)
    if batch:
        _slogdet_k[launch(batch)](a, piv, sign, logabs, batch, n, a.dtype.type(1), a.dtype.type(-np.inf))
    return sign, logabs


def inv(a, batch, n):
    """(inverses as a device array, singular): ``singular`` (a host bool) is True, and the inverse
    None, when some matrix has an exactly zero pivot (what LAPACK's getrf reports)."""
    piv, bad = lu(a, batch, n)
    if int(bad.copy_to_host()[0]):
        return None, True
    out = empty(batch * n * n, a.dtype)
    if batch and n:
        _eye_k[launch(batch * n * n)](out, batch, n, a.dtype.type(1))
        _getrs_k[launch(batch * n)](a, piv, dev_ints((0,)), 0, out, batch, n, n)
    return out, False


def solve(a, a_batch, b, batch, n, k):
    """Overwrite ``b`` (``batch`` shape of n x k matrices) with A^-1 b, A the matrices of ``a``
    (batch shape ``a_batch``, which broadcasts to ``batch``; ``a`` is overwritten by its factors,
    each factored once). Returns True (b untouched) when some A is singular."""
    na, nb = int(np.prod(a_batch, dtype=np.int64)), int(np.prod(batch, dtype=np.int64))
    if nb == 0:
        return False
    piv, bad = lu(a, na, n)
    if int(bad.copy_to_host()[0]):
        return True
    if n and k:
        mapped = tuple(a_batch) != tuple(batch)
        amap = (cuda.to_device(np.ascontiguousarray(np.broadcast_to(
            np.arange(na, dtype=np.int64).reshape(a_batch), batch)).reshape(-1)) if mapped else dev_ints((0,)))
        _getrs_k[launch(nb * k)](a, piv, amap, int(mapped), b, nb, n, k)
    return False
