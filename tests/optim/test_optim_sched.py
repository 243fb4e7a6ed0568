"""lr_scheduler and swa_utils: learning-rate sequences vs hand values and torch, state dicts, warnings."""
import math
import warnings

import numpy as np
import pytest

import numtorch

try:
    import torch
except ImportError:
    torch = None


def _lrs(M, make, n=12, opt_cls="SGD", metrics=None, **okw):
    p = M.tensor(np.ones(2)).requires_grad_()
    opt = getattr(M.optim, opt_cls)([p], **(okw or dict(lr=1.0, momentum=0.9)))
    sch = make(M, opt)
    out = [list(sch.get_last_lr())]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(n):
            opt.step()
            if metrics is not None:
                sch.step(metrics[k])
            else:
                sch.step()
            out.append([float(x) for x in sch.get_last_lr()])
    return out, opt


S = lambda M: M.optim.lr_scheduler  # noqa: E731
CASES = {
    "lambda": lambda M, o: S(M).LambdaLR(o, lambda e: 0.5 ** e),
    "multiplicative": lambda M, o: S(M).MultiplicativeLR(o, lambda e: 0.9),
    "step": lambda M, o: S(M).StepLR(o, step_size=3, gamma=0.5),
    "multistep": lambda M, o: S(M).MultiStepLR(o, milestones=[2, 5, 5], gamma=0.1),
    "constant": lambda M, o: S(M).ConstantLR(o, factor=0.25, total_iters=4),
    "linear": lambda M, o: S(M).LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=5),
    "exponential": lambda M, o: S(M).ExponentialLR(o, gamma=0.8),
    "polynomial": lambda M, o: S(M).PolynomialLR(o, total_iters=6, power=2.0),
    "cosine": lambda M, o: S(M).CosineAnnealingLR(o, T_max=4, eta_min=0.1),
    "warm_restarts": lambda M, o: S(M).CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.01),
    "cyclic": lambda M, o: S(M).CyclicLR(o, base_lr=0.1, max_lr=1.0, step_size_up=3, mode="triangular2"),
    "onecycle": lambda M, o: S(M).OneCycleLR(o, max_lr=1.0, total_steps=12, three_phase=True),
    "sequential": lambda M, o: S(M).SequentialLR(o, [S(M).LinearLR(o, start_factor=0.5, total_iters=3),
                                                     S(M).ExponentialLR(o, gamma=0.5)], milestones=[3]),
    "chained": lambda M, o: S(M).ChainedScheduler([S(M).ConstantLR(o, factor=0.5, total_iters=2),
                                                   S(M).ExponentialLR(o, gamma=0.9)]),
    "swalr": lambda M, o: M.optim.swa_utils.SWALR(o, swa_lr=0.05, anneal_epochs=4, anneal_strategy="linear"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_schedule_vs_torch(name):
    mine, _ = _lrs(numtorch, CASES[name])
    assert all(np.isfinite(v).all() for v in mine)
    if torch is not None:
        theirs, _ = _lrs(torch, CASES[name])
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-15)


def test_hand_values():
    seq, _ = _lrs(numtorch, CASES["step"], n=7)
    assert [v[0] for v in seq] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]
    seq, _ = _lrs(numtorch, CASES["multistep"], n=6)
    np.testing.assert_allclose([v[0] for v in seq], [1, 1, 0.1, 0.1, 0.1, 1e-3, 1e-3])
    seq, _ = _lrs(numtorch, CASES["cosine"], n=8)
    hand = [0.1 + 0.9 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(9)]
    np.testing.assert_allclose([v[0] for v in seq], hand, atol=1e-12)
    seq, _ = _lrs(numtorch, CASES["linear"], n=6)
    np.testing.assert_allclose([v[0] for v in seq], [0.2, 0.34, 0.48, 0.62, 0.76, 0.9, 0.9], atol=1e-12)


def test_cyclic_sets_momentum_and_reduce_on_plateau():
    _, opt = _lrs(numtorch, CASES["cyclic"], n=3)
    assert abs(opt.param_groups[0]["momentum"] - 0.8) < 1e-12         # at the peak of the cycle
    metrics = [1.0, 0.5, 0.6, 0.6, 0.6, 0.6, 0.4, 0.4, 0.4]
    mk = lambda M, o: S(M).ReduceLROnPlateau(o, factor=0.5, patience=2, cooldown=1)  # noqa: E731
    mine, _ = _lrs(numtorch, mk, n=9, metrics=metrics)
    assert [v[0] for v in mine] == [1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5]
    if torch is not None:
        assert mine == _lrs(torch, mk, n=9, metrics=metrics)[0]


