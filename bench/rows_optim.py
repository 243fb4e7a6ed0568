"""Optimizer rows: one ``step()`` over many parameters (numtorch: one multi-tensor kernel per group;
torch: its default implementation, which for CPU tensors is the per-tensor loop (foreach is its default
only on CUDA); NumPy: a per-array loop of the same update).

GB/s counts the bytes an ideal fused step moves: Adam reads param, grad, exp_avg, exp_avg_sq and writes
param, exp_avg, exp_avg_sq (7 x numel x itemsize); SGD with momentum reads param, grad, buffer and writes
param, buffer (5 x). Each library's first step is compared with NumPy's first step.
"""
import numpy as np

from .rows import Row, register

LR, B1, B2, EPS = 1e-3, 0.9, 0.999, 1e-8


def _adam_sizes():
    # 200 geometric sizes 64..65536 (duplicates after rounding kept as distinct tensors): ~2.4M elements
    return np.geomspace(64, 65536, 200).astype(np.int64)


def _make_params(sizes, dt, rng):
    dt = dt if np.issubdtype(dt, np.floating) else np.dtype(np.float32)
    ps = [rng.standard_normal(int(n)).astype(dt) for n in sizes]
    gs = [rng.standard_normal(int(n)).astype(dt) for n in sizes]
    return ps, gs


def _prep(kind, **kw):
    def prep(lib, m, inputs, device=None):
        ps, gs = inputs
        if lib == "numpy":
            state = {"t": 0, "m": [np.zeros_like(p) for p in ps], "v": [np.zeros_like(p) for p in ps]}
            return ([p.copy() for p in ps], gs, state)
        conv = (lambda a: m.from_numpy(a)) if device is None else (lambda a: device.convert(lib, m, (a,))[0])
        params = [conv(p.copy()).requires_grad_() for p in ps]
        for p, g in zip(params, gs):
            p.grad = conv(g)
        return (getattr(m.optim, kind)(params, **kw), params)
    return prep


def _step(m, opt, params):
    opt.step()
    return params[0].detach().clone()


def _adam_np(m, ps, gs, st):
    st["t"] += 1
    t = st["t"]
    for p, g, mm, vv in zip(ps, gs, st["m"], st["v"]):
        mm += (1 - B1) * (g - mm)
        vv *= B2
        vv += (1 - B2) * g * g
        p -= (LR / (1 - B1 ** t)) * mm / (np.sqrt(vv) / np.sqrt(1 - B2 ** t) + EPS)
    return ps[0].copy()


def _sgd_np(m, ps, gs, st):
    first = st["t"] == 0
    st["t"] += 1
    for p, g, b in zip(ps, gs, st["m"]):
        if first:
            b[...] = g
        else:
            b *= 0.9
            b += g
        p -= 0.01 * b
    return ps[0].copy()


def _nbytes(k):
    return lambda inputs, out: k * sum(p.nbytes for p in inputs[0])


register(Row("optim_adam_200", "optim", "Adam step over 200 params, geometric sizes 64..65536 (~2.4M elements)",
             lambda n, dt, rng: _make_params(_adam_sizes(), dt, rng), {"*": _step, "numpy": _adam_np},
             sizes=(int(_adam_sizes().sum()),), fixed=True, prep=_prep("Adam", lr=LR), traffic=_nbytes(7),
             shape=lambda ps, gs: f"{len(ps)} params", float_only=True, rtol=1e-4, atol=1e-6, on_cuda=False))

register(Row("optim_sgd_1000", "optim", "SGD(momentum=0.9) step over 1000 small params (64..1024 elements)",
             lambda n, dt, rng: _make_params(np.random.default_rng(1).integers(64, 1025, 1000), dt, rng),
             {"*": _step, "numpy": _sgd_np}, sizes=(1000,), fixed=True, prep=_prep("SGD", lr=0.01, momentum=0.9),
             traffic=_nbytes(5), shape=lambda ps, gs: f"{len(ps)} params", float_only=True, rtol=1e-5, atol=1e-6,
             on_cuda=False))


def _gpt_shapes():
    """Parameter shapes of bench/rows_rnn.py's GPT-style model (embeddings, pre-norm encoder layers, head)."""
    try:
        from .rows_rnn import GPT_D as D, GPT_LAYERS as L, GPT_T as T, VOCAB as V
    except ImportError:
        D, L, T, V = 128, 2, 64, 65
    layer = [(3 * D, D), (3 * D,), (D, D), (D,), (4 * D, D), (4 * D,), (D, 4 * D), (D,), (D,), (D,), (D,), (D,)]
    return [(V, D), (T, D)] + layer * L + [(D,), (D,), (V, D), (V,)]


def _gpt_params(n, dt, rng):
    dt = dt if np.issubdtype(dt, np.floating) else np.dtype(np.float32)
    shapes = _gpt_shapes()
    return ([rng.standard_normal(s).astype(dt).reshape(-1) for s in shapes],
            [rng.standard_normal(s).astype(dt).reshape(-1) for s in shapes])


def _adamw_np(m, ps, gs, st, wd=0.01):
    for p in ps:
        p *= 1 - LR * wd
    return _adam_np(m, ps, gs, st)


register(Row("optim_adamw_gpt", "optim", "AdamW step over the parameters of bench/rows_rnn.py's GPT-style model",
             _gpt_params, {"*": _step, "numpy": _adamw_np},
             sizes=(sum(int(np.prod(s)) for s in _gpt_shapes()),), fixed=True, prep=_prep("AdamW", lr=LR),
             traffic=_nbytes(7), shape=lambda ps, gs: f"{len(ps)} params", float_only=True, rtol=1e-4, atol=1e-6,
             on_cuda=False))
