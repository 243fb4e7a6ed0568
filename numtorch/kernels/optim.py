"""Multi-tensor optimizer kernels: one compiled call updates every parameter of a group (SGD, Adam/AdamW,
RMSprop, Adagrad, Adamax/NAdam/RAdam, Adadelta, Rprop, ASGD).

A group is described by ``table``, an int64 (n, K) array with one row per parameter: element
addresses of the parameter, its gradient and its state buffers (0 where a slot is unused), then
the element count and a per-parameter flag (1: its state is fresh and must be initialised). The
kernel turns each address into a typed pointer with a small ``@intrinsic`` and walks it through
``numba.carray``: no tuples of arrays (Numba specialises on tuple length), so one compilation per
dtype serves any number of parameters. Work is split into chunks of ``_CH`` elements so a group
with a few large tensors still fills every thread.

Scalars: ``hp`` holds the group's hyper-parameters already cast to the parameter dtype (PyTorch
casts Python scalars to the tensor dtype before its elementwise ops, so float32 updates round like
PyTorch's); ``hp64`` holds the float64 values used for per-step bias corrections, computed here
in float64 exactly as PyTorch computes them in Python. The ``step`` counters are 0-d CPU tensors
(PyTorch's layout); their addresses are a table column and the kernel (or, for per-parameter scalars
such as Adagrad's decayed lr and the device kernels, a small host helper) increments them.

Each update mirrors PyTorch's single-tensor algorithm operation by operation (same order of
roundings): ``exp_avg.lerp_(g, 1-b1)`` is ``m + w*(g-m)``, ``addcmul_`` is ``s + v*a*b``,
``addcdiv_`` is ``s + v*a/b``.
"""
import numba
import numpy as np
from numba import njit, prange
from numba.core import types
from numba.extending import intrinsic

from . import parallel_ok
from ._device import cuda_impl, on_device

_J = dict(cache=True, error_model='numpy')
_CH = 1 << 14            # elements per parallel task
PAR_MIN = 1 << 16        # total elements below which the serial kernel runs

# table columns
P, G = 0, 1              # parameter, gradient; state slots follow (per algorithm)

# Adam flags
AMSGRAD, MAXIMIZE, DECOUPLED, HAS_WD = 1, 2, 4, 8
# SGD flags (MAXIMIZE and HAS_WD shared)
NESTEROV, HAS_MOMENTUM = 16, 32


@intrinsic
def _ptr(typingctx, addr, ref):
    """int64 address -> pointer to ``ref``'s dtype."""
    sig = types.CPointer(ref.dtype)(addr, ref)

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], context.get_value_type(signature.return_type))
    return sig, codegen


@njit(**_J)
def buffer_address(a):
    """Address of a host buffer's first element (about 10x cheaper than ``a.ctypes.data``, and it
    allocates no Python objects, so a step over many parameters does not set off the garbage collector)."""
    return a.ctypes.data


@njit(**_J)
def _chunks(lens, ch):
    """(param index, start) of every chunk of at most ``ch`` elements."""
    nc = 0
    for i in range(lens.shape[0]):
        nc += (lens[i] + ch - 1) // ch
    idx = np.empty(nc, np.int64)
    start = np.empty(nc, np.int64)
    c = 0
    for i in range(lens.shape[0]):
        s = 0
        while s < lens[i]:
            idx[c] = i
            start[c] = s
            c += 1
            s += ch
    return idx, start


def chunks(lens, ch):
    """(param index, start) arrays of the chunks of at most ``ch`` elements (host)."""
    return _chunks(lens, ch)


def _run(ser, par, table, lens_col, *args):
    """Serial kernel for small groups, chunked parallel kernel for large ones."""
    lens = table[:, lens_col]
    if parallel_ok() and int(lens.sum()) >= PAR_MIN:
        idx, start = _chunks(lens, _CH)
        par(table, idx, start, *args)
    else:
        ser(table, *args)


