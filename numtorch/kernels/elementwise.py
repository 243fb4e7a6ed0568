"""Elementwise entry points over flat buffers: ``unary``, ``binary``, ``ternary``.

Each operand is (flat 1-D C-contiguous writable NumPy buffer, element offset, strides in elements;
0 = broadcast, negative allowed), all already broadcast to ``shape``.  Inputs share one compute
dtype (never float16; for ``where`` the first operand is the bool condition); the output buffer
has that dtype, or bool for predicates (``scalar_ops.OPS`` lists ops and output kinds).
``p0..p2`` are float parameters; ``binary``/``ternary`` default ``p0`` to 1.0 (alpha of
add/sub/rsub, value of addcmul/addcdiv).  Integer parameters travel as float64 (exact to 2**53).

Fast path: every operand contiguous with ``shape`` -> one row, no arrays built.  Otherwise size-1
dims are dropped, dims ordered by the output's strides, adjacent dims coalesced, the last dim
becomes the inner loop and NumPy enumerates each operand's row offsets (small plans are cached).
Kernels are jitted on first use and cached on disk; from ``par_min(op)`` elements on a
``parallel=True`` twin runs, with rows longer than ``BLK`` split into blocks.
"""
import math
import re
import types

import numpy as np
from numba import njit

from numtorch.kernels import ew_generated as _g, parallel_ok
from numtorch.kernels._device import cuda_impl, on_device
from numtorch.kernels.scalar_ops import OPS

__all__ = ["unary", "binary", "ternary", "PARALLEL", "PAR_MIN", "PAR_MIN_HEAVY", "BLK", "par_min"]

PARALLEL = True        # set False where the threading layer is unsafe for the caller
PAR_MIN = 1 << 17      # elements; below this the serial kernels win (memory-bound ops: add, relu, ...)
PAR_MIN_HEAVY = 1 << 16    # the same for ops evaluating exp/log/trig/special functions per element
BLK = 1 << 15          # parallel runs split rows longer than this into blocks of this length

_Z = {n: np.zeros((n, 1), np.int64) for n in (2, 3, 4)}   # row offsets of a single row
_Z2, _Z3, _Z4 = _Z[2], _Z[3], _Z[4]
_CLS = {"f": "f", "i": "i", "u": "i", "b": "b"}
_JITTED = {}                        # generated function name -> _Kernel
_ENTRIES = {}                       # (op, key dtype.num) -> (_Kernel, special, other dtypes...)
_CONTIG = {}                        # shape -> (contiguous strides, numel)
_PLANS = {}                         # (shape, strides...) -> (L, inner strides, R, extents)
_SPLITS = {}                        # (operands, blocks) -> block offsets of one contiguous row
_ZERO_DIV = "ZeroDivisionError"
_OOB = "elementwise: an operand reaches past the end of its buffer"


def _renamed(f, name):
    """``f`` under another name, for its ``parallel=True`` twin: the same code object, so Numba's
    cache still keys on ew_generated.py, but its own cache files (one function jitted with both
    flag sets would overwrite its own index entries)."""
    code = f.__code__.replace(co_name=name)
    if hasattr(code, "co_qualname"):
        code = code.replace(co_qualname=name)
    g = types.FunctionType(code, f.__globals__, name, f.__defaults__)
    g.__qualname__, g.__module__ = name, f.__module__
    return g


class _Kernel:
    """Serial dispatcher and (on first need) parallel dispatcher of one generated function."""
    __slots__ = ("s", "_p", "_raw")

    def __init__(self, raw):
        self._raw = raw
        self.s = njit(cache=True, error_model="numpy")(raw)
        self._p = None

    def p(self):
        if self._p is None:
            twin = _renamed(self._raw, self._raw.__name__ + "_p")
            self._p = njit(cache=True, error_model="numpy", parallel=True)(twin)
        return self._p


_HEAVY_RE = re.compile(r"exp|log|sin|cos|tan|erf|pow|\*\*|gamma|zeta|atan|hypot|i0|i1|ndtr")
_HEAVY = {}                         # op -> its float body calls a transcendental function


