"""scaled_dot_product_attention, MultiheadAttention and the Transformer modules against PyTorch and NumPy."""
import warnings

import numpy as np
import pytest

import numtorch
from _twin import twin, twin_raises
from test_rnn_kernels import _np_attention
from test_rnn_layers import set_params


def _sdpa_case(qs, ks, vs, mask=None, causal=False, scale=None, gqa=False, dtype="float64"):
    def case(T):
        rng = np.random.default_rng(0)
        d = getattr(T, dtype)
        q, k, v = (T.tensor(rng.standard_normal(s), dtype=d, requires_grad=True) for s in (qs, ks, vs))
        m = None
        if mask is not None:
            m = T.tensor(mask) if mask.dtype == bool else T.tensor(mask, dtype=d)
        o = T.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m, is_causal=causal, scale=scale,
                                                         enable_gqa=gqa)
        w = T.tensor(np.arange(o.numel()).reshape(tuple(o.shape)) % 7 / 7.0, dtype=d)
        (o * w).sum().backward()
        return [o, q.grad, k.grad, v.grad]
    return case


_MASK = np.random.default_rng(1).random((2, 1, 5, 5)) > 0.3
_MASK[0, 0, 2] = False            # a fully masked row: zero output


@pytest.mark.parametrize("args,kw", [
    (((2, 3, 5, 4), (2, 3, 5, 4), (2, 3, 5, 6)), {}),
    (((2, 3, 7, 4), (2, 3, 5, 4), (2, 3, 5, 6)), dict(causal=True)),
    (((2, 3, 5, 4), (2, 3, 5, 4), (2, 3, 5, 6)), dict(mask=np.random.default_rng(2).standard_normal((5, 5)))),
    (((2, 3, 5, 4), (2, 3, 5, 4), (2, 3, 5, 6)), dict(mask=_MASK)),
    (((2, 4, 5, 4), (2, 2, 5, 4), (2, 2, 5, 6)), dict(gqa=True, scale=0.3)),
    (((5, 4), (5, 4), (5, 4)), {}),
])
def test_sdpa_twin(args, kw):
    res = twin(_sdpa_case(*args, **kw), rtol=1e-7, atol=1e-9, grad_fn=False)
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal(s) for s in args)
    if not kw.get("gqa") and kw.get("scale") is None:
        m = kw.get("mask")
        if m is not None and m.dtype == bool:
            m = np.where(m, 0.0, -np.inf)
        with np.errstate(invalid="ignore"):
            ref = _np_attention(q, k, v, m, kw.get("causal", False))
        np.testing.assert_allclose(res[0].detach().numpy(), np.nan_to_num(ref), atol=1e-12)


def test_sdpa_float32_grad_fn():
    res = twin(_sdpa_case((1, 2, 6, 4), (1, 2, 6, 4), (1, 2, 6, 4), causal=True, dtype="float32"), rtol=1e-5,
               atol=1e-6)
    assert type(res[0].grad_fn).__name__ == "ScaledDotProductFlashAttentionForCpuBackward0"


def test_sdpa_dropout_and_errors():
    q = numtorch.randn(2, 2, 8, 4)
    o = numtorch.nn.functional.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    assert o.shape == (2, 2, 8, 4)
    F = lambda T: T.nn.functional  # noqa: E731
    twin_raises(lambda T: F(T).scaled_dot_product_attention(T.zeros(2, 3, 5, 4), T.zeros(2, 3, 5, 3),
                                                            T.zeros(2, 3, 5, 4)), RuntimeError,
                "Expected size for first two dimensions of batch2 tensor to be: [6, 4] but got: [6, 3].")
    twin_raises(lambda T: F(T).scaled_dot_product_attention(T.zeros(2, 3, 5, 4), T.zeros(2, 2, 5, 4),
                                                            T.zeros(2, 2, 5, 4)), RuntimeError,
                "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 1")
    twin_raises(lambda T: F(T).scaled_dot_product_attention(T.zeros(2, 3, 5, 4), T.zeros(2, 3, 5, 4),
                                                            T.zeros(2, 3, 5, 4),
                                                            attn_mask=T.ones(5, 5, dtype=T.int64)), RuntimeError,
                "Expected attn_mask dtype to be bool or float or to match query dtype, but got attn_mask.dtype: "
                "long int and  query.dtype: float instead.")
    twin_raises(lambda T: F(T).scaled_dot_product_attention(T.zeros(2, 3, 5, 4), T.zeros(2, 3, 5, 4),
                                                            T.zeros(2, 3, 5, 4), attn_mask=T.ones(4, 5)), RuntimeError,
                "The size of tensor a (5) must match the size of tensor b (4) at non-singleton dimension 2")


