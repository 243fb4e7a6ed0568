"""Cross-entropy (log-softmax + NLL fused), NLL and CTC kernels, forward and backward.

Cross entropy / NLL take a contiguous (outer, n, inner) input: n classes, samples i = (o, j) at offsets
o*n*inner + j + k*inner.

Per sample the forward writes loss[i] = w_t * (lse_i - x_t) (cross entropy) or -w_t * x_t (NLL),
wout[i] = w_t (0 for ignore_index) and, for cross entropy, lse[i] (saved for the backward, which
rebuilds softmax as exp(x - lse) in the same pass that writes the gradient). Targets are validated
by the caller; a kernel never reads outside a row (an out-of-range target gives NaN and is skipped).
Gradient scale per sample: gs[i * gstride] / den[0] (gstride 0 for reduced losses, den = the weight
sum for 'mean').

CTC runs one task per sample over log-probabilities (T, N, C) in float64: the alpha recursion in log
space (forward), then beta and torch's gradient formula (backward); targets are flat int64 with a start
offset and length per sample."""
import numpy as np
from numba import njit, prange, types
from numba.extending import overload

from numtorch.kernels import reduction as _red
from numtorch.kernels._device import cuda_impl, on_device
from numtorch.kernels.softmax import _exp, _rowmax, _zero

_J = dict(cache=True, error_model='numpy')
_JF = dict(cache=True, error_model='numpy', fastmath={'reassoc'})


def _as(arr, v):
    """v converted to arr's element type."""


@overload(_as)
def _as_ov(arr, v):
    if arr.dtype == types.float32:
        return lambda arr, v: np.float32(v)
    return lambda arr, v: np.float64(v)


@njit(inline='always', **_J)
def _tw(target, weight, i, n, ignore_index):
    """(class, weight) of sample i; class -1 for ignored or out-of-range targets."""
    t = target[i]
    if t == ignore_index or t < 0 or t >= n:
        return -1, 0.0
    return t, (weight[t] if weight.size else 1.0)


@njit(**_JF)
def _lse(x, base, n, inner):
    if inner == 1:
        src = x[base:base + n]
        m = _rowmax(src)
        s = _zero(m)
        for k in range(n):
            s += _exp(src[k] - m)
        return m + np.log(s)
    m = x[base]
    for k in range(n):
        v = x[base + k * inner]
        m = v if v > m else m
    s = _zero(m)
    for k in range(n):
        s += _exp(x[base + k * inner] - m)
    return m + np.log(s)


@njit(inline='always', **_J)
def _ce_fw_one(x, n, inner, target, weight, ignore_index, loss, wout, lse, i):
    o = i // inner
    base = o * n * inner + (i - o * inner)
    c = _lse(x, base, n, inner)
    lse[i] = c
    t, w = _tw(target, weight, i, n, ignore_index)
    if t < 0:
        wout[i] = 0.0
        ti = target[i]
        loss[i] = 0.0 if ti == ignore_index else np.nan
    else:
        wout[i] = w
        loss[i] = w * (c - x[base + t * inner])


@njit(**_J)
def _ce_fw_ser(x, n, inner, target, weight, ignore_index, loss, wout, lse):
    for i in range(loss.size):
        _ce_fw_one(x, n, inner, target, weight, ignore_index, loss, wout, lse, i)


@njit(parallel=True, **_J)
def _ce_fw_par(x, n, inner, target, weight, ignore_index, loss, wout, lse):
    for i in prange(loss.size):
        _ce_fw_one(x, n, inner, target, weight, ignore_index, loss, wout, lse, np.int64(i))


