"""CUDA twins of copy.py: strided copy/cast (``copy_strided``, ``as_dtype``) and ``tril_mask_fill``.

One thread per element of the (dst-ordered, coalesced) view; shape and strides travel as one cached
int64 device array, so a kernel compiles once per dtype pair, never per ndim. Same-dtype moves run on
the unsigned int of the element width (``_bits``). Integer results go through int64 and are wrapped to
the destination width explicitly (the store would truncate anyway on a GPU, but the simulator's NumPy
raises on out-of-range stores). float16 casts go through float32 (from float16) or float64 (to
float16 from ints/bool), so only plain float<->float16 conversions ever see a half value.
"""
import numpy as np
from numba import cuda

from . import as_device, dev_ints, empty, launch
from ..copy import _coalesce2, _contig, _f2i_body, _ints, _numel

_UINT = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _bits(buf):
    """The same device memory as the unsigned int of its width."""
    return buf.view(_UINT[buf.dtype.itemsize])


@cuda.jit(device=True)
def _offsets(i, meta, nd):
    """Unravel element ``i`` over meta's shape; return its (src, dst) offsets."""
    so = 0
    do = 0
    for d in range(nd - 1, -1, -1):
        n = meta[d]
        c = i % n
        i //= n
        so += c * meta[nd + d]
        do += c * meta[2 * nd + d]
    return so, do


_f2i = cuda.jit(device=True)(_f2i_body)           # the CPU cast's float->int rule, compiled for the GPU


@cuda.jit(device=True)
def _wrap(v, nb, signed):
    """int64 ``v`` reduced modulo 2**nb into the range of an ``nb``-bit (un)signed int."""
    if nb >= 64:
        return v
    one = np.int64(1)
    m = v & ((one << nb) - one)
    if signed and m >= (one << (nb - one)):
        m -= one << nb
    return m


@cuda.jit(cache=True)
def _copy_kern(src, so, dst, do, meta, n):
    nd = meta.size // 3
    i = cuda.grid(1)
    s = cuda.gridsize(1)
    while i < n:
        a, b = _offsets(i, meta, nd)
        dst[do + b] = src[so + a]
        i += s


@cuda.jit(cache=True)
def _int_kern(src, so, dst, do, meta, n, mode, nb, signed):
    # mode 0: int/bool source; 1: float -> 32-bit conversion; 2: float -> 64-bit conversion
    nd = meta.size // 3
    i = cuda.grid(1)
    s = cuda.gridsize(1)
    while i < n:
        a, b = _offsets(i, meta, nd)
        if mode == 0:
            v = np.int64(src[so + a])
        else:
            v = _f2i(src[so + a], mode == 2)
        dst[do + b] = _wrap(v, nb, signed)
        i += s


def _run(src, so, ss, dst, do, ds, shape, numel):
    meta = dev_ints(list(shape) + list(ss) + list(ds))
    sk, dk = src.dtype.kind, dst.dtype.kind
    if src.dtype == dst.dtype:
        _copy_kern[launch(numel)](_bits(src), so, _bits(dst), do, meta, numel)
    elif dk in 'iu':
        mode = (2 if dst.dtype.itemsize == 8 else 1) if sk == 'f' else 0
        _int_kern[launch(numel)](src, so, dst, do, meta, numel, mode, dst.dtype.itemsize * 8, dk == 'i')
    else:
        _copy_kern[launch(numel)](src, so, dst, do, meta, numel)


def copy_strided(src, src_off, src_strides, dst, dst_off, dst_strides, shape):
    """dst[view] = cast(src[view]) on device buffers, torch cast rules (see the CPU copy_strided).

    ``src`` may also be a 1-element host buffer with zero strides (a scalar).
    """
    shape, ss, ds = _ints(shape), _ints(src_strides), _ints(dst_strides)
    numel = _numel(shape)
    if numel == 0:
        return
    src = as_device(src)
    so, do = int(src_off), int(dst_off)
    nd = len(shape)
    # iterate in dst order so neighbouring threads write neighbouring addresses
    if nd > 1 and any(abs(ds[d]) < abs(ds[d + 1]) for d in range(nd - 1)):
        order = sorted(range(nd), key=lambda d: (-abs(ds[d]), -abs(ss[d])))
        shape, ss, ds = [shape[d] for d in order], [ss[d] for d in order], [ds[d] for d in order]
    shape, ss, ds = _coalesce2(shape, ss, ds)
    if not shape:
        shape, ss, ds = [1], [0], [0]
    f16s, f16d = src.dtype == np.float16, dst.dtype == np.float16
    if f16s != f16d and ((f16s and dst.dtype.kind != 'f') or (f16d and src.dtype.kind != 'f')):
        tmp = empty(numel, np.float32 if f16s else np.float64)
        cs = _contig(shape)
        _run(src, so, ss, tmp, 0, cs, shape, numel)
        return _run(tmp, 0, cs, dst, do, ds, shape, numel)
    _run(src, so, ss, dst, do, ds, shape, numel)


def as_dtype(buf, off, strides, shape, dtype):
    """(buf, off, strides) unchanged when of ``dtype``, else a contiguous cast copy on the device."""
    if buf.dtype == dtype:
        return buf, off, strides
    shape = _ints(shape)
    out = empty(_numel(shape), dtype)
    copy_strided(buf, off, strides, out, 0, _contig(shape), shape)
    return out, 0, _contig(shape)


@cuda.jit(cache=True)
def _tril_kern(buf, off, rows, cols, k, upper, n):
    i = cuda.grid(1)
    s = cuda.gridsize(1)
    while i < n:
        r = i // cols
        d = i - r * cols - r % rows     # j - i of the matrix element
        if (upper and d < k) or (not upper and d > k):
            buf[off + i] = 0
        i += s


def tril_mask_fill(buf, rows, cols, batch, k, upper, off=0):
    """Zero a contiguous (batch, rows, cols) block in place: tril keeps j - i <= k, triu j - i >= k."""
    n = int(batch) * int(rows) * int(cols)
    if n == 0:
        return
    _tril_kern[launch(n)](_bits(buf), int(off), int(rows), int(cols), int(k), bool(upper), n)
