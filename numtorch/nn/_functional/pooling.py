"""Max / average / adaptive / Lp pooling and max_unpool (1-d pools run as 2-d with H=1 then squeeze, as torch).

Each pool is one compiled forward kernel and one backward kernel (numtorch/kernels/pooling.py). Average pools
are linear: the forward and its adjoint are recorded as a pair of differentiable ops, so create_graph
backward (double backward) reuses the same kernels. Max pools save int64 argmax indices; under create_graph
their backward is a differentiable scatter_add."""
import numpy as np

from ...autograd.graph import needs_grad, record
from ...kernels import pooling as _kp
from ...tensor import Tensor

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "max_pool2d_with_indices",
           "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d", "avg_pool3d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d",
           "adaptive_max_pool3d", "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
           "adaptive_max_pool3d_with_indices", "max_unpool1d", "max_unpool2d", "max_unpool3d", "lp_pool1d",
           "lp_pool2d", "lp_pool3d"]


def _tup(v, n):
    if isinstance(v, (list, tuple)):
        v = tuple(int(a) for a in v)
        return v * n if len(v) == 1 else v
    return (int(v),) * n


def _grad_on():
    import numtorch
    return numtorch.is_grad_enabled()


def _pool_out(n, k, s, p, d, ceil):
    out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
    if ceil and (out - 1) * s >= n + p:
        out -= 1
    return out


def _np_in(x):
    """x's elements as a contiguous flat buffer in its compute dtype: a NumPy array on the CPU, a device
    array on CUDA (the kernels' entry points hand device buffers to their CUDA twins)."""
    if x._storage.device.type == "cpu":
        return np.ascontiguousarray(x._np(), dtype=x.dtype.compute).reshape(-1)
    from ... import dtypes as _dt
    t = x.detach()
    if t.dtype.np != t.dtype.compute:
        t = t.to(_dt.float32)
    t = t.contiguous()
    return t._storage.data[t._offset:t._offset + t.numel()]


def _int_in(t):
    """A contiguous flat int64 buffer of an index tensor (host or device)."""
    if t._storage.device.type == "cpu":
        return np.ascontiguousarray(t._np(), dtype=np.int64).reshape(-1)
    t = t.detach().contiguous()
    return t._storage.data[t._offset:t._offset + t.numel()]


def _empty(n, cd, like):
    from ...storage import empty_buffer
    return empty_buffer(int(n), cd, like.device)


def _zeros(n, cd, like):
    if like.device.type == "cpu":
        return np.zeros(int(n), dtype=cd)
    import numtorch
    from ... import dtypes as _dt
    dt = {"float32": _dt.float32, "float64": _dt.float64, "int64": _dt.int64}[np.dtype(cd).name]
    return numtorch.zeros(int(n), dtype=dt, device=like.device)._storage.data


def _wrap(arr, shape, like):
    if arr.dtype != like.dtype.np:
        if like.device.type == "cpu":
            arr = arr.astype(like.dtype.np)
        else:
            from ... import dtypes as _dt
            return Tensor._from_buffer(arr, tuple(shape), _dt.float32, like.device).to(like.dtype)
    return Tensor._from_buffer(arr.reshape(-1), tuple(shape), like.dtype, like.device)


def _geom(P, sp, k, s, p, d, o, a=0, b=0):
    pad = 3 - len(sp)
    return np.array([P, *((1,) * pad + tuple(sp)), *((1,) * pad + tuple(k)), *((1,) * pad + tuple(s)),
                     *((0,) * pad + tuple(p)), *((1,) * pad + tuple(d)), *((1,) * pad + tuple(o)), a, b],
                    dtype=np.int64)


def _check_rank(x, nd, name):
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"non-empty {nd + 1}D or {nd + 2}D (batch mode) tensor expected for input")


def _plan(x, nd, kernel_size, stride, padding, dilation, ceil_mode, is_max):
    k = _tup(kernel_size, nd)
    s = k if (stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0)) else _tup(stride, nd)
    p = _tup(padding, nd)
    d = _tup(dilation, nd)
    if any(v <= 0 for v in k):
        raise RuntimeError("kernel_size must be greater than zero")
    if any(v == 0 for v in s):
        raise RuntimeError("stride should not be zero")
    if any(v <= 0 for v in d):
        names = ["dilationT", "dilationH", "dilationW"][3 - nd:]
        raise RuntimeError("dilation should be greater than zero, but got " +
                           " ".join(f"{n}: {v}" for n, v in zip(names, d)))
    for i in range(nd):
        if is_max and p[i] > ((k[i] - 1) * d[i] + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p[i]}, "
                               f"kernel_size={k[i]} and dilation={d[i]}")
        if not is_max and p[i] > k[i] // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p[i]}, "
                               f"kernel_size={k[i]} and dilation=1" if nd == 2 else
                               "pad should be smaller than or equal to half of kernel size, but got "
                               f"padW = {p[i]}, padH = {p[i]}, kW = {k[i]}, kH = {k[i]}")
    sp = tuple(x.shape[-nd:])
    o = tuple(_pool_out(sp[i], k[i], s[i], p[i], d[i], ceil_mode) for i in range(nd))
    if any(v < 1 for v in o):
        C = x.shape[-nd - 1]
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, (C,) + sp))}). Calculated output size: "
                           f"({'x'.join(map(str, (C,) + o))}). Output size is too small")
    return k, s, p, d, sp, o


