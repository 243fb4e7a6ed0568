"""``F.linear`` and ``F.bilinear``.

``linear`` runs one BLAS product of the input rows with W^T and adds the bias in one compiled pass over
the result; small problems run entirely in one compiled kernel (kernels/nnlinear.py). It records one node
named as PyTorch's decomposition names it: AddmmBackward0 (MmBackward0 without bias) for 2-D input, a
ViewBackward0 (UnsafeViewBackward0 / SqueezeBackward4 without bias) over it for other ranks. First-order
backward runs the BLAS products and a compiled column sum on the buffers; under create_graph it is made of
differentiable products, so double backward works."""
import numpy as _np

from ... import dtypes as _dt
from ...autograd.grad_mode import is_grad_enabled
from ...autograd.graph import needs_grad, record
from ...kernels import matmul as _km
from ...kernels import nnlinear as _kn
from ...tensor import Tensor
from ...storage import empty_buffer

__all__ = ["linear", "bilinear"]

_FAST = (_dt.float32, _dt.float64)
_TRANSPOSED_MAX_ROWS = 64      # batch rows up to which the product runs as W @ x^T (see _linear2d)


def _product(a, b, shape, dt, dev):
    r = _km.matmul(a, b)
    flat = _np.ascontiguousarray(r).reshape(-1) if isinstance(r, _np.ndarray) else r.reshape(r.size)
    return Tensor._from_buffer(flat, shape, dt, dev)


def _bw_linear(node, g):
    x, w = node.saved_tensors
    need = node.needs
    if is_grad_enabled() or g.dtype is not x.dtype:
        # create_graph: differentiable products, so the gradient itself has a graph (double backward)
        gx = g.mm(w) if need[0] else None
        gw = g.t().mm(x) if need[1] else None
        gb = g.sum(0) if len(need) > 2 and need[2] else None
        return gx, gw, gb
    # First order: the BLAS products and one compiled column-sum pass, straight on the buffers.
    from ...linalg_ops import _arr
    n, m = g._shape
    k = x._shape[1]
    dt, dev = g.dtype, g._storage.device
    ga = _arr(g)
    gx = _product(ga, _arr(w), (n, k), dt, dev) if need[0] else None
    gw = _product(ga.T, _arr(x), (m, k), dt, dev) if need[1] else None
    gb = None
    if len(need) > 2 and need[2]:
        gc = g if g.is_contiguous() else g.contiguous()
        out = empty_buffer(m, dt.np, dev)
        _kn.col_sum(gc._storage.data[gc._offset:gc._offset + n * m], n, m, out)
        gb = Tensor._from_buffer(out, (m,), dt, dev)
    return gx, gw, gb


def _linear2d(x, weight, bias):
    """x (n, k) @ weight(m, k)^T + bias(m): the fused product, one autograd node."""
    dt = x.dtype
    n, k = x._shape
    m = weight._shape[0]
    dev = x._storage.device
    if n * k * m <= _kn.SMALL_MAX:
        # Small problems: one compiled pass reads x and W where they lie (no BLAS dispatch, no copies).
        flat = empty_buffer(n * m, dt.np, dev)
        xs0, xs1 = x._stride
        ws0, ws1 = weight._stride
        if bias is None:
            b, bo, bs, hasb = flat, 0, 0, False
        else:
            b, bo, bs, hasb = bias._storage.data, bias._offset, bias._stride[0], True
        _kn.linear_small(x._storage.data, x._offset, xs0, xs1, weight._storage.data, weight._offset, ws0, ws1,
                         b, bo, bs, hasb, flat, n, k, m)
    else:
        from ...linalg_ops import _arr
        if bias is None:
            bbuf, boff = None, 0
        elif bias._stride == (1,) or m <= 1:
            bbuf, boff = bias._storage.data, bias._offset
        else:
            bbuf, boff = bias.contiguous()._storage.data, 0
        if n <= _TRANSPOSED_MAX_ROWS and n < m and dev.type == "cpu":
            # Small batch: OpenBLAS runs W @ x^T markedly faster than x @ W^T; one pass lays it out + bias.
            rt = _km.matmul(_arr(weight), _arr(x).T)
            src = _np.ascontiguousarray(rt).reshape(-1)
            flat = empty_buffer(n * m, dt.np, dev)
            _kn.transpose_bias(src, flat, src if bbuf is None else bbuf, boff, bbuf is not None, n, m)
        else:
            r = _km.matmul(_arr(x), _arr(weight).T)
            flat = _np.ascontiguousarray(r).reshape(-1) if isinstance(r, _np.ndarray) else r.reshape(r.size)
            if bbuf is not None:
                _kn.bias_add(flat, bbuf, boff, n, m)
    res = Tensor._from_buffer(flat, (n, m), dt, x._storage.device)
    if x._requires_grad or weight._requires_grad or (bias is not None and bias._requires_grad):
        inputs = (x, weight) if bias is None else (x, weight, bias)
        if needs_grad(*inputs):
            record("MmBackward0" if bias is None else "AddmmBackward0", res, inputs, _bw_linear,
                   save=(x, weight))
    return res


