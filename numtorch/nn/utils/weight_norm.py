"""Old-style weight normalisation (a forward pre-hook recomputing ``weight`` from ``weight_g``/``weight_v``),
and the helpers ``norm_except_dim`` / ``_weight_norm`` shared with ``parametrizations.weight_norm``."""
import warnings

from ..parameter import Parameter

__all__ = ["WeightNorm", "weight_norm", "remove_weight_norm"]


def norm_except_dim(v, pow=2, dim=0):
    """The ``pow``-norm of ``v`` over every dim but ``dim``, shaped to broadcast against ``v``
    (``dim == -1``: the norm of the whole tensor, as in PyTorch)."""
    if dim == -1:
        return v.norm(pow)
    if dim == 0:
        shape = (v.size(0),) + (1,) * (v.dim() - 1)
        return v.contiguous().view(v.size(0), -1).norm(pow, 1).view(*shape)
    if dim == v.dim() - 1:
        shape = (1,) * (v.dim() - 1) + (v.size(v.dim() - 1),)
        return v.contiguous().view(-1, v.size(v.dim() - 1)).norm(pow, 0).view(*shape)
    return norm_except_dim(v.transpose(0, dim), pow, 0).transpose(0, dim)


def _sum_except_dim(x, dim):
    """Sum over every dim but ``dim`` (0 or the last), shaped like ``norm_except_dim``'s result."""
    if dim == 0:
        return x.reshape(x.size(0), -1).sum(1).view((x.size(0),) + (1,) * (x.dim() - 1))
    return x.reshape(-1, x.size(-1)).sum(0).view((1,) * (x.dim() - 1) + (x.size(-1),))


def _weight_norm_backward(node, grad):
    v, g = node.saved_tensors
    dim = node.ctx
    n = norm_except_dim(v, 2, dim)
    s = _sum_except_dim(grad * v, dim)
    gv = (g / n) * (grad - v * (s / (n * n))) if node.needs[0] else None
    gg = s / n if node.needs[1] else None
    return gv, gg


def _weight_norm(v, g, dim=0):
    """v * (g / ||v||) with the norm over every dim but ``dim``. For dim 0 or the last dim (PyTorch's fused
    case) one WeightNormInterfaceBackward0 node whose backward is made of differentiable ops (so double
    backward works); otherwise PyTorch's composite."""
    if v.dim() == 0 or dim not in (0, v.dim() - 1) or v.dtype.name == "float16":
        return v * (g / norm_except_dim(v, 2, dim))
    from ...autograd.grad_mode import no_grad
    from ...autograd.graph import needs_grad, record
    with no_grad():
        w = v * (g / norm_except_dim(v, 2, dim))
    if needs_grad(v, g):
        record("WeightNormInterfaceBackward0", w, (v, g), _weight_norm_backward, save=(v, g), ctx=dim)
    return w


class WeightNorm:
    """The forward pre-hook of the deprecated ``torch.nn.utils.weight_norm``."""

    def __init__(self, name, dim):
        if dim is None:
            dim = -1
        self.name = name
        self.dim = dim

    def compute_weight(self, module):
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return _weight_norm(v, g, self.dim)

    @staticmethod
    def apply(module, name, dim):
        warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                      "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning, stacklevel=3)
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
        if dim is None:
            dim = -1
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(norm_except_dim(weight, 2, dim).data))
        module.register_parameter(name + "_v", Parameter(weight.data))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module):
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.data))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Reparametrize ``module.<name>`` as g * v / ||v|| (deprecated form; see parametrizations.weight_norm)."""
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name="weight"):
    """Undo ``weight_norm``: ``<name>`` becomes a plain Parameter with the current value."""
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")
