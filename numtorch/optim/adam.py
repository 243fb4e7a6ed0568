"""Adam (amsgrad, weight decay, maximize, decoupled weight decay): one multi-tensor kernel per group."""
import math

import numpy as np

import numtorch
from numtorch.kernels import optim as _K

from . import _multi
from .optimizer import (Optimizer, _check_common, _check_fused, _get_value, _tensorize_scalars,
                        _use_grad_for_differentiable, _zero_step)

__all__ = ["Adam", "adam"]


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        _check_common(lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable, differentiable=differentiable,
                        fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        _check_fused(fused, foreach, differentiable)
        self._addr = _multi.AddressCache()

    def __setstate__(self, state):
        super().__setstate__(state)
        if not hasattr(self, "_addr"):
            self._addr = _multi.AddressCache()
        for group in self.param_groups:
            group.setdefault("amsgrad", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
            group.setdefault("fused", None)
        _tensorize_scalars(self)

    def _init_group(self, group, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps):
        for p in group["params"]:
            if p.grad is not None:
                params.append(p)
                if getattr(p.grad, "is_sparse", False):
                    raise RuntimeError("Adam does not support sparse gradients, please consider SparseAdam instead")
                grads.append(p.grad)
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = (numtorch.zeros((), dtype=numtorch.float32, device=p.device)
                                     if group["capturable"] or group["fused"] else _zero_step())
                    state["exp_avg"] = numtorch.zeros_like(p)
                    state["exp_avg_sq"] = numtorch.zeros_like(p)
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = numtorch.zeros_like(p)
                exp_avgs.append(state["exp_avg"])
                exp_avg_sqs.append(state["exp_avg_sq"])
                if group["amsgrad"]:
                    max_exp_avg_sqs.append(state["max_exp_avg_sq"])
                state_steps.append(state["step"])

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """One Adam step over every parameter with a gradient; returns ``closure()``'s loss if given."""
        loss = None
        if closure is not None:
            with numtorch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params, grads, exp_avgs, exp_avg_sqs, max_sqs, steps = [], [], [], [], [], []
            self._init_group(group, params, grads, exp_avgs, exp_avg_sqs, max_sqs, steps)
            if not params:
                continue
            beta1, beta2 = group["betas"]
            adam(params, grads, exp_avgs, exp_avg_sqs, max_sqs, steps, amsgrad=group["amsgrad"], beta1=beta1,
                 beta2=beta2, lr=group["lr"], weight_decay=group["weight_decay"], eps=group["eps"],
                 maximize=group["maximize"], differentiable=group["differentiable"],
                 decoupled_weight_decay=group["decoupled_weight_decay"], _cache=self._addr)
        return loss


def adam(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, foreach=None, capturable=False,
         differentiable=False, fused=None, grad_scale=None, found_inf=None, has_complex=False,
         decoupled_weight_decay=False, *, amsgrad, beta1, beta2, lr, weight_decay, eps, maximize, _cache=None):
    """Functional Adam (PyTorch's single-tensor algorithm; fused kernel where the tensors allow)."""
    lr, beta1, beta2 = float(_get_value(lr)), float(_get_value(beta1)), float(_get_value(beta2))
    weight_decay = float(_get_value(weight_decay))
    fast, slow = {}, []
    cache = _cache if _cache is not None else _multi.AddressCache()
    cache.grow(len(params) * 5)
    for i, (p, g) in enumerate(zip(params, grads)):
        st = state_steps[i]
        row = None
        if not differentiable and st.dtype.name in ("float32", "float64") and st._storage.device.type == "cpu":
            sa = cache.addr(st)
            row = _multi.addresses(p, g, (exp_avgs[i], exp_avg_sqs[i], max_exp_avg_sqs[i] if amsgrad else None),
                                   cache) if sa >= 0 else None
        if row is None:
            slow.append(i)
            continue
        row += (sa, p.numel(), 0)
        idx, rows = fast.setdefault((p.dtype, st.dtype), ([], []))
        idx.append(i)
        rows.append(row)
    if fast:
        flags = ((_K.AMSGRAD if amsgrad else 0) | (_K.MAXIMIZE if maximize else 0) |
                 (_K.DECOUPLED if decoupled_weight_decay else 0) | (_K.HAS_WD if weight_decay != 0 else 0))
        hp64 = np.array([lr, beta1, beta2], dtype=np.float64)
        for (dt, sdt), (idx, rows) in fast.items():
            hp = np.array([1 - beta1, beta2, 1 - beta2, eps, weight_decay, 1 - lr * weight_decay, 1.0, 0.5],
                          dtype=dt.np)
            _K.adam_step(_multi.table(rows), hp, hp64, np.empty(0, sdt.np), flags, params[idx[0]]._storage.data)
            for i in idx:
                params[i]._bump()
                exp_avgs[i]._bump()
                exp_avg_sqs[i]._bump()
                state_steps[i]._bump()
    for i in slow:
        _single_adam(params[i], grads[i], exp_avgs[i], exp_avg_sqs[i], max_exp_avg_sqs[i] if amsgrad else None,
                     state_steps[i], amsgrad, beta1, beta2, lr, weight_decay, eps, maximize, differentiable,
                     decoupled_weight_decay)


def _single_adam(param, grad, exp_avg, exp_avg_sq, max_sq, step_t, amsgrad, beta1, beta2, lr, weight_decay, eps,
                 maximize, differentiable, decoupled):
    grad = grad if not maximize else -grad
    step_t += 1
    if weight_decay != 0:
        if decoupled:
            param.mul_(1 - lr * weight_decay)
        else:
            grad = grad.add(param, alpha=weight_decay)
    exp_avg.lerp_(grad, 1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    step = _get_value(step_t)
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    step_size = lr / bias_correction1
    bias_correction2_sqrt = math.sqrt(bias_correction2)
    if amsgrad:
        numtorch.maximum(max_sq, exp_avg_sq, out=max_sq)
        denom = (max_sq.sqrt() / bias_correction2_sqrt).add_(eps)
    else:
        denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
    param.addcdiv_(exp_avg, denom, value=-step_size)
