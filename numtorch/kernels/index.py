"""Index checks, gather/scatter and index_select/index_add/index_copy/index_fill kernels.

Also the public face of the index kernels: it re-exports the strided copy/cast kernels and shared helpers
of copy.py and the masked/nonzero/take/offset kernels of masked.py, so ``kernels.index.<name>`` keeps
serving every caller. Layout conventions are described in copy.py, whose ``PARALLEL`` is the serial switch
(the ``PARALLEL`` re-exported here is only a copy of its value). Callers validate indices first
(``check_range``: Numba does not bounds-check). Assignments (no reduction) move bits (``_bits``), so they
compile per element width; arithmetic scatter reductions see the real dtype.
"""
import numpy as np
from numba import njit, prange, get_num_threads

from .copy import (PAR_MIN, PARALLEL, _arr, _bits, _contig, _ints, _move_row, _nchunks, _numel,  # noqa: F401
                   _par, _scalar_src, _start, _step, as_dtype, coalesce, copy_strided, tril_mask_fill)
from .masked import (gather_offsets, index_offsets, masked_fill, masked_scatter, masked_select,  # noqa: F401
                     nonzero, scatter_offsets, take)
from ._device import on_device, cuda_impl


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
    if on_device(idx):
        return cuda_impl("index").check_range(idx, n, allow_negative)
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
    if on_device(idx):
        return cuda_impl("index").wrap_negative(idx, n, out)
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
    if on_device(out):
        return cuda_impl("index")._gather_call(x, xo, xs, dim, xn, idx, istr, shape, out)
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
    if on_device(a):
        return cuda_impl("index")._scatter_call(a, ao, ast, dim, an, idx, istr, b, bo, bst, shape, op, alpha)
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


def _is_buf(x):
    """A host or device buffer (anything else is a scalar source)."""
    return isinstance(x, np.ndarray) or on_device(x)


def scatter(self_buf, self_off, self_strides, idx, idx_shape, dim, src, src_off, src_strides,
            reduce=None, dim_size=None):
    """In-place torch.scatter / scatter_reduce(include_self=True) over idx (contiguous, idx_shape).

    reduce: None, 'add'/'sum', 'multiply'/'prod', 'amax', 'amin'. ``src`` may be a Python scalar
    (or pass a 1-element buffer with zero strides). ``dim_size`` (self.shape[dim]) only matters
    for wrapping negative indices.
    """
    shape = _ints(idx_shape)
    if not _is_buf(src):
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
    if _is_buf(src) and src.ndim > 0:
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
