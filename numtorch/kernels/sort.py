"""Sort, argsort, topk, kthvalue, median, nanmedian, mode, unique and unique_consecutive kernels.

Layout: the caller moves the dim last and passes a contiguous 1-D buffer holding (rows, n); outputs are
contiguous (rows, k) buffers (values of the input dtype, int64 indices).
All kernels work on the order-preserving unsigned *keys* of radix.py (``_key``): the wrappers view buffers
as the unsigned type of their width, so one specialization per width serves every dtype and values are
copied bit-exactly; descending / largest XOR the keys with all-ones.
Order rules: NaN is the largest value; ties keep the lower index first, i.e. ``sort`` is stable in both
directions. torch's default (stable=False) sort may order ties any way, so this is valid there too.
"""
import numpy as np
from numba import njit, prange

from . import nthreads, parallel_ok
from ._device import cuda_impl, on_device
from .radix import _JIT, _digit, _key, _row_order, _scratch, _top_byte

PARALLEL = True   # switch off to force the serial kernels (also off when no safe layer loads)
PAR_MIN = 1 << 16  # rows * n from which the prange variants pay off
_HEAP_K = 64      # topk with k up to this uses a bounded heap; larger k sorts the row
_BLOCK = 64       # topk screens blocks of this many keys against the heap's worst key


@njit(**_JIT)
def _sort_rows(x, r0, r1, n, k, mode, top, absinf, allones, inv, ov, oi, vals):
    """First k entries of each sorted row r0..r1 into (rows, k) outputs; vals=False skips values."""
    a, b, ia, ib, tmp, _ = _scratch(n, x, n if k < n else 0)
    cnt = np.empty((8, 256), np.int64)
    for r in range(r0, r1):
        xr = x[r * n:r * n + n]
        orow = oi[r * k:r * k + k]
        vrow = ov[r * k:r * k + k] if vals else ov
        # (a computed flag, never a literal False: that would compile a second _row_order)
        _row_order(xr, n, mode, top, absinf, allones, inv, a, b, ia, ib, cnt,
                   orow if k == n else tmp, vrow, vals and k == n)
        if k < n:
            for j in range(k):
                orow[j] = tmp[j]
                if vals:
                    vrow[j] = xr[tmp[j]]


