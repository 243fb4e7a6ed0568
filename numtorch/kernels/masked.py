"""Masked fill/select/scatter, nonzero, take, and the element-offset kernels of advanced indexing.

Same conventions as copy.py (flat buffers, element strides, row walker, serial and parallel variants
chosen by size). Moves run on ``_bits`` views, one compile per element width; nonzero tests the bits
with a float's sign bit masked (-0.0 == 0); accumulating ``scatter_offsets`` sees the real dtype.
Sections: masked ops; nonzero; take and advanced-indexing offsets.
"""
import numpy as np
from numba import njit, prange

from ._device import cuda_impl, on_device
from .copy import (_UINT, _arr, _bits, _coalesce2, _ints, _nchunks, _numel, _par, _scalar_src, _start, _step,
                   as_dtype, coalesce)


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
    if on_device(self_buf):
        return cuda_impl("masked").masked_fill(self_buf, off, strides, shape, mask, mask_off, mask_strides, value)
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
    if on_device(x):
        return cuda_impl("masked").masked_select(x, mask)
    if x.size == 0:
        return np.empty(0, x.dtype)
    starts, total, nch = _mask_starts(mask)
    out = np.empty(total, x.dtype)
    _mask_moves(_bits(x), mask, _bits(out), starts, nch, True)
    return out


def masked_scatter(self_buf, mask, src):
    """In place: self[mask] = src[:mask.sum()] (contiguous, same size; src flat, self's dtype)."""
    if on_device(self_buf):
        return cuda_impl("masked").masked_scatter(self_buf, mask, src)
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
    if on_device(x):
        return cuda_impl("masked").nonzero(x, x_off, x_strides, shape)
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
    if on_device(x):
        return cuda_impl("masked").take(x, x_off, x_strides, shape, flat_idx)
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
    if on_device(buf):
        return cuda_impl("masked").gather_offsets(buf, offsets)
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
    if on_device(buf):
        return cuda_impl("masked").scatter_offsets(buf, offsets, values, accumulate)
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
    if any(on_device(i) for i in indices):
        return cuda_impl("masked").index_offsets(base, indices, strides, sizes, pre, post)
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
