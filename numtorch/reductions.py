"""Reductions, scans and softmax: move reduced dims into an (outer, n, inner) block, run the kernel,
record PyTorch's grad_fn (SumBackward0 for a full sum, SumBackward1 with dim, ...)."""
import math

import numpy as np

from . import dtypes as _dt
from . import fastpath as _fp
from .autograd.graph import needs_grad, record
from ._buffers import copy_flat
from .kernels import reduction as _kr
from .storage import empty_buffer
from .ops import _cast_contiguous
from .return_types import aminmax as _RT_aminmax, max as _RT_max, min as _RT_min
from .shape import numel, wrap_dim, wrap_dims
from .tensor import Tensor

_INT_TO_LONG = ("sum", "nansum", "prod", "cumsum", "cumprod")
_KERNEL_OP = {"amax": "max", "amin": "min"}


def _dims(x, dim):
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(x.ndim))
    return wrap_dims(dim, x.ndim) if x.ndim else (wrap_dims(dim, 0) and ())


def _block(x, dims, cnp):
    """(contiguous buffer in dtype cnp, outer, n, inner) with the reduced dims as the middle block."""
    shp = x._shape
    ds = sorted(dims)
    adjacent = not ds or ds == list(range(ds[0], ds[-1] + 1))
    buf = x._storage.data
    if adjacent and x.is_contiguous() and buf.dtype == cnp:
        flat = buf[x._offset:x._offset + x.numel()]
        a, b = (ds[0], ds[-1] + 1) if ds else (len(shp), len(shp))
        return flat, numel(shp[:a]), numel(shp[a:b]), numel(shp[b:])
    if adjacent:
        a, b = (ds[0], ds[-1] + 1) if ds else (len(shp), len(shp))
        return _cast_contiguous(x, cnp), numel(shp[:a]), numel(shp[a:b]), numel(shp[b:])
    keep = [d for d in range(len(shp)) if d not in dims]
    p = x.permute(keep + ds) if not x._requires_grad else x.detach().permute(keep + ds)
    return _cast_contiguous(p, cnp), numel([shp[d] for d in keep]), numel([shp[d] for d in ds]), 1


def _out_shape(shape, dims, keepdim):
    if keepdim:
        return tuple(1 if i in dims else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in dims)


def _acc_dtype(op, x, dtype):
    if dtype is not None:
        return _dt.to_dtype(dtype)
    if op in _INT_TO_LONG and not x.dtype.is_floating_point:
        return _dt.int64
    return x.dtype


def _expand_back(g, shape, dims, keepdim):
    """Broadcast a reduced gradient back over the input shape."""
    if not g._requires_grad:
        # One stride-0 view (what unsqueeze + expand give) without recording anything.
        gs, k, st = g._stride, 0, []
        for d in range(len(shape)):
            if d in dims:
                st.append(0)
                k += keepdim
            else:
                st.append(gs[k] if g._shape[k] != 1 or shape[d] == 1 else 0)
                k += 1
        return g._view_of(shape, st, g._offset)
    if not keepdim:
        for d in sorted(dims):
            g = g.unsqueeze(d)
    return g.expand(shape)


def _new(shape, dt, dev):
    return Tensor._from_buffer(empty_buffer(numel(shape), dt.np, dev), shape, dt, dev)


def _reduce(op, x, dim, keepdim, dtype, out_dt=None, **kw):
    dims = _dims(x, dim)
    acc = _acc_dtype(op, x, dtype)
    odt = out_dt or acc
    if x.numel() == 0 and op in ("max", "min", "amax", "amin"):
        _empty_error(op, x, dims)
    buf, outer, n, inner = _block(x, dims, acc.compute if op not in ("all", "any", "count_nonzero")
                                  else x.dtype.compute)
    shape = _out_shape(x._shape, dims, keepdim)
    res = _new(shape, odt, x.device)
    o = res._storage.data
    tmp = o if o.dtype == (odt.compute if op not in ("all", "any", "count_nonzero") else o.dtype) else \
        empty_buffer(o.shape[0], odt.compute, x.device)
    _kr.reduce(_KERNEL_OP.get(op, op), buf, outer, n, inner, tmp, **kw)
    if tmp is not o:
        copy_flat(tmp, o)
    return res, dims


def _empty_error(op, x, dims):
    name = {"amax": "amax", "amin": "amin"}.get(op, op)
    if len(dims) == x.ndim or x.ndim == 0:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
                           "reduction dim with the 'dim' argument.")
    raise IndexError(f"{name}(): Expected reduction dim {dims[0]} to have non-zero size.")


def _full(dim):
    return dim is None


_ALL = tuple(tuple(range(n)) for n in range(8))


