"""CUDA twins of the multi-tensor optimizer kernels (numtorch/kernels/optim.py): same entry points and
arguments; the table's addresses are device pointers. One launch per group: each block takes chunks
of ``_CH`` elements of one parameter (grid-stride over the chunk list), its threads stride within the
chunk. Elements are read and written through typed pointers made from the table's int64 addresses by
two small ``@intrinsic``s (``_ld``/``_st``); under the simulator, where kernels run as Python and
device buffers are host arrays, the same names read and write through ctypes.

The ``step`` counters are CPU tensors (PyTorch's layout for non-capturable groups), so the host
increments them and computes per-parameter scalars (Adam's bias corrections, Adagrad's decayed lr)
before the launch.
Each element update is the CPU kernel's, operation by operation.
"""
import ctypes
import math

import numpy as np
from numba import cuda, types
from numba.extending import intrinsic

from numtorch.kernels.cuda import SIM, launch
from numtorch.kernels.optim import (ADAMAX, AMSGRAD, CENTERED, DECOUPLED, HAS_MOMENTUM, HAS_WD, MAXIMIZE, NADAM,
                                    NESTEROV, adagrad_scalars, adam_scalars, adamax_scalars, asgd_scalars, chunks,
                                    inc_steps, nadam_scalars, radam_scalars)

__all__ = ["sgd_step", "adam_step", "rmsprop_step", "adagrad_step", "adamfam_step", "adadelta_step", "rprop_step",
           "asgd_step"]

_CH = 64 if SIM else 4096       # elements per chunk (one block at a time)

if SIM:
    _CT = {np.dtype(np.float32): ctypes.c_float, np.dtype(np.float64): ctypes.c_double}

    def _view(addr, i, ref):
        return (_CT[np.dtype(ref.dtype)] * (int(i) + 1)).from_address(int(addr))

    def _ld(addr, i, ref):
        return np.dtype(ref.dtype).type(_view(addr, i, ref)[int(i)])

    def _st(addr, i, ref, val):
        _view(addr, i, ref)[int(i)] = val
else:
    @intrinsic
    def _ld(typingctx, addr, i, ref):
        sig = ref.dtype(addr, i, ref)

        def codegen(context, builder, signature, args):
            ptr = builder.inttoptr(args[0], context.get_value_type(signature.return_type).as_pointer())
            return builder.load(builder.gep(ptr, [args[1]]))
        return sig, codegen

    @intrinsic
    def _st(typingctx, addr, i, ref, val):
        sig = types.void(addr, i, ref, val)

        def codegen(context, builder, signature, args):
            ptr = builder.inttoptr(args[0], context.get_value_type(signature.args[2].dtype).as_pointer())
            builder.store(args[3], builder.gep(ptr, [args[1]]))
            return context.get_dummy_value()
        return sig, codegen


@cuda.jit
def _sgd_kernel(table, idx, start, hp, flags, ch):
    lr_neg, wd, mom, damp1 = hp[0], hp[1], hp[2], hp[3]
    maximize = (flags & MAXIMIZE) != 0
    has_wd = (flags & HAS_WD) != 0
    has_mom = (flags & HAS_MOMENTUM) != 0
    nesterov = (flags & NESTEROV) != 0
    c = cuda.blockIdx.x
    while c < idx.shape[0]:
        i = idx[c]
        e = start[c] + ch
        if e > table[i, 3]:       # no min(): it compiles through a device call
            e = table[i, 3]
        pa, ga, ba = table[i, 0], table[i, 1], table[i, 2]
        init = table[i, 4] != 0
        j = start[c] + cuda.threadIdx.x
        while j < e:
            g = _ld(ga, j, hp)
            if maximize:
                g = -g
            p = _ld(pa, j, hp)
            if has_wd:
                g = g + wd * p
            if has_mom:
                if init:
                    b = g
                else:
                    b = _ld(ba, j, hp) * mom
                    b = b + damp1 * g
                _st(ba, j, hp, b)
                if nesterov:
                    g = g + mom * b
                else:
                    g = b
            _st(pa, j, hp, p + lr_neg * g)
            j += cuda.blockDim.x
        c += cuda.gridDim.x