# -- max pooling -----------------------------------------------------------------------------------------------
def _max_pool_nd(x, nd, kernel_size, stride, padding, dilation, ceil_mode):
    _check_rank(x, nd, "max_pool")
    k, s, p, d, sp, o = _plan(x, nd, kernel_size, stride, padding, dilation, ceil_mode, True)
    lead = tuple(x.shape[:-nd])
    P = int(np.prod(lead))
    L = int(np.prod(o))
    y = _empty(P * L, x.dtype.compute, x)
    idx = _empty(P * L, np.int64, x)
    _kp.max_pool(_np_in(x), y, idx, _geom(P, sp, k, s, p, d, o))
    out = _wrap(y, lead + o, x)
    from ... import dtypes as _dt
    ind = Tensor._from_buffer(idx, lead + o, _dt.int64, x.device)
    if needs_grad(x):
        shape = tuple(x.shape)
        record(f"MaxPool{nd}DWithIndicesBackward0", out, (x,),
               lambda node, g: (_scatter_back(g, ind, shape, nd),))
    return out, ind


def _scatter_back(g, ind, shape, nd):
    """Input gradient of a max pool (or max_unpool's forward): g scattered onto the argmax positions."""
    if _grad_on():
        import numtorch
        lead = shape[:-nd]
        z = numtorch.zeros(lead + (int(np.prod(shape[-nd:])),), dtype=g.dtype, device=g.device)
        return z.scatter_add(-1, ind.reshape(lead + (-1,)), g.reshape(lead + (-1,))).reshape(shape)
    P = int(np.prod(shape[:-nd]))
    Lin = int(np.prod(shape[-nd:]))
    L = int(np.prod(g.shape[-nd:]))
    gx = _zeros(P * Lin, g.dtype.compute, g)
    _kp.scatter_add_planes(_np_in(g), _int_in(ind), gx, L, Lin, P)
    return _wrap(gx, shape, g)


