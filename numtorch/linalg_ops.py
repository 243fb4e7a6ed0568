"""Matrix products: matmul/@ (PyTorch's dispatch to dot/mv/mm/bmm, with its folding rules and grad_fn
names), mm, bmm, mv, dot, vdot, outer/ger, addmm/addmv/addbmm/baddbmm; the contractions inner,
tensordot and einsum live in contractions.py (built on these products) and are re-exported here.

The products run ``kernels.matmul`` (float32/float64 through NumPy's BLAS, integers through an njit
kernel; float16 computes in float32). PyTorch requires equal dtypes here (no promotion) and refuses
bool. Backward formulas are products of numtorch tensors, so double backward works."""
import numpy as np

from . import dtypes as _dt
from . import ops as _ops
from .autograd.graph import needs_grad, record
from .autograd.grad_mode import no_grad
from .contractions import einsum, inner, tensordot  # noqa: F401  (re-exported)
from .kernels import index as _ix
from .kernels import matmul as _km
from .shape import broadcast_shapes, contiguous_strides, numel
from .tensor import Tensor

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "vdot", "outer", "ger", "inner", "tensordot", "addmm", "addmv",
           "addbmm", "baddbmm", "einsum"]

_CNAME = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int", "int32": "int",
          "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}


# -- raw products (no autograd) ---------------------------------------------------------------------

def _blasable(shape, st):
    """Whether NumPy's matmul can hand the innermost matrix (or vector) to BLAS without a copy."""
    if len(shape) == 1:
        return st[0] == 1 or shape[0] <= 1
    r, c = shape[-2:]
    sr, sc = st[-2:]
    return (sc == 1 or c <= 1) and sr >= max(c, 1) or (sr == 1 or r <= 1) and sc >= max(r, 1)


def _arr(t):
    """NumPy operand for the matmul kernel: a zero-copy view when BLAS-friendly, else a compiled copy."""
    cnp = t.dtype.compute
    if cnp == t.dtype.np and _blasable(t._shape, t._stride):
        if t.is_contiguous():
            return t._storage.data[t._offset:t._offset + numel(t._shape)].reshape(t._shape)
        if t._storage.device.type == "cpu":
            return t._np()
    return _ops._cast_contiguous(t, cnp).reshape(t._shape)


def _product(a, b, shape):
    """a @ b (NumPy matmul rules) into a new contiguous tensor of a's dtype."""
    dt = a.dtype
    r = _km.matmul(_arr(a), _arr(b))
    r = np.ascontiguousarray(r).reshape(-1) if isinstance(r, np.ndarray) else r.reshape(r.size)
    if r.dtype == dt.np:
        return Tensor._from_buffer(r, shape, dt, a.device)
    res = _ops._new_out(tuple(shape), dt, a.device)
    _ix.copy_strided(r, 0, res._stride, res._storage.data, 0, res._stride, shape)
    return res


def _no_bool(t, kernel):
    if t.dtype is _dt.bool:
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def _rec2(name, res, a, b, bw, ctx=None):
    if not (a._requires_grad or b._requires_grad):
        return res
    ga, gb = needs_grad(a), needs_grad(b)
    if ga or gb:
        record(name, res, (a, b), bw, save=(a if gb else None, b if ga else None), ctx=ctx)
    return res


def _out(res, out, fname):
    if out is None:
        return res
    if res.requires_grad:
        raise RuntimeError(f"{fname}(): functions with out=... arguments don't support automatic differentiation, "
                           "but one of the arguments requires grad.")
    if out.dtype is not res.dtype:
        raise RuntimeError(f"Expected out tensor to have dtype {_CNAME[res.dtype.name]}, but got "
                           f"{_CNAME[out.dtype.name]} instead")
    return _ops._to_out(res, out)


# -- mm / bmm / mv / dot ----------------------------------------------------------------------------

def _same_device(a, b):
    if a._storage.device != b._storage.device:
        _ops._check_device(a, b)