@cuda.jit
def _adam_kernel(table, idx, start, hp, sc, flags, ch):
    w1, b2, w2, eps, wd, decay, one, half = hp[0], hp[1], hp[2], hp[3], hp[4], hp[5], hp[6], hp[7]
    maximize = (flags & MAXIMIZE) != 0
    has_wd = (flags & HAS_WD) != 0
    decoupled = (flags & DECOUPLED) != 0
    ams = (flags & AMSGRAD) != 0
    c = cuda.blockIdx.x
    while c < idx.shape[0]:
        i = idx[c]
        e = start[c] + ch
        if e > table[i, 6]:       # no min(): it compiles through a device call
            e = table[i, 6]
        pa, ga, ma, va, xa = table[i, 0], table[i, 1], table[i, 2], table[i, 3], table[i, 4]
        neg_step, bc2_sqrt = sc[i, 0], sc[i, 1]
        j = start[c] + cuda.threadIdx.x
        while j < e:
            g = _ld(ga, j, hp)
            if maximize:
                g = -g
            p = _ld(pa, j, hp)
            if has_wd:
                if decoupled:
                    p = p * decay
                else:
                    g = g + wd * p
            m = _ld(ma, j, hp)
            if w1 < half:           # PyTorch's lerp: two forms, split at weight 0.5
                m = m + w1 * (g - m)
            else:
                m = g - (g - m) * (one - w1)
            _st(ma, j, hp, m)
            v = _ld(va, j, hp) * b2
            v = v + w2 * g * g
            _st(va, j, hp, v)
            if ams:
                x = _ld(xa, j, hp)
                if v > x or v != v:
                    x = v
                _st(xa, j, hp, x)
                v = x
            den = math.sqrt(v) / bc2_sqrt + eps
            _st(pa, j, hp, p + neg_step * m / den)
            j += cuda.blockDim.x
        c += cuda.gridDim.x


@cuda.jit
def _rmsprop_kernel(table, idx, start, hp, flags, ch):
    lr_neg, alpha, w, eps, wd, mom, one, half = hp[0], hp[1], hp[2], hp[3], hp[4], hp[5], hp[6], hp[7]
    maximize = (flags & MAXIMIZE) != 0
    has_wd = (flags & HAS_WD) != 0
    centered = (flags & CENTERED) != 0
    has_mom = (flags & HAS_MOMENTUM) != 0
    c = cuda.blockIdx.x
    while c < idx.shape[0]:
        i = idx[c]
        e = start[c] + ch
        if e > table[i, 6]:
            e = table[i, 6]
        pa, ga, qa, aa, ba = table[i, 0], table[i, 1], table[i, 2], table[i, 3], table[i, 4]
        j = start[c] + cuda.threadIdx.x
        while j < e:
            g = _ld(ga, j, hp)
            if maximize:
                g = -g
            p = _ld(pa, j, hp)
            if has_wd:
                g = g + wd * p
            q = _ld(qa, j, hp) * alpha
            q = q + w * g * g
            _st(qa, j, hp, q)
            if centered:
                a = _ld(aa, j, hp)
                if w < half:
                    a = a + w * (g - a)
                else:
                    a = g - (g - a) * (one - w)
                _st(aa, j, hp, a)
                avg = math.sqrt(q + (-one) * a * a)
            else:
                avg = math.sqrt(q)
            avg = avg + eps
            if has_mom:
                b = _ld(ba, j, hp) * mom
                b = b + one * g / avg
                _st(ba, j, hp, b)
                _st(pa, j, hp, p + lr_neg * b)
            else:
                _st(pa, j, hp, p + lr_neg * g / avg)
            j += cuda.blockDim.x
        c += cuda.gridDim.x


@cuda.jit
def _adagrad_kernel(table, idx, start, hp, sc, flags, ch):
    eps, wd, one = hp[0], hp[1], hp[2]
    maximize = (flags & MAXIMIZE) != 0
    has_wd = (flags & HAS_WD) != 0
    c = cuda.blockIdx.x
    while c < idx.shape[0]:
        i = idx[c]
        e = start[c] + ch
        if e > table[i, 4]:
            e = table[i, 4]
        pa, ga, sa = table[i, 0], table[i, 1], table[i, 2]
        neg_clr = sc[i]
        j = start[c] + cuda.threadIdx.x
        while j < e:
            g = _ld(ga, j, hp)
            if maximize:
                g = -g
            p = _ld(pa, j, hp)
            if has_wd:
                g = g + wd * p
            q = _ld(sa, j, hp) + one * g * g
            _st(sa, j, hp, q)
            _st(pa, j, hp, p + neg_clr * g / (math.sqrt(q) + eps))
            j += cuda.blockDim.x
        c += cuda.gridDim.x


