"""Float64 finite-difference gradient check shared by the test suite (independent of numtorch.autograd.gradcheck);
works for inputs on either device."""
import numpy as np

import numtorch as nt


def numeric_grads(fn, inputs, eps=1e-6):
    """Central differences of sum(fn(*inputs) * w) for a fixed random weight w, per input."""
    base = fn(*inputs)
    outs = base if isinstance(base, (tuple, list)) else (base,)
    rng = np.random.default_rng(0)
    ws = [rng.standard_normal(o.shape) for o in outs]

    def scalar(*xs):
        with nt.no_grad():
            r = fn(*xs)
        r = r if isinstance(r, (tuple, list)) else (r,)
        return sum(float((o.detach().double().cpu()._np() * w).sum()) for o, w in zip(r, ws) if o.dtype.is_floating_point)

    grads = []
    for i, x in enumerate(inputs):
        if not (isinstance(x, nt.Tensor) and x.requires_grad):
            grads.append(None)
            continue
        a = x.detach().cpu().numpy().copy()
        g = np.zeros_like(a)
        it = np.nditer(a, flags=["multi_index"])
        for _ in it:
            idx = it.multi_index
            vals = []
            for d in (eps, -eps):
                b = a.copy()
                b[idx] += d
                xs = list(inputs)
                xs[i] = nt.tensor(b, dtype=nt.float64, device=x.device)
                vals.append(scalar(*xs))
            g[idx] = (vals[0] - vals[1]) / (2 * eps)
        grads.append(g)
    return outs, ws, grads


def check_grad(fn, *inputs, atol=1e-5, rtol=1e-3):
    """Compare autograd with finite differences; inputs are float64 tensors (requires_grad where checked)."""
    outs, ws, expected = numeric_grads(fn, inputs)
    outs = fn(*inputs)
    outs = outs if isinstance(outs, (tuple, list)) else (outs,)
    diff = [o for o in outs if o.dtype.is_floating_point and o.requires_grad]
    ts = [x for x in inputs if isinstance(x, nt.Tensor) and x.requires_grad]
    got = nt.autograd.grad(diff, ts, [nt.tensor(w, dtype=o.dtype, device=o.device) for o, w in zip(outs, ws)
                                      if o.dtype.is_floating_point and o.requires_grad], allow_unused=True)
    for g, e in zip(got, [e for e in expected if e is not None]):
        gv = np.zeros_like(e) if g is None else g.detach().cpu().numpy()
        np.testing.assert_allclose(gv, e, atol=atol, rtol=rtol)
