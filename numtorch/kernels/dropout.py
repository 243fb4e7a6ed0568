"""Dropout kernels: the keep mask is drawn inside the kernel from a counter-based hash.

Mask element i is kept when hash(seed, i) >= thresh, with a 32-bit hash (two rounds of the
"lowbias32" integer mixer over the low and high words of i, keyed by the two words of the seed)
and thresh = round(p * 2**32): every element is independent of the thread layout, so the CPU and
CUDA kernels draw the same mask for the same seed, and the seed comes from numtorch's generator
(``manual_seed`` makes runs repeatable). The arithmetic is 32 x 32 -> 64-bit products masked back
to 32 bits, so it never overflows uint64.

``dropout`` applies one mask element to each run of ``inner`` consecutive values (inner = 1: plain
dropout; inner = spatial size: channel dropout), writing y = x * keep * scale and the uint8 mask.
"""
import numpy as np
from numba import njit, prange

from . import parallel_ok
from ._device import cuda_impl, on_device

PAR_MIN = 1 << 15
_J = dict(cache=True, error_model='numpy')
_M32 = np.uint64(0xFFFFFFFF)
_H0 = np.uint64(0x7FEB352D)
_H1 = np.uint64(0x846CA68B)
_S15 = np.uint64(15)
_S16 = np.uint64(16)
_S32 = np.uint64(32)


@njit(inline='always', **_J)
def _mix(v):
    v ^= v >> _S16
    v = (v * _H0) & _M32
    v ^= v >> _S15
    v = (v * _H1) & _M32
    v ^= v >> _S16
    return v


@njit(inline='always', **_J)
def _draw(seed, i):
    """32-bit hash of element i under a 64-bit seed (as uint64)."""
    u = np.uint64(i)
    h = _mix((u & _M32) ^ (seed & _M32))
    return _mix(h ^ (u >> _S32) ^ (seed >> _S32))


@njit(**_J)
def _drop_rows(x, y, mask, sc, i0, i1, inner, thresh, seed):
    s = sc[0]
    z = sc[1]
    for i in range(i0, i1):
        keep = _draw(seed, i) >= thresh
        mask[i] = 1 if keep else 0
        f = s if keep else z
        o = i * inner
        xs = x[o:o + inner]
        ys = y[o:o + inner]
        for j in range(inner):
            ys[j] = xs[j] * f


@njit(**_J)
def _drop_ser(x, y, mask, sc, nmask, inner, thresh, seed):
    _drop_rows(x, y, mask, sc, 0, nmask, inner, thresh, seed)


@njit(parallel=True, **_J)
def _drop_par(x, y, mask, sc, nmask, inner, thresh, seed, nt):
    for t in prange(nt):
        _drop_rows(x, y, mask, sc, (nmask * t) // nt, (nmask * (t + 1)) // nt, inner, thresh, seed)


@njit(**_J)
def _keep_rows(mask, i0, i1, thresh, seed):
    for i in range(i0, i1):
        mask[i] = 1 if _draw(seed, i) >= thresh else 0


@njit(**_J)
def _keep_ser(mask, n, thresh, seed):
    _keep_rows(mask, 0, n, thresh, seed)


@njit(parallel=True, **_J)
def _keep_par(mask, n, thresh, seed, nt):
    for t in prange(nt):
        _keep_rows(mask, (n * t) // nt, (n * (t + 1)) // nt, thresh, seed)


@njit(**_J)
def _bw_rows(g, mask, out, sc, i0, i1, inner):
    s = sc[0]
    z = sc[1]
    for i in range(i0, i1):
        f = s if mask[i] else z
        o = i * inner
        gs = g[o:o + inner]
        os_ = out[o:o + inner]
        for j in range(inner):
            os_[j] = gs[j] * f


@njit(**_J)
def _bw_ser(g, mask, out, sc, nmask, inner):
    _bw_rows(g, mask, out, sc, 0, nmask, inner)


@njit(parallel=True, **_J)
def _bw_par(g, mask, out, sc, nmask, inner, nt):
    for t in prange(nt):
        _bw_rows(g, mask, out, sc, (nmask * t) // nt, (nmask * (t + 1)) // nt, inner)


def threshold(p):
    """The uint64 keep threshold of drop probability p (p = 1 drops everything)."""
    return np.uint64(min(int(round(float(p) * 4294967296.0)), 4294967296))


def _tasks(nmask, total):
    if total >= PAR_MIN and nmask > 1 and parallel_ok():
        return min(nmask, 64)
    return 1


def _scale_pair(scale, dt):
    return np.array([scale, 0.0], dtype=dt)


def _chk(name, a, n, kind=None):
    if not isinstance(a, np.ndarray) or a.ndim != 1 or not a.flags.c_contiguous or a.size != n:
        raise ValueError(f"{name} must be a contiguous 1-D array of {n} elements")
    if kind is not None and a.dtype.kind != kind:
        raise ValueError(f"{name} has the wrong dtype kind {a.dtype}")


def dropout(x, y, mask, nmask, inner, p, scale, seed):
    """y = x * keep * scale with keep drawn per mask element (one per run of ``inner`` values); mask gets keep
    as uint8. seed: a 64-bit integer from the generator."""
    if on_device(x):
        return cuda_impl("dropout").dropout(x, y, mask, nmask, inner, p, scale, seed)
    _chk("x", x, nmask * inner, 'f')
    _chk("y", y, nmask * inner, 'f')
    _chk("mask", mask, nmask, 'u')
    if x.dtype != y.dtype:
        raise ValueError("x and y must share a dtype")
    sc = _scale_pair(scale, x.dtype)
    th = threshold(p)
    sd = np.uint64(int(seed) & 0xFFFFFFFFFFFFFFFF)
    nt = _tasks(nmask, nmask * inner)
    if nt > 1:
        _drop_par(x, y, mask, sc, nmask, inner, th, sd, nt)
    elif nmask:
        _drop_ser(x, y, mask, sc, nmask, inner, th, sd)
    return y


def keep_mask(mask, n, p, seed):
    """mask[i] = 1 where element i is kept (probability 1 - p), the same draw as ``dropout``."""
    if on_device(mask):
        return cuda_impl("dropout").keep_mask(mask, n, p, seed)
    _chk("mask", mask, n, 'u')
    th = threshold(p)
    sd = np.uint64(int(seed) & 0xFFFFFFFFFFFFFFFF)
    nt = _tasks(n, n)
    if nt > 1:
        _keep_par(mask, n, th, sd, nt)
    elif n:
        _keep_ser(mask, n, th, sd)
    return mask


def dropout_backward(g, mask, nmask, inner, scale, out):
    """out = g * mask * scale (the mask broadcast over runs of ``inner`` values)."""
    if on_device(g):
        return cuda_impl("dropout").dropout_backward(g, mask, nmask, inner, scale, out)
    _chk("g", g, nmask * inner, 'f')
    _chk("out", out, nmask * inner, 'f')
    _chk("mask", mask, nmask, 'u')
    sc = _scale_pair(scale, g.dtype)
    nt = _tasks(nmask, nmask * inner)
    if nt > 1:
        _bw_par(g, mask, out, sc, nmask, inner, nt)
    elif nmask:
        _bw_ser(g, mask, out, sc, nmask, inner)
    return out
