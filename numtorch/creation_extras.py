"""Creation and numeric helpers composed from existing ops: empty_strided, scalar_tensor, asarray, frombuffer,
range, window functions, combinations, cov/corrcoef, diagflat, unravel_index, cumulative_trapezoid, histogram(dd),
isin, is_same_size, is_signed."""
import builtins
import itertools
import math
import warnings

import numpy as np

from . import dtypes as _dt
from .return_types import _make as _rt_make, histogram as _RT_histogram
from .tensor import Tensor

_pyrange = builtins.range          # this module defines torch.range
_RT_histogramdd = _rt_make("histogramdd", ("hist", "bin_edges"))

__all__ = ["empty_strided", "scalar_tensor", "asarray", "frombuffer", "range", "hann_window", "hamming_window",
           "blackman_window", "bartlett_window", "kaiser_window", "combinations", "cov", "corrcoef", "diagflat",
           "unravel_index", "cumulative_trapezoid", "trapz", "histogram", "histogramdd", "isin", "is_same_size",
           "is_signed", "positive"]


def empty_strided(size, stride, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    from .creation import empty
    size, stride = tuple(size), tuple(stride)
    n = 1 + sum((s - 1) * st for s, st in zip(size, stride)) if all(size) else 0
    base = empty(n, dtype=dtype, device=device)
    out = base.as_strided(size, stride)._alias()
    out._base = None
    if requires_grad:
        out.requires_grad_(True)
    return out


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    from .creation import tensor
    return tensor(float(s) if dtype is None else s, dtype=dtype or _dt.get_default_dtype(), device=device,
                  requires_grad=requires_grad)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """``torch.asarray``: shares memory with tensors/arrays when dtype and device allow (copy=None)."""
    from .creation import as_tensor, tensor
    if copy is True:
        src = obj.detach() if isinstance(obj, Tensor) else obj
        out = tensor(src if not isinstance(src, Tensor) else src, dtype=dtype, device=device) \
            if not isinstance(src, Tensor) else src.to(device or src.device, dtype or src.dtype, copy=True)
    else:
        out = as_tensor(obj, dtype=dtype, device=device)
        if copy is False and isinstance(obj, (Tensor, np.ndarray)) and out.data_ptr() != (
                obj.data_ptr() if isinstance(obj, Tensor) else obj.ctypes.data):
            raise ValueError("can't alias tensor: copy=False but a copy is needed")
    if requires_grad:
        out = out.detach().requires_grad_(True) if out.grad_fn is None else out
    return out


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    from .creation import from_numpy
    dt = _dt.to_dtype(dtype)
    mv = memoryview(buffer)
    if mv.nbytes == 0:
        raise ValueError("both buffer length (0) and count (-1) must not be 0")
    arr = np.frombuffer(buffer, dtype=dt.np, count=count, offset=offset)
    t = from_numpy(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def range(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    """Deprecated inclusive-end range (warns like PyTorch)."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because its behavior is "
                  "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values in "
                  "[start, end).", UserWarning, stacklevel=2)
    from .creation import tensor
    if end is None:
        start, end = 0, start
    n = int(math.floor((end - start) / step)) + 1
    vals = np.array([start + i * step for i in _pyrange(max(n, 0))], dtype=np.float64)
    return tensor(vals, dtype=dtype or _dt.get_default_dtype(), device=device, requires_grad=requires_grad)




def _window(vals_fn, window_length, periodic, dtype, device, requires_grad):
    from .creation import tensor
    if window_length < 0:
        raise RuntimeError(f"window_length must be non-negative, got {window_length}")
    dt = _dt.get_default_dtype() if dtype is None else _dt.to_dtype(dtype)
    if not dt.is_floating_point:
        raise RuntimeError(f"expected a floating point data type, but got {dt}")
    if window_length == 0:
        vals = np.zeros(0)
    elif window_length == 1:
        vals = np.ones(1)
    else:
        n = window_length + 1 if periodic else window_length
        vals = vals_fn(n)[:window_length]
    return tensor(vals, dtype=dt, device=device, requires_grad=requires_grad)


def _cosine_sum(coeffs):
    def f(n):
        k = np.arange(n, dtype=np.float64)
        return sum(c * np.cos(2 * math.pi * j * k / (n - 1)) * (-1) ** j for j, c in enumerate(coeffs))
    return f


def hann_window(window_length, periodic=True, *, dtype=None, device=None, requires_grad=False, layout=None):
    return _window(_cosine_sum((0.5, 0.5)), window_length, periodic, dtype, device, requires_grad)


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, device=None,
                   requires_grad=False, layout=None):
    return _window(_cosine_sum((alpha, beta)), window_length, periodic, dtype, device, requires_grad)


def blackman_window(window_length, periodic=True, *, dtype=None, device=None, requires_grad=False, layout=None):
    return _window(_cosine_sum((0.42, 0.5, 0.08)), window_length, periodic, dtype, device, requires_grad)


def bartlett_window(window_length, periodic=True, *, dtype=None, device=None, requires_grad=False, layout=None):
    return _window(lambda n: 1 - np.abs(2 * np.arange(n) / (n - 1) - 1), window_length, periodic, dtype, device,
                   requires_grad)


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, device=None, requires_grad=False,
                  layout=None):
    def f(n):
        k = np.arange(n, dtype=np.float64)
        return np.i0(beta * np.sqrt(np.clip(1 - (2 * k / (n - 1) - 1) ** 2, 0, None))) / np.i0(beta)
    return _window(f, window_length, periodic, dtype, device, requires_grad)


def combinations(input, r=2, with_replacement=False):
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    from .creation import tensor
    from .joining import stack
    gen = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = list(gen(_pyrange(input.shape[0]), r))
    if r == 0:
        return input.new_empty((0,))
    if not idx:
        return input.new_empty((0, r))
    cols = tensor(np.array(idx, dtype=np.int64))
    return stack([input[cols[:, j]] for j in _pyrange(r)], 1)


def cov(input, *, correction=1, fweights=None, aweights=None):
    x = input if input.ndim == 2 else input.reshape(1, -1)
    if not x.dtype.is_floating_point:
        x = x.to(_dt.get_default_dtype())
    n = x.shape[1]
    w = None
    if fweights is not None:
        w = fweights.to(x.dtype)
    if aweights is not None:
        w = aweights.to(x.dtype) if w is None else w * aweights
    if w is None:
        avg = x.mean(1, keepdim=True)
        wsum = float(n)
        norm = wsum - correction
        xc = x - avg
        c = xc @ xc.t()
    else:
        wsum = w.sum()
        avg = (x * w).sum(1, keepdim=True) / wsum
        norm = wsum - correction if aweights is None or correction == 0 else \
            wsum - correction * (w * aweights).sum() / wsum
        xc = x - avg
        c = (xc * w) @ xc.t()
    out = c / norm
    return out.squeeze() if input.ndim < 2 else out


def corrcoef(input):
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = c.diagonal().sqrt()
    out = c / d.unsqueeze(1) / d.unsqueeze(0)
    return out.clamp(-1, 1)


def diagflat(input, offset=0):
    from .joining import diag
    return diag(input.reshape(-1), offset)


def unravel_index(indices, shape):
    from .creation import tensor
    idx = indices if isinstance(indices, Tensor) else tensor(indices)
    if idx.dtype.is_floating_point or idx.dtype is _dt.bool:
        raise TypeError("expected 'indices' to be integer dtype, but got " + str(idx.dtype))
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    n = int(np.prod(shape)) if shape else 1
    a = idx.cpu().numpy()
    if ((a < -n) | (a >= n)).any():
        raise RuntimeError(f"'indices' must be in range [-{n}, {n})")
    a = np.where(a < 0, a + n, a)
    return tuple(tensor(v.astype(np.int64), device=idx.device) for v in np.unravel_index(a, shape))


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    n = y.shape[dim]
    if n == 0:
        return y.narrow(dim, 0, 0)
    mid = (y.narrow(dim, 1, n - 1) + y.narrow(dim, 0, n - 1)) / 2
    if x is not None:
        dxs = x.diff(dim=dim if x.ndim == y.ndim else -1)
        mid = mid * dxs
    elif dx is not None:
        mid = mid * dx
    return mid.cumsum(dim)


def trapz(y, x=None, *, dx=None, dim=-1):
    from .extras import trapezoid
    if x is None:
        return trapezoid(y, dx=1 if dx is None else dx, dim=dim)
    return trapezoid(y, x, dim=dim)


def histogram(input, bins=100, *, range=None, weight=None, density=False, out=None):
    from .creation import tensor
    if not input.dtype.is_floating_point:
        raise RuntimeError(f'"histogram_cpu" not implemented for \'{input.dtype.short}\'')
    a = input.detach().cpu().numpy().reshape(-1)
    w = None if weight is None else weight.detach().cpu().numpy().reshape(-1)
    b = bins.detach().cpu().numpy() if isinstance(bins, Tensor) else int(bins)
    if range is None and not isinstance(bins, Tensor) and a.size:
        range = (float(a.min()), float(a.max()))
    h, edges = np.histogram(a.astype(np.float64), bins=b, range=range, weights=w, density=density)
    return _RT_histogram((tensor(h, dtype=input.dtype), tensor(edges, dtype=input.dtype)))


def histogramdd(input, bins=10, *, range=None, weight=None, density=False):
    from .creation import tensor
    a = input.detach().cpu().numpy()
    a2 = a.reshape(-1, a.shape[-1]).astype(np.float64)
    w = None if weight is None else weight.detach().cpu().numpy().reshape(-1)
    b = [x.cpu().numpy() if isinstance(x, Tensor) else x for x in bins] if isinstance(bins, (list, tuple)) else bins
    rng = None if range is None else [tuple(range[2 * i:2 * i + 2]) for i in _pyrange(len(range) // 2)]
    if rng is None and a2.size:
        rng = []
        for i in _pyrange(a2.shape[1]):
            lo, hi = float(a2[:, i].min()), float(a2[:, i].max())
            rng.append((lo, hi))
    h, edges = np.histogramdd(a2, bins=b, range=rng, weights=w, density=density)
    return _RT_histogramdd((tensor(h, dtype=input.dtype), tuple(tensor(e, dtype=input.dtype) for e in edges)))


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    from .creation import tensor
    e = elements if isinstance(elements, Tensor) else tensor(elements)
    t = test_elements.detach().cpu().numpy() if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    res = np.isin(e.detach().cpu().numpy(), t, assume_unique=assume_unique, invert=invert)
    return tensor(res, device=e.device)


def is_same_size(input, other):
    return input.shape == other.shape


def is_signed(input):
    return input.is_signed()


def positive(input):
    return input.positive()
