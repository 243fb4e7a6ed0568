"""Softmax and scans along one dim (cumsum/cumprod/cummax/cummin/logcumsumexp) with their grad_fns."""
import numpy as np

from . import dtypes as _dt
from .autograd.graph import needs_grad, record
from ._buffers import copy_flat
from .kernels import reduction as _kr
from .storage import empty_buffer
from .reductions import _acc_dtype, _block, _new, _out
from .return_types import cummax as _RT_cummax, cummin as _RT_cummin
from .shape import wrap_dim


def _along(x, dim, cnp):
    d = wrap_dim(dim, x.ndim)
    return (d,) + _block(x, (d,) if x.ndim else (), cnp)


def _softmax(x, dim, log, dtype):
    if dtype is not None:
        x = x.to(dtype)
    if not x.dtype.is_floating_point:
        raise RuntimeError(f'"{"log_" if log else ""}softmax_lastdim_kernel_impl" not implemented for '
                           f"'{x.dtype.short}'")
    d, buf, outer, n, inner = _along(x, dim, x.dtype.compute)
    res = _new(x._shape, x.dtype, x.device)
    o = res._storage.data
    tmp = o if o.dtype == x.dtype.compute else empty_buffer(o.shape[0], x.dtype.compute, x.device)
    _kr.softmax(buf, outer, n, inner, tmp, log=log)
    if tmp is not o:
        copy_flat(tmp, o)
    if needs_grad(x):
        def bw(node, g):
            (y,) = node.saved_tensors
            if log:
                return (g - y.exp() * g.sum(d, keepdim=True),)
            return (y * (g - (g * y).sum(d, keepdim=True)),)
        record("LogSoftmaxBackward0" if log else "SoftmaxBackward0", res, (x,), bw, save_outputs=(0,))
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
            return ((g * y).flip(d).cumsum(d).flip(d) / xi,)
        record("CumprodBackward0", res, (x,), bw, save=(x,), save_outputs=(0,))
    return _out(res, out)


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
