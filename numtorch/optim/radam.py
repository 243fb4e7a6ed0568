"""RAdam (rectified Adam, optional decoupled weight decay); per-tensor compiled updates."""
import numpy as np

import numtorch
from numtorch.kernels import optim as _K

from ._base import _PerTensor, bump_all, fused_rows, lr_of
from .optimizer import _check_common, _zero_step

__all__ = ["RAdam"]


class RAdam(_PerTensor):
    _name = "RAdam"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        _check_common(lr, eps, betas, weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      foreach=foreach, capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay, differentiable=differentiable))

    @staticmethod
    def _init_state(group, p, state):
        if len(state) == 0:
            state["step"] = _zero_step()
            state["exp_avg"] = numtorch.zeros_like(p)
            state["exp_avg_sq"] = numtorch.zeros_like(p)

    def _fused(self, group, items):
        fast, rest = fused_rows(self, group, items, ("exp_avg", "exp_avg_sq"), ("step",))
        if fast:
            beta1, beta2 = group["betas"]
            lr, wd = lr_of(group), group["weight_decay"]
            flags = ((_K.MAXIMIZE if group["maximize"] else 0) | (_K.HAS_WD if wd != 0 else 0) |
                     (_K.DECOUPLED if group["decoupled_weight_decay"] else 0))
            hp64 = np.array([lr, beta1, beta2, 0.0], dtype=np.float64)
            for (dt, sdt), (keys, rows) in fast.items():
                hp = np.array([1 - beta1, beta2, 1 - beta2, group["eps"], wd, 1 - lr * wd, 1.0, 0.5, lr], dtype=dt.np)
                _K.adamfam_step(_K.RADAM, np.array(rows, dtype=np.int64), hp, hp64, np.empty(0, sdt.np), flags,
                                keys[0][0]._storage.data)
                bump_all(keys)
        return rest

    def _update(self, group, p, grad, state):
        self._init_state(group, p, state)
        beta1, beta2 = group["betas"]
        lr, eps, wd = lr_of(group), group["eps"], group["weight_decay"]
        exp_avg, exp_avg_sq, step_t = state["exp_avg"], state["exp_avg_sq"], state["step"]
        step_t += 1
        step = step_t.item()
        if wd != 0:
            if group["decoupled_weight_decay"]:
                p.mul_(1 - lr * wd)
            else:
                grad = grad.add(p, alpha=wd)
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        bias_corrected_exp_avg = exp_avg / bias_correction1
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive_lr = (bias_correction2 ** 0.5) / exp_avg_sq.sqrt().add_(eps)
            p.add_(bias_corrected_exp_avg * lr * adaptive_lr * rect, alpha=-1.0)
        else:
            p.add_(bias_corrected_exp_avg * lr, alpha=-1.0)