# ------------------------------------------------------------------------------------------------ SGD
# table: p, g, momentum_buffer, len, init
@njit(inline='always', **_J)
def _sgd_range(table, i, s, e, hp, flags):
    n = table[i, 3]
    pp = numba.carray(_ptr(table[i, 0], hp), n)[s:e]
    gg = numba.carray(_ptr(table[i, 1], hp), n)[s:e]
    lr_neg, wd, mom, damp1 = hp[0], hp[1], hp[2], hp[3]
    maximize = (flags & MAXIMIZE) != 0
    has_wd = (flags & HAS_WD) != 0
    if (flags & HAS_MOMENTUM) != 0:
        bb = numba.carray(_ptr(table[i, 2], hp), n)[s:e]
        init = table[i, 4] != 0
        nesterov = (flags & NESTEROV) != 0
        for j in range(e - s):
            g = gg[j]
            if maximize:
                g = -g
            if has_wd:
                g = g + wd * pp[j]
            if init:
                b = g
            else:
                b = bb[j] * mom
                b = b + damp1 * g
            bb[j] = b
            if nesterov:
                g = g + mom * b
            else:
                g = b
            pp[j] = pp[j] + lr_neg * g
    else:
        for j in range(e - s):
            g = gg[j]
            if maximize:
                g = -g
            if has_wd:
                g = g + wd * pp[j]
            pp[j] = pp[j] + lr_neg * g


@njit(**_J)
def _sgd_ser(table, hp, flags):
    for i in range(table.shape[0]):
        _sgd_range(table, i, 0, table[i, 3], hp, flags)


@njit(parallel=True, **_J)
def _sgd_par(table, idx, start, hp, flags):
    for c in prange(idx.shape[0]):
        i = idx[c]
        s = start[c]
        _sgd_range(table, i, s, min(s + _CH, table[i, 3]), hp, flags)


def sgd_step(table, hp, flags, probe):
    """SGD over a group. ``hp`` (param dtype): -lr, weight_decay, momentum, 1 - dampening.
    ``probe`` is one of the group's storage buffers (selects the device)."""
    if on_device(probe):
        return cuda_impl("optim").sgd_step(table, hp, flags, probe)
    _run(_sgd_ser, _sgd_par, table, 3, hp, flags)


# ----------------------------------------------------------------------------------------------- Adam
# table: p, g, exp_avg, exp_avg_sq, max_exp_avg_sq, step, len, init
@njit(inline='always', **_J)
def _adam_range(table, i, s, e, hp, hp64, stepref, flags):
    n = table[i, 6]
    pp = numba.carray(_ptr(table[i, 0], hp), n)[s:e]
    gg = numba.carray(_ptr(table[i, 1], hp), n)[s:e]
    mm = numba.carray(_ptr(table[i, 2], hp), n)[s:e]
    vv = numba.carray(_ptr(table[i, 3], hp), n)[s:e]
    st = numba.carray(_ptr(table[i, 5], stepref), 1)
    # the step counter was already incremented by the first chunk's pass (see _adam_steps)
    step = np.float64(st[0])
    bc1 = 1.0 - hp64[1] ** step
    bc2 = 1.0 - hp64[2] ** step
    step_size = hp64[0] / bc1
    neg_step = hp.dtype.type(-step_size)
    bc2_sqrt = hp.dtype.type(bc2 ** 0.5)
    w1, b2, w2, eps, wd, decay, one, half = hp[0], hp[1], hp[2], hp[3], hp[4], hp[5], hp[6], hp[7]
    maximize = (flags & MAXIMIZE) != 0
    has_wd = (flags & HAS_WD) != 0
    decoupled = (flags & DECOUPLED) != 0
    ams = (flags & AMSGRAD) != 0
    if ams:
        xx = numba.carray(_ptr(table[i, 4], hp), n)[s:e]
    else:
        xx = vv
    for j in range(e - s):
        g = gg[j]
        if maximize:
            g = -g
        p = pp[j]
        if has_wd:
            if decoupled:
                p = p * decay
            else:
                g = g + wd * p
        m = mm[j]
        if w1 < half:           # PyTorch's lerp: two forms, split at weight 0.5
            m = m + w1 * (g - m)
        else:
            m = g - (g - m) * (one - w1)
        mm[j] = m
        v = vv[j] * b2
        v = v + w2 * g * g
        vv[j] = v
        if ams:
            x = xx[j]
            if v > x or v != v:
                x = v
            xx[j] = x
            v = x
        den = np.sqrt(v) / bc2_sqrt + eps
        pp[j] = p + neg_step * m / den


