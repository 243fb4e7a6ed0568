"""Fixed-shape rows: tiny-tensor latency, the tutorial's tiny autograd step, a small MLP training step.

NumPy has no autograd: its column runs a hand-written forward+backward of the same math, which is
both the correctness reference and a floor for what the Python front end costs.
"""
import numpy as np

from .rows import Row, data, register

LR = 0.1
BATCH, D_IN, D_HID, D_OUT = 64, 256, 512, 10
TINY = (2, 8, 8, 4)             # --device cuda --quick: what the CUDA simulator can run in seconds


def _float(dt):
    return dt if np.issubdtype(dt, np.floating) else np.dtype(np.float32)


# -- 2x2 add: per-op latency ------------------------------------------------------------------------

register(Row("add_2x2", "latency", "2x2 a + b (per-op latency)",
             lambda n, dt, rng: (data(rng, (2, 2), dt), data(rng, (2, 2), dt)), {"*": lambda m, a, b: a + b},
             sizes=(4,), fixed=True, shape=lambda a, b: "2x2"))


# -- tutorial autograd step -------------------------------------------------------------------------

def _tiny_step(m):
    x = m.ones(2, 2, requires_grad=True)
    y = x + 2
    z = y * y * 3
    out = z.mean()
    out.backward()
    return x.grad


def _tiny_step_np(m):
    x = np.ones((2, 2), np.float32)
    y = x + 2
    z = y * y * 3
    out = z.mean()
    g = np.full_like(z, 1.0 / z.size)          # d out / d z
    return (g * 3 * 2 * y).astype(np.float32), out


register(Row("autograd_tiny", "autograd", "x=ones(2,2,rg); y=x+2; z=y*y*3; z.mean().backward()",
             lambda n, dt, rng: (), {"*": _tiny_step, "numpy": lambda m: _tiny_step_np(m)[0]}, sizes=(4,),
             fixed=True, shape=lambda: "2x2", float_only=True, on_cuda=False))   # builds its own CPU tensors


# -- MLP training step ------------------------------------------------------------------------------

def _mlp_inputs(n, dt, rng):
    """The standard MLP for n = BATCH * D_IN (its fixed size), the TINY one for smaller n."""
    dt = _float(dt)
    batch, d_in, d_hid, d_out = (BATCH, D_IN, D_HID, D_OUT) if n >= BATCH * D_IN else TINY
    x = data(rng, (batch, d_in), dt)
    y = np.zeros((batch, d_out), dt)
    y[np.arange(batch), rng.integers(0, d_out, batch)] = 1
    w1 = (data(rng, (d_in, d_hid), np.float64) / np.sqrt(d_in)).astype(dt)
    w2 = (data(rng, (d_hid, d_out), np.float64) / np.sqrt(d_hid)).astype(dt)
    return x, y, w1, np.zeros(d_hid, dt), w2, np.zeros(d_out, dt)


def _mlp_prep(lib, m, inputs, device=None):
    """Fresh parameter copies per library (so every library starts its first step from the same point),
    on ``device`` (a ``runner.Device``; None: the CPU). Parameters are leaves on that device."""
    x, y, *params = inputs
    if lib == "numpy":
        return (x, y) + tuple(p.copy() for p in params)
    conv = (lambda a: m.from_numpy(a)) if device is None else (lambda a: device.convert(lib, m, (a,))[0])
    return (conv(x), conv(y)) + tuple(conv(p.copy()).requires_grad_() for p in params)


def _mlp_shape(x, y, w1, b1, w2, b2):
    if x.shape[1] == D_IN:
        return f"b{x.shape[0]}"
    return f"b{x.shape[0]}:{x.shape[1]}-{w1.shape[1]}-{w2.shape[1]}"


def _mlp_step(m, x, y, w1, b1, w2, b2):
    h = (x @ w1 + b1).relu()
    logits = h @ w2 + b2
    loss = -(logits.log_softmax(dim=1) * y).sum() / x.shape[0]
    loss.backward()
    with m.no_grad():
        for p in (w1, b1, w2, b2):
            p -= LR * p.grad
            p.grad = None
    return loss.detach(), w2


def _mlp_step_np(m, x, y, w1, b1, w2, b2):
    z1 = x @ w1 + b1
    h = np.maximum(z1, 0)
    logits = h @ w2 + b2
    mx = logits.max(1, keepdims=True)
    e = np.exp(logits - mx)
    s = e.sum(1, keepdims=True)
    logp = logits - mx - np.log(s)
    loss = -(logp * y).sum() / x.shape[0]
    dlogits = (e / s * y.sum(1, keepdims=True) - y) / x.shape[0]
    dw2, db2 = h.T @ dlogits, dlogits.sum(0)
    dz1 = (dlogits @ w2.T) * (z1 > 0)
    dw1, db1 = x.T @ dz1, dz1.sum(0)
    for p, g in ((w1, dw1), (b1, db1), (w2, dw2), (b2, db2)):
        p -= LR * g
    return np.asarray(loss, x.dtype), w2


register(Row("mlp_step", "autograd",
             f"MLP {D_IN}->{D_HID}->{D_OUT}, batch {BATCH}: fwd, log_softmax loss, backward, SGD (no_grad)",
             _mlp_inputs, {"*": _mlp_step, "numpy": _mlp_step_np}, sizes=(BATCH * D_IN,), fixed=True,
             prep=_mlp_prep, shape=_mlp_shape, float_only=True, rtol=1e-3, atol=1e-5,
             needs=("matmul", "log_softmax", "no_grad"), gpu=True, cuda_quick_sizes=(TINY[0] * TINY[1],)))