def test_warnings_and_state_dict():
    p = numtorch.ones(2, requires_grad=True)
    opt = numtorch.optim.SGD([p], lr=1.0)
    sch = numtorch.optim.lr_scheduler.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="Detected call of `lr_scheduler.step\\(\\)` before `optimizer.step\\(\\)`"):
        sch.step()
    with pytest.warns(UserWarning, match="To get the last learning rate computed by the scheduler"):
        sch.get_lr()
    sd = sch.state_dict()
    assert sd["last_epoch"] == 1 and sd["base_lrs"] == [1.0] and "optimizer" not in sd
    sch2 = numtorch.optim.lr_scheduler.StepLR(opt, step_size=5)
    sch2.load_state_dict(sd)
    assert sch2.step_size == 2 and sch2.last_epoch == 1


def test_averaged_model_swa_and_ema():
    nn = numtorch.nn
    model = nn.Linear(3, 2)
    swa = numtorch.optim.swa_utils.AveragedModel(model)
    ema = numtorch.optim.swa_utils.AveragedModel(
        model, multi_avg_fn=numtorch.optim.swa_utils.get_ema_multi_avg_fn(0.5))
    ws = []
    for k in range(3):
        with numtorch.no_grad():
            model.weight.fill_(float(k))
        ws.append(float(k))
        swa.update_parameters(model)
        ema.update_parameters(model)
    assert int(swa.n_averaged) == 3
    np.testing.assert_allclose(swa.module.weight.detach().numpy(), np.full((2, 3), np.mean(ws)))
    np.testing.assert_allclose(ema.module.weight.detach().numpy(), np.full((2, 3), 0.5 * (0.5 * 0 + 0.5 * 1) + 0.5 * 2))
    out = swa(numtorch.ones(1, 3))
    assert tuple(out.shape) == (1, 2)


def test_closed_form_epochs_and_two_groups():
    def run(M):
        a, b = M.ones(1, requires_grad=True), M.ones(1, requires_grad=True)
        opt = M.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=1.0)
        out = []
        for make in (lambda o: M.optim.lr_scheduler.StepLR(o, 2, 0.5),
                     lambda o: M.optim.lr_scheduler.CosineAnnealingLR(o, T_max=5),
                     lambda o: M.optim.lr_scheduler.MultiStepLR(o, [1, 3]),
                     lambda o: M.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2)):
            for g, lr in zip(opt.param_groups, (1.0, 0.5)):
                g["lr"] = g["initial_lr"] = lr
            sch = make(opt)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for e in (3, 1, 4, 7):
                    opt.step()
                    sch.step(e)
                    out.append(list(sch.get_last_lr()))
        return out
    mine = run(numtorch)
    assert mine[0] == [0.5, 0.25]                    # StepLR closed form at epoch 3: 1 * 0.5 ** (3 // 2)
    np.testing.assert_allclose(mine[4][0], (1 + math.cos(math.pi * 3 / 5)) / 2)
    if torch is not None:
        np.testing.assert_allclose(mine, run(torch), rtol=1e-12)


def test_update_bn_recomputes_running_stats():
    nn = numtorch.nn
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    with numtorch.no_grad():
        model[0].weight.copy_(numtorch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
        model[0].bias.zero_()
    x = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 0.0], [1.0, 1.0]], dtype=np.float32)
    loader = [(numtorch.tensor(x[:2]), 0), (numtorch.tensor(x[2:]), 1)]
    model.eval()
    numtorch.optim.swa_utils.update_bn(loader, model)
    h = x @ np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]).T
    # momentum=None: a cumulative average of the two batches' statistics
    mean = (h[:2].mean(0) + h[2:].mean(0)) / 2
    var = (h[:2].var(0, ddof=1) + h[2:].var(0, ddof=1)) / 2
    np.testing.assert_allclose(model[1].running_mean.numpy(), mean, rtol=1e-5)
    np.testing.assert_allclose(model[1].running_var.numpy(), var, rtol=1e-5)
    assert model.training is False and model[1].momentum == 0.1
