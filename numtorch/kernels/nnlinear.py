"""Kernels of nn's linear layers and gradient utilities.

``linear_small``: the whole of a small ``F.linear`` (strided x and W read in place, bias added) in one call,
where NumPy's matmul dispatch would cost more than the arithmetic.
``bias_add``: the bias of ``F.linear`` added in one pass over the BLAS product (rows x cols, in place).
``transpose_bias``: out = src^T (+ bias) in one pass, for small batches where BLAS runs W @ x^T faster
than x @ W^T (the transposed product is then laid out and biased in the same pass).
``col_sum``: the bias gradient of ``F.linear`` (column sums of a contiguous (rows, cols) gradient, float64
accumulation) in one pass, for the fused first-order backward.
``grad_norm``: the p-norm accumulator of a whole list of gradients in one compiled call (sum of |x|**p,
or max |x| for p = inf), in float64 whatever the gradients' dtype, as ``clip_grad_norm_`` needs; ``scale_all``
multiplies every buffer of such a list by one factor in place (the clipping step).
"""
import numpy as np
from numba import njit, prange

from . import parallel_ok
from ._device import cuda_impl, on_device

PAR_MIN = 1 << 16      # elements below which the serial kernel wins
SMALL_MAX = 1 << 14    # n * k * m up to which ``linear_small`` beats a BLAS call plus a bias pass


@njit(cache=True, error_model='numpy')
def _linear_small(x, xo, xs0, xs1, w, wo, ws0, ws1, b, bo, bs, hasb, out, n, k, m):
    for r in range(n):
        xr = xo + r * xs0
        for j in range(m):
            wr = wo + j * ws0
            acc = 0.0
            for p in range(k):
                acc += np.float64(x[xr + p * xs1]) * np.float64(w[wr + p * ws1])
            if hasb:
                acc += np.float64(b[bo + j * bs])
            out[r * m + j] = acc


def linear_small(x, xo, xs0, xs1, w, wo, ws0, ws1, b, bo, bs, hasb, out, n, k, m):
    """out[r * m + j] = sum_p x[xo + r*xs0 + p*xs1] * w[wo + j*ws0 + p*ws1] (+ b[bo + j*bs]), float64 sums."""
    if on_device(out):
        return cuda_impl("nnlinear").linear_small(x, xo, xs0, xs1, w, wo, ws0, ws1, b, bo, bs, hasb, out, n, k, m)
    _linear_small(x, xo, xs0, xs1, w, wo, ws0, ws1, b, bo, bs, hasb, out, n, k, m)


@njit(cache=True, error_model='numpy')
def _bias_rows(out, bias, boff, r0, r1, cols):
    b = bias[boff:boff + cols]
    for r in range(r0, r1):
        row = out[r * cols:(r + 1) * cols]
        for c in range(cols):
            row[c] += b[c]


@njit(cache=True, error_model='numpy', parallel=True)
def _bias_par(out, bias, boff, rows, cols, nch):
    for k in prange(nch):
        k = np.int64(k)
        _bias_rows(out, bias, boff, k * rows // nch, (k + 1) * rows // nch, cols)


def bias_add(out, bias, boff, rows, cols):
    """out[r * cols + c] += bias[boff + c] for a contiguous (rows, cols) ``out`` (in place)."""
    if on_device(out):
        return cuda_impl("nnlinear").bias_add(out, bias, boff, rows, cols)
    if rows * cols >= PAR_MIN and rows > 1 and parallel_ok():
        _bias_par(out, bias, boff, rows, cols, min(rows, 64))
    else:
        _bias_rows(out, bias, boff, 0, rows, cols)


@njit(cache=True, error_model='numpy')
def _transpose_bias(src, out, bias, boff, hasb, rows, cols):
    for c in range(cols):
        bc = bias[boff + c] if hasb else 0
        s = src[c * rows:(c + 1) * rows]
        for r in range(rows):
            out[r * cols + c] = s[r] + bc


def transpose_bias(src, out, bias, boff, hasb, rows, cols):
    """out[r * cols + c] = src[c * rows + r] (+ bias[boff + c]): a (cols, rows) product laid out as (rows, cols)."""
    if on_device(out):
        return cuda_impl("nnlinear").transpose_bias(src, out, bias, boff, hasb, rows, cols)
    _transpose_bias(src, out, bias, boff, hasb, rows, cols)


@njit(cache=True, error_model='numpy')
def _col_sum(g, rows, cols, out):
    acc = np.zeros(cols)
    for r in range(rows):
        row = g[r * cols:(r + 1) * cols]
        for c in range(cols):
            acc[c] += row[c]
    for c in range(cols):
        out[c] = acc[c]


def col_sum(g, rows, cols, out):
    """out[c] = sum_r g[r * cols + c] (float64 sums, written in out's dtype)."""
    if on_device(out):
        return cuda_impl("nnlinear").col_sum(g, rows, cols, out)
    _col_sum(g, rows, cols, out)


@njit(cache=True, error_model='numpy')
def _norm_acc(bufs, p):
    """Sum of |x|**p (p = 2 and 1 specialised), or max |x| when p is inf, over all buffers."""
    acc = 0.0
    for i in range(len(bufs)):
        x = bufs[i]
        if p == np.inf:
            for j in range(x.size):
                v = abs(np.float64(x[j]))
                if v > acc or v != v:
                    acc = v
        elif p == 2.0:
            for j in range(x.size):
                v = np.float64(x[j])
                acc += v * v
        elif p == 1.0:
            for j in range(x.size):
                acc += abs(np.float64(x[j]))
        else:
            for j in range(x.size):
                acc += abs(np.float64(x[j])) ** p
    return acc


def grad_norm(bufs, p):
    """The p-norm accumulator (sum |x|**p, or max |x| for p = inf) of a list of flat buffers of one
    dtype, as a Python float. The caller takes the 1/p root."""
    if bufs and on_device(bufs[0]):
        return cuda_impl("nnlinear").grad_norm(bufs, p)
    return float(_norm_acc(_typed(bufs), float(p)))


@njit(cache=True, error_model='numpy')
def _scale_all(bufs, c):
    for i in range(len(bufs)):
        x = bufs[i]
        for j in range(x.size):
            x[j] = x[j] * c


def _typed(bufs):
    from numba.typed import List
    lst = List()
    for b in bufs:
        lst.append(b)
    return lst


def scale_all(bufs, c):
    """x *= c for every flat buffer of a list (one dtype), in place."""
    if not bufs:
        return
    if on_device(bufs[0]):
        return cuda_impl("nnlinear").scale_all(bufs, c)
    _scale_all(_typed(bufs), bufs[0].dtype.type(c))
