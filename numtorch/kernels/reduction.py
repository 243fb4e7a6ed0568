"""Reduction kernels over the middle axis of a contiguous (outer, n, inner) buffer.

Additive family (sum, prod, mean, var, norm, logsumexp, all/any/count_nonzero): every task reduces a
chunk of rows into a partial in the accumulator type (float64 for float inputs, so float32 sums are
exact for 2**26 ones; int64 for ints and bool, wrapping like torch), then `_finish` combines the
partials, applies the post-op and casts into the caller's output. Rows (inner == 1) reduce contiguous
segments; columns (inner > 1) accumulate whole rows of `inner` elements, so dim=0 needs no transpose.

Entry points: reduce (this module), arg_reduce (argreduce.py), scan (scan.py), softmax / softmax_backward
(softmax.py); those modules import this one, so their entry points are re-exported
here lazily.
"""
import numba
import numpy as np
from numba import njit, prange

from . import parallel_ok
from ._device import cuda_impl, on_device
from .vmath import vexp

PARALLEL = True        # set False where the threading layer is unsafe for the caller
PAR_MIN = 1 << 18      # elements; below this the serial kernels win (2 cores, TBB: sum rows and columns
                       # break even near 256K elements)
PAR_MIN_STATS = 1 << 22    # the float statistics (var/std/norm passes): their parallel runs lost up to 1M
_CHUNK = 1 << 15       # smallest chunk of a reduced axis worth a task of its own
_BL = 4096             # column block width: the partial row stays in L1
_BLK = 8192            # row blocks combined in the accumulator type (accuracy of float64 inputs)
_NG = 64               # parallel row kernels split their row tasks into at most this many groups
_J = dict(cache=True, error_model='numpy')
_JF = dict(cache=True, error_model='numpy', fastmath={'reassoc'})

# additive-family codes: the first five accumulate in the input's accumulator type (any dtype); the
# rest are float statistics in float64 (ABSDEV/SQDEV: sum |x-c| / (x-c)**2, c a per-output centre)
SUM, NANSUM, CNTNZ, CNTVALID, PROD, ABSDEV, SQDEV, ABSMAX, ABSMIN, POWSUM, EXPDEV = range(11)
_EMPTY = np.empty(0)
# post-ops applied by _finish
P_NONE, P_DIV, P_SQRTDIV, P_ROOT, P_LOGADD, P_ALL, P_ANY = range(7)


@njit(inline='always', **_J)
def _combine(code, a, b):
    """Merge two partials (a first in order); max/min keep NaN."""
    if code == PROD:
        return a * b
    if code == ABSMAX:
        return a if (a > b or a != a) else b
    if code == ABSMIN:
        return a if (a < b or a != a) else b
    return a + b


@njit(inline='always', **_J)
def _bounds(t, n, nch):
    """(outer row, start, end) of row task t: chunk t % nch of row t // nch."""
    if nch == 1:  # integer division costs more than a short row
        return t, t * n, t * n + n
    o = t // nch
    ch = t - o * nch
    return o, o * n + (n * ch) // nch, o * n + (n * (ch + 1)) // nch


# Row kernels: the op test sits outside the task loop, so short rows cost no call or dispatch each;
# long rows are summed in _BLK blocks whose partials are added in the accumulator type.
@njit(**_JF)
def _rows_basic(code, x, part, t0, t1, n, nch, init):
    """SUM, PROD, NANSUM, CNTNZ, CNTVALID of row tasks t0..t1 in init's type (float64/int64)."""
    for t in range(t0, t1):
        o, lo, hi = _bounds(t, n, nch)
        s = init
        b = lo
        while b < hi:
            seg = x[b:min(hi, b + _BLK)]
            q = init
            if code == SUM:
                for j in range(seg.size):
                    q += seg[j]
            elif code == PROD:
                for j in range(seg.size):
                    q *= seg[j]
            else:  # invariant selects vectorise: one loop serves three ops
                for j in range(seg.size):
                    v = seg[j]
                    q += (v if v == v else 0) if code == NANSUM else ((v == v) if code == CNTVALID else (v != 0))
            s = s * q if code == PROD else s + q
            b += _BLK
        part[t] = s


