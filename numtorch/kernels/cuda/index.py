"""CUDA twins of index.py: check_range, wrap_negative and the two cores ``_gather_call`` and
``_scatter_call`` that the CPU gather/index_select and scatter/index_add/index_copy/index_fill prepare
arguments for (the CPU entry points hand over at those cores, so argument handling exists once).

Layouts and the iteration shape S are the CPU ones (see kernels/index.py); S with its strides travels
as one cached int64 device array. gather and plain-assignment scatter run one thread per element of S
(duplicate targets: one writer wins, as in PyTorch CUDA); scatter-add on dtypes with hardware atomics
uses ``cuda.atomic.add``. The other reductions (multiply, amax, amin, add on 8/16-bit ints) run one
thread per fiber of S along ``dim`` and walk the fiber in order: targets of different fibers never
meet, so this is race free and applies updates in the CPU order, at the price of less parallelism.
"""
import numpy as np
from numba import cuda

from ..copy import _numel
from . import as_device, dev_ints, empty, launch
from .copy import _bits, as_dtype

_OPS = {None: 0, 'add': 1, 'sum': 1, 'multiply': 2, 'prod': 2, 'amax': 3, 'amin': 4}
_ATOMIC_ADD = {np.dtype(t) for t in (np.float32, np.float64, np.int32, np.int64, np.uint32, np.uint64)}


def _dev(idx):
    """An index buffer on the device (the front end may hand over host-built indices)."""
    return cuda.to_device(np.ascontiguousarray(idx)) if isinstance(idx, np.ndarray) else idx


# ----------------------------------------------------------------------------- index checks
@cuda.jit(cache=True)
def _first_bad(idx, lo, hi, res, n):
    i = cuda.grid(1)
    s = cuda.gridsize(1)
    while i < n:
        v = idx[i]
        if v < lo or v >= hi:
            cuda.atomic.min(res, 0, i)
        i += s


@cuda.jit(cache=True)
def _fetch_bad(idx, res, n):
    if cuda.grid(1) == 0 and res[0] < n:
        res[1] = idx[res[0]]


def check_range(idx, n, allow_negative=True):
    """(ok, first bad value) for an int index buffer against a dim of size ``n`` (host values)."""
    m = idx.size
    if m == 0:
        return True, 0
    idx = _dev(idx)
    res = cuda.to_device(np.array([m, 0], np.int64))
    _first_bad[launch(m)](idx, -int(n) if allow_negative else 0, int(n), res, m)
    _fetch_bad[1, 1](idx, res, m)
    pos, bad = res.copy_to_host()
    return (True, 0) if pos >= m else (False, int(bad))


@cuda.jit(cache=True)
def _wrap_kern(idx, n, out, m):
    i = cuda.grid(1)
    s = cuda.gridsize(1)
    while i < m:
        v = idx[i]
        out[i] = v + n if v < 0 else v
        i += s


def wrap_negative(idx, n, out=None):
    """Index buffer with negatives shifted by ``n`` (``out=idx`` works in place)."""
    if out is None:
        out = empty(idx.size, np.int64)
    if idx.size:
        _wrap_kern[launch(idx.size)](_dev(idx), int(n), out, idx.size)
    return out


# ----------------------------------------------------------------------------- gather
@cuda.jit(cache=True)
def _gather_kern(x, xo, xsd, xn, idx, out, meta, n):
    # meta = shape, x strides (0 at dim), idx strides; out is contiguous over shape
    nd = meta.size // 3
    i = cuda.grid(1)
    s = cuda.gridsize(1)
    while i < n:
        r = i
        xk = xo
        ik = 0
        for d in range(nd - 1, -1, -1):
            sz = meta[d]
            c = r % sz
            r //= sz
            xk += c * meta[nd + d]
            ik += c * meta[2 * nd + d]
        v = idx[ik]
        if v < 0:
            v += xn
        out[i] = x[xk + v * xsd]
        i += s


