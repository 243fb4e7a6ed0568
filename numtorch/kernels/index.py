"""Strided copy/cast, gather/scatter, index_*, masked, nonzero and take kernels.

Buffers are flat 1-D NumPy arrays; N-d operands are (buffer, offset, strides) with strides in
elements (0 = broadcast) and int64 shape arrays. Numba does not bounds-check: callers validate
indices first (``check_range``). Kernels iterate "rows" (all dims but the last) with an odometer
and run the last dim as a tight loop; parallel variants are separate functions chosen by size.

Pure data movement (copy without cast, gather, take, masked select/fill, scatter without reduce)
runs on the buffers viewed as the unsigned int of their width (``_bits``), so those kernels
compile once per element width (4 at most), not once per dtype, and also serve float16; only
casts and arithmetic scatter reductions see the real dtype (nonzero tests the bits with a float's
sign bit masked). Casts from/to float16 fall back to NumPy.
Sections: helpers and row walker; strided move, cast and copy_strided (+ tril); index checks;
gather/scatter/index_*; masked ops; nonzero; take and advanced-indexing offsets.
"""
import numpy as np
from numba import njit, prange, get_num_threads

from . import parallel_ok

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
@njit(cache=True, error_model='numpy')
def _f2i(v, wide):
    # x86/torch semantics: truncate toward zero; NaN/out of range -> INT_MIN of the 32- or
    # 64-bit conversion (narrower ints then wrap, so NaN -> 0 for int8/int16/uint8).
    if wide:
        if v >= -9.223372036854775808e18 and v < 9.223372036854775808e18:
            return np.int64(v)
        return np.int64(-9223372036854775807 - 1)
    if v > -2147483649.0 and v < 2147483648.0:
        return np.int64(v)
    return np.int64(-2147483648)


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
    if buf.dtype == dtype:
        return buf, off, strides
    shape = _ints(shape)
    out = np.empty(_numel(shape), dtype)
    copy_strided(buf, off, strides, out, 0, _contig(shape), shape)
    return out, 0, _contig(shape)


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
    nrows = int(batch) * int(rows)
    if nrows == 0 or cols == 0:
        return
    args = (_bits(buf), int(off), int(rows), int(cols), int(k), bool(upper))
    if _par(nrows * cols):
        _tril_par(*args, nrows, _nchunks(nrows))
    else:
        _tril_rows(*args, 0, nrows)


# ----------------------------------------------------------------------------- index checks
@njit(cache=True, error_model='numpy')
def _check_range(idx, lo, hi):
    mn, mx = idx[0], idx[0]
    for i in range(idx.size):
        v = idx[i]
        mn = min(mn, v)
        mx = max(mx, v)
    if mn >= lo and mx < hi:
        return True, np.int64(0)
    for i in range(idx.size):
        if idx[i] < lo or idx[i] >= hi:
            return False, np.int64(idx[i])
    return True, np.int64(0)


def check_range(idx, n, allow_negative=True):
    """(ok, first bad value) for an int64 index buffer against a dim of size ``n``.

    Negative indices >= -n pass when ``allow_negative`` (advanced indexing, take); gather/scatter/
    index_* in torch reject negatives, so call those with ``allow_negative=False``.
    """
    if idx.size == 0:
        return True, 0
    ok, bad = _check_range(idx, -int(n) if allow_negative else 0, int(n))
    return bool(ok), int(bad)


@njit(cache=True, error_model='numpy')
def _wrap_negative(idx, n, out):
    s = idx[:idx.size]
    o = out[:idx.size]
    for i in range(idx.size):
        v = s[i]
        o[i] = v + n if v < 0 else v


def wrap_negative(idx, n, out=None):
    """Index buffer with negatives shifted by ``n`` (``out=idx`` works in place)."""
    if out is None:
        out = np.empty(idx.size, np.int64)
    if idx.size:
        _wrap_negative(idx, int(n), out)
    return out


