"""Optimizer base: param groups, state_dict layout and round trip, hooks, repr, error texts."""
import warnings

import numpy as np
import pytest

import numtorch

try:
    import torch
except ImportError:
    torch = None

LIBS = [numtorch] + ([torch] if torch is not None else [])


def _params(M):
    return [M.tensor(np.ones((2, 2))).requires_grad_(), M.tensor(np.arange(3.0)).requires_grad_()]


def _stepped(M, cls="Adam", **kw):
    ps = _params(M)
    opt = getattr(M.optim, cls)(ps, **kw)
    for p in ps:
        p.grad = M.tensor(np.full(tuple(p.shape), 0.5))
    opt.step()
    return ps, opt


@pytest.mark.parametrize("M", LIBS)
def test_repr_exact(M):
    opt = M.optim.SGD(_params(M), lr=0.1, momentum=0.9)
    assert repr(opt) == ("SGD (\nParameter Group 0\n    dampening: 0\n    differentiable: False\n    foreach: None\n"
                         "    fused: None\n    lr: 0.1\n    maximize: False\n    momentum: 0.9\n    nesterov: False\n"
                         "    weight_decay: 0\n)")


def test_state_dict_layout_matches_torch():
    for cls in ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "NAdam", "ASGD", "Rprop"]:
        kw = dict(momentum=0.9) if cls == "SGD" else {}
        _, opt = _stepped(numtorch, cls, **kw)
        sd = opt.state_dict()
        assert list(sd) == ["state", "param_groups"] and sorted(sd["state"]) == [0, 1]
        assert sd["param_groups"][0]["params"] == [0, 1]
        if torch is not None:
            _, topt = _stepped(torch, cls, **kw)
            tsd = topt.state_dict()
            assert list(sd["param_groups"][0]) == list(tsd["param_groups"][0]), cls
            assert sd["param_groups"][0] == tsd["param_groups"][0], cls
            for k in tsd["state"]:
                assert list(sd["state"][k]) == list(tsd["state"][k]), cls
                for name, v in tsd["state"][k].items():
                    mine = sd["state"][k][name]
                    assert str(mine.dtype) == str(v.dtype) and tuple(mine.shape) == tuple(v.shape), (cls, name)
                    np.testing.assert_allclose(mine.numpy(), v.numpy(), rtol=1e-6)


def test_adam_state_dict_values():
    _, opt = _stepped(numtorch, "Adam")
    st = opt.state_dict()["state"][0]
    assert list(st) == ["step", "exp_avg", "exp_avg_sq"]
    assert st["step"].dim() == 0 and st["step"].dtype == numtorch.float32 and st["step"].item() == 1.0
    np.testing.assert_allclose(st["exp_avg"].numpy(), np.full((2, 2), 0.05))
    np.testing.assert_allclose(st["exp_avg_sq"].numpy(), np.full((2, 2), 0.00025))


def test_state_dict_round_trip_continues_identically():
    init = np.linspace(-1, 1, 4).reshape(2, 2)
    grads = [np.cos(np.arange(4.0) * k).reshape(2, 2) for k in range(6)]

    def run(split):
        p = numtorch.tensor(init).requires_grad_()
        opt = numtorch.optim.Adam([p], lr=0.1, amsgrad=True)
        for k, g in enumerate(grads):
            if k == split:
                sd = opt.state_dict()
                p2 = numtorch.tensor(p.detach().numpy().copy()).requires_grad_()
                opt = numtorch.optim.Adam([p2], lr=0.5)
                opt.load_state_dict(sd)
                assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["amsgrad"] is True
                p = p2
            p.grad = numtorch.tensor(g)
            opt.step()
        return p.detach().numpy()
    np.testing.assert_allclose(run(3), run(None), rtol=1e-12)


def test_load_state_dict_casts_to_param_dtype_and_hooks():
    ps, opt = _stepped(numtorch, "SGD", lr=0.1, momentum=0.9)
    sd = opt.state_dict()
    q = [numtorch.zeros(2, 2, dtype=numtorch.float32, requires_grad=True), numtorch.zeros(3, dtype=numtorch.float32,
                                                                                          requires_grad=True)]
    opt2 = numtorch.optim.SGD(q, lr=0.1, momentum=0.9)
    calls = []
    opt2.register_load_state_dict_pre_hook(lambda o, s: calls.append("pre"))
    opt2.register_load_state_dict_post_hook(lambda o: calls.append("post"))
    opt2.register_state_dict_pre_hook(lambda o: calls.append("sd_pre"))
    opt2.register_state_dict_post_hook(lambda o, s: calls.append("sd_post"))
    opt2.load_state_dict(sd)
    assert opt2.state[q[0]]["momentum_buffer"].dtype == numtorch.float32
    opt2.state_dict()
    assert calls == ["pre", "post", "sd_pre", "sd_post"]