@njit(**_J)
def _adam_steps(table, stepref):
    """step_t += 1 for every parameter (in the step dtype, like PyTorch's float32 counter)."""
    for i in range(table.shape[0]):
        st = numba.carray(_ptr(table[i, 5], stepref), 1)
        st[0] += stepref.dtype.type(1)


@njit(**_J)
def _adam_ser(table, hp, hp64, stepref, flags):
    _adam_steps(table, stepref)
    for i in range(table.shape[0]):
        _adam_range(table, i, 0, table[i, 6], hp, hp64, stepref, flags)


@njit(parallel=True, **_J)
def _adam_par(table, idx, start, hp, hp64, stepref, flags):
    _adam_steps(table, stepref)
    for c in prange(idx.shape[0]):
        i = idx[c]
        s = start[c]
        _adam_range(table, i, s, min(s + _CH, table[i, 6]), hp, hp64, stepref, flags)


@njit(**_J)
def adam_scalars(table, hp64, stepref, sc):
    """Host side of the device Adam: step_t += 1 for every parameter (its counter is a CPU tensor, as in
    PyTorch) and sc[i] = (-lr / bias_correction1, sqrt(bias_correction2)) in sc's dtype."""
    _adam_steps(table, stepref)
    for i in range(table.shape[0]):
        st = numba.carray(_ptr(table[i, 5], stepref), 1)
        step = np.float64(st[0])
        sc[i, 0] = sc.dtype.type(-(hp64[0] / (1.0 - hp64[1] ** step)))
        sc[i, 1] = sc.dtype.type((1.0 - hp64[2] ** step) ** 0.5)


def adam_step(table, hp, hp64, stepref, flags, probe):
    """Adam/AdamW over a group. ``hp`` (param dtype): 1-beta1, beta2, 1-beta2, eps, weight_decay,
    1 - lr*weight_decay, 1, 0.5; ``hp64``: lr, beta1, beta2; ``stepref``: an empty array of the step dtype."""
    if on_device(probe):
        return cuda_impl("optim").adam_step(table, hp, hp64, stepref, flags, probe)
    _run(_adam_ser, _adam_par, table, 6, hp, hp64, stepref, flags)


# ----------------------------------------------------------------------------------------- host scalars
@njit(**_J)
def inc_steps(table, col, stepref):
    """step_t += 1 for every parameter (address in column ``col``; the step dtype, like PyTorch's)."""
    for i in range(table.shape[0]):
        st = numba.carray(_ptr(table[i, col], stepref), 1)
        st[0] += stepref.dtype.type(1)


@njit(**_J)
def adagrad_scalars(table, hp64, stepref, sc):
    """Adagrad's host side: step_t += 1 and sc[i] = -lr / (1 + (step - 1) * lr_decay) per parameter."""
    inc_steps(table, 3, stepref)
    for i in range(table.shape[0]):
        step = np.float64(numba.carray(_ptr(table[i, 3], stepref), 1)[0])
        sc[i] = sc.dtype.type(-(hp64[0] / (1.0 + (step - 1.0) * hp64[1])))


# ------------------------------------------------------------------------------------------- RMSprop
# table: p, g, square_avg, grad_avg, momentum_buffer, step, len, init
CENTERED = 64


