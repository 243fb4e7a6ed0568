"""Adagrad (lr_decay, initial_accumulator_value); per-tensor compiled updates."""
import numpy as np

import numtorch
from numtorch.kernels import optim as _K

from . import _multi
from ._base import _PerTensor, lr_of
from .optimizer import _check_fused, _check_lr, _zero_step

__all__ = ["Adagrad"]


class Adagrad(_PerTensor):
    _name = "Adagrad"

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, fused=fused))
        _check_fused(fused, foreach, differentiable)
        # PyTorch creates Adagrad's state eagerly, in __init__
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = (numtorch.zeros((), dtype=numtorch.float32) if group["fused"] else _zero_step())
                state["sum"] = numtorch.full_like(p, group["initial_accumulator_value"])

    def share_memory(self):
        for group in self.param_groups:
            for p in group["params"]:
                if hasattr(self.state[p]["sum"], "share_memory_"):
                    self.state[p]["sum"].share_memory_()

    def _fused(self, group, items):
        """One multi-tensor kernel call per (dtype, step dtype) for the parameters it can take."""
        if not hasattr(self, "_addr"):
            self._addr = _multi.AddressCache()
        cache = self._addr
        cache.grow(len(items) * 3)
        fast, rest = {}, []
        for p, g in items:
            state = self.state[p]
            st = state["step"]
            row = None
            if st.dtype.name in ("float32", "float64") and st._storage.device.type == "cpu":
                sa = cache.addr(st)
                row = _multi.addresses(p, g, (state["sum"],), cache) if sa >= 0 else None
            if row is None:
                rest.append((p, g))
                continue
            row += (sa, p.numel(), 0)
            keys, rows = fast.setdefault((p.dtype, st.dtype), ([], []))
            keys.append((p, state))
            rows.append(row)
        if fast:
            wd = group["weight_decay"]
            flags = (_K.MAXIMIZE if group["maximize"] else 0) | (_K.HAS_WD if wd != 0 else 0)
            hp64 = np.array([lr_of(group), group["lr_decay"]], dtype=np.float64)
            for (dt, sdt), (keys, rows) in fast.items():
                hp = np.array([group["eps"], wd, 1.0], dtype=dt.np)
                _K.adagrad_step(_multi.table(rows), hp, hp64, np.empty(0, sdt.np), flags, keys[0][0]._storage.data)
                for p, state in keys:
                    p._bump()
                    state["sum"]._bump()
                    state["step"]._bump()
        return rest

    def _update(self, group, p, grad, state):
        step_t, state_sum = state["step"], state["sum"]
        lr, wd, eps = lr_of(group), group["weight_decay"], group["eps"]
        step_t += 1
        step = step_t.item()
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        clr = lr / (1 + (step - 1) * group["lr_decay"])
        state_sum.addcmul_(grad, grad, value=1)
        std = state_sum.sqrt().add_(eps)
        p.addcdiv_(grad, std, value=-clr)
