"""Scan kernels (cumsum, cumprod, cummax, cummin, logcumsumexp) over the middle axis (softmax: softmax.py).

Same layout as reduction.py: a contiguous (outer, n, inner) buffer, output of the same shape. Rows
(inner == 1) run one sequential loop per row; columns (inner > 1) carry a running row of `inner` values
so dim=0 needs no transpose. Tasks are rows or (outer, column block) pairs; big inputs run in parallel.
cumsum/cumprod/logcumsumexp accumulate in float64 (float inputs, like torch's CPU double accumulator)
or int64 (int/bool inputs, wrapping).
"""
import numpy as np
from numba import njit, prange

from numtorch.kernels import reduction as _red
from numtorch.kernels._device import cuda_impl, on_device

_BL = 1024  # column block width
_J = dict(cache=True, error_model='numpy')
_JF = dict(cache=True, error_model='numpy', fastmath={'reassoc'})  # sums only; NaN/inf kept

CUMSUM, CUMPROD, LOGCUMSUMEXP, CUMMAX, CUMMIN = range(5)
_SCANS = {'cumsum': CUMSUM, 'cumprod': CUMPROD, 'logcumsumexp': LOGCUMSUMEXP, 'cummax': CUMMAX,
          'cummin': CUMMIN}


@njit(inline='always', **_J)
def _lae(a, b):
    """log(exp(a) + exp(b)) as torch's logcumsumexp: NaN propagates, equal infinities stay."""
    mn = b if (b != b or b < a) else a
    mx = b if (b != b or a < b) else a
    if mn != mx or np.isfinite(mn):
        return np.log1p(np.exp(mn - mx)) + mx
    return a


@njit(inline='always', **_J)
def _take(code, v, b):
    """cummax/cummin update rule of torch: NaN sticks, ties take the later index."""
    if code == CUMMAX:
        return (v != v) | ((b == b) & (v >= b))
    return (v != v) | ((b == b) & (v <= b))


@njit(inline='always', **_J)
def _span(t, n, inner, nblk):
    """(offset of row 0, width) of task t: a whole row (inner == 1) or a block of <= _BL columns."""
    if inner == 1:
        return t * n, 1
    o = t // nblk
    j0 = (t - o * nblk) * _BL
    return o * n * inner + j0, min(inner, j0 + _BL) - j0


@njit(**_J)
def _cum(code, x, out, base, n, inner, bl, init):
    """cumsum / cumprod (init's type) or logcumsumexp (float64) of one task."""
    if inner == 1:
        src = x[base:base + n]
        dst = out[base:base + n]
        if code == CUMSUM:
            s = init
            for j in range(n):
                s += src[j]
                dst[j] = s
        elif code == CUMPROD:
            q = init
            for j in range(n):
                q *= src[j]
                dst[j] = q
        else:
            f = -np.inf
            for j in range(n):
                f = _lae(f, np.float64(src[j]))
                dst[j] = f
        return
    acc = np.full(bl, init)
    lac = np.full(bl, -np.inf)
    for k in range(n):
        src = x[base + k * inner:base + k * inner + bl]
        dst = out[base + k * inner:base + k * inner + bl]
        if code == CUMSUM:
            for j in range(bl):
                acc[j] += src[j]
                dst[j] = acc[j]
        elif code == CUMPROD:
            for j in range(bl):
                acc[j] *= src[j]
                dst[j] = acc[j]
        else:
            for j in range(bl):
                lac[j] = _lae(lac[j], np.float64(src[j]))
                dst[j] = lac[j]


@njit(**_J)
def _cum_ser(code, x, out, ntask, n, inner, nblk, init):
    for t in range(ntask):
        base, bl = _span(t, n, inner, nblk)
        _cum(code, x, out, base, n, inner, bl, init)


@njit(parallel=True, **_J)
def _cum_par(code, x, out, ntask, n, inner, nblk, init):
    for t in prange(ntask):
        base, bl = _span(np.int64(t), n, inner, nblk)
        _cum(code, x, out, base, n, inner, bl, init)