@njit(inline='always', **_J)
def _rmsprop_range(table, i, s, e, hp, flags):
    n = table[i, 6]
    pp = numba.carray(_ptr(table[i, 0], hp), n)[s:e]
    gg = numba.carray(_ptr(table[i, 1], hp), n)[s:e]
    qq = numba.carray(_ptr(table[i, 2], hp), n)[s:e]
    lr_neg, alpha, w, eps, wd, mom, one, half = hp[0], hp[1], hp[2], hp[3], hp[4], hp[5], hp[6], hp[7]
    maximize = (flags & MAXIMIZE) != 0
    has_wd = (flags & HAS_WD) != 0
    centered = (flags & CENTERED) != 0
    has_mom = (flags & HAS_MOMENTUM) != 0
    aa = numba.carray(_ptr(table[i, 3], hp), n)[s:e] if centered else qq
    bb = numba.carray(_ptr(table[i, 4], hp), n)[s:e] if has_mom else qq
    for j in range(e - s):
        g = gg[j]
        if maximize:
            g = -g
        p = pp[j]
        if has_wd:
            g = g + wd * p
        q = qq[j] * alpha
        q = q + w * g * g
        qq[j] = q
        if centered:
            a = aa[j]
            if w < half:
                a = a + w * (g - a)
            else:
                a = g - (g - a) * (one - w)
            aa[j] = a
            avg = np.sqrt(q + (-one) * a * a)
        else:
            avg = np.sqrt(q)
        avg = avg + eps
        if has_mom:
            b = bb[j] * mom
            b = b + one * g / avg
            bb[j] = b
            pp[j] = p + lr_neg * b
        else:
            pp[j] = p + lr_neg * g / avg


@njit(**_J)
def _rmsprop_ser(table, hp, stepref, flags):
    inc_steps(table, 5, stepref)
    for i in range(table.shape[0]):
        _rmsprop_range(table, i, 0, table[i, 6], hp, flags)


@njit(parallel=True, **_J)
def _rmsprop_par(table, idx, start, hp, stepref, flags):
    inc_steps(table, 5, stepref)
    for c in prange(idx.shape[0]):
        i = idx[c]
        s = start[c]
        _rmsprop_range(table, i, s, min(s + _CH, table[i, 6]), hp, flags)


def rmsprop_step(table, hp, stepref, flags, probe):
    """RMSprop over a group. ``hp`` (param dtype): -lr, alpha, 1-alpha, eps, weight_decay, momentum, 1, 0.5."""
    if on_device(probe):
        return cuda_impl("optim").rmsprop_step(table, hp, stepref, flags, probe)
    _run(_rmsprop_ser, _rmsprop_par, table, 6, hp, stepref, flags)


# ------------------------------------------------------------------------------------------- Adagrad
# table: p, g, sum, step, len, init; sc[i] = -clr (param dtype, from adagrad_scalars)
@njit(inline='always', **_J)
def _adagrad_range(table, i, s, e, hp, sc, flags):
    n = table[i, 4]
    pp = numba.carray(_ptr(table[i, 0], hp), n)[s:e]
    gg = numba.carray(_ptr(table[i, 1], hp), n)[s:e]
    ss = numba.carray(_ptr(table[i, 2], hp), n)[s:e]
    eps, wd, one = hp[0], hp[1], hp[2]
    neg_clr = sc[i]
    maximize = (flags & MAXIMIZE) != 0
    has_wd = (flags & HAS_WD) != 0
    for j in range(e - s):
        g = gg[j]
        if maximize:
            g = -g
        p = pp[j]
        if has_wd:
            g = g + wd * p
        q = ss[j] + one * g * g
        ss[j] = q
        pp[j] = p + neg_clr * g / (np.sqrt(q) + eps)


@njit(**_J)
def _adagrad_ser(table, hp, sc, flags):
    for i in range(table.shape[0]):
        _adagrad_range(table, i, 0, table[i, 4], hp, sc, flags)


@njit(parallel=True, **_J)
def _adagrad_par(table, idx, start, hp, sc, flags):
    for c in prange(idx.shape[0]):
        i = idx[c]
        s = start[c]
        _adagrad_range(table, i, s, min(s + _CH, table[i, 4]), hp, sc, flags)