@pytest.mark.parametrize("M", LIBS)
def test_errors(M):
    p = M.tensor(np.ones(2)).requires_grad_()
    cases = [
        (lambda: M.optim.SGD([p], lr=-1.0), ValueError, "Invalid learning rate: -1.0"),
        (lambda: M.optim.SGD([p], lr=0.1, momentum=-0.5), ValueError, "Invalid momentum value: -0.5"),
        (lambda: M.optim.SGD([p], lr=0.1, weight_decay=-1), ValueError, "Invalid weight_decay value: -1"),
        (lambda: M.optim.SGD([p], lr=0.1, nesterov=True), ValueError,
         "Nesterov momentum requires a momentum and zero dampening"),
        (lambda: M.optim.Adam([p], betas=(1.0, 0.9)), ValueError, "Invalid beta parameter at index 0: 1.0"),
        (lambda: M.optim.Adam([p], betas=(0.9, -0.1)), ValueError, "Invalid beta parameter at index 1: -0.1"),
        (lambda: M.optim.Adam([p], eps=-1e-3), ValueError, "Invalid epsilon value: -0.001"),
        (lambda: M.optim.RMSprop([p], alpha=-1), ValueError, "Invalid alpha value: -1"),
        (lambda: M.optim.Rprop([p], etas=(1.5, 1.2)), ValueError, "Invalid eta values: 1.5, 1.2"),
        (lambda: M.optim.SGD([p * 2], lr=0.1), ValueError, "can't optimize a non-leaf Tensor"),
        (lambda: M.optim.SGD([], lr=0.1), ValueError, "optimizer got an empty parameter list"),
        (lambda: M.optim.SGD(p, lr=0.1), TypeError,
         "params argument given to the optimizer should be an iterable of Tensors or dicts, but got torch."),
        (lambda: M.optim.SGD([1], lr=0.1), TypeError,
         "optimizer can only optimize Tensors, but one of the params is int"),
        (lambda: M.optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1), ValueError,
         "some parameters appear in more than one parameter group"),
        (lambda: M.optim.SGD([{"params": {p}}], lr=0.1), TypeError,
         "optimizer parameters need to be organized in ordered"),
    ]
    for fn, exc, msg in cases:
        with pytest.raises(exc) as ei:
            fn()
        assert str(ei.value).startswith(msg), (str(ei.value), msg)


@pytest.mark.parametrize("M", LIBS)
def test_load_state_dict_mismatch(M):
    ps, opt = _stepped(M, "SGD", lr=0.1)
    opt2 = M.optim.SGD([M.tensor(np.ones(2)).requires_grad_()], lr=0.1)
    with pytest.raises(ValueError, match="loaded state dict contains a parameter group that doesn't match the size of "
                                         "optimizer's group"):
        opt2.load_state_dict(opt.state_dict())


@pytest.mark.parametrize("M", LIBS)
def test_param_groups_named_and_zero_grad(M):
    a, b = _params(M)
    opt = M.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["momentum"] == 0.9
    c = M.tensor(np.ones(1)).requires_grad_()
    opt.add_param_group({"params": c, "lr": 0.2})
    assert opt.param_groups[2]["params"][0] is c
    a.grad = M.ones(2, 2, dtype=a.dtype)
    opt.zero_grad(set_to_none=False)
    assert float(a.grad.abs().sum()) == 0.0
    opt.zero_grad()
    assert a.grad is None
    named = M.optim.SGD(iter([("w", a), ("b", b)]), lr=0.1)
    sd = named.state_dict()["param_groups"][0]
    assert sd["param_names"] == ["w", "b"] and list(sd)[0] == "param_names"
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        M.optim.SGD([a, a], lr=0.1)
    assert any("duplicate parameters" in str(x.message) for x in w)


def test_required_default():
    from numtorch.optim.optimizer import required

    class MyOpt(numtorch.optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, dict(lr=required))
    with pytest.raises(ValueError, match="parameter group didn't specify a value of required optimization "
                                         "parameter lr"):
        MyOpt([numtorch.zeros(1, requires_grad=True)])
    assert repr(required) == "<required parameter>"


def test_replaced_state_is_freed_and_picked_up():
    """The kernels' address cache neither keeps a replaced state tensor alive nor uses its stale address."""
    import gc
    import weakref
    p = numtorch.tensor(np.ones(4)).requires_grad_()
    opt = numtorch.optim.Adam([p], lr=0.1)
    p.grad = numtorch.tensor(np.full(4, 0.5))
    opt.step()
    old = weakref.ref(opt.state[p]["exp_avg"])
    sd = opt.state_dict()
    sd["state"][0] = {k: v.clone() for k, v in sd["state"][0].items()}
    opt.load_state_dict(sd)
    del sd
    gc.collect()
    assert old() is None
    opt.step()
    np.testing.assert_allclose(opt.state[p]["exp_avg"].numpy(), np.full(4, 0.095))     # 0.9 * 0.05 + 0.1 * 0.5
    with numtorch.no_grad():
        p.data = numtorch.tensor(np.zeros(4))             # new storage: the next step updates it
    opt.step()
    assert float(p.detach().abs().sum()) > 0