# ----------------------------------------------------------------------------- gather / scatter
# Both walk an iteration shape S. gather: out (contiguous over S)[p] = x[xo + <p, xs> + I[p]*xsd];
# scatter: a[ao + <p, as> + I[p]*asd] (op)= alpha * b[bo + <p, bs>]. The indexed dim has stride 0
# in xs/as; I[p] = idx[<p, istr>] (istr 0 in broadcast dims: that is how index_select/index_add
# reuse these kernels). Negative indices are wrapped with the indexed dim's size.
@njit(cache=True, error_model='numpy')
def _gather_rows(x, xo, xs, xsd, xn, idx, istr, out, shape, r0, r1):
    nd = shape.size
    n = shape[nd - 1]
    ctr = np.zeros(max(nd - 1, 1), np.int64)
    xo_, io, _ = _start(shape, r0, xs, istr, istr, ctr)
    xo_ += xo
    xs1, is1 = xs[nd - 1], istr[nd - 1]
    for r in range(r0, r1):
        o = out[r * n:(r + 1) * n]
        if is1 == 0:  # one index per row (index_select along a non-last dim): a row copy
            v = idx[np.uint64(io)]
            if v < 0:
                v += xn
            _move_row(x, xo_ + v * xsd, xs1, o, 0, 1, n)
        else:
            for j in range(n):
                v = idx[np.uint64(io + j * is1)]
                if v < 0:
                    v += xn
                o[j] = x[np.uint64(xo_ + j * xs1 + v * xsd)]
        a, b, _ = _step(shape, xs, istr, istr, ctr)
        xo_ += a
        io += b


