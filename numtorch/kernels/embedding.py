"""Embedding kernels: row gather, scatter-add backward, max_norm renormalisation, and EmbeddingBag.

The weight is a contiguous (num, dim) buffer; indices are int64 and already range-checked by the
caller. The backward scatter-adds rows of the output gradient into a zeroed dense weight gradient
(never a one-hot); in parallel each task owns a block of columns, so no two tasks write one element.
EmbeddingBag reduces each bag (offsets[b]..offsets[b+1]) with sum / mean / max (MODE_* codes).
"""
import numpy as np
from numba import njit, prange

from . import parallel_ok
from ._device import cuda_impl, on_device

PAR_MIN = 1 << 15
_CB = 64                 # columns per task of the parallel scatter
_J = dict(cache=True, error_model='numpy')
MODE_SUM, MODE_MEAN, MODE_MAX = 0, 1, 2


@njit(**_J)
def _gather_rows(w, dim, idx, out, i0, i1):
    for i in range(i0, i1):
        r = idx[i]
        src = w[r * dim:r * dim + dim]
        dst = out[i * dim:i * dim + dim]
        for j in range(dim):
            dst[j] = src[j]


@njit(**_J)
def _gather_ser(w, dim, idx, out):
    _gather_rows(w, dim, idx, out, 0, idx.size)


