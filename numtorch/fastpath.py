"""The dispatch fast path for small CPU ops.

Covers the common case: operands of one dtype, contiguous (or a 0-d / row / column broadcast, or a
Python float/int), on the CPU, no ``out=``, below the parallel threshold. A plan per (op, dtype, operand
kind) is built once by the general path's own rules (``ops._result_dtypes``, ``kernels.elementwise
._resolve``) and caches the kernel, its compiled entry point and the output dtype, so a call is a few
identity checks, one allocation, one compiled call and (when grad is needed) the same graph record as
the general path. Full and one-dim sum/mean, contiguous views, int indexing and tensor construction have
their own short paths here. Anything else returns ``None`` and the caller takes the general path
(``ops.elementwise``, ``reductions._reduce``, ...), which defines the semantics: the results are the
same bits (tests/test_fastpath.py)."""
import numpy as np

from . import ops as _ops
from .autograd.grad_mode import _state
from .device import CPU
from .kernels import elementwise as _ew
from .storage import FreshStorage, Storage, VersionCounter
from .shape import numel as _numel
from .tensor import Tensor

_CONTIG = _ew._CONTIG
_contig = _ew._contig
_Z2, _Z3 = _ew._Z2, _ew._Z3
_empty = np.empty
_new = object.__new__
_FAST = {Tensor}                # exact classes taken here (nn.Parameter adds itself)
_PLANS = {}                     # (op, dtype, operand kind) -> plan (see _build), or False when not eligible


def tensor_of(buf, shape, stride, dtype):
    """A fresh CPU tensor owning ``buf``, a new ``np.empty`` array of ``dtype`` (``Tensor._make`` inlined)."""
    t = _new(Tensor)
    s = _new(FreshStorage)
    s.data = buf
    s.device = CPU
    v = _new(VersionCounter)
    v.value = 0
    t._storage = s
    t._shape = shape
    t._stride = stride
    t._offset = 0
    t.dtype = dtype
    t._vc = v
    t._requires_grad = False
    t._grad = None
    t.grad_fn = None
    t._output_nr = 0
    t._base = None
    return t


def view_of(x, shape, stride, offset):
    """A view of ``x`` sharing storage, version counter and base (``Tensor._view_of``, inlined)."""
    t = _new(Tensor)
    t._storage = x._storage
    t._shape = shape
    t._stride = stride
    t._offset = offset
    t.dtype = x.dtype
    t._vc = x._vc
    t._requires_grad = False
    t._grad = None
    t.grad_fn = None
    t._output_nr = 0
    b = x._base
    t._base = x if b is None else b
    return t


_VIEWS = {}                     # (source shape, requested sizes) -> resolved contiguous (shape, strides)


def view_contiguous(x, sizes):
    """``x.view(*sizes)`` of a contiguous tensor given int sizes, or None (the general path checks
    and raises)."""
    key = (x._shape, sizes)
    try:
        hit = _VIEWS.get(key)
    except TypeError:           # a list among the sizes
        return None
    if hit is None:
        for s in sizes:
            if s.__class__ is not int:
                return None
        from .shape import infer_size
        try:
            shape = infer_size(sizes, _numel(x._shape))
        except RuntimeError:
            return None
        c = _CONTIG.get(shape) or _contig(shape)
        hit = (shape, c[0])
        if len(_VIEWS) > 4096:
            _VIEWS.clear()
        _VIEWS[key] = hit
    c = _CONTIG.get(x._shape) or _contig(x._shape)
    if x._stride != c[0]:
        return None
    return view_of(x, hit[0], hit[1], x._offset)


def _build(name, arity, a, b):
    """[serial kernel and parameter for the default p0, kernel object, special, output dtype, output
    NumPy dtype, op row, compiled entry point (filled after the first call), elements from which the
    parallel twin runs (the general path takes those)], or False when the op/dtypes are not eligible."""
    try:
        op = _ops._lookup(name)
        if op.arity != arity:
            return False
        cdt, odt = _ops._result_dtypes(op, (a,) if b is None else (a, b))
        if cdt is not a.dtype or cdt.compute != cdt.np or (op.promote is _ops.KEEP_INT
                                                             and not cdt.is_floating_point):
            return False
        cnp = cdt.np
        dts = (cnp, odt.np) if arity == 1 else (cnp, cnp, odt.np)
        ent = _ew._resolve(op.kernel, arity, dts, cnp.num)
    except Exception:       # noqa: BLE001 - the general path raises the proper error
        return False
    k, special = ent[0], ent[1]
    p0 = 1.0 if arity == 2 else 0.0
    k0, p0 = special(k, p0) if special is not None else (k, p0)
    return [k0.s, p0, k, special, odt, odt.np, op, None, _ew.par_min(op.kernel)]