def _all_dims(ndim):
    return _ALL[ndim] if ndim < 8 else tuple(range(ndim))


def _np_aliases(dim, keepdim, axis, keepdims):
    """NumPy's ``axis=``/``keepdims=``, taken inline by the hot ``sum``/``mean`` (no wrapper frame)."""
    if axis is not None:
        if dim is not None:
            raise TypeError("received an invalid combination of arguments - got both 'dim' and 'axis'")
        dim = axis
    return dim, (keepdim if keepdims is None else keepdims)


def sum(x, dim=None, keepdim=False, *, dtype=None, out=None, axis=None, keepdims=None):
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_aliases(dim, keepdim, axis, keepdims)
    res = None
    if dtype is None and out is None:
        res = _fp.reduce_all(x, False) if dim is None else _fp.reduce_dim(x, dim, keepdim, False)
    if res is None:
        res, dims = _reduce("sum", x, dim, keepdim, dtype)
    else:
        dims = _all_dims(x.ndim) if dim is None else (dim % x.ndim,)
    if x._requires_grad and res.dtype.is_floating_point and needs_grad(x):
        shape = x._shape
        record("SumBackward0" if _full(dim) else "SumBackward1", res, (x,),
               lambda node, g: (_expand_back(g, shape, dims, keepdim),))
    return res if out is None else _out(res, out)


def nansum(x, dim=None, keepdim=False, *, dtype=None, out=None):
    res, dims = _reduce("nansum", x, dim, keepdim, dtype)
    if needs_grad(x):
        shape = x._shape
        record("NansumBackward0", res, (x,), lambda node, g: (
            _expand_back(g, shape, dims, keepdim) * (~node.saved_tensors[0].isnan()),), save=(x,))
    return _out(res, out)


def _mean_dtype(x, dtype, name="mean"):
    dt = _dt.to_dtype(dtype) if dtype is not None else x.dtype
    if not dt.is_floating_point:
        raise RuntimeError(f"{name}(): could not infer output dtype. Input dtype must be either a floating point "
                           f"or complex dtype. Got: {dt.short}")
    return dt


def mean(x, dim=None, keepdim=False, *, dtype=None, out=None, axis=None, keepdims=None):
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_aliases(dim, keepdim, axis, keepdims)
    res = None
    if dtype is None and out is None:
        res = _fp.reduce_all(x, True) if dim is None else _fp.reduce_dim(x, dim, keepdim, True)
    if res is None:
        dt = _mean_dtype(x, dtype)
        res, dims = _reduce("mean", x, dim, keepdim, dt)
    else:
        dims = _all_dims(x.ndim) if dim is None else (dim % x.ndim,)
    if x._requires_grad and needs_grad(x):
        shape = x._shape
        n = numel([shape[d] for d in dims])
        record("MeanBackward0" if _full(dim) else "MeanBackward1", res, (x,),
               lambda node, g: (_expand_back(g / n if n else g, shape, dims, keepdim),))
    return res if out is None else _out(res, out)


sum._aliased = mean._aliased = True       # they take the aliases themselves


def nanmean(x, dim=None, keepdim=False, *, dtype=None, out=None):
    dt = _mean_dtype(x, dtype, "nanmean")
    res, dims = _reduce("nanmean", x, dim, keepdim, dt)
    if needs_grad(x):
        nn = (~x.detach().isnan())
        cnt = nn.sum(dims, keepdim=True)
        res2 = (x.nan_to_num(0.0)).sum(dims, keepdim=keepdim) / (cnt if keepdim else cnt.squeeze(dims))
        return _out(res2, out)
    return _out(res, out)


def prod(x, dim=None, keepdim=False, *, dtype=None, out=None):
    if dim is not None and isinstance(dim, (tuple, list)):
        raise TypeError("prod(): argument 'dim' must be int, not tuple")
    res, dims = _reduce("prod", x, dim, keepdim, dtype)
    if res.dtype.is_floating_point and needs_grad(x):
        shape = x._shape

        def bw(node, g):
            xi, y = node.saved_tensors
            gk = _expand_back(g, shape, dims, keepdim)
            if not bool((xi == 0).any()):
                yk = y if keepdim or _full(dim) else y.unsqueeze(dims[0])
                return (gk * _expand_back(yk, shape, dims, True) / xi,)
            # With zeros y / x is 0/0: use the product of the other elements (exact for any number of zeros,
            # and differentiable again), as PyTorch does.
            if _full(dim):
                return (gk * _prod_others(xi.reshape(-1), 0).reshape(shape),)
            return (gk * _prod_others(xi, dims[0]),)
        record("ProdBackward0" if _full(dim) else "ProdBackward1", res, (x,), bw, save=(x,), save_outputs=(0,))
    return _out(res, out)


