"""CUDA twins of the reduction entry points: ``reduce`` (kernels/reduction.py), ``arg_reduce``
(kernels/argreduce.py), ``scan``, ``softmax``, ``softmax_backward``, ``log_softmax_backward``
(kernels/scan.py), with the CPU's arguments and results (device arrays in place of NumPy ones).

Layout is the CPU's contiguous (outer, n, inner) block. Reductions and softmax run one block per
output row ``(o, i)``: the threads stride over the reduced axis and combine through a shared-memory
tree. Sums accumulate in float64 (float inputs) or int64 (int/bool inputs, wrapping) like the CPU.
When there are too few rows to fill the GPU (a full reduction), each row is split into ``nch``
chunks: one block per chunk writes a partial (laid out (outer, nch, inner) like the CPU's), and a
second launch combines the partials in chunk order. Arg reductions keep only indices in shared
memory (values are re-read from x), so one kernel serves every dtype. Scans run one thread per row,
serially, so cumsum adds in the CPU's order.

math.* in the device helpers is guarded (exp overflow, log(0), x**-p at 0): the simulator runs it
as Python's math, which raises where the GPU returns inf/NaN.
"""
import math

import numpy as np
from numba import cuda, float64, int64

from numtorch.kernels.cuda import SIM, _sm_count, block_threads, empty, launch
from numtorch.kernels.reduction import (norm_plan, _BASIC, _EMPTY_FILL, _FLOAT_ONLY, _OPS, ABSDEV, ABSMAX,
                                        ABSMIN, CNTNZ, CNTVALID, EXPDEV, NANSUM, P_ALL, P_DIV,
                                        P_LOGADD, P_NONE, P_ROOT, P_SQRTDIV, POWSUM, PROD, SQDEV, SUM,
                                        _check, needs_nonempty)
from numtorch.kernels.scan import _SCANS, CUMMAX, CUMPROD, CUMSUM, LOGCUMSUMEXP

__all__ = ['reduce', 'arg_reduce', 'scan', 'softmax', 'softmax_backward', 'log_softmax_backward',
           'needs_nonempty']

MAXV = 11                        # plain NaN-propagating max (logsumexp's shift, softmax's max)
_SH = 256                        # shared-memory tree size: >= block_threads(), a power of two
_CHUNK = 64 if SIM else 4096     # fewest reduced elements worth a block of their own
_COL_MIN = 4 if SIM else 32      # inner size from which a thread per column reads coalesced
_INF = float('inf')
_NAN = float('nan')
_EXP_MAX = 709.782712893384      # log(DBL_MAX): exp above it is inf
_FEED = []                       # blocks that fill the GPU (computed once)


def _feed():
    if not _FEED:
        _FEED.append(4 if SIM else 4 * _sm_count())
    return _FEED[0]


def _blocks(items):
    """Grid of a one-block-per-row kernel (the blocks stride over the rest)."""
    return max(1, min(int(items), 2 if SIM else 16 * _sm_count()))


