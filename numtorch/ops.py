"""Elementwise dispatch: promote -> broadcast (stride 0) -> kernel -> graph node; plus copy/cast."""
import numbers

import numpy as np

from . import dtypes as _dt
from .autograd.graph import _NO_SAVE, _PLAIN, _save as _graph_save, needs_grad, record, record_op
from .autograd.grad_mode import is_grad_enabled
from .kernels import elementwise as _ew
from .kernels import index as _ix
from .optable import (ALIASES, ALWAYS_BOOL, DEFAULT, INT_ONLY, INT_TO_FLOAT, KEEP_INT, NO_BOOL, OPS, REJECT,
                      SPECIAL)
from .shape import broadcast_shapes, broadcast_strides, contiguous_strides, numel
from .storage import Storage, empty_buffer
from .tensor import Tensor

_SCALARS = (numbers.Number, np.generic)


def _is_scalar(x):
    return isinstance(x, _SCALARS)


def _check_device(*ts):
    """The common device; 0-d CPU tensors act as scalars beside CUDA tensors, as in PyTorch."""
    dev = None
    cpu_0d = True           # every CPU tensor seen so far is 0-d
    for t in ts:
        if isinstance(t, Tensor):
            d = t._storage.device
            if dev is None:
                dev = d
            elif d != dev:
                if d.type == "cpu" and not t._shape:
                    continue
                if dev.type == "cpu" and cpu_0d:
                    dev = d
                    continue
                a, b = (dev, d) if dev.type == "cuda" else (d, dev)
                raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two "
                                   f"devices, {a} and {b}!")
            if t._shape and d.type == "cpu":
                cpu_0d = False
    return dev


def _type_error(label, d):
    raise NotImplementedError(f'"{label}" not implemented for \'{d.short}\'')


_CAT = {0: "b", 1: "i", 2: "f"}


def _fast_rt(operands):
    """result_type for the common cases (same-dtype tensors; tensor with a Python scalar), else None."""
    a = operands[0]
    if a.__class__ is not Tensor or not a._shape:
        return None
    d = a.dtype
    for o in operands[1:]:
        c = o.__class__
        if c is Tensor:
            if o.dtype is not d or not o._shape:
                return None
        elif c is float:
            if not d.is_floating_point:
                return None
        elif c is int:
            if d is _dt.bool:
                return None
        else:
            return None
    return d


def _result_dtypes(op, operands):
    """(compute dtype, output dtype) for an op row and its operands."""
    rt = _fast_rt(operands) or _dt.result_type_of(operands)
    rej = REJECT.get(op.name)
    if rej is not None and _CAT[rt.category] in rej[0]:
        _type_error(rej[1], rt)
    p = op.promote
    if p is DEFAULT or p is KEEP_INT:
        return rt, rt
    if p is INT_TO_FLOAT:
        return (rt, rt) if rt.is_floating_point else (_dt.get_default_dtype(),) * 2
    if p is ALWAYS_BOOL:
        return rt, _dt.bool
    if p is NO_BOOL:
        if rt is _dt.bool:
            if op.arity == 1:
                raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are "
                                   "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
            raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. Use the "
                               "`^` or `logical_xor()` operator instead.")
        return rt, rt
    if p is INT_ONLY:
        if rt.is_floating_point:
            _type_error(op.name + "_cpu", rt)
        return rt, rt
    raise AssertionError(p)


_SCALAR_BUFS = {}
_TILE_MIN = 1 << 16


def _scalar_buffer(x, cnp):
    """A 1-element buffer holding scalar ``x`` in dtype ``cnp`` (cached: kernels only read it)."""
    key = (x.__class__, x, cnp)
    try:
        buf = _SCALAR_BUFS.get(key)
    except TypeError:
        buf = None
    if buf is None:
        buf = _scalar_array(x, cnp)
        # NaN keys never match again, and -0.0 == 0.0 as a key: neither is cached.
        if len(_SCALAR_BUFS) < 512 and x == x and (x or not isinstance(x, (float, np.floating))):
            _SCALAR_BUFS[key] = buf
    return buf


def _scalar_array(x, cnp):
    """PyTorch's conversion of a Python scalar operand: an int goes through int64 (OverflowError beyond
    it) and wraps into a narrower integer dtype (int8 + 1000 == int8 + (-24)); a float beyond a float
    dtype's range becomes inf silently."""
    if isinstance(x, int) and not isinstance(x, bool):
        if not -0x8000000000000000 <= x <= 0x7FFFFFFFFFFFFFFF:
            raise OverflowError("int too big to convert")
        if np.dtype(cnp).kind in "iu":
            return np.array((x,), np.int64).astype(cnp)
    with np.errstate(over="ignore"):
        return np.array((x,), dtype=cnp)