@njit(cache=True, error_model='numpy', parallel=True)
def _gather_par(x, xo, xs, xsd, xn, idx, istr, out, shape, rows, nch):
    for c in prange(nch):
        c = np.int64(c)
        _gather_rows(x, xo, xs, xsd, xn, idx, istr, out, shape, c * rows // nch, (c + 1) * rows // nch)


@njit(cache=True, error_model='numpy')
def _scatter_rows(a, ao, ast, asd, an, idx, istr, b, bo, bst, shape, op, alpha, r0, r1, c0, c1, v0, v1):
    # rows [r0, r1) x columns [c0, c1) of the iteration shape; only indices in [v0, v1) are applied
    nd = shape.size
    ctr = np.zeros(max(nd - 1, 1), np.int64)
    ao_, io, bo_ = _start(shape, r0, ast, istr, bst, ctr)
    ao_ += ao
    bo_ += bo
    as1, is1, bs1 = ast[nd - 1], istr[nd - 1], bst[nd - 1]
    for _r in range(r0, r1):
        if is1 == 0 and as1 == 1 and bs1 == 1 and op <= 1:
            # one index per row, contiguous runs (index_add / index_copy, embedding backward)
            v = idx[np.uint64(io)]
            if v < 0:
                v += an
            k0 = ao_ + v * asd
            ar = a[k0 + c0:k0 + c1]
            br = b[bo_ + c0:bo_ + c1]
            if v < v0 or v >= v1:
                pass
            elif op == 0:
                for j in range(c1 - c0):
                    ar[j] = br[j]
            else:
                for j in range(c1 - c0):
                    ar[j] += alpha * br[j]
            c1_ = c0  # skip the generic loop
        else:
            c1_ = c1
        for j in range(c0, c1_):
            v = idx[np.uint64(io + j * is1)]
            if v < 0:
                v += an
            if v < v0 or v >= v1:
                continue
            k = np.uint64(ao_ + j * as1 + v * asd)
            s = b[np.uint64(bo_ + j * bs1)]
            if op == 0:
                a[k] = s
            elif op == 1:
                a[k] += alpha * s
            elif op == 2:
                a[k] *= s
            elif op == 3:
                if s != s or s > a[k]:  # NaN propagates (self NaN stays: comparisons fail)
                    a[k] = s
            else:
                if s != s or s < a[k]:
                    a[k] = s
        d1, d2, d3 = _step(shape, ast, istr, bst, ctr)
        ao_ += d1
        io += d2
        bo_ += d3


@njit(cache=True, error_model='numpy', parallel=True)
def _scatter_par(a, ao, ast, asd, an, idx, istr, b, bo, bst, shape, op, alpha, rows, split, nch):
    # Race-free splits: 0 by rows (the indexed dim is the last one, so rows differ in a
    # non-indexed coordinate), 1 by column ranges of the last dim, 2 by ranges of index values
    # (every task scans all rows and applies only its own targets: one index per row).
    n = shape[shape.size - 1]
    big = np.int64(1) << 62
    for c in prange(nch):
        c = np.int64(c)
        if split == 0:
            _scatter_rows(a, ao, ast, asd, an, idx, istr, b, bo, bst, shape, op, alpha,
                          c * rows // nch, (c + 1) * rows // nch, 0, n, -big, big)
        elif split == 1:
            _scatter_rows(a, ao, ast, asd, an, idx, istr, b, bo, bst, shape, op, alpha, 0, rows,
                          c * n // nch, (c + 1) * n // nch, -big, big)
        else:
            _scatter_rows(a, ao, ast, asd, an, idx, istr, b, bo, bst, shape, op, alpha, 0, rows,
                          0, n, c * an // nch, (c + 1) * an // nch)


def _gather_call(x, xo, xs, dim, xn, idx, istr, shape, out):
    shape = list(shape) or [1]
    numel = _numel(shape)
    if numel == 0:
        return out
    xs = list(xs) or [0]
    xsd = xs[dim]
    xs[dim] = 0
    rows = numel // shape[-1]
    if out.dtype != x.dtype:
        raise TypeError("gather: out dtype %s differs from input dtype %s" % (out.dtype, x.dtype))
    args = (_bits(x), int(xo), _arr(xs), xsd, int(xn), idx, _arr(istr or [0]), _bits(out),
            _arr(shape), rows)
    if _par(numel) and rows > 1:
        _gather_par(*args, _nchunks(rows))
    else:
        _gather_rows(*args[:-1], 0, rows)
    return out


def gather(x, x_off, x_strides, idx, idx_shape, dim, out, dim_size=0):
    """torch.gather: out[p] = x[p with p[dim] = idx[p]]; idx and out contiguous of idx_shape.

    ``dim_size`` (x.shape[dim]) is only used to wrap negative indices (torch rejects them).
    """
    shape = _ints(idx_shape)
    return _gather_call(x, x_off, _ints(x_strides), dim, dim_size, idx, _contig(shape), shape, out)


def index_select(x, x_off, x_strides, shape, dim, idx, out):
    """out (contiguous, shape[dim] = len(idx)) = x.index_select(dim, idx)."""
    shape = _ints(shape)
    oshape = list(shape)
    oshape[dim] = idx.size
    istr = [0] * len(shape)
    istr[dim] = 1
    return _gather_call(x, x_off, _ints(x_strides), dim, shape[dim], idx, istr, oshape, out)


_OPS = {None: 0, 'add': 1, 'sum': 1, 'multiply': 2, 'prod': 2, 'amax': 3, 'amin': 4}


def _scatter_call(a, ao, ast, dim, an, idx, istr, b, bo, bst, shape, op, alpha):
    shape = list(shape) or [1]
    numel = _numel(shape)
    if numel == 0:
        return
    nd = len(shape)
    ast = list(ast) or [0]
    asd = ast[dim]
    ast[dim] = 0
    rows = numel // shape[-1]
    b, bo, bst = as_dtype(b, bo, bst, shape, a.dtype)
    op = _OPS[op]
    if op == 0:  # plain assignment moves bits: compiled per width, not per dtype
        a, b = _bits(a), _bits(b)
    alpha = a.dtype.type(alpha)
    args = (a, int(ao), _arr(ast), asd, int(an), idx, _arr(istr or [0]), b, int(bo),
            _arr(bst or [0]), _arr(shape), op, alpha, rows)
    if not _par(numel):
        split = -1
    elif dim == nd - 1:
        split, nch = (0, _nchunks(rows)) if rows > 1 else (-1, 1)
    elif istr[-1] == 0 and an > 1:
        split, nch = 2, min(an, get_num_threads())
    else:
        split, nch = (1, _nchunks(shape[-1] // 32)) if shape[-1] >= 64 else (-1, 1)
    if split >= 0 and nch > 1:
        _scatter_par(*args, split, nch)
    else:
        _scatter_rows(*args[:-1], 0, rows, 0, shape[-1], -(1 << 62), 1 << 62)


def _scalar_src(src, dtype):
    """A 1-element buffer of ``dtype`` holding a scalar value (NumPy's unsafe cast)."""
    try:
        return np.array([src], dtype=dtype)
    except (OverflowError, ValueError):  # NaN/inf/out of range into an int dtype
        with np.errstate(all='ignore'):
            return np.asarray(src).astype(dtype).reshape(1)


def scatter(self_buf, self_off, self_strides, idx, idx_shape, dim, src, src_off, src_strides,
            reduce=None, dim_size=None):
    """In-place torch.scatter / scatter_reduce(include_self=True) over idx (contiguous, idx_shape).

    reduce: None, 'add'/'sum', 'multiply'/'prod', 'amax', 'amin'. ``src`` may be a Python scalar
    (or pass a 1-element buffer with zero strides). ``dim_size`` (self.shape[dim]) only matters
    for wrapping negative indices.
    """
    shape = _ints(idx_shape)
    if not isinstance(src, np.ndarray):
        src, src_off, src_strides = _scalar_src(src, self_buf.dtype), 0, [0] * len(shape)
    n = self_buf.size if dim_size is None else dim_size
    _scatter_call(self_buf, self_off, _ints(self_strides), dim, n, idx, _contig(shape), src,
                  src_off, _ints(src_strides), shape, reduce, 1)


def _index_scatter(self_buf, self_off, self_strides, shape, dim, idx, src, op, alpha):
    shape = _ints(shape)
    sshape = list(shape)
    sshape[dim] = idx.size
    istr = [0] * len(shape)
    istr[dim] = 1
    if isinstance(src, np.ndarray) and src.ndim > 0:
        bst = _contig(sshape)
    else:
        src, bst = _scalar_src(src, self_buf.dtype), [0] * len(shape)
    _scatter_call(self_buf, self_off, _ints(self_strides), dim, shape[dim], idx, istr, src, 0,
                  bst, sshape, op, alpha)


def index_add(self_buf, self_off, self_strides, shape, dim, idx, src, alpha=1):
    """self.index_add_(dim, idx, src, alpha=alpha); shape is self's, src contiguous."""
    _index_scatter(self_buf, self_off, self_strides, shape, dim, idx, src, 'add', alpha)


def index_copy(self_buf, self_off, self_strides, shape, dim, idx, src):
    """self.index_copy_(dim, idx, src); src contiguous with shape[dim] = len(idx)."""
    _index_scatter(self_buf, self_off, self_strides, shape, dim, idx, src, None, 1)


def index_fill(self_buf, self_off, self_strides, shape, dim, idx, value):
    """self.index_fill_(dim, idx, value)."""
    _index_scatter(self_buf, self_off, self_strides, shape, dim, idx, value, None, 1)


# ----------------------------------------------------------------------------- masked ops
@njit(cache=True, error_model='numpy')
def _mfill_rows(a, ao, m, mo, meta, v, r0, r1):
    nd = meta.size // 3
    shape, ast, mst = meta[:nd], meta[nd:2 * nd], meta[2 * nd:]
    n, as1, ms1 = shape[nd - 1], ast[nd - 1], mst[nd - 1]
    ctr = np.zeros(max(nd - 1, 1), np.int64)
    ao_, mo_, _ = _start(shape, r0, ast, mst, mst, ctr)
    ao_ += ao
    mo_ += mo
    for _r in range(r0, r1):
        if as1 == 1 and ms1 == 1:
            ar = a[ao_:ao_ + n]
            mr = m[mo_:mo_ + n]
            for j in range(n):
                ar[j] = v if mr[j] else ar[j]
        else:
            for j in range(n):
                if m[np.uint64(mo_ + j * ms1)]:
                    a[np.uint64(ao_ + j * as1)] = v
        d1, d2, _ = _step(shape, ast, mst, mst, ctr)
        ao_ += d1
        mo_ += d2


@njit(cache=True, error_model='numpy', parallel=True)
def _mfill_par(a, ao, m, mo, meta, v, rows, nch):
    for c in prange(nch):
        c = np.int64(c)
        _mfill_rows(a, ao, m, mo, meta, v, c * rows // nch, (c + 1) * rows // nch)


def masked_fill(self_buf, off, strides, shape, mask, mask_off, mask_strides, value):
    """In place: self[mask] = value (mask bool, broadcast through zero strides)."""
    shape, ast, mst = _coalesce2(_ints(shape), _ints(strides), _ints(mask_strides))
    if 0 in shape:
        return
    shape, ast, mst = (shape, ast, mst) if shape else ([1], [0], [0])
    v = _bits(_scalar_src(value, self_buf.dtype))[0]
    _mfill(_bits(self_buf), int(off), ast, shape, mask, int(mask_off), mst, v)


def _mfill(a, off, ast, shape, mask, mask_off, mst, v):
    numel = _numel(shape)
    rows = numel // shape[-1]
    if len(shape) == 1 and _par(numel):  # split the single row so the parallel loop has work
        m = numel % 4096
        if m:
            _mfill(a, off + (numel - m) * ast[0], ast, [m], mask, mask_off + (numel - m) * mst[0], mst, v)
        shape, ast, mst = [numel // 4096, 4096], [4096 * ast[0], ast[0]], [4096 * mst[0], mst[0]]
        rows = numel // 4096
    args = (a, off, mask, mask_off, _arr(shape + ast + mst), v)
    if _par(numel) and rows > 1:
        _mfill_par(*args, rows, _nchunks(rows))
    else:
        _mfill_rows(*args, 0, rows)


@njit(cache=True, error_model='numpy')
def _mask_counts(mask, nch):
    n = mask.size
    out = np.zeros(nch, np.int64)
    for c in range(nch):
        m = mask[c * n // nch:(c + 1) * n // nch]
        k = 0
        for i in range(m.size):
            k += m[i]
        out[c] = k
    return out


@njit(cache=True, error_model='numpy', parallel=True)
def _mask_counts_par(mask, nch):
    n = mask.size
    out = np.zeros(nch, np.int64)
    for c in prange(nch):
        c = np.int64(c)
        m = mask[c * n // nch:(c + 1) * n // nch]
        k = 0
        for i in range(m.size):
            k += m[i]
        out[c] = k
    return out


@njit(cache=True, error_model='numpy')
def _mask_move(a, mask, b, starts, c, nch, select):
    # select: b[starts[c]:] <- a[mask] ; else a[mask] <- b[starts[c]:] (masked_scatter)
    n = mask.size
    lo, hi = c * n // nch, (c + 1) * n // nch
    k = starts[c]
    m = mask[lo:hi]
    ar = a[lo:hi]
    for i in range(hi - lo):
        if m[i]:
            if select:
                b[k] = ar[i]
            else:
                ar[i] = b[k]
            k += 1


@njit(cache=True, error_model='numpy', parallel=True)
def _mask_move_par(a, mask, b, starts, nch, select):
    for c in prange(nch):
        _mask_move(a, mask, b, starts, np.int64(c), nch, select)


def _mask_starts(mask):
    nch = _nchunks(mask.size // 4096) if _par(mask.size) else 1
    counts = (_mask_counts_par if nch > 1 else _mask_counts)(mask, nch)
    starts = np.zeros(nch, np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    return starts, int(counts.sum()), nch


def _mask_moves(a, mask, b, starts, nch, select):
    if nch > 1:
        _mask_move_par(a, mask, b, starts, nch, select)
    else:
        _mask_move(a, mask, b, starts, 0, 1, select)


def masked_select(x, mask):
    """x[mask] for contiguous, same-size 1-D buffers (mask bool) -> new 1-D array."""
    if x.size == 0:
        return np.empty(0, x.dtype)
    starts, total, nch = _mask_starts(mask)
    out = np.empty(total, x.dtype)
    _mask_moves(_bits(x), mask, _bits(out), starts, nch, True)
    return out


def masked_scatter(self_buf, mask, src):
    """In place: self[mask] = src[:mask.sum()] (contiguous, same size; src flat, self's dtype)."""
    if self_buf.size == 0:
        return
    starts, total, nch = _mask_starts(mask)
    if src.size < total:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    src = as_dtype(src, 0, [1], [src.size], self_buf.dtype)[0]
    _mask_moves(_bits(self_buf), mask, _bits(src), starts, nch, False)


# ----------------------------------------------------------------------------- nonzero
@njit(cache=True, error_model='numpy')
def _nz_rows(x, xo, xs, shape, r0, r1, out, k, m):
    # x holds bits: element != 0 <=> (bits & m) != 0 (m drops the sign bit of floats: -0.0 == 0).
    # Counts (k < 0: returns the count) or writes coordinates from row k of out.
    nd = shape.size
    n, xs1 = shape[nd - 1], xs[nd - 1]
    ctr = np.zeros(max(nd - 1, 1), np.int64)
    o, _, _ = _start(shape, r0, xs, xs, xs, ctr)
    o += xo
    cnt = 0
    for _r in range(r0, r1):
        if k < 0:
            for j in range(n):
                cnt += (x[np.uint64(o + j * xs1)] & m) != 0
        else:
            for j in range(n):
                if (x[np.uint64(o + j * xs1)] & m) != 0:
                    for d in range(nd - 1):
                        out[k, d] = ctr[d]
                    out[k, nd - 1] = j
                    k += 1
        d1, _, _ = _step(shape, xs, xs, xs, ctr)
        o += d1
    return cnt


@njit(cache=True, error_model='numpy', parallel=True)
def _nz_par(x, xo, xs, shape, rows, out, starts, m):
    # starts[0] < 0: fill starts with per-chunk counts; else write coordinates
    nch = starts.size
    count = starts[0] < 0
    for c in prange(nch):
        c = np.int64(c)
        r0, r1 = c * rows // nch, (c + 1) * rows // nch
        if count:
            starts[c] = _nz_rows(x, xo, xs, shape, r0, r1, out, -1, m)
        else:
            _nz_rows(x, xo, xs, shape, r0, r1, out, starts[c], m)


def nonzero(x, x_off, x_strides, shape):
    """Row-major coordinates of nonzero elements as an int64 array of shape (nnz, ndim)."""
    shape, xs = _ints(shape), _ints(x_strides)
    nd = len(shape)
    if nd == 0:
        return np.zeros((int(x[x_off] != 0), 0), np.int64)
    numel = _numel(shape)
    if numel == 0:
        return np.zeros((0, nd), np.int64)
    rows = numel // shape[-1]
    u = _UINT[x.itemsize]
    m = u((1 << (8 * x.itemsize - (x.dtype.kind == 'f'))) - 1)  # floats: ignore the sign bit
    args = (_bits(x), int(x_off), _arr(xs), _arr(shape), rows)
    empty = np.zeros((0, 0), np.int64)
    if _par(numel) and rows > 1:
        starts = np.full(_nchunks(rows), -1, np.int64)
        _nz_par(*args, empty, starts, m)
        total = int(starts.sum())
        starts[1:] = np.cumsum(starts[:-1])
        starts[0] = 0
        out = np.empty((total, nd), np.int64)
        if total:
            _nz_par(*args, out, starts, m)
        return out
    total = _nz_rows(*args[:-1], 0, rows, empty, -1, m)
    out = np.empty((total, nd), np.int64)
    if total:
        _nz_rows(*args[:-1], 0, rows, out, 0, m)
    return out


# ----------------------------------------------------------------------------- take / offsets
@njit(cache=True, error_model='numpy')
def _take_rng(x, xo, meta, numel, idx, out, lo, hi):
    nd = meta.size // 2
    shape, st = meta[:nd], meta[nd:]
    for i in range(lo, hi):
        v = idx[i]
        if v < 0:
            v += numel
        o = xo
        if nd == 1:
            o += v * st[0]
        else:
            for d in range(nd - 1, -1, -1):
                o += (v % shape[d]) * st[d]
                v //= shape[d]
        out[i] = x[np.uint64(o)]


@njit(cache=True, error_model='numpy', parallel=True)
def _take_par(x, xo, meta, numel, idx, out, nch):
    n = idx.size
    for c in prange(nch):
        c = np.int64(c)
        _take_rng(x, xo, meta, numel, idx, out, c * n // nch, (c + 1) * n // nch)


def take(x, x_off, x_strides, shape, flat_idx):
    """torch.take: x's row-major flattening indexed by flat_idx (negatives wrap) -> 1-D array."""
    shape, xs = _ints(shape), _ints(x_strides)
    numel = _numel(shape)
    out = np.empty(flat_idx.size, x.dtype)
    if flat_idx.size == 0:
        return out
    shape, (xs,) = coalesce(shape, xs)
    meta = _arr((shape + xs) or [1, 0])
    if _par(flat_idx.size):
        _take_par(_bits(x), int(x_off), meta, numel, flat_idx, _bits(out), _nchunks(flat_idx.size // 4096))
    else:
        _take_rng(_bits(x), int(x_off), meta, numel, flat_idx, _bits(out), 0, flat_idx.size)
    return out


@njit(cache=True, error_model='numpy')
def _gofs(buf, offs, out):
    o = out[:offs.size]
    for i in range(offs.size):
        o[i] = buf[np.uint64(offs[i])]


@njit(cache=True, error_model='numpy', parallel=True)
def _gofs_par(buf, offs, out):
    for i in prange(offs.size):
        out[i] = buf[np.uint64(offs[i])]


def gather_offsets(buf, offsets):
    """buf[offsets] for an int64 offset array (any shape) -> new array of offsets' shape."""
    offs = np.ascontiguousarray(offsets, dtype=np.int64).ravel()
    out = np.empty(offs.size, buf.dtype)
    (_gofs_par if _par(offs.size) else _gofs)(_bits(buf), offs, _bits(out))
    return out.reshape(np.shape(offsets))


@njit(cache=True, error_model='numpy')
def _sofs(buf, offs, vals, vs, acc):
    if acc:
        for i in range(offs.size):
            buf[np.uint64(offs[i])] += vals[i * vs]
    else:
        for i in range(offs.size):
            buf[np.uint64(offs[i])] = vals[i * vs]


def scatter_offsets(buf, offsets, values, accumulate=False):
    """buf[offsets] = values (in order: last duplicate wins) or += with ``accumulate`` (index_put_).

    values: scalar, 1-element, or as many elements as offsets; cast to buf's dtype like copy_.
    """
    offs = np.ascontiguousarray(offsets, dtype=np.int64).ravel()
    if offs.size == 0:
        return
    if isinstance(values, np.ndarray):
        vals = np.ascontiguousarray(values).ravel()
        vals = as_dtype(vals, 0, [1], [vals.size], buf.dtype)[0]
    else:
        vals = _scalar_src(values, buf.dtype)
    if vals.size not in (1, offs.size):
        raise ValueError("shape mismatch: value has %d elements, index selects %d" % (vals.size, offs.size))
    if accumulate:
        _sofs(buf, offs, vals, int(vals.size > 1), True)
    else:
        _sofs(_bits(buf), offs, _bits(vals), int(vals.size > 1), False)


def index_offsets(base, indices, strides, sizes=None, pre=((), ()), post=((), ())):
    """Element offsets for advanced indexing: base + sum_k idx_k * strides[k] (idx broadcast).

    ``sizes`` wraps negative indices per index array (validate first with ``check_range``).
    pre/post = (shape, strides) of sliced dims placed before/after the broadcast index dims, so
    the result has shape pre_shape + broadcast(idx) + post_shape (int64, C-contiguous).
    """
    off = np.asarray(int(base), np.int64)
    for k, (idx, st) in enumerate(zip(indices, strides)):
        idx = np.asarray(idx, np.int64)
        if sizes is not None and sizes[k] is not None:
            idx = np.where(idx < 0, idx + int(sizes[k]), idx)
        off = off + idx * int(st)
    (psh, pst), (qsh, qst) = pre, post
    npre, nb = len(psh), off.ndim
    nd = npre + nb + len(qsh)
    off = off.reshape((1,) * npre + off.shape + (1,) * len(qsh))
    for d, (n, st) in enumerate(list(zip(psh, pst)) + list(zip(qsh, qst))):
        axis = d if d < npre else d + nb
        shp = [1] * nd
        shp[axis] = int(n)
        off = off + (np.arange(int(n), dtype=np.int64) * int(st)).reshape(shp)
    full = tuple(int(n) for n in psh) + off.shape[npre:npre + nb] + tuple(int(n) for n in qsh)
    return np.ascontiguousarray(np.broadcast_to(off, full))