def adagrad_step(table, hp, hp64, stepref, flags, probe):
    """Adagrad over a group. ``hp`` (param dtype): eps, weight_decay, 1; ``hp64``: lr, lr_decay."""
    if on_device(probe):
        return cuda_impl("optim").adagrad_step(table, hp, hp64, stepref, flags, probe)
    sc = np.empty(table.shape[0], dtype=hp.dtype)
    adagrad_scalars(table, hp64, stepref, sc)
    _run(_adagrad_ser, _adagrad_par, table, 4, hp, sc, flags)


# ------------------------------------------------------------------------------- Adamax, NAdam, RAdam
# tables: p, g, exp_avg, (exp_inf | exp_avg_sq), step, [mu_product (NAdam)], len, init
@njit(inline='always', **_J)
def _lerp(a, b, w, one, half):
    """PyTorch's lerp: ``a + w*(b-a)`` below weight 0.5, ``b - (b-a)*(1-w)`` from 0.5 on."""
    if w < half:
        return a + w * (b - a)
    return b - (b - a) * (one - w)


@njit(**_J)
def adamax_scalars(table, hp64, stepref, sc):
    """step_t += 1; sc[i] = -lr / (1 - beta1**step)."""
    inc_steps(table, 4, stepref)
    for i in range(table.shape[0]):
        step = np.float64(numba.carray(_ptr(table[i, 4], stepref), 1)[0])
        sc[i, 0] = sc.dtype.type(-(hp64[0] / (1.0 - hp64[1] ** step)))


@njit(**_J)
def nadam_scalars(table, hp64, stepref, sc):
    """step_t += 1, mu_product *= mu (in its dtype); sc[i] = (1 - beta2**step, -lr(1-mu)/(1-mu_prod),
    -lr*mu_next/(1-mu_prod*mu_next)). hp64: lr, beta1, beta2, momentum_decay."""
    inc_steps(table, 4, stepref)
    lr, b1, b2, md = hp64[0], hp64[1], hp64[2], hp64[3]
    for i in range(table.shape[0]):
        step = np.float64(numba.carray(_ptr(table[i, 4], stepref), 1)[0])
        mp_arr = numba.carray(_ptr(table[i, 5], stepref), 1)
        mu = b1 * (1.0 - 0.5 * (0.96 ** (step * md)))
        mu_next = b1 * (1.0 - 0.5 * (0.96 ** ((step + 1.0) * md)))
        mp_arr[0] = mp_arr[0] * stepref.dtype.type(mu)      # a 0-d tensor *= float: in its dtype
        mp = np.float64(mp_arr[0])
        sc[i, 0] = sc.dtype.type(1.0 - b2 ** step)
        sc[i, 1] = sc.dtype.type(-lr * (1.0 - mu) / (1.0 - mp))
        sc[i, 2] = sc.dtype.type((-lr * mu_next) / (1.0 - mp * mu_next))


@njit(**_J)
def radam_scalars(table, hp64, stepref, sc):
    """step_t += 1; sc[i] = (1 - beta1**step, sqrt(1 - beta2**step), rect, rect_on)."""
    inc_steps(table, 4, stepref)
    b1, b2 = hp64[1], hp64[2]
    rho_inf = 2.0 / (1.0 - b2) - 1.0
    for i in range(table.shape[0]):
        step = np.float64(numba.carray(_ptr(table[i, 4], stepref), 1)[0])
        bc2 = 1.0 - b2 ** step
        rho_t = rho_inf - 2.0 * step * (b2 ** step) / bc2
        sc[i, 0] = sc.dtype.type(1.0 - b1 ** step)
        sc[i, 1] = sc.dtype.type(bc2 ** 0.5)
        if rho_t > 5.0:
            sc[i, 2] = sc.dtype.type(((rho_t - 4.0) * (rho_t - 2.0) * rho_inf /
                                      ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)) ** 0.5)
            sc[i, 3] = sc.dtype.type(1.0)
        else:
            sc[i, 2] = sc.dtype.type(0.0)
            sc[i, 3] = sc.dtype.type(0.0)


ADAMAX, NADAM, RADAM = 0, 1, 2


