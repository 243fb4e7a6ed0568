"""Softmax and cross-entropy rows: softmax forward and cross_entropy forward+backward, 4096x1000.

numtorch and torch run the same calls; NumPy runs the same math by hand (the correctness reference).
"""
import numpy as np

from .rows import Row, data, register

ROWS, COLS = 4096, 1000


def _float(dt):
    return dt if np.issubdtype(dt, np.floating) else np.dtype(np.float32)


def _conv(lib, m, device):
    return (lambda a: m.from_numpy(a)) if device is None else (lambda a: device.convert(lib, m, (a,))[0])


def _shape(x, *rest):
    return "x".join(map(str, x.shape))


# -- softmax ----------------------------------------------------------------------------------------

def _sm_inputs(n, dt, rng):
    rows, cols = (ROWS, COLS) if n >= ROWS * COLS else (4, 10)
    return (data(rng, (rows, cols), _float(dt)),)


def _sm_np(m, x):
    e = np.exp(x - x.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


register(Row("softmax_rows", "loss", f"softmax(x, dim=1), {ROWS}x{COLS}", _sm_inputs,
             {"*": lambda m, x: m.softmax(x, 1), "numpy": _sm_np}, sizes=(ROWS * COLS,), fixed=True,
             shape=_shape, float_only=True, needs=("softmax",), gpu=True, cuda_quick_sizes=(40,)))


# -- cross entropy forward + backward ----------------------------------------------------------------

def _ce_inputs(n, dt, rng):
    rows, cols = (ROWS, COLS) if n >= ROWS * COLS else (4, 10)
    return data(rng, (rows, cols), _float(dt)), rng.integers(0, cols, rows)


def _ce_prep(lib, m, inputs, device=None):
    if lib == "numpy":
        return inputs
    conv = _conv(lib, m, device)
    x, t = inputs
    return conv(x.copy()).requires_grad_(), conv(t)


def _ce_step(m, x, t):
    loss = m.nn.functional.cross_entropy(x, t)
    return m.autograd.grad(loss, x)[0]


def _ce_np(m, x, t):
    e = np.exp(x - x.max(1, keepdims=True))
    p = e / e.sum(1, keepdims=True)
    p[np.arange(x.shape[0]), t] -= 1
    return (p / x.shape[0]).astype(x.dtype)


register(Row("cross_entropy_fb", "loss", f"cross_entropy fwd + autograd.grad, {ROWS}x{COLS}", _ce_inputs,
             {"*": _ce_step, "numpy": _ce_np}, sizes=(ROWS * COLS,), fixed=True, prep=_ce_prep, shape=_shape,
             float_only=True, rtol=1e-3, atol=1e-7, needs=("nn",), gpu=True, cuda_quick_sizes=(40,)))