@njit(parallel=True, **_JIT)
def _sort_par(x, rows, nc, *args):
    for c in prange(nc):
        _sort_rows(x, np.int64(c) * rows // nc, (np.int64(c) + 1) * rows // nc, *args)


@njit(**_JIT)
def _sift(hk, hi, k, p):
    """Sift-down in a max-heap ordered by (key, index)."""
    kp, ip = hk[p], hi[p]
    while True:
        c = 2 * p + 1
        if c >= k:
            break
        if c + 1 < k and (hk[c + 1] > hk[c] or (hk[c + 1] == hk[c] and hi[c + 1] > hi[c])):
            c += 1
        if not (hk[c] > kp or (hk[c] == kp and hi[c] > ip)):
            break
        hk[p], hi[p] = hk[c], hi[c]
        p = c
    hk[p], hi[p] = kp, ip


@njit(**_JIT)
def _offer(hk, hi, k, kt, j):
    # scanning in index order, a key equal to the heap's worst loses the tie: only smaller keys enter
    if kt < hk[0]:
        hk[0], hi[0] = kt, j
        _sift(hk, hi, k, 0)


@njit(**_JIT)
def _topk_rows(x, r0, r1, n, k, mode, top, absinf, allones, inv, ov, oi):
    """k smallest (key, index) pairs of each row, sorted: a bounded max-heap, O(n log k) even for
    adversarial (ascending) rows. Fixed-size blocks whose smallest key cannot enter are skipped by a
    vectorised screen: the common case once the heap holds good keys."""
    hk, hi, bk = np.empty(k, np.uint64), np.empty(k, np.int64), np.empty(_BLOCK, np.uint64)
    nblk = (n - k) // _BLOCK
    for r in range(r0, r1):
        xr = x[r * n:r * n + n]
        for j in range(k):
            hk[j], hi[j] = _key(xr[j], mode, top, absinf, allones, inv), j
        for p in range(k // 2 - 1, -1, -1):
            _sift(hk, hi, k, p)
        for q in range(nblk):
            j0 = k + q * _BLOCK
            xb = xr[j0:j0 + _BLOCK]
            mn = allones
            for t in range(_BLOCK):
                kt = _key(xb[t], mode, top, absinf, allones, inv)
                bk[t] = kt
                mn = min(mn, kt)
            if mn < hk[0]:
                for t in range(_BLOCK):
                    _offer(hk, hi, k, bk[t], j0 + t)
        for j in range(k + nblk * _BLOCK, n):
            _offer(hk, hi, k, _key(xr[j], mode, top, absinf, allones, inv), j)
        for e in range(k - 1, 0, -1):  # pop the max to the end: ascending (key, index)
            hk[0], hk[e] = hk[e], hk[0]
            hi[0], hi[e] = hi[e], hi[0]
            _sift(hk, hi, e, 0)
        for a in range(k):
            oi[r * k + a] = hi[a]
            ov[r * k + a] = xr[hi[a]]


@njit(parallel=True, **_JIT)
def _topk_par(x, rows, nc, *args):
    for c in prange(nc):
        _topk_rows(x, np.int64(c) * rows // nc, (np.int64(c) + 1) * rows // nc, *args)


@njit(**_JIT)
def _kth_rows(x, r0, r1, n, k, nanmode, mode, top, absinf, allones, ov, oi):
    """Rank-k (0-based) element of each row in stable ascending order, by MSD radix select on
    key - min(key): each pass keeps, in index order, the keys whose top digit of the remaining range
    holds rank k, so the range shrinks every pass (linear; no quadratic worst case). nanmode 0: plain
    (NaN largest); 1: median (a row with NaN gives its first NaN); 2: nanmedian (lower median of the
    non-NaN values; all-NaN -> first NaN)."""
    keys, idx, cnt, zero = np.empty(n, x.dtype), np.empty(n, np.int64), np.empty(256, np.int64), np.uint64(0)
    for r in range(r0, r1):
        xr = x[r * n:r * n + n]
        kmin, kmax = allones, zero
        for j in range(n):
            kj = _key(xr[j], mode, top, absinf, allones, zero)
            keys[j], idx[j] = kj, j
            kmin = min(kmin, kj)
            kmax = max(kmax, kj)
        kk = k
        if mode == 2 and nanmode != 0 and kmax == allones:  # the row has NaN
            nnan, first = 0, -1
            for j in range(n):
                if keys[j] == allones:
                    nnan += 1
                    first = j if first < 0 else first
            if nanmode == 1 or nnan == n:
                oi[r], ov[r] = first, xr[first]
                continue
            kk = (n - nnan - 1) // 2
        m = n
        b = _top_byte(kmax - kmin)
        while b >= 0:
            cnt[:] = 0
            for j in range(m):
                cnt[_digit(keys[j] - kmin, 8 * b)] += 1
            d = 0
            while cnt[d] <= kk:
                kk -= cnt[d]
                d += 1
            w, nmin, nmax = 0, allones, zero
            for j in range(m):
                kj = np.uint64(keys[j])
                if _digit(kj - kmin, 8 * b) == d:
                    keys[w], idx[w] = kj, idx[j]
                    nmin = min(nmin, kj)
                    nmax = max(nmax, kj)
                    w += 1
            m, kmin, kmax = w, nmin, nmax
            b = _top_byte(kmax - kmin)
        oi[r] = idx[kk]
        ov[r] = xr[idx[kk]]


@njit(parallel=True, **_JIT)
def _kth_par(x, rows, nc, *args):
    for c in prange(nc):
        _kth_rows(x, np.int64(c) * rows // nc, (np.int64(c) + 1) * rows // nc, *args)


@njit(**_JIT)
def _mode_rows(x, r0, r1, n, mode, top, absinf, allones, ov, oi):
    """Most frequent value per row (smallest on ties), index of its last occurrence; NaNs distinct."""
    a, b, ia, ib, o, sv = _scratch(n, x, n)
    cnt = np.empty((8, 256), np.int64)
    zero = np.uint64(0)
    for r in range(r0, r1):
        xr = x[r * n:r * n + n]
        _row_order(xr, n, mode, top, absinf, allones, zero, a, b, ia, ib, cnt, o, sv, n >= 0)
        best, blen, run, prev = 0, 0, 0, zero
        for j in range(n):
            kj = _key(sv[j], mode, top, absinf, allones, zero)
            # NaN != NaN, as in torch's run scan
            run = run + 1 if j > 0 and kj == prev and not (mode == 2 and kj == allones) else 1
            prev = kj
            if run > blen:  # strict: the first (smallest) longest run wins, at its last element
                blen, best = run, j
        oi[r] = o[best]
        ov[r] = sv[best]


@njit(parallel=True, **_JIT)
def _mode_par(x, rows, nc, *args):
    for c in prange(nc):
        _mode_rows(x, np.int64(c) * rows // nc, (np.int64(c) + 1) * rows // nc, *args)


@njit(**_JIT)
def _unique_kernel(x, mode, top, absinf, allones, consecutive):
    """Groups of equal values (sorted, or runs when consecutive); NaNs are all distinct, as in torch."""
    n = x.size
    zero = np.uint64(0)
    a, b, ia, ib, o, sv = _scratch(n, x, n)
    if consecutive:
        o[:] = np.arange(n)
        sv[:] = x
    else:
        _row_order(x, n, mode, top, absinf, allones, zero, a, b, ia, ib, np.empty((8, 256), np.int64),
                   o, sv, n >= 0)
    inverse = np.empty(n, np.int64)
    counts = ia  # scratch reuse: group g's count, and sv[g] its value (g <= j)
    g = -1
    prev = zero
    for j in range(n):
        kj = _key(sv[j], mode, top, absinf, allones, zero)
        if j == 0 or kj != prev or (mode == 2 and kj == allones):
            g += 1
            sv[g], counts[g] = sv[j], 0
        prev = kj
        counts[g] += 1
        inverse[o[j]] = g
    return sv[:g + 1].copy(), inverse, counts[:g + 1].copy()


# ----------------------------------------------------------------------------- Python entry points
def _p(view, mode, top, absinf, allones):
    return view, np.int64(mode), np.uint64(top), np.uint64(absinf), np.uint64(allones)


_M8, _M16, _M32, _M64 = 0xFF, 0xFFFF, (1 << 32) - 1, (1 << 64) - 1
# dtype -> (unsigned view, mode, top bit, |inf| bits, all-ones); mode 0 unsigned, 1 signed, 2 float
_PARAMS = {np.dtype(t): _p(*v) for t, v in {
    np.float32: (np.uint32, 2, 1 << 31, 0x7F800000, _M32),
    np.float64: (np.uint64, 2, 1 << 63, 0x7FF0000000000000, _M64),
    np.int64: (np.uint64, 1, 1 << 63, 0, _M64), np.int32: (np.uint32, 1, 1 << 31, 0, _M32),
    np.int16: (np.uint16, 1, 1 << 15, 0, _M16), np.int8: (np.uint8, 1, 1 << 7, 0, _M8),
    np.uint64: (np.uint64, 0, 0, 0, _M64), np.uint32: (np.uint32, 0, 0, 0, _M32),
    np.uint16: (np.uint16, 0, 0, 0, _M16), np.uint8: (np.uint8, 0, 0, 0, _M8),
    np.bool_: (np.uint8, 0, 0, 0, _M8)}.items()}
SUPPORTED_DTYPES = tuple(_PARAMS)


def _prep(x):
    """Unsigned view of x plus its key parameters (mode, top, absinf, allones)."""
    p = _PARAMS.get(x.dtype)
    if p is None:
        raise TypeError(f"sort kernels: unsupported dtype {x.dtype}")
    return x.view(p[0]), p[1:]


def _chunks(rows, n):
    """Row chunks for the prange variants (about 4 per thread, for balance), or 0 for serial."""
    if rows < 2 or rows * n < PAR_MIN or not PARALLEL or not parallel_ok():
        return 0
    return min(rows, 4 * nthreads())


def _launch(serial, par, x, rows, args):
    """serial(x, 0, rows, *args), or par(x, rows, nchunks, *args) when big enough."""
    rows, nc = np.int64(rows), _chunks(rows, args[0])
    if nc:
        par(x, rows, np.int64(nc), *args)
    else:
        serial(x, np.int64(0), rows, *args)


def sort(x, rows, n, descending, stable, out_values, out_indices):
    """Sort rows (NaN largest, ties by index: stable both ways, so `stable` changes nothing)."""
    if on_device(x):
        return cuda_impl("sort").sort(x, rows, n, descending, stable, out_values, out_indices)
    _sort(x, rows, n, n, descending, out_values, out_indices, True)


def argsort(x, rows, n, descending, stable, out_indices):
    """Indices of `sort` only."""
    if on_device(x):
        return cuda_impl("sort").argsort(x, rows, n, descending, stable, out_indices)
    _sort(x, rows, n, n, descending, x[:0], out_indices, False)


def topk(x, rows, n, k, largest, sorted, out_values, out_indices):
    """k largest/smallest per row into (rows, k), best first, ties by lowest index, NaN largest;
    always sorted (also for sorted=False). The caller validates 0 <= k <= n."""
    if on_device(x):
        return cuda_impl("sort").topk(x, rows, n, k, largest, sorted, out_values, out_indices)
    if k > _HEAP_K:
        return _sort(x, rows, n, k, largest, out_values, out_indices, True)
    if rows and k:
        xu, (mode, top, absinf, allones) = _prep(x)
        inv = allones if largest else np.uint64(0)
        _launch(_topk_rows, _topk_par, xu, rows, (np.int64(n), np.int64(k), mode, top, absinf,
                                                  allones, inv, out_values.view(xu.dtype), out_indices))


def _sort(x, rows, n, k, descending, ov, oi, vals):
    if rows and k:
        xu, (mode, top, absinf, allones) = _prep(x)
        inv = allones if descending else np.uint64(0)
        _launch(_sort_rows, _sort_par, xu, rows, (np.int64(n), np.int64(k), mode, top, absinf,
                                                  allones, inv, ov.view(xu.dtype), oi, vals))


def _kth(x, rows, n, k0, nanmode, ov, oi):
    if rows and n:
        xu, (mode, top, absinf, allones) = _prep(x)
        _launch(_kth_rows, _kth_par, xu, rows, (np.int64(n), np.int64(k0), np.int64(nanmode), mode,
                                                top, absinf, allones, ov.view(xu.dtype), oi))


def kthvalue(x, rows, n, k, out_values, out_indices):
    """k-th smallest (1-based, caller validates 1 <= k <= n) per row into (rows,) outputs; NaN
    largest; ties: the k-th in stable order."""
    if on_device(x):
        return cuda_impl("sort").kthvalue(x, rows, n, k, out_values, out_indices)
    _kth(x, rows, n, k - 1, 0, out_values, out_indices)


def median(x, rows, n, out_values, out_indices):
    """torch.median(dim): lower median ((n-1)//2-th smallest); a row with NaN gives its first NaN."""
    if on_device(x):
        return cuda_impl("sort").median(x, rows, n, out_values, out_indices)
    _kth(x, rows, n, (n - 1) // 2, 1, out_values, out_indices)


def nanmedian(x, rows, n, out_values, out_indices):
    """torch.nanmedian(dim): lower median of the non-NaN values; an all-NaN row gives its first NaN."""
    if on_device(x):
        return cuda_impl("sort").nanmedian(x, rows, n, out_values, out_indices)
    _kth(x, rows, n, (n - 1) // 2, 2, out_values, out_indices)


def mode(x, rows, n, out_values, out_indices):
    """torch.mode(dim): most frequent value, smallest on ties, index of its LAST occurrence (torch CPU
    does so for n <= 16, longer rows get some occurrence there). NaNs never compare equal."""
    if on_device(x):
        return cuda_impl("sort").mode(x, rows, n, out_values, out_indices)
    if rows and n:
        xu, (md, top, absinf, allones) = _prep(x)
        _launch(_mode_rows, _mode_par, xu, rows, (np.int64(n), md, top, absinf, allones,
                                                  out_values.view(xu.dtype), out_indices))


def unique(x_flat, consecutive=False):
    """(values, inverse, counts) as torch.unique(sorted=True, return_inverse=True, return_counts=True),
    or torch.unique_consecutive when `consecutive`: -0.0 == 0.0; every NaN is its own value."""
    if on_device(x_flat):
        return cuda_impl("sort").unique(x_flat, consecutive)
    x_flat = np.ascontiguousarray(x_flat).reshape(-1)
    xu, (md, top, absinf, allones) = _prep(x_flat)
    vals, inverse, counts = _unique_kernel(xu, md, top, absinf, allones, consecutive)
    return vals.view(x_flat.dtype), inverse, counts


def unique_consecutive(x_flat):
    """torch.unique_consecutive: (values, inverse, counts) of runs of equal values (NaNs distinct)."""
    if on_device(x_flat):
        return cuda_impl("sort").unique_consecutive(x_flat)
    return unique(x_flat, True)