def _check_mm(a, b, first="self"):
    if len(a._shape) != 2:
        raise RuntimeError(f"{first} must be a matrix" + (f", got {a.ndim}-D tensor" if first == "mat1" else ""))
    if len(b._shape) != 2:
        raise RuntimeError("mat2 must be a matrix" + (f", got {b.ndim}-D tensor" if first == "mat1" else ""))
    if a._shape[1] != b._shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a._shape[0]}x{a._shape[1]} and "
                           f"{b._shape[0]}x{b._shape[1]})")
    if a.dtype is not b.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_CNAME[a.dtype.name]} != "
                           f"{_CNAME[b.dtype.name]}")
    _no_bool(a, "addmm_impl_cpu_")
    _same_device(a, b)


def _bw_mm(node, g):
    a, b = node.saved_tensors
    return (mm(g, b.t()) if node.needs[0] else None, mm(a.t(), g) if node.needs[1] else None)


def mm(input, mat2, *, out=None):
    """Matrix product of two 2-D tensors of one dtype (MmBackward0)."""
    _check_mm(input, mat2)
    res = _product(input, mat2, (input._shape[0], mat2._shape[1]))
    return _out(_rec2("MmBackward0", res, input, mat2, _bw_mm), out, "mm")


def _check_bmm(a, b):
    if a.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if b._shape[:2] != (a._shape[0], a._shape[2]):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{a._shape[0]}, "
                           f"{a._shape[2]}] but got: [{b._shape[0]}, {b._shape[1]}].")
    if a.dtype is not b.dtype:
        raise RuntimeError(f"expected scalar type {a.dtype.short} but found {b.dtype.short}")
    _no_bool(a, "bmm")
    _same_device(a, b)


def _bw_bmm(node, g):
    a, b = node.saved_tensors
    return (bmm(g, b.mT) if node.needs[0] else None, bmm(a.mT, g) if node.needs[1] else None)


def bmm(input, mat2, *, out=None):
    """Batched matrix product of (b, n, k) and (b, k, m) tensors (BmmBackward0)."""
    _check_bmm(input, mat2)
    res = _product(input, mat2, input._shape[:2] + (mat2._shape[2],))
    return _out(_rec2("BmmBackward0", res, input, mat2, _bw_bmm), out, "bmm")


def _check_mv(a, v):
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {a.ndim}, {v.ndim}")
    if a._shape[1] != v._shape[0]:
        raise RuntimeError(f"size mismatch, got input ({a._shape[0]}), mat ({a._shape[0]}x{a._shape[1]}), vec "
                           f"({v._shape[0]})")
    if a.dtype is not v.dtype:
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got {v.dtype.short}, {a.dtype.short}, "
                           f"and {v.dtype.short}")
    _no_bool(a, "addmv_impl_cpu")
    _same_device(a, v)


def _bw_mv(node, g):
    a, v = node.saved_tensors
    return (outer(g, v) if node.needs[0] else None, mv(a.t(), g) if node.needs[1] else None)


def mv(input, vec, *, out=None):
    """Matrix-vector product (MvBackward0)."""
    _check_mv(input, vec)
    res = _product(input, vec, (input._shape[0],))
    return _out(_rec2("MvBackward0", res, input, vec, _bw_mv), out, "mv")


def _dot(a, b, name):
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a._shape != b._shape:
        n, m = a._shape[0], b._shape[0]
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to have the same number "
                           f"of elements, but got {n} and {m} elements respectively")
    if a.dtype is not b.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {a.dtype.short} and "
                           f"{b.dtype.short}")
    _no_bool(a, name.lower())
    _same_device(a, b)
    res = _product(a, b, ())
    return _rec2(name + "Backward0", res, a, b, _bw_dot)


def _bw_dot(node, g):
    a, b = node.saved_tensors
    return (g * b if node.needs[0] else None, g * a if node.needs[1] else None)


def dot(input, tensor, *, out=None):
    """Inner product of two 1-D tensors (DotBackward0); integers wrap like PyTorch."""
    return _out(_dot(input, tensor, "Dot"), out, "dot")


def vdot(input, other, *, out=None):
    return _out(_dot(input, other, "Vdot"), out, "vdot")


