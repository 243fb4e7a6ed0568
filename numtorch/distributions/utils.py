"""Helpers shared by the distributions: broadcasting parameters, probs <-> logits, lazy properties."""
import numbers

__all__ = ["broadcast_all", "logits_to_probs", "probs_to_logits", "clamp_probs", "lazy_property"]


def _nt():
    import numtorch
    return numtorch


def broadcast_all(*values):
    """Tensors of one broadcast shape; numbers become tensors of the tensors' dtype (default dtype if none)."""
    nt = _nt()
    if not all(isinstance(v, nt.Tensor) or isinstance(v, numbers.Number) for v in values):
        raise ValueError("Input arguments must all be instances of numbers.Number, torch.Tensor or objects "
                         "implementing __torch_function__.")
    if not all(isinstance(v, nt.Tensor) for v in values):
        like = next((v for v in values if isinstance(v, nt.Tensor)), None)
        kw = dict(dtype=like.dtype, device=like.device) if like is not None else dict(dtype=nt.get_default_dtype())
        values = [v if isinstance(v, nt.Tensor) else nt.tensor(v, **kw) for v in values]
    return nt.broadcast_tensors(*values)


def clamp_probs(probs):
    nt = _nt()
    eps = nt.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def logits_to_probs(logits, is_binary=False):
    return logits.sigmoid() if is_binary else logits.softmax(-1)


def probs_to_logits(probs, is_binary=False):
    ps = clamp_probs(probs)
    if is_binary:
        return ps.log() - (-ps).log1p()
    return ps.log()


class lazy_property:
    """Computed on first access, then cached in the instance ``__dict__``."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        nt = _nt()
        with nt.enable_grad():
            value = self.wrapped(instance)
        instance.__dict__[self.wrapped.__name__] = value
        return value