def par_min(op):
    """Elements from which ``op`` runs its parallel twin. Measured on 2 cores with Numba's TBB layer
    (a parallel launch costs ~4 us there): add breaks even near 128K elements, relu near 256K, exp near
    48K, so memory-bound ops wait for ``PAR_MIN`` and transcendental ones for ``PAR_MIN_HEAVY``."""
    h = _HEAVY.get(op)
    if h is None:
        row = OPS.get(op)
        src = " ".join(e for k, e in row[1].items() if "f" in k or "F" in k) if row else ""
        h = _HEAVY[op] = bool(_HEAVY_RE.search(src))
    return PAR_MIN_HEAVY if h else PAR_MIN


def _kernel(op, cls):
    raw = _g.KERNELS[(op, cls)]         # ops with identical bodies share one function
    k = _JITTED.get(raw.__name__)
    if k is None:
        k = _JITTED[raw.__name__] = _Kernel(raw)
    return k


def _dtype_name(dt):
    try:
        from numtorch.dtypes import from_numpy_dtype
        return from_numpy_dtype(dt).short
    except Exception:  # noqa: BLE001 - only words an error message
        return str(dt)


def check_dtypes(op, arity, dts):
    """The compute dtype after checking the buffers' dtypes ``dts`` (inputs..., output) for ``op``
    (shared with the CUDA twins)."""
    row = OPS.get(op)
    if row is None or row[0] != arity:
        raise ValueError(f"unknown {arity}-ary elementwise op {op!r}")
    ins, out = dts[:-1], dts[-1]
    if op == "where":
        if ins[0] != np.bool_:
            raise TypeError("where: the condition buffer must be bool")
        ins = ins[1:]
    comp = ins[0]
    if any(d != comp for d in ins):
        raise TypeError(f"{op}: inputs must share one compute dtype, got {[str(d) for d in ins]}")
    want = comp if row[2] == "same" else np.dtype(np.bool_)
    if out != want:
        raise TypeError(f"{op}: output buffer must be {want}, got {out}")
    return comp


def _resolve(op, arity, dts, num):
    """Validate dtypes; cache ``(kernel, special, other dtypes...)`` under (op, key dtype number) so
    later calls only compare the other dtypes by identity (NumPy's builtin dtypes are singletons).
    ``special(kernel, p0) -> (kernel, p0)`` picks a variant by the parameter, or is None."""
    comp = check_dtypes(op, arity, dts)
    cls = _CLS.get(comp.kind)
    if comp == np.float32 and (op, "F") in _g.KERNELS:
        cls = "F"       # float32-specific body (vectorised exp/log/tanh)
    if comp == np.float16 or (op, cls) not in _g.KERNELS:
        raise RuntimeError(f"\"{op}_cpu\" not implemented for '{_dtype_name(comp)}'")
    key = 1 if arity == 3 else 0
    ent = _ENTRIES[(op, num)] = (_kernel(op, cls), _special(op, cls)) + dts[:key] + dts[key + 1:]
    return ent


def _special(op, cls):
    """Parameter-driven variants: alpha == 1, torch's pow fast paths, round with decimals."""
    if op in ("add", "sub", "rsub"):
        one = _kernel(f"_{op}1", cls)
        return lambda k, p0: (one, p0) if p0 == 1.0 else (k, p0)
    if op == "pow_scalar":
        return _pow_f if cls == "f" else _pow_i
    if op == "round" and cls == "f":
        return _round
    if op == "pow_scalar_backward":
        two = _kernel("_pow2_backward", cls)
        return lambda k, p0: (two, p0) if p0 == 2.0 else (k, p0)
    return None


_POW_F = {2.0: ("square", 0.0), 3.0: ("_pow3", 0.0), 0.5: ("sqrt", 0.0), -0.5: ("rsqrt", 0.0),
          -1.0: ("reciprocal", 0.0), -2.0: ("_powm2", 0.0), 1.0: ("copy", 0.0), 0.0: ("fill", 1.0)}
