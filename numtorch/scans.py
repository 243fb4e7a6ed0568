"""Softmax and scans along one dim (cumsum/cumprod/cummax/cummin/logcumsumexp) with their grad_fns."""
import numpy as np

from . import dtypes as _dt
from .autograd.graph import needs_grad, record
from ._buffers import copy_flat
from .kernels import reduction as _kr
from .kernels import softmax as _ksm
from .storage import empty_buffer
from .reductions import _acc_dtype, _block, _new, _out
from .return_types import cummax as _RT_cummax, cummin as _RT_cummin
from .shape import wrap_dim
from .ops import where


def _along(x, dim, cnp):
    d = wrap_dim(dim, x.ndim)
    return (d,) + _block(x, (d,) if x.ndim else (), cnp)


def _softmax(x, dim, log, dtype):
    """softmax / log_softmax along dim in one compiled pass per row; the backward is one fused kernel
    (a composite of differentiable ops when grad mode is on during backward, for double backward)."""
    if dtype is not None:
        x = x.to(dtype)
    if not x.dtype.is_floating_point:
        raise NotImplementedError(f'"{"log_" if log else ""}softmax_lastdim_kernel_impl" not implemented '
                                  f"for '{x.dtype.short}'")
    d, buf, outer, n, inner = _along(x, dim, x.dtype.compute)
    res = _new(x._shape, x.dtype, x.device)
    o = res._storage.data
    tmp = o if o.dtype == x.dtype.compute else empty_buffer(o.shape[0], x.dtype.compute, x.device)
    _ksm.softmax(buf, outer, n, inner, tmp, log=log)
    if tmp is not o:
        copy_flat(tmp, o)
    if needs_grad(x):
        record("LogSoftmaxBackward0" if log else "SoftmaxBackward0", res, (x,),
               lambda node, g: (softmax_backward(g, node.saved_tensors[0], d, log),), save_outputs=(0,))
    return res


def softmax_backward(g, y, d, log):
    """Gradient of softmax (log_softmax) along d from the output grad g and the forward output y."""
    from .autograd.grad_mode import is_grad_enabled
    if is_grad_enabled():  # create_graph: differentiable ops so double backward works
        if log:
            return g - y.exp() * g.sum(d, keepdim=True)
        return y * (g - (g * y).sum(d, keepdim=True))
    cnp = y.dtype.compute
    _, gb, outer, n, inner = _along(g, d, cnp)
    _, yb, _, _, _ = _along(y, d, cnp)
    res = _new(y._shape, y.dtype, y.device)
    o = res._storage.data
    tmp = o if o.dtype == cnp else empty_buffer(o.shape[0], cnp, y.device)
    _ksm.softmax_backward(gb, yb, outer, n, inner, tmp, log=log)
    if tmp is not o:
        copy_flat(tmp, o)
    return res


def softmax(x, dim=None, dtype=None, **kw):
    if dim is None:
        dim = 0 if x.ndim in (0, 1, 3) else 1
    return _softmax(x, dim, False, dtype)


def log_softmax(x, dim=None, dtype=None, **kw):
    if dim is None:
        dim = 0 if x.ndim in (0, 1, 3) else 1
    return _softmax(x, dim, True, dtype)


def _scan(op, x, dim, dtype, with_idx=False):
    acc = _acc_dtype(op, x, dtype)
    if op == "logcumsumexp" and not acc.is_floating_point:
        acc = _dt.get_default_dtype()
    d, buf, outer, n, inner = _along(x, dim, acc.compute)
    res = _new(x._shape, acc, x.device)
    o = res._storage.data
    tmp = o if o.dtype == acc.compute else empty_buffer(o.shape[0], acc.compute, x.device)
    idx = _new(x._shape, _dt.int64, x.device) if with_idx else None
    _kr.scan(op, buf, outer, n, inner, tmp, idx._storage.data if with_idx else None)
    if tmp is not o:
        copy_flat(tmp, o)
    return d, res, idx


def cumsum(x, dim, *, dtype=None, out=None):
    d, res, _ = _scan("cumsum", x, dim, dtype)
    if res.dtype.is_floating_point and needs_grad(x):
        record("CumsumBackward0", res, (x,), lambda node, g: (g.flip(d).cumsum(d).flip(d),))
    return _out(res, out)


def cumprod(x, dim, *, dtype=None, out=None):
    d, res, _ = _scan("cumprod", x, dim, dtype)
    if res.dtype.is_floating_point and needs_grad(x):
        def bw(node, g):
            xi, y = node.saved_tensors
            return (_cumprod_grad(xi, g, d, y),)
        record("CumprodBackward0", res, (x,), bw, save=(x,), save_outputs=(0,))
    return _out(res, out)


def _cumprod_grad(x, g, d, y=None):
    """Gradient of cumprod along ``d``, exact with zeros and differentiable again (PyTorch's rule)."""
    rcs = lambda v: v.flip(d).cumsum(d).flip(d)  # noqa: E731 (reverse cumulative sum)
    y = x.cumprod(d) if y is None else y
    zero = x == 0
    if not bool(zero.any()):
        return rcs(g * y) / x
    # Before a row's first zero the quotient form is exact; at the first zero z the gradient is the reverse
    # cumsum of g * cumprod(x with x_z = 1); after it, x_z times the gradient for that x (recursively, so
    # that double backward sees the dependence on x_z).
    nz = zero.cumsum(d)
    before, first = nz == 0, zero & (nz == 1)
    one = x.detach() * 0 + 1
    xz = where(first, x, one * 0).sum(d, keepdim=True)
    xz_free = where(first, one, x)
    a = rcs(g * y) / where(before, x, one)
    b = rcs(g * xz_free.cumprod(d))
    c = xz * _cumprod_grad(xz_free, g, d)
    return where(before, a, where(first, b, c))


def _cumext(op, x, dim):
    d, vals, idx = _scan(op, x, dim, None, with_idx=True)
    if needs_grad(x):
        from .creation import zeros
        shape = x._shape
        record("CummaxBackward0" if op == "cummax" else "CumminBackward0", (vals, idx), (x,),
               lambda node, g, gi=None: (zeros(shape, dtype=g.dtype).scatter_add(d, node.saved_tensors[0], g),),
               save=(idx,))
    return (_RT_cummax if op == "cummax" else _RT_cummin)((vals, idx))


def cummax(x, dim):
    return _cumext("cummax", x, dim)


def cummin(x, dim):
    return _cumext("cummin", x, dim)


def logcumsumexp(x, dim):
    d, res, _ = _scan("logcumsumexp", x, dim, None)
    if needs_grad(x):
        def bw(node, g):
            xi, y = node.saved_tensors
            return ((g * (-y).exp()).flip(d).cumsum(d).flip(d) * xi.exp(),)
        record("LogcumsumexpBackward0", res, (x,), bw, save=(x,), save_outputs=(0,))
    return res