def _operand(x, cnp):
    """(buffer, offset, strides, shape) of a tensor or scalar in the compute NumPy dtype."""
    if isinstance(x, Tensor):
        buf = x._storage.data
        if buf.dtype == cnp:
            return buf, x._offset, x._stride, x._shape
        c = _cast_contiguous(x, cnp)
        return c, 0, contiguous_strides(x._shape), x._shape
    return _scalar_buffer(x, cnp), 0, (), ()


def _cast_contiguous(x, cnp):
    out = empty_buffer(x.numel(), cnp, x._storage.device)
    _ix.copy_strided(x._storage.data, x._offset, x._stride, out, 0, contiguous_strides(x._shape), x._shape)
    return out


def _new_out(shape, dt, dev):
    return Tensor._from_buffer(empty_buffer(numel(shape), dt.np, dev), shape, dt, dev)


def _run(op, operands, shape, cnp, out_dt, dev, params, into=None):
    """Run the kernel over broadcast operands into ``into`` (same shape) or a fresh contiguous tensor."""
    cstr = contiguous_strides(shape)
    if dev.type != "cpu":
        operands = _host_scalars(operands, dev)
    if into is None:
        buf = empty_buffer(numel(shape), out_dt.np, dev)
        res = Tensor._make(Storage(buf, dev), shape, cstr, 0, out_dt)
    else:
        res = into
        buf = res._storage.data
    if buf.dtype == cnp or out_dt is _dt.bool:
        tmp, ooff, ostr = buf, res._offset, res._stride
    else:
        tmp, ooff, ostr = empty_buffer(numel(shape), cnp, dev), 0, cstr
    args = []
    for o in operands:
        b, off, st, shp = _operand(o, cnp)
        if shp == shape and len(st) > 1 and st[-1] not in (0, 1) and numel(shape) >= _TILE_MIN and \
                ostr[-1] == 1 and shape[-1] > 1:
            # A transposed operand walks memory column-wise in the row loop: the tiled copy kernel
            # makes it contiguous faster than the cache misses cost (4096^2 a.T + b: 137 -> ~30 ms).
            b, off, st = _cast_contiguous(o, cnp) if isinstance(o, Tensor) else b, 0, cstr
        args += (b, off, st if shp == shape else broadcast_strides(shp, st, shape))
    n = len(operands)
    if n == 2:
        _ew.binary(op.kernel, *args, tmp, ooff, ostr, shape, *params)
    elif n == 1:
        _ew.unary(op.kernel, *args, tmp, ooff, ostr, shape, *params)
    else:
        _ew.ternary(op.kernel, *args, tmp, ooff, ostr, shape, *params)
    if tmp is not buf:
        _ix.copy_strided(tmp, 0, ostr, buf, res._offset, res._stride, shape)
    return res


def _host_scalars(operands, dev):
    """0-d CPU tensors in a CUDA op act as Python scalars (PyTorch allows exactly those)."""
    return tuple(o.item() if isinstance(o, Tensor) and o._storage.device != dev else o for o in operands)


def _lookup(name):
    op = OPS.get(name) or SPECIAL.get(name)
    if op is None:
        op = OPS[ALIASES[name]]
    return op


def elementwise(name, *operands, out=None, params=(), ctx=None, promote_extra=()):
    """Apply table op ``name`` to tensors/scalars with PyTorch promotion, broadcasting and autograd.
    ``promote_extra`` are scalar parameters that take part in type promotion only (pow's exponent)."""
    if out is None and not promote_extra and len(params) < 2:
        a = operands[0]
        if a.__class__ in _fp._FAST:
            n = len(operands)
            if n == 2:
                r = _fp.binary(name, a, operands[1], params[0] if params else 1.0,
                               ctx if ctx is not None else (params[0] if params else 1))
            elif n == 1:
                r = _fp.unary(name, a, params[0] if params else 0.0,
                              ctx if ctx is not None else (params[0] if params else 1))
            else:
                r = None
            if r is not None:
                return r
    op = _lookup(name)
    dev = _check_device(*operands)
    cdt, odt = _result_dtypes(op, operands + promote_extra)
    if op.promote is KEEP_INT and not cdt.is_floating_point:
        res = operands[0].clone() if op.name != "frac" else None
        return _to_out(res.detach(), out) if out is not None else res.detach()
    shape = _common_shape(operands)
    if out is not None and out._shape == shape and out.dtype is odt and out._storage.device == dev and \
            not needs_grad(*operands, out):
        check_inplace(out)
        _run(op, operands, shape, cdt.compute, odt, dev, params, into=out)
        out._bump()
        return out
    res = _run(op, operands, shape, cdt.compute, odt, dev, params)
    if op.grad_fn and odt.is_floating_point and needs_grad(*operands):
        _record(op, res, operands, ctx if ctx is not None else (params[0] if params else 1))
    if out is not None:
        return _to_out(res, out)
    return res


