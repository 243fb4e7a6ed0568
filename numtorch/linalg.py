"""``torch.linalg``: norms (differentiable, via numtorch reductions), matmul, and det / slogdet / inv / solve.

det, slogdet, inv and solve compute with NumPy's LAPACK (float16 in float32), or for CUDA tensors with
the LU kernels of ``numtorch.kernels.cuda.linalg`` (same results, same errors). Their gradients are
PyTorch's closed forms written with numtorch ops (det: g*det*inv(A)^T, inv: -inv^T g inv^T,
solve: gB = solve(A^T, g), gA = -gB X^T), so they are differentiable, twice included, for
invertible matrices; at singular matrices det's gradient raises (PyTorch uses an SVD there).
Matrix 2-norm / nuclear norm use NumPy's SVD and are not differentiable."""
import math

import numpy as np

from . import dtypes as _dt
from . import reductions as _red
from .autograd.graph import needs_grad, record
from .linalg_ops import matmul  # noqa: F401  (torch.linalg.matmul)
from .shape import wrap_dim
from .tensor import Tensor

__all__ = ["vector_norm", "matrix_norm", "norm", "matmul", "vecdot", "det", "slogdet", "inv", "inv_ex", "solve",
           "LinAlgError"]


class LinAlgError(RuntimeError):
    """``torch.linalg.LinAlgError`` (a RuntimeError)."""


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    res = _red.vector_norm(x, ord, dim, keepdim, dtype=dtype)
    return res if out is None else out.copy_(res)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """'fro', 'nuc', 1, -1, 2, -2, inf, -inf over the two dims ``dim``."""
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    if not A.dtype.is_floating_point:
        raise RuntimeError(f"linalg.matrix_norm: Expected a floating point or complex tensor as input. Got "
                           f"{A.dtype.short}")
    d = [wrap_dim(k, A.ndim) for k in dim]
    if ord == "fro":
        res = _red.vector_norm(A, 2, tuple(d), keepdim, dtype=dtype)
    elif ord == "nuc" or ord in (2, -2):
        res = _svd_norm(A, ord, d, keepdim)
    elif ord in (1, -1, math.inf, -math.inf):
        if abs(ord) == math.inf:
            d = [d[1], d[0]]
        if not keepdim and d[0] < d[1]:
            d[1] -= 1
        s = _red.vector_norm(A, 1, d[0], keepdim, dtype=dtype)
        res = _red.amax(s, d[1], keepdim) if ord > 0 else _red.amin(s, d[1], keepdim)
    else:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    return res if out is None else out.copy_(res)


def _svd_norm(A, ord, d, keepdim):
    if needs_grad(A):
        raise NotImplementedError("numtorch: linalg.matrix_norm with ord 2, -2 or 'nuc' is not differentiable")
    a = np.moveaxis(_host(A), d, (-2, -1))
    s = np.linalg.svd(a, compute_uv=False)
    r = s.sum(-1) if ord == "nuc" else s.max(-1) if ord == 2 else s.min(-1)
    res = _wrap(r, A.dtype, A.device)
    if keepdim:
        for k in sorted(d):
            res = res.unsqueeze(k)
    return res


def norm(A, ord=None, dim=None, keepdim=False, *, out=None, dtype=None):
    """Vector norm for 1-D input or one dim, matrix norm for 2-D input or two dims; ord=None: 2 / 'fro'."""
    if dim is not None and not isinstance(dim, (tuple, list)):
        dim = (dim,)
    if ord is not None and dim is None and A.ndim not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got "
                           f"{A.ndim}D.")
    if ord is None:
        return vector_norm(A, 2, dim, keepdim, dtype=dtype, out=out)
    if not isinstance(ord, str) and (len(dim) == 1 if dim is not None else A.ndim == 1):
        return vector_norm(A, ord, dim, keepdim, dtype=dtype, out=out)
    return matrix_norm(A, ord, dim if dim is not None else (-2, -1), keepdim, dtype=dtype, out=out)


def vecdot(x, y, *, dim=-1):
    return (x * y).sum(dim)


# -- NumPy-backed decompositions with closed-form gradients -----------------------------------------

def _host(t):
    """Float NumPy array of t (float16 promoted to float32)."""
    a = t.detach()._np()
    return a.astype(np.float32) if a.dtype == np.float16 else a


