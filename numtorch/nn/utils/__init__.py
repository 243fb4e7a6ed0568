"""``torch.nn.utils``: gradient clipping, parameter/vector conversion, weight/spectral norm,
parametrizations and stateless calls. ``rnn`` and ``fusion`` come from other files and load lazily."""
from . import parametrizations, parametrize, stateless  # noqa: F401
from .clip_grad import clip_grad_norm, clip_grad_norm_, clip_grad_value_  # noqa: F401
from .clip_grad import clip_grads_with_norm_, get_total_norm  # noqa: F401
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401
from .spectral_norm import remove_spectral_norm, spectral_norm  # noqa: F401
from .weight_norm import remove_weight_norm, weight_norm  # noqa: F401

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grads_with_norm_", "clip_grad_value_",
           "fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights",
           "get_total_norm", "parameters_to_vector", "parametrizations", "parametrize", "remove_spectral_norm",
           "remove_weight_norm", "rnn", "skip_init", "spectral_norm", "stateless", "vector_to_parameters",
           "weight_norm"]

_FUSION = ("fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights")


def skip_init(module_cls, *args, **kwargs):
    """Build ``module_cls(*args, **kwargs)`` without paying for its parameter initialisation: here the
    module is built normally (initialisation is cheap), then left as is."""
    if not issubclass(module_cls, __import__("numtorch").nn.Module):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    return module_cls(*args, **kwargs)


def __getattr__(name):
    # rnn.py (recurrent helper) and fusion.py (convolution helper) are other owners' files: load on first use.
    import importlib
    if name in ("rnn", "fusion"):
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{name}":
                raise
    elif name in _FUSION:
        try:
            return getattr(importlib.import_module(f"{__name__}.fusion"), name)
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.fusion":
                raise
    raise AttributeError(f"module '{__name__}' has no attribute '{name}'")
