"""``F.scaled_dot_product_attention`` (tiled kernel, O(T*d) memory) and ``F.multi_head_attention_forward``."""
import math
import warnings

import numpy as np

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]

_CT = {"int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
       "float32": "float", "float64": "double", "float16": "c10::Half", "bool": "bool"}


def _nt():
    import numtorch
    return numtorch


def _ctype(dt):
    return _CT.get(str(dt).replace("torch.", ""), str(dt))


def _linear(x, w, b=None):
    try:
        from .linear import linear
        return linear(x, w, b)
    except ImportError:
        y = x.matmul(w.t())
        return y if b is None else y + b


def _dropout(x, p, training=True):
    try:
        from .dropout import dropout
        return dropout(x, p, training)
    except ImportError:
        if not training or p == 0:
            return x
        nt = _nt()
        return x * ((nt.rand(x.shape, dtype=x.dtype, device=x.device) >= p).to(x.dtype) / (1 - p))


def _arr(t, shape):
    t = t.detach().contiguous()
    return t._storage.data[t._offset:t._offset + t.numel()].reshape(shape)


def _arr3(t, shape):
    """A read-only NumPy view (N, A, B) of a CPU tensor's elements, without the copy ``_arr`` makes, when
    its batch dims merge into one stride and its rows are BLAS-ready (unit last stride): the kernels only
    hand these to matmul. Anything else (or a device tensor) gets ``_arr``'s contiguous copy."""
    data = t._storage.data
    N, A, B = shape
    st, sz = t.stride(), t.shape
    if not isinstance(data, np.ndarray) or len(st) < 2 or N * A * B == 0 or min(st) < 0:
        return _arr(t, shape)
    if (B > 1 and st[-1] != 1) or (A > 1 and st[-2] < B):
        return _arr(t, shape)
    sn = A * B
    prev = None
    for s, n in zip(reversed(st[:-2]), reversed(tuple(sz[:-2]))):
        if n == 1:
            continue
        if prev is not None and s != prev[0] * prev[1]:
            return _arr(t, shape)
        if prev is None:
            sn = s
        prev = (s, n)
    isz = data.itemsize
    try:
        view = np.ndarray((N, A, B), data.dtype, buffer=data, offset=t._offset * isz,
                          strides=(sn * isz, st[-2] * isz, isz))
    except (TypeError, ValueError, BufferError):
        return _arr(t, shape)
    view.flags.writeable = False
    return view


def _broadcast_check(target, shape):
    nd = len(target)
    for k in range(1, len(shape) + 1):
        a, b = target[-k], shape[-k]
        if b != 1 and a != b:
            raise RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b ({b}) at non-singleton "
                               f"dimension {nd - k}")


def _float_mask(attn_mask, dtype):
    nt = _nt()
    if attn_mask.dtype == nt.bool:
        return nt.zeros(attn_mask.shape, dtype=dtype, device=attn_mask.device).masked_fill(
            attn_mask.logical_not(), float("-inf"))
    return attn_mask.to(dtype)