def _gather_call(x, xo, xs, dim, xn, idx, istr, shape, out):
    shape = list(shape) or [1]
    numel = _numel(shape)
    if numel == 0:
        return out
    xs = list(xs) or [0]
    xsd = xs[dim]
    xs[dim] = 0
    if out.dtype != x.dtype:
        raise TypeError("gather: out dtype %s differs from input dtype %s" % (out.dtype, x.dtype))
    meta = dev_ints(shape + xs + list(istr or [0]))
    _gather_kern[launch(numel)](_bits(x), int(xo), int(xsd), int(xn), _dev(idx), _bits(out), meta, numel)
    return out


# ----------------------------------------------------------------------------- scatter
@cuda.jit(device=True)
def _soffsets(r, meta, nd, skip):
    """Unravel ``r`` over meta's shape (dim ``skip`` left out); return the a, idx, b offsets."""
    ka = 0
    ki = 0
    kb = 0
    for d in range(nd - 1, -1, -1):
        if d != skip:
            sz = meta[d]
            c = r % sz
            r //= sz
            ka += c * meta[nd + d]
            ki += c * meta[2 * nd + d]
            kb += c * meta[3 * nd + d]
    return ka, ki, kb


@cuda.jit(cache=True)
def _scatter_set(a, ao, asd, an, idx, b, bo, meta, n):
    nd = meta.size // 4
    i = cuda.grid(1)
    s = cuda.gridsize(1)
    while i < n:
        ka, ki, kb = _soffsets(i, meta, nd, -1)
        v = idx[ki]
        if v < 0:
            v += an
        a[ao + ka + v * asd] = b[bo + kb]
        i += s


@cuda.jit(cache=True)
def _scatter_add(a, ao, asd, an, idx, b, bo, meta, alpha, n):
    nd = meta.size // 4
    i = cuda.grid(1)
    s = cuda.gridsize(1)
    while i < n:
        ka, ki, kb = _soffsets(i, meta, nd, -1)
        v = idx[ki]
        if v < 0:
            v += an
        cuda.atomic.add(a, ao + ka + v * asd, alpha * b[bo + kb])
        i += s


@cuda.jit(cache=True)
def _scatter_fiber(a, ao, asd, an, idx, b, bo, meta, dim, op, alpha, nf):
    nd = meta.size // 4
    m = meta[dim]
    ist = meta[2 * nd + dim]
    bst = meta[3 * nd + dim]
    f = cuda.grid(1)
    s = cuda.gridsize(1)
    while f < nf:
        ka, ki, kb = _soffsets(f, meta, nd, dim)
        ka += ao
        kb += bo
        for t in range(m):
            v = idx[ki + t * ist]
            if v < 0:
                v += an
            k = ka + v * asd
            x = b[kb + t * bst]
            if op == 1:
                a[k] += alpha * x
            elif op == 2:
                a[k] *= x
            elif op == 3:
                if x != x or x > a[k]:  # NaN propagates (self NaN stays: comparisons fail)
                    a[k] = x
            elif op == 4:
                if x != x or x < a[k]:
                    a[k] = x
        f += s


def _scatter_call(a, ao, ast, dim, an, idx, istr, b, bo, bst, shape, op, alpha):
    shape = list(shape) or [1]
    numel = _numel(shape)
    if numel == 0:
        return
    ast = list(ast) or [0]
    asd = ast[dim]
    ast[dim] = 0
    b = as_device(b)
    b, bo, bst = as_dtype(b, bo, bst, shape, a.dtype)
    op = _OPS[op]
    meta = dev_ints(shape + ast + list(istr or [0]) + list(bst or [0]))
    idx = _dev(idx)
    args = (int(ao), int(asd), int(an), idx)
    if op == 0:
        _scatter_set[launch(numel)](_bits(a), *args, _bits(b), int(bo), meta, numel)
    elif op == 1 and a.dtype in _ATOMIC_ADD:
        _scatter_add[launch(numel)](a, *args, b, int(bo), meta, a.dtype.type(alpha), numel)
    else:
        nf = numel // shape[dim]
        _scatter_fiber[launch(nf)](a, *args, b, int(bo), meta, int(dim), op, a.dtype.type(alpha), nf)