def _plan_of(key, name, arity, a, b):
    """The plan cached under ``key``, built on first use (False: not eligible)."""
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = _build(name, arity, a, b)
    return plan


def _fresh(st):
    """Whether ``st``'s buffer may go to a compiled entry point: a ``FreshStorage``, or a plain CPU
    ``Storage`` whose buffer checks out (1-D, C-contiguous, aligned, writeable; its class then becomes
    ``FreshStorage``, so the check runs once per storage: from_numpy, loads, DataLoader batches)."""
    c = st.__class__
    if c is FreshStorage:
        return True
    if c is not Storage:
        return False
    d = st.data
    if d.__class__ is not np.ndarray or d.ndim != 1:
        return False
    f = d.flags
    if f.c_contiguous and f.aligned and f.writeable and d.dtype.isnative:
        st.__class__ = FreshStorage
        return True
    return False


def _entry(disp, args):
    """The compiled entry point Numba's dispatcher ``disp`` chose for ``args`` (after a call with them):
    calling it directly skips the per-call typing of every argument (~0.3 us of a 2x2 add). Only used
    with buffers of ``FreshStorage``, whose types are then the same on every call."""
    try:
        return disp.overloads[tuple([disp.typeof_pyval(x) for x in args])].entry_point
    except Exception:       # noqa: BLE001 - no entry point: keep calling the dispatcher
        return None


def _stride_flag(t, cs):
    """1 when ``t`` is contiguous over the output's strides ``cs``, 0 when every stride is 0 (an
    expanded scalar), else None."""
    st = t._stride
    if st == cs:
        return 1
    for s in st:
        if s:
            return None
    return 0


def binary(name, a, b, p0=1.0, ctx=1):
    """``a <op> b`` for a tensor ``a`` of a fast class, or None when the general path must run.
    ``p0`` is the kernel parameter (alpha) and ``ctx`` what the graph node keeps, as in ``ops.elementwise``.
    Operands: same dtype, contiguous, 0-d or expanded from one element; or ``b`` a Python float/int."""
    st = a._storage
    if st.device is not CPU:
        return None
    bc = b.__class__
    dt = a.dtype
    shape = a._shape
    if bc in _FAST:
        if b.dtype is not dt or b._storage.device is not CPU:
            return None
        bshape = b._shape
        if bshape != shape:
            if not bshape:
                pass
            elif not shape:
                shape = bshape
            else:
                return _broadcast(name, a, b, p0, ctx)
        key = (name, dt, Tensor)
    elif bc is float or bc is int:
        key = (name, dt, bc)
    else:
        return None
    c = _CONTIG.get(shape)
    if c is None:
        c = _contig(shape)
    cs, n = c
    if n >= _ew.PAR_MIN or not n:
        return None
    As = 1 if a._stride == cs else _stride_flag(a, cs)
    if As is None:
        return None
    plan = _PLANS.get(key) or _plan_of(key, name, 2, a, b)
    if plan is False or n >= plan[8]:
        return None
    ks, pd, k, special, odt, onp, op, ep, pm = plan
    if key[2] is Tensor:
        Bs = 1 if b._stride == cs else _stride_flag(b, cs)
        if Bs is None:
            return None
        bst = b._storage
        B = bst.data
        boff = b._offset
        if boff + (n if Bs else 1) > len(B):
            return None
        fresh = _fresh(bst) and _fresh(st)
    else:
        B = _ops._scalar_buffer(b, dt.np)
        boff = Bs = 0
        fresh = _fresh(st)
    A = st.data
    aoff = a._offset
    if aoff + (n if As else 1) > len(A):
        return None
    O = _empty(n, onp)
    if p0 == 1.0:
        if fresh and ep is not None:
            e = ep(A, aoff, As, B, boff, Bs, O, 0, 1, _Z3, n, pd, 0.0, 0.0)
        else:
            args = (A, aoff, As, B, boff, Bs, O, 0, 1, _Z3, n, pd, 0.0, 0.0)
            e = ks(*args)
            if fresh:
                plan[7] = _entry(ks, args)
    else:
        if special is not None:
            k, p0 = special(k, float(p0))
            ks = k.s
        e = ks(A, aoff, As, B, boff, Bs, O, 0, 1, _Z3, n, float(p0), 0.0, 0.0)
    if e:
        raise RuntimeError(_ew._ZERO_DIV)
    res = tensor_of(O, shape, cs, odt)
    if (a._requires_grad or key[2] is Tensor and b._requires_grad) and getattr(_state, "enabled", True) \
            and op.grad_fn and odt.is_floating_point:
        _ops._record(op, res, (a, b), ctx)
    return res