def _common_shape(operands):
    shape = None
    many = False
    for o in operands:
        if o.__class__ is Tensor or isinstance(o, Tensor):
            if shape is None:
                shape = o._shape
            elif o._shape != shape:
                many = True
    if many:
        return broadcast_shapes(*[o._shape for o in operands if isinstance(o, Tensor)])
    return shape


def _wanted(op, which, operands):
    """Save an input only when the formula that reads it will run (PyTorch saves the same way)."""
    other = op.save_if.get(which)
    return other is None or getattr(operands[other], "_requires_grad", False)


_RECIPES = {}                   # op name -> (((operand, operand whose grad needs it or -1), ...), saves out)


def _recipe(op):
    spec = []
    for s in op.save:
        if s in ("a", "b"):
            c = op.save_if.get(s)
            spec.append((0 if s == "a" else 1, -1 if c is None else c))
    r = _RECIPES[op.name] = (tuple(spec), "out" in op.save)
    return r


def _record(op, res, operands, ctx, saved_self=None):
    spec, save_out = _RECIPES.get(op.name) or _recipe(op)
    saved = ()
    if spec:
        saved = []
        for i, c in spec:
            if c < 0 or getattr(operands[c], "_requires_grad", False):
                t = saved_self if i == 0 and saved_self is not None else operands[i]
                saved.append((t, None, 0, False) if t is None or t.__class__ in _PLAIN else _graph_save(t))
            else:
                saved.append(_NO_SAVE)
        saved = tuple(saved)
    a = operands[0]
    n = len(operands)
    if n > 2 or a.__class__ is not Tensor and not isinstance(a, Tensor):
        inputs = tuple([o if isinstance(o, Tensor) else None for o in operands])
        name = op.grad_fn_tensor if op.grad_fn_tensor and inputs[1] is not None else op.grad_fn
        record(name, res, inputs, op.backward, save=[e[0] for e in saved], ctx=ctx,
               save_outputs=_OUT0 if save_out else ())
        return
    if n == 1:
        b = False
    else:
        b = operands[1]
        if b.__class__ is not Tensor and not isinstance(b, Tensor):
            b = None
    name = op.grad_fn_tensor if op.grad_fn_tensor and b is not None and b is not False else op.grad_fn
    record_op(name, res, a, b, op.backward, saved, ctx, save_out)


_OUT0 = (0,)


def _to_out(res, out):
    if not _dt.can_cast(res.dtype, out.dtype):
        raise RuntimeError(f"result type {res.dtype.short} can't be cast to the desired output type "
                           f"{out.dtype.short}")
    if out._shape != res._shape:
        out.resize_(res._shape)
    copy_(out, res)
    return out


# -- in-place ---------------------------------------------------------------------------------------

def check_inplace(self):
    if is_grad_enabled() and self._requires_grad and self.grad_fn is None:
        if self._base is not None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    if self._base is not None and self._base._requires_grad and self._base.grad_fn is None \
            and is_grad_enabled():
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    for s, st in zip(self._shape, self._stride):
        if st == 0 and s > 1:
            raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                               "single memory location. Please clone() the tensor before performing the operation.")


def inplace(name, self, *others, params=(), ctx=None, promote_extra=()):
    """``self.op_(others)``: writes through views, bumps the version counter, keeps self's dtype."""
    op = _lookup(name)
    _check_device(self, *others)
    check_inplace(self)
    operands = (self,) + others
    cdt, odt = _result_dtypes(op, operands + promote_extra)
    if not _dt.can_cast(odt, self.dtype):
        raise RuntimeError(f"result type {odt.short} can't be cast to the desired output type {self.dtype.short}")
    shape = _common_shape(operands)
    if shape != self._shape:
        raise RuntimeError(f"output with shape {list(self._shape)} doesn't match the broadcast shape "
                           f"{list(shape)}")
    grad = bool(op.grad_fn) and needs_grad(*operands)
    if op.promote is KEEP_INT and not cdt.is_floating_point:
        return self
    orig = self.detach().clone() if grad and "a" in op.save and _wanted(op, "a", operands) else None
    _run(op, operands, shape, cdt.compute, odt, self.device, params, into=self)
    self._bump()
    if grad:
        from .autograd.inplace import rebase_history
        c = ctx if ctx is not None else (params[0] if params else 1)
        rebase_history(self, lambda prev: _record(op, self, (prev,) + others, c, saved_self=orig))
    return self


# -- copies and casts ---------------------------------------------------------------------------------

def _copy_data(dst, src):
    """Strided copy with cast, ``src`` broadcast to ``dst`` (no autograd, no version bump)."""
    if dst._storage.device != src._storage.device:
        from . import cuda as _cuda
        return _cuda.copy_between(dst, src)
    st = broadcast_strides(src._shape, src._stride, dst._shape) if src._shape != dst._shape else src._stride
    _ix.copy_strided(src._storage.data, src._offset, st, dst._storage.data, dst._offset, dst._stride, dst._shape)


