"""CUDA twins of ``kernels.elementwise``: ``unary``, ``binary``, ``ternary`` with the same arguments.

Operands are flat device buffers (a host 1-element buffer with zero strides is a scalar and is
copied over once, see ``as_device``). Size-1 dims are dropped and adjacent dims merged on the host;
the rest travels in one cached int64 metadata array, so a kernel compiles once per dtype signature,
never per ndim or shape. Integer division by zero is not reported (PyTorch CUDA does not either).
"""
import math

import numpy as np
from numba import cuda

from numtorch.kernels.copy import coalesce
from numtorch.kernels.cuda import as_device, dev_ints, launch
from numtorch.kernels.cuda import ew_generated as _g
from numtorch.kernels.elementwise import _POW_F, _POW_I, check_dtypes

_CLS = {"f": "f", "i": "i", "u": "i", "b": "b"}
_JITTED = {}          # generated function name, or (op, class) -> cuda kernel
_META = {}            # (shape, strides...) -> (device metadata, operand extents)
_RESOLVED = {}        # (op, dtypes...) -> dtype class


def _kernel(op, cls):
    raw = _g.KERNELS[(op, cls)]
    k = _JITTED.get(raw.__name__)
    if k is None:
        k = _JITTED[raw.__name__] = cuda.jit(cache=True)(raw)
    _JITTED[(op, cls)] = k
    return k


def _resolve(op, arity, dts):
    comp = check_dtypes(op, arity, dts)
    cls = _CLS.get(comp.kind)
    if comp == np.float16 or (op, cls) not in _g.KERNELS:
        from numtorch.kernels.elementwise import _dtype_name
        raise RuntimeError(f"\"{op}_cuda\" not implemented for '{_dtype_name(comp)}'")
    return cls


def _variant(op, cls, p0):
    """The same parameter-driven variants as the CPU (torch's pow fast paths, alpha == 1, round)."""
    if op in ("add", "sub", "rsub") and p0 == 1.0:
        return f"_{op}1", p0
    if op == "pow_scalar":
        if cls == "i" and p0 < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        hit = (_POW_F if cls == "f" else _POW_I).get(p0)
        return (op, p0) if hit is None else hit
    if op == "round" and cls == "f" and p0 != 0:
        ten = float("inf") if abs(p0) > 308 else 10.0 ** abs(p0)
        return ("_round_pos" if p0 > 0 else "_round_neg"), ten
    if op == "pow_scalar_backward" and p0 == 2.0:
        return "_pow2_backward", p0
    return op, p0


def _plan(shape, sts):
    """(device metadata ``[nd, shape..., strides per operand...]``, per-operand (lowest, highest)
    element reached) after dropping size-1 dims and merging dims contiguous in every operand;
    metadata ``[0]`` means every operand is plainly contiguous."""
    sh, st = coalesce(shape, *sts)
    if all(len(s) <= 1 and (not s or s[0] == 1) for s in st):
        vals = (0,)
    else:
        vals = (len(sh),) + tuple(sh) + tuple(v for s in st for v in s)
    ext = tuple((sum((k - 1) * s for k, s in zip(shape, x) if s < 0),
                 sum((k - 1) * s for k, s in zip(shape, x) if s > 0)) for x in sts)
    return dev_ints(vals), ext


def _run(op, arity, bufs, offs, sts, shape, p0, p1, p2):
    bufs = [as_device(b) if b.__class__ is np.ndarray else b for b in bufs]
    key = (op,) + tuple(b.dtype for b in bufs)
    cls = _RESOLVED.get(key)
    if cls is None:
        cls = _RESOLVED[key] = _resolve(op, arity, key[1:])
    try:
        pkey = (shape,) + sts
        plan = _META.get(pkey)
    except TypeError:               # lists instead of tuples
        shape, sts = tuple(shape), tuple(tuple(x) for x in sts)
        pkey, plan = (shape,) + sts, None
    n = math.prod(shape)
    if n == 0:
        return
    if plan is None:
        if len(_META) > 4096:
            _META.clear()
        plan = _META[pkey] = _plan(shape, sts)
    meta, ext = plan
    for b, o, (lo, hi) in zip(bufs, offs, ext):
        if o + lo < 0 or o + hi >= len(b):
            raise IndexError("elementwise: an operand reaches past the end of its buffer")
    if p0.__class__ is not float:
        p0 = float(p0)
    name, p0 = _variant(op, cls, p0)
    k = _JITTED.get((name, cls)) or _kernel(name, cls)
    args = []
    for b, o in zip(bufs, offs):
        args += (b, o)
    k[launch(n)](*args, meta, n, p0, float(p1), float(p2))


def unary(op, x, x_off, x_strides, out, out_off, out_strides, shape, p0=0.0, p1=0.0, p2=0.0):
    _run(op, 1, (x, out), (x_off, out_off), (x_strides, out_strides), shape, p0, p1, p2)


def binary(op, a, a_off, a_strides, b, b_off, b_strides, out, out_off, out_strides, shape,
           p0=1.0, p1=0.0, p2=0.0):
    _run(op, 2, (a, b, out), (a_off, b_off, out_off), (a_strides, b_strides, out_strides), shape,
         p0, p1, p2)


def ternary(op, a, a_off, a_strides, b, b_off, b_strides, c, c_off, c_strides,
            out, out_off, out_strides, shape, p0=1.0, p1=0.0, p2=0.0):
    _run(op, 3, (a, b, c, out), (a_off, b_off, c_off, out_off),
         (a_strides, b_strides, c_strides, out_strides), shape, p0, p1, p2)