def _copy_named(m, T, seed=0):
    set_params(m, T, seed, scale=0.3)


MHA = [
    (dict(), dict()),
    (dict(batch_first=True), dict(need_weights=False)),
    (dict(kdim=3, vdim=5, add_bias_kv=True, add_zero_attn=True), dict(average_attn_weights=False)),
    (dict(bias=False), dict(attn_mask="causal", need_weights=False, is_causal=True)),
    (dict(batch_first=True), dict(kpm=True, attn_mask="bool", need_weights=False)),
    (dict(kdim=3, vdim=5, add_bias_kv=True), dict(kpm=True, need_weights=False)),
]


@pytest.mark.parametrize("kw,call", MHA)
def test_multihead_attention(kw, call):
    L, S, B = 4, 5, 3

    def case(T):
        rng = np.random.default_rng(3)
        m = T.nn.MultiheadAttention(8, 2, dtype=T.float64, **kw)
        _copy_named(m, T)
        s = L if call.get("attn_mask") == "causal" else S
        q = T.tensor(rng.standard_normal((L, B, 8)))
        k = q if s == L else T.tensor(rng.standard_normal((S, B, kw.get("kdim", 8))))
        v = q if s == L else T.tensor(rng.standard_normal((S, B, kw.get("vdim", 8))))
        if kw.get("batch_first"):
            q, k, v = (t.transpose(0, 1) for t in (q, k, v))
        c = dict(call)
        if c.get("attn_mask") == "causal":
            c["attn_mask"] = T.nn.Transformer.generate_square_subsequent_mask(L, dtype=T.float64)
        elif c.get("attn_mask") == "bool":
            c["attn_mask"] = T.tensor(rng.random((L, S)) > 0.7)
        if c.pop("kpm", False):
            kp = np.zeros((B, S), bool)
            kp[0, -2:] = True
            c["key_padding_mask"] = T.tensor(kp)
        o, w = m(q, k, v, **c)
        (o.sum() + (w.sum() if w is not None else 0)).backward()
        return [o, w] + [p.grad for p in m.parameters()]
    twin(case, rtol=1e-7, atol=1e-9, grad_fn=False)


def test_mha_repr_names_errors():
    def case(T):
        m = T.nn.MultiheadAttention(8, 2, kdim=4, vdim=6, add_bias_kv=True)
        return repr(m), [n for n, _ in m.named_parameters()], repr(T.nn.MultiheadAttention(8, 2, bias=False))
    twin(case)
    twin_raises(lambda T: T.nn.MultiheadAttention(8, 3), AssertionError, "embed_dim must be divisible by num_heads")
    twin_raises(lambda T: T.nn.MultiheadAttention(8, 2)(T.zeros(4, 2, 8), T.zeros(4, 2, 8), T.zeros(4, 2, 8),
                                                        attn_mask=T.zeros(3, 4)), RuntimeError,
                "The shape of the 2D attn_mask is torch.Size([3, 4]), but should be (4, 4).")


