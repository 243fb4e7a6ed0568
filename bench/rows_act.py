"""Activation rows: GELU forward + backward on 2**22 elements (one fused kernel each way).

numtorch and torch run the same calls; NumPy runs the same math by hand (the correctness reference).
"""
import math

import numpy as np

from .rows import Row, data, register

N = 1 << 22
_erf = np.vectorize(math.erf, otypes=[np.float64])


def _float(dt):
    return dt if np.issubdtype(dt, np.floating) else np.dtype(np.float32)


def _inputs(n, dt, rng):
    return (data(rng, (N if n >= N else 4096,), _float(dt)),)


def _prep(lib, m, inputs, device=None):
    if lib == "numpy":
        return inputs
    (x,) = inputs
    t = m.from_numpy(x.copy()) if device is None else device.convert(lib, m, (x.copy(),))[0]
    return (t.requires_grad_(),)


def _step(m, x):
    y = m.nn.functional.gelu(x)
    return m.autograd.grad(y, x, m.ones_like(y))[0]


def _np(m, x):
    # d/dx x * Phi(x) = Phi(x) + x * phi(x); NumPy has no vectorised erf, so this column is only a reference
    v = x.astype(np.float64)
    return (0.5 * (1 + _erf(v / math.sqrt(2))) + v * np.exp(-0.5 * v * v) / math.sqrt(2 * math.pi)).astype(x.dtype)


register(Row("gelu_fb", "activation", "gelu fwd + autograd.grad, 2**22", _inputs, {"*": _step, "numpy": _np},
             sizes=(N,), fixed=True, prep=_prep, shape=lambda x: str(x.shape[0]), float_only=True, rtol=1e-4,
             atol=1e-6, needs=("nn",), gpu=True, cuda_quick_sizes=(4096,)))
