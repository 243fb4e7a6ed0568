"""Every optimizer, 10 steps, against a NumPy reference of PyTorch's algorithm and against torch."""
import numpy as np
import pytest

import numtorch

try:
    import torch
except ImportError:
    torch = None

SHAPES = [(3, 4), (5,), (2, 1, 3)]


def _data(dt, seed=0, steps=10):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dt) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(dt) for s in SHAPES] for _ in range(steps)]
    return init, grads


def _run(M, name, kw, init, grads, skip=()):
    ps = [M.tensor(a).requires_grad_() for a in init]
    opt = getattr(M.optim, name)(ps, **kw)
    for k, gs in enumerate(grads):
        for j, (p, g) in enumerate(zip(ps, gs)):
            p.grad = None if (k, j) in skip else M.tensor(g)
        opt.step()
    return [p.detach().numpy().copy() for p in ps], opt


def _np_sgd(init, grads, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False, skip=()):
    ps = [a.copy() for a in init]
    bufs = [None] * len(ps)
    for k, gs in enumerate(grads):
        for j, g in enumerate(gs):
            if (k, j) in skip:
                continue
            g = -g if maximize else g
            if weight_decay:
                g = g + weight_decay * ps[j]
            if momentum:
                bufs[j] = g.copy() if bufs[j] is None else momentum * bufs[j] + (1 - dampening) * g
                g = g + momentum * bufs[j] if nesterov else bufs[j]
            ps[j] = ps[j] - lr * g
    return ps


def _np_adam(init, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, maximize=False,
             decoupled=False):
    b1, b2 = betas
    ps = [a.copy() for a in init]
    m = [np.zeros_like(a) for a in init]
    v = [np.zeros_like(a) for a in init]
    vmax = [np.zeros_like(a) for a in init]
    for t, gs in enumerate(grads, 1):
        for j, g in enumerate(gs):
            g = -g if maximize else g
            if weight_decay:
                if decoupled:
                    ps[j] = ps[j] * (1 - lr * weight_decay)
                else:
                    g = g + weight_decay * ps[j]
            m[j] = b1 * m[j] + (1 - b1) * g
            v[j] = b2 * v[j] + (1 - b2) * g * g
            vv = v[j]
            if amsgrad:
                vmax[j] = np.maximum(vmax[j], v[j])
                vv = vmax[j]
            mhat = m[j] / (1 - b1 ** t)
            ps[j] = ps[j] - lr * mhat / (np.sqrt(vv) / np.sqrt(1 - b2 ** t) + eps)
    return ps


def _close(a, b, dt):
    tol = 2e-5 if dt == "float32" else 1e-12
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=tol, atol=tol)


SGD_CASES = [dict(lr=0.1), dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01),
             dict(lr=0.05, momentum=0.9, nesterov=True, maximize=True)]


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("kw", SGD_CASES)
def test_sgd_vs_numpy_and_torch(dt, kw):
    init, grads = _data(dt)
    skip = {(2, 1), (3, 1), (5, 0)}        # parameters without a gradient are skipped
    mine, _ = _run(numtorch, "SGD", kw, init, grads, skip)
    _close(mine, _np_sgd(init, grads, skip=skip, **kw), dt)
    if torch is not None:
        _close(mine, _run(torch, "SGD", kw, init, grads, skip)[0], dt)


ADAM_CASES = [("Adam", dict(lr=0.01)), ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1, maximize=True)),
              ("AdamW", dict(lr=0.01)), ("AdamW", dict(lr=0.01, amsgrad=True, weight_decay=0.05))]


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("name,kw", ADAM_CASES)
def test_adam_vs_numpy_and_torch(dt, name, kw):
    init, grads = _data(dt, 1)
    mine, opt = _run(numtorch, name, kw, init, grads)
    ref_kw = dict(kw, decoupled=name == "AdamW")
    if name == "AdamW":
        ref_kw.setdefault("weight_decay", 0.01)
    _close(mine, _np_adam(init, grads, **ref_kw), dt)
    st = opt.state[opt.param_groups[0]["params"][0]]
    assert st["step"].item() == 10.0 and st["step"].dtype == numtorch.float32 and st["step"].dim() == 0
    if torch is not None:
        _close(mine, _run(torch, name, kw, init, grads)[0], dt)


OTHER_CASES = [
    ("Adamax", dict(lr=0.01, weight_decay=0.1)), ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1)), ("RAdam", dict(lr=0.01, decoupled_weight_decay=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01)), ("RMSprop", dict(lr=0.01, centered=True, momentum=0.9, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1, weight_decay=0.1)),
    ("Adadelta", dict(weight_decay=0.1, maximize=True)), ("Rprop", dict(lr=0.01)),
    ("ASGD", dict(lr=0.01, t0=3, weight_decay=0.1))]