def _prod_others(x, d):
    """For each element, the product of the other elements along dim ``d`` (exclusive cumprods)."""
    from .joining import cat, flip
    n = x._shape[d]
    xm = x.movedim(d, -1)
    one = xm.narrow(-1, 0, 1).detach() * 0 + 1
    left = cat([one, xm.narrow(-1, 0, n - 1).cumprod(-1)], -1)
    right = cat([flip(flip(xm.narrow(-1, 1, n - 1), (-1,)).cumprod(-1), (-1,)), one], -1)
    return (left * right).movedim(-1, d)


def _out(res, out):
    if out is None:
        return res
    from .ops import _to_out
    return _to_out(res, out)


# -- max/min family ---------------------------------------------------------------------------------

def _arg(op, x, dim, keepdim, want_values=True):
    """(values, indices) along one dim (or flattened when dim is None)."""
    if dim is None:
        flat = x.reshape(-1) if x.ndim != 1 else x
        return _arg(op, flat, 0, False, want_values)
    d = wrap_dim(dim, x.ndim)
    dims = (d,) if x.ndim else ()
    if x.numel() == 0:
        raise IndexError(f"{'argmax' if op == 'argmax' else op}(): Expected reduction dim {d} to have non-zero "
                         "size.")
    buf, outer, n, inner = _block(x, dims, x.dtype.compute)
    shape = _out_shape(x._shape, dims, keepdim)
    vals = _new(shape, x.dtype, x.device) if want_values else None
    idx = _new(shape, _dt.int64, x.device)
    vb = None
    if want_values:
        vb = vals._storage.data if x.dtype.np == x.dtype.compute else empty_buffer(idx.numel(), x.dtype.compute,
                                                                                x.device)
    _kr.arg_reduce(op if op in ("max", "min") else op[3:], buf, outer, n, inner, vb, idx._storage.data)
    if want_values and vb is not vals._storage.data:
        copy_flat(vb, vals._storage.data)
    return vals, idx, d


def _scatter_back(g, idx, shape, d, keepdim):
    from .creation import zeros
    if not keepdim and len(shape):
        g, idx = g.unsqueeze(d), idx.unsqueeze(d)
    z = zeros(shape, dtype=g.dtype, device=g.device)
    return z.scatter(d, idx, g) if len(shape) else g.reshape(shape)


def _maxmin(op, x, dim=None, keepdim=False, *, out=None):
    if dim is None:
        if x.numel() == 0:
            raise RuntimeError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0. Specify "
                               "the reduction dim with the 'dim' argument.")
        res, _ = _reduce(op, x, None, False, None)
        if needs_grad(x):
            record("MaxBackward1" if op == "max" else "MinBackward1", res, (x,), _even_bw, save=(x,),
                   save_outputs=(0,))
        return res
    if isinstance(dim, Tensor):
        from .ops import elementwise
        return elementwise("maximum" if op == "max" else "minimum", x, dim)
    vals, idx, d = _arg(op, x, dim, keepdim)
    if needs_grad(x):
        shape = x._shape
        record("MaxBackward0" if op == "max" else "MinBackward0", (vals, idx), (x,),
               lambda node, g, gi=None: (_scatter_back(g, node.saved_tensors[0], shape, d, keepdim),),
               save=(idx,))
    return (_RT_max if op == "max" else _RT_min)((vals, idx))


def _even_bw(node, g, *_):
    x, y = node.saved_tensors
    ctx = node.ctx
    if ctx is not None:
        dims, keepdim = ctx
        y = _expand_back(y, x.shape, dims, keepdim)
        mask = (x == y)
        cnt = mask.sum(dims, keepdim=True)
        return (_expand_back(g, x.shape, dims, keepdim) * mask / cnt,)
    mask = (x == y)
    return (g * mask / mask.sum(),)


def max(x, dim=None, keepdim=False, *, out=None):
    return _maxmin("max", x, dim, keepdim)


def min(x, dim=None, keepdim=False, *, out=None):
    return _maxmin("min", x, dim, keepdim)


def _amaxmin(op, x, dim=(), keepdim=False, out=None):
    res, dims = _reduce(op, x, dim if dim != () else None, keepdim, None)
    if needs_grad(x):
        record("AmaxBackward0" if op == "amax" else "AminBackward0", res, (x,), _even_bw, save=(x,),
               save_outputs=(0,), ctx=(dims, keepdim))
    return _out(res, out)


def amax(x, dim=(), keepdim=False, *, out=None):
    return _amaxmin("amax", x, dim, keepdim, out)


def amin(x, dim=(), keepdim=False, *, out=None):
    return _amaxmin("amin", x, dim, keepdim, out)