def _squeeze_pair(r):
    return (r[0].squeeze(-2), r[1].squeeze(-2))


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    if input.ndim not in (2, 3):
        raise RuntimeError(f"max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for "
                           f"input, but got:{list(input.shape)}")
    st = None if stride is None else (1, _tup(stride, 1)[0])
    return _squeeze_pair(_max_pool_nd(input.unsqueeze(-2), 2, (1, _tup(kernel_size, 1)[0]), st,
                                      (0, _tup(padding, 1)[0]), (1, _tup(dilation, 1)[0]), ceil_mode))


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return _max_pool_nd(input, 2, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return _max_pool_nd(input, 3, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    r = max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return r if return_indices else r[0]


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    r = _max_pool_nd(input, 2, kernel_size, stride, padding, dilation, ceil_mode)
    return r if return_indices else r[0]


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    r = _max_pool_nd(input, 3, kernel_size, stride, padding, dilation, ceil_mode)
    return r if return_indices else r[0]


# -- average pooling (a linear op recorded with its adjoint) ------------------------------------------------
def _avg_apply(x, geom, in_shape, out_shape, adjoint, names):
    """adjoint False: avg-pool x (in_shape) -> out_shape; True: its transpose, out_shape -> in_shape."""
    src = _np_in(x)
    if not adjoint:
        y = _empty(int(np.prod(out_shape)), x.dtype.compute, x)
        (_kp.adaptive_pool(src, y, _empty(1, np.int64, x), geom, False)
         if names[2] else _kp.avg_pool(src, y, geom))
        res = _wrap(y, out_shape, x)
    else:
        y = _zeros(int(np.prod(in_shape)), x.dtype.compute, x)
        (_kp.adaptive_avg_backward(src, y, geom) if names[2] else _kp.avg_pool_backward(src, y, geom))
        res = _wrap(y, in_shape, x)
    if needs_grad(x):
        record(names[1] if adjoint else names[0], res, (x,),
               lambda node, g: (_avg_apply(g, geom, in_shape, out_shape, not adjoint, names),))
    return res


def _avg_pool_nd(x, nd, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"non-empty {nd + 1}D or {nd + 2}D (batch mode) tensor expected for input")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    k, s, p, d, sp, o = _plan(x, nd, kernel_size, stride, padding, 1, ceil_mode, False)
    lead = tuple(x.shape[:-nd])
    P = int(np.prod(lead))
    geom = _geom(P, sp, k, s, p, d, o, int(bool(count_include_pad)), int(divisor_override or 0))
    names = (f"AvgPool{nd}DBackward0", f"AvgPool{nd}DBackwardBackward0", False)
    return _avg_apply(x, geom, lead + sp, lead + o, False, names)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    if input.ndim not in (2, 3):
        raise RuntimeError(f"avg_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for "
                           f"input, but got:{list(input.shape)}")
    st = None if stride is None else (1, _tup(stride, 1)[0])
    return _avg_pool_nd(input.unsqueeze(-2), 2, (1, _tup(kernel_size, 1)[0]), st, (0, _tup(padding, 1)[0]),
                        ceil_mode, count_include_pad, None).squeeze(-2)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    return _avg_pool_nd(input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    return _avg_pool_nd(input, 3, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


# -- adaptive pooling ------------------------------------------------------------------------------------------
def _adaptive_size(x, nd, output_size, name):
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got {list(x.shape)}")
    if isinstance(output_size, (list, tuple)):
        os_ = list(output_size)
        if len(os_) == 1 and nd > 1:
            os_ = os_ * nd
    else:
        os_ = [output_size] * nd
    if len(os_) != nd:
        raise RuntimeError(f"{name}: internal error: output_size.size() must be {nd}")
    sp = tuple(x.shape[-nd:])
    return sp, tuple(int(sp[i]) if os_[i] is None else int(os_[i]) for i in range(nd))


def _adaptive_avg_nd(x, nd, output_size):
    sp, o = _adaptive_size(x, nd, output_size, f"adaptive_avg_pool{nd}d")
    if all(v == 1 for v in o) and x.numel() > 0:
        return x.mean(tuple(range(-nd, 0)), keepdim=True)      # torch's shortcut (MeanBackward1)
    lead = tuple(x.shape[:-nd])
    P = int(np.prod(lead))
    geom = _geom(P, sp, (1,) * nd, (1,) * nd, (0,) * nd, (1,) * nd, o)
    names = (f"AdaptiveAvgPool{nd}DBackward0", f"AdaptiveAvgPool{nd}DBackwardBackward0", True)
    return _avg_apply(x, geom, lead + sp, lead + o, False, names)


def adaptive_avg_pool1d(input, output_size):
    if input.ndim not in (2, 3):
        raise RuntimeError(f"adaptive_avg_pool1d(): Expected 2D or 3D tensor, but got {list(input.shape)}")
    return _adaptive_avg_nd(input.unsqueeze(-2), 2, (1, _tup(output_size, 1)[0])).squeeze(-2)


def adaptive_avg_pool2d(input, output_size):
    return _adaptive_avg_nd(input, 2, output_size)


def adaptive_avg_pool3d(input, output_size):
    return _adaptive_avg_nd(input, 3, output_size)


def _adaptive_max_nd(x, nd, output_size):
    sp, o = _adaptive_size(x, nd, output_size, f"adaptive_max_pool{nd}d")
    lead = tuple(x.shape[:-nd])
    P = int(np.prod(lead))
    L = int(np.prod(o))
    y = _empty(P * L, x.dtype.compute, x)
    idx = _empty(P * L, np.int64, x)
    _kp.adaptive_pool(_np_in(x), y, idx, _geom(P, sp, (1,) * nd, (1,) * nd, (0,) * nd, (1,) * nd, o), True)
    out = _wrap(y, lead + o, x)
    from ... import dtypes as _dt
    ind = Tensor._from_buffer(idx, lead + o, _dt.int64, x.device)
    if needs_grad(x):
        shape = tuple(x.shape)
        record(f"AdaptiveMaxPool{nd}DBackward0", out, (x,), lambda node, g: (_scatter_back(g, ind, shape, nd),))
    return out, ind


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    if input.ndim not in (2, 3):
        raise RuntimeError(f"adaptive_max_pool1d(): Expected 2D or 3D tensor, but got {list(input.shape)}")
    return _squeeze_pair(_adaptive_max_nd(input.unsqueeze(-2), 2, (1, _tup(output_size, 1)[0])))


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max_nd(input, 2, output_size)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max_nd(input, 3, output_size)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    r = adaptive_max_pool1d_with_indices(input, output_size)
    return r if return_indices else r[0]


def adaptive_max_pool2d(input, output_size, return_indices=False):
    r = _adaptive_max_nd(input, 2, output_size)
    return r if return_indices else r[0]


def adaptive_max_pool3d(input, output_size, return_indices=False):
    r = _adaptive_max_nd(input, 3, output_size)
    return r if return_indices else r[0]


# -- max_unpool ------------------------------------------------------------------------------------------------
def _unpool_size(input, k, s, p, output_size):
    n = len(k)
    default = [(input.shape[-n + i] - 1) * s[i] + k[i] - 2 * p[i] for i in range(n)]
    if output_size is None:
        return default
    output_size = list(output_size)
    if len(output_size) == n + 2:
        output_size = output_size[2:]
    if len(output_size) != n:
        raise ValueError(f"output_size should be a sequence containing {n} or {n + 2} elements, but it has a length of "
                         f"'{len(output_size)}'")
    for i in range(n):
        lo, hi = default[i] - s[i], default[i] + s[i]
        if not lo < output_size[i] < hi:
            raise ValueError(f'invalid output_size "{output_size}" (dim {i} must be between {lo} and {hi})')
    return [int(v) for v in output_size]


def _max_unpool_nd(input, indices, nd, kernel_size, stride, padding, output_size):
    k = _tup(kernel_size, nd)
    s = k if stride is None else _tup(stride, nd)
    p = _tup(padding, nd)
    o = tuple(_unpool_size(input, k, s, p, output_size))
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({list(input.shape)}) but got indices tensor with shape: {list(indices.shape)}")
    lead = tuple(input.shape[:-nd])
    Lin = int(np.prod(o))
    if indices.numel():
        mx, mn = int(indices.max()), int(indices.min())
        if mn < 0 or mx >= Lin:
            bad = mx if mx >= Lin else mn
            raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                               f"{'x'.join(map(str, o))})")
    ind = _int_in(indices)
    P = int(np.prod(lead))
    L = int(np.prod(input.shape[-nd:]))
    y = _zeros(P * Lin, input.dtype.compute, input)
    _kp.scatter_add_planes(_np_in(input), ind, y, L, Lin, P, assign=True)
    out = _wrap(y, lead + o, input)
    if needs_grad(input):
        idx_t = indices

        def bw(node, g):
            return (g.reshape(lead + (-1,)).gather(-1, idx_t.reshape(lead + (-1,))).reshape(input.shape),)
        record(f"MaxUnpool{nd}DBackward0", out, (input,), bw)
    return out


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    k, s, p = _tup(kernel_size, 1), (None if stride is None else _tup(stride, 1)), _tup(padding, 1)
    os_ = None if output_size is None else list(output_size)[-1:]
    r = _max_unpool_nd(input.unsqueeze(-2), indices.unsqueeze(-2), 2, (1, k[0]),
                       None if s is None else (1, s[0]), (0, p[0]), None if os_ is None else [1] + os_)
    return r.squeeze(-2)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool_nd(input, indices, 2, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool_nd(input, indices, 3, kernel_size, stride, padding, output_size)


# -- Lp pooling (composite, as torch) ------------------------------------------------------------------------
def _lp(out, norm_type, ksize):
    import numtorch
    return (numtorch.sign(out) * numtorch.relu(numtorch.abs(out))).mul(ksize).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    if norm_type == float("inf"):
        return max_pool1d(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = avg_pool1d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return _lp(out, norm_type, _tup(kernel_size, 1)[0])


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    kw, kh = _tup(kernel_size, 2)
    if norm_type == float("inf"):
        return max_pool2d(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = avg_pool2d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return _lp(out, norm_type, kw * kh)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    kd, kw, kh = _tup(kernel_size, 3)
    if norm_type == float("inf"):
        return max_pool3d(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = avg_pool3d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return _lp(out, norm_type, kd * kw * kh)


def _torch_max_pool(fn):
    def f(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
        return fn(input, kernel_size, stride if stride else None, padding, dilation, ceil_mode)
    f.__name__ = fn.__name__
    return f


def _torch_max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return max_pool1d_with_indices(input, kernel_size, stride if stride else None, padding, dilation, ceil_mode)


def _torch_avg_pool1d(input, kernel_size, stride=(), padding=0, ceil_mode=False, count_include_pad=True):
    return avg_pool1d(input, kernel_size, stride if stride else None, padding, ceil_mode, count_include_pad)


# torch.<name> forms (numtorch/__init__.py looks names up here); torch.adaptive_max_pool1d returns (values, indices)
TOPLEVEL = {"max_pool1d": _torch_max_pool(max_pool1d), "max_pool2d": _torch_max_pool(max_pool2d),
            "max_pool3d": _torch_max_pool(max_pool3d), "max_pool1d_with_indices": _torch_max_pool1d_with_indices,
            "avg_pool1d": _torch_avg_pool1d, "adaptive_avg_pool1d": adaptive_avg_pool1d,
            "adaptive_max_pool1d": adaptive_max_pool1d_with_indices}