@njit(inline='always', **_J)
def _adamfam_range(algo, table, i, s, e, hp, sc, flags):
    n = table[i, table.shape[1] - 2]
    pp = numba.carray(_ptr(table[i, 0], hp), n)[s:e]
    gg = numba.carray(_ptr(table[i, 1], hp), n)[s:e]
    mm = numba.carray(_ptr(table[i, 2], hp), n)[s:e]
    vv = numba.carray(_ptr(table[i, 3], hp), n)[s:e]
    w1, b2, w2, eps, wd, decay, one, half, lr = hp[0], hp[1], hp[2], hp[3], hp[4], hp[5], hp[6], hp[7], hp[8]
    maximize = (flags & MAXIMIZE) != 0
    has_wd = (flags & HAS_WD) != 0
    decoupled = (flags & DECOUPLED) != 0
    s0, s1, s2, s3 = sc[i, 0], sc[i, 1], sc[i, 2], sc[i, 3]
    for j in range(e - s):
        g = gg[j]
        if maximize:
            g = -g
        p = pp[j]
        if has_wd:
            if decoupled:
                p = p * decay
            else:
                g = g + wd * p
        m = _lerp(mm[j], g, w1, one, half)
        mm[j] = m
        if algo == ADAMAX:
            x = vv[j] * b2
            y = abs(g) + eps
            if y > x or y != y:
                x = y
            vv[j] = x
            pp[j] = p + s0 * m / x
        elif algo == NADAM:
            v = vv[j] * b2
            v = v + w2 * g * g
            vv[j] = v
            den = np.sqrt(v / s0) + eps
            p = p + s1 * g / den
            pp[j] = p + s2 * m / den
        else:
            v = vv[j] * b2
            v = v + w2 * g * g
            vv[j] = v
            u = (m / s0) * lr
            if s3 != 0:
                u = u * (s1 / (np.sqrt(v) + eps))
                u = u * s2
            pp[j] = p - u


@njit(**_J)
def _adamfam_ser(algo, table, hp, sc, flags):
    nc = table.shape[1] - 2
    for i in range(table.shape[0]):
        _adamfam_range(algo, table, i, 0, table[i, nc], hp, sc, flags)


@njit(parallel=True, **_J)
def _adamfam_par(table, idx, start, algo, hp, sc, flags):
    nc = table.shape[1] - 2
    for c in prange(idx.shape[0]):
        i = idx[c]
        s = start[c]
        _adamfam_range(algo, table, i, s, min(s + _CH, table[i, nc]), hp, sc, flags)


def adamfam_step(algo, table, hp, hp64, stepref, flags, probe):
    """Adamax / NAdam / RAdam (``algo``) over a group. ``hp`` (param dtype): 1-beta1, beta2, 1-beta2, eps,
    weight_decay, 1 - lr*weight_decay, 1, 0.5, lr; ``hp64``: lr, beta1, beta2 (, momentum_decay)."""
    if on_device(probe):
        return cuda_impl("optim").adamfam_step(algo, table, hp, hp64, stepref, flags, probe)
    sc = np.zeros((table.shape[0], 4), dtype=hp.dtype)
    (adamax_scalars, nadam_scalars, radam_scalars)[algo](table, hp64, stepref, sc)
    lens = table[:, table.shape[1] - 2]
    if parallel_ok() and int(lens.sum()) >= PAR_MIN:
        idx, start = _chunks(lens, _CH)
        _adamfam_par(table, idx, start, algo, hp, sc, flags)
    else:
        _adamfam_ser(algo, table, hp, sc, flags)