_ROWS = {}                      # (rows, row length, which operand is broadcast, column?) -> R offsets


def _pattern(small, shape):
    """How a contiguous operand of shape ``small`` spreads over ``shape`` (same ndim after padding with
    leading 1s): ("row", L) when it is a suffix (a bias: repeated every L elements), ("col", L) when it is
    a prefix followed by 1s (each of its elements covers L contiguous outputs), else None."""
    k = len(shape) - len(small)
    if k < 0:
        return None
    sp = (1,) * k + small
    i = 0
    while i < len(shape) and sp[i] == 1 and shape[i] != 1:
        i += 1
    if sp[i:] == shape[i:]:
        return "row", _numel(shape[i:])
    j = len(shape)
    while j > 0 and sp[j - 1] == 1:
        j -= 1
    if sp[:j] == shape[:j]:
        return "col", _numel(shape[j:])
    return None


def _broadcast(name, a, b, p0, ctx):
    """``a <op> b`` where one operand is full-shaped and contiguous and the other (contiguous) repeats
    along rows (a bias) or columns (a keepdim reduction): one kernel call over M rows of L elements."""
    ca = _CONTIG.get(a._shape) or _contig(a._shape)
    cb = _CONTIG.get(b._shape) or _contig(b._shape)
    if ca[1] >= cb[1]:
        full, small, which = a, b, 1
    else:
        full, small, which = b, a, 0
        ca, cb = cb, ca
    shape = full._shape
    cs, n = ca
    if n >= _ew.PAR_MIN or not cb[1] or full._stride != cs:
        return None
    if small._stride != cb[0]:      # a size-1 dim's stride does not matter (x[:, :1] is contiguous)
        for d, st in zip(small._shape, zip(small._stride, cb[0])):
            if d != 1 and st[0] != st[1]:
                return None
    pat = _pattern(small._shape, shape)
    if pat is None:
        return None
    kind, L = pat
    M = n // L
    rkey = (M, L, which, kind)
    R = _ROWS.get(rkey)
    if R is None:
        full_rows = np.arange(M, dtype=np.int64) * L
        small_rows = np.zeros(M, np.int64) if kind == "row" else np.arange(M, dtype=np.int64)
        R = np.stack([full_rows, small_rows, full_rows] if which else [small_rows, full_rows, full_rows])
        if len(_ROWS) > 512:
            _ROWS.clear()
        _ROWS[rkey] = R
    key = (name, a.dtype, Tensor)
    plan = _PLANS.get(key) or _plan_of(key, name, 2, a, b)
    if plan is False or n >= plan[8]:
        return None
    ks, pd, k, special, odt, onp, op, ep, pm = plan
    ss = 1 if kind == "row" else 0
    As, Bs = (1, ss) if which else (ss, 1)
    A, B = a._storage.data, b._storage.data
    if a._offset + (n if a is full else cb[1]) > len(A) or b._offset + (n if b is full else cb[1]) > len(B):
        return None
    O = _empty(n, onp)
    if p0 == 1.0:
        p0 = pd
    else:
        if special is not None:
            k, p0 = special(k, float(p0))
            ks = k.s
        p0 = float(p0)
    if ks(A, a._offset, As, B, b._offset, Bs, O, 0, 1, R, L, p0, 0.0, 0.0):
        raise RuntimeError(_ew._ZERO_DIV)
    res = tensor_of(O, shape, cs, odt)
    if (a._requires_grad or b._requires_grad) and getattr(_state, "enabled", True) and op.grad_fn \
            and odt.is_floating_point:
        _ops._record(op, res, (a, b), ctx)
    return res


