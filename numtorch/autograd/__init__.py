"""numtorch.autograd: graph recording, the backward engine, grad mode and gradient checking."""
from .grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled,
                        is_inference_mode_enabled)
from .engine import backward, grad
from .graph import Node, AccumulateGrad

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled", "backward",
           "grad", "Node", "AccumulateGrad", "Variable", "Function", "gradcheck", "gradgradcheck", "functional"]


def __getattr__(name):
    # Heavier pieces load on first use to keep `import numtorch` fast.
    if name in ("Function", "FunctionCtx", "once_differentiable"):
        from . import function
        return getattr(function, name)
    if name in ("gradcheck", "gradgradcheck"):
        from . import gradcheck as _gc
        return getattr(_gc, name)
    if name == "functional":
        from . import functional
        return functional
    if name == "Variable":
        from ..tensor import Tensor
        return _variable(Tensor)
    raise AttributeError(name)


def _variable(Tensor):
    def Variable(data, requires_grad=False, volatile=False):
        """The pre-0.4 wrapper: now just returns the tensor (with requires_grad set)."""
        t = data.detach() if requires_grad else data
        if requires_grad:
            t.requires_grad_(True)
        return t
    return Variable
