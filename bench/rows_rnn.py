"""Sequence-model rows: LSTM training step, GRU forward, causal attention forward+backward, a GPT-style
training step and 200-token generation.

Every library builds the same model from the same NumPy parameter arrays (drawn per parameter in
``named_parameters`` order, which numtorch shares with PyTorch). NumPy columns are hand-written references
where they are short (GRU forward, attention); the training/generation rows have none (status "missing")."""
import numpy as np

from .rows import Row, data, register

LSTM_B, LSTM_T, LSTM_IN, LSTM_H = 16, 32, 32, 64
GRU_SHAPE = (32, 128, 128)                      # (batch, steps, features), batch_first
ATT_SHAPE = (8, 8, 512, 64)
GPT_B, GPT_T, GPT_D, GPT_HEADS, GPT_LAYERS, VOCAB = 8, 64, 128, 4, 2, 65
GEN_TOKENS = 200


def _none(*a):
    raise NotImplementedError("no NumPy equivalent")


def _conv(lib, m, device):
    return (lambda a: m.from_numpy(a)) if device is None else (lambda a: device.convert(lib, m, (a,))[0])


def _load(m, module, seed, conv, scale=None):
    """Deterministic parameters: N(0, 1) * scale (default 1/sqrt(fan_in)) per parameter in named order."""
    rng = np.random.default_rng(seed)
    with m.no_grad():
        for _, p in module.named_parameters():
            shape = tuple(p.shape)
            s = scale if scale is not None else (1 / np.sqrt(shape[-1]) if len(shape) > 1 else 0.05)
            p.copy_(conv((rng.standard_normal(shape) * s).astype(str(p.dtype).replace("torch.", ""))))
    return module


def _dev(module, conv, x):
    return module.to(conv(x).device)


# -- LSTM training step -----------------------------------------------------------------------------

def _lstm_inputs(n, dt, rng):
    return (data(rng, (LSTM_B, LSTM_T, LSTM_IN), np.float32), data(rng, (LSTM_B, LSTM_T, 1), np.float32))


def _lstm_prep(lib, m, inputs, device=None):
    if lib == "numpy":
        return inputs
    conv = _conv(lib, m, device)
    x, y = inputs
    lstm = _dev(m.nn.LSTM(LSTM_IN, LSTM_H, batch_first=True), conv, x)
    head = _dev(m.nn.Linear(LSTM_H, 1), conv, x)
    _load(m, lstm, 1, conv)
    _load(m, head, 2, conv)
    params = list(lstm.parameters()) + list(head.parameters())
    opt = m.optim.Adam(params, lr=1e-3) if hasattr(m, "optim") and hasattr(m.optim, "Adam") else None
    return lstm, head, opt, conv(x), conv(y)


def _lstm_step(m, lstm, head, opt, x, y):
    out, _ = lstm(x)
    loss = ((head(out) - y) ** 2).mean()
    if opt is not None:
        opt.zero_grad()
    loss.backward()
    if opt is not None:
        opt.step()
    else:
        with m.no_grad():
            for p in list(lstm.parameters()) + list(head.parameters()):
                p -= 1e-3 * p.grad
                p.grad = None
    return loss.detach()


register(Row("lstm_train_step", "rnn",
             f"LSTM({LSTM_IN}, {LSTM_H}) over ({LSTM_B}, {LSTM_T}) + Linear head, MSE, backward, Adam",
             _lstm_inputs, {"*": _lstm_step, "numpy": _none}, sizes=(LSTM_B * LSTM_T * LSTM_IN,), fixed=True,
             prep=_lstm_prep, shape=lambda x, y: "x".join(map(str, x.shape)), float_only=True, needs=("nn",),
             on_cuda=False))


# -- GRU forward ------------------------------------------------------------------------------------

def _gru_inputs(n, dt, rng):
    return (data(rng, GRU_SHAPE, np.float32),)


def _gru_prep(lib, m, inputs, device=None):
    (x,) = inputs
    if lib == "numpy":
        # the same parameters as the modules get from _load (weight_ih, weight_hh, bias_ih, bias_hh)
        rng = np.random.default_rng(3)
        H, F = GRU_SHAPE[2], GRU_SHAPE[2]
        ps = [(rng.standard_normal(s) * (1 / np.sqrt(s[-1]) if len(s) > 1 else 0.05)).astype(np.float32)
              for s in ((3 * H, F), (3 * H, H), (3 * H,), (3 * H,))]
        return (x,) + tuple(ps)
    conv = _conv(lib, m, device)
    gru = _dev(m.nn.GRU(GRU_SHAPE[2], GRU_SHAPE[2], batch_first=True), conv, x)
    _load(m, gru, 3, conv)
    return gru, conv(x)


def _gru_fwd(m, gru, x):
    with m.no_grad():
        return gru(x)[0]


def _gru_np(m, x, wi, wh, bi, bh):
    B, T, _ = x.shape
    H = wh.shape[1]
    h = np.zeros((B, H), np.float32)
    gi = x @ wi.T + bi
    out = np.empty((B, T, H), np.float32)
    for t in range(T):
        gh = h @ wh.T + bh
        r = 1 / (1 + np.exp(-(gi[:, t, :H] + gh[:, :H])))
        z = 1 / (1 + np.exp(-(gi[:, t, H:2 * H] + gh[:, H:2 * H])))
        nn_ = np.tanh(gi[:, t, 2 * H:] + r * gh[:, 2 * H:])
        h = (1 - z) * nn_ + z * h
        out[:, t] = h
    return out


