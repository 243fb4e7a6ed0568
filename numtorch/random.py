"""Random numbers: ``Generator``, ``manual_seed`` and the sampling factories.

Streams come from NumPy's PCG64: the same seed gives the same values in numtorch, but numtorch does not
reproduce PyTorch's Mersenne-Twister/Philox streams (tutorial printouts of random values differ)."""
import contextlib

import numpy as np

from . import dtypes as _dt
from .shape import Size as _Size, as_shape, check_size_nonneg, numel
from .tensor import Tensor

_DEFAULT_SEED = 67280421310721


class Generator:
    """``torch.Generator``: an independent random stream."""

    def __init__(self, device="cpu"):
        self.device = device
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed):
        seed = int(seed)
        self._seed = seed
        self._rng = np.random.Generator(np.random.PCG64(seed & ((1 << 64) - 1)))
        return self

    def seed(self):
        s = int(np.random.SeedSequence().entropy) & ((1 << 63) - 1)
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        from .creation import tensor
        return tensor(np.frombuffer(repr(self._rng.bit_generator.state).encode(), dtype=np.uint8).copy())

    def set_state(self, state):
        import ast
        st = ast.literal_eval(bytes(state.numpy().tobytes()).decode())
        self._rng.bit_generator.state = st
        return self


default_generator = Generator()


def manual_seed(seed):
    default_generator.manual_seed(seed)
    return default_generator


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)


def _rng(generator):
    return (generator or default_generator)._rng


def _float_dtype(dtype, what):
    dt = _dt.get_default_dtype() if dtype is None else _dt.to_dtype(dtype)
    if not dt.is_floating_point:
        raise RuntimeError(f'"{what}" not implemented for \'{dt.short}\'')
    return dt


def _make(vals, shape, dt, device, requires_grad):
    from .creation import _from_host_array, _dev
    return _from_host_array(np.asarray(vals).reshape(shape), dt, _dev(device), requires_grad)


def _shape(size):
    shape = as_shape(size)
    check_size_nonneg(shape)
    return shape


# -- CUDA: values drawn on the device by kernels.cuda.random ----------------------------------------

_DEV_FLOAT = (np.dtype(np.float32), np.dtype(np.float64))
_DEV_OUT = _DEV_FLOAT + tuple(np.dtype(d) for d in (np.int64, np.int32, np.int16, np.int8, np.uint8, np.bool_))


def _cuda_dev(device):
    """The CUDA device a factory targets (validated; None means the default device), or None for the CPU."""
    from .creation import _dev
    d = _dev(device)
    return d if d.type == "cuda" else None


def _seed_offset(generator):
    """(seed, offset) of a stateless device fill: one draw from the generator, so successive calls
    differ and ``manual_seed`` makes device streams repeatable."""
    seed, off = _rng(generator).bit_generator.random_raw(2)
    return int(seed), int(off)


def _dev_fill(kind, shape, np_dt, dev, generator, *args):
    """A new contiguous CUDA tensor filled by ``kernels.cuda.random.<kind>(buf, n, seed, offset, *args)``."""
    from .kernels._device import cuda_impl
    from .storage import empty_buffer
    n = numel(shape)
    buf = empty_buffer(n, np_dt, dev)
    seed, off = _seed_offset(generator)
    getattr(cuda_impl("random"), kind)(buf, n, seed, off, *args)
    return Tensor._from_buffer(buf, shape, _dt.from_numpy_dtype(np_dt), dev)


def _float_np(dt):
    """Dtype the device kernels draw floats in for ``dt`` (float16 and integers go through a cast)."""
    return dt.np if dt.np in _DEV_FLOAT else np.dtype(np.float32 if dt is _dt.float16 else np.float64)


def _dev_result(t, dt, requires_grad):
    from .creation import _finish
    return _finish(t if t.dtype is dt else t.to(dt), requires_grad)


def _dev_inplace(self, kind, np_dt, generator, *args):
    """Fill ``self`` (a CUDA tensor of any layout) from a fresh device draw."""
    from .ops import copy_
    return copy_(self, _dev_fill(kind, self._shape, np_dt, self.device, generator, *args))


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None, **kw):
    shape = _shape(size)
    dt = _float_dtype(dtype, "check_uniform_bounds")
    dev = _cuda_dev(device)
    if dev is not None:
        return _dev_result(_dev_fill("uniform_", shape, _float_np(dt), dev, generator, 0.0, 1.0), dt, requires_grad)
    vals = _rng(generator).random(numel(shape), dtype=np.float64 if dt is _dt.float64 else np.float32)
    return _make(vals, shape, dt, device, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None, **kw):
    shape = _shape(size)
    dt = _float_dtype(dtype, "normal_kernel_cpu")
    dev = _cuda_dev(device)
    if dev is not None:
        return _dev_result(_dev_fill("normal_", shape, _float_np(dt), dev, generator, 0.0, 1.0), dt, requires_grad)
    vals = _rng(generator).standard_normal(numel(shape), dtype=np.float64 if dt is _dt.float64 else np.float32)
    return _make(vals, shape, dt, device, requires_grad)


