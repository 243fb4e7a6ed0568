"""numtorch.autograd: graph recording, the backward engine, grad mode, custom Functions and gradient checks."""
from .grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled,
                        is_inference_mode_enabled, set_detect_anomaly, detect_anomaly, is_anomaly_enabled)
from .engine import backward, grad
from . import graph
from .graph import Node, AccumulateGrad

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled", "set_detect_anomaly", "detect_anomaly", "is_anomaly_enabled", "backward",
           "grad", "Node", "AccumulateGrad", "Variable", "Function", "gradcheck", "gradgradcheck", "functional"]


def __getattr__(name):
    # Heavier pieces load on first use to keep `import numtorch` fast.
    if name in ("Function", "FunctionCtx", "once_differentiable", "InplaceFunction", "NestedIOFunction", "function"):
        import importlib
        function = importlib.import_module(__name__ + ".function")
        return function if name == "function" else getattr(function, name)
    if name in ("gradcheck", "gradgradcheck", "GradcheckError"):
        import importlib
        gc = importlib.import_module(__name__ + ".gradcheck")
        # Importing the submodule bound the package attribute `gradcheck` to the module: restore the
        # functions (PyTorch exposes torch.autograd.gradcheck as the function too).
        globals().update(gradcheck=gc.gradcheck, gradgradcheck=gc.gradgradcheck)
        return getattr(gc, name)
    if name in ("functional", "profiler", "forward_ad", "graph"):
        import importlib
        return importlib.import_module(__name__ + "." + name)
    if name == "Variable":
        from ..tensor import Tensor
        globals()["Variable"] = v = _variable(Tensor)
        return v
    raise AttributeError(f"module 'numtorch.autograd' has no attribute '{name}'")


def _variable(Tensor):
    class VariableMeta(type):
        def __instancecheck__(cls, other):
            return isinstance(other, Tensor)

    class Variable(metaclass=VariableMeta):
        """The pre-0.4 wrapper: ``Variable(t)`` is a detached alias of ``t`` (a leaf, requires_grad as
        asked); ``isinstance(t, Variable)`` is True for every tensor."""

        def __new__(cls, data, requires_grad=False, volatile=False):
            t = data.detach()
            if requires_grad:
                t.requires_grad_(True)
            return t
    return Variable
