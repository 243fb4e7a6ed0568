"""numtorch: PyTorch's tensor and autograd API over Numba-compiled kernels.

``import numtorch as torch`` runs PyTorch-style numerical and autograd scripts."""
import builtins as _builtins

from . import dtypes as _dtypes
from .dtypes import (bool, uint8, int8, int16, int32, int64, float16, float32, float64, dtype,  # noqa: A004
                     promote_types, result_type, get_default_dtype, set_default_dtype, finfo, iinfo)
from .device import device
from .shape import Size
from .tensor import Tensor, is_tensor
from . import _methods
from .creation import (tensor, as_tensor, from_numpy, empty, zeros, ones, full, empty_like, zeros_like, ones_like,
                       full_like, arange, linspace, logspace, eye, FloatTensor, DoubleTensor, HalfTensor,
                       LongTensor, IntTensor, ShortTensor, CharTensor, ByteTensor, BoolTensor,
                       set_default_device, get_default_device)
from .random import (Generator, manual_seed, seed, initial_seed, get_rng_state, set_rng_state, rand, randn,
                     randint, randperm, rand_like, randn_like, randint_like, normal, bernoulli, multinomial,
                     default_generator)
from .views import (view_as, reshape, flatten, unflatten, permute, transpose, t, movedim, squeeze, unsqueeze,
                    broadcast_to, broadcast_tensors, narrow, select, unbind, split, chunk, tensor_split, diagonal,
                    as_strided, swapaxes)
from .shape import broadcast_shapes as _bshapes
from .ops import clone, where
from .reductions import (sum, nansum, mean, nanmean, prod, max, min, amax, amin, aminmax, argmax, argmin, var,
                         std, var_mean, std_mean, norm, logsumexp, softmax, log_softmax, all, any, count_nonzero,
                         cumsum, cumprod, cummax, cummin, logcumsumexp)
from .autograd import (no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled,
                       is_inference_mode_enabled)
from . import autograd
from ._printing import set_printoptions, get_printoptions
from . import return_types
from .pointwise import PUBLIC as _PW

float = float32          # noqa: A001 (PyTorch's aliases)
double = float64
half = float16
int = int32              # noqa: A001
long = int64
short = int16
uint8 = uint8
chunk = chunk
swapdims = swapaxes
moveaxis = movedim
strided = "torch.strided"
contiguous_format = "torch.contiguous_format"
preserve_format = "torch.preserve_format"

__version__ = "2.13.0+numtorch0.1"

globals().update({k: v for k, v in _PW.items() if k not in globals() or k in ("abs", "round", "pow")})

_methods.bind()


def broadcast_shapes(*shapes):
    return Size(_bshapes(*(tuple(s) if not isinstance(s, _builtins.int) else (s,) for s in shapes)))


def numel(input):
    return input.numel()


def is_floating_point(input):
    return input.dtype.is_floating_point


def is_nonzero(input):
    if input.numel() != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return _builtins.bool(input.item())


def is_storage(obj):
    return False


def is_complex(input):
    return False


def compile(model=None, **kwargs):
    """Identity (numtorch kernels are already compiled)."""
    return model if model is not None else (lambda m: m)


def from_dlpack(ext_tensor):
    """``torch.from_dlpack`` (``numtorch.dlpack`` loads on first use: ctypes structures cost import time)."""
    from .dlpack import from_dlpack as _f
    return _f(ext_tensor)


# Sub-packages and names that load on first use (``torch.nn``, ``torch.save``) so `import numtorch` stays fast.
_LAZY_MODULES = frozenset(("cuda", "linalg", "testing", "viz", "version", "utils", "nn", "optim", "special",
                           "distributions", "distributed", "func", "backends", "profiler", "accelerator",
                           "serialization", "fft", "amp", "jit", "overrides", "hub", "onnx", "multiprocessing"))
_LAZY_NAMES = {"save": "serialization", "load": "serialization", "add_safe_globals": "serialization",
               "safe_globals": "serialization"}


def __getattr__(name):
    # Heavier sub-modules load on first use so `import numtorch` stays fast.
    import importlib
    if name in _LAZY_MODULES:
        try:
            return importlib.import_module(f"numtorch.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"numtorch.{name}":
                raise
            raise AttributeError(f"module 'numtorch' has no attribute '{name}'") from None
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(f"numtorch.{_LAZY_NAMES[name]}"), name)
    for mod in ("indexing", "joining", "sorting", "linalg_ops", "extras"):
        try:
            m = importlib.import_module(f"numtorch.{mod}")
        except ImportError:
            continue
        if name in getattr(m, "__all__", ()):
            return getattr(m, name)
    raise AttributeError(f"module 'numtorch' has no attribute '{name}'")