@njit(parallel=True, **_J)
def _gather_par(w, dim, idx, out, nt):
    n = idx.size
    for t in prange(nt):
        _gather_rows(w, dim, idx, out, (n * t) // nt, (n * (t + 1)) // nt)


@njit(**_J)
def _freq_scale(idx, num, padding_idx, scale, fs):
    """fs[i]: the gradient factor of index i (1/count with scale_grad_by_freq, 0 on padding_idx)."""
    if scale:
        cnt = np.zeros(num, np.int64)
        for i in range(idx.size):
            cnt[idx[i]] += 1
    for i in range(idx.size):
        r = idx[i]
        if r == padding_idx:
            fs[i] = 0.0
        elif scale:
            fs[i] = 1.0 / cnt[r]
        else:
            fs[i] = 1.0


@njit(**_J)
def _scatter_cols(g, idx, fs, dim, out, j0, j1, plain):
    for i in range(idx.size):
        f = fs[i]
        if f == 0.0:
            continue
        r = idx[i]
        src = g[i * dim + j0:i * dim + j1]
        dst = out[r * dim + j0:r * dim + j1]
        if plain:
            for j in range(j1 - j0):
                dst[j] += src[j]
        else:
            for j in range(j1 - j0):
                dst[j] += src[j] * f


@njit(**_J)
def _scatter_ser(g, idx, fs, dim, out, plain):
    _scatter_cols(g, idx, fs, dim, out, 0, dim, plain)


@njit(parallel=True, **_J)
def _scatter_par(g, idx, fs, dim, out, plain, nt):
    for t in prange(nt):
        _scatter_cols(g, idx, fs, dim, out, (dim * t) // nt, (dim * (t + 1)) // nt, plain)


@njit(**_J)
def _renorm(w, dim, rows, max_norm, p):
    for k in range(rows.size):
        r = rows[k]
        s = 0.0
        for j in range(dim):
            a = abs(np.float64(w[r * dim + j]))
            if p == 2.0:
                s += a * a
            elif p == 1.0:
                s += a
            elif np.isinf(p):
                s = max(s, a)
            else:
                s += a ** p
        if p == 2.0:
            nrm = np.sqrt(s)
        elif p == 1.0 or np.isinf(p):
            nrm = s
        else:
            nrm = s ** (1.0 / p)
        if nrm > max_norm:
            sc = max_norm / (nrm + 1e-7)
            for j in range(dim):
                w[r * dim + j] = w[r * dim + j] * sc


def _tasks(n, total):
    if total >= PAR_MIN and n > 1 and parallel_ok():
        return min(n, 64)
    return 1


def _chk(name, a, n, kind):
    if not isinstance(a, np.ndarray) or a.ndim != 1 or not a.flags.c_contiguous or a.size != n or a.dtype.kind != kind:
        raise ValueError(f"{name} must be a contiguous 1-D array of {n} elements of kind {kind!r}")


def embedding(w, num, dim, idx, out):
    """out[i, :] = w[idx[i], :] (idx int64 in [0, num), checked by the caller)."""
    if on_device(w):
        return cuda_impl("embedding").embedding(w, num, dim, idx, out)
    _chk("w", w, num * dim, 'f')
    _chk("idx", idx, idx.size, 'i')
    _chk("out", out, idx.size * dim, 'f')
    if idx.dtype != np.int64:
        raise ValueError("idx must be int64")
    nt = _tasks(idx.size, idx.size * dim)
    if nt > 1:
        _gather_par(w, dim, idx, out, nt)
    elif idx.size and dim:
        _gather_ser(w, dim, idx, out)
    return out


def embedding_backward(g, idx, num, dim, padding_idx, scale_grad_by_freq, out):
    """out (num * dim, zeroed by this call) += g rows scattered by idx; padding_idx rows get nothing;
    scale_grad_by_freq divides each row's contribution by its index's count in idx."""
    if on_device(g):
        return cuda_impl("embedding").embedding_backward(g, idx, num, dim, padding_idx, scale_grad_by_freq, out)
    _chk("g", g, idx.size * dim, 'f')
    _chk("out", out, num * dim, 'f')
    out[:] = 0
    if not idx.size or not dim:
        return out
    fs = np.empty(idx.size, g.dtype)
    pad = -1 if padding_idx is None else int(padding_idx)
    _freq_scale(idx, num, pad, bool(scale_grad_by_freq), fs)
    plain = not scale_grad_by_freq
    nt = min(_tasks(idx.size, idx.size * dim), max(1, dim // _CB))
    if nt > 1:
        _scatter_par(g, idx, fs, dim, out, plain, nt)
    else:
        _scatter_ser(g, idx, fs, dim, out, plain)
    return out


def embedding_renorm(w, num, dim, rows, max_norm, norm_type):
    """In place: rows of w (unique int64 indices) whose norm_type-norm exceeds max_norm are scaled to it."""
    if on_device(w):
        return cuda_impl("embedding").embedding_renorm(w, num, dim, rows, max_norm, norm_type)
    _chk("w", w, num * dim, 'f')
    if rows.size:
        _renorm(w, dim, rows, float(max_norm), float(norm_type))
    return w


# -- EmbeddingBag --------------------------------------------------------------------------------------

@njit(**_J)
def _bag_rows(w, dim, idx, offs, mode, psw, pad, out, arg, cnt, b0, b1):
    hasw = psw.size > 0
    for b in range(b0, b1):
        o = out[b * dim:b * dim + dim]
        a = arg[b * dim:b * dim + dim]
        for j in range(dim):
            o[j] = 0
            a[j] = -1
        c = 0
        for k in range(offs[b], offs[b + 1]):
            r = idx[k]
            if r == pad:
                continue
            src = w[r * dim:r * dim + dim]
            if mode == MODE_MAX:
                for j in range(dim):
                    if a[j] < 0 or src[j] > o[j]:
                        o[j] = src[j]
                        a[j] = r
            elif hasw:
                f = psw[k]
                for j in range(dim):
                    o[j] += src[j] * f
            else:
                for j in range(dim):
                    o[j] += src[j]
            c += 1
        cnt[b] = c
        if mode == MODE_MEAN and c > 0:
            for j in range(dim):
                o[j] = o[j] / c


@njit(**_J)
def _bag_ser(w, dim, idx, offs, mode, psw, pad, out, arg, cnt, nb):
    _bag_rows(w, dim, idx, offs, mode, psw, pad, out, arg, cnt, 0, nb)


@njit(parallel=True, **_J)
def _bag_par(w, dim, idx, offs, mode, psw, pad, out, arg, cnt, nb, nt):
    for t in prange(nt):
        _bag_rows(w, dim, idx, offs, mode, psw, pad, out, arg, cnt, (nb * t) // nt, (nb * (t + 1)) // nt)


@njit(**_J)
def _bag_bw_cols(g, dim, idx, offs, mode, psw, pad, arg, cnt, nb, out, j0, j1):
    hasw = psw.size > 0
    for b in range(nb):
        gs = g[b * dim:b * dim + dim]
        if mode == MODE_MAX:
            for j in range(j0, j1):
                r = arg[b * dim + j]
                if r >= 0:
                    out[r * dim + j] += gs[j]
            continue
        f0 = 1.0
        if mode == MODE_MEAN:
            if cnt[b] == 0:
                continue
            f0 = 1.0 / cnt[b]
        for k in range(offs[b], offs[b + 1]):
            r = idx[k]
            if r == pad:
                continue
            f = f0 * psw[k] if hasw else f0
            dst = out[r * dim + j0:r * dim + j1]
            src = gs[j0:j1]
            for j in range(j1 - j0):
                dst[j] += src[j] * f


@njit(**_J)
def _bag_bw_ser(g, dim, idx, offs, mode, psw, pad, arg, cnt, nb, out):
    _bag_bw_cols(g, dim, idx, offs, mode, psw, pad, arg, cnt, nb, out, 0, dim)


@njit(parallel=True, **_J)
def _bag_bw_par(g, dim, idx, offs, mode, psw, pad, arg, cnt, nb, out, nt):
    for t in prange(nt):
        _bag_bw_cols(g, dim, idx, offs, mode, psw, pad, arg, cnt, nb, out, (dim * t) // nt, (dim * (t + 1)) // nt)


@njit(**_J)
def _bag_psw_grad(g, w, dim, idx, offs, pad, nb, out):
    for b in range(nb):
        for k in range(offs[b], offs[b + 1]):
            r = idx[k]
            s = 0.0
            if r != pad:
                for j in range(dim):
                    s += g[b * dim + j] * w[r * dim + j]
            out[k] = s


def embedding_bag(w, num, dim, idx, offs, nbags, mode, psw, padding_idx, out, arg, cnt):
    """out (nbags, dim): per bag b the sum / mean / max of rows w[idx[k]], offs[b] <= k < offs[b+1]
    (offs has nbags + 1 entries), skipping padding_idx; psw (empty or one weight per index) scales the
    rows of a sum. arg (nbags * dim, int64) gets the argmax rows (-1 in empty bags), cnt the bag sizes."""
    if on_device(w):
        return cuda_impl("embedding").embedding_bag(w, num, dim, idx, offs, nbags, mode, psw, padding_idx, out,
                                                    arg, cnt)
    _chk("w", w, num * dim, 'f')
    _chk("offs", offs, nbags + 1, 'i')
    _chk("out", out, nbags * dim, 'f')
    _chk("arg", arg, nbags * dim, 'i')
    _chk("cnt", cnt, nbags, 'i')
    pad = -1 if padding_idx is None else int(padding_idx)
    nt = _tasks(nbags, idx.size * dim)
    if nt > 1:
        _bag_par(w, dim, idx, offs, int(mode), psw, pad, out, arg, cnt, nbags, nt)
    elif nbags:
        _bag_ser(w, dim, idx, offs, int(mode), psw, pad, out, arg, cnt, nbags)
    return out


def embedding_bag_backward(g, num, dim, idx, offs, nbags, mode, psw, padding_idx, arg, cnt, out):
    """Dense weight gradient of embedding_bag into out (num * dim, zeroed here)."""
    if on_device(g):
        return cuda_impl("embedding").embedding_bag_backward(g, num, dim, idx, offs, nbags, mode, psw, padding_idx,
                                                             arg, cnt, out)
    _chk("g", g, nbags * dim, 'f')
    _chk("out", out, num * dim, 'f')
    out[:] = 0
    pad = -1 if padding_idx is None else int(padding_idx)
    nt = min(_tasks(nbags, idx.size * dim), max(1, dim // _CB))
    if nt > 1:
        _bag_bw_par(g, dim, idx, offs, int(mode), psw, pad, arg, cnt, nbags, out, nt)
    elif nbags and dim:
        _bag_bw_ser(g, dim, idx, offs, int(mode), psw, pad, arg, cnt, nbags, out)
    return out


def embedding_bag_psw_grad(g, w, num, dim, idx, offs, nbags, padding_idx, out):
    """Gradient of the per-sample weights of a sum bag: out[k] = <g[bag(k)], w[idx[k]]>."""
    if on_device(g):
        return cuda_impl("embedding").embedding_bag_psw_grad(g, w, num, dim, idx, offs, nbags, padding_idx, out)
    _chk("out", out, idx.size, 'f')
    pad = -1 if padding_idx is None else int(padding_idx)
    if idx.size:
        _bag_psw_grad(g, w, dim, idx, offs, pad, nbags, out)
    return out