register(Row("gru_forward", "rnn", "GRU(128, 128) forward over (32, 128, 128) batch_first, no_grad", _gru_inputs,
             {"*": _gru_fwd, "numpy": _gru_np}, sizes=(int(np.prod(GRU_SHAPE)),), fixed=True, prep=_gru_prep,
             shape=lambda x: "x".join(map(str, x.shape)), float_only=True, rtol=1e-3, atol=1e-4, needs=("nn",),
             on_cuda=False))


# -- scaled_dot_product_attention forward + backward --------------------------------------------------

def _att_inputs(n, dt, rng):
    shape = ATT_SHAPE if n >= int(np.prod(ATT_SHAPE)) else (1, 2, 16, 8)
    return tuple(data(rng, shape, np.float32) for _ in range(4))      # q, k, v, output gradient


def _att_prep(lib, m, inputs, device=None):
    if lib == "numpy":
        return inputs
    conv = _conv(lib, m, device)
    q, k, v, g = inputs
    return tuple(conv(a.copy()).requires_grad_() for a in (q, k, v)) + (conv(g),)


def _att_step(m, q, k, v, g):
    o = m.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    return m.autograd.grad(o, (q, k, v), g)[0]


def _att_np(m, q, k, v, g):
    q, k, v, g = (a.astype(np.float64) for a in (q, k, v, g))
    L = q.shape[-2]
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    s = np.where(np.tril(np.ones((L, L), bool)), s, -np.inf)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    dp = g @ np.swapaxes(v, -1, -2)
    ds = p * (dp - (dp * p).sum(-1, keepdims=True)) / np.sqrt(q.shape[-1])
    return (ds @ k).astype(np.float32)


register(Row("sdpa_causal_fb", "attention", "scaled_dot_product_attention(is_causal) fwd + autograd.grad, "
             "(8, 8, 512, 64)", _att_inputs, {"*": _att_step, "numpy": _att_np}, sizes=(int(np.prod(ATT_SHAPE)),),
             fixed=True, prep=_att_prep, shape=lambda q, k, v, g: "x".join(map(str, q.shape)), float_only=True,
             rtol=1e-3, atol=1e-4, needs=("nn",), gpu=True, cuda_quick_sizes=(256,)))


# -- GPT-style model: training step and generation ------------------------------------------------------

def _gpt(m):
    nn = m.nn

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(VOCAB, GPT_D)
            self.pos = nn.Embedding(GPT_T, GPT_D)
            layer = nn.TransformerEncoderLayer(GPT_D, GPT_HEADS, 4 * GPT_D, dropout=0.0, activation="gelu",
                                               batch_first=True, norm_first=True)
            self.blocks = nn.TransformerEncoder(layer, GPT_LAYERS, enable_nested_tensor=False)
            self.ln = nn.LayerNorm(GPT_D)
            self.head = nn.Linear(GPT_D, VOCAB)

        def forward(self, idx):
            T = idx.shape[1]
            x = self.tok(idx) + self.pos(m.arange(T, device=idx.device))
            mask = nn.Transformer.generate_square_subsequent_mask(T, device=idx.device)
            x = self.blocks(x, mask=mask, is_causal=True)
            return self.head(self.ln(x))
    return GPT()


def _gpt_inputs(n, dt, rng):
    idx = rng.integers(0, VOCAB, (GPT_B, GPT_T + 1))
    return idx[:, :-1].copy(), idx[:, 1:].copy()


def _gpt_prep(lib, m, inputs, device=None):
    if lib == "numpy":
        return inputs
    conv = _conv(lib, m, device)
    x, y = inputs
    model = _load(m, _gpt(m), 4, conv)
    opt = m.optim.AdamW(model.parameters(), lr=3e-4) if hasattr(m, "optim") and hasattr(m.optim, "AdamW") else None
    return model, opt, conv(x), conv(y)


def _gpt_step(m, model, opt, x, y):
    logits = model(x)
    loss = m.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))
    if opt is not None:
        opt.zero_grad()
    loss.backward()
    if opt is not None:
        opt.step()
    return loss.detach()


register(Row("gpt_train_step", "attention",
             f"GPT ({GPT_LAYERS} layers, {GPT_D} wide, {GPT_HEADS} heads, vocab {VOCAB}) on {GPT_B}x{GPT_T} tokens: "
             "cross_entropy, backward, AdamW", _gpt_inputs, {"*": _gpt_step, "numpy": _none},
             sizes=(GPT_B * GPT_T,), fixed=True, prep=_gpt_prep, shape=lambda x, y: "x".join(map(str, x.shape)),
             float_only=True, needs=("nn",), on_cuda=False))


def _gen_prep(lib, m, inputs, device=None):
    if lib == "numpy":
        return inputs
    conv = _conv(lib, m, device)
    model = _load(m, _gpt(m), 4, conv)
    model.eval()
    return model, conv(inputs[0][:1, :1].copy())


def _generate(m, model, start):
    idx = start
    with m.no_grad():
        for _ in range(GEN_TOKENS):
            logits = model(idx[:, -GPT_T:])[:, -1, :] / 0.8
            v, _ = m.topk(logits, 10)
            logits = logits.masked_fill(logits < v[:, [-1]], float("-inf"))
            nxt = m.multinomial(m.nn.functional.softmax(logits, dim=-1), 1)
            idx = m.cat([idx, nxt], 1)
    return idx.shape[1]


register(Row("gpt_generate_200", "attention", f"GPT generation of {GEN_TOKENS} tokens one at a time (top-k 10, "
             "temperature 0.8, multinomial)", _gpt_inputs, {"*": _generate, "numpy": _none}, sizes=(GEN_TOKENS,),
             fixed=True, prep=_gen_prep, shape=lambda x, y: f"{GEN_TOKENS} tokens", float_only=True, needs=("nn",),
             on_cuda=False))
