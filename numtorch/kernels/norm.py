"""Layer/RMS/group normalisation kernels over contiguous rows (forward and fused backward).

Layer norm views the input as (rows, n): each row is normalised by its own mean and rstd (two passes
over a row that stays in cache: a numerically stable mean, then the centred sum of squares, both
accumulated in float64). RMS norm is the same kernel with the mean fixed at 0. Group norm views the
input as (N, C, HW) with G groups: row r = (sample, group) is the contiguous block of C/G channels,
and the affine weight/bias are per channel.

Backward: one pass per row gives dx = rstd * (gw - mean(gw) - xhat * mean(gw * xhat)) with gw = g * w
(no mean term for RMS norm); the same pass adds g * xhat and g into per-task float64 partials of dw
and db, which a second small kernel sums. Absent weight/bias are passed as empty arrays.
Buffers are float32 or float64 (float16 is computed in float32 by the caller).
"""
import numpy as np
from numba import njit, prange

from . import parallel_ok
from ._device import cuda_impl, on_device

PAR_MIN = 1 << 15       # elements; below this the serial kernels win
_NT = 64                # parallel kernels split their rows into at most this many tasks
_PROWS = 256            # rows per float32 partial of the layer-norm weight/bias gradients
_J = dict(cache=True, error_model='numpy')
_JF = dict(cache=True, error_model='numpy', fastmath={'reassoc'})


@njit(inline='always', **_JF)
def _stats(xr, rms, eps):
    """(mean, rstd) of one row in float64: two passes (the row is in cache)."""
    n = xr.size
    m = 0.0
    if not rms:
        s = 0.0
        for j in range(n):
            s += xr[j]
        m = s / n
    q = 0.0
    for j in range(n):
        d = xr[j] - m
        q += d * d
    return m, 1.0 / np.sqrt(q / n + eps)


# -- layer / rms norm ----------------------------------------------------------------------------------

@njit(**_JF)
def _ln_fwd_rows(x, y, w, b, mean, rstd, r0, r1, n, eps, rms):
    hw = w.size > 0
    hb = b.size > 0
    for r in range(r0, r1):
        xr = x[r * n:r * n + n]
        yr = y[r * n:r * n + n]
        m, rs = _stats(xr, rms, eps)
        mean[r] = m
        rstd[r] = rs
        mf = mean[r]        # in the buffer's dtype: the row loops below stay in it
        rf = rstd[r]
        if hw and hb:
            for j in range(n):
                yr[j] = (xr[j] - mf) * rf * w[j] + b[j]
        elif hw:
            for j in range(n):
                yr[j] = (xr[j] - mf) * rf * w[j]
        elif hb:
            for j in range(n):
                yr[j] = (xr[j] - mf) * rf + b[j]
        else:
            for j in range(n):
                yr[j] = (xr[j] - mf) * rf


@njit(**_J)
def _ln_fwd_ser(x, y, w, b, mean, rstd, rows, n, eps, rms):
    _ln_fwd_rows(x, y, w, b, mean, rstd, 0, rows, n, eps, rms)