@njit(**_J)
def _cumext(code, x, out, oi, base, n, inner, bl):
    """cummax / cummin values and int64 indices of one task."""
    if inner == 1:
        src = x[base:base + n]
        dst = out[base:base + n]
        di = oi[base:base + n]
        b = src[0]
        bi = 0
        for j in range(n):
            v = src[j]
            if _take(code, v, b):
                b = v
                bi = j
            dst[j] = b
            di[j] = bi
        return
    for j in range(bl):
        out[base + j] = x[base + j]
        oi[base + j] = 0
    for k in range(1, n):
        src = x[base + k * inner:base + k * inner + bl]
        prv = out[base + (k - 1) * inner:base + (k - 1) * inner + bl]
        dst = out[base + k * inner:base + k * inner + bl]
        pi = oi[base + (k - 1) * inner:base + (k - 1) * inner + bl]
        di = oi[base + k * inner:base + k * inner + bl]
        for j in range(bl):
            v = src[j]
            b = prv[j]
            t = _take(code, v, b)
            dst[j] = v if t else b
            di[j] = k if t else pi[j]


@njit(**_J)
def _cumext_ser(code, x, out, oi, ntask, n, inner, nblk):
    for t in range(ntask):
        base, bl = _span(t, n, inner, nblk)
        _cumext(code, x, out, oi, base, n, inner, bl)


@njit(parallel=True, **_J)
def _cumext_par(code, x, out, oi, ntask, n, inner, nblk):
    for t in prange(ntask):
        base, bl = _span(np.int64(t), n, inner, nblk)
        _cumext(code, x, out, oi, base, n, inner, bl)


# ---------------------------------------------------------------- Python entry points
def _tasks(outer, inner):
    nblk = 1 if inner == 1 else -(-inner // _BL)
    return outer * nblk, nblk


def scan(op, x, outer, n, inner, out, out_indices=None):
    """Inclusive scan along the middle axis of (outer, n, inner); returns out (or (out, out_indices)).

    op: cumsum, cumprod, logcumsumexp (values into out, cast to its dtype) or cummax, cummin (out of
    x's dtype plus an int64 out_indices; ties take the later index, NaN sticks, as in torch).
    """
    if on_device(x):
        return cuda_impl("reduction").scan(op, x, outer, n, inner, out, out_indices)
    if op not in _SCANS:
        raise ValueError(f"unknown scan {op!r}")
    code = _SCANS[op]
    total = outer * n * inner
    _red._check(x, outer, n, inner, out, 'out', total)
    xv, ov = _red._flat(x, 'x'), _red._flat(out, 'out')
    if code >= CUMMAX:
        _red._check(x, outer, n, inner, out_indices, 'out_indices', total)
        if out_indices is None or out_indices.dtype != np.int64 or not out_indices.flags.c_contiguous:
            raise ValueError(f"{op} needs a contiguous int64 out_indices buffer")
        oi = out_indices
        if ov.dtype != xv.dtype:
            raise ValueError(f"{op}: out must have the input's dtype")
    else:
        oi = np.empty(0, np.int64)
        if code == LOGCUMSUMEXP and xv.dtype.kind != 'f':
            xv = xv.astype(np.float64)
    if total == 0:
        return out if code < CUMMAX else (out, out_indices)
    ntask, nblk = _tasks(outer, inner)
    par = _red._use_par(total) and ntask > 1
    if code >= CUMMAX:
        (_cumext_par if par else _cumext_ser)(code, xv, ov, oi, ntask, n, inner, nblk)
        return out, out_indices
    init = (np.float64 if xv.dtype.kind == 'f' else np.int64)(1 if code == CUMPROD else 0)
    (_cum_par if par else _cum_ser)(code, xv, ov, ntask, n, inner, nblk, init)
    return out
