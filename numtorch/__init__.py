"""numtorch: PyTorch's tensor and autograd API over Numba-compiled kernels.

``import numtorch as torch`` runs PyTorch-style numerical and autograd scripts."""
import builtins as _builtins

from ._bytecode import writing as _writing_bytecode

_bc = _writing_bytecode().__enter__()     # left again at the end of this file (an import error ends it anyway)

from . import dtypes as _dtypes  # noqa: E402
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
from .pointwise import PUBLIC as _PW, TORCH_LEVEL as _PW_TORCH

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
channels_last = "torch.channels_last"
channels_last_3d = "torch.channels_last_3d"

__version__ = "2.13.0+numtorch0.1"

globals().update({k: v for k, v in _PW.items() if k not in globals() or k in ("abs", "round", "pow")})

globals().update({k: v for k, v in _PW_TORCH.items() if k not in globals()})

_methods.bind()

from ._args import alias_namespace as _alias_namespace  # noqa: E402
_alias_namespace(Tensor)
_alias_namespace(globals())


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


# torch.<name>(input, ...) forms of Tensor methods (in-place ops and a few others PyTorch exposes at top level).
_METHOD_FUNCTIONS = frozenset((
    "abs_ acos_ acosh_ addmv_ arccos_ arccosh_ arcsin_ arcsinh_ arctan_ arctanh_ as_strided_ asin_ asinh_ atan_ "
    "atanh_ ceil_ celu_ clamp_ clamp_max_ clamp_min_ clip_ cos_ cosh_ deg2rad_ detach_ erf_ erfc_ exp2_ exp_ "
    "expm1_ fill_ fix_ floor_ frac_ gcd_ i0_ index_put_ lcm_ ldexp_ log10_ log1p_ log2_ log_ logit_ nan_to_num_ "
    "neg_ negative_ rad2deg_ reciprocal_ relu_ resize_as_ round_ rrelu_ rsqrt_ selu_ sigmoid_ sin_ sinc_ sinh_ "
    "sqrt_ square_ tan_ tanh_ threshold_ trunc_ xlogy_ zero_ detach").split())


def _method_function(name):
    meth = getattr(Tensor, name)

    def f(input, *args, **kwargs):
        return meth(input, *args, **kwargs)
    f.__name__ = f.__qualname__ = name
    return f


# nn.functional families that also give torch.<name> forms (torch.layer_norm, torch.conv2d, torch.dropout ...),
# each declared in its file's TOPLEVEL dict with PyTorch's top-level signature.
_TOPLEVEL_FAMILIES = ("normalization", "dropout", "sparse", "distance", "conv", "pooling", "batchnorm", "padding",
                      "vision", "activation", "loss", "softmax", "attention", "linear")


def _functional_toplevel(name):
    import importlib
    if name.startswith("_"):
        return None
    for fam in _TOPLEVEL_FAMILIES:
        m = importlib.import_module(f"numtorch.nn._functional.{fam}")
        f = getattr(m, "TOPLEVEL", {}).get(name)
        if f is not None:
            globals()[name] = f
            return f
    return None


def __getattr__(name):
    with _writing_bytecode():
        return _getattr(name)


def _getattr(name):
    # Heavier sub-modules load on first use so `import numtorch` stays fast.
    import importlib
    if name in _LAZY_MODULES:
        try:
            return importlib.import_module(f"numtorch.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"numtorch.{name}":
                raise
            raise AttributeError(f"module 'numtorch' has no attribute '{name}'") from None
    if name in _METHOD_FUNCTIONS and hasattr(Tensor, name):
        f = globals()[name] = _method_function(name)
        return f
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(f"numtorch.{_LAZY_NAMES[name]}"), name)
    for mod in ("indexing", "joining", "sorting", "linalg_ops", "extras", "creation_extras", "runtime",
                "linalg_legacy"):
        try:
            m = importlib.import_module(f"numtorch.{mod}")
        except ImportError:
            continue
        if name in getattr(m, "__all__", ()):
            from ._args import aliased
            f = globals()[name] = aliased(getattr(m, name))
            return f
    f = _functional_toplevel(name)
    if f is not None:
        return f
    raise AttributeError(f"module 'numtorch' has no attribute '{name}'")

_bc.__exit__()