_POW_I = {2.0: ("square", 0.0), 3.0: ("_pow3", 0.0), 1.0: ("copy", 0.0), 0.0: ("fill", 1.0)}


def _pow_f(k, p0):
    hit = _POW_F.get(p0)
    return (k, p0) if hit is None else (_kernel(hit[0], "f"), hit[1])


def _pow_i(k, p0):
    if p0 < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    hit = _POW_I.get(p0)
    return (k, p0) if hit is None else (_kernel(hit[0], "i"), hit[1])


def _round(k, d):
    # torch: nearbyint(x * 10**d) / 10**d, or nearbyint(x / 10**-d) * 10**-d for d < 0.
    if d == 0:
        return k, d
    ten = math.inf if abs(d) > 308 else 10.0 ** abs(d)
    return _kernel("_round_pos" if d > 0 else "_round_neg", "f"), ten


def _contig(shape):
    strides, n = [], 1
    for s in reversed(shape):
        strides.append(n)
        n *= s
    if len(_CONTIG) > 4096:
        _CONTIG.clear()
    c = _CONTIG[shape] = (tuple(reversed(strides)), n)
    return c


def _rows(outer, ostr):
    """Start offsets of every row (row-major over the outer dims) for one operand."""
    r = np.arange(outer[-1], dtype=np.int64) * ostr[-1]
    for d in range(len(outer) - 2, -1, -1):
        r = (np.arange(outer[d], dtype=np.int64)[:, None] * ostr[d] + r).ravel()
    return r


def _plan(shape, sts):
    """(L, inner strides, row offsets, extents) for operands with strides ``sts`` (output last);
    an extent is the (lowest, highest) element reached relative to the operand's offset."""
    for x in sts:
        if len(x) != len(shape):
            raise ValueError(f"strides {x} do not match shape {shape}")
    dims = [d for d in range(len(shape)) if shape[d] != 1]
    out = [abs(s) for s in sts[-1]]
    if any(out[dims[i]] < out[dims[i + 1]] for i in range(len(dims) - 1)):
        dims.sort(key=out.__getitem__, reverse=True)     # the output's fastest dim goes innermost
    sh, st = [], [[] for _ in sts]
    for d in dims:
        size = shape[d]
        if sh and all(s[-1] == x[d] * size for s, x in zip(st, sts)):
            sh[-1] *= size
            for s, x in zip(st, sts):
                s[-1] = x[d]
        else:
            sh.append(size)
            for s, x in zip(st, sts):
                s.append(x[d])
    extents = tuple((sum((n - 1) * s for n, s in zip(shape, x) if s < 0),
                     sum((n - 1) * s for n, s in zip(shape, x) if s > 0)) for x in sts)
    if not sh:
        return 1, (1,) * len(sts), _Z[len(sts)], extents
    outer = sh[:-1]
    R = np.zeros((len(sts), math.prod(outer)), np.int64)
    for k, s in enumerate(st):
        if outer and any(s[:-1]):
            R[k] = _rows(outer, s[:-1])
    return sh[-1], tuple(s[-1] for s in st), R, extents


def _parallel(k, ops, inner, R, L, p0, p1, p2):
    """Run the parallel twin on ``ops`` = ((buf, off), ...); rows longer than BLK become BLK-long
    rows plus a tail call, so that a single long row still spreads over every thread."""
    kp, args = k.p(), []
    for (buf, off), s in zip(ops, inner):
        args += (buf, off, s)
    if L <= BLK:
        return kp(*args, R, L, p0, p1, p2)
    q, rem = divmod(L, BLK)
    st = np.array(inner, np.int64)[:, None, None]
    if (R is _Z3 or R is _Z2 or R is _Z4) and all(s == 1 for s in inner):
        # One contiguous row (the common large case): its block offsets depend on q alone.
        key = (len(ops), q)
        split = _SPLITS.get(key)
        if split is None:
            split = _SPLITS[key] = np.repeat(np.arange(q, dtype=np.int64)[None, :] * BLK, len(ops), axis=0)
    else:
        split = (R[:, :, None] + np.arange(q, dtype=np.int64) * BLK * st).reshape(len(ops), -1)
    e = kp(*args, split, BLK, p0, p1, p2)
    if rem:
        tail = R + q * BLK * st[:, :, 0]
        e += (kp if R.shape[1] * rem >= PAR_MIN_HEAVY else k.s)(*args, tail, rem, p0, p1, p2)
    return e


