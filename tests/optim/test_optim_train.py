"""End to end: a small MLP trained with each common optimizer and a scheduler, against torch."""
import numpy as np
import pytest

import numtorch

try:
    import torch
except ImportError:
    torch = None


def _train(M, opt_name, kw, steps=6):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((16, 4)).astype(np.float32)
    y = rng.integers(0, 3, 16)
    w1 = (rng.standard_normal((8, 4)) / 2).astype(np.float32)
    w2 = (rng.standard_normal((3, 8)) / 3).astype(np.float32)
    model = M.nn.Sequential(M.nn.Linear(4, 8), M.nn.Tanh(), M.nn.Linear(8, 3))
    with M.no_grad():
        model[0].weight.copy_(M.tensor(w1))
        model[0].bias.zero_()
        model[2].weight.copy_(M.tensor(w2))
        model[2].bias.fill_(0.1)
    opt = getattr(M.optim, opt_name)(model.parameters(), **kw)
    sched = M.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    xt, yt = M.tensor(x), M.tensor(y)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = M.nn.functional.cross_entropy(model(xt), yt)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    return losses, [p.detach().numpy().copy() for p in model.parameters()], opt


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.5, momentum=0.9, nesterov=True)),
                                     ("Adam", dict(lr=0.05)), ("AdamW", dict(lr=0.05, amsgrad=True)),
                                     ("RMSprop", dict(lr=0.01))])
def test_mlp_training_matches_torch(name, kw):
    losses, params, opt = _train(numtorch, name, kw)
    assert losses[-1] < losses[0]
    assert opt.param_groups[0]["lr"] == kw["lr"] * 0.125           # StepLR halved it three times
    if torch is not None:
        t_losses, t_params, _ = _train(torch, name, kw)
        np.testing.assert_allclose(losses, t_losses, rtol=1e-4)
        for a, b in zip(params, t_params):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
