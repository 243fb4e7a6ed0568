"""Tensor hooks (leaf and non-leaf), post-accumulate-grad hooks and retain_grad, as the engine runs them:
tensor hooks of an output first, then retain_grad (PyTorch's order)."""
import weakref

from .grad_mode import _state
from .graph import AccumulateGrad, RemovableHandle


def _install_retain(t):
    """``t.retain_grad()`` on a non-leaf: its grad_fn copies the gradient of this output into ``t.grad``."""
    node = t.grad_fn
    if node._retained is None:
        node._retained = {}
    node._hooked = True
    node._retained[t._output_nr] = weakref.ref(t)


def register_tensor_hook(t, hook):
    if not t._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    fn = t.grad_fn
    if fn is None:
        if t._hooks is None:
            t._hooks = []
        t._hooks.append(hook)
        return RemovableHandle(t._hooks, hook)
    entry = (t._output_nr, hook)
    if fn._tensor_hooks is None:
        fn._tensor_hooks = []
    fn._hooked = True
    fn._tensor_hooks.append(entry)
    return RemovableHandle(fn._tensor_hooks, entry)


class _PostAccumulate:
    """A ``register_post_accumulate_grad_hook`` entry, kept in the leaf's hook list (no leaf<->node cycle)."""
    __slots__ = ("fn",)

    def __init__(self, fn):
        self.fn = fn


def register_post_accumulate_grad_hook(t, hook):
    """``hook(tensor)`` after the leaf's ``.grad`` was updated."""
    if t.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    if not t._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if t._hooks is None:
        t._hooks = []
    entry = _PostAccumulate(hook)
    t._hooks.append(entry)
    return RemovableHandle(t._hooks, entry)


def _tensor_pre_hooks(node, gbuf):
    """Tensor hooks (per output), then retain_grad (PyTorch runs retain_grad last)."""
    if isinstance(node, AccumulateGrad):
        var = node.variable
        hooks = var._hooks if var is not None else None
        if hooks and gbuf[0] is not None:
            g = gbuf[0]
            for h in tuple(hooks):
                if type(h) is _PostAccumulate:
                    continue
                r = h(g)
                if r is not None:
                    g = r
            gbuf[0] = g
        return
    if node._tensor_hooks:
        for nr, h in tuple(node._tensor_hooks):
            if gbuf[nr] is not None:
                r = h(gbuf[nr])
                if r is not None:
                    gbuf[nr] = r
    if node._retained:
        for nr, ref in node._retained.items():
            t = ref()
            g = gbuf[nr]
            if t is not None and g is not None and t.grad_fn is node:
                if t._grad is None:
                    t._grad = g.clone() if _state.create_graph else g.detach().clone()
                else:
                    t._grad = t._grad + g