@njit(**_JF)
def _ce_bw_one(x, n, inner, target, weight, ignore_index, lse, gs, gstride, den, out, i):
    o = i // inner
    base = o * n * inner + (i - o * inner)
    t, w = _tw(target, weight, i, n, ignore_index)
    c = lse[i]
    if inner == 1:
        src = x[base:base + n]
        dst = out[base:base + n]
        if t < 0:
            for k in range(n):
                dst[k] = 0
            return
        sc = w * gs[i * gstride] / den[0]
        sct = _as(src, sc)  # in the buffer's dtype, so the loop stays float32
        for k in range(n):
            dst[k] = sct * _exp(src[k] - c)
        dst[t] -= sct
        return
    if t < 0:
        for k in range(n):
            out[base + k * inner] = 0
        return
    sc = w * gs[i * gstride] / den[0]
    for k in range(n):
        out[base + k * inner] = sc * _exp(x[base + k * inner] - c)
    out[base + t * inner] -= sc


@njit(**_J)
def _ce_bw_ser(x, n, inner, target, weight, ignore_index, lse, gs, gstride, den, out):
    for i in range(lse.size):
        _ce_bw_one(x, n, inner, target, weight, ignore_index, lse, gs, gstride, den, out, i)


@njit(parallel=True, **_J)
def _ce_bw_par(x, n, inner, target, weight, ignore_index, lse, gs, gstride, den, out):
    for i in prange(lse.size):
        _ce_bw_one(x, n, inner, target, weight, ignore_index, lse, gs, gstride, den, out, np.int64(i))


@njit(**_J)
def _nll_fw(x, n, inner, target, weight, ignore_index, loss, wout):
    for i in range(loss.size):
        o = i // inner
        base = o * n * inner + (i - o * inner)
        t, w = _tw(target, weight, i, n, ignore_index)
        if t < 0:
            wout[i] = 0.0
            loss[i] = 0.0 if target[i] == ignore_index else np.nan
        else:
            wout[i] = w
            loss[i] = -w * x[base + t * inner]


@njit(**_J)
def _nll_bw(n, inner, target, weight, ignore_index, gs, gstride, den, out):
    out[:] = 0
    for i in range(target.size):
        o = i // inner
        t, w = _tw(target, weight, i, n, ignore_index)
        if t >= 0:
            out[o * n * inner + (i - o * inner) + t * inner] = -w * gs[i * gstride] / den[0]


# ---------------------------------------------------------------- Python entry points
def _check(x, outer, n, inner, target, weight, *outs):
    if not isinstance(x, np.ndarray) or x.ndim != 1 or not x.flags.c_contiguous or x.dtype not in (np.float32,
                                                                                                   np.float64):
        raise ValueError("input must be a contiguous 1-D float32/float64 array")
    if x.size != outer * n * inner or target.size != outer * inner or target.dtype != np.int64:
        raise ValueError("input/target sizes do not match (outer, n, inner)")
    if weight.size not in (0, n):
        raise ValueError("weight must be empty or hold n values")
    for a in outs:
        if a.size != outer * inner or not a.flags.c_contiguous:
            raise ValueError("per-sample buffers must be contiguous with outer*inner elements")


def cross_entropy_forward(x, outer, n, inner, target, weight, ignore_index, loss, wout, lse):
    """Per-sample weighted CE losses, target weights (0 where ignored) and log-sum-exps; returns loss."""
    if on_device(x):
        return cuda_impl("loss").cross_entropy_forward(x, outer, n, inner, target, weight, ignore_index,
                                                       loss, wout, lse)
    _check(x, outer, n, inner, target, weight, loss, wout, lse)
    if loss.size:
        par = _red._use_par(x.size) and loss.size > 1
        (_ce_fw_par if par else _ce_fw_ser)(x, n, inner, target, weight, np.int64(ignore_index), loss, wout, lse)
    return loss


def cross_entropy_backward(x, outer, n, inner, target, weight, ignore_index, lse, gs, den, out):
    """d loss / d x = (gs_i * w_t / den) * (softmax(x) - onehot(t)); gs holds 1 (reduced) or outer*inner
    values; den one value. Returns out (input-shaped)."""
    if on_device(x):
        return cuda_impl("loss").cross_entropy_backward(x, outer, n, inner, target, weight, ignore_index, lse,
                                                        gs, den, out)
    _check(x, outer, n, inner, target, weight, lse)
    if out.size != x.size or out.dtype != x.dtype:
        raise ValueError("out must match the input")
    gstride = 0 if gs.size == 1 and lse.size != 1 else 1
    if lse.size:
        par = _red._use_par(x.size) and lse.size > 1
        (_ce_bw_par if par else _ce_bw_ser)(x, n, inner, target, weight, np.int64(ignore_index), lse, gs,
                                            gstride, den, out)
    return out