def _layout(shape, sts, ops):
    """The (cached) plan of a non-contiguous call, after checking every operand's extent against
    its buffer: (L, inner strides, R)."""
    key = (shape,) + sts
    try:
        plan = _PLANS.get(key)
    except TypeError:           # lists instead of tuples
        shape, sts = tuple(shape), tuple(tuple(x) for x in sts)
        key, plan = (shape,) + sts, None
    if plan is None:
        plan = _plan(shape, sts)
        if plan[2].shape[1] <= 4096:
            if len(_PLANS) > 1024:
                _PLANS.clear()
            _PLANS[key] = plan
    for (buf, off), (lo, hi) in zip(ops, plan[3]):
        if off + lo < 0 or off + hi >= len(buf):
            raise IndexError(_OOB)
    return plan


def unary(op, x, x_off, x_strides, out, out_off, out_strides, shape, p0=0.0, p1=0.0, p2=0.0):
    """out = op(x)."""
    if on_device(out):
        return cuda_impl("elementwise").unary(op, x, x_off, x_strides, out, out_off, out_strides, shape,
                                              p0, p1, p2)
    ent = _ENTRIES.get((op, x.dtype.num))
    if ent is None or out.dtype is not ent[2]:
        ent = _resolve(op, 1, (x.dtype, out.dtype), x.dtype.num)
    k = ent[0]
    if p0.__class__ is not float or p1.__class__ is not float or p2.__class__ is not float:
        p0, p1, p2 = float(p0), float(p1), float(p2)
    if ent[1] is not None:
        k, p0 = ent[1](k, p0)
    try:
        cs, n = _CONTIG.get(shape) or _contig(shape)
    except TypeError:           # a list: free to check in 3.11 (zero-cost try)
        shape = tuple(shape)
        cs, n = _contig(shape)
    if x_strides == cs and out_strides == cs:
        if n == 0:
            return
        if x_off < 0 or out_off < 0 or x_off + n > len(x) or out_off + n > len(out):
            raise IndexError(_OOB)
        if n < par_min(op) or not PARALLEL or not parallel_ok():
            k.s(x, x_off, 1, out, out_off, 1, _Z2, n, p0, p1, p2)
        else:
            _parallel(k, ((x, x_off), (out, out_off)), (1, 1), _Z2, n, p0, p1, p2)
    elif n:
        ops = ((x, x_off), (out, out_off))
        L, (i0, i1), R, _ = _layout(shape, (x_strides, out_strides), ops)
        if n < par_min(op) or not PARALLEL or not parallel_ok():
            k.s(x, x_off, i0, out, out_off, i1, R, L, p0, p1, p2)
        else:
            _parallel(k, ops, (i0, i1), R, L, p0, p1, p2)


