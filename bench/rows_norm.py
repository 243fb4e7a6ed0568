"""Normalisation / embedding rows: layer_norm forward+backward and embedding forward+backward.

numtorch and torch run the forward and ``autograd.grad`` of the output against a fixed output gradient;
NumPy runs a hand-written forward+backward of the same math (the correctness reference).
"""
import numpy as np

from .rows import Row, data, register

LN_ROWS, LN_N = 4096, 1024
EMB_NUM, EMB_DIM, EMB_IDX = 50_000, 256, 8192
EPS = 1e-5


def _float(dt):
    return dt if np.issubdtype(dt, np.floating) else np.dtype(np.float32)


def _conv(lib, m, device):
    return (lambda a: m.from_numpy(a)) if device is None else (lambda a: device.convert(lib, m, (a,))[0])


# -- layer_norm -------------------------------------------------------------------------------------

def _ln_inputs(n, dt, rng):
    dt = _float(dt)
    rows, cols = (LN_ROWS, LN_N) if n >= LN_ROWS * LN_N else (8, 32)
    return (data(rng, (rows, cols), dt), (1 + 0.1 * data(rng, (cols,), np.float64)).astype(dt),
            data(rng, (cols,), dt), data(rng, (rows, cols), dt))


def _ln_prep(lib, m, inputs, device=None):
    if lib == "numpy":
        return inputs
    conv = _conv(lib, m, device)
    x, w, b, g = inputs
    return (conv(x.copy()).requires_grad_(), conv(w.copy()).requires_grad_(), conv(b.copy()).requires_grad_(),
            conv(g))


def _ln_step(m, x, w, b, g):
    y = m.nn.functional.layer_norm(x, (x.shape[-1],), w, b)
    return m.autograd.grad(y, (x, w, b), g)[0]


def _ln_np(m, x, w, b, g):
    x64 = x.astype(np.float64)
    mu = x64.mean(1, keepdims=True)
    rs = 1 / np.sqrt(x64.var(1, keepdims=True) + EPS)
    xh = (x64 - mu) * rs
    gw = g * w
    dx = rs * (gw - gw.mean(1, keepdims=True) - xh * (gw * xh).mean(1, keepdims=True))
    return dx.astype(x.dtype)


register(Row("layer_norm_fb", "norm", f"layer_norm fwd + autograd.grad (x, w, b), {LN_ROWS}x{LN_N}",
             _ln_inputs, {"*": _ln_step, "numpy": _ln_np}, sizes=(LN_ROWS * LN_N,), fixed=True, prep=_ln_prep,
             shape=lambda x, w, b, g: "x".join(map(str, x.shape)), float_only=True, rtol=1e-3, atol=1e-4,
             needs=("nn",), gpu=True, cuda_quick_sizes=(256,)))


# -- embedding --------------------------------------------------------------------------------------

def _emb_inputs(n, dt, rng):
    dt = _float(dt)
    num, dim, k = (EMB_NUM, EMB_DIM, EMB_IDX) if n >= EMB_NUM * EMB_DIM else (50, 8, 16)
    return data(rng, (num, dim), dt), rng.integers(0, num, k), data(rng, (k, dim), dt)


def _emb_prep(lib, m, inputs, device=None):
    if lib == "numpy":
        return inputs
    conv = _conv(lib, m, device)
    w, idx, g = inputs
    return conv(w.copy()).requires_grad_(), conv(idx), conv(g)


def _emb_step(m, w, idx, g):
    y = m.nn.functional.embedding(idx, w)
    return m.autograd.grad(y, w, g)[0]


def _emb_np(m, w, idx, g):
    out = np.zeros_like(w)
    np.add.at(out, idx, g)
    return out


register(Row("embedding_fb", "norm", f"embedding fwd + autograd.grad(weight), {EMB_NUM}x{EMB_DIM}, {EMB_IDX} indices",
             _emb_inputs, {"*": _emb_step, "numpy": _emb_np}, sizes=(EMB_NUM * EMB_DIM,), fixed=True,
             prep=_emb_prep, shape=lambda w, i, g: f"{w.shape[0]}x{w.shape[1]}:{i.shape[0]}", float_only=True,
             rtol=1e-4, atol=1e-5, needs=("nn",), gpu=True, cuda_quick_sizes=(400,)))
