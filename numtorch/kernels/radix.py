"""Order-preserving unsigned keys and the stable per-row radix order that the sort kernels build on.

``_key``: floats -> sign-flipped bits, -0.0 == +0.0, every NaN the one largest key; signed ints -> top bit
flipped; descending / largest -> keys XOR all-ones (stable passes then still emit equal keys in increasing
index). Callers view buffers as the unsigned type of their width, so one specialization per width
(uint8/16/32/64) serves every dtype and values are copied bit-exactly. ``_row_order`` sorts one row:
insertion sort for short rows, else LSD radix passes over the bytes of the key range.
"""
import numpy as np
from numba import njit

_JIT = dict(cache=True, error_model='numpy')
_SHORT = 32       # rows up to this length use insertion sort instead of radix


@njit(**_JIT)
def _key(v, mode, top, absinf, allones, inv):
    """Order-preserving uint64 key of one element (mode 0 unsigned, 1 signed int, 2 float bits).
    Selects rather than branches, so the topk screening loop vectorises."""
    u = np.uint64(v)
    if mode == 2:
        a = u & (allones ^ top)
        k = (u ^ allones) if (u & top) != 0 else (u | top)
        k = top if a == 0 else k  # -0.0 == +0.0 (torch keeps their index order)
        u = allones if a > absinf else k  # NaN of either sign: the one largest key
    elif mode == 1:
        u = u ^ top
    return u ^ inv


@njit(**_JIT)
def _digit(k, sh):
    return np.int64((np.uint64(k) >> np.uint64(sh)) & np.uint64(255))


@njit(**_JIT)
def _top_byte(diff):
    b = -1
    while diff != 0:
        diff >>= np.uint64(8)
        b += 1
    return b


@njit(inline='always', **_JIT)
def _offset_hist(a, n, kmin, cnt, nd, packed):
    # inlined with constant nd/packed so LLVM unrolls the digit loop
    for j in range(n):
        kj = a[j] - kmin
        a[j] = (kj << np.uint64(32)) | np.uint64(j) if packed else kj
        for d in range(nd):
            cnt[d, _digit(kj, 8 * d)] += 1


@njit(inline='always', **_JIT)
def _passes(xr, n, a, b, ia, ib, cnt, nd, packed, oidx, vrow, vals):
    """LSD passes over the digits of a (packed: key << 32 | index) skipping digits shared by all."""
    base = 32 if packed else 0
    last = -1
    for d in range(nd):
        if cnt[d, _digit(a[0], base + 8 * d)] != n:
            last = d
    sk, si, dk, di = a, ia, b, ib
    m32 = np.uint64(0xFFFFFFFF)
    for d in range(last + 1):
        sh = base + 8 * d
        c = cnt[d]
        if c[_digit(sk[0], sh)] == n:
            continue
        tot = 0
        for q in range(256):
            t = c[q]
            c[q] = tot
            tot += t
        if d == last:  # the last pass writes the outputs
            for j in range(n):
                p = sk[j]
                q = _digit(p, sh)
                w = c[q]
                c[q] = w + 1
                i = np.int64(p & m32) if packed else si[j]
                oidx[w] = i
                if vals:
                    vrow[w] = xr[i]
            return True
        for j in range(n):
            p = sk[j]
            q = _digit(p, sh)
            w = c[q]
            c[q] = w + 1
            dk[w] = p
            if not packed:
                di[w] = si[j]
        sk, dk = dk, sk
        si, di = di, si
    return False


@njit(**_JIT)
def _row_order(xr, n, mode, top, absinf, allones, inv, a, b, ia, ib, cnt, oidx, vrow, vals):
    """Stable ascending key order of one row: source indices into oidx[:n] (and values into vrow).
    Insertion sort for short rows, else LSD radix sort of key - min(key): only the bytes of the key
    range cost passes (ints in a small range: 1-2 passes, any width). Ranges under 2**32 travel packed
    with their index in one uint64 (one array to move per pass), wider ones beside an index array."""
    done = False
    if n <= _SHORT:
        for j in range(n):
            kj = _key(xr[j], mode, top, absinf, allones, inv)
            p = j
            while p > 0 and a[p - 1] > kj:
                a[p], oidx[p] = a[p - 1], oidx[p - 1]
                p -= 1
            a[p], oidx[p] = kj, j
    else:
        kmin, kmax = allones, np.uint64(0)
        for j in range(n):
            kj = _key(xr[j], mode, top, absinf, allones, inv)
            a[j] = kj
            kmin = min(kmin, kj)
            kmax = max(kmax, kj)
        nd = _top_byte(kmax - kmin) + 1
        cnt[:, :] = 0
        if nd > 4 or n > 0xFFFFFFFF:  # index no longer fits beside the key
            _offset_hist(a, n, kmin, cnt, 8, False)
            for j in range(n):
                ia[j] = j
            done = _passes(xr, n, a, b, ia, ib, cnt, 8, False, oidx, vrow, vals)
        else:
            if nd == 1:
                _offset_hist(a, n, kmin, cnt, 1, True)
            elif nd == 2:
                _offset_hist(a, n, kmin, cnt, 2, True)
            else:
                _offset_hist(a, n, kmin, cnt, 4, True)
            done = _passes(xr, n, a, b, ia, ib, cnt, nd, True, oidx, vrow, vals)
        if not done:  # all keys equal
            for j in range(n):
                oidx[j] = j
    if vals and not done:
        for j in range(n):
            vrow[j] = xr[oidx[j]]


@njit(**_JIT)
def _scratch(n, x, m):
    """Radix buffers for rows of n, plus an index and a value row of m (0 when unused)."""
    return (np.empty(n, np.uint64), np.empty(n, np.uint64), np.empty(n, np.int64),
            np.empty(n, np.int64), np.empty(m, np.int64), np.empty(m, x.dtype))