# ------------------------------------------------------------------------------------------- Adadelta
# table: p, g, square_avg, acc_delta, step, len, init
@njit(inline='always', **_J)
def _adadelta_range(table, i, s, e, hp, flags):
    n = table[i, 5]
    pp = numba.carray(_ptr(table[i, 0], hp), n)[s:e]
    gg = numba.carray(_ptr(table[i, 1], hp), n)[s:e]
    qq = numba.carray(_ptr(table[i, 2], hp), n)[s:e]
    aa = numba.carray(_ptr(table[i, 3], hp), n)[s:e]
    lr_neg, rho, w, eps, wd = hp[0], hp[1], hp[2], hp[3], hp[4]
    maximize = (flags & MAXIMIZE) != 0
    has_wd = (flags & HAS_WD) != 0
    for j in range(e - s):
        g = gg[j]
        if maximize:
            g = -g
        p = pp[j]
        if has_wd:
            g = g + wd * p
        q = qq[j] * rho
        q = q + w * g * g
        qq[j] = q
        d = np.sqrt(aa[j] + eps) / np.sqrt(q + eps) * g
        a = aa[j] * rho
        aa[j] = a + w * d * d
        pp[j] = p + lr_neg * d


@njit(**_J)
def _adadelta_ser(table, hp, stepref, flags):
    inc_steps(table, 4, stepref)
    for i in range(table.shape[0]):
        _adadelta_range(table, i, 0, table[i, 5], hp, flags)


@njit(parallel=True, **_J)
def _adadelta_par(table, idx, start, hp, stepref, flags):
    inc_steps(table, 4, stepref)
    for c in prange(idx.shape[0]):
        i = idx[c]
        s = start[c]
        _adadelta_range(table, i, s, min(s + _CH, table[i, 5]), hp, flags)


def adadelta_step(table, hp, stepref, flags, probe):
    """Adadelta over a group. ``hp`` (param dtype): -lr, rho, 1-rho, eps, weight_decay."""
    if on_device(probe):
        return cuda_impl("optim").adadelta_step(table, hp, stepref, flags, probe)
    _run(_adadelta_ser, _adadelta_par, table, 5, hp, stepref, flags)


# ---------------------------------------------------------------------------------------------- Rprop
# table: p, g, prev, step_size, step, len, init
@njit(inline='always', **_J)
def _sign(x, one, zero):
    """torch.sign: NaN -> 0."""
    if x > zero:
        return one
    if x < zero:
        return -one
    return zero


@njit(inline='always', **_J)
def _rprop_range(table, i, s, e, hp, flags):
    n = table[i, 5]
    pp = numba.carray(_ptr(table[i, 0], hp), n)[s:e]
    gg = numba.carray(_ptr(table[i, 1], hp), n)[s:e]
    vv = numba.carray(_ptr(table[i, 2], hp), n)[s:e]
    ss = numba.carray(_ptr(table[i, 3], hp), n)[s:e]
    etaminus, etaplus, lo, hi, one, zero = hp[0], hp[1], hp[2], hp[3], hp[4], hp[5]
    maximize = (flags & MAXIMIZE) != 0
    for j in range(e - s):
        g = gg[j]
        if maximize:
            g = -g
        sg = _sign(g * vv[j], one, zero)
        if sg > zero:
            f = etaplus
        elif sg < zero:
            f = etaminus
        else:
            f = one
        st = ss[j] * f
        if st < lo:             # clamp_(lo, hi) = min(max(x, lo), hi); NaN stays NaN
            st = lo
        if st > hi:
            st = hi
        ss[j] = st
        if f == etaminus:
            g = zero
        pp[j] = pp[j] + (-one) * _sign(g, one, zero) * st
        vv[j] = g


@njit(**_J)
def _rprop_ser(table, hp, stepref, flags):
    inc_steps(table, 4, stepref)
    for i in range(table.shape[0]):
        _rprop_range(table, i, 0, table[i, 5], hp, flags)


@njit(parallel=True, **_J)
def _rprop_par(table, idx, start, hp, stepref, flags):
    inc_steps(table, 4, stepref)
    for c in prange(idx.shape[0]):
        i = idx[c]
        s = start[c]
        _rprop_range(table, i, s, min(s + _CH, table[i, 5]), hp, flags)


def rprop_step(table, hp, stepref, flags, probe):
    """Rprop over a group. ``hp`` (param dtype): etaminus, etaplus, step_size_min, step_size_max, 1, 0."""
    if on_device(probe):
        return cuda_impl("optim").rprop_step(table, hp, stepref, flags, probe)
    _run(_rprop_ser, _rprop_par, table, 5, hp, stepref, flags)


