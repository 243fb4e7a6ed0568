"""F.pad: constant / reflect / replicate / circular padding (negative pads crop).

Padding is a gather along each padded dim with an index map (reflect/replicate/circular) or a copy into
a filled buffer (constant); its gradient sums the output gradient back through the same map (the centre is
an identity slice, only the border rows add)."""
import numpy as np

from ...autograd.graph import needs_grad, record
from ...tensor import Tensor

__all__ = ["pad"]


def _fmt(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _src_index(n, lo, hi, mode):
    """Index into a length-n axis for each of the lo + n + hi output positions (lo, hi >= 0)."""
    j = np.arange(-lo, n + hi)
    if mode == "reflect":
        if n == 1:
            return np.zeros_like(j)
        period = 2 * (n - 1)
        j = np.abs(j) % period
        return np.where(j >= n, period - j, j)
    if mode == "replicate":
        return np.clip(j, 0, n - 1)
    return j % n                                   # circular


def _crop(x, pads):
    """Narrow away negative pads; returns (tensor, non-negative pads)."""
    nd = len(pads) // 2
    for i in range(nd):
        d = x.ndim - 1 - i
        lo, hi = pads[2 * i], pads[2 * i + 1]
        if lo < 0 or hi < 0:
            start = -lo if lo < 0 else 0
            length = x.shape[d] - start - (-hi if hi < 0 else 0)
            if length < 0:
                raise RuntimeError("narrow(): length must be non-negative.")
            x = x.narrow(d, start, length)
    return x, [max(p, 0) for p in pads]


def _check_mode(input, pad, mode):
    n = len(pad) // 2
    ok = {1: (2, 3), 2: (3, 4), 3: (4, 5)}
    if n not in ok or input.ndim not in ok[n]:
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad)//2 dims of ``input``: pad = (left_last, right_last, left_prev, right_prev, ...)."""
    pad = [int(p) for p in pad]
    if len(pad) % 2 != 0:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {input.ndim}")
    if mode == "constant":
        return _constant(input, pad, 0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    _check_mode(input, pad, mode)
    n = len(pad) // 2
    for i in range(n):
        d = input.ndim - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        size = input.shape[d]
        if mode == "reflect" and (lo >= size or hi >= size):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, but "
                               f"got: padding ({lo}, {hi}) at dimension {d} of input {_fmt(input.shape)}")
        if mode == "circular" and (lo > size or hi > size):
            raise RuntimeError("Padding value causes wrapping around more than once.")
    x, pads = _crop(input, pad)
    idx = []
    for i in range(n):
        d = x.ndim - 1 - i
        idx.append((d, _src_index(x.shape[d], pads[2 * i], pads[2 * i + 1], mode)))
    name = {"reflect": f"ReflectionPad{n}DBackward0", "replicate": f"ReplicationPad{n}DBackward0",
            "circular": "CopySlices"}[mode]
    return _gather(x, idx, name)


def _gather(x, idx, name):
    if x._storage.device.type == "cpu":
        a = x._np()
        for d, ix in idx:
            a = np.take(a, ix, axis=d)
        out = Tensor._from_buffer(np.ascontiguousarray(a).reshape(-1), a.shape, x.dtype, x.device)
    else:
        import numtorch
        with numtorch.no_grad():
            out = x.detach()
            for d, ix in idx:
                out = out.index_select(d, numtorch.tensor(ix, device=x.device))
    if needs_grad(x):
        shape = tuple(x.shape)
        record(name, out, (x,), lambda node, g: (_gather_backward(g, shape, idx),))
    return out


def _gather_backward(g, shape, idx):
    import numtorch
    if numtorch.is_grad_enabled() or g._storage.device.type != "cpu":
        # composite: differentiable index_add per padded dim (double backward)
        for d, ix in reversed(idx):
            z = numtorch.zeros(g.shape[:d] + (shape[d],) + g.shape[d + 1:], dtype=g.dtype, device=g.device)
            g = z.index_add(d, numtorch.tensor(ix, device=g.device), g)
        return g
    a = g._np()
    for d, ix in reversed(idx):
        n = shape[d]
        # identity centre: output positions lo..lo+n-1 read input 0..n-1
        lo = _centre(ix, n)
        sl = [slice(None)] * a.ndim
        sl[d] = slice(lo, lo + n)
        res = np.array(a[tuple(sl)], dtype=a.dtype, copy=True)
        for j in list(range(lo)) + list(range(lo + n, len(ix))):
            s_out = [slice(None)] * a.ndim
            s_out[d] = j
            s_in = [slice(None)] * a.ndim
            s_in[d] = ix[j]
            res[tuple(s_in)] += a[tuple(s_out)]
        a = res
    return Tensor._from_buffer(np.ascontiguousarray(a).reshape(-1), a.shape, g.dtype, g.device)


def _centre(ix, n):
    """The left pad: first output position whose run ix[p:p+n] is 0..n-1."""
    for p in range(len(ix) - n + 1):
        if ix[p] == 0 and (n == 1 or ix[p + 1] == 1) and ix[p + n - 1] == n - 1:
            return p
    return 0


def _constant(input, pad, value):
    n = len(pad) // 2
    x, pads = _crop(input, pad)
    out_shape = list(x.shape)
    for i in range(n):
        d = x.ndim - 1 - i
        out_shape[d] += pads[2 * i] + pads[2 * i + 1]
    import numtorch
    with numtorch.no_grad():
        out = numtorch.full(out_shape, value, dtype=input.dtype, device=input.device)
        view = out
        for i in range(n):
            d = x.ndim - 1 - i
            view = view.narrow(d, pads[2 * i], x.shape[d])
        view.copy_(x)
    if needs_grad(input):
        neg = [-p for p in pad]
        record("ConstantPadNdBackward0", out, (input,), lambda node, g: (_constant(g, neg, 0),))
    return out


def _constant_pad_nd(input, pad, value=0):
    """``torch.constant_pad_nd``."""
    return _constant(input, [int(p) for p in pad], value)


# torch.<name> forms (numtorch/__init__.py looks names up here)
TOPLEVEL = {"constant_pad_nd": _constant_pad_nd}
