"""Resampling kernels. Interpolation (nearest / linear / cubic) is separable: each resized axis is one pass of
``taps_axis`` over a contiguous (outer, n_in, inner) block, output j reading input idx[j, t] with weight
w[j, t] for t < T (T = 1 nearest, 2 linear, 4 cubic); its adjoint ``taps_axis_backward`` scatters back
(outer rows are independent, so they run in parallel). ``grid_sample_2d`` and its backward sample
(N, C, H, W) inputs at (N, Ho, Wo, 2) grid points (bilinear or nearest, zeros/border/reflection padding)."""
import numpy as np
from numba import njit, prange

from . import parallel_ok
from ._device import cuda_impl, on_device

_J = dict(cache=True, error_model='numpy')
PAR_MIN = 1 << 15


@njit(**_J)
def _taps_rows(x, idx, w, T, y, n_in, n_out, inner, o0, o1):
    for o in range(o0, o1):
        xb = o * n_in * inner
        yb = o * n_out * inner
        for j in range(n_out):
            dst = y[yb + j * inner:yb + (j + 1) * inner]
            i0 = idx[j * T]
            w0 = w[j * T]
            src = x[xb + i0 * inner:xb + (i0 + 1) * inner]
            for k in range(inner):
                dst[k] = w0 * src[k]
            for t in range(1, T):
                it = idx[j * T + t]
                wt = w[j * T + t]
                src = x[xb + it * inner:xb + (it + 1) * inner]
                for k in range(inner):
                    dst[k] += wt * src[k]


@njit(parallel=True, **_J)
def _taps_par(x, idx, w, T, y, n_in, n_out, inner, outer):
    for o in prange(outer):
        _taps_rows(x, idx, w, T, y, n_in, n_out, inner, o, o + 1)


@njit(**_J)
def _taps_bwd_rows(g, idx, w, T, gx, n_in, n_out, inner, o0, o1):
    for o in range(o0, o1):
        xb = o * n_in * inner
        yb = o * n_out * inner
        for j in range(n_out):
            src = g[yb + j * inner:yb + (j + 1) * inner]
            for t in range(T):
                it = idx[j * T + t]
                wt = w[j * T + t]
                dst = gx[xb + it * inner:xb + (it + 1) * inner]
                for k in range(inner):
                    dst[k] += wt * src[k]


@njit(parallel=True, **_J)
def _taps_bwd_par(g, idx, w, T, gx, n_in, n_out, inner, outer):
    for o in prange(outer):
        _taps_bwd_rows(g, idx, w, T, gx, n_in, n_out, inner, o, o + 1)


def taps_axis(x, idx, w, T, y, outer, n_in, n_out, inner):
    """y[o, j, :] = sum_t w[j, t] * x[o, idx[j, t], :] (idx int64, w in x's dtype, both flat (n_out*T))."""
    if on_device(x):
        return cuda_impl("resample").taps_axis(x, idx, w, T, y, outer, n_in, n_out, inner)
    if parallel_ok() and outer > 1 and outer * n_out * inner >= PAR_MIN:
        _taps_par(x, idx, w, T, y, n_in, n_out, inner, outer)
    else:
        _taps_rows(x, idx, w, T, y, n_in, n_out, inner, 0, outer)


def taps_axis_backward(g, idx, w, T, gx, outer, n_in, n_out, inner):
    """gx (zeroed, (outer, n_in, inner)) += the adjoint of taps_axis applied to g."""
    if on_device(g):
        return cuda_impl("resample").taps_axis_backward(g, idx, w, T, gx, outer, n_in, n_out, inner)
    if parallel_ok() and outer > 1 and outer * n_out * inner >= PAR_MIN:
        _taps_bwd_par(g, idx, w, T, gx, n_in, n_out, inner, outer)
    else:
        _taps_bwd_rows(g, idx, w, T, gx, n_in, n_out, inner, 0, outer)


