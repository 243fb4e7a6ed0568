"""Adamax (Adam with the infinity norm); per-tensor compiled updates."""
import numpy as np

import numtorch
from numtorch.kernels import optim as _K

from ._base import _PerTensor, bump_all, fused_rows, lr_of
from .optimizer import _check_common, _zero_step

__all__ = ["Adamax"]


class Adamax(_PerTensor):
    _name = "Adamax"

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        _check_common(lr, eps, betas, weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, capturable=capturable))

    @staticmethod
    def _init_state(group, p, state):
        if len(state) == 0:
            state["step"] = _zero_step()
            state["exp_avg"] = numtorch.zeros_like(p)
            state["exp_inf"] = numtorch.zeros_like(p)

    def _fused(self, group, items):
        fast, rest = fused_rows(self, group, items, ("exp_avg", "exp_inf"), ("step",))
        if fast:
            beta1, beta2 = group["betas"]
            lr, wd = lr_of(group), group["weight_decay"]
            flags = (_K.MAXIMIZE if group["maximize"] else 0) | (_K.HAS_WD if wd != 0 else 0)
            hp64 = np.array([lr, beta1, beta2, 0.0], dtype=np.float64)
            for (dt, sdt), (keys, rows) in fast.items():
                hp = np.array([1 - beta1, beta2, 1 - beta2, group["eps"], wd, 1 - lr * wd, 1.0, 0.5, lr], dtype=dt.np)
                _K.adamfam_step(_K.ADAMAX, np.array(rows, dtype=np.int64), hp, hp64, np.empty(0, sdt.np), flags,
                                keys[0][0]._storage.data)
                bump_all(keys)
        return rest

    def _update(self, group, p, grad, state):
        self._init_state(group, p, state)
        beta1, beta2 = group["betas"]
        lr, eps, wd = lr_of(group), group["eps"], group["weight_decay"]
        exp_avg, exp_inf, step_t = state["exp_avg"], state["exp_inf"], state["step"]
        step_t += 1
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        exp_avg.lerp_(grad, 1 - beta1)
        numtorch.maximum(exp_inf.mul_(beta2), grad.abs().add_(eps), out=exp_inf)
        clr = lr / (1 - beta1 ** step_t.item())
        p.addcdiv_(exp_avg, exp_inf, value=-clr)