@njit(**_JF)
def _rows_flt(code, x, part, t0, t1, n, nch, p, c):
    """Float64 statistics of row tasks: sum |x-c| or (x-c)**2, max/min |x|, sum |x|**p, sum exp(x-c)."""
    for t in range(t0, t1):
        o, lo, hi = _bounds(t, n, nch)
        cv = c[o]
        s = np.inf if code == ABSMIN else 0.0
        b = lo
        while b < hi:
            seg = x[b:min(hi, b + _BLK)]
            q = np.inf if code == ABSMIN else 0.0
            if code == ABSDEV or code == SQDEV:
                sq = code == SQDEV
                for j in range(seg.size):
                    d = seg[j] - cv
                    q += d * d if sq else abs(d)
            elif code == ABSMAX or code == ABSMIN:
                mx = code == ABSMAX
                for j in range(seg.size):
                    a = abs(np.float64(seg[j]))
                    q = a if ((a > q if mx else a < q) or a != a) else q
            elif code == POWSUM:
                for j in range(seg.size):
                    q += abs(np.float64(seg[j])) ** p
            else:
                for j in range(seg.size):
                    q += vexp(seg[j] - cv)
            s = _combine(code, s, q)
            b += _BLK
        part[t] = s


@njit(**_J)
def _rows_ser(code, x, part, ntask, n, nch, init):
    _rows_basic(code, x, part, 0, ntask, n, nch, init)