# -- grid_sample (2-d) ----------------------------------------------------------------------------------------
@njit(inline='always', **_J)
def _unnorm(c, size, align):
    if align:
        return (c + 1) / 2 * (size - 1)
    return ((c + 1) * size - 1) / 2


@njit(inline='always', **_J)
def _reflect(c, lo2, hi2):
    """Reflect c into [lo2/2, hi2/2]; returns (value, d value / d c sign)."""
    if lo2 == hi2:
        return 0.0, 0.0
    mn = lo2 / 2
    span = (hi2 - lo2) / 2
    sgn = 1.0
    if c < mn:
        c = mn + (mn - c)
        sgn = -1.0
    else:
        c = c
    c = c - mn
    extra = c % span
    flips = np.floor(c / span)
    if flips % 2 == 0:
        return extra + mn, sgn
    return span - extra + mn, -sgn


@njit(inline='always', **_J)
def _src(c, size, pad, align):
    """Grid coordinate -> input pixel coordinate and its derivative d pixel / d grid."""
    x = _unnorm(c, size, align)
    d = (size - 1) / 2 if align else size / 2
    if pad == 1:                       # border
        if x < 0:
            x = 0.0
            d = 0.0
        elif x > size - 1:
            x = size - 1.0
            d = 0.0
    elif pad == 2:                     # reflection
        if align:
            x, s = _reflect(x, 0, 2 * (size - 1))
        else:
            x, s = _reflect(x, -1, 2 * size - 1)
        d = d * s
        if x < 0:
            x = 0.0
            d = 0.0
        elif x > size - 1:
            x = size - 1.0
            d = 0.0
    return x, d


@njit(**_J)
def _gs_fwd_n(x, grid, y, C, H, W, Ho, Wo, mode, pad, align, n0, n1):
    for n in range(n0, n1):
        for p in range(Ho * Wo):
            gb = (n * Ho * Wo + p) * 2
            ix, _ = _src(grid[gb], W, pad, align)
            iy, _ = _src(grid[gb + 1], H, pad, align)
            if mode == 1:              # nearest (round half to even, as nearbyint)
                xr = np.rint(ix)
                yr = np.rint(iy)
                xi = np.int64(xr) if xr == xr else -1
                yi = np.int64(yr) if yr == yr else -1
                ok = xi >= 0 and xi < W and yi >= 0 and yi < H
                for c in range(C):
                    y[((n * C + c) * Ho * Wo) + p] = x[((n * C + c) * H + yi) * W + xi] if ok else 0.0
                continue
            if not (ix == ix and iy == iy):
                for c in range(C):
                    y[((n * C + c) * Ho * Wo) + p] = 0.0
                continue
            x0f = np.floor(ix)
            y0f = np.floor(iy)
            x0 = np.int64(x0f)
            y0 = np.int64(y0f)
            tx = ix - x0f
            ty = iy - y0f
            for c in range(C):
                base = (n * C + c) * H * W
                acc = 0.0
                for dy in range(2):
                    yy = y0 + dy
                    wy = ty if dy == 1 else 1 - ty
                    if yy < 0 or yy >= H:
                        continue
                    for dx in range(2):
                        xx = x0 + dx
                        wx = tx if dx == 1 else 1 - tx
                        if xx < 0 or xx >= W:
                            continue
                        acc += x[base + yy * W + xx] * wx * wy
                y[((n * C + c) * Ho * Wo) + p] = acc