def _np_reference(name, init, grads, kw):
    """PyTorch's documented algorithms (docs.pytorch.org/docs/stable/optim.html), one array at a time."""
    lr = kw.get("lr")
    wd = kw.get("weight_decay", 0.0)
    maximize = kw.get("maximize", False)
    ps = [a.copy() for a in init]
    st = [{} for _ in ps]
    for t, gs in enumerate(grads, 1):
        for j, g in enumerate(gs):
            g = -g if maximize else g
            p, s = ps[j], st[j]
            decoupled = kw.get("decoupled_weight_decay", False)
            if wd and name in ("NAdam", "RAdam") and decoupled:
                p = p * (1 - lr * wd)
            elif wd:
                g = g + wd * p
            if name == "Adamax":
                b1, b2 = kw.get("betas", (0.9, 0.999))
                m = s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
                u = s["u"] = np.maximum(b2 * s.get("u", 0), np.abs(g) + kw.get("eps", 1e-8))
                p = p - lr / (1 - b1 ** t) * m / u
            elif name == "NAdam":
                b1, b2, psi = 0.9, 0.999, kw.get("momentum_decay", 4e-3)
                mu = b1 * (1 - 0.5 * 0.96 ** (t * psi))
                mu1 = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
                prod = s["prod"] = s.get("prod", 1.0) * mu
                m = s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
                v = s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
                den = np.sqrt(v / (1 - b2 ** t)) + 1e-8
                p = p - lr * (1 - mu) / (1 - prod) * g / den - lr * mu1 / (1 - prod * mu1) * m / den
            elif name == "RAdam":
                b1, b2 = 0.9, 0.999
                m = s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
                v = s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
                mhat = m / (1 - b1 ** t)
                rinf = 2 / (1 - b2) - 1
                rt = rinf - 2 * t * b2 ** t / (1 - b2 ** t)
                if rt > 5:
                    lt = np.sqrt(1 - b2 ** t) / (np.sqrt(v) + 1e-8)
                    rect = np.sqrt((rt - 4) * (rt - 2) * rinf / ((rinf - 4) * (rinf - 2) * rt))
                    p = p - lr * mhat * lt * rect
                else:
                    p = p - lr * mhat
            elif name == "RMSprop":
                alpha, eps, mom = kw.get("alpha", 0.99), 1e-8, kw.get("momentum", 0)
                v = s["v"] = alpha * s.get("v", 0) + (1 - alpha) * g * g
                vt = v
                if kw.get("centered"):
                    ga = s["ga"] = alpha * s.get("ga", 0) + (1 - alpha) * g
                    vt = v - ga * ga
                if mom:
                    b = s["b"] = mom * s.get("b", 0) + g / (np.sqrt(vt) + eps)
                    p = p - lr * b
                else:
                    p = p - lr * g / (np.sqrt(vt) + eps)
            elif name == "Adagrad":
                clr = lr / (1 + (t - 1) * kw.get("lr_decay", 0))
                acc = s["acc"] = s.get("acc", kw.get("initial_accumulator_value", 0)) + g * g
                p = p - clr * g / (np.sqrt(acc) + 1e-10)
            elif name == "Adadelta":
                rho, eps, lr = kw.get("rho", 0.9), 1e-6, kw.get("lr", 1.0)
                v = s["v"] = rho * s.get("v", 0) + (1 - rho) * g * g
                dx = np.sqrt(s.get("u", 0) + eps) / np.sqrt(v + eps) * g
                s["u"] = rho * s.get("u", 0) + (1 - rho) * dx * dx
                p = p - lr * dx
            elif name == "Rprop":
                em, ep = kw.get("etas", (0.5, 1.2))
                lo, hi = kw.get("step_sizes", (1e-6, 50))
                prev = s.get("prev", np.zeros_like(g))
                eta = s.get("eta", np.full_like(g, lr))
                sign = np.sign(g * prev)
                eta = s["eta"] = np.clip(eta * np.where(sign > 0, ep, np.where(sign < 0, em, 1.0)), lo, hi)
                g = np.where(sign < 0, 0.0, g)
                s["prev"] = g
                p = p - np.sign(g) * eta
            elif name == "ASGD":
                lambd, alpha, t0 = kw.get("lambd", 1e-4), kw.get("alpha", 0.75), kw.get("t0", 1e6)
                eta, mu = s.get("eta", lr), s.get("mu", 1.0)
                p = p * (1 - lambd * eta) - eta * g
                s["ax"] = p.copy() if mu == 1 else s["ax"] + mu * (p - s["ax"])
                s["eta"] = lr / (1 + lambd * lr * t) ** alpha
                s["mu"] = 1 / max(1, t - t0)
            ps[j] = p
    return ps


