"""ASGD (averaged SGD); per-tensor compiled updates."""
import numpy as np

import numtorch
from numtorch.kernels import optim as _K

from ._base import _PerTensor, bump_all, fused_rows, lr_of
from .optimizer import _check_lr, _scalar_dtype

__all__ = ["ASGD"]


class ASGD(_PerTensor):
    _name = "ASGD"

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    @staticmethod
    def _init_state(group, p, state):
        if len(state) == 0:
            # ASGD keeps its counters on the parameter's device (unlike Adam's CPU step), as PyTorch does
            sdt = _scalar_dtype()
            state["step"] = numtorch.zeros((), dtype=sdt, device=p.device)
            state["eta"] = numtorch.tensor(float(lr_of(group)), dtype=sdt, device=p.device)
            state["mu"] = numtorch.ones((), dtype=sdt, device=p.device)
            state["ax"] = numtorch.zeros_like(p)

    def _fused(self, group, items):
        fast, rest = fused_rows(self, group, items, ("ax",), ("step", "eta", "mu"))
        if fast:
            wd = group["weight_decay"]
            flags = (_K.MAXIMIZE if group["maximize"] else 0) | (_K.HAS_WD if wd != 0 else 0)
            hp64 = np.array([lr_of(group), group["lambd"], group["alpha"], group["t0"]], dtype=np.float64)
            for (dt, sdt), (keys, rows) in fast.items():
                _K.asgd_step(np.array(rows, dtype=np.int64), np.array([wd], dtype=dt.np), hp64,
                             np.empty(0, sdt.np), flags, keys[0][0]._storage.data)
                bump_all(keys)
        return rest

    def _update(self, group, p, grad, state):
        self._init_state(group, p, state)
        sdt = _scalar_dtype()
        lr, lambd, alpha, t0, wd = lr_of(group), group["lambd"], group["alpha"], group["t0"], group["weight_decay"]
        mu, ax, eta, step_t = state["mu"], state["ax"], state["eta"], state["step"]
        step_t += 1
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        eta_value = eta.item()
        p.mul_(1 - lambd * eta_value)
        p.add_(grad, alpha=-eta_value)
        if mu.item() != 1:
            ax.add_(p.sub(ax).mul_(mu))
        else:
            ax.copy_(p)
        step = step_t.item()
        eta.copy_(numtorch.tensor(lr / ((1 + lambd * lr * step) ** alpha), dtype=sdt))
        mu.copy_(numtorch.tensor(1 / max(1, step - t0), dtype=sdt))
