"""Shared pieces of the loss functions: reduction names (torch.nn._reduction), the legacy size_average /
reduce arguments, and the two ways a loss records one named graph node."""
import warnings

from ...autograd.graph import needs_grad, record
from ...autograd.grad_mode import enable_grad, is_grad_enabled, no_grad


class _Reduction:
    """torch.nn._reduction: reduction names and the legacy size_average/reduce arguments."""

    @staticmethod
    def get_enum(reduction):
        if reduction == "none":
            return 0
        if reduction == "mean":
            return 1
        if reduction == "elementwise_mean":
            warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.")
            return 1
        if reduction == "sum":
            return 2
        raise ValueError(f"{reduction} is not a valid value for reduction")

    @staticmethod
    def legacy_get_string(size_average, reduce, emit_warning=True):
        warning = "size_average and reduce args will be deprecated, please use reduction='{}' instead."
        if size_average is None:
            size_average = True
        if reduce is None:
            reduce = True
        if size_average and reduce:
            ret = "mean"
        elif reduce:
            ret = "sum"
        else:
            ret = "none"
        if emit_warning:
            warnings.warn(warning.format(ret), stacklevel=3)
        return ret

    @staticmethod
    def legacy_get_enum(size_average, reduce, emit_warning=True):
        return _Reduction.get_enum(_Reduction.legacy_get_string(size_average, reduce, emit_warning))


_NAMES = ("none", "mean", "sum")


def _reduction(size_average, reduce, reduction):
    if size_average is not None or reduce is not None:
        return _Reduction.legacy_get_string(size_average, reduce)
    return _NAMES[_Reduction.get_enum(reduction)] if reduction != "elementwise_mean" else "mean"


def _apply(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _nt():
    import numtorch
    return numtorch


def _size_warn(input, target, stacklevel=3):
    if target.size() != input.size():
        warnings.warn(f"Using a target size ({target.size()}) that is different to the input size ({input.size()}). "
                      "This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", stacklevel=stacklevel)
        return _nt().broadcast_tensors(input, target)
    return input, target


def _pointwise(name, input, target, reduction, fwd, bwd):
    """One node named ``name`` over (input, target): fwd(x, y) is the elementwise loss, bwd(x, y, ge, wy)
    the (grad x, grad y or None) for the elementwise output grad ge (wy: target needs a grad)."""
    with no_grad():
        elem = fwd(input, target)
        out = _apply(elem, reduction)
    if needs_grad(input, target):
        shape, n = elem.shape, elem.numel()
        wy = needs_grad(target)

        def bw(node, g):
            x, y = node.saved_tensors
            ge = g if reduction == "none" else (g / n if reduction == "mean" else g).expand(shape)
            return bwd(x, y, ge, wy)
        record(name, out, (input, target), bw, save=(input, target))
    return out


def _one_node(name, fn, inputs):
    """A composite ``fn(*inputs)`` recorded as one node called ``name``; its backward re-runs fn with grad
    (on the saved inputs themselves under create_graph, so double backward reaches them)."""
    nt = _nt()
    with no_grad():
        out = fn(*inputs)
    if not needs_grad(*inputs):
        return out

    def bw(node, g):
        xs = node.saved_tensors
        want = [i for i, t in enumerate(xs) if isinstance(t, nt.Tensor) and t.requires_grad]
        cg = is_grad_enabled()
        if cg:
            leaves = list(xs)
        else:
            leaves = [t.detach().requires_grad_() if i in want else t for i, t in enumerate(xs)]
        with enable_grad():
            r = fn(*leaves)
            gs = nt.autograd.grad(r, [leaves[i] for i in want], g, create_graph=cg, allow_unused=True)
        res = [None] * len(xs)
        for i, gi in zip(want, gs):
            res[i] = gi
        return tuple(res)
    record(name, out, tuple(inputs), bw, save=tuple(inputs))
    return out