@njit(parallel=True, **_J)
def _rows_par(code, x, part, ntask, n, nch, init, ng):
    for g in prange(ng):
        _rows_basic(code, x, part, np.int64(g) * ntask // ng, (np.int64(g) + 1) * ntask // ng, n, nch, init)


@njit(**_J)
def _frows_ser(code, x, part, ntask, n, nch, p, c):
    _rows_flt(code, x, part, 0, ntask, n, nch, p, c)


@njit(parallel=True, **_J)
def _frows_par(code, x, part, ntask, n, nch, p, c, ng):
    for g in prange(ng):
        _rows_flt(code, x, part, np.int64(g) * ntask // ng, (np.int64(g) + 1) * ntask // ng, n, nch, p, c)


# Column kernels: a task owns a block of <= _BL columns of one outer index and a chunk of the reduced
# rows, and accumulates whole rows into its partial row (loops over `inner`, vectorised).
@njit(inline='always', **_J)
def _col_bounds(t, n, inner, nch, nblk):
    """(outer, first column, x offset of its row 0, width, first row, end row, partial offset)."""
    o = t // (nch * nblk)
    r = t - o * nch * nblk
    ch = r // nblk
    j0 = (r - ch * nblk) * _BL
    return (o, j0, o * n * inner + j0, min(inner, j0 + _BL) - j0, (n * ch) // nch, (n * (ch + 1)) // nch,
            (o * nch + ch) * inner + j0)


@njit(**_JF)
def _col_basic(code, x, acc, base, k0, k1, inner, init):
    bl = acc.size
    for j in range(bl):
        acc[j] = init
    k = k0
    if code == SUM:  # four rows per pass over acc: a quarter of the accumulator loads and stores
        while k + 4 <= k1:
            r0 = x[base + k * inner:base + k * inner + bl]
            r1 = x[base + (k + 1) * inner:base + (k + 1) * inner + bl]
            r2 = x[base + (k + 2) * inner:base + (k + 2) * inner + bl]
            r3 = x[base + (k + 3) * inner:base + (k + 3) * inner + bl]
            for j in range(bl):
                acc[j] += (init + r0[j] + r1[j]) + (init + r2[j] + r3[j])
            k += 4
    for k in range(k, k1):
        row = x[base + k * inner:base + k * inner + bl]
        if code == SUM:
            for j in range(bl):
                acc[j] += row[j]
        elif code == PROD:
            for j in range(bl):
                acc[j] *= row[j]
        else:
            for j in range(bl):
                v = row[j]
                acc[j] += (v if v == v else 0) if code == NANSUM else ((v == v) if code == CNTVALID else (v != 0))


@njit(**_JF)
def _col_flt(code, x, acc, base, k0, k1, inner, p, cc):
    bl = acc.size
    for j in range(bl):
        acc[j] = np.inf if code == ABSMIN else 0.0
    k = k0
    if code == SQDEV:  # variance's second pass: unrolled like SUM
        while k + 4 <= k1:
            r0 = x[base + k * inner:base + k * inner + bl]
            r1 = x[base + (k + 1) * inner:base + (k + 1) * inner + bl]
            r2 = x[base + (k + 2) * inner:base + (k + 2) * inner + bl]
            r3 = x[base + (k + 3) * inner:base + (k + 3) * inner + bl]
            for j in range(bl):
                c = cc[j]
                d0, d1, d2, d3 = r0[j] - c, r1[j] - c, r2[j] - c, r3[j] - c
                acc[j] += (d0 * d0 + d1 * d1) + (d2 * d2 + d3 * d3)
            k += 4
    sq = code == SQDEV
    mx = code == ABSMAX
    for k in range(k, k1):
        row = x[base + k * inner:base + k * inner + bl]
        if code == ABSDEV or code == SQDEV:
            for j in range(bl):
                d = row[j] - cc[j]
                acc[j] += d * d if sq else abs(d)
        elif code == ABSMAX or code == ABSMIN:
            for j in range(bl):
                a = abs(np.float64(row[j]))
                b = acc[j]
                acc[j] = a if ((a > b if mx else a < b) or a != a) else b
        elif code == POWSUM:
            for j in range(bl):
                acc[j] += abs(np.float64(row[j])) ** p
        else:
            for j in range(bl):
                acc[j] += vexp(row[j] - cc[j])


@njit(**_J)
def _cols_ser(code, x, part, ntask, n, inner, nch, nblk, init):
    for t in range(ntask):
        o, j0, base, bl, k0, k1, off = _col_bounds(t, n, inner, nch, nblk)
        _col_basic(code, x, part[off:off + bl], base, k0, k1, inner, init)


@njit(parallel=True, **_J)
def _cols_par(code, x, part, ntask, n, inner, nch, nblk, init):
    for t in prange(ntask):
        o, j0, base, bl, k0, k1, off = _col_bounds(np.int64(t), n, inner, nch, nblk)
        _col_basic(code, x, part[off:off + bl], base, k0, k1, inner, init)


@njit(**_J)
def _fcols_ser(code, x, part, ntask, n, inner, nch, nblk, p, c):
    for t in range(ntask):
        o, j0, base, bl, k0, k1, off = _col_bounds(t, n, inner, nch, nblk)
        _col_flt(code, x, part[off:off + bl], base, k0, k1, inner, p, c[o * inner + j0:o * inner + j0 + bl])


@njit(parallel=True, **_J)
def _fcols_par(code, x, part, ntask, n, inner, nch, nblk, p, c):
    for t in prange(ntask):
        o, j0, base, bl, k0, k1, off = _col_bounds(np.int64(t), n, inner, nch, nblk)
        _col_flt(code, x, part[off:off + bl], base, k0, k1, inner, p, c[o * inner + j0:o * inner + j0 + bl])


@njit(inline='always', **_J)
def _finish_range(code, post, part, nch, inner, out, div, p, c, i0, i1):
    """Combine the nch partials of outputs i0..i1, apply the post-op, cast into out."""
    for i in range(i0, i1):
        j0 = i
        if nch > 1:
            o = i // inner
            j0 = o * nch * inner + i - o * inner
        s = part[j0]
        for ch in range(1, nch):
            s = _combine(code, s, part[j0 + ch * inner])
        if post == P_NONE:
            out[i] = s
        elif post == P_DIV:
            out[i] = s / div
        elif post == P_SQRTDIV:
            out[i] = np.sqrt(s / div)
        elif post == P_ROOT:
            out[i] = s ** (1.0 / p)
        elif post == P_LOGADD:
            out[i] = np.log(s) + c[i]
        elif post == P_ALL:
            out[i] = s == div
        else:
            out[i] = s > 0


@njit(**_J)
def _finish_ser(code, post, part, nch, inner, out, div, p, c):
    _finish_range(code, post, part, nch, inner, out, div, p, c, 0, out.size)


@njit(parallel=True, **_J)
def _finish_par(code, post, part, nch, inner, out, div, p, c):
    for b in prange((out.size + 4095) // 4096):
        i0 = np.int64(b) * 4096
        _finish_range(code, post, part, nch, inner, out, div, p, c, i0, min(out.size, i0 + 4096))


# ---------------------------------------------------------------- Python entry points
_OPS = ('sum', 'nansum', 'prod', 'mean', 'nanmean', 'max', 'min', 'amax', 'amin', 'all', 'any',
        'count_nonzero', 'var', 'std', 'norm', 'logsumexp')
_FLOAT_ONLY = ('var', 'std', 'norm', 'logsumexp', 'nanmean')


def _use_par(total, code=SUM):
    return PARALLEL and total >= (PAR_MIN if code < ABSDEV else PAR_MIN_STATS) and parallel_ok()


def _flat(a, name):
    if not isinstance(a, np.ndarray) or a.ndim != 1 or not a.flags.c_contiguous:
        raise ValueError(f"{name} must be a contiguous 1-D numpy array")
    if a.dtype == np.bool_:
        return a.view(np.uint8)  # bool is computed as bytes
    if a.dtype.kind not in 'iuf' or a.dtype == np.uint64 or a.dtype == np.float16:
        raise TypeError(f"unsupported dtype {a.dtype} for a reduction kernel")
    return a


def _check(x, outer, n, inner, out, out_name='out', out_len=None):
    if min(outer, n, inner) < 0:
        raise ValueError("negative size")
    if x.size != outer * n * inner:
        raise ValueError(f"input has {x.size} elements, expected {outer}*{n}*{inner}")
    want = outer * inner if out_len is None else out_len
    if out is not None and out.size != want:
        raise ValueError(f"{out_name} has {out.size} elements, expected {want}")


def needs_nonempty(op, p=2.0):
    """True if reducing an empty dim has no identity, so the caller must raise like torch."""
    if op in ('max', 'min', 'argmax', 'argmin', 'amax', 'amin', 'aminmax'):
        return True
    return op == 'norm' and (p < 0 or p in (np.inf, -np.inf))


def _plan(outer, n, inner, par):
    """(chunks of the reduced axis per output, column blocks): enough tasks to feed every thread."""
    nblk = 1 if inner == 1 else -(-inner // _BL)
    if not par:
        return 1, nblk
    want = max(1, -(-8 * numba.get_num_threads() // (outer * nblk)))
    return int(min(max(1, n // (_CHUNK if inner == 1 else 64)), want)), nblk


def _run_add(code, post, x, outer, n, inner, out, div=1.0, p=2.0, c=None):
    """One additive-family reduction of x (outer, n, inner) into out (n >= 1)."""
    flt = code >= ABSDEV
    acc = np.float64 if (flt or x.dtype.kind == 'f') else np.int64
    if flt and c is None:
        c = np.zeros(outer * inner)
    par = _use_par(x.size, code)
    nch, nblk = _plan(outer, n, inner, par)
    direct = nch == 1 and post == P_NONE  # the partials are the result: no finish kernel
    part = out if (direct and out.dtype == acc) else np.empty(outer * nch * inner, acc)
    nt = outer * nch
    if inner == 1 and flt:
        if par:
            _frows_par(code, x, part, nt, n, nch, float(p), c, min(nt, _NG))
        else:
            _frows_ser(code, x, part, nt, n, nch, float(p), c)
    elif inner == 1:
        if par:
            _rows_par(code, x, part, nt, n, nch, acc(code == PROD), min(nt, _NG))
        else:
            _rows_ser(code, x, part, nt, n, nch, acc(code == PROD))
    elif flt:
        (_fcols_par if par else _fcols_ser)(code, x, part, outer * nch * nblk, n, inner, nch, nblk,
                                            float(p), c)
    else:
        (_cols_par if par else _cols_ser)(code, x, part, outer * nch * nblk, n, inner, nch, nblk,
                                          acc(code == PROD))
    if direct:
        if part is not out:
            out[...] = part
        return out
    # the finish writes float64 (or int64 for integer results) and NumPy casts: few specializations
    rdt = np.float64 if (acc is np.float64 or post in (P_DIV, P_SQRTDIV, P_ROOT, P_LOGADD)) else np.int64
    res = out if out.dtype == rdt else np.empty(out.size, rdt)
    fin = _finish_par if _use_par(part.size) else _finish_ser
    fin(code, post, part, nch, inner, res, float(div), float(p), _EMPTY if c is None else c)
    if res is not out:
        out[...] = res
    return out


def norm_plan(p):
    """(statistic code, post-op) of a p-norm (shared with the CUDA twin)."""
    if p == 2.0:
        return SQDEV, P_SQRTDIV
    if p == 1.0:
        return ABSDEV, P_NONE
    if p == np.inf or p == -np.inf:
        return (ABSMAX if p > 0 else ABSMIN), P_NONE
    if p == 0.0:
        return CNTNZ, P_NONE
    return POWSUM, P_ROOT


def _norm(x, outer, n, inner, out, p):
    code, post = norm_plan(float(p))
    return _run_add(code, post, x, outer, n, inner, out, p=float(p))


_EMPTY_FILL = {'sum': 0, 'nansum': 0, 'prod': 1, 'mean': np.nan, 'nanmean': np.nan, 'all': True,
               'any': False, 'count_nonzero': 0, 'var': np.nan, 'std': np.nan, 'norm': 0.0,
               'logsumexp': -np.inf}
_BASIC = {'sum': (SUM, P_NONE), 'nansum': (NANSUM, P_NONE), 'prod': (PROD, P_NONE),
          'count_nonzero': (CNTNZ, P_NONE), 'all': (CNTNZ, P_ALL), 'any': (CNTNZ, P_ANY),
          'mean': (SUM, P_DIV)}


def reduce(op, x, outer, n, inner, out, correction=1, p=2.0):
    """out[o, i] = op(x[o, :, i]) for a contiguous x of outer*n*inner elements; returns out.

    op: sum, nansum, prod, mean, nanmean, max, min (amax, amin), all, any, count_nonzero, var, std (correction),
    norm (p), logsumexp. Results are cast into out's dtype (the caller's choice). Sums and products
    accumulate in float64 (float inputs) or int64 (int/bool inputs, wrapping); float-only ops
    (var, std, norm, logsumexp, nanmean) compute int inputs in float64. max/min of an empty dim raise.
    """
    if on_device(x):
        return cuda_impl("reduction").reduce(op, x, outer, n, inner, out, correction, p)
    if op not in _OPS:
        raise ValueError(f"unknown reduction {op!r}")
    _check(x, outer, n, inner, out)
    xv, ov = _flat(x, 'x'), _flat(out, 'out')
    if outer * inner == 0:
        return out
    if n == 0:
        if needs_nonempty(op, p):
            raise RuntimeError(f"{op}(): Expected reduction dim to have non-zero size.")
        out[:] = _EMPTY_FILL[op]
        return out
    if op in _FLOAT_ONLY and xv.dtype.kind != 'f':
        xv = xv.astype(np.float64)
    if op in _BASIC:
        code, post = _BASIC[op]
        _run_add(code, post, xv, outer, n, inner, ov, div=n)
    elif op in ('max', 'min', 'amax', 'amin'):
        _api('arg_reduce')(op[-3:], x, outer, n, inner, out, np.empty(outer * inner, np.int64))
    elif op == 'nanmean':
        s = _run_add(NANSUM, P_NONE, xv, outer, n, inner, np.empty(outer * inner))
        cnt = _run_add(CNTVALID, P_NONE, xv, outer, n, inner, np.empty(outer * inner))
        with np.errstate(invalid='ignore', divide='ignore'):
            ov[:] = s / cnt
    elif op in ('var', 'std'):
        mean = _run_add(SUM, P_DIV, xv, outer, n, inner, np.empty(outer * inner), div=n)
        _run_add(SQDEV, P_DIV if op == 'var' else P_SQRTDIV, xv, outer, n, inner, ov,
                 div=max(0.0, n - correction), c=mean)
    elif op == 'norm':
        _norm(xv, outer, n, inner, ov, p)
    else:  # logsumexp: shift by the max, unless infinite (then exp(x - 0) keeps inf/-inf exact)
        m = np.empty(outer * inner, xv.dtype)
        _api('arg_reduce')('max', xv, outer, n, inner, m, np.empty(outer * inner, np.int64))
        c = m.astype(np.float64)
        c[np.isinf(c)] = 0.0
        _run_add(EXPDEV, P_LOGADD, xv, outer, n, inner, ov, c=c)
    return out


_LAZY = {'scan': 'scan', 'softmax': 'softmax', 'softmax_backward': 'softmax', 'arg_reduce': 'argreduce'}


def _api(name):
    f = globals().get(name)
    if f is None:
        import importlib
        f = getattr(importlib.import_module('numtorch.kernels.' + _LAZY[name]), name)
        globals()[name] = f
    return f


def __getattr__(name):
    """arg_reduce and the scan/softmax entry points, imported on first use (their modules import this)."""
    if name in _LAZY:
        return _api(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
