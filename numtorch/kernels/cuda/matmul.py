"""CUDA twins of ``kernels.matmul``: ``matmul``, ``dot``, ``outer``.

Operands are shaped device arrays (what the CPU entry receives as NumPy arrays), results are
device arrays of the CPU result's shape. Products run a tiled shared-memory GEMM over 3-D views
(batch, rows, cols) with per-batch index maps for broadcast batch dims; matrix @ vector (one
output column, which includes dot) runs a one-block-per-output reduction instead, since a GEMM
tile would leave 15/16 of its threads idle. float32 accumulates in float32 and float64 in
float64 (like cuBLAS); integers and bool accumulate in int64 and are stored with the output
dtype's wrap-around (bool: ``!= 0``; narrow integers are summed into an int64 buffer and
wrapped by a second pass), matching the CPU kernel.
"""
import numpy as np
from numba import cuda, float32, float64, int64

from . import SIM, THREADS, block_threads, dev_ints, empty, launch

TILE = 16
_GRID_MAX = 65535                 # grid y/z limit (x is capped the same way for symmetry)


@cuda.jit(device=True, inline=True)
def _gemm(a, b, out, amap, bmap, sa, sb, zero):
    n = out.shape[1]
    m = out.shape[2]
    k = a.shape[2]
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    # the tile loops depend on block indices only, so every thread of a block reaches each
    # syncthreads() the same number of times
    z = cuda.blockIdx.z
    while z < out.shape[0]:
        za = amap[z]
        zb = bmap[z]
        by = cuda.blockIdx.y
        while by * TILE < n:
            i = by * TILE + ty
            bx = cuda.blockIdx.x
            while bx * TILE < m:
                j = bx * TILE + tx
                acc = zero
                for t in range(0, k, TILE):
                    p = t + tx
                    if i < n and p < k:
                        sa[ty, tx] = a[za, i, p]
                    else:
                        sa[ty, tx] = zero
                    q = t + ty
                    if q < k and j < m:
                        sb[ty, tx] = b[zb, q, j]
                    else:
                        sb[ty, tx] = zero
                    cuda.syncthreads()
                    for e in range(TILE):
                        acc += sa[ty, e] * sb[e, tx]
                    cuda.syncthreads()
                if i < n and j < m:
                    out[z, i, j] = acc
                bx += cuda.gridDim.x
            by += cuda.gridDim.y
        z += cuda.gridDim.z


@cuda.jit(cache=True)
def _gemm_f32(a, b, out, amap, bmap):
    sa = cuda.shared.array((TILE, TILE), float32)
    sb = cuda.shared.array((TILE, TILE), float32)
    _gemm(a, b, out, amap, bmap, sa, sb, float32(0))


@cuda.jit(cache=True)
def _gemm_f64(a, b, out, amap, bmap):
    sa = cuda.shared.array((TILE, TILE), float64)
    sb = cuda.shared.array((TILE, TILE), float64)
    _gemm(a, b, out, amap, bmap, sa, sb, float64(0))


@cuda.jit(cache=True)
def _gemm_int(a, b, out, amap, bmap):
    sa = cuda.shared.array((TILE, TILE), int64)
    sb = cuda.shared.array((TILE, TILE), int64)
    _gemm(a, b, out, amap, bmap, sa, sb, int64(0))


@cuda.jit(device=True, inline=True)
def _rowdot(a, b, out, amap, bmap, sm, zero):
    # out[z, i, 0] = sum_p a[za, i, p] * b[zb, p, 0]: one block per output, tree-reduced
    n = out.shape[1]
    k = a.shape[2]
    tid = cuda.threadIdx.x
    nt = cuda.blockDim.x
    r = cuda.blockIdx.x
    while r < out.shape[0] * n:
        z = r // n
        i = r - z * n
        za = amap[z]
        zb = bmap[z]
        acc = zero
        p = tid
        while p < k:
            # zero + x: the accumulator's type (numba would make uint8 * uint8 a uint64)
            acc += (zero + a[za, i, p]) * (zero + b[zb, p, 0])
            p += nt
        sm[tid] = acc
        cuda.syncthreads()
        s = nt // 2
        while s > 0:
            if tid < s:
                sm[tid] += sm[tid + s]
            cuda.syncthreads()
            s //= 2
        if tid == 0:
            out[z, i, 0] = sm[0]
        cuda.syncthreads()        # sm is reused by the next output
        r += cuda.gridDim.x


@cuda.jit(cache=True)
def _rowdot_f32(a, b, out, amap, bmap):
    sm = cuda.shared.array(THREADS, float32)
    _rowdot(a, b, out, amap, bmap, sm, float32(0))


@cuda.jit(cache=True)
def _rowdot_f64(a, b, out, amap, bmap):
    sm = cuda.shared.array(THREADS, float64)
    _rowdot(a, b, out, amap, bmap, sm, float64(0))


@cuda.jit(cache=True)
def _rowdot_int(a, b, out, amap, bmap):
    sm = cuda.shared.array(THREADS, int64)
    _rowdot(a, b, out, amap, bmap, sm, int64(0))


@cuda.jit(cache=True)
def _outer_k(a, b, out, m, total):
    # bool inputs multiply as integers; the store into a bool output makes it a logical and
    idx = cuda.grid(1)
    s = cuda.gridsize(1)
    while idx < total:
        i = idx // m
        out[idx] = a[i] * b[idx - i * m]
        idx += s


