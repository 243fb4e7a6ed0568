"""max / min with indices, argmax / argmin over the middle axis of a contiguous (outer, n, inner) buffer.

torch's rules: the first occurrence of the extreme wins; a NaN counts as both the max and the min (the
first NaN wins). Rows (inner == 1) reduce order-preserving integer keys of the float bits, which
vectorise unlike a NaN-aware float compare, then locate the first extreme (or first NaN) inside one
block. Columns keep a running (value, index) row updated with selects, four rows per pass.
"""
import numpy as np
from numba import njit, prange

from numtorch.kernels._device import cuda_impl, on_device
from numtorch.kernels.reduction import (_J, _NG, _bounds, _check, _col_bounds, _flat, _plan,
                                        _use_par)

_MB = 256  # row block whose extreme is located first; the final scan stays inside one block
_SHORT = 16  # rows up to this length are scanned directly


@njit(inline='always', **_J)
def _key(b, mask, lim):
    """Order-preserving int64 key: float bits -> -|bits| for negatives (-0.0 == +0.0, NaN outermost)."""
    v = np.int64(b)
    return -(v & mask) if v < lim else v


@njit(**_J)
def _mm_seg(x, xi, lo, hi, want_max, mask, lim, kinf, kninf):
    """Index in x of the first NaN of x[lo:hi], else of its first max (want_max) or min."""
    seg = xi[lo:hi]
    L = hi - lo
    kmax = _key(seg[0], mask, lim)
    kmin = kmax
    best = kmax
    bb = 0
    for b0 in range(0, L, _MB):
        blk = seg[b0:min(L, b0 + _MB)]
        bmax = _key(blk[0], mask, lim)
        bmin = bmax
        for j in range(blk.size):
            k = _key(blk[j], mask, lim)
            bmax = k if k > bmax else bmax
            bmin = k if k < bmin else bmin
        if (bmax > best) if want_max else (bmin < best):
            best = bmax if want_max else bmin
            bb = b0
        kmax = max(kmax, bmax)
        kmin = min(kmin, bmin)
    if kmax > kinf or kmin < kninf:  # only float NaN keys lie outside [key(-inf), key(inf)]
        xs = x[lo:hi]
        for j in range(L):
            if xs[j] != xs[j]:
                return lo + j
    blk = seg[bb:min(L, bb + _MB)]
    for j in range(blk.size):
        if _key(blk[j], mask, lim) == best:
            return lo + bb + j
    return lo


@njit(**_J)
def _arows(x, xi, pv, pi, t0, t1, n, nch, want_max, mask, lim, kinf, kninf):
    for t in range(t0, t1):
        o, lo, hi = _bounds(t, n, nch)
        if hi - lo <= _SHORT:  # a plain scan beats the key machinery
            i = lo
            for j in range(lo, hi):
                v = x[j]
                if v != v:
                    i = j
                    break
                if v > x[i] if want_max else v < x[i]:
                    i = j
        else:
            i = _mm_seg(x, xi, lo, hi, want_max, mask, lim, kinf, kninf)
        pv[t] = x[i]
        pi[t] = i - o * n


@njit(**_J)
def _arows_ser(x, xi, pv, pi, ntask, n, nch, want_max, mask, lim, kinf, kninf):
    _arows(x, xi, pv, pi, 0, ntask, n, nch, want_max, mask, lim, kinf, kninf)


@njit(parallel=True, **_J)
def _arows_par(x, xi, pv, pi, ntask, n, nch, want_max, mask, lim, kinf, kninf, ng):
    for g in prange(ng):
        _arows(x, xi, pv, pi, np.int64(g) * ntask // ng, (np.int64(g) + 1) * ntask // ng, n, nch,
               want_max, mask, lim, kinf, kninf)


@njit(inline='always', **_J)
def _takes(v, b, want_max):
    """v replaces the running extreme b: strictly better, or the first NaN."""
    return (v > b if want_max else v < b) | ((v != v) & (b == b))


@njit(**_J)
def _acol(x, bv, bi, base, k0, k1, inner, want_max):
    """Running (value, index) per column with selects (vectorised), four rows per pass."""
    bl = bv.size
    li = np.empty(bl, np.int32)  # narrow indices keep more lanes per vector; n < 2**31 is checked
    first = x[base + k0 * inner:base + k0 * inner + bl]
    for j in range(bl):
        bv[j] = first[j]
        li[j] = 0
    k = k0 + 1
    while k + 4 <= k1:
        r0 = x[base + k * inner:base + k * inner + bl]
        r1 = x[base + (k + 1) * inner:base + (k + 1) * inner + bl]
        r2 = x[base + (k + 2) * inner:base + (k + 2) * inner + bl]
        r3 = x[base + (k + 3) * inner:base + (k + 3) * inner + bl]
        kk = np.int32(k - k0)
        for j in range(bl):
            b = bv[j]
            i = li[j]
            t = _takes(r0[j], b, want_max)
            b, i = (r0[j], kk) if t else (b, i)
            t = _takes(r1[j], b, want_max)
            b, i = (r1[j], kk + 1) if t else (b, i)
            t = _takes(r2[j], b, want_max)
            b, i = (r2[j], kk + 2) if t else (b, i)
            t = _takes(r3[j], b, want_max)
            b, i = (r3[j], kk + 3) if t else (b, i)
            bv[j] = b
            li[j] = i
        k += 4
    for k in range(k, k1):
        row = x[base + k * inner:base + k * inner + bl]
        kk = np.int32(k - k0)
        for j in range(bl):
            t = _takes(row[j], bv[j], want_max)
            bv[j] = row[j] if t else bv[j]
            li[j] = kk if t else li[j]
    for j in range(bl):
        bi[j] = k0 + li[j]


