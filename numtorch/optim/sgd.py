"""SGD (momentum, dampening, nesterov, weight decay, maximize): one multi-tensor kernel per group."""
import numpy as np

import numtorch
from numtorch.kernels import optim as _K

from . import _multi
from .optimizer import Optimizer, _check_fused, _check_lr, _use_grad_for_differentiable

__all__ = ["SGD", "sgd"]


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        _check_lr(lr)
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable,
                        fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        _check_fused(fused, foreach, differentiable)
        self._addr = _multi.AddressCache()

    def __setstate__(self, state):
        super().__setstate__(state)
        if not hasattr(self, "_addr"):
            self._addr = _multi.AddressCache()
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("differentiable", False)
            group.setdefault("fused", False)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """One SGD step over every parameter with a gradient; returns ``closure()``'s loss if given."""
        loss = None
        if closure is not None:
            with numtorch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            momentum = group["momentum"]
            params, grads, bufs = [], [], []
            state = self.state
            for p in group["params"]:
                g = p.grad
                if g is not None:
                    if getattr(g, "is_sparse", False):
                        raise RuntimeError("SGD with sparse gradients is not supported by numtorch")
                    params.append(p)
                    grads.append(g)
                    if momentum != 0:
                        bufs.append(state[p].get("momentum_buffer"))
            if not params:
                continue
            new = sgd(params, grads, bufs, weight_decay=group["weight_decay"], momentum=momentum,
                      lr=group["lr"], dampening=group["dampening"], nesterov=group["nesterov"],
                      maximize=group["maximize"], differentiable=group["differentiable"], _cache=self._addr)
            if momentum != 0:
                for p, b, old in zip(params, new, bufs):
                    if b is not old:
                        state[p]["momentum_buffer"] = b
        return loss


def _as_float(x):
    return float(x.item()) if isinstance(x, numtorch.Tensor) else float(x)


def sgd(params, d_p_list, momentum_buffer_list, *, weight_decay, momentum, lr, dampening, nesterov, maximize,
        differentiable=False, foreach=None, fused=None, has_sparse_grad=False, grad_scale=None, found_inf=None,
        _cache=None):
    """Functional SGD; returns the (possibly new) momentum buffers."""
    lr, weight_decay = _as_float(lr), _as_float(weight_decay)
    bufs = list(momentum_buffer_list) if momentum != 0 else [None] * len(params)
    fast, slow = {}, []
    cache = _cache if _cache is not None else _multi.AddressCache()
    cache.grow(len(params) * 2)
    addresses = _multi.addresses
    for i, (p, g) in enumerate(zip(params, d_p_list)):
        b = bufs[i]
        row = None if differentiable else addresses(p, g, (b,), cache)
        if row is None:
            slow.append(i)
            continue
        init = 0
        if momentum != 0 and b is None:
            b = bufs[i] = numtorch.empty_like(p)
            row[2] = cache.addr(b)
            init = 1
        row.append(p.numel())
        row.append(init)
        entry = fast.get(p.dtype)
        if entry is None:
            entry = fast[p.dtype] = ([], [])
        entry[0].append(i)
        entry[1].append(row)
    if fast:
        flags = ((_K.MAXIMIZE if maximize else 0) | (_K.HAS_WD if weight_decay != 0 else 0) |
                 (_K.HAS_MOMENTUM if momentum != 0 else 0) | (_K.NESTEROV if nesterov else 0))
        for dt, (idx, rows) in fast.items():
            hp = np.array([-lr, weight_decay, momentum, 1.0 - dampening], dtype=dt.np)
            _K.sgd_step(_multi.table(rows), hp, flags, params[idx[0]]._storage.data)
            for i in idx:                      # version counters: autograd's in-place checks
                params[i]._vc.value += 1
                if bufs[i] is not None:
                    bufs[i]._vc.value += 1
    for i in slow:
        p = params[i]
        g = d_p_list[i] if not maximize else -d_p_list[i]
        if weight_decay != 0:
            g = g.add(p, alpha=weight_decay)
        if momentum != 0:
            b = bufs[i]
            if b is None:
                b = bufs[i] = numtorch.clone(g).detach()
            else:
                b.mul_(momentum).add_(g, alpha=1 - dampening)
            g = g.add(b, alpha=momentum) if nesterov else b
        p.add_(g, alpha=-lr)
    return bufs
