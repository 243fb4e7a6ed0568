"""RMSprop (centered, momentum); per-tensor compiled updates."""
import numpy as np

import numtorch
from numtorch.kernels import optim as _K

from . import _multi
from ._base import _PerTensor, lr_of
from .optimizer import _check_lr, _zero_step

__all__ = ["RMSprop"]


class RMSprop(_PerTensor):
    _name = "RMSprop"

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                                      weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable))

    @staticmethod
    def _init_state(group, p, state):
        if len(state) == 0:
            state["step"] = _zero_step()
            state["square_avg"] = numtorch.zeros_like(p)
            if group["momentum"] > 0:
                state["momentum_buffer"] = numtorch.zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = numtorch.zeros_like(p)

    def _fused(self, group, items):
        """One multi-tensor kernel call per (dtype, step dtype) for the parameters it can take."""
        if not hasattr(self, "_addr"):
            self._addr = _multi.AddressCache()
        cache = self._addr
        cache.grow(len(items) * 5)
        mom, centered = group["momentum"], group["centered"]
        fast, rest = {}, []
        for p, g in items:
            state = self.state[p]
            self._init_state(group, p, state)
            st = state["step"]
            row = None
            if st.dtype.name in ("float32", "float64") and st._storage.device.type == "cpu":
                sa = cache.addr(st)
                states = (state["square_avg"], state.get("grad_avg") if centered else None,
                          state.get("momentum_buffer") if mom > 0 else None)
                if sa >= 0 and (not centered or states[1] is not None) and (mom <= 0 or states[2] is not None):
                    row = _multi.addresses(p, g, states, cache)
            if row is None:
                rest.append((p, g))
                continue
            row += (sa, p.numel(), 0)
            keys, rows = fast.setdefault((p.dtype, st.dtype), ([], []))
            keys.append((p, state))
            rows.append(row)
        if fast:
            lr, alpha, wd = lr_of(group), group["alpha"], group["weight_decay"]
            flags = ((_K.MAXIMIZE if group["maximize"] else 0) | (_K.HAS_WD if wd != 0 else 0) |
                     (_K.CENTERED if centered else 0) | (_K.HAS_MOMENTUM if mom > 0 else 0))
            for (dt, sdt), (keys, rows) in fast.items():
                hp = np.array([-lr, alpha, 1 - alpha, group["eps"], wd, mom, 1.0, 0.5], dtype=dt.np)
                _K.rmsprop_step(_multi.table(rows), hp, np.empty(0, sdt.np), flags, keys[0][0]._storage.data)
                for p, state in keys:
                    p._bump()
                    for v in state.values():
                        v._bump()
        return rest

    def _update(self, group, p, grad, state):
        self._init_state(group, p, state)
        lr, alpha, eps, wd, momentum = (lr_of(group), group["alpha"], group["eps"], group["weight_decay"],
                                        group["momentum"])
        square_avg = state["square_avg"]
        state["step"] += 1
        if wd != 0:
            grad = grad.add(p, alpha=wd)
        square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg.lerp_(grad, 1 - alpha)
            avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
        else:
            avg = square_avg.sqrt()
        avg = avg.add_(eps)
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf.mul_(momentum).addcdiv_(grad, avg)
            p.add_(buf, alpha=-lr)
        else:
            p.addcdiv_(grad, avg, value=-lr)