@njit(**_J)
def _gs_bwd_n(g, x, grid, gx, ggrid, C, H, W, Ho, Wo, mode, pad, align, n0, n1):
    for n in range(n0, n1):
        for p in range(Ho * Wo):
            gb = (n * Ho * Wo + p) * 2
            ix, dix = _src(grid[gb], W, pad, align)
            iy, diy = _src(grid[gb + 1], H, pad, align)
            if mode == 1:
                xr = np.rint(ix)
                yr = np.rint(iy)
                xi = np.int64(xr) if xr == xr else -1
                yi = np.int64(yr) if yr == yr else -1
                if xi >= 0 and xi < W and yi >= 0 and yi < H:
                    for c in range(C):
                        gx[((n * C + c) * H + yi) * W + xi] += g[((n * C + c) * Ho * Wo) + p]
                ggrid[gb] = 0.0
                ggrid[gb + 1] = 0.0
                continue
            if not (ix == ix and iy == iy):
                ggrid[gb] = 0.0
                ggrid[gb + 1] = 0.0
                continue
            x0f = np.floor(ix)
            y0f = np.floor(iy)
            x0 = np.int64(x0f)
            y0 = np.int64(y0f)
            tx = ix - x0f
            ty = iy - y0f
            gxs = 0.0
            gys = 0.0
            for c in range(C):
                base = (n * C + c) * H * W
                go = g[((n * C + c) * Ho * Wo) + p]
                for dy in range(2):
                    yy = y0 + dy
                    wy = ty if dy == 1 else 1 - ty
                    sy = 1.0 if dy == 1 else -1.0
                    if yy < 0 or yy >= H:
                        continue
                    for dx in range(2):
                        xx = x0 + dx
                        wx = tx if dx == 1 else 1 - tx
                        sx = 1.0 if dx == 1 else -1.0
                        if xx < 0 or xx >= W:
                            continue
                        v = x[base + yy * W + xx]
                        gx[base + yy * W + xx] += go * wx * wy
                        gxs += go * v * sx * wy
                        gys += go * v * wx * sy
            ggrid[gb] = gxs * dix
            ggrid[gb + 1] = gys * diy


@njit(parallel=True, **_J)
def _gs_fwd_par(x, grid, y, C, H, W, Ho, Wo, mode, pad, align, N):
    for n in prange(N):
        _gs_fwd_n(x, grid, y, C, H, W, Ho, Wo, mode, pad, align, n, n + 1)


@njit(parallel=True, **_J)
def _gs_bwd_par(g, x, grid, gx, ggrid, C, H, W, Ho, Wo, mode, pad, align, N):
    for n in prange(N):
        _gs_bwd_n(g, x, grid, gx, ggrid, C, H, W, Ho, Wo, mode, pad, align, n, n + 1)


def grid_sample_2d(x, grid, y, N, C, H, W, Ho, Wo, mode, pad, align):
    """y (N, C, Ho, Wo) <- x (N, C, H, W) sampled at grid (N, Ho, Wo, 2); mode 0 bilinear / 1 nearest,
    pad 0 zeros / 1 border / 2 reflection."""
    if on_device(x):
        return cuda_impl("resample").grid_sample_2d(x, grid, y, N, C, H, W, Ho, Wo, mode, pad, align)
    if parallel_ok() and N > 1 and N * C * Ho * Wo >= PAR_MIN:
        _gs_fwd_par(x, grid, y, C, H, W, Ho, Wo, mode, pad, align, N)
    else:
        _gs_fwd_n(x, grid, y, C, H, W, Ho, Wo, mode, pad, align, 0, N)


def grid_sample_2d_backward(g, x, grid, gx, ggrid, N, C, H, W, Ho, Wo, mode, pad, align):
    """gx (zeroed) += d/dx, ggrid <- d/dgrid of sum(g * grid_sample_2d(x, grid))."""
    if on_device(g):
        return cuda_impl("resample").grid_sample_2d_backward(g, x, grid, gx, ggrid, N, C, H, W, Ho, Wo, mode, pad,
                                                             align)
    if parallel_ok() and N > 1 and N * C * Ho * Wo >= PAR_MIN:
        _gs_bwd_par(g, x, grid, gx, ggrid, C, H, W, Ho, Wo, mode, pad, align, N)
    else:
        _gs_bwd_n(g, x, grid, gx, ggrid, C, H, W, Ho, Wo, mode, pad, align, 0, N)