def _dtype_error(input, weight, bias):
    # PyTorch's wording differs between its addmm (bias) and mm (no bias) kernels.
    if bias is None:
        from ...linalg_ops import _CNAME
        return RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_CNAME[input.dtype.name]} != "
                            f"{_CNAME[weight.dtype.name]}")
    return RuntimeError(f"mat1 and mat2 must have the same dtype, but got {input.dtype.short} and "
                        f"{weight.dtype.short}")


def _mat_error(rows, k, weight):
    return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{k} and "
                        f"{weight._shape[1]}x{weight._shape[0]})")


def linear(input, weight, bias=None):
    """y = input @ weight^T + bias over the last dimension of ``input``."""
    shape = input._shape
    nd, wd = len(shape), len(weight._shape)
    if nd == 0 or wd == 0:
        raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are {nd}D and {wd}D")
    dt = input.dtype
    if wd != 2 or dt not in _FAST or (bias is not None and (bias._shape != (weight._shape[0],)
                                                             or bias.dtype is not dt)) \
            or input._storage.device is not weight._storage.device \
            and input._storage.device != weight._storage.device:
        return _generic(input, weight, bias)
    k = shape[-1]
    if dt is not weight.dtype:
        raise _dtype_error(input, weight, bias)
    if k != weight._shape[1]:
        rows = 1
        for s in shape[:-1]:
            rows *= s
        raise _mat_error(rows, k, weight)
    if bias is not None and bias._storage.device is not input._storage.device \
            and bias._storage.device != input._storage.device:
        return _generic(input, weight, bias)
    if nd == 2:
        return _linear2d(input, weight, bias)
    m = weight._shape[0]
    if nd == 1:
        y = _linear2d(input.unsqueeze(0), weight, bias)
        if bias is not None:
            return y.view(m)
        from ...linalg_ops import _unsafe_view
        return _unsafe_view(y, (m,), "SqueezeBackward4")
    out_shape = shape[:-1] + (m,)
    if bias is not None:
        if not input.is_contiguous():
            return _generic(input, weight, bias)
        return _linear2d(input.reshape(-1, k), weight, bias).view(out_shape)
    if not input.is_contiguous():
        return _generic(input, weight, None)
    from ...linalg_ops import _unsafe_view
    return _unsafe_view(_linear2d(input.reshape(-1, k), weight, None), out_shape)


def _generic(input, weight, bias):
    """PyTorch's composite: addmm for 2-D input with bias, else matmul then add (errors from those ops)."""
    from ...linalg_ops import addmm, matmul
    wt = weight.t()
    if input.dtype is not weight.dtype and weight.ndim == 2:
        raise _dtype_error(input, weight, bias)
    if input.ndim == 2 and bias is not None:
        return addmm(bias, input, wt)
    if bias is not None and weight.ndim == 2 and bias.dtype is not weight.dtype and input.is_contiguous():
        # PyTorch runs addmm on a view of contiguous input: its dtype check on the bias
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {bias.dtype.short} and "
                           f"{weight.dtype.short}")
    y = matmul(input, wt)
    return y if bias is None else y.add_(bias)      # in place, as PyTorch: the product's dtype stays


def bilinear(input1, input2, weight, bias=None):
    """y[..., o] = sum_ij input1[..., i] * weight[o, i, j] * input2[..., j] + bias[o]."""
    if input1.ndim == 0 or input2.ndim == 0:
        raise RuntimeError("bilinear(): input dimensions must be at least 1")
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got {list(input1.shape[:-1])} "
                           f"and {list(input2.shape[:-1])}")
    if weight.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be three-dimensional, but got {weight.ndim}")
    if input1.shape[-1] != weight.shape[1]:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got {input1.shape[-1]} "
                           f"but expected {weight.shape[1]}")
    if input2.shape[-1] != weight.shape[2]:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got {input2.shape[-1]} "
                           f"but expected {weight.shape[2]}")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != weight.shape[0]):
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got {bias.shape[0]} but "
                           f"expected {weight.shape[0]}")
    from ...linalg_ops import mm
    lead = tuple(input1.shape[:-1])
    o, i, j = weight.shape
    x1 = input1.reshape(-1, i)
    x2 = input2.reshape(-1, j)
    # (n, i) @ (i, o*j) then a row-wise dot with x2: two BLAS-friendly steps, all differentiable.
    t = mm(x1, weight.permute(1, 0, 2).reshape(i, o * j)).view(-1, o, j)
    y = (t * x2.unsqueeze(1)).sum(-1).view(lead + (o,))     # PyTorch: ViewBackward0 over its _trilinear
    return y if bias is None else y + bias