def nll_forward(x, outer, n, inner, target, weight, ignore_index, loss, wout):
    """Per-sample -w_t * x[t] and target weights (0 where ignored); returns loss."""
    if on_device(x):
        return cuda_impl("loss").nll_forward(x, outer, n, inner, target, weight, ignore_index, loss, wout)
    _check(x, outer, n, inner, target, weight, loss, wout)
    _nll_fw(x, n, inner, target, weight, np.int64(ignore_index), loss, wout)
    return loss


def nll_backward(n, inner, target, weight, ignore_index, gs, den, out):
    """Input gradient of NLL: -gs_i * w_t / den at each target position, 0 elsewhere; returns out."""
    if on_device(out):
        return cuda_impl("loss").nll_backward(n, inner, target, weight, ignore_index, gs, den, out)
    gstride = 0 if gs.size == 1 and target.size != 1 else 1
    if out.size != target.size * n:
        raise ValueError("out must hold outer*n*inner values")
    _nll_bw(n, inner, target, weight, np.int64(ignore_index), gs, gstride, den, out)
    return out


# ---------------------------------------------------------------- CTC (alpha/beta recursions in log space)
@njit(inline='always', **_J)
def _lae(a, b):
    """log(exp(a) + exp(b)) with -inf operands."""
    if a == -np.inf:
        return b
    if b == -np.inf:
        return a
    m = a if a > b else b
    return m + np.log1p(np.exp(-abs(a - b)))