@pytest.mark.parametrize("name,kw", OTHER_CASES)
def test_other_optimizers_vs_numpy_and_torch(name, kw):
    init, grads = _data("float64", 2)
    mine, _ = _run(numtorch, name, kw, init, grads)
    # ASGD's eta/mu and NAdam's mu_product are float32 0-d tensors (PyTorch's layout): not float64-exact
    tol = 1e-5 if name in ("ASGD", "NAdam") else 1e-12
    for x, y in zip(mine, _np_reference(name, init, grads, kw)):
        np.testing.assert_allclose(x, y, rtol=tol, atol=tol)
    if torch is not None:
        _close(mine, _run(torch, name, kw, init, grads)[0], "float64")


@pytest.mark.parametrize("name,kw", [("NAdam", dict(lr=0.01, weight_decay=0.1)),
                                     ("RAdam", dict(lr=0.01)), ("Adamax", dict(lr=0.01)),
                                     ("Adadelta", dict(lr=0.5)), ("RMSprop", dict(lr=0.01, momentum=0.5))])
def test_float32_kernels_vs_torch(name, kw):
    init, grads = _data("float32", 5)
    mine, _ = _run(numtorch, name, kw, init, grads)
    ref = _np_reference(name, [a.astype(np.float64) for a in init],
                        [[g.astype(np.float64) for g in gs] for gs in grads], kw)
    for x, y in zip(mine, ref):
        np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-5)
    if torch is not None:
        _close(mine, _run(torch, name, kw, init, grads)[0], "float32")


def test_rmsprop_and_adagrad_numpy_reference():
    init, grads = _data("float64", 3, steps=4)
    mine, _ = _run(numtorch, "RMSprop", dict(lr=0.01, alpha=0.9), init, grads)
    ps = [a.copy() for a in init]
    sq = [np.zeros_like(a) for a in init]
    for gs in grads:
        for j, g in enumerate(gs):
            sq[j] = 0.9 * sq[j] + 0.1 * g * g
            ps[j] = ps[j] - 0.01 * g / (np.sqrt(sq[j]) + 1e-8)
    _close(mine, ps, "float64")
    mine, _ = _run(numtorch, "Adagrad", dict(lr=0.1), init, grads)
    ps = [a.copy() for a in init]
    acc = [np.zeros_like(a) for a in init]
    for gs in grads:
        for j, g in enumerate(gs):
            acc[j] += g * g
            ps[j] = ps[j] - 0.1 * g / (np.sqrt(acc[j]) + 1e-10)
    _close(mine, ps, "float64")


def test_noncontiguous_param_takes_per_tensor_path():
    base = numtorch.tensor(np.arange(12.0).reshape(3, 4))
    p = base.t().detach().requires_grad_()          # leaf, non-contiguous
    g = np.ones((4, 3))
    opt = numtorch.optim.Adam([p], lr=0.1)
    p.grad = numtorch.tensor(g)
    opt.step()
    ref = _np_adam([np.arange(12.0).reshape(3, 4).T], [[g]], lr=0.1)
    np.testing.assert_allclose(p.detach().numpy(), ref[0], rtol=1e-12)


def test_lbfgs_strong_wolfe_minimises_quadratic():
    A = np.array([[3.0, 0.5], [0.5, 1.0]])
    b = np.array([1.0, -2.0])

    def run(M, ls):
        x = M.tensor(np.zeros(2)).requires_grad_()
        At, bt = M.tensor(A), M.tensor(b)
        opt = M.optim.LBFGS([x], lr=1, max_iter=20, history_size=5, line_search_fn=ls)

        def closure():
            opt.zero_grad()
            loss = 0.5 * (x @ (At @ x)) - bt @ x
            loss.backward()
            return loss
        for _ in range(3):
            opt.step(closure)
        return x.detach().numpy()
    for ls in (None, "strong_wolfe"):
        sol = run(numtorch, ls)
        np.testing.assert_allclose(sol, np.linalg.solve(A, b), atol=1e-4)
        if torch is not None:
            np.testing.assert_allclose(sol, run(torch, ls), atol=1e-9)