def outer(input, vec2, *, out=None):
    """Outer product of 1-D tensors: input[:, None] * vec2 (PyTorch's formulation, dtypes promote)."""
    if input.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {input.ndim}-D")
    if vec2.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument vec2, but got {vec2.ndim}-D")
    return _out(input.reshape(input._shape[0], 1) * vec2, out, "mul")


ger = outer


# -- matmul -----------------------------------------------------------------------------------------

def _unsafe_view(t, shape, name="UnsafeViewBackward0"):
    """A new-tensor reshape of a fresh contiguous result (PyTorch's _unsafe_view / in-place squeeze_)."""
    t = t if t.is_contiguous() else t.contiguous()
    shape = tuple(shape)
    out = t.detach()._view_of(shape, contiguous_strides(shape), t._offset)
    out._base = None
    if needs_grad(t):
        in_shape = t._shape
        record(name, out, (t,), lambda node, g: (g.reshape(in_shape),))
    return out


def _should_fold(a, b):
    """PyTorch's should_fold: fold the batch of the larger operand into mm/mv rows."""
    larger = a.ndim >= b.ndim
    shp, st = (list(a._shape), list(a._stride)) if larger else (list(b._shape), list(b._stride))
    if not larger:
        shp[-1], shp[-2], st[-1], st[-2] = shp[-2], shp[-1], st[-2], st[-1]
    dim_t2 = b.ndim if larger else a.ndim
    if not (len(shp) >= 3 and dim_t2 <= 2):
        return False
    if (b if larger else a).requires_grad:
        return True
    if a.ndim == 2:
        return False
    if numel(shp) == 0:
        return True
    return all(st[i] == st[i + 1] * shp[i + 1] for i in range(len(shp) - 2))


def _fold(a, b):
    transpose = b.ndim > a.ndim
    t1 = b.mT if transpose else a
    t2 = (a.t() if a.ndim == 2 else a) if transpose else b
    out_shape = list(t1._shape[:-1])
    t1f = t1.reshape(numel(out_shape), t1._shape[-1])
    if t2.ndim == 2:
        o = _unsafe_view(mm(t1f, t2), out_shape + [t2._shape[1]])
        return o.mT.contiguous() if transpose else o
    return _unsafe_view(mv(t1f, t2), out_shape)


def _batched(a, b):
    da, db = a.ndim, b.ndim
    n, m1 = (a._shape[-2] if da > 1 else 1), a._shape[-1]
    m2, p = (b._shape[-2] if db > 1 else b._shape[0]), (b._shape[-1] if db > 1 else 1)
    batch = broadcast_shapes(a._shape[:max(da - 2, 0)], b._shape[:max(db - 2, 0)])
    nb = numel(batch)
    ae = a.expand(batch + (n, m1)).reshape(nb, n, m1)
    if db == 1:
        be = b.expand(batch + (m2,)).reshape(nb, m2).unsqueeze(2)
        r = bmm(ae, be).squeeze(-1)
    else:
        r = bmm(ae, b.expand(batch + (m2, p)).reshape(nb, m2, p))
    shape = batch + ((n,) if da > 1 else ()) + ((p,) if db > 1 else ())
    return _unsafe_view(r, shape)


def matmul(input, other, *, out=None):
    """``input @ other`` with torch.matmul's rules: 1-D operands gain (then lose) a dim, batch dims broadcast."""
    a, b = input, other
    da, db = a.ndim, b.ndim
    if da == 0 or db == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {da}D and {db}D")
    if da == 1 and db == 1:
        r = dot(a, b)
    elif da == 2 and db == 1:
        r = mv(a, b)
    elif da == 1 and db == 2:
        r = _unsafe_view(mm(a.unsqueeze(0), b), (b._shape[1],), "SqueezeBackward4")
    elif da == 2 and db == 2:
        r = mm(a, b)
    elif _should_fold(a, b):
        r = _fold(a, b)
    else:
        r = _batched(a, b)
    return _out(r, out, "matmul")


def __matmul__(self, other):
    if not isinstance(other, Tensor):
        return NotImplemented
    return matmul(self, other)