def binary(op, a, a_off, a_strides, b, b_off, b_strides, out, out_off, out_strides, shape,
           p0=1.0, p1=0.0, p2=0.0):
    """out = op(a, b); integer //, % and fmod by zero raise RuntimeError("ZeroDivisionError")."""
    if on_device(out):
        return cuda_impl("elementwise").binary(op, a, a_off, a_strides, b, b_off, b_strides, out, out_off,
                                               out_strides, shape, p0, p1, p2)
    ent = _ENTRIES.get((op, a.dtype.num))
    if ent is None or b.dtype is not ent[2] or out.dtype is not ent[3]:
        ent = _resolve(op, 2, (a.dtype, b.dtype, out.dtype), a.dtype.num)
    k = ent[0]
    if p0.__class__ is not float or p1.__class__ is not float or p2.__class__ is not float:
        p0, p1, p2 = float(p0), float(p1), float(p2)
    if ent[1] is not None:
        k, p0 = ent[1](k, p0)
    try:
        cs, n = _CONTIG.get(shape) or _contig(shape)
    except TypeError:           # a list: free to check in 3.11 (zero-cost try)
        shape = tuple(shape)
        cs, n = _contig(shape)
    if a_strides == cs and b_strides == cs and out_strides == cs:
        if n == 0:
            return
        if (a_off < 0 or b_off < 0 or out_off < 0 or a_off + n > len(a) or b_off + n > len(b)
                or out_off + n > len(out)):
            raise IndexError(_OOB)
        if n < par_min(op) or not PARALLEL or not parallel_ok():
            e = k.s(a, a_off, 1, b, b_off, 1, out, out_off, 1, _Z3, n, p0, p1, p2)
        else:
            e = _parallel(k, ((a, a_off), (b, b_off), (out, out_off)), (1, 1, 1), _Z3, n, p0, p1, p2)
    elif n:
        ops = ((a, a_off), (b, b_off), (out, out_off))
        L, (i0, i1, i2), R, _ = _layout(shape, (a_strides, b_strides, out_strides), ops)
        if n < par_min(op) or not PARALLEL or not parallel_ok():
            e = k.s(a, a_off, i0, b, b_off, i1, out, out_off, i2, R, L, p0, p1, p2)
        else:
            e = _parallel(k, ops, (i0, i1, i2), R, L, p0, p1, p2)
    else:
        return
    if e:
        raise RuntimeError(_ZERO_DIV)


def ternary(op, a, a_off, a_strides, b, b_off, b_strides, c, c_off, c_strides,
            out, out_off, out_strides, shape, p0=1.0, p1=0.0, p2=0.0):
    """out = op(a, b, c); for ``where`` ``a`` is the bool condition."""
    if on_device(out):
        return cuda_impl("elementwise").ternary(op, a, a_off, a_strides, b, b_off, b_strides, c, c_off,
                                                c_strides, out, out_off, out_strides, shape, p0, p1, p2)
    ent = _ENTRIES.get((op, b.dtype.num))
    if ent is None or a.dtype is not ent[2] or c.dtype is not ent[3] or out.dtype is not ent[4]:
        ent = _resolve(op, 3, (a.dtype, b.dtype, c.dtype, out.dtype), b.dtype.num)
    k = ent[0]
    if p0.__class__ is not float or p1.__class__ is not float or p2.__class__ is not float:
        p0, p1, p2 = float(p0), float(p1), float(p2)
    try:
        cs, n = _CONTIG.get(shape) or _contig(shape)
    except TypeError:           # a list: free to check in 3.11 (zero-cost try)
        shape = tuple(shape)
        cs, n = _contig(shape)
    if a_strides == cs and b_strides == cs and c_strides == cs and out_strides == cs:
        if n == 0:
            return
        if (a_off < 0 or b_off < 0 or c_off < 0 or out_off < 0 or a_off + n > len(a)
                or b_off + n > len(b) or c_off + n > len(c) or out_off + n > len(out)):
            raise IndexError(_OOB)
        if n < par_min(op) or not PARALLEL or not parallel_ok():
            k.s(a, a_off, 1, b, b_off, 1, c, c_off, 1, out, out_off, 1, _Z4, n, p0, p1, p2)
        else:
            _parallel(k, ((a, a_off), (b, b_off), (c, c_off), (out, out_off)), (1,) * 4, _Z4, n,
                      p0, p1, p2)
    elif n:
        ops = ((a, a_off), (b, b_off), (c, c_off), (out, out_off))
        L, (i0, i1, i2, i3), R, _ = _layout(shape, (a_strides, b_strides, c_strides, out_strides), ops)
        if n < par_min(op) or not PARALLEL or not parallel_ok():
            k.s(a, a_off, i0, b, b_off, i1, c, c_off, i2, out, out_off, i3, R, L, p0, p1, p2)
        else:
            _parallel(k, ops, (i0, i1, i2, i3), R, L, p0, p1, p2)
