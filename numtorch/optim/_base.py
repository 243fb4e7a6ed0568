"""Shared plumbing of the per-tensor optimizers (closure handling, grads, step counters)."""
import numtorch

from . import _multi
from .optimizer import Optimizer, _tensorize_scalars, _use_grad_for_differentiable


class _PerTensor(Optimizer):
    """``step`` runs ``_update(group, p, grad, state)`` for every parameter with a gradient."""
    _name = "Optimizer"

    @_use_grad_for_differentiable
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with numtorch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            items = []
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if getattr(g, "is_sparse", False):
                    raise RuntimeError(f"{self._name} does not support sparse gradients")
                items.append((p, g))
            if items and not group.get("differentiable", False):
                items = self._fused(group, items)
            for p, g in items:
                if group.get("maximize", False):
                    g = -g
                self._update(group, p, g, self.state[p])
        return loss

    def _fused(self, group, items):
        """Update what a multi-tensor kernel can take in one call; return the (param, grad) pairs left."""
        return items

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for k, v in self.defaults.items():
                group.setdefault(k, v)
        _tensorize_scalars(self, ("step", "mu_product", "eta", "mu"))


def lr_of(group):
    lr = group["lr"]
    return float(lr.item()) if isinstance(lr, numtorch.Tensor) else lr


def fused_rows(opt, group, items, state_names, scalar_names):
    """Group the parameters a multi-tensor kernel can take by (param dtype, scalar-state dtype).

    Row: addresses of the parameter, its gradient, the state tensors ``state_names`` (None: a 0
    column) and the 0-d CPU counters ``scalar_names`` (``step``...), then numel and 0. Returns
    ``({(dtype, scalar dtype): ([(p, state)], [row])}, [(p, grad) pairs left for the per-tensor path])``.
    """
    cache = opt.__dict__.get("_addr")
    if cache is None:
        cache = opt._addr = _multi.AddressCache()
    cache.grow(len(items) * (2 + len(state_names) + len(scalar_names)))
    fast, rest = {}, []
    for p, g in items:
        state = opt.state[p]
        opt._init_state(group, p, state)
        row = None
        scal = [state.get(n) for n in scalar_names]
        sdt = scal[0].dtype if scal and scal[0] is not None else None
        ok = sdt is not None and sdt.name in ("float32", "float64")
        sa = []
        for t in scal:
            if not ok or t is None or t.dtype is not sdt or t._storage.device.type != "cpu":
                ok = False
                break
            a = cache.addr(t)
            if a < 0:
                ok = False
                break
            sa.append(a)
        if ok:
            sts = [state.get(n) if n else None for n in state_names]
            if all(t is not None for n, t in zip(state_names, sts) if n):
                row = _multi.addresses(p, g, sts, cache)
        if row is None:
            rest.append((p, g))
            continue
        row += sa
        row += (p.numel(), 0)
        keys, rows = fast.setdefault((p.dtype, sdt), ([], []))
        keys.append((p, state))
        rows.append(row)
    return fast, rest


def bump_all(keys):
    """Version bumps for every tensor a kernel wrote (autograd's in-place checks)."""
    for p, state in keys:
        p._bump()
        for v in state.values():
            if isinstance(v, numtorch.Tensor):
                v._bump()
