"""Strided copy and cast (``copy_strided``, ``as_dtype``), ``tril_mask_fill``, and the helpers shared
with the index and masked kernels (index.py, masked.py): size gates, shape/stride bookkeeping, the row
walker, bit views, scalar buffers.

Buffers are flat 1-D NumPy arrays; N-d operands are (buffer, offset, strides) with strides in
elements (0 = broadcast) and int64 shape arrays. Kernels iterate "rows" (all dims but the last) with an odometer
and run the last dim as a tight loop; parallel variants are separate functions chosen by size (``_par``;
``PARALLEL`` here switches the serial kernels on for copy.py, index.py and masked.py alike).
Pure data movement (copy without cast, tril) runs on the buffers viewed as the unsigned int of their width
(``_bits``), so it compiles once per element width (4 at most), not once per dtype, and also serves float16;
only casts see the real dtype. Casts from/to float16 fall back to NumPy.
Sections: helpers and row walker; strided move; cast, copy_strided and as_dtype; tril.
"""
import numpy as np
from numba import njit, prange, get_num_threads

from . import parallel_ok
from ._device import on_device, cuda_impl

PARALLEL = True        # switch off to force the serial kernels (also off when no safe layer loads)
PAR_MIN = 1 << 16      # elements; below this the serial kernels win
_TILE = 64
_UINT = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _par(n):
    return n >= PAR_MIN and PARALLEL and parallel_ok()


def _nchunks(rows):
    return max(1, min(rows, 8 * get_num_threads()))


def _arr(x):
    return np.asarray(x, dtype=np.int64)


def _numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def _ints(x):
    return x.tolist() if isinstance(x, np.ndarray) else list(x)


def _bits(buf):
    """The same memory as the unsigned int of its width (bit-exact moves, one compile per width)."""
    return buf.view(_UINT[buf.itemsize])


def _contig(shape):
    st, acc = [0] * len(shape), 1
    for d in range(len(shape) - 1, -1, -1):
        st[d] = acc if shape[d] != 1 else 0
        acc *= shape[d]
    return st


def coalesce(shape, *strides):
    """Drop size-1 dims and merge dims that are contiguous in every operand (order kept)."""
    sh, sts = [], [[] for _ in strides]
    for d, n in enumerate(shape):
        if n == 1:
            continue
        if sh and all(st[-1] == s[d] * n for st, s in zip(sts, strides)):
            sh[-1] *= n
            for st, s in zip(sts, strides):
                st[-1] = s[d]
        else:
            sh.append(n)
            for st, s in zip(sts, strides):
                st.append(s[d])
    return sh, sts


def _coalesce2(shape, s1, s2):
    sh, a, b = [], [], []
    for n, x, y in zip(shape, s1, s2):
        if n == 1:
            continue
        if sh and a[-1] == x * n and b[-1] == y * n:
            sh[-1] *= n
            a[-1] = x
            b[-1] = y
        else:
            sh.append(n)
            a.append(x)
            b.append(y)
    return sh, a, b


# ----------------------------------------------------------------------------- row walker
@njit(cache=True, error_model='numpy')
def _start(shape, r, s1, s2, s3, ctr):
    """Unravel row ``r`` (over dims [0, nd-1)) into ``ctr``; return the three operands' offsets."""
    o1 = o2 = o3 = 0
    for d in range(shape.size - 2, -1, -1):
        c = r % shape[d]
        r //= shape[d]
        ctr[d] = c
        o1 += c * s1[d]
        o2 += c * s2[d]
        o3 += c * s3[d]
    return o1, o2, o3


@njit(cache=True, error_model='numpy')
def _step(shape, s1, s2, s3, ctr):
    """Advance the row odometer; return the offset deltas of the three operands."""
    d1 = d2 = d3 = 0
    d = shape.size - 2
    while d >= 0:
        ctr[d] += 1
        d1 += s1[d]
        d2 += s2[d]
        d3 += s3[d]
        if ctr[d] < shape[d]:
            break
        d1 -= s1[d] * shape[d]
        d2 -= s2[d] * shape[d]
        d3 -= s3[d] * shape[d]
        ctr[d] = 0
        d -= 1
    return d1, d2, d3