def aminmax(x, *, dim=None, keepdim=False):
    return _RT_aminmax((amin(x, dim if dim is not None else (), keepdim),
                        amax(x, dim if dim is not None else (), keepdim)))


def argmax(x, dim=None, keepdim=False):
    if dim is None and keepdim:
        return argmax(x.reshape(-1), 0).reshape([1] * x.ndim)
    return _arg("argmax", x, dim, keepdim, want_values=False)[1]


def argmin(x, dim=None, keepdim=False):
    if dim is None and keepdim:
        return argmin(x.reshape(-1), 0).reshape([1] * x.ndim)
    return _arg("argmin", x, dim, keepdim, want_values=False)[1]


# -- statistics -------------------------------------------------------------------------------------

def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


def _var_args(dim, unbiased, correction):
    if isinstance(dim, bool):       # var(x, False): legacy positional unbiased
        return None, dim, correction
    return dim, unbiased, correction


def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    dim, unbiased, correction = _var_args(dim, unbiased, correction)
    return _varstd("var", x, dim, _correction(unbiased, correction), keepdim)


def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    dim, unbiased, correction = _var_args(dim, unbiased, correction)
    return _varstd("std", x, dim, _correction(unbiased, correction), keepdim)


def _varstd(op, x, dim, c, keepdim):
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"{op}(): input dtype should be either floating point or complex dtypes. Got "
                           f"{x.dtype.short} instead.")
    res, dims = _reduce(op, x, dim, keepdim, None, correction=c)
    if needs_grad(x):
        shape = x._shape
        n = numel([shape[d] for d in dims])

        def bw(node, g):
            xi, y = node.saved_tensors
            m = xi.mean(dims, keepdim=True)
            gk = _expand_back(g, shape, dims, keepdim)
            if op == "var":
                return (gk * 2 * (xi - m) / (n - c),)
            yk = _expand_back(y, shape, dims, keepdim)
            return (gk * (xi - m) / ((n - c) * yk),)
        record("VarBackward0" if op == "var" else "StdBackward0", res, (x,), bw, save=(x,), save_outputs=(0,))
    return res


def var_mean(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return var(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim)


def std_mean(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return std(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, name="LinalgVectorNormBackward0"):
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{x.dtype.short}")
    p = float(ord)
    res, dims = _reduce("norm", x, dim, keepdim, dtype, p=p)
    if needs_grad(x):
        shape = x._shape

        def bw(node, g):
            xi, y = node.saved_tensors
            gk = _expand_back(g, shape, dims, keepdim)
            yk = _expand_back(y, shape, dims, keepdim)
            if p == 2:
                from .ops import where
                return (where(yk == 0, 0.0, gk * xi / yk),)
            if p == 1:
                return (gk * xi.sign(),)
            if math.isinf(p):
                mask = (xi.abs() == yk)
                return (gk * xi.sign() * mask / mask.sum(dims, keepdim=True),)
            return (gk * xi.sign() * xi.abs() ** (p - 1) / yk ** (p - 1),)
        record(name, res, (x,), bw, save=(x,), save_outputs=(0,))
    return res


def norm(x, p="fro", dim=None, keepdim=False, dtype=None, out=None):
    if p == "fro" or p is None:
        p = 2
    if p == "nuc":
        raise NotImplementedError("nuclear norm is not supported")
    return vector_norm(x, p, dim, keepdim, dtype=dtype)


def logsumexp(x, dim, keepdim=False, *, out=None):
    if not x.dtype.is_floating_point:
        x = x.to(_dt.get_default_dtype())
    res, dims = _reduce("logsumexp", x, dim, keepdim, None)
    if needs_grad(x):
        shape = x._shape
        record("LogsumexpBackward0", res, (x,), lambda node, g: (
            _expand_back(g, shape, dims, keepdim) *
            (node.saved_tensors[0] - _expand_back(node.saved_tensors[1], shape, dims, keepdim)).exp(),),
            save=(x,), save_outputs=(0,))
    return res


def _bool_reduce(op, x, dim, keepdim):
    res, _ = _reduce(op, x, dim, keepdim, None, out_dt=_dt.uint8 if x.dtype is _dt.uint8 else _dt.bool)
    return res


def all(x, dim=None, keepdim=False, *, out=None):
    return _bool_reduce("all", x, dim, keepdim)


def any(x, dim=None, keepdim=False, *, out=None):
    return _bool_reduce("any", x, dim, keepdim)


def count_nonzero(x, dim=None):
    res, _ = _reduce("count_nonzero", x, dim, False, None, out_dt=_dt.int64)
    return res


# Re-exported: numtorch/__init__.py and _methods.py take these from here.
from .scans import (softmax, log_softmax, cumsum, cumprod, cummax, cummin, logcumsumexp)  # noqa: E402,F401