def _wrap(arr, dt, dev):
    arr = np.array(arr, dtype=dt.np, order="C")
    return Tensor._from_buffer(arr.reshape(-1), arr.shape, dt, dev)


def _square(A, fname):
    if not A.dtype.is_floating_point:
        raise RuntimeError(f"linalg.{fname}: Expected a floating point or complex tensor as input. Got "
                           f"{A.dtype.short}")
    if A.ndim < 2:
        raise RuntimeError(f"linalg.{fname}: The input tensor A must have at least 2 dimensions.")
    if A._shape[-1] != A._shape[-2]:
        raise RuntimeError(f"linalg.{fname}: A must be batches of square matrices, but they are {A._shape[-2]} by "
                           f"{A._shape[-1]} matrices")


def _lapack(fn, fname, *arrays):
    try:
        with np.errstate(all="ignore"):
            return fn(*arrays)
    except np.linalg.LinAlgError:
        raise _singular(fname) from None


def _singular(fname):
    return LinAlgError(f"linalg.{fname}: The diagonal element is zero, the {fname} could not be completed "
                       "because the input matrix is singular.")


# CUDA tensors: LU factorization and substitution on the device (numtorch.kernels.cuda.linalg), on a
# contiguous float32/float64 scratch copy; results stay on the device.

def _on_cuda(*ts):
    return any(t._storage.device.type != "cpu" for t in ts)


def _cuda_k():
    from .kernels._device import cuda_impl
    return cuda_impl("linalg")


def _dev_copy(t, shape=None):
    """Contiguous device copy of t (broadcast to ``shape``), float16 promoted to float32."""
    from .ops import _cast_contiguous
    t = t.detach()
    cnp = np.float32 if t.dtype is _dt.float16 else t.dtype.np
    return _cast_contiguous(t if shape is None else t.expand(*shape), cnp)


def _dev_wrap(buf, shape, dt, dev):
    if buf.dtype != dt.np:          # float16, computed in float32
        from .ops import _cast_contiguous
        buf = _cast_contiguous(Tensor._from_buffer(buf, shape, _dt.float32, dev), dt.np)
    return Tensor._from_buffer(buf, shape, dt, dev)


def _det_cuda(A):
    bs = A._shape[:-2]
    return _dev_wrap(_cuda_k().det(_dev_copy(A), math.prod(bs), A._shape[-1]), bs, A.dtype, A.device)


def _slogdet_cuda(A):
    bs = A._shape[:-2]
    s, l = _cuda_k().slogdet(_dev_copy(A), math.prod(bs), A._shape[-1])
    return _dev_wrap(s, bs, A.dtype, A.device), _dev_wrap(l, bs, A.dtype, A.device)


def _inv_cuda(A):
    res, singular = _cuda_k().inv(_dev_copy(A), math.prod(A._shape[:-2]), A._shape[-1])
    if singular:
        raise _singular("inv")
    return _dev_wrap(res, A._shape, A.dtype, A.device)


def _solve_cuda(A, B, vec):
    b = B.detach().unsqueeze(-1) if vec else B
    n, k = b._shape[-2:]
    batch = tuple(np.broadcast_shapes(A._shape[:-2], b._shape[:-2]))
    x = _dev_copy(b, batch + (n, k))
    if _cuda_k().solve(_dev_copy(A), A._shape[:-2], x, batch, n, k):
        raise _singular("solve")
    return _dev_wrap(x, batch + ((n,) if vec else (n, k)), A.dtype, A.device)


def det(A, *, out=None):
    """Determinant of (batches of) square matrices (LinalgDetBackward0)."""
    _square(A, "det")
    res = _det_cuda(A) if _on_cuda(A) else _wrap(np.linalg.det(_host(A)), A.dtype, A.device)
    if needs_grad(A):
        def bw(node, g):
            a, d = node.saved_tensors
            return ((g * d).unsqueeze(-1).unsqueeze(-1) * inv(a).mT,)
        record("LinalgDetBackward0", res, (A,), bw, save=(A,), save_outputs=(0,))
    return res if out is None else out.copy_(res)