@cuda.jit
def _adamfam_kernel(algo, table, idx, start, hp, sc, flags, ch):
    w1, b2, w2, eps, wd, decay, one, half, lr = hp[0], hp[1], hp[2], hp[3], hp[4], hp[5], hp[6], hp[7], hp[8]
    maximize = (flags & MAXIMIZE) != 0
    has_wd = (flags & HAS_WD) != 0
    decoupled = (flags & DECOUPLED) != 0
    nc = table.shape[1] - 2
    c = cuda.blockIdx.x
    while c < idx.shape[0]:
        i = idx[c]
        e = start[c] + ch
        if e > table[i, nc]:
            e = table[i, nc]
        pa, ga, ma, va = table[i, 0], table[i, 1], table[i, 2], table[i, 3]
        s0, s1, s2, s3 = sc[i, 0], sc[i, 1], sc[i, 2], sc[i, 3]
        j = start[c] + cuda.threadIdx.x
        while j < e:
            g = _ld(ga, j, hp)
            if maximize:
                g = -g
            p = _ld(pa, j, hp)
            if has_wd:
                if decoupled:
                    p = p * decay
                else:
                    g = g + wd * p
            m = _ld(ma, j, hp)
            if w1 < half:
                m = m + w1 * (g - m)
            else:
                m = g - (g - m) * (one - w1)
            _st(ma, j, hp, m)
            if algo == ADAMAX:
                x = _ld(va, j, hp) * b2
                y = abs(g) + eps
                if y > x or y != y:
                    x = y
                _st(va, j, hp, x)
                _st(pa, j, hp, p + s0 * m / x)
            elif algo == NADAM:
                v = _ld(va, j, hp) * b2
                v = v + w2 * g * g
                _st(va, j, hp, v)
                den = math.sqrt(v / s0) + eps
                p = p + s1 * g / den
                _st(pa, j, hp, p + s2 * m / den)
            else:
                v = _ld(va, j, hp) * b2
                v = v + w2 * g * g
                _st(va, j, hp, v)
                u = (m / s0) * lr
                if s3 != 0:
                    u = u * (s1 / (math.sqrt(v) + eps))
                    u = u * s2
                _st(pa, j, hp, p - u)
            j += cuda.blockDim.x
        c += cuda.gridDim.x


@cuda.jit
def _adadelta_kernel(table, idx, start, hp, flags, ch):
    lr_neg, rho, w, eps, wd = hp[0], hp[1], hp[2], hp[3], hp[4]
    maximize = (flags & MAXIMIZE) != 0
    has_wd = (flags & HAS_WD) != 0
    c = cuda.blockIdx.x
    while c < idx.shape[0]:
        i = idx[c]
        e = start[c] + ch
        if e > table[i, 5]:
            e = table[i, 5]
        pa, ga, qa, aa = table[i, 0], table[i, 1], table[i, 2], table[i, 3]
        j = start[c] + cuda.threadIdx.x
        while j < e:
            g = _ld(ga, j, hp)
            if maximize:
                g = -g
            p = _ld(pa, j, hp)
            if has_wd:
                g = g + wd * p
            q = _ld(qa, j, hp) * rho
            q = q + w * g * g
            _st(qa, j, hp, q)
            a = _ld(aa, j, hp)
            d = math.sqrt(a + eps) / math.sqrt(q + eps) * g
            a = a * rho
            _st(aa, j, hp, a + w * d * d)
            _st(pa, j, hp, p + lr_neg * d)
            j += cuda.blockDim.x
        c += cuda.gridDim.x


@cuda.jit
def _rprop_kernel(table, idx, start, hp, flags, ch):
    etaminus, etaplus, lo, hi, one, zero = hp[0], hp[1], hp[2], hp[3], hp[4], hp[5]
    maximize = (flags & MAXIMIZE) != 0
    c = cuda.blockIdx.x
    while c < idx.shape[0]:
        i = idx[c]
        e = start[c] + ch
        if e > table[i, 5]:
            e = table[i, 5]
        pa, ga, va, sa = table[i, 0], table[i, 1], table[i, 2], table[i, 3]
        j = start[c] + cuda.threadIdx.x
        while j < e:
            g = _ld(ga, j, hp)
            if maximize:
                g = -g
            x = g * _ld(va, j, hp)          # the factor by torch.sign(g * prev) (NaN: sign 0)
            if x > zero:
                f = etaplus
            elif x < zero:
                f = etaminus
            else:
                f = one
            st = _ld(sa, j, hp) * f
            if st < lo:
                st = lo
            if st > hi:
                st = hi
            _st(sa, j, hp, st)
            if f == etaminus:
                g = zero
            sg = zero                       # torch.sign(g); inline (a device function needs a GPU to compile)
            if g > zero:
                sg = one
            elif g < zero:
                sg = -one
            _st(pa, j, hp, _ld(pa, j, hp) + (-one) * sg * st)
            _st(va, j, hp, g)
            j += cuda.blockDim.x
        c += cuda.gridDim.x