def _nch(rows, n):
    """Chunks per row: 1 unless the rows alone leave the GPU idle and the rows are long."""
    if rows >= _feed() or n < 2 * _CHUNK:
        return 1
    return int(min(n // _CHUNK, -(-_feed() // rows)))


# ----------------------------------------------------------------------------- device helpers
@cuda.jit(device=True)
def _combine(code, a, b):
    """Merge two partials (a first in order); max/min keep NaN."""
    if code == PROD:
        return a * b
    if code == ABSMAX or code == MAXV:
        return a if (a > b or a != a) else b
    if code == ABSMIN:
        return a if (a < b or a != a) else b
    return a + b


@cuda.jit(device=True)
def _exp(d):
    if d > _EXP_MAX:
        return _INF
    return math.exp(d)


@cuda.jit(device=True)
def _log(v):
    if v == 0:
        return -_INF
    if v < 0:
        return _NAN
    return math.log(v)


@cuda.jit(device=True)
def _sqrt(v):
    if v < 0:
        return _NAN
    return math.sqrt(v)


@cuda.jit(device=True)
def _pow(a, e):
    """a ** e for a >= 0 (or NaN)."""
    if a == 0:
        if e > 0:
            return 0.0
        return 1.0 if e == 0 else _INF
    return a ** e


@cuda.jit(device=True)
def _div(s, d):
    """s / d with IEEE results for d == 0 (d is never negative here)."""
    if d == 0:
        if s == 0 or s != s:
            return _NAN
        return _INF if s > 0 else -_INF
    return s / d


@cuda.jit(device=True)
def _shift(c, j, hasc):
    """logsumexp's shift of output j: its max, or 0 where that is infinite (keeps inf/-inf exact)."""
    if hasc == 0:
        return 0.0
    v = np.float64(c[j])
    if v == _INF or v == -_INF:
        return 0.0
    return v


@cuda.jit(device=True)
def _tree(code, sh, s):
    """Combine every thread's s through sh; every thread gets the result."""
    tid = cuda.threadIdx.x
    sh[tid] = s
    cuda.syncthreads()
    step = cuda.blockDim.x // 2
    while step > 0:
        if tid < step:
            sh[tid] = _combine(code, sh[tid], sh[tid + step])
        cuda.syncthreads()
        step //= 2
    r = sh[0]
    cuda.syncthreads()  # sh is reused by the block's next row
    return r


@cuda.jit(device=True)
def _task(t, n, inner, nch):
    """(x offset of row element 0, first k, end k, output index) of block task t = (o*nch + ch)*inner + i."""
    r = t // inner
    i = t - r * inner
    o = r // nch
    ch = r - o * nch
    return o * n * inner + i, (n * ch) // nch, (n * (ch + 1)) // nch, o * inner + i


@cuda.jit(device=True)
def _store(post, out, t, s, div, p, c, j, hasc):
    """Apply the post-op to s and cast it into out[t]."""
    if post == P_NONE:
        out[t] = s
    elif post == P_DIV:
        out[t] = _div(s, div)
    elif post == P_SQRTDIV:
        out[t] = _sqrt(_div(s, div))
    elif post == P_ROOT:
        out[t] = _pow(s, 1.0 / p)
    elif post == P_LOGADD:
        out[t] = _log(s) + _shift(c, j, hasc)
    elif post == P_ALL:
        out[t] = s == div
    else:
        out[t] = s > 0


@cuda.jit(device=True)
def _part_basic(code, x, base, k0, k1, inner, init, first, step):
    """This thread's SUM/PROD/NANSUM/CNTNZ/CNTVALID partial of x[base + k*inner], k = k0 + first,
    k0 + first + step, ... below k1."""
    s = init
    k = k0 + first
    while k < k1:
        v = x[base + k * inner]
        if code == SUM:
            s += v
        elif code == PROD:
            s *= v
        elif code == NANSUM:
            if v == v:
                s += v
        elif code == CNTVALID:
            if v == v:
                s += 1
        elif v != 0:
            s += 1
        k += step
    return s


@cuda.jit(device=True)
def _part_flt(code, x, base, k0, k1, inner, p, cv, first, step):
    """This thread's float64 statistic: sum |x-c| or (x-c)**2, max/min |x|, max x, sum |x|**p, sum exp(x-c)."""
    s = 0.0
    if code == ABSMIN:
        s = _INF
    elif code == MAXV:
        s = -_INF
    k = k0 + first
    while k < k1:
        v = np.float64(x[base + k * inner])
        if code == ABSDEV:
            s += abs(v - cv)
        elif code == SQDEV:
            d = v - cv
            s += d * d
        elif code == POWSUM:
            s += _pow(abs(v), p)
        elif code == EXPDEV:
            s += _exp(v - cv)
        elif code == MAXV:
            s = _combine(code, v, s)
        else:
            s = _combine(code, abs(v), s)
        k += step
    return s


@cuda.jit(device=True)
def _basic_body(code, post, x, out, ntask, n, inner, nch, div, p, c, hasc, init, sh):
    t = cuda.blockIdx.x
    while t < ntask:
        base, k0, k1, j = _task(t, n, inner, nch)
        s = _tree(code, sh, _part_basic(code, x, base, k0, k1, inner, init, cuda.threadIdx.x, cuda.blockDim.x))
        if cuda.threadIdx.x == 0:
            _store(post, out, t, s, div, p, c, j, hasc)
        t += cuda.gridDim.x


@cuda.jit(cache=True)
def _k_basic_f(code, post, x, out, ntask, n, inner, nch, div, p, c, hasc, init):
    sh = cuda.shared.array(_SH, float64)
    _basic_body(code, post, x, out, ntask, n, inner, nch, div, p, c, hasc, init, sh)


@cuda.jit(cache=True)
def _k_basic_i(code, post, x, out, ntask, n, inner, nch, div, p, c, hasc, init):
    sh = cuda.shared.array(_SH, int64)
    _basic_body(code, post, x, out, ntask, n, inner, nch, div, p, c, hasc, init, sh)


@cuda.jit(cache=True)
def _k_flt(code, post, x, out, ntask, n, inner, nch, div, p, c, hasc):
    sh = cuda.shared.array(_SH, float64)
    t = cuda.blockIdx.x
    while t < ntask:
        base, k0, k1, j = _task(t, n, inner, nch)
        cv = _shift(c, j, hasc) if code == EXPDEV else (np.float64(c[j]) if hasc != 0 else 0.0)
        s = _tree(code, sh, _part_flt(code, x, base, k0, k1, inner, p, cv, cuda.threadIdx.x, cuda.blockDim.x))
        if cuda.threadIdx.x == 0:
            _store(post, out, t, s, div, p, c, j, hasc)
        t += cuda.gridDim.x


# Column reductions (inner >= _COL_MIN): a block per column would read with stride ``inner``
# (uncoalesced); instead each thread reduces one column serially, so a warp reads 32 adjacent elements.
@cuda.jit(cache=True)
def _k_col_basic(code, post, x, out, ntask, n, inner, nch, div, p, c, hasc, init):
    t = cuda.grid(1)
    while t < ntask:
        base, k0, k1, j = _task(t, n, inner, nch)
        _store(post, out, t, _part_basic(code, x, base, k0, k1, inner, init, 0, 1), div, p, c, j, hasc)
        t += cuda.gridsize(1)


@cuda.jit(cache=True)
def _k_col_flt(code, post, x, out, ntask, n, inner, nch, div, p, c, hasc):
    t = cuda.grid(1)
    while t < ntask:
        base, k0, k1, j = _task(t, n, inner, nch)
        cv = _shift(c, j, hasc) if code == EXPDEV else (np.float64(c[j]) if hasc != 0 else 0.0)
        _store(post, out, t, _part_flt(code, x, base, k0, k1, inner, p, cv, 0, 1), div, p, c, j, hasc)
        t += cuda.gridsize(1)


@cuda.jit(cache=True)
def _k_finish(code, post, part, out, nout, nch, inner, div, p, c, hasc):
    """Combine the nch partials of each output in chunk order, apply the post-op."""
    j = cuda.grid(1)
    while j < nout:
        o = j // inner
        j0 = o * nch * inner + j - o * inner
        s = part[j0]
        for ch in range(1, nch):
            s = _combine(code, s, part[j0 + ch * inner])
        _store(post, out, j, s, div, p, c, j, hasc)
        j += cuda.gridsize(1)


@cuda.jit(cache=True)
def _k_fill(out, v):
    i = cuda.grid(1)
    while i < out.size:
        out[i] = v
        i += cuda.gridsize(1)


@cuda.jit(cache=True)
def _k_ratio(a, b, out):
    i = cuda.grid(1)
    while i < out.size:
        out[i] = _div(a[i], b[i])
        i += cuda.gridsize(1)


# ----------------------------------------------------------------------------- arg reductions
@cuda.jit(device=True)
def _beats(x, base, inner, a, b, want_max):
    """True if row index b replaces a (-1: none): the first NaN, else the first extreme."""
    if b < 0:
        return False
    if a < 0:
        return True
    va = x[base + a * inner]
    vb = x[base + b * inner]
    an = va != va
    bn = vb != vb
    if an or bn:
        if an and bn:
            return b < a
        return bn
    if va == vb:
        return b < a
    return vb > va if want_max else vb < va


@cuda.jit(cache=True)
def _k_arg(x, ov, oi, ntask, n, inner, nch, want_max, has_vals):
    """Per block task: the winning row index (into oi[t]) and, with has_vals, its value (ov[t])."""
    sh = cuda.shared.array(_SH, int64)
    tid = cuda.threadIdx.x
    t = cuda.blockIdx.x
    while t < ntask:
        base, k0, k1, j = _task(t, n, inner, nch)
        b = np.int64(-1)
        k = k0 + tid
        while k < k1:
            if _beats(x, base, inner, b, k, want_max):
                b = k
            k += cuda.blockDim.x
        sh[tid] = b
        cuda.syncthreads()
        step = cuda.blockDim.x // 2
        while step > 0:
            if tid < step and _beats(x, base, inner, sh[tid], sh[tid + step], want_max):
                sh[tid] = sh[tid + step]
            cuda.syncthreads()
            step //= 2
        if tid == 0:
            oi[t] = sh[0]
            if has_vals:
                ov[t] = x[base + sh[0] * inner]
        cuda.syncthreads()
        t += cuda.gridDim.x


@cuda.jit(cache=True)
def _k_arg_col(x, ov, oi, m, n, inner, want_max, has_vals):
    """Columns (inner >= _COL_MIN): a thread per output scans its column, reads coalesced per warp."""
    j = cuda.grid(1)
    while j < m:
        o = j // inner
        base = o * n * inner + j - o * inner
        b = np.int64(0)
        for k in range(1, n):
            if _beats(x, base, inner, b, k, want_max):
                b = k
        oi[j] = b
        if has_vals:
            ov[j] = x[base + b * inner]
        j += cuda.gridsize(1)


@cuda.jit(cache=True)
def _k_arg_finish(x, part, ov, oi, nout, n, nch, inner, want_max, has_vals):
    j = cuda.grid(1)
    while j < nout:
        o = j // inner
        base = o * n * inner + j - o * inner
        j0 = o * nch * inner + j - o * inner
        b = part[j0]
        for ch in range(1, nch):
            if _beats(x, base, inner, b, part[j0 + ch * inner], want_max):
                b = part[j0 + ch * inner]
        oi[j] = b
        if has_vals:
            ov[j] = x[base + b * inner]
        j += cuda.gridsize(1)


# ----------------------------------------------------------------------------- scans
@cuda.jit(device=True)
def _lae(a, b):
    """log(exp(a) + exp(b)) as torch's logcumsumexp: NaN propagates, equal infinities stay."""
    mn = b if (b != b or b < a) else a
    mx = b if (b != b or a < b) else a
    if mn != mx or (mn == mn and mn != _INF and mn != -_INF):
        return math.log1p(math.exp(mn - mx)) + mx
    return a


@cuda.jit(cache=True)
def _k_cum(code, x, out, nrows, n, inner, init):
    """cumsum / cumprod (init's type) or logcumsumexp (float64) of one row per thread, in order."""
    r = cuda.grid(1)
    while r < nrows:
        o = r // inner
        base = o * n * inner + r - o * inner
        s = init
        f = -_INF
        for k in range(n):
            q = base + k * inner
            if code == CUMSUM:
                s += x[q]
                out[q] = s
            elif code == CUMPROD:
                s *= x[q]
                out[q] = s
            else:
                f = _lae(f, np.float64(x[q]))
                out[q] = f
        r += cuda.gridsize(1)


@cuda.jit(cache=True)
def _k_cumext(want_max, x, out, oi, nrows, n, inner):
    """cummax / cummin with indices: NaN sticks, ties take the later index."""
    r = cuda.grid(1)
    while r < nrows:
        o = r // inner
        base = o * n * inner + r - o * inner
        b = x[base]
        bi = 0
        for k in range(n):
            v = x[base + k * inner]
            if (v != v) or ((b == b) and (v >= b if want_max else v <= b)):
                b = v
                bi = k
            out[base + k * inner] = b
            oi[base + k * inner] = bi
        r += cuda.gridsize(1)


# ----------------------------------------------------------------------------- softmax
@cuda.jit(cache=True)
def _k_softmax(x, out, nrows, n, inner, log):
    sh = cuda.shared.array(_SH, float64)
    tid = cuda.threadIdx.x
    nt = cuda.blockDim.x
    r = cuda.blockIdx.x
    while r < nrows:
        o = r // inner
        base = o * n * inner + r - o * inner
        m = -_INF
        k = tid
        while k < n:
            m = _combine(MAXV, np.float64(x[base + k * inner]), m)
            k += nt
        m = _tree(MAXV, sh, m)
        s = 0.0
        k = tid
        while k < n:
            e = _exp(np.float64(x[base + k * inner]) - m)
            if not log:
                out[base + k * inner] = e
            s += e
            k += nt
        s = _tree(SUM, sh, s)
        c = m + _log(s) if log else 1.0 / s
        k = tid
        while k < n:
            q = base + k * inner
            if log:
                out[q] = x[q] - c
            else:
                out[q] = out[q] * c
            k += nt
        r += cuda.gridDim.x


@cuda.jit(cache=True)
def _k_softmax_bw(g, y, out, nrows, n, inner, log):
    """softmax: y * (g - sum(g * y)); log_softmax: g - exp(y) * sum(g)."""
    sh = cuda.shared.array(_SH, float64)
    tid = cuda.threadIdx.x
    nt = cuda.blockDim.x
    r = cuda.blockIdx.x
    while r < nrows:
        o = r // inner
        base = o * n * inner + r - o * inner
        s = 0.0
        k = tid
        while k < n:
            q = base + k * inner
            s += np.float64(g[q]) if log else np.float64(g[q]) * y[q]
            k += nt
        s = _tree(SUM, sh, s)
        k = tid
        while k < n:
            q = base + k * inner
            if log:
                out[q] = g[q] - _exp(np.float64(y[q])) * s
            else:
                out[q] = y[q] * (g[q] - s)
            k += nt
        r += cuda.gridDim.x


# ----------------------------------------------------------------------------- Python entry points
_ZERO = []  # a one-element float64 device buffer standing in for "no centres"


def _nocentre():
    if not _ZERO:
        _ZERO.append(cuda.to_device(np.zeros(1)))
    return _ZERO[0]


def _dflat(a, name):
    """The CPU's _flat checks for a device buffer (bool is computed as is)."""
    if a.ndim != 1 or not a.is_c_contiguous():
        raise ValueError(f"{name} must be a contiguous 1-D device array")
    dt = a.dtype
    if dt != np.bool_ and (dt.kind not in 'iuf' or dt == np.uint64 or dt == np.float16):
        raise TypeError(f"unsupported dtype {dt} for a reduction kernel")
    return a


def _grid(ntask):
    return _blocks(ntask), block_threads()


def _run(code, post, x, outer, n, inner, out, div=1.0, p=2.0, c=None, facc=False):
    """One additive-family reduction of x (outer, n, inner) into out (n >= 1); facc: float64 sums."""
    rows = outer * inner
    nch = _nch(rows, n)
    ntask = rows * nch
    fl = code >= ABSDEV or code == MAXV
    f64 = fl or facc or x.dtype.kind == 'f'
    dst, ps = (out, post) if nch == 1 else (empty(ntask, np.float64 if f64 else np.int64), P_NONE)
    cc, hasc = (_nocentre(), 0) if c is None else (c, 1)
    div, p = float(div), float(p)
    if inner >= _COL_MIN:
        init = np.float64(code == PROD) if f64 else np.int64(code == PROD)
        if fl:
            _k_col_flt[launch(ntask)](code, ps, x, dst, ntask, n, inner, nch, div, p, cc, hasc)
        else:
            _k_col_basic[launch(ntask)](code, ps, x, dst, ntask, n, inner, nch, div, p, cc, hasc, init)
    elif fl:
        _k_flt[_grid(ntask)](code, ps, x, dst, ntask, n, inner, nch, div, p, cc, hasc)
    elif f64:
        _k_basic_f[_grid(ntask)](code, ps, x, dst, ntask, n, inner, nch, div, p, cc, hasc,
                                 np.float64(code == PROD))
    else:
        _k_basic_i[_grid(ntask)](code, ps, x, dst, ntask, n, inner, nch, div, p, cc, hasc,
                                 np.int64(code == PROD))
    if nch > 1:
        _k_finish[launch(rows)](code, post, dst, out, rows, nch, inner, div, p, cc, hasc)
    return out


def _norm(x, outer, n, inner, out, p):
    code, post = norm_plan(float(p))
    return _run(code, post, x, outer, n, inner, out, p=float(p), facc=code == CNTNZ)


def reduce(op, x, outer, n, inner, out, correction=1, p=2.0):
    """CUDA twin of kernels.reduction.reduce: out[o, i] = op(x[o, :, i]); returns out."""
    if op not in _OPS:
        raise ValueError(f"unknown reduction {op!r}")
    _check(x, outer, n, inner, out)
    _dflat(x, 'x')
    _dflat(out, 'out')
    m = outer * inner
    if m == 0:
        return out
    if n == 0:
        if needs_nonempty(op, p):
            raise RuntimeError(f"{op}(): Expected reduction dim to have non-zero size.")
        _k_fill[launch(m)](out, float(_EMPTY_FILL[op]))
        return out
    facc = op in _FLOAT_ONLY
    if op in _BASIC:
        code, post = _BASIC[op]
        _run(code, post, x, outer, n, inner, out, div=n)
    elif op in ('max', 'min', 'amax', 'amin'):
        arg_reduce(op[-3:], x, outer, n, inner, out, empty(m, np.int64))
    elif op == 'nanmean':
        s = _run(NANSUM, P_NONE, x, outer, n, inner, empty(m, np.float64), facc=True)
        cnt = _run(CNTVALID, P_NONE, x, outer, n, inner, empty(m, np.float64), facc=True)
        _k_ratio[launch(m)](s, cnt, out)
    elif op in ('var', 'std'):
        mean = _run(SUM, P_DIV, x, outer, n, inner, empty(m, np.float64), div=n, facc=facc)
        _run(SQDEV, P_DIV if op == 'var' else P_SQRTDIV, x, outer, n, inner, out,
             div=max(0.0, n - correction), c=mean)
    elif op == 'norm':
        _norm(x, outer, n, inner, out, p)
    else:  # logsumexp: shift by the max, unless infinite (_shift then uses 0)
        mx = _run(MAXV, P_NONE, x, outer, n, inner, empty(m, np.float64))
        _run(EXPDEV, P_LOGADD, x, outer, n, inner, out, c=mx)
    return out


def arg_reduce(op, x, outer, n, inner, out_values, out_indices):
    """CUDA twin of kernels.argreduce.arg_reduce: first occurrence of the extreme, NaN wins."""
    if op not in ('max', 'min', 'argmax', 'argmin'):
        raise ValueError(f"unknown arg reduction {op!r}")
    _check(x, outer, n, inner, out_values, 'out_values')
    _check(x, outer, n, inner, out_indices, 'out_indices')
    if out_indices.dtype != np.int64 or out_indices.ndim != 1 or not out_indices.is_c_contiguous():
        raise ValueError("out_indices must be a contiguous 1-D int64 array")
    _dflat(x, 'x')
    m = outer * inner
    if m == 0:
        return out_values, out_indices
    if n == 0:
        raise RuntimeError(f"{op}(): Expected reduction dim to have non-zero size.")
    has_vals = out_values is not None
    ov = _dflat(out_values, 'out_values') if has_vals else x  # x: a typed stand-in, never written
    want_max = op in ('max', 'argmax')
    nch = _nch(m, n)
    if nch == 1 and inner >= _COL_MIN:
        _k_arg_col[launch(m)](x, ov, out_indices, m, n, inner, want_max, has_vals)
    elif nch == 1:
        _k_arg[_grid(m)](x, ov, out_indices, m, n, inner, 1, want_max, has_vals)
    else:
        part = empty(m * nch, np.int64)
        _k_arg[_grid(m * nch)](x, ov, part, m * nch, n, inner, nch, want_max, False)
        _k_arg_finish[launch(m)](x, part, ov, out_indices, m, n, nch, inner, want_max, has_vals)
    return out_values, out_indices


def scan(op, x, outer, n, inner, out, out_indices=None):
    """CUDA twin of kernels.scan.scan: inclusive scan along the middle axis; out or (out, out_indices)."""
    if op not in _SCANS:
        raise ValueError(f"unknown scan {op!r}")
    code = _SCANS[op]
    total = outer * n * inner
    _check(x, outer, n, inner, out, 'out', total)
    _dflat(x, 'x')
    _dflat(out, 'out')
    if code >= CUMMAX:
        _check(x, outer, n, inner, out_indices, 'out_indices', total)
        if out_indices is None or out_indices.dtype != np.int64 or not out_indices.is_c_contiguous():
            raise ValueError(f"{op} needs a contiguous int64 out_indices buffer")
        if out.dtype != x.dtype:
            raise ValueError(f"{op}: out must have the input's dtype")
    if total == 0:
        return out if code < CUMMAX else (out, out_indices)
    rows = outer * inner
    if code >= CUMMAX:
        _k_cumext[launch(rows)](code == CUMMAX, x, out, out_indices, rows, n, inner)
        return out, out_indices
    init = (np.float64 if (x.dtype.kind == 'f' or code == LOGCUMSUMEXP) else np.int64)(code == CUMPROD)
    _k_cum[launch(rows)](code, x, out, rows, n, inner, init)
    return out


def _sm_check(x, outer, n, inner, out):
    total = outer * n * inner
    for a in (x, out):
        if a.ndim != 1 or not a.is_c_contiguous() or a.dtype.kind != 'f' or a.dtype != x.dtype:
            raise ValueError("softmax buffers must be contiguous 1-D float arrays of one dtype")
    _check(x, outer, n, inner, out, 'out', total)
    return total


def softmax(x, outer, n, inner, out, log=False):
    """CUDA twin of kernels.scan.softmax (log=True: log_softmax); returns out."""
    if _sm_check(x, outer, n, inner, out):
        rows = outer * inner
        _k_softmax[_grid(rows)](x, out, rows, n, inner, bool(log))
    return out


def softmax_backward(g, y, outer, n, inner, out, log=False):
    """CUDA twin of kernels.scan.softmax_backward: y * (g - sum(g * y)); log: g - exp(y) * sum(g)."""
    total = _sm_check(g, outer, n, inner, out)
    _sm_check(y, outer, n, inner, out)
    if total:
        rows = outer * inner
        _k_softmax_bw[_grid(rows)](g, y, out, rows, n, inner, bool(log))
    return out


def log_softmax_backward(g, y, outer, n, inner, out):
    """CUDA twin of kernels.scan.log_softmax_backward: g - exp(y) * sum(g)."""
    return softmax_backward(g, y, outer, n, inner, out, log=True)
