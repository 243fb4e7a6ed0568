"""embedding, embedding_bag (compiled gather / bag reduction with a compiled scatter-add backward) and one_hot.

The weight gradient is dense (also with ``sparse=True``: numtorch has no sparse tensors yet). When the
backward is itself recorded (``create_graph=True``) it is built from ``index_add`` so it is differentiable.
"""
import numpy as np

from ... import dtypes as _dt
from ...autograd.graph import needs_grad, record
from ...autograd.grad_mode import no_grad
from ...kernels import embedding as _ke
from ...storage import empty_buffer
from ...tensor import Tensor
from .normalization import _flat, _is_grad_enabled, _same_device, _tensor

__all__ = ["embedding", "embedding_bag", "one_hot"]

_MODES = {"sum": _ke.MODE_SUM, "mean": _ke.MODE_MEAN, "max": _ke.MODE_MAX}


def _indices(input, what="embedding"):
    """The indices as a flat int64 buffer (Long/Int only, like torch)."""
    if input.dtype not in (_dt.int64, _dt.int32):
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {input.type()} instead (while checking arguments for {what})")
    return _flat(input, np.int64)


def _check_range(idx, num, dev):
    if not idx.size:
        return
    if dev.type == "cuda":
        t = Tensor._from_buffer(idx, (idx.size,), _dt.int64, dev)
        lo, hi = int(t.min().item()), int(t.max().item())
    else:
        lo, hi = int(idx.min()), int(idx.max())
    if lo < 0 or hi >= num:
        raise IndexError("index out of range in self")


def _pad_idx(padding_idx, num):
    if padding_idx is None:
        return None
    if padding_idx > 0:
        assert padding_idx < num, "Padding_idx must be within num_embeddings"
    elif padding_idx < 0:
        assert padding_idx >= -num, "Padding_idx must be within num_embeddings"
        padding_idx = num + padding_idx
    return int(padding_idx)