@cuda.jit(cache=True)
def _narrow_k(src, dst, mask, half, total):
    # int64 sums -> int8/16/32/uint8 with two's-complement wrap-around, done in int64 because a
    # narrowing store of an out-of-range value is not portable (the simulator rejects it)
    i = cuda.grid(1)
    s = cuda.gridsize(1)
    while i < total:
        v = src[i] & mask
        if half != 0 and v >= half:
            v -= mask + 1
        dst[i] = v
        i += s


_GEMM = {np.dtype(np.float32): _gemm_f32, np.dtype(np.float64): _gemm_f64}
_ROWDOT = {np.dtype(np.float32): _rowdot_f32, np.dtype(np.float64): _rowdot_f64}


def _same_device(a, b):
    from .._device import on_device
    if not (on_device(a) and on_device(b)):
        raise RuntimeError("Expected all tensors to be on the same device, but found at least two "
                           "devices, cuda:0 and cpu!")


def _contig(x):
    """``x`` if C-contiguous, else a contiguous device copy (reshape would misread other layouts)."""
    if x.is_c_contiguous():
        return x
    c = empty(x.size, x.dtype).reshape(x.shape)
    c[...] = x
    return c


def _view3(x, lead, rows, cols):
    return _contig(x).reshape(lead, rows, cols)


def _batch_map(batch, full):
    """Index of each broadcast batch entry in an operand with batch shape ``batch``."""
    nb = int(np.prod(batch, dtype=np.int64))
    idx = np.broadcast_to(np.arange(nb, dtype=np.int64).reshape(batch), full).ravel()
    return dev_ints(idx)


def matmul(a, b, out=None):
    """np.matmul semantics for device arrays of one dtype (batch dims broadcast; 1-D operands are
    promoted and the added dim removed). Returns ``out`` (allocated when None)."""
    _same_device(a, b)
    if a.dtype != b.dtype:
        raise TypeError("matmul: dtypes differ (%s, %s); promote first" % (a.dtype, b.dtype))
    if a.dtype.kind == "f" and a.dtype not in _GEMM:
        raise TypeError("matmul: %s is computed in float32 by the caller" % a.dtype)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: Input operand does not have enough dimensions")
    ashape = (1,) + tuple(a.shape) if a.ndim == 1 else tuple(a.shape)
    bshape = tuple(b.shape) + (1,) if b.ndim == 1 else tuple(b.shape)
    if ashape[-1] != bshape[-2]:
        raise ValueError("matmul: inner dimensions differ (%d vs %d)" % (ashape[-1], bshape[-2]))
    n, k = ashape[-2:]
    m = bshape[-1]
    batch = np.broadcast_shapes(ashape[:-2], bshape[:-2])
    shape = batch + (n, m)
    rshape = shape[:-2] + ((n,) if a.ndim > 1 else ()) + ((m,) if b.ndim > 1 else ())
    if out is not None and tuple(out.shape) != rshape:
        raise ValueError("matmul: out has shape %s, expected %s" % (tuple(out.shape), rshape))
    direct = out is not None and out.is_c_contiguous()
    total = int(np.prod(shape, dtype=np.int64))
    res = out if direct else empty(total, a.dtype)
    narrow = a.dtype.kind in "iu" and a.dtype.itemsize < 8
    if total:
        nb = int(np.prod(batch, dtype=np.int64))
        a3 = _view3(a, int(np.prod(ashape[:-2], dtype=np.int64)), n, k)
        b3 = _view3(b, int(np.prod(bshape[:-2], dtype=np.int64)), k, m)
        wide = empty(total, np.int64) if narrow else res
        o3 = wide.reshape(nb, n, m)
        amap = _batch_map(ashape[:-2], batch)
        bmap = _batch_map(bshape[:-2], batch)
        if m == 1:
            kern = _ROWDOT.get(a.dtype, _rowdot_int)
            nt = block_threads()
            blocks = 1 if SIM else min(nb * n, _GRID_MAX * 32)
            kern[blocks, nt](a3, b3, o3, amap, bmap)
        else:
            kern = _GEMM.get(a.dtype, _gemm_int)
            grid = (1, 1, 1) if SIM else (min(-(-m // TILE), _GRID_MAX), min(-(-n // TILE), _GRID_MAX),
                                          min(nb, _GRID_MAX))
            kern[grid, (TILE, TILE)](a3, b3, o3, amap, bmap)
        if narrow:
            bits = 8 * a.dtype.itemsize
            half = 1 << (bits - 1) if a.dtype.kind == "i" else 0
            _narrow_k[launch(total)](wide, res.reshape(total), np.int64((1 << bits) - 1), np.int64(half), total)
    if direct:
        return out
    res = res.reshape(rshape)
    if out is None:
        return res
    out[...] = res
    return out


def dot(a, b):
    """1-D dot product: a 0-d device array of the inputs' dtype (wrapping integer sum like torch)."""
    return matmul(a, b)


def outer(a, b):
    """Outer product of 1-D device arrays, dtype kept (bool: logical and)."""
    _same_device(a, b)
    n, m = a.shape[0], b.shape[0]
    res = empty(n * m, np.result_type(a.dtype, b.dtype))
    if n * m:
        _outer_k[launch(n * m)](a, b, res, m, n * m)
    return res.reshape(n, m)
