"""CUDA twins of kernels.resample: separable tap passes (interpolation) and 2-d grid_sample.

taps_axis runs a thread per output element; its adjoint gathers (a thread per input element scans the
outputs' tap lists along its axis), so no atomics are needed. grid_sample's backward runs a thread per
grid point and scatters into the input gradient with atomic adds (bilinear taps of different points can
share pixels). Index/weight tables arrive as host arrays and are copied to the device."""
import math

from numba import cuda

from . import launch


def _dev(v):
    return v if hasattr(v, "copy_to_host") else cuda.to_device(v)


@cuda.jit
def _k_taps(x, idx, w, T, y, n_in, n_out, inner, total):
    i = cuda.grid(1)
    while i < total:
        k = i % inner
        t = i // inner
        j = t % n_out
        o = t // n_out
        acc = 0.0
        for s in range(T):
            acc += w[j * T + s] * x[(o * n_in + idx[j * T + s]) * inner + k]
        y[i] = acc
        i += cuda.gridDim.x * cuda.blockDim.x


@cuda.jit
def _k_taps_bwd(g, idx, w, T, gx, n_in, n_out, inner, total):
    i = cuda.grid(1)
    while i < total:
        k = i % inner
        t = i // inner
        e = t % n_in
        o = t // n_in
        acc = 0.0
        for j in range(n_out):
            for s in range(T):
                if idx[j * T + s] == e:
                    acc += w[j * T + s] * g[(o * n_out + j) * inner + k]
        gx[i] += acc
        i += cuda.gridDim.x * cuda.blockDim.x


def taps_axis(x, idx, w, T, y, outer, n_in, n_out, inner):
    total = int(outer * n_out * inner)
    if total:
        b, t = launch(total)
        _k_taps[b, t](x, _dev(idx), _dev(w), int(T), y, int(n_in), int(n_out), int(inner), total)


def taps_axis_backward(g, idx, w, T, gx, outer, n_in, n_out, inner):
    total = int(outer * n_in * inner)
    if total:
        b, t = launch(total)
        _k_taps_bwd[b, t](g, _dev(idx), _dev(w), int(T), gx, int(n_in), int(n_out), int(inner), total)


@cuda.jit(device=True)
def _reflect(c, lo2, hi2):
    if lo2 == hi2:
        return 0.0, 0.0
    mn = lo2 / 2
    span = (hi2 - lo2) / 2
    sgn = 1.0
    if c < mn:
        c = mn + (mn - c)
        sgn = -1.0
    c = c - mn
    extra = math.fmod(c, span)
    flips = math.floor(c / span)
    if flips % 2 == 0:
        return extra + mn, sgn
    return span - extra + mn, -sgn


@cuda.jit(device=True)
def _src(c, size, pad, align):
    if align:
        x = (c + 1) / 2 * (size - 1)
        d = (size - 1) / 2
    else:
        x = ((c + 1) * size - 1) / 2
        d = size / 2
    if pad == 1:
        if x < 0:
            x = 0.0
            d = 0.0
        elif x > size - 1:
            x = size - 1.0
            d = 0.0
    elif pad == 2:
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


@cuda.jit
def _k_gs(x, grid, y, N, C, H, W, Ho, Wo, mode, pad, align, total):
    i = cuda.grid(1)
    while i < total:
        pix = i % (Ho * Wo)
        t = i // (Ho * Wo)
        c = t % C
        n = t // C
        gb = (n * Ho * Wo + pix) * 2
        ix, _a = _src(grid[gb], W, pad, align)
        iy, _b = _src(grid[gb + 1], H, pad, align)
        base = (n * C + c) * H * W
        v = 0.0
        if mode == 1:
            if ix == ix and iy == iy:
                xi = int(round(ix))
                yi = int(round(iy))
                if 0 <= xi < W and 0 <= yi < H:
                    v = x[base + yi * W + xi]
        elif ix == ix and iy == iy:
            x0 = int(math.floor(ix))
            y0 = int(math.floor(iy))
            tx = ix - x0
            ty = iy - y0
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
                    v += x[base + yy * W + xx] * wx * wy
        y[i] = v
        i += cuda.gridDim.x * cuda.blockDim.x


@cuda.jit
def _k_gs_bwd(g, x, grid, gx, ggrid, N, C, H, W, Ho, Wo, mode, pad, align, total):
    i = cuda.grid(1)
    while i < total:
        pix = i % (Ho * Wo)
        n = i // (Ho * Wo)
        gb = (n * Ho * Wo + pix) * 2
        ix, dix = _src(grid[gb], W, pad, align)
        iy, diy = _src(grid[gb + 1], H, pad, align)
        gxs = 0.0
        gys = 0.0
        if mode == 1:
            if ix == ix and iy == iy:
                xi = int(round(ix))
                yi = int(round(iy))
                if 0 <= xi < W and 0 <= yi < H:
                    for c in range(C):
                        cuda.atomic.add(gx, ((n * C + c) * H + yi) * W + xi, g[(n * C + c) * Ho * Wo + pix])
        elif ix == ix and iy == iy:
            x0 = int(math.floor(ix))
            y0 = int(math.floor(iy))
            tx = ix - x0
            ty = iy - y0
            for c in range(C):
                base = (n * C + c) * H * W
                go = g[(n * C + c) * Ho * Wo + pix]
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
                        cuda.atomic.add(gx, base + yy * W + xx, go * wx * wy)
                        gxs += go * v * sx * wy
                        gys += go * v * wx * sy
        ggrid[gb] = gxs * dix
        ggrid[gb + 1] = gys * diy
        i += cuda.gridDim.x * cuda.blockDim.x


def grid_sample_2d(x, grid, y, N, C, H, W, Ho, Wo, mode, pad, align):
    total = int(N * C * Ho * Wo)
    if total:
        b, t = launch(total)
        _k_gs[b, t](x, grid, y, N, C, H, W, Ho, Wo, mode, pad, bool(align), total)


def grid_sample_2d_backward(g, x, grid, gx, ggrid, N, C, H, W, Ho, Wo, mode, pad, align):
    total = int(N * Ho * Wo)
    if total:
        b, t = launch(total)
        _k_gs_bwd[b, t](g, x, grid, gx, ggrid, N, C, H, W, Ho, Wo, mode, pad, bool(align), total)