def slogdet(A, *, out=None):
    """(sign, log|det|); the gradient flows through logabsdet (inv(A)^T)."""
    _square(A, "slogdet")
    if _on_cuda(A):
        sign, logabs = _slogdet_cuda(A)
    else:
        s, l = np.linalg.slogdet(_host(A))
        sign, logabs = _wrap(s, A.dtype, A.device), _wrap(l, A.dtype, A.device)
    if needs_grad(A):
        def bw(node, gs, gl):
            (a,) = node.saved_tensors
            return (None if gl is None else gl.unsqueeze(-1).unsqueeze(-1) * inv(a).mT,)
        record("LinalgSlogdetBackward0", (sign, logabs), (A,), bw, save=(A,))
        sign.grad_fn, sign._requires_grad = None, False   # sign is piecewise constant
    from .return_types import linalg_slogdet
    return linalg_slogdet((sign, logabs))


def inv(A, *, out=None):
    """Matrix inverse (LinalgInvExBackward0); singular input raises LinAlgError."""
    _square(A, "inv")
    res = _inv_cuda(A) if _on_cuda(A) else _wrap(_lapack(np.linalg.inv, "inv", _host(A)), A.dtype, A.device)
    if needs_grad(A):
        def bw(node, g):
            (ai,) = node.saved_tensors
            t = ai.mT
            return (-(t @ g @ t),)
        record("LinalgInvExBackward0", res, (A,), bw, save_outputs=(0,))
    return res if out is None else out.copy_(res)


def inv_ex(A, *, check_errors=False):
    from .creation import zeros
    from .return_types import linalg_inv_ex
    return linalg_inv_ex((inv(A), zeros(A._shape[:-2], dtype=_dt.int32, device=A.device)))


def solve(A, B, *, left=True, out=None):
    """X with A X = B (B a vector or batches of matrices; batch dims broadcast) (LinalgSolveExBackward0)."""
    _square(A, "solve")
    if not left:
        return solve(A.mT, B.mT).mT
    if _on_cuda(A, B):
        from .ops import _check_device
        _check_device(A, B)
    if A.dtype is not B.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{A.dtype.short} and B of type {B.dtype.short} instead.")
    vec = B.ndim == 1 or (B.ndim == A.ndim - 1 and B._shape == A._shape[:-1])
    n = A._shape[-1]
    rows = B._shape[-1] if vec else B._shape[-2]
    if rows != n:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B ({n}x{n} and "
                           f"{rows}x{1 if vec else B._shape[-1]})")
    if _on_cuda(A):
        res = _solve_cuda(A, B, vec)
    else:
        b = _host(B)[..., None] if vec else _host(B)
        a = _host(A)
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        x = _lapack(np.linalg.solve, "solve", np.broadcast_to(a, batch + a.shape[-2:]),
                    np.broadcast_to(b, batch + b.shape[-2:]))
        res = _wrap(x[..., 0] if vec else x, A.dtype, A.device)
    if needs_grad(A, B):
        def bw(node, g):
            a_, x_ = node.saved_tensors
            gb = solve(a_.mT, g)
            ga = None
            if node.needs[0]:
                ga = -(gb.unsqueeze(-1) * x_.unsqueeze(-2)) if vec else -(gb @ x_.mT)
            return ga, gb
        record("LinalgSolveExBackward0", res, (A, B), bw, save=(A,), save_outputs=(0,))
    return res if out is None else out.copy_(res)


# Decompositions and solvers live in linalg_decomp.py, loaded on first use (it costs import time).
_DECOMP = ("cholesky", "cholesky_ex", "qr", "eigh", "eigvalsh", "eig", "eigvals", "svd", "svdvals",
           "solve_triangular", "lu_factor", "lu_factor_ex", "lu", "lu_solve", "lstsq", "pinv", "matrix_power",
           "matrix_exp", "matrix_rank", "multi_dot", "householder_product", "cond", "tensorinv", "tensorsolve",
           "vander", "cross", "diagonal", "solve_ex")
__all__ = __all__ + list(_DECOMP)


def __getattr__(name):
    if name in _DECOMP:
        from . import linalg_decomp
        f = globals()[name] = getattr(linalg_decomp, name)
        return f
    raise AttributeError(f"module 'numtorch.linalg' has no attribute '{name}'")