def _renorm_(weight, idx, max_norm, norm_type):
    """``_no_grad_embedding_renorm_``: rescale (in place) the looked-up rows whose norm exceeds max_norm."""
    rows = np.unique(idx) if not hasattr(idx, "copy_to_host") else np.unique(idx.copy_to_host())
    num, dim = weight.shape
    dev = weight.device
    if dev.type == "cuda":
        from ...kernels.cuda import dev_ints
        rows_b = dev_ints(rows.tolist())
    else:
        rows_b = rows.astype(np.int64)
    with no_grad():
        if weight.is_contiguous() and weight._storage.data.dtype == weight.dtype.np and weight.dtype.np.kind == 'f' \
                and weight.dtype is not _dt.float16:
            buf = weight._storage.data[weight._offset:weight._offset + weight.numel()]
            _ke.embedding_renorm(buf, num, dim, rows_b, max_norm, norm_type)
            weight._bump()
        else:
            tmp = weight.to(_dt.from_numpy_dtype(weight.dtype.compute)).contiguous().clone()
            buf = tmp._storage.data[tmp._offset:tmp._offset + tmp.numel()]
            _ke.embedding_renorm(buf, num, dim, rows_b, max_norm, norm_type)
            weight.copy_(tmp)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """``F.embedding``: rows of ``weight`` looked up by integer ``input`` (EmbeddingBackward0)."""
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    num, dim = weight.shape
    pad = _pad_idx(padding_idx, num)
    _same_device(weight, input)
    idx = _indices(input)
    dev = weight.device
    _check_range(idx, num, dev)
    if max_norm is not None:
        _renorm_(weight, idx, max_norm, norm_type)
    cnp = weight.dtype.compute
    wb = _flat(weight, cnp)
    out = empty_buffer(idx.size * dim, cnp, dev)
    _ke.embedding(wb, num, dim, idx, out)
    shape = tuple(input.shape) + (dim,)
    res = _tensor(out, shape, weight.dtype, dev)
    if needs_grad(weight):
        n = idx.size

        def bw(node, g):
            node.saved_tensors            # raises PyTorch's error if the indices were modified in place
            if _is_grad_enabled():
                it = Tensor._from_buffer(idx, (n,), _dt.int64, dev)
                g2 = g.reshape(n, dim)
                keep = None
                if pad is not None:
                    keep = it.ne(pad)
                if scale_grad_by_freq:
                    cnt = g2.new_zeros(num).index_add(0, it, g2.new_ones(n))
                    f = 1.0 / cnt.index_select(0, it)
                    keep = f if keep is None else f * keep
                if keep is not None:
                    g2 = g2 * keep.to(g2.dtype).unsqueeze(1)
                return (None, g2.new_zeros((num, dim)).index_add(0, it, g2))
            gb = _flat(g, cnp)
            gw = empty_buffer(num * dim, cnp, dev)
            _ke.embedding_backward(gb, idx, num, dim, pad, scale_grad_by_freq, gw)
            return (None, Tensor._from_buffer(gw, (num, dim), _dt.from_numpy_dtype(cnp), dev))
        record("EmbeddingBackward0", res, (input, weight), bw, save=(input,))
    return res


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """``F.embedding_bag``: sums / means / maxima of bags of embeddings (EmbeddingBagBackward0)."""
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, then it "
                         f"must have the same shape as the input ({input.shape})")
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.ndim}")
    dev = weight.device
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             f"fixed length sequences. However, found offsets of type {type(offsets)}")
        B, L = input.shape
        offs = np.arange(0, B * L + 1, max(L, 1), dtype=np.int64) if L else np.zeros(B + 1, np.int64)
        nbags = B
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        o = offsets.detach().cpu()._np().astype(np.int64)
        if o.size and o[0] != 0:
            raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start "
                               f"from position 0. However, got {o[0]}")
        n = input.numel()
        if include_last_offset:
            if not o.size:
                raise RuntimeError("include_last_offset: number of offset should be at least 1")
            nbags = o.size - 1
            offs = o.copy()
        else:
            nbags = o.size
            offs = np.append(o, n)
        if o.size and (np.any(np.diff(offs) < 0) or offs[-1] > n):
            raise RuntimeError(f"offsets has to be a non-decreasing sequence of positions within the input of "
                               f"size {n}, but got {o.tolist()}")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.ndim}")
    if mode not in _MODES:
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max":
        if scale_grad_by_freq:
            raise ValueError("max mode does not support scaling the gradient by the frequency")
        if sparse:
            raise ValueError("max mode does not support sparse weights")
    num, dim = weight.shape
    _same_device(weight, input, offsets if input.ndim == 1 else None, per_sample_weights)
    idx = _indices(input, "embedding_bag")
    _check_range(idx, num, dev)
    if max_norm is not None:
        _renorm_(weight, idx, max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError("embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  "GitHub.")
    pad = None
    if padding_idx is not None:
        pad = padding_idx + num if padding_idx < 0 else padding_idx
    code = _MODES[mode]
    cnp = weight.dtype.compute
    wb = _flat(weight, cnp)
    if dev.type == "cuda":
        from ...kernels.cuda import dev_ints
        offs_b = dev_ints(offs.tolist())
    else:
        offs_b = offs
    psw = _flat(per_sample_weights, cnp) if per_sample_weights is not None else empty_buffer(0, cnp, dev)
    out = empty_buffer(nbags * dim, cnp, dev)
    arg = empty_buffer(nbags * dim, np.int64, dev)
    cnt = empty_buffer(nbags, np.int64, dev)
    _ke.embedding_bag(wb, num, dim, idx, offs_b, nbags, code, psw, pad, out, arg, cnt)
    res = _tensor(out, (nbags, dim), weight.dtype, dev)
    if needs_grad(weight, per_sample_weights):
        def bw(node, g):
            if _is_grad_enabled():
                return _bag_composite(g, weight, per_sample_weights, idx, offs, nbags, code, pad, arg, cnt,
                                      scale_grad_by_freq, num)
            gb = _flat(g, cnp)
            gw = gp = None
            if weight.requires_grad:
                fac = psw
                if scale_grad_by_freq and code != _ke.MODE_MAX:
                    ih = idx if dev.type != "cuda" else idx.copy_to_host()
                    c = np.bincount(ih, minlength=num)
                    f = (1.0 / c[ih]).astype(cnp)
                    if per_sample_weights is not None:
                        ph = psw if dev.type != "cuda" else psw.copy_to_host()
                        f = f * ph
                    fac = f if dev.type != "cuda" else _to_dev(f, dev)
                buf = empty_buffer(num * dim, cnp, dev)
                _ke.embedding_bag_backward(gb, num, dim, idx, offs_b, nbags, code, fac, pad, arg, cnt, buf)
                gw = Tensor._from_buffer(buf, (num, dim), _dt.from_numpy_dtype(cnp), dev)
            if per_sample_weights is not None and per_sample_weights.requires_grad:
                pb = empty_buffer(idx.size, cnp, dev)
                _ke.embedding_bag_psw_grad(gb, _flat(weight, cnp), num, dim, idx, offs_b, nbags, pad, pb)
                gp = Tensor._from_buffer(pb, tuple(per_sample_weights.shape), _dt.from_numpy_dtype(cnp), dev)
            return (gw, gp)
        record("EmbeddingBagBackward0", res, (weight, per_sample_weights), bw)
    return res


def _host(a):
    return a.copy_to_host() if hasattr(a, "copy_to_host") else a


def _bag_composite(g, w, psw, idx, offs, nbags, code, pad, arg, cnt, scale, num):
    """Differentiable gradients of embedding_bag (the backward of a create_graph=True pass)."""
    from ...creation import tensor
    dev = g.device
    ih = _host(idx)
    ks = np.arange(offs[0], offs[nbags], dtype=np.int64)
    bags = np.repeat(np.arange(nbags, dtype=np.int64), np.diff(offs[:nbags + 1]))
    if pad is not None:
        keep = ih[ks] != pad
        ks, bags = ks[keep], bags[keep]
    rows = ih[ks]
    dim = w.shape[1]
    gw = gp = None
    if w.requires_grad:
        if code == _ke.MODE_MAX:
            a = _host(arg).reshape(nbags, dim)
            valid = a >= 0
            gv = g * tensor(valid, dtype=g.dtype, device=dev)
            gw = g.new_zeros((num, dim)).scatter_add(0, tensor(np.where(valid, a, 0), device=dev), gv)
        else:
            f = np.ones(ks.size)
            if code == _ke.MODE_MEAN:
                f = f / _host(cnt)[bags]
            if scale:
                f = f / np.bincount(ih, minlength=num)[rows]
            gk = g.index_select(0, tensor(bags, device=dev)) * tensor(f, dtype=g.dtype, device=dev).unsqueeze(1)
            if psw is not None:
                gk = gk * psw.reshape(-1).index_select(0, tensor(ks, device=dev)).unsqueeze(1)
            gw = g.new_zeros((num, dim)).index_add(0, tensor(rows, device=dev), gk)
    if psw is not None and psw.requires_grad:
        dots = (g.index_select(0, tensor(bags, device=dev)) * w.index_select(0, tensor(rows, device=dev))).sum(1)
        gp = g.new_zeros(psw.numel()).index_add(0, tensor(ks, device=dev), dots).reshape(psw.shape)
    return gw, gp


def _to_dev(a, dev):
    from ...creation import tensor
    return _flat(tensor(a, device=dev), a.dtype)


def one_hot(tensor, num_classes=-1):
    """``F.one_hot``: int64 (*, num_classes) with a 1 at each value's position."""
    if tensor.dtype is not _dt.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    from ...creation import zeros
    n = tensor.numel()
    if num_classes == -1:
        if n == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(tensor.max().item()) + 1
    if n:
        if int(tensor.min().item()) < 0:
            raise RuntimeError("Class values must be non-negative.")
        if int(tensor.max().item()) >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    res = zeros(tuple(tensor.shape) + (num_classes,), dtype=_dt.int64, device=tensor.device)
    if n:
        res.scatter_(-1, tensor.unsqueeze(-1), 1)
    return res


# torch.<name> forms (PyTorch's top-level signatures); numtorch/__init__.py maps them lazily.
def _torch_embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    return embedding(indices, weight, None if padding_idx < 0 else padding_idx, None, 2.0, scale_grad_by_freq,
                     sparse)


TOPLEVEL = {"embedding": _torch_embedding}