# ----------------------------------------------------------------------------- strided move
# Indices are formed as uint64: the memory addressed is always valid, and unsigned indices skip
# Numba's negative-index wraparound test (which also blocks vectorisation).
@njit(cache=True, error_model='numpy')
def _move_row(src, so, ss, dst, do, ds, n):
    if ds == 1:
        d = dst[do:do + n]
        if ss == 1:
            s = src[so:so + n]
            for j in range(n):
                d[j] = s[j]
        else:
            for j in range(n):
                d[j] = src[np.uint64(so + j * ss)]
    else:
        for j in range(n):
            dst[np.uint64(do + j * ds)] = src[np.uint64(so + j * ss)]


@njit(cache=True, error_model='numpy')
def _move_rows(src, soff, sst, dst, doff, dst_, shape, r0, r1):
    nd = shape.size
    ctr = np.zeros(max(nd - 1, 1), np.int64)
    so, do, _ = _start(shape, r0, sst, dst_, sst, ctr)
    so += soff
    do += doff
    n, ss, ds = shape[nd - 1], sst[nd - 1], dst_[nd - 1]
    for _r in range(r0, r1):
        _move_row(src, so, ss, dst, do, ds, n)
        a, b, _ = _step(shape, sst, dst_, sst, ctr)
        so += a
        do += b


@njit(cache=True, error_model='numpy')
def _move_tiles(src, soff, sst, dst, doff, dst_, shape, t0, t1):
    # Tasks are strips of _TILE rows of the last two dims (outer dims unravelled per task), walked
    # in _TILE x _TILE tiles that stay in L1. A plain transpose (src stride 1 along rows, dst
    # stride 1 along columns) moves fixed 8x8 blocks, which LLVM unrolls into register shuffles
    # (3-4x faster than element rows); ragged edges and other strides move row by row.
    nd = shape.size
    n0, n1 = shape[nd - 2], shape[nd - 1]
    ss0, ss1, ds0, ds1 = sst[nd - 2], sst[nd - 1], dst_[nd - 2], dst_[nd - 1]
    nt = (n0 + _TILE - 1) // _TILE
    fast = ss0 == 1 and ds1 == 1
    for t in range(t0, t1):
        outer = t // nt
        i0 = (t - outer * nt) * _TILE
        i1 = min(i0 + _TILE, n0)
        so, do = soff, doff
        for d in range(nd - 3, -1, -1):
            c = outer % shape[d]
            outer //= shape[d]
            so += c * sst[d]
            do += c * dst_[d]
        for j0 in range(0, n1, _TILE):
            j1 = min(j0 + _TILE, n1)
            ib, jb = i1, j0
            if fast:
                ib, jb = i0 + (i1 - i0) // 8 * 8, j0 + (j1 - j0) // 8 * 8
                for ii in range(i0, ib, 8):
                    for jj in range(j0, jb, 8):
                        for a in range(8):
                            dr = dst[do + (ii + a) * ds0 + jj:do + (ii + a) * ds0 + jj + 8]
                            sb = so + ii + a + jj * ss1
                            for b in range(8):
                                dr[b] = src[np.uint64(sb + b * ss1)]
            for i in range(i0, i1):
                c0 = jb if i < ib else j0
                _move_row(src, so + i * ss0 + c0 * ss1, ss1, dst, do + i * ds0 + c0 * ds1, ds1, j1 - c0)