# ----------------------------------------------------------------------------------------------- ASGD
# table: p, g, ax, step, eta, mu, len, init
@njit(**_J)
def asgd_scalars(table, hp64, stepref, sc):
    """step_t += 1; sc[i] = (1 - lambd*eta, -eta, mu, mu != 1) from the current eta/mu, then eta and mu
    move to the next step's values (in their dtype). hp64: lr, lambd, alpha, t0."""
    inc_steps(table, 3, stepref)
    lr, lambd, alpha, t0 = hp64[0], hp64[1], hp64[2], hp64[3]
    for i in range(table.shape[0]):
        step = np.float64(numba.carray(_ptr(table[i, 3], stepref), 1)[0])
        eta = numba.carray(_ptr(table[i, 4], stepref), 1)
        mu = numba.carray(_ptr(table[i, 5], stepref), 1)
        ev = np.float64(eta[0])
        sc[i, 0] = sc.dtype.type(1.0 - lambd * ev)
        sc[i, 1] = sc.dtype.type(-ev)
        sc[i, 2] = sc.dtype.type(mu[0])
        sc[i, 3] = sc.dtype.type(1.0 if np.float64(mu[0]) != 1.0 else 0.0)
        eta[0] = stepref.dtype.type(lr / ((1.0 + lambd * lr * step) ** alpha))
        mu[0] = stepref.dtype.type(1.0 / max(1.0, step - t0))


@njit(inline='always', **_J)
def _asgd_range(table, i, s, e, hp, sc, flags):
    n = table[i, 6]
    pp = numba.carray(_ptr(table[i, 0], hp), n)[s:e]
    gg = numba.carray(_ptr(table[i, 1], hp), n)[s:e]
    aa = numba.carray(_ptr(table[i, 2], hp), n)[s:e]
    wd = hp[0]
    decay, neg_eta, mu, averaging = sc[i, 0], sc[i, 1], sc[i, 2], sc[i, 3] != 0
    maximize = (flags & MAXIMIZE) != 0
    has_wd = (flags & HAS_WD) != 0
    for j in range(e - s):
        g = gg[j]
        if maximize:
            g = -g
        p = pp[j]
        if has_wd:
            g = g + wd * p
        p = p * decay
        p = p + neg_eta * g
        pp[j] = p
        if averaging:
            a = aa[j]
            aa[j] = a + (p - a) * mu
        else:
            aa[j] = p


@njit(**_J)
def _asgd_ser(table, hp, sc, flags):
    for i in range(table.shape[0]):
        _asgd_range(table, i, 0, table[i, 6], hp, sc, flags)


@njit(parallel=True, **_J)
def _asgd_par(table, idx, start, hp, sc, flags):
    for c in prange(idx.shape[0]):
        i = idx[c]
        s = start[c]
        _asgd_range(table, i, s, min(s + _CH, table[i, 6]), hp, sc, flags)


def asgd_step(table, hp, hp64, stepref, flags, probe):
    """ASGD over a group. ``hp`` (param dtype): weight_decay; ``hp64``: lr, lambd, alpha, t0."""
    if on_device(probe):
        return cuda_impl("optim").asgd_step(table, hp, hp64, stepref, flags, probe)
    sc = np.empty((table.shape[0], 4), dtype=hp.dtype)
    asgd_scalars(table, hp64, stepref, sc)
    _run(_asgd_ser, _asgd_par, table, 6, hp, sc, flags)


__all__ = ["sgd_step", "adam_step", "rmsprop_step", "adagrad_step", "adamfam_step", "adadelta_step", "rprop_step",
           "asgd_step", "asgd_scalars", "buffer_address", "adamax_scalars", "nadam_scalars", "radam_scalars",
           "ADAMAX", "NADAM", "RADAM", "adam_scalars", "adagrad_scalars", "inc_steps", "chunks", "CENTERED",
           "AMSGRAD", "MAXIMIZE", "DECOUPLED", "HAS_WD", "NESTEROV", "HAS_MOMENTUM"]
