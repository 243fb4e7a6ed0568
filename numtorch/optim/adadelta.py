"""Adadelta; per-tensor compiled updates."""
import numpy as np

import numtorch
from numtorch.kernels import optim as _K

from ._base import _PerTensor, bump_all, fused_rows, lr_of
from .optimizer import _check_lr, _zero_step

__all__ = ["Adadelta"]


class Adadelta(_PerTensor):
    _name = "Adadelta"

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      capturable=capturable, foreach=foreach, differentiable=differentiable))

    @staticmethod
    def _init_state(group, p, state):
        if len(state) == 0:
            state["step"] = _zero_step()
            state["square_avg"] = numtorch.zeros_like(p)
            state["acc_delta"] = numtorch.zeros_like(p)

    def _fused(self, group, items):
        fast, rest = fused_rows(self, group, items, ("square_avg", "acc_delta"), ("step",))
        if fast:
            rho, wd = group["rho"], group["weight_decay"]
            flags = (_K.MAXIMIZE if group["maximize"] else 0) | (_K.HAS_WD if wd != 0 else 0)
            for (dt, sdt), (keys, rows) in fast.items():
                hp = np.array([-lr_of(group), rho, 1 - rho, group["eps"], wd], dtype=dt.np)
                _K.adadelta_step(np.array(rows, dtype=np.int64), hp, np.empty(0, sdt.np), flags,
                                 keys[0][0]._storage.data)
                bump_all(keys)
        return rest

    def _update(self, group, p, grad, state):
        self._init_state(group, p, state)
        lr, rho, eps, wd = lr_of(group), group["rho"], group["eps"], group["weight_decay"]
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        state["step"] += 1
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
        std = square_avg.add(eps).sqrt_()
        delta = acc_delta.add(eps).sqrt_()
        delta.div_(std).mul_(grad)
        acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        p.add_(delta, alpha=-lr)