_RANDINT_SIGS = "".join(
    f" * ({lead}tuple of ints size, *, {gen}Tensor out = None, torch.dtype dtype = None, torch.layout layout = None, "
    "torch.device device = None, bool pin_memory = False, bool requires_grad = False)\n"
    for lead in ("int high, ", "int low, int high, ") for gen in ("torch.Generator generator, ", ""))


def _randint_args(args, kw):
    """PyTorch's two randint overloads, (high, size) and (low, high, size), positional or by keyword."""
    names = ("high", "size") if len(args) + len(kw.keys() & {"low", "high", "size"}) == 2 and "low" not in kw \
        else ("low", "high", "size")
    got = dict(zip(names, args))
    extra = [k for k in kw if k not in ("low", "high", "size")]
    got.update({k: v for k, v in kw.items() if k in ("low", "high", "size")})
    if len(args) > 3 or extra or set(got) != set(names):
        desc = ", ".join([type(a).__name__ for a in args] + [f"{k}={type(v).__name__}" for k, v in kw.items()])
        if kw and not args:
            desc += ", "
        raise TypeError(f"randint() received an invalid combination of arguments - got ({desc}), but expected one "
                        f"of:\n{_RANDINT_SIGS}")
    for i, n in enumerate(names):
        v = got[n]
        pos = f" (position {i + 1})" if i < len(args) else ""
        if n == "size":
            if not isinstance(v, (tuple, list, _Size)) or not all(isinstance(e, int) for e in v):
                raise TypeError(f"randint(): argument 'size'{pos} must be tuple of ints, not {type(v).__name__}")
        elif isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"randint(): argument '{n}'{pos} must be int, not {type(v).__name__}")
    return int(got.get("low", 0)), int(got["high"]), tuple(got["size"])


def randint(*args, generator=None, dtype=None, device=None, requires_grad=False, out=None, layout=None,
            pin_memory=False, **kw):
    """``torch.randint(high, size)`` / ``torch.randint(low, high, size)`` (also by keyword)."""
    low, high, size = _randint_args(args, kw)
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    shape = _shape((size,) if isinstance(size, int) else size)
    dt = _dt.int64 if dtype is None else _dt.to_dtype(dtype)
    dev = _cuda_dev(device)
    if dev is not None:
        gen = dt.np if dt.np in _DEV_OUT else np.dtype(np.int64)
        return _dev_result(_dev_fill("randint_", shape, gen, dev, generator, int(low), int(high)), dt, requires_grad)
    vals = _rng(generator).integers(low, high, numel(shape), dtype=np.int64)
    return _make(vals, shape, dt, device, requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False, out=None, **kw):
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    dt = _dt.int64 if dtype is None else _dt.to_dtype(dtype)
    dev = _cuda_dev(device)
    if dev is not None:
        gen = dt.np if dt.np in _DEV_OUT and dt is not _dt.bool else np.dtype(np.int64)
        return _dev_result(_dev_fill("randperm", (n,), gen, dev, generator), dt, requires_grad)
    return _make(_rng(generator).permutation(n), (n,), dt, device, requires_grad)


def rand_like(t, *, dtype=None, device=None, requires_grad=False, memory_format=None, **kw):
    return rand(t.shape, dtype=t.dtype if dtype is None else dtype, device=device or t.device,
                requires_grad=requires_grad)


def randn_like(t, *, dtype=None, device=None, requires_grad=False, memory_format=None, **kw):
    return randn(t.shape, dtype=t.dtype if dtype is None else dtype, device=device or t.device,
                 requires_grad=requires_grad)