@njit(inline='always', **_J)
def _label(targets, toff, s, blank):
    return blank if s % 2 == 0 else targets[toff + (s - 1) // 2]


@njit(**_J)
def _ctc_alpha(lp, N, C, targets, toff, tl, il, blank, n, la):
    """Fill la (T x L) with log alpha of sample n; returns its negative log likelihood."""
    Tn, L = il, 2 * tl + 1
    la[:, :] = -np.inf
    if Tn == 0:
        return 0.0 if tl == 0 else np.inf
    la[0, 0] = lp[n * C + blank]
    if L > 1:
        la[0, 1] = lp[n * C + _label(targets, toff, 1, blank)]
    for t in range(1, Tn):
        row = (t * N + n) * C
        for s in range(L):
            c = _label(targets, toff, s, blank)
            v = la[t - 1, s]
            if s > 0:
                v = _lae(v, la[t - 1, s - 1])
            if s > 1 and c != blank and c != _label(targets, toff, s - 2, blank):
                v = _lae(v, la[t - 1, s - 2])
            la[t, s] = v + lp[row + c] if v != -np.inf else -np.inf
    r = la[Tn - 1, L - 1]
    if L > 1:
        r = _lae(r, la[Tn - 1, L - 2])
    return -r


@njit(**_J)
def _ctc_one(lp, T, N, C, targets, toffs, tls, ils, blank, loss, n, smax):
    la = np.empty((T, 2 * smax + 1))
    loss[n] = _ctc_alpha(lp, N, C, targets, toffs[n], tls[n], ils[n], blank, n, la)


@njit(**_J)
def _ctc_fw_ser(lp, T, N, C, targets, toffs, tls, ils, blank, loss, smax):
    for n in range(N):
        _ctc_one(lp, T, N, C, targets, toffs, tls, ils, blank, loss, n, smax)


@njit(parallel=True, **_J)
def _ctc_fw_par(lp, T, N, C, targets, toffs, tls, ils, blank, loss, smax):
    for n in prange(N):
        _ctc_one(lp, T, N, C, targets, toffs, tls, ils, blank, loss, np.int64(n), smax)


@njit(**_J)
def _ctc_bw_one(lp, T, N, C, targets, toffs, tls, ils, blank, gs, zero_inf, out, n, smax):
    toff, tl, Tn = toffs[n], tls[n], ils[n]
    L = 2 * tl + 1
    la = np.empty((T, 2 * smax + 1))
    nll = _ctc_alpha(lp, N, C, targets, toff, tl, Tn, blank, n, la)
    g = gs[n]
    for t in range(T):
        out[(t * N + n) * C:(t * N + n + 1) * C] = 0
    if Tn == 0 or (zero_inf and nll == np.inf):
        return
    lb = np.full((Tn, L), -np.inf)
    last = ((Tn - 1) * N + n) * C
    lb[Tn - 1, L - 1] = lp[last + blank]
    if L > 1:
        lb[Tn - 1, L - 2] = lp[last + _label(targets, toff, L - 2, blank)]
    for t in range(Tn - 2, -1, -1):
        row = (t * N + n) * C
        for s in range(L):
            c = _label(targets, toff, s, blank)
            v = lb[t + 1, s]
            if s < L - 1:
                v = _lae(v, lb[t + 1, s + 1])
            if s < L - 2 and c != blank and c != _label(targets, toff, s + 2, blank):
                v = _lae(v, lb[t + 1, s + 2])
            lb[t, s] = v + lp[row + c] if v != -np.inf else -np.inf
    lcab = np.empty(C)
    for t in range(Tn):
        row = (t * N + n) * C
        lcab[:] = -np.inf
        for s in range(L):
            c = _label(targets, toff, s, blank)
            lcab[c] = _lae(lcab[c], la[t, s] + lb[t, s])
        for c in range(C):
            v = lp[row + c]
            # torch's formula: the gradient w.r.t. the logits behind a log_softmax
            out[row + c] = (np.exp(v) - np.exp(lcab[c] + nll - v)) * g


@njit(**_J)
def _ctc_bw_ser(lp, T, N, C, targets, toffs, tls, ils, blank, gs, zero_inf, out, smax):
    for n in range(N):
        _ctc_bw_one(lp, T, N, C, targets, toffs, tls, ils, blank, gs, zero_inf, out, n, smax)


@njit(parallel=True, **_J)
def _ctc_bw_par(lp, T, N, C, targets, toffs, tls, ils, blank, gs, zero_inf, out, smax):
    for n in prange(N):
        _ctc_bw_one(lp, T, N, C, targets, toffs, tls, ils, blank, gs, zero_inf, out, np.int64(n), smax)


def ctc_forward(lp, T, N, C, targets, toffs, tls, ils, blank, loss):
    """Per-sample CTC negative log likelihoods of lp (T, N, C) float64, flat int64 targets starting at toffs[n]
    with tls[n] labels, ils[n] time steps (all validated by the caller); returns loss (N float64)."""
    if on_device(lp):
        return cuda_impl("loss").ctc_forward(lp, T, N, C, targets, toffs, tls, ils, blank, loss)
    if N:
        par = _red._use_par(T * N * C) and N > 1
        (_ctc_fw_par if par else _ctc_fw_ser)(lp, T, N, C, targets, toffs, tls, ils, blank, loss,
                                              max(int(tls.max()), 0))
    return loss


def ctc_backward(lp, T, N, C, targets, toffs, tls, ils, blank, gs, zero_inf, out):
    """torch's CTC gradient (exp(lp) - alpha*beta / p) * gs[n] into out (T, N, C) float64; zero past
    ils[n] and, with zero_inf, for samples of infinite loss."""
    if on_device(lp):
        return cuda_impl("loss").ctc_backward(lp, T, N, C, targets, toffs, tls, ils, blank, gs, zero_inf, out)
    if N:
        par = _red._use_par(T * N * C) and N > 1
        (_ctc_bw_par if par else _ctc_bw_ser)(lp, T, N, C, targets, toffs, tls, ils, blank, gs, bool(zero_inf), out,
                                              max(int(tls.max()), 0))
    return out