def __rmatmul__(self, other):
    if not isinstance(other, Tensor):
        return NotImplemented
    return matmul(other, self)


# -- add* (beta * input + alpha * product) ----------------------------------------------------------

def _scalar(v, dt):
    return v if dt.is_floating_point else int(v)


def _combine(prod, input, beta, alpha):
    """alpha * prod + beta * input (input broadcast; ignored when beta == 0), computed in place."""
    with no_grad():
        if alpha != 1:
            prod.mul_(_scalar(alpha, prod.dtype))
        if beta != 0:
            prod.add_(input.expand(prod._shape), alpha=_scalar(beta, prod.dtype))
    return prod


def _scale(t, s):
    return t if s == 1 else t * s


def _add_check(input, m, name):
    if input.dtype is not m.dtype:
        raise RuntimeError(f"self and {name} must have the same dtype, but got {input.dtype.short} and "
                           f"{m.dtype.short}")


def _record_add(name, res, inputs, beta, alpha, grads):
    if needs_grad(*inputs):
        _, m1, m2 = inputs
        n1, n2 = needs_grad(m1), needs_grad(m2)

        def bw(node, g):
            s1, s2 = node.saved_tensors
            gi = _scale(g, beta) if node.needs[0] else None
            g1 = _scale(grads[0](g, s2), alpha) if node.needs[1] else None
            g2 = _scale(grads[1](g, s1), alpha) if node.needs[2] else None
            return gi, g1, g2
        record(name, res, inputs, bw, save=(m1 if n2 else None, m2 if n1 else None))
    return res


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (mat1 @ mat2) (AddmmBackward0)."""
    _check_mm(mat1, mat2, "mat1")
    _add_check(input, mat2, "mat2")
    shape = (mat1._shape[0], mat2._shape[1])
    input.expand(shape)  # PyTorch's broadcast error text
    res = _combine(_product(mat1, mat2, shape), input, beta, alpha)
    res = _record_add("AddmmBackward0", res, (input, mat1, mat2), beta, alpha,
                      (lambda g, m2: mm(g, m2.t()), lambda g, m1: mm(m1.t(), g)))
    return _out(res, out, "addmm")


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (mat @ vec) (AddmvBackward0)."""
    _check_mv(mat, vec)
    _add_check(input, mat, "mat")
    shape = (mat._shape[0],)
    input.expand(shape)
    res = _combine(_product(mat, vec, shape), input, beta, alpha)
    res = _record_add("AddmvBackward0", res, (input, mat, vec), beta, alpha,
                      (lambda g, v: outer(g, v), lambda g, m: mv(m.t(), g)))
    return _out(res, out, "addmv")


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * bmm(batch1, batch2) (BaddbmmBackward0)."""
    _check_bmm(batch1, batch2)
    _add_check(input, batch2, "batch2")
    shape = batch1._shape[:2] + (batch2._shape[2],)
    input.expand(shape)
    res = _combine(_product(batch1, batch2, shape), input, beta, alpha)
    res = _record_add("BaddbmmBackward0", res, (input, batch1, batch2), beta, alpha,
                      (lambda g, b2: bmm(g, b2.mT), lambda g, b1: bmm(b1.mT, g)))
    return _out(res, out, "baddbmm")


def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * sum_b bmm(batch1, batch2)[b] (AddbmmBackward0); one mm over (n, b*k)."""
    _check_bmm(batch1, batch2)
    _add_check(input, batch2, "batch2")
    nb, n, k = batch1._shape
    shape = (n, batch2._shape[2])
    input.expand(shape)
    with no_grad():
        a2 = batch1.permute(1, 0, 2).reshape(n, nb * k)
        b2 = batch2.reshape(nb * k, shape[1])
    res = _combine(_product(a2, b2, shape), input, beta, alpha)

    def expand_g(g):
        return g.unsqueeze(0).expand(nb, *shape)
    res = _record_add("AddbmmBackward0", res, (input, batch1, batch2), beta, alpha,
                      (lambda g, b2_: bmm(expand_g(g), b2_.mT), lambda g, b1_: bmm(b1_.mT, expand_g(g))))
    return _out(res, out, "addbmm")