def unary(name, a, p0=0.0, ctx=1):
    """``op(a)`` for a tensor ``a`` of a fast class, or None when the general path must run."""
    st = a._storage
    if st.device is not CPU:
        return None
    shape = a._shape
    c = _CONTIG.get(shape)
    if c is None:
        c = _contig(shape)
    cs, n = c
    if a._stride != cs or n >= _ew.PAR_MIN or not n:
        return None
    key = (name, a.dtype)
    plan = _PLANS.get(key) or _plan_of(key, name, 1, a, None)
    if plan is False or n >= plan[8]:
        return None
    ks, pd, k, special, odt, onp, op, ep, pm = plan
    A = st.data
    aoff = a._offset
    if aoff + n > len(A):
        return None
    O = _empty(n, onp)
    if p0 == 0.0:
        fresh = _fresh(st)
        if ep is not None and fresh:
            ep(A, aoff, 1, O, 0, 1, _Z2, n, pd, 0.0, 0.0)
        else:
            args = (A, aoff, 1, O, 0, 1, _Z2, n, pd, 0.0, 0.0)
            ks(*args)
            if fresh:
                plan[7] = _entry(ks, args)
    else:
        if special is not None:
            k, p0 = special(k, float(p0))
            ks = k.s
        ks(A, aoff, 1, O, 0, 1, _Z2, n, float(p0), 0.0, 0.0)
    res = tensor_of(O, shape, cs, odt)
    if a._requires_grad and getattr(_state, "enabled", True) and op.grad_fn and odt.is_floating_point:
        _ops._record(op, res, (a,), ctx)
    return res


def reduce_all(x, mean):
    """``x.sum()`` (or ``x.mean()``) of a small contiguous float CPU tensor, or None. Sums in float64
    like the general kernel and rounds once into x's dtype."""
    st = x._storage
    if x.__class__ not in _FAST or st.device is not CPU:
        return None
    dt = x.dtype
    if not dt.is_floating_point or dt.compute != dt.np:
        return None
    shape = x._shape
    c = _CONTIG.get(shape)
    if c is None:
        c = _contig(shape)
    cs, n = c
    if x._stride != cs or n >= _kr.PAR_MIN or not n:
        return None
    A = st.data
    off = x._offset
    if off or len(A) != n:
        A = A[off:off + n]
    # A sum is stored straight into x's dtype (one rounding of the float64 total); a mean divides first.
    part = _empty(1, _F64 if mean else dt.np)
    key = (dt, mean)
    fresh = _fresh(st)
    ep = _RED_EP.get(key) if fresh else None
    if ep is not None:
        ep(_SUM, A, part, 1, n, 1, 0.0)
    else:
        args = (_SUM, A, part, 1, n, 1, 0.0)
        _rows_ser(*args)
        if fresh:
            _RED_EP[key] = _entry(_rows_ser, args)
    if mean:
        s = part[0] / n
        if dt.np is _F64:
            part[0] = s
        else:
            part = _empty(1, dt.np)
            part[0] = s
    return tensor_of(part, (), (), dt)


def reduce_dim(x, dim, keepdim, mean):
    """``x.sum(dim)`` (or ``mean``) over one int dim of a small contiguous float CPU tensor, or None:
    the general path's serial kernels (float64 partials, then one rounding), called directly."""
    if dim.__class__ is not int or x.__class__ not in _FAST:
        return None
    st = x._storage
    dt = x.dtype
    shape = x._shape
    nd = len(shape)
    if st.device is not CPU or not dt.is_floating_point or dt.compute != dt.np or not -nd <= dim < nd:
        return None
    d = dim + nd if dim < 0 else dim
    c = _CONTIG.get(shape)
    if c is None:
        c = _contig(shape)
    cs, total = c
    n = shape[d]
    if x._stride != cs or total >= _kr.PAR_MIN or not total:
        return None
    inner = cs[d]
    outer = total // (n * inner)
    A = st.data
    off = x._offset
    if off or len(A) != total:
        A = A[off:off + total]
    if inner == 1:
        part = _empty(outer, _F64 if mean else dt.np)       # row sums are stored rounded once
        _rows_ser(_SUM, A, part, outer, n, 1, 0.0)
    else:
        part = _empty(outer * inner, _F64)                  # column partials accumulate in float64
        nblk = -(-inner // _kr._BL)
        _cols_ser(_SUM, A, part, outer * nblk, n, inner, 1, nblk, 0.0)
    if mean:
        part /= n
    if part.dtype is not dt.np:
        part = part.astype(dt.np)
    oshape = shape[:d] + ((1,) if keepdim else ()) + shape[d + 1:]
    oc = _CONTIG.get(oshape)
    if oc is None:
        oc = _contig(oshape)
    return tensor_of(part, oshape, oc[0], dt)


from .kernels import reduction as _kr  # noqa: E402
_rows_ser, _cols_ser, _SUM, _F64 = _kr._rows_ser, _kr._cols_ser, _kr.SUM, np.dtype(np.float64)
_RED_EP = {}                    # (dtype, mean) -> entry point of the serial row-sum kernel