def copy_(self, src, non_blocking=False):
    """``self.copy_(src)``: broadcasting and casting copy into self."""
    if not isinstance(src, Tensor):
        from .creation import tensor
        src = tensor(src, dtype=self.dtype)
    shape = broadcast_shapes(self._shape, src._shape)
    if shape != self._shape:
        raise RuntimeError(f"output with shape {list(self._shape)} doesn't match the broadcast shape {list(shape)}")
    check_inplace(self)
    grad = is_grad_enabled() and (src._requires_grad or self._requires_grad)
    _copy_data(self, src)
    self._bump()
    if grad:
        from .autograd.inplace import record_copy
        record_copy(self, src)
    return self


def to_dtype(x, dt, copy=False):
    if x.dtype is dt and not copy:
        return x
    res = _new_out(x._shape, dt, x.device) if x.device.type == "cpu" else _empty_on(x, dt)
    _copy_data(res, x)
    if dt.is_floating_point and x.dtype.is_floating_point and needs_grad(x):
        record("ToCopyBackward0", res, (x,), lambda node, g: (g.to(node._input_meta[0][1]),))
    return res


def _empty_on(x, dt):
    from .creation import empty
    return empty(x._shape, dtype=dt, device=x.device)


_CL_ORDER = {"torch.channels_last": (4, (1, 3, 2, 0)), "torch.channels_last_3d": (5, (1, 4, 3, 2, 0))}


def _is_channels_last(shape, stride, memory_format):
    """PyTorch's channels-last test: strides grow in the order C, W, (H, D), N, size-1 dims skipped."""
    rank, order = _CL_ORDER[memory_format]
    if len(shape) != rank:
        return False
    expected = 1
    for d in order:
        if shape[d] != 1:
            if stride[d] != expected:
                return False
            expected *= shape[d]
    return True


def _cl_strides(shape, memory_format):
    rank, order = _CL_ORDER[memory_format]
    if len(shape) != rank:
        raise RuntimeError(f"required rank {rank} tensor to use {memory_format[6:]} format")
    st = [0] * rank
    acc = 1
    for d in order:
        st[d] = acc
        acc *= shape[d]
    return tuple(st)


def contiguous(x, memory_format=None):
    if x.is_contiguous(memory_format):
        return x
    return clone(x, memory_format)


def clone(x, memory_format=None):
    res = _new_out(x._shape, x.dtype, x.device) if x.device.type == "cpu" else _empty_on(x, x.dtype)
    if memory_format in _CL_ORDER:
        res._stride = _cl_strides(x._shape, memory_format)    # channels-last: NHWC/NDHWC strides, same shape
    _copy_data(res, x)
    if needs_grad(x):
        record("CloneBackward0", res, (x,), lambda node, g: (g,))
    return res


def where(condition, input=None, other=None, *, out=None):
    """``where(cond)`` is nonzero(as_tuple); ``where(cond, a, b)`` picks with broadcasting."""
    if input is None and other is None:
        from .indexing import nonzero
        return nonzero(condition, as_tuple=True)
    if not isinstance(condition, Tensor) or condition.dtype is not _dt.bool:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{getattr(getattr(condition, 'dtype', None), 'short', type(condition).__name__)}")
    dev = _check_device(condition, input, other)
    rt = _dt.result_type_of((input, other))
    shapes = [o._shape for o in (condition, input, other) if isinstance(o, Tensor)]
    shape = broadcast_shapes(*shapes)
    c_buf, c_off, c_st, c_shp = condition._storage.data, condition._offset, condition._stride, condition._shape
    a = _operand(input, rt.compute)
    b = _operand(other, rt.compute)
    res = _new_out(shape, rt, dev)
    tmp = res._storage.data if rt.compute == rt.np else np.empty(res.numel(), dtype=rt.compute)
    _ew.ternary("where", c_buf, c_off, broadcast_strides(c_shp, c_st, shape),
                a[0], a[1], broadcast_strides(a[3], a[2], shape), b[0], b[1], broadcast_strides(b[3], b[2], shape),
                tmp, 0, res._stride, shape)
    if tmp is not res._storage.data:
        res._storage.data[...] = tmp
    ins = (None, input if isinstance(input, Tensor) else None, other if isinstance(other, Tensor) else None)
    if rt.is_floating_point and needs_grad(*ins):
        from .optable import _bw_where
        record("WhereBackward0", res, ins, _bw_where, save=(condition,))
    return _to_out(res, out) if out is not None else res


from . import fastpath as _fp  # noqa: E402 (it reads this module's helpers)