@cuda.jit
def _asgd_kernel(table, idx, start, hp, sc, flags, ch):
    wd = hp[0]
    maximize = (flags & MAXIMIZE) != 0
    has_wd = (flags & HAS_WD) != 0
    c = cuda.blockIdx.x
    while c < idx.shape[0]:
        i = idx[c]
        e = start[c] + ch
        if e > table[i, 6]:
            e = table[i, 6]
        pa, ga, aa = table[i, 0], table[i, 1], table[i, 2]
        decay, neg_eta, mu, averaging = sc[i, 0], sc[i, 1], sc[i, 2], sc[i, 3] != 0
        j = start[c] + cuda.threadIdx.x
        while j < e:
            g = _ld(ga, j, hp)
            if maximize:
                g = -g
            p = _ld(pa, j, hp)
            if has_wd:
                g = g + wd * p
            p = p * decay
            p = p + neg_eta * g
            _st(pa, j, hp, p)
            if averaging:
                a = _ld(aa, j, hp)
                _st(aa, j, hp, a + (p - a) * mu)
            else:
                _st(aa, j, hp, p)
            j += cuda.blockDim.x
        c += cuda.gridDim.x


def _plan(table, lens_col):
    idx, start = chunks(np.ascontiguousarray(table[:, lens_col]), _CH)
    blocks, threads = launch(len(idx) * _CH)
    blocks = max(1, min(blocks, len(idx)))
    return cuda.to_device(table), cuda.to_device(idx), cuda.to_device(start), blocks, threads


def sgd_step(table, hp, flags, probe):
    if len(table) == 0:
        return
    t, idx, start, blocks, threads = _plan(table, 3)
    _sgd_kernel[blocks, threads](t, idx, start, cuda.to_device(hp), int(flags), _CH)


def adam_step(table, hp, hp64, stepref, flags, probe):
    if len(table) == 0:
        return
    sc = np.empty((len(table), 2), dtype=hp.dtype)
    adam_scalars(table, hp64, stepref, sc)
    t, idx, start, blocks, threads = _plan(table, 6)
    _adam_kernel[blocks, threads](t, idx, start, cuda.to_device(hp), cuda.to_device(sc), int(flags), _CH)


def rmsprop_step(table, hp, stepref, flags, probe):
    if len(table) == 0:
        return
    inc_steps(table, 5, stepref)
    t, idx, start, blocks, threads = _plan(table, 6)
    _rmsprop_kernel[blocks, threads](t, idx, start, cuda.to_device(hp), int(flags), _CH)


def adagrad_step(table, hp, hp64, stepref, flags, probe):
    if len(table) == 0:
        return
    sc = np.empty(len(table), dtype=hp.dtype)
    adagrad_scalars(table, hp64, stepref, sc)
    t, idx, start, blocks, threads = _plan(table, 4)
    _adagrad_kernel[blocks, threads](t, idx, start, cuda.to_device(hp), cuda.to_device(sc), int(flags), _CH)


def adamfam_step(algo, table, hp, hp64, stepref, flags, probe):
    if len(table) == 0:
        return
    sc = np.zeros((len(table), 4), dtype=hp.dtype)
    (adamax_scalars, nadam_scalars, radam_scalars)[algo](table, hp64, stepref, sc)
    t, idx, start, blocks, threads = _plan(table, table.shape[1] - 2)
    _adamfam_kernel[blocks, threads](int(algo), t, idx, start, cuda.to_device(hp), cuda.to_device(sc), int(flags),
                                     _CH)


def adadelta_step(table, hp, stepref, flags, probe):
    if len(table) == 0:
        return
    inc_steps(table, 4, stepref)
    t, idx, start, blocks, threads = _plan(table, 5)
    _adadelta_kernel[blocks, threads](t, idx, start, cuda.to_device(hp), int(flags), _CH)


def rprop_step(table, hp, stepref, flags, probe):
    if len(table) == 0:
        return
    inc_steps(table, 4, stepref)
    t, idx, start, blocks, threads = _plan(table, 5)
    _rprop_kernel[blocks, threads](t, idx, start, cuda.to_device(hp), int(flags), _CH)


def asgd_step(table, hp, hp64, stepref, flags, probe):
    """Reached when the counters (step, eta, mu) are CPU tensors: PyTorch keeps ASGD's on the parameter's
    device, and then the optimizer takes its per-tensor path instead."""
    if len(table) == 0:
        return
    sc = np.empty((len(table), 4), dtype=hp.dtype)
    asgd_scalars(table, hp64, stepref, sc)
    t, idx, start, blocks, threads = _plan(table, 6)
    _asgd_kernel[blocks, threads](t, idx, start, cuda.to_device(hp), cuda.to_device(sc), int(flags), _CH)
