"""Rprop (resilient backpropagation); per-tensor compiled updates."""
import numpy as np

import numtorch
from numtorch.kernels import optim as _K

from ._base import _PerTensor, bump_all, fused_rows, lr_of
from .optimizer import _check_lr, _zero_step

__all__ = ["Rprop"]


class Rprop(_PerTensor):
    _name = "Rprop"

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        super().__init__(params, dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))

    @staticmethod
    def _init_state(group, p, state):
        if len(state) == 0:
            state["step"] = _zero_step()
            state["prev"] = numtorch.zeros_like(p)
            state["step_size"] = numtorch.full_like(p, lr_of(group))

    def _fused(self, group, items):
        fast, rest = fused_rows(self, group, items, ("prev", "step_size"), ("step",))
        if fast:
            (etaminus, etaplus), (lo, hi) = group["etas"], group["step_sizes"]
            flags = _K.MAXIMIZE if group["maximize"] else 0
            for (dt, sdt), (keys, rows) in fast.items():
                hp = np.array([etaminus, etaplus, lo, hi, 1.0, 0.0], dtype=dt.np)
                _K.rprop_step(np.array(rows, dtype=np.int64), hp, np.empty(0, sdt.np), flags,
                              keys[0][0]._storage.data)
                bump_all(keys)
        return rest

    def _update(self, group, p, grad, state):
        self._init_state(group, p, state)
        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        prev, step_size = state["prev"], state["step_size"]
        state["step"] += 1
        sign = grad.mul(prev).sign()
        factor = numtorch.where(sign > 0, numtorch.full_like(sign, etaplus),
                                numtorch.where(sign < 0, numtorch.full_like(sign, etaminus),
                                               numtorch.ones_like(sign)))
        step_size.mul_(factor).clamp_(step_size_min, step_size_max)
        grad = numtorch.where(factor == etaminus, numtorch.zeros_like(grad), grad)
        p.addcmul_(grad.sign(), step_size, value=-1)
        prev.copy_(grad)