@njit(**_J)
def _acols_ser(x, pv, pi, ntask, n, inner, nch, nblk, want_max):
    for t in range(ntask):
        o, j0, base, bl, k0, k1, off = _col_bounds(t, n, inner, nch, nblk)
        _acol(x, pv[off:off + bl], pi[off:off + bl], base, k0, k1, inner, want_max)


@njit(parallel=True, **_J)
def _acols_par(x, pv, pi, ntask, n, inner, nch, nblk, want_max):
    for t in prange(ntask):
        o, j0, base, bl, k0, k1, off = _col_bounds(np.int64(t), n, inner, nch, nblk)
        _acol(x, pv[off:off + bl], pi[off:off + bl], base, k0, k1, inner, want_max)


@njit(**_J)
def _afinish(pv, pi, nch, inner, ov, oi, want_max):
    """Combine per-chunk (value, index) partials in chunk order: first NaN, else first extreme."""
    for i in range(oi.size):
        o = i // inner
        j0 = o * nch * inner + i - o * inner
        b = pv[j0]
        bi = pi[j0]
        for ch in range(1, nch):
            v = pv[j0 + ch * inner]
            if b == b and (v != v or (v > b if want_max else v < b)):
                b = v
                bi = pi[j0 + ch * inner]
        ov[i] = b
        oi[i] = bi


_I64 = np.iinfo(np.int64)
_KEYS = {  # int view, mask, lim, key(inf), key(-inf); ints get keys that never read as NaN
    np.dtype(np.float32): (np.int32, np.int64(0x7FFFFFFF), np.int64(0), np.int64(0x7F800000),
                           np.int64(-0x7F800000)),
    np.dtype(np.float64): (np.int64, np.int64(_I64.max), np.int64(0), np.int64(0x7FF0000000000000),
                           np.int64(-0x7FF0000000000000))}
_INTKEYS = (None, np.int64(0), np.int64(_I64.min), np.int64(_I64.max), np.int64(_I64.min))


def _arg(want_max, x, outer, n, inner, ov, oi):
    par = _use_par(x.size)
    nch, nblk = _plan(outer, n, inner, par)
    pv, pi = (ov, oi) if nch == 1 else (np.empty(outer * nch * inner, x.dtype),
                                        np.empty(outer * nch * inner, np.int64))
    if inner == 1:
        view, mask, lim, kinf, kninf = _KEYS.get(x.dtype, _INTKEYS)
        xi = x if view is None else x.view(view)
        nt = outer * nch
        if par:
            _arows_par(x, xi, pv, pi, nt, n, nch, want_max, mask, lim, kinf, kninf, min(nt, _NG))
        else:
            _arows_ser(x, xi, pv, pi, nt, n, nch, want_max, mask, lim, kinf, kninf)
    else:
        (_acols_par if par else _acols_ser)(x, pv, pi, outer * nch * nblk, n, inner, nch, nblk, want_max)
    if nch > 1:
        _afinish(pv, pi, nch, inner, ov, oi, want_max)


def arg_reduce(op, x, outer, n, inner, out_values, out_indices):
    """max/min with indices, or argmax/argmin, over the middle axis: first occurrence, NaN wins.

    out_indices: contiguous int64 buffer of outer*inner; out_values: buffer of as many elements (x's
    dtype, else cast into) or None. Raises RuntimeError for n == 0 (see needs_nonempty).
    """
    if on_device(x):
        return cuda_impl("reduction").arg_reduce(op, x, outer, n, inner, out_values, out_indices)
    if op not in ('max', 'min', 'argmax', 'argmin'):
        raise ValueError(f"unknown arg reduction {op!r}")
    _check(x, outer, n, inner, out_values, 'out_values')
    _check(x, outer, n, inner, out_indices, 'out_indices')
    if out_indices.dtype != np.int64 or out_indices.ndim != 1 or not out_indices.flags.c_contiguous:
        raise ValueError("out_indices must be a contiguous 1-D int64 array")
    xv = _flat(x, 'x')
    m = outer * inner
    if m == 0:
        return out_values, out_indices
    if n == 0:
        raise RuntimeError(f"{op}(): Expected reduction dim to have non-zero size.")
    if inner > 1 and n >= 2 ** 31:
        raise ValueError("column arg reductions index rows with int32")
    ov = None if out_values is None else _flat(out_values, 'out_values')
    if ov is None or ov.dtype != xv.dtype:
        tmp = np.empty(m, xv.dtype)
        _arg(op in ('max', 'argmax'), xv, outer, n, inner, tmp, out_indices)
        if ov is not None:
            ov[:] = tmp
    else:
        _arg(op in ('max', 'argmax'), xv, outer, n, inner, ov, out_indices)
    return out_values, out_indices
