"""nn-core rows: the module-call overhead of ``Linear(4, 4)`` on a (1, 4) input, and an MLP forward+backward
(64x784 -> 256 -> 128 -> 10, ReLU, cross-entropy) built from nn.Linear modules.

numtorch and torch run the same modules with the same parameter values; NumPy runs the same math by hand
(the correctness reference; for the MLP a hand-written backward)."""
import numpy as np

from .rows import Row, data, register

MLP = (64, 784, 256, 128, 10)
MLP_TINY = (4, 12, 8, 6, 3)       # --device cuda --quick: what the simulator runs in seconds


def _float(dt):
    return dt if np.issubdtype(dt, np.floating) else np.dtype(np.float32)


def _conv(lib, m, device):
    return (lambda a: m.from_numpy(a)) if device is None else (lambda a: device.convert(lib, m, (a,))[0])


def _load(m, lin, w, b, conv):
    with m.no_grad():
        lin.weight.copy_(conv(w))
        lin.bias.copy_(conv(b))


# -- Linear(4, 4) call ------------------------------------------------------------------------------

def _lin_inputs(n, dt, rng):
    dt = _float(dt)
    return data(rng, (1, 4), dt), data(rng, (4, 4), dt), data(rng, (4,), dt)


def _lin_prep(lib, m, inputs, device=None):
    x, w, b = inputs
    if lib == "numpy":
        return inputs
    conv = _conv(lib, m, device)
    lin = m.nn.Linear(4, 4, dtype=getattr(m, str(x.dtype)))
    if device is not None:
        lin = lin.to(conv(x).device)
    _load(m, lin, w, b, conv)
    return lin, conv(x), None


register(Row("linear_call_4x4", "nn", "Linear(4, 4)(x), x (1, 4): module-call overhead", _lin_inputs,
             {"*": lambda m, lin, x, _: lin(x), "numpy": lambda m, x, w, b: x @ w.T + b}, sizes=(16,),
             fixed=True, prep=_lin_prep, shape=lambda x, w, b: "1x4", float_only=True, needs=("nn",)))


# -- MLP forward + backward ---------------------------------------------------------------------------

def _mlp_inputs(n, dt, rng):
    dt = _float(dt)
    batch, *dims = MLP if n >= MLP[0] * MLP[1] else MLP_TINY
    x = data(rng, (batch, dims[0]), dt)
    target = rng.integers(0, dims[-1], batch)
    params = []
    for a, b in zip(dims[:-1], dims[1:]):
        params += [(data(rng, (b, a), np.float64) / np.sqrt(a)).astype(dt),
                   (0.1 * data(rng, (b,), np.float64)).astype(dt)]
    return (x, target) + tuple(params)


def _mlp_prep(lib, m, inputs, device=None):
    x, target, *ps = inputs
    if lib == "numpy":
        return inputs
    conv = _conv(lib, m, device)
    dt = getattr(m, str(x.dtype))
    layers = [m.nn.Linear(w.shape[1], w.shape[0], dtype=dt) for w in ps[0::2]]
    net = m.nn.Sequential(layers[0], m.nn.ReLU(), layers[1], m.nn.ReLU(), layers[2])
    if device is not None:
        net = net.to(conv(x).device)
    for lin, w, b in zip(layers, ps[0::2], ps[1::2]):
        _load(m, lin, w, b, conv)
    return net, conv(x), conv(target)


def _mlp_step(m, net, x, target):
    net.zero_grad()
    loss = m.nn.functional.cross_entropy(net(x), target)
    loss.backward()
    return loss


def _mlp_np(m, x, target, w1, b1, w2, b2, w3, b3):
    z1 = x @ w1.T + b1
    h1 = np.maximum(z1, 0)
    z2 = h1 @ w2.T + b2
    h2 = np.maximum(z2, 0)
    logits = (h2 @ w3.T + b3).astype(np.float64)
    mx = logits.max(1, keepdims=True)
    lse = mx + np.log(np.exp(logits - mx).sum(1, keepdims=True))
    loss = (lse[:, 0] - logits[np.arange(len(target)), target]).mean()
    # backward (computed so the NumPy column does the same work)
    d = np.exp(logits - lse)
    d[np.arange(len(target)), target] -= 1
    d = (d / len(target)).astype(x.dtype)
    _ = h2.T @ d
    d2 = (d @ w3) * (z2 > 0)
    _ = h1.T @ d2
    d1 = (d2 @ w2) * (z1 > 0)
    _ = x.T @ d1
    return np.asarray(loss, x.dtype)


register(Row("mlp_fb_nn", "nn", "nn.Sequential MLP 64x784->256->128->10 (ReLU), cross_entropy, forward + backward",
             _mlp_inputs, {"*": _mlp_step, "numpy": _mlp_np}, sizes=(MLP[0] * MLP[1],), fixed=True, prep=_mlp_prep,
             shape=lambda x, t, *p: "x".join(map(str, x.shape)), float_only=True, rtol=1e-3, atol=1e-5,
             needs=("nn",), gpu=True, cuda_quick_sizes=(MLP_TINY[0] * MLP_TINY[1],)))