@njit(parallel=True, **_J)
def _ln_fwd_par(x, y, w, b, mean, rstd, rows, n, eps, rms, nt):
    for t in prange(nt):
        _ln_fwd_rows(x, y, w, b, mean, rstd, (rows * t) // nt, (rows * (t + 1)) // nt, n, eps, rms)


@njit(**_JF)
def _ln_bwd_rows(g, x, mean, rstd, w, dx, pw, pb, t, r0, r1, n, rms, want_dx):
    """dx of rows r0..r1 and this task's dw/db partials (rows t of pw/pb; empty when not wanted)."""
    hw = w.size > 0
    dww = pw.size > 0
    dbb = pb.size > 0
    for r in range(r0, r1):
        xr = x[r * n:r * n + n]
        gr = g[r * n:r * n + n]
        mf = mean[r]
        rf = rstd[r]
        if want_dx:
            dr = dx[r * n:r * n + n]
            s1 = 0.0
            s2 = 0.0
            if hw:
                for j in range(n):
                    gw = gr[j] * w[j]
                    s1 += gw
                    s2 += gw * ((xr[j] - mf) * rf)
            else:
                for j in range(n):
                    s1 += gr[j]
                    s2 += gr[j] * ((xr[j] - mf) * rf)
            if rms:
                s1 = 0.0
            dr[0] = s1 / n      # typed copies of the row constants (keeps the loop in the buffer dtype)
            a = dr[0]
            dr[0] = s2 / n
            c = dr[0]
            if hw:
                for j in range(n):
                    dr[j] = rf * (gr[j] * w[j] - a - (xr[j] - mf) * rf * c)
            else:
                for j in range(n):
                    dr[j] = rf * (gr[j] - a - (xr[j] - mf) * rf * c)
        if dww:
            p = pw[t * n:t * n + n]
            for j in range(n):
                p[j] += gr[j] * ((xr[j] - mf) * rf)
        if dbb:
            p = pb[t * n:t * n + n]
            for j in range(n):
                p[j] += gr[j]


@njit(**_J)
def _ln_bwd_ser(g, x, mean, rstd, w, dx, pw, pb, rows, n, rms, want_dx, nt):
    for t in range(nt):
        _ln_bwd_rows(g, x, mean, rstd, w, dx, pw, pb, t, (rows * t) // nt, (rows * (t + 1)) // nt, n, rms,
                     want_dx)


@njit(parallel=True, **_J)
def _ln_bwd_par(g, x, mean, rstd, w, dx, pw, pb, rows, n, rms, want_dx, nt):
    for t in prange(nt):
        _ln_bwd_rows(g, x, mean, rstd, w, dx, pw, pb, t, (rows * t) // nt, (rows * (t + 1)) // nt, n, rms,
                     want_dx)


@njit(**_JF)
def _sum_parts(part, nt, n, out):
    """out[j] = sum over tasks of part[t, j] (float64 partials into the output dtype)."""
    for j in range(n):
        out[j] = 0.0
    acc = np.zeros(n)
    for t in range(nt):
        p = part[t * n:t * n + n]
        for j in range(n):
            acc[j] += p[j]
    for j in range(n):
        out[j] = acc[j]


def _tasks(rows, total):
    if total >= PAR_MIN and rows > 1 and parallel_ok():
        return min(rows, _NT)
    return 1


def _check(name, a, size, dt=None):
    if not isinstance(a, np.ndarray) or a.ndim != 1 or not a.flags.c_contiguous or a.dtype.kind != 'f':
        raise ValueError(f"{name} must be a contiguous 1-D float array")
    if size is not None and a.size != size:
        raise ValueError(f"{name} has {a.size} elements, expected {size}")
    if dt is not None and a.dtype != dt:
        raise ValueError(f"{name} must have dtype {dt}")


def layer_norm(x, rows, n, w, b, eps, y, mean, rstd, rms=False):
    """y = (x - mean) * rstd * w + b per row of x (rows, n); w/b empty when absent. rms: mean = 0."""
    if on_device(x):
        return cuda_impl("norm").layer_norm(x, rows, n, w, b, eps, y, mean, rstd, rms)
    dt = x.dtype
    _check("x", x, rows * n)
    _check("y", y, rows * n, dt)
    _check("mean", mean, rows, dt)
    _check("rstd", rstd, rows, dt)
    for nm, a in (("w", w), ("b", b)):
        if a.size:
            _check(nm, a, n, dt)
    if rows == 0:
        return y
    nt = _tasks(rows, rows * n)
    if nt > 1:
        _ln_fwd_par(x, y, w, b, mean, rstd, rows, n, float(eps), bool(rms), nt)
    else:
        _ln_fwd_ser(x, y, w, b, mean, rstd, rows, n, float(eps), bool(rms))
    return y


def layer_norm_backward(g, x, mean, rstd, w, rows, n, dx, dw, db, rms=False):
    """Fused backward of layer_norm: dx (or None), dw/db (arrays of n, or None) from the saved mean/rstd."""
    if on_device(g):
        return cuda_impl("norm").layer_norm_backward(g, x, mean, rstd, w, rows, n, dx, dw, db, rms)
    dt = x.dtype
    _check("g", g, rows * n, dt)
    _check("x", x, rows * n, dt)
    if w.size:
        _check("w", w, n, dt)
    for nm, a in (("dw", dw), ("db", db)):
        if a is not None:
            _check(nm, a, n, dt)
    if dx is not None:
        _check("dx", dx, rows * n, dt)
    if rows == 0:
        for a in (dw, db):
            if a is not None:
                a[:] = 0
        return dx
    par = _tasks(rows, rows * n)
    # per-task partials in the buffer dtype, each over at most _PROWS rows; _sum_parts adds them in float64
    nt = max(par, -(-rows // _PROWS))
    pw = np.zeros(nt * n, dt) if dw is not None else np.empty(0, dt)
    pb = np.zeros(nt * n, dt) if db is not None else np.empty(0, dt)
    dxb = dx if dx is not None else np.empty(1, dt)
    if par > 1:
        _ln_bwd_par(g, x, mean, rstd, w, dxb, pw, pb, rows, n, bool(rms), dx is not None, nt)
    else:
        _ln_bwd_ser(g, x, mean, rstd, w, dxb, pw, pb, rows, n, bool(rms), dx is not None, nt)
    if dw is not None:
        _sum_parts(pw, nt, n, dw)
    if db is not None:
        _sum_parts(pb, nt, n, db)
    return dx


# -- group norm ----------------------------------------------------------------------------------------

@njit(**_JF)
def _gn_fwd_rows(x, y, w, b, mean, rstd, r0, r1, G, cg, hw, eps):
    L = cg * hw
    hw_ = w.size > 0
    hb = b.size > 0
    for r in range(r0, r1):
        xr = x[r * L:r * L + L]
        m, rs = _stats(xr, False, eps)
        mean[r] = m
        rstd[r] = rs
        c0 = (r % G) * cg
        for k in range(cg):
            sc = rs
            if hw_:
                sc = rs * w[c0 + k]
            sh = -m * sc
            if hb:
                sh += b[c0 + k]
            y[r * L + k * hw] = sc   # typed copies of the channel constants
            scf = y[r * L + k * hw]
            y[r * L + k * hw] = sh
            shf = y[r * L + k * hw]
            xs = xr[k * hw:k * hw + hw]
            ys = y[r * L + k * hw:r * L + k * hw + hw]
            for j in range(hw):
                ys[j] = xs[j] * scf + shf


@njit(**_J)
def _gn_fwd_ser(x, y, w, b, mean, rstd, rows, G, cg, hw, eps):
    _gn_fwd_rows(x, y, w, b, mean, rstd, 0, rows, G, cg, hw, eps)


@njit(parallel=True, **_J)
def _gn_fwd_par(x, y, w, b, mean, rstd, rows, G, cg, hw, eps, nt):
    for t in prange(nt):
        _gn_fwd_rows(x, y, w, b, mean, rstd, (rows * t) // nt, (rows * (t + 1)) // nt, G, cg, hw, eps)


@njit(**_JF)
def _gn_bwd_rows(g, x, mean, rstd, w, dx, pw, pb, t, r0, r1, G, C, cg, hw, want_dx):
    L = cg * hw
    hw_ = w.size > 0
    dww = pw.size > 0
    dbb = pb.size > 0
    for r in range(r0, r1):
        m = np.float64(mean[r])
        rs = np.float64(rstd[r])
        c0 = (r % G) * cg
        s1 = 0.0
        s2 = 0.0
        for k in range(cg):
            xs = x[r * L + k * hw:r * L + k * hw + hw]
            gs = g[r * L + k * hw:r * L + k * hw + hw]
            sg = 0.0
            sgx = 0.0
            for j in range(hw):
                sg += gs[j]
                sgx += gs[j] * xs[j]
            sgxh = (sgx - m * sg) * rs        # sum over the channel of g * xhat
            wk = w[c0 + k] if hw_ else 1.0
            s1 += sg * wk
            s2 += sgxh * wk
            if dww:
                pw[t * C + c0 + k] += sgxh
            if dbb:
                pb[t * C + c0 + k] += sg
        if want_dx:
            a = s1 / L
            c = s2 / L
            for k in range(cg):
                wk = w[c0 + k] if hw_ else 1.0
                # dx = rs * (g * wk - a - (x - m) * rs * c) = g * A + x * B + D
                A = rs * wk
                B = -rs * rs * c
                D = rs * (m * rs * c - a)
                o = r * L + k * hw
                dx[o] = A
                Af = dx[o]
                dx[o] = B
                Bf = dx[o]
                dx[o] = D
                Df = dx[o]
                xs = x[o:o + hw]
                gs = g[o:o + hw]
                ds = dx[o:o + hw]
                for j in range(hw):
                    ds[j] = gs[j] * Af + xs[j] * Bf + Df


@njit(**_J)
def _gn_bwd_ser(g, x, mean, rstd, w, dx, pw, pb, rows, G, C, cg, hw, want_dx):
    _gn_bwd_rows(g, x, mean, rstd, w, dx, pw, pb, 0, 0, rows, G, C, cg, hw, want_dx)


@njit(parallel=True, **_J)
def _gn_bwd_par(g, x, mean, rstd, w, dx, pw, pb, rows, G, C, cg, hw, want_dx, nt):
    for t in prange(nt):
        _gn_bwd_rows(g, x, mean, rstd, w, dx, pw, pb, t, (rows * t) // nt, (rows * (t + 1)) // nt, G, C, cg, hw,
                     want_dx)


def group_norm(x, N, C, hw, G, w, b, eps, y, mean, rstd):
    """Group norm of x (N, C, hw) with G groups; w/b per channel (empty when absent); mean/rstd (N*G,)."""
    if on_device(x):
        return cuda_impl("norm").group_norm(x, N, C, hw, G, w, b, eps, y, mean, rstd)
    dt = x.dtype
    _check("x", x, N * C * hw)
    _check("y", y, N * C * hw, dt)
    _check("mean", mean, N * G, dt)
    _check("rstd", rstd, N * G, dt)
    if C % G:
        raise ValueError("C must be divisible by G")
    for nm, a in (("w", w), ("b", b)):
        if a.size:
            _check(nm, a, C, dt)
    rows = N * G
    if rows == 0 or C * hw == 0:
        return y
    nt = _tasks(rows, rows * (C // G) * hw)
    if nt > 1:
        _gn_fwd_par(x, y, w, b, mean, rstd, rows, G, C // G, hw, float(eps), nt)
    else:
        _gn_fwd_ser(x, y, w, b, mean, rstd, rows, G, C // G, hw, float(eps))
    return y


def group_norm_backward(g, x, mean, rstd, w, N, C, hw, G, dx, dw, db):
    """Fused backward of group_norm: dx (or None) and per-channel dw/db (or None)."""
    if on_device(g):
        return cuda_impl("norm").group_norm_backward(g, x, mean, rstd, w, N, C, hw, G, dx, dw, db)
    dt = x.dtype
    _check("g", g, N * C * hw, dt)
    _check("x", x, N * C * hw, dt)
    if w.size:
        _check("w", w, C, dt)
    if dx is not None:
        _check("dx", dx, N * C * hw, dt)
    rows = N * G
    nt = _tasks(rows, N * C * hw) if hw * C else 1
    pw = np.zeros(nt * C) if dw is not None else np.empty(0)
    pb = np.zeros(nt * C) if db is not None else np.empty(0)
    if rows and hw * C:
        dxb = dx if dx is not None else np.empty(1, dt)
        if nt > 1:
            _gn_bwd_par(g, x, mean, rstd, w, dxb, pw, pb, rows, G, C, C // G, hw, dx is not None, nt)
        else:
            _gn_bwd_ser(g, x, mean, rstd, w, dxb, pw, pb, rows, G, C, C // G, hw, dx is not None)
    if dw is not None:
        _sum_parts(pw, nt, C, dw)
    if db is not None:
        _sum_parts(pb, nt, C, db)
    return dx