@njit(cache=True, error_model='numpy', parallel=True)
def _move_par(src, soff, dst, doff, meta, rows, ntask, nch):
    # One prange over tasks (a single parfor compiles much faster than one per layout):
    # tiles (ntask > 0), pieces of a single long row (1-D), or chunks of rows.
    nd = meta.size // 3
    sh, ss, ds = meta[:nd], meta[nd:2 * nd], meta[2 * nd:]
    ntot = ntask if ntask > 0 else nch
    for t in prange(ntot):
        t = np.int64(t)
        if ntask > 0:
            _move_tiles(src, soff, ss, dst, doff, ds, sh, t, t + 1)
        elif nd == 1:
            lo, hi = t * sh[0] // nch, (t + 1) * sh[0] // nch
            _move_row(src, soff + lo * ss[0], ss[0], dst, doff + lo * ds[0], ds[0], hi - lo)
        else:
            _move_rows(src, soff, ss, dst, doff, ds, sh, t * rows // nch, (t + 1) * rows // nch)


def _move(src, so, ss, dst, do, ds, shape, numel):
    """Same-width strided move on coalesced, dst-ordered dims (non-empty lists)."""
    nd = len(shape)
    if nd == 1 and not _par(numel):
        return _move_row(src, so, ss[0], dst, do, ds[0], numel)
    rows, ntask = numel // shape[-1], 0
    k = nd - 2  # the other dim tightest in src: tile it against the dst-inner dim
    for d in range(nd - 2):
        if abs(ss[d]) < abs(ss[k]):
            k = d
    if nd > 1 and abs(ss[-1]) > 1 and abs(ss[k]) < abs(ss[-1]) and shape[-1] >= 8 and shape[k] >= 8:
        if k != nd - 2:
            order = [d for d in range(nd - 1) if d != k] + [k, nd - 1]
            shape, ss, ds = [shape[d] for d in order], [ss[d] for d in order], [ds[d] for d in order]
        ntask = numel // (shape[-1] * shape[-2]) * ((shape[-2] + _TILE - 1) // _TILE)
    meta = _arr(shape + ss + ds)
    if _par(numel):
        _move_par(src, so, dst, do, meta, rows, ntask, _nchunks(numel // 4096 if nd == 1 else rows))
    elif ntask:
        _move_tiles(src, so, meta[nd:2 * nd], dst, do, meta[2 * nd:], meta[:nd], 0, ntask)
    else:
        _move_rows(src, so, meta[nd:2 * nd], dst, do, meta[2 * nd:], meta[:nd], 0, rows)


# ----------------------------------------------------------------------------- cast
def _f2i_body(v, wide):
    # x86/torch semantics: truncate toward zero; NaN/out of range -> INT_MIN of the 32- or
    # 64-bit conversion (narrower ints then wrap, so NaN -> 0 for int8/int16/uint8). Through
    # float64, so on a GPU a float16 never meets the half->int instruction (it rounds to nearest).
    # Also jitted as a CUDA device function by kernels/cuda/copy.py.
    x = np.float64(v)
    if wide:
        if x >= -9.223372036854775808e18 and x < 9.223372036854775808e18:
            return np.int64(x)
        return np.int64(-9223372036854775807 - 1)
    if x > -2147483649.0 and x < 2147483648.0:
        return np.int64(x)
    return np.int64(-2147483648)


_f2i = njit(cache=True, error_model='numpy')(_f2i_body)


@njit(cache=True, error_model='numpy')
def _cast_row(src, so, ss, dst, do, ds, n, mode):
    wide = mode == 2
    if ss == 1 and ds == 1:
        s = src[so:so + n]
        d = dst[do:do + n]
        if mode == 0:
            for j in range(n):
                d[j] = s[j]
        else:
            for j in range(n):
                d[j] = _f2i(s[j], wide)
    elif mode == 0:
        for j in range(n):
            dst[np.uint64(do + j * ds)] = src[np.uint64(so + j * ss)]
    else:
        for j in range(n):
            dst[np.uint64(do + j * ds)] = _f2i(src[np.uint64(so + j * ss)], wide)


@njit(cache=True, error_model='numpy', parallel=True)
def _cast_par(src, so, ss, dst, do, ds, n, mode, nch):
    for c in prange(nch):
        c = np.int64(c)
        lo, hi = c * n // nch, (c + 1) * n // nch
        _cast_row(src, so + lo * ss, ss, dst, do + lo * ds, ds, hi - lo, mode)


def _cast(src, so, ss, dst, do, ds, n):
    """1-D strided cast with torch rules (float->int: _f2i; ->bool: != 0, NaN -> True)."""
    mode = 0
    if src.dtype.kind == 'f' and dst.dtype.kind in 'iu':
        mode = 2 if dst.itemsize == 8 else 1
    if _par(n):
        _cast_par(src, so, ss, dst, do, ds, n, mode, _nchunks(n // 4096))
    else:
        _cast_row(src, so, ss, dst, do, ds, n, mode)


def _copy_numpy(src, src_off, ss, dst, dst_off, ds, shape):
    as_strided = np.lib.stride_tricks.as_strided
    s = as_strided(src[src_off:], shape, [x * src.itemsize for x in ss])
    d = as_strided(dst[dst_off:], shape, [x * dst.itemsize for x in ds])
    with np.errstate(all='ignore'):
        np.copyto(d, s, casting='unsafe')


def copy_strided(src, src_off, src_strides, dst, dst_off, dst_strides, shape):
    """dst[view] = cast(src[view]) for an N-d strided view on each side, torch cast rules.

    float->int truncates toward zero (NaN/overflow -> INT_MIN for int32/int64, 0 for narrower),
    ->bool is ``!= 0``. Dims are reordered by dst stride and coalesced; transposed layouts are
    copied in tiles; big copies run in parallel. An N-d strided cast goes through a contiguous
    temporary (a bit-exact move plus a 1-D cast), so casts compile per dtype pair only once.
    """
    if on_device(dst):
        return cuda_impl("copy").copy_strided(src, src_off, src_strides, dst, dst_off, dst_strides, shape)
    shape, ss, ds = _ints(shape), _ints(src_strides), _ints(dst_strides)
    numel = 1
    for n in shape:
        numel *= n
    if numel == 0:
        return
    so, do = int(src_off), int(dst_off)
    if src.dtype != dst.dtype and (src.dtype == np.float16 or dst.dtype == np.float16):
        return _copy_numpy(src, so, ss, dst, do, ds, shape)  # Numba has no float16 arithmetic
    nd = len(shape)
    if nd > 1 and any(abs(ds[d]) < abs(ds[d + 1]) for d in range(nd - 1)):
        order = sorted(range(nd), key=lambda d: (-abs(ds[d]), -abs(ss[d])))
        shape, ss, ds = [shape[d] for d in order], [ss[d] for d in order], [ds[d] for d in order]
    shape, ss, ds = _coalesce2(shape, ss, ds)
    if not shape:
        shape, ss, ds = [1], [0], [0]
    if src.dtype == dst.dtype:
        return _move(_bits(src), so, ss, _bits(dst), do, ds, shape, numel)
    if len(shape) == 1:
        return _cast(src, so, ss[0], dst, do, ds[0], numel)
    cs = _contig(shape)
    tmp = np.empty(numel, src.dtype)
    _move(_bits(src), so, ss, _bits(tmp), 0, cs, shape, numel)
    if all(ds[d] == ds[d + 1] * shape[d + 1] for d in range(len(shape) - 1)):
        return _cast(tmp, 0, 1, dst, do, ds[-1], numel)
    tmp2 = np.empty(numel, dst.dtype)
    _cast(tmp, 0, 1, tmp2, 0, 1, numel)
    _move(_bits(tmp2), 0, cs, _bits(dst), do, ds, shape, numel)


def as_dtype(buf, off, strides, shape, dtype):
    """(buf, off, strides) unchanged when of ``dtype``, else a contiguous cast copy of the view."""
    if on_device(buf):
        return cuda_impl("copy").as_dtype(buf, off, strides, shape, dtype)
    if buf.dtype == dtype:
        return buf, off, strides
    shape = _ints(shape)
    out = np.empty(_numel(shape), dtype)
    copy_strided(buf, off, strides, out, 0, _contig(shape), shape)
    return out, 0, _contig(shape)


def _scalar_src(src, dtype):
    """A 1-element buffer of ``dtype`` holding a scalar value (NumPy's unsafe cast)."""
    try:
        return np.array([src], dtype=dtype)
    except (OverflowError, ValueError):  # NaN/inf/out of range into an int dtype
        with np.errstate(all='ignore'):
            return np.asarray(src).astype(dtype).reshape(1)


@njit(cache=True, error_model='numpy')
def _tril_rows(buf, off, rows, cols, k, upper, r0, r1):
    for r in range(r0, r1):
        i = r % rows
        row = buf[off + r * cols:off + (r + 1) * cols]
        if upper:
            lo, hi = 0, min(max(i + k, 0), cols)
        else:
            lo, hi = min(max(i + k + 1, 0), cols), cols
        for j in range(lo, hi):
            row[j] = 0


@njit(cache=True, error_model='numpy', parallel=True)
def _tril_par(buf, off, rows, cols, k, upper, nrows, nch):
    for c in prange(nch):
        c = np.int64(c)
        _tril_rows(buf, off, rows, cols, k, upper, c * nrows // nch, (c + 1) * nrows // nch)


def tril_mask_fill(buf, rows, cols, batch, k, upper, off=0):
    """Zero a contiguous (batch, rows, cols) block in place: tril keeps j - i <= k, triu j - i >= k."""
    if on_device(buf):
        return cuda_impl("copy").tril_mask_fill(buf, rows, cols, batch, k, upper, off)
    nrows = int(batch) * int(rows)
    if nrows == 0 or cols == 0:
        return
    args = (_bits(buf), int(off), int(rows), int(cols), int(k), bool(upper))
    if _par(nrows * cols):
        _tril_par(*args, nrows, _nchunks(nrows))
    else:
        _tril_rows(*args, 0, nrows)