@pytest.mark.parametrize("kw", [dict(), dict(batch_first=True, norm_first=True, activation="gelu")])
def test_transformer_eval(kw):
    def case(T):
        rng = np.random.default_rng(4)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = T.nn.Transformer(8, 2, 2, 2, 16, dropout=0.0, dtype=T.float64, **kw)
        _copy_named(m, T, 5)
        m.eval()
        src = T.tensor(rng.standard_normal((5, 3, 8) if not kw else (3, 5, 8)))
        tgt = T.tensor(rng.standard_normal((4, 3, 8) if not kw else (3, 4, 8)))
        mask = T.nn.Transformer.generate_square_subsequent_mask(4, dtype=T.float64)
        with T.no_grad():
            return m(src, tgt, tgt_mask=mask), mask
    twin(case, rtol=1e-7, atol=1e-9)


def test_encoder_padding_fast_path():
    """Eval with a key padding mask: PyTorch's nested-tensor path returns zeros at padded positions."""
    def case(T):
        rng = np.random.default_rng(6)
        layer = T.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, dtype=T.float64)
        enc = T.nn.TransformerEncoder(layer, 2)
        _copy_named(enc, T, 7)
        enc.eval()
        kp = np.zeros((3, 5), bool)
        kp[1, 3:] = True
        with T.no_grad():
            return enc(T.tensor(rng.standard_normal((3, 5, 8))), src_key_padding_mask=T.tensor(kp))
    res = twin(case, rtol=1e-7, atol=1e-9)
    assert (res[1, 3:].numpy() == 0).all()


def test_transformer_train_grads_and_errors():
    def case(T):
        rng = np.random.default_rng(8)
        layer = T.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, norm_first=True, dtype=T.float64)
        dec = T.nn.TransformerDecoder(layer, 1)
        _copy_named(dec, T, 9)
        tgt = T.tensor(rng.standard_normal((4, 2, 8)), requires_grad=True)
        mem = T.tensor(rng.standard_normal((3, 2, 8)))
        o = dec(tgt, mem, tgt_mask=T.nn.Transformer.generate_square_subsequent_mask(4, dtype=T.float64),
                tgt_is_causal=True)
        (o * o).sum().backward()
        return [o, tgt.grad] + [p.grad for p in dec.parameters()]
    twin(case, rtol=1e-7, atol=1e-9, grad_fn=False)
    twin_raises(lambda T: T.nn.Transformer(8, 2, 1, 1, 16)(T.zeros(5, 3, 8), T.zeros(4, 2, 8)), RuntimeError,
                "the batch number of src and tgt must be equal")
    twin_raises(lambda T: T.nn.TransformerEncoderLayer(8, 2, activation="tanh"), RuntimeError,
                "activation should be relu/gelu, not tanh")


@pytest.mark.parametrize("causal,budget", [(True, 8 * 29 * 2), (False, 8 * 29 * 2), (True, 16)])
def test_sdpa_blocks_and_threads(monkeypatch, causal, budget):
    """Small blocks (several query blocks and slice groups; a budget below one row of scores) and the
    thread split forced on tiny inputs."""
    from numtorch.kernels import attention as K, rnn as KR
    monkeypatch.setattr(K, "BR", 8)
    monkeypatch.setattr(K, "BR_CAUSAL", 8)
    monkeypatch.setattr(K, "SMALL", 0)
    monkeypatch.setattr(K, "BUDGET", budget)
    monkeypatch.setattr(KR, "PAR_WORK", 0)
    mask = None if causal else np.random.default_rng(3).standard_normal((37, 29))
    args = ((2, 3, 37, 8), (2, 3, 29, 8), (2, 3, 29, 5))
    res = twin(_sdpa_case(*args, mask=mask, causal=causal), rtol=1e-7, atol=1e-9, grad_fn=False)
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal(s) for s in args)
    np.testing.assert_allclose(res[0].detach().numpy(), _np_attention(q, k, v, mask, causal), atol=1e-12)