def randint_like(t, low=0, high=None, *, dtype=None, device=None, requires_grad=False, memory_format=None, **kw):
    if high is None:
        low, high = 0, low
    return randint(low, high, t.shape, dtype=t.dtype if dtype is None else dtype, device=device or t.device,
                   requires_grad=requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False,
           out=None):
    """``torch.normal`` with float mean/std and ``size``, or tensor mean and/or std."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        from . import ops
        m = mean if isinstance(mean, Tensor) else None
        s = std if isinstance(std, Tensor) else None
        ref = m if m is not None else s
        z = randn(ref.shape if m is None or s is None else
                  ops.broadcast_shapes(m.shape, s.shape), dtype=ref.dtype, generator=generator, device=ref.device)
        return z * std + mean
    if size is None:
        raise TypeError("normal() missing required argument 'size'")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    return randn(size, generator=generator, dtype=dtype, device=device) * std + mean if not requires_grad else \
        (randn(size, generator=generator, dtype=dtype, device=device) * std + mean).requires_grad_()


def bernoulli(input, p=None, *, generator=None, out=None):
    if input.device.type == "cuda" and input.dtype.np in _DEV_OUT:
        if p is None:
            src = input.detach().contiguous()
            prob = src._storage.data[src._offset:src._offset + src.numel()]
        elif p < 0 or p > 1:
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
        else:
            prob = float(p)
        return _dev_fill("bernoulli_", input._shape, input.dtype.np, input.device, generator, prob)
    probs = input._host_values() if p is None else np.full(input.shape, p)
    if np.any((probs < 0) | (probs > 1)):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    vals = _rng(generator).random(probs.shape) < probs
    return _make(vals, input.shape, input.dtype, input.device, False)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {input.dtype.short}")
    if input.dim() not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > input.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    p = np.atleast_2d(input._host_values().astype(np.float64))
    if p.size and not (np.isfinite(p).all() and (p >= 0).all()):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if p.size and (p.sum(-1) <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rng = _rng(generator)
    if replacement:
        cdf = np.cumsum(p, -1)
        u = rng.random((p.shape[0], num_samples)) * cdf[:, -1:]
        out = np.stack([np.searchsorted(c, x, side="right") for c, x in zip(cdf, u)]) if p.shape[0] else \
            np.zeros((0, num_samples), np.int64)
        out = np.minimum(out, p.shape[-1] - 1).astype(np.int64)
    else:
        # PyTorch's algorithm: the num_samples largest p / Exp(1) (zero-probability classes come last)
        keys = p / rng.exponential(size=p.shape)
        out = np.argsort(-keys, axis=-1, kind="stable")[:, :num_samples].astype(np.int64)
    return _make(out if input.dim() == 2 else out[0], out.shape if input.dim() == 2 else out.shape[1:],
                 _dt.int64, input.device, False)


# -- in-place fills (methods) ------------------------------------------------------------------------

def _fill_from(self, vals):
    from .ops import copy_
    from .creation import _from_host_array, _dev
    copy_(self, _from_host_array(np.asarray(vals).reshape(self.shape), self.dtype, _dev(None)))
    return self


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    if self.device.type == "cuda":
        return _dev_inplace(self, "uniform_", _float_np(self.dtype), generator, float(a), float(b))
    return _fill_from(self, _rng(generator).uniform(a, b, self.numel()))


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    if self.device.type == "cuda":
        return _dev_inplace(self, "normal_", _float_np(self.dtype), generator, float(mean), float(std))
    return _fill_from(self, _rng(generator).normal(mean, std, self.numel()))


def random_(self, low=0, high=None, *, generator=None):
    if high is None:
        low, high = 0, low if low else (2 ** 24 if self.dtype.is_floating_point else 2 ** 31)
    if self.device.type == "cuda":
        gen = self.dtype.np if self.dtype.np in _DEV_OUT else np.dtype(np.int64)
        return _dev_inplace(self, "randint_", gen, generator, int(low), int(high))
    return _fill_from(self, _rng(generator).integers(low, high, self.numel()))


def bernoulli_(self, p=0.5, *, generator=None):
    if self.device.type == "cuda":
        gen = self.dtype.np if self.dtype.np in _DEV_OUT else np.dtype(np.float32)
        if isinstance(p, Tensor):
            pp = p.detach().to(self.device).expand(self._shape).contiguous()
            if pp.dtype.np not in _DEV_OUT:
                pp = pp.to(_dt.float32)
            p = pp._storage.data[pp._offset:pp._offset + pp.numel()]
        return _dev_inplace(self, "bernoulli_", gen, generator, p)
    return _fill_from(self, _rng(generator).random(self.numel()) < p)


def exponential_(self, lambd=1.0, *, generator=None):
    if self.device.type == "cuda":
        return _dev_inplace(self, "exponential_", _float_np(self.dtype), generator, float(lambd))
    return _fill_from(self, _rng(generator).exponential(1.0 / lambd, self.numel()))


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type="cuda"):
    """Run the block with the global RNG state saved before and restored after (``torch.random.fork_rng``)."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