def test_sparse_adam_rejects_dense_grads():
    p = numtorch.zeros(3, requires_grad=True)
    opt = numtorch.optim.SparseAdam([p])
    p.grad = numtorch.ones(3)
    with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients, please consider Adam"):
        opt.step()


def test_closure_and_step_hooks():
    p = numtorch.tensor([1.0, 2.0], requires_grad=True)
    opt = numtorch.optim.SGD([p], lr=0.5)
    seen = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: seen.append("pre"))
    opt.register_step_post_hook(lambda o, a, k: seen.append("post"))

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss
    loss = opt.step(closure)
    assert float(loss) == 5.0 and seen == ["pre", "post"]
    np.testing.assert_allclose(p.detach().numpy(), [0.0, 0.0])
    h1.remove()
    opt.step(closure)
    assert seen == ["pre", "post", "post"]


@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.1, amsgrad=True, weight_decay=0.1)),
                                     ("AdamW", dict(lr=0.1, maximize=True)),
                                     ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1)),
                                     ("Adagrad", dict(lr=0.1, lr_decay=0.1, maximize=True)),
                                     ("NAdam", dict(lr=0.1, weight_decay=0.1)),
                                     ("RAdam", dict(lr=0.1, decoupled_weight_decay=True, weight_decay=0.1)),
                                     ("Adamax", dict(lr=0.1, betas=(0.3, 0.9))),
                                     ("Adadelta", dict(weight_decay=0.1)),
                                     ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.06))),
                                     ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1))])
def test_cpu_cuda_parity(device, name, kw, monkeypatch):
    """The CUDA twin of the group kernel (one launch per group, simulator) gives the CPU kernel's values."""
    a = np.linspace(-1, 1, 70)                 # > one simulator chunk: several blocks' worth of work
    b = np.linspace(2, 3, 5)
    calls = []
    if device.type == "cuda":
        from numtorch.kernels.cuda import optim as cu
        for fn in ("sgd_step", "adam_step", "rmsprop_step", "adagrad_step", "adamfam_step", "adadelta_step",
                   "rprop_step"):
            orig = getattr(cu, fn)
            monkeypatch.setattr(cu, fn, lambda *args, _o=orig: (calls.append(1), _o(*args))[1])
    out = []
    for dev in ("cpu", device.type):
        ps = [numtorch.tensor(x, device=dev).requires_grad_() for x in (a, b)]
        opt = getattr(numtorch.optim, name)(ps, **kw)
        for k in range(3):
            for p, x in zip(ps, (a, b)):
                p.grad = numtorch.tensor(np.cos(x * k), device=dev)
            opt.step()
        assert ps[0].device.type == dev
        out.append([p.detach().cpu().numpy() for p in ps])
    for x, y in zip(*out):
        np.testing.assert_allclose(x, y, rtol=1e-12)
    assert len(calls) == (3 if device.type == "cuda" else 0)


def test_one_kernel_call_per_group(monkeypatch):
    """A group of contiguous float parameters is updated by one compiled call (per dtype), not per tensor."""
    from numtorch.kernels import optim as K
    calls = []
    for fn in ("sgd_step", "adam_step", "rmsprop_step", "adagrad_step", "adamfam_step", "adadelta_step",
               "rprop_step", "asgd_step"):
        orig = getattr(K, fn)
        monkeypatch.setattr(K, fn, lambda *a, _o=orig, _n=fn: (calls.append(_n), _o(*a))[1])
    init, grads = _data("float32", 4, steps=2)
    extra = np.ones(3)                          # a float64 parameter: a second call for its dtype
    for name, kw, entry in [("SGD", dict(lr=0.1, momentum=0.9), "sgd_step"), ("Adam", {}, "adam_step"),
                            ("AdamW", {}, "adam_step"), ("RMSprop", dict(centered=True), "rmsprop_step"),
                            ("Adagrad", {}, "adagrad_step"), ("NAdam", {}, "adamfam_step"),
                            ("RAdam", {}, "adamfam_step"), ("Adamax", {}, "adamfam_step"),
                            ("Adadelta", {}, "adadelta_step"), ("Rprop", {}, "rprop_step"),
                            ("ASGD", {}, "asgd_step")]:
        calls.clear()
        ps = [numtorch.tensor(a).requires_grad_() for a in init] + [numtorch.tensor(extra).requires_grad_()]
        opt = getattr(numtorch.optim, name)(ps, **kw)
        for gs in grads:
            for p, g in zip(ps, gs + [extra]):
                p.grad = numtorch.tensor(g)
            opt.step()
        assert calls == [entry] * 4, (name, calls)