def _math_sdpa(q, k, v, attn_mask, dropout_p, is_causal, scale):
    """Composite (differentiable, O(T^2) memory) attention: dropout and double backward use it."""
    nt = _nt()
    L, S = q.shape[-2], k.shape[-2]
    s = q.matmul(k.transpose(-2, -1)) * scale
    if is_causal:
        keep = nt.ones(L, S, dtype=nt.bool, device=q.device).tril()
        s = s.masked_fill(keep.logical_not(), float("-inf"))
    if attn_mask is not None:
        s = s + _float_mask(attn_mask, q.dtype)
    p = s.softmax(-1)
    if dropout_p > 0:
        p = _dropout(p, dropout_p, True)
    return p.matmul(v)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(Q K^T * scale + mask) V. Without dropout: a fused tiled kernel storing only the output and
    one logsumexp per row (grad_fn ``ScaledDotProductFlashAttentionForCpuBackward0``)."""
    nt = _nt()
    from ...autograd.graph import record, needs_grad
    from ...kernels import attention as K
    q, k, v = query, key, value
    if q.dim() < 2 or k.dim() < 2 or v.dim() < 2:
        raise RuntimeError("scaled_dot_product_attention: expected query, key and value to be at least 2-D")
    if not q.dtype.is_floating_point:
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{q.dtype} key.dtype: {k.dtype} and value.dtype: {v.dtype} instead.")
    if not (q.dtype == k.dtype == v.dtype):
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got query.dtype: {q.dtype} "
                           f"key.dtype: {k.dtype} and value.dtype: {v.dtype} instead.")
    L, E = q.shape[-2], q.shape[-1]
    S, Ev = k.shape[-2], v.shape[-1]
    batch = tuple(q.shape[:-2])
    if k.shape[-2] != v.shape[-2]:
        raise RuntimeError(f"Expected key and value to have the same sequence length, got {k.shape[-2]} and "
                           f"{v.shape[-2]}")
    kb, vb = tuple(k.shape[:-2]), tuple(v.shape[:-2])
    groups = 1
    if enable_gqa and len(batch) >= 1 and len(kb) == len(batch) and kb and kb[-1] != batch[-1]:
        if batch[-1] % kb[-1] != 0:
            raise RuntimeError("number of heads in key and value must divide the number of heads in query")
        groups = batch[-1] // kb[-1]
        kb = kb[:-1] + (batch[-1],)
        vb = vb[:-1] + (batch[-1],)
    _broadcast_check(batch, kb)
    _broadcast_check(batch, vb)
    N = math.prod(batch)
    if k.shape[-1] != E:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{N}, {E}] but got: "
                           f"[{N}, {k.shape[-1]}].")
    if attn_mask is not None:
        if attn_mask.dtype != nt.bool and not attn_mask.dtype.is_floating_point:
            raise RuntimeError("Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                               f"attn_mask.dtype: {_ctype(attn_mask.dtype)} and  query.dtype: {_ctype(q.dtype)} "
                               "instead.")
        _broadcast_check(batch + (L, S), tuple(attn_mask.shape))
    if scale is None:
        scale = 1.0 / math.sqrt(E) if E else 1.0
    if dropout_p > 0.0 or (attn_mask is not None and needs_grad(attn_mask)):
        # PyTorch's math path too: dropout on the probabilities, or a mask that wants a gradient
        if groups > 1:
            k = k.repeat_interleave(groups, -3)
            v = v.repeat_interleave(groups, -3)
        return _math_sdpa(q, k, v, attn_mask, dropout_p, is_causal, scale)

    half = q.dtype == nt.float16
    cdt = nt.float32 if half else q.dtype

    def expand_kv(t, shp):
        t = t.detach()
        if t.dtype != cdt:
            t = t.to(cdt)
        if groups > 1:
            t = t.repeat_interleave(groups, -3)
        return t if tuple(t.shape[:-2]) == batch else t.expand(batch + tuple(shp))

    q3 = _arr3(q.to(cdt), (N, L, E))
    k3 = _arr3(expand_kv(k, (S, E)), (N, S, E))
    v3 = _arr3(expand_kv(v, (S, Ev)), (N, S, Ev))
    mask = None
    if attn_mask is not None:
        fm = _float_mask(attn_mask.detach(), cdt)
        mb = fm.contiguous() if not fm.is_contiguous() else fm
        full = mb.expand(batch + (L, S))
        st = full.stride()
        offs = np.zeros(batch, dtype=np.int64) if batch else np.zeros((), np.int64)
        for d, n in enumerate(batch):
            sh = [1] * len(batch)
            sh[d] = n
            offs = offs + (np.arange(n, dtype=np.int64) * st[d]).reshape(sh)
        offs = np.ascontiguousarray(offs.reshape(-1), dtype=np.int64) + mb._offset
        mask = (mb._storage.data, offs, int(st[-2]), int(st[-1]))
    out3, lse = K.sdpa_forward(q3, k3, v3, mask, is_causal, scale)
    res = nt.Tensor._from_buffer(out3.reshape(N * L * Ev), batch + (L, Ev), cdt, q.device)
    if half:
        res = res.to(nt.float16)
    if needs_grad(q, k, v):
        qd = q.detach()
        qo, ko, vo = q, k, v
        md = attn_mask.detach() if attn_mask is not None else None
        kshape, vshape = tuple(k.shape), tuple(v.shape)

        def backward(node, g):
            node.saved_tensors      # raises if an input or the output was modified in place since the forward
            if nt.is_grad_enabled():
                # double backward: differentiate the composite formula on the original inputs
                k2, v2 = (ko.repeat_interleave(groups, -3), vo.repeat_interleave(groups, -3)) if groups > 1 \
                    else (ko, vo)
                o = _math_sdpa(qo, k2, v2, md, 0.0, is_causal, scale)
                want = [t for t in (qo, ko, vo) if t.requires_grad]
                got = iter(nt.autograd.grad(o, want, g, create_graph=True, allow_unused=True))
                return tuple(next(got) if t.requires_grad else None for t in (qo, ko, vo))
            do3 = _arr(g.to(cdt), (N, L, Ev))
            dq, dk, dv = K.sdpa_backward(do3, q3, k3, v3, out3, lse, mask, is_causal, scale)
            dqt = nt.Tensor._from_buffer(dq.reshape(N * L * E), batch + (L, E), cdt, qd.device)
            dkt = nt.Tensor._from_buffer(dk.reshape(N * S * E), batch + (S, E), cdt, qd.device)
            dvt = nt.Tensor._from_buffer(dv.reshape(N * S * Ev), batch + (S, Ev), cdt, qd.device)
            if groups > 1:
                hk = kshape[-3]
                dkt = dkt.reshape(batch[:-1] + (hk, groups, S, E)).sum(-3)
                dvt = dvt.reshape(batch[:-1] + (hk, groups, S, Ev)).sum(-3)
            dkt = _sum_to(dkt, kshape)
            dvt = _sum_to(dvt, vshape)
            return dqt, dkt, dvt

        record("ScaledDotProductFlashAttentionForCpuBackward0", res, (q, k, v), backward, save=(q, k, v),
               save_outputs=(0,))
    return res


def _sum_to(g, shape):
    shape = tuple(shape)
    if tuple(g.shape) == shape:
        return g
    lead = g.dim() - len(shape)
    if lead:
        g = g.sum(tuple(range(lead)))
    dims = tuple(i for i, (a, b) in enumerate(zip(g.shape, shape)) if b == 1 and a != 1)
    return g.sum(dims, keepdim=True) if dims else g


# -- multi-head attention ---------------------------------------------------------------------------------

def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError("For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                                 f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError("For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but "
                                 f"found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError("For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                                 f"found {attn_mask.dim()}-D tensor instead")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError("For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                                 f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError("For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D but "
                                 f"found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError("For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                                     f"but found {attn_mask.dim()}-D tensor instead")
            if attn_mask.dim() == 3:
                expected = (num_heads, query.shape[0], key.shape[0])
                if tuple(attn_mask.shape) != expected:
                    raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {attn_mask.shape}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.dim()}-D query "
                         "tensor")


def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    nt = _nt()
    if mask is not None:
        is_float = mask.dtype.is_floating_point
        if mask.dtype != nt.bool and not is_float:
            raise AssertionError(f"only bool and floating types of {mask_name} are supported")
        if check_other and other_type is not None and mask.dtype != other_type:
            warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for "
                          "both instead.", stacklevel=3)
        if not is_float:
            mask = nt.zeros(mask.shape, dtype=target_type, device=mask.device).masked_fill(mask, float("-inf"))
    return mask


def _pad_last(t):
    nt = _nt()
    return nt.cat([t, nt.zeros(tuple(t.shape[:-1]) + (1,), dtype=t.dtype, device=t.device)], -1)


def _in_projection_packed(q, k, v, w, b=None):
    E = q.size(-1)
    if k is v:
        if q is k:
            proj = _linear(q, w, b)
            return proj[..., :E], proj[..., E:2 * E], proj[..., 2 * E:]
        w_q, w_kv = w.split([E, E * 2])
        b_q, b_kv = (None, None) if b is None else b.split([E, E * 2])
        kv = _linear(k, w_kv, b_kv)
        return _linear(q, w_q, b_q), kv[..., :E], kv[..., E:]
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
    return _linear(q, w_q, b_q), _linear(k, w_k, b_k), _linear(v, w_v, b_v)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """PyTorch's multi-head attention forward (sequence-first layout (L, N, E))."""
    nt = _nt()
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                       attn_mask.dtype if attn_mask is not None else None, "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match value's "
                                 f"{value.shape[:2]}")
    elif tuple(key.shape) != tuple(value.shape):
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    else:
        for nm, w in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if w is None:
                raise AssertionError(f"use_separate_proj_weight is True but {nm}_proj_weight is None")
        b_q, b_k, b_v = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
        q, k, v = (_linear(query, q_proj_weight, b_q), _linear(key, k_proj_weight, b_k),
                   _linear(value, v_proj_weight, b_v))
    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")
    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = nt.cat([k, bias_k.repeat(1, bsz, 1)])
        v = nt.cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    else:
        if bias_k is not None:
            raise AssertionError("bias_k is set but bias_v is None")
        if bias_v is not None:
            raise AssertionError("bias_v is set but bias_k is None")
    fast = static_k is None and static_v is None and not add_zero_attn and not need_weights
    if fast:
        # heads as a (bsz, num_heads) view for scaled_dot_product_attention: one reshape each instead of
        # reshape, transpose and reshape again (same values)
        q = q.reshape(tgt_len, bsz, num_heads, head_dim).permute(1, 2, 0, 3)
        k = k.reshape(k.shape[0], bsz, num_heads, head_dim).permute(1, 2, 0, 3)
        v = v.reshape(v.shape[0], bsz, num_heads, head_dim).permute(1, 2, 0, 3)
    else:
        q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
        if static_k is None:
            k = k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
        else:
            if static_k.size(0) != bsz * num_heads:
                raise AssertionError(f"expecting static_k.size(0) of {bsz * num_heads}, but got "
                                     f"{static_k.size(0)}")
            if static_k.size(2) != head_dim:
                raise AssertionError(f"expecting static_k.size(2) of {head_dim}, but got {static_k.size(2)}")
            k = static_k
        if static_v is None:
            v = v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
        else:
            if static_v.size(0) != bsz * num_heads:
                raise AssertionError(f"expecting static_v.size(0) of {bsz * num_heads}, but got "
                                     f"{static_v.size(0)}")
            if static_v.size(2) != head_dim:
                raise AssertionError(f"expecting static_v.size(2) of {head_dim}, but got {static_v.size(2)}")
            v = static_v
    if add_zero_attn:
        zshape = (bsz * num_heads, 1, head_dim)
        k = nt.cat([k, nt.zeros(zshape, dtype=k.dtype, device=k.device)], 1)
        v = nt.cat([v, nt.zeros(zshape, dtype=v.dtype, device=v.device)], 1)
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    src_len = k.size(2) if fast else k.size(1)
    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got "
                                 f"{key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                                 f"{key_padding_mask.shape[1]}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(-1, num_heads, -1, -1).reshape(
            bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0
    if need_weights:
        E = q.shape[-1]
        q_scaled = q * math.sqrt(1.0 / float(E))
        if is_causal and attn_mask is None:
            raise AssertionError("FIXME: is_causal not implemented for need_weights")
        if attn_mask is not None:
            w = nt.baddbmm(attn_mask, q_scaled, k.transpose(-2, -1))
        else:
            w = nt.bmm(q_scaled, k.transpose(-2, -1))
        w = w.softmax(-1)
        if dropout_p > 0.0:
            w = _dropout(w, dropout_p)
        out = nt.bmm(w, v)
        out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = _linear(out, out_proj_weight, out_proj_bias)
        out = out.view(tgt_len, bsz, out.size(1))
        w = w.view(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            w = w.mean(dim=1)
        if not is_batched:
            out = out.squeeze(1)
            w = w.squeeze(0)
        return out, w
    if attn_mask is not None:
        if attn_mask.size(0) == 1 and attn_mask.dim() == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.reshape(bsz, num_heads, -1, src_len)
    if not fast:
        q = q.reshape(bsz, num_heads, tgt_len, head_dim)
        k = k.reshape(bsz, num_heads, src_len, head_dim)
        v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = _linear(out, out_proj_weight, out_proj_bias)
    out = out.view(tgt_len, bsz, out.size(1))
    if not is_batched:
        out = out.squeeze(1)
    return out, None
