"""CUDA twins of kernels.dropout: the same counter-based hash, so a seed draws the same mask on both devices."""
import numpy as np
from numba import cuda

from . import launch
from ..dropout import threshold

_M32 = np.uint64(0xFFFFFFFF)
_H0 = np.uint64(0x7FEB352D)
_H1 = np.uint64(0x846CA68B)
_S15 = np.uint64(15)
_S16 = np.uint64(16)
_S32 = np.uint64(32)


@cuda.jit(device=True, inline=True)
def _mix(v):
    v ^= v >> _S16
    v = (v * _H0) & _M32
    v ^= v >> _S15
    v = (v * _H1) & _M32
    v ^= v >> _S16
    return v


@cuda.jit(device=True, inline=True)
def _draw(seed, i):
    u = np.uint64(i)
    h = _mix((u & _M32) ^ (seed & _M32))
    return _mix(h ^ (u >> _S32) ^ (seed >> _S32))


@cuda.jit
def _k_drop(x, y, mask, nmask, inner, thresh, seed, scale):
    n = nmask * inner
    for k in range(cuda.grid(1), n, cuda.gridsize(1)):
        i = k // inner
        keep = _draw(seed, i) >= thresh
        if k - i * inner == 0:
            mask[i] = 1 if keep else 0
        y[k] = x[k] * scale if keep else x[k] * 0


@cuda.jit
def _k_keep(mask, n, thresh, seed):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        mask[i] = 1 if _draw(seed, i) >= thresh else 0


@cuda.jit
def _k_bw(g, mask, out, nmask, inner, scale):
    n = nmask * inner
    for k in range(cuda.grid(1), n, cuda.gridsize(1)):
        out[k] = g[k] * scale if mask[k // inner] else g[k] * 0


def _seed(seed):
    return np.uint64(int(seed) & 0xFFFFFFFFFFFFFFFF)


def dropout(x, y, mask, nmask, inner, p, scale, seed):
    if nmask * inner:
        _k_drop[launch(nmask * inner)](x, y, mask, nmask, inner, threshold(p), _seed(seed), x.dtype.type(scale))
    elif nmask:
        _k_keep[launch(nmask)](mask, nmask, threshold(p), _seed(seed))
    return y


def keep_mask(mask, n, p, seed):
    if n:
        _k_keep[launch(n)](mask, n, threshold(p), _seed(seed))
    return mask


def dropout_backward(g, mask, nmask, inner, scale, out):
    if nmask * inner:
        _k_bw[launch(nmask * inner)](g, mask, out, nmask, inner, g.dtype.type(scale))
    return out
