"""NAdam (Nesterov-accelerated Adam, optional decoupled weight decay); per-tensor compiled updates."""
import numpy as np

import numtorch
from numtorch.kernels import optim as _K

from ._base import _PerTensor, bump_all, fused_rows, lr_of
from .optimizer import _check_common, _scalar_dtype, _zero_step

__all__ = ["NAdam"]


class NAdam(_PerTensor):
    _name = "NAdam"

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        _check_common(lr, eps, betas, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable))

    @staticmethod
    def _init_state(group, p, state):
        if len(state) == 0:
            state["step"] = _zero_step()
            state["mu_product"] = numtorch.tensor(1.0, dtype=_scalar_dtype(), device="cpu")
            state["exp_avg"] = numtorch.zeros_like(p)
            state["exp_avg_sq"] = numtorch.zeros_like(p)

    def _fused(self, group, items):
        fast, rest = fused_rows(self, group, items, ("exp_avg", "exp_avg_sq"), ("step", "mu_product"))
        if fast:
            beta1, beta2 = group["betas"]
            lr, wd = lr_of(group), group["weight_decay"]
            flags = ((_K.MAXIMIZE if group["maximize"] else 0) | (_K.HAS_WD if wd != 0 else 0) |
                     (_K.DECOUPLED if group["decoupled_weight_decay"] else 0))
            hp64 = np.array([lr, beta1, beta2, group["momentum_decay"]], dtype=np.float64)
            for (dt, sdt), (keys, rows) in fast.items():
                hp = np.array([1 - beta1, beta2, 1 - beta2, group["eps"], wd, 1 - lr * wd, 1.0, 0.5, lr], dtype=dt.np)
                _K.adamfam_step(_K.NADAM, np.array(rows, dtype=np.int64), hp, hp64, np.empty(0, sdt.np), flags,
                                keys[0][0]._storage.data)
                bump_all(keys)
        return rest

    def _update(self, group, p, grad, state):
        self._init_state(group, p, state)
        beta1, beta2 = group["betas"]
        lr, eps, wd, md = lr_of(group), group["eps"], group["weight_decay"], group["momentum_decay"]
        exp_avg, exp_avg_sq, mu_product, step_t = (state["exp_avg"], state["exp_avg_sq"], state["mu_product"],
                                                   state["step"])
        step_t += 1
        step = step_t.item()
        bias_correction2 = 1 - beta2 ** step
        if wd != 0:
            if group["decoupled_weight_decay"]:
                p.mul_(1 - lr * wd)
            else:
                grad = grad.add(p, alpha=wd)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * md)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * md)))
        mu_product *= mu
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = exp_avg_sq.div(bias_correction2).sqrt()
        mp = mu_product.item()
        mu_product_next = mp * mu_next
        denom.add_(eps)
        p.addcdiv_(grad, denom, value=(-lr * (1.0 - mu) / (1.0 - mp)))
        p.addcdiv_(exp_avg, denom, value=(-lr * mu_next) / (1.0 - mu_product_next))
