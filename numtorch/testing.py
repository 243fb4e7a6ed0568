"""``torch.testing``: ``assert_close`` (PyTorch's default tolerances and mismatch report) and ``make_tensor``."""
import math
import numbers

import numpy as np

from . import dtypes as _dt
from .tensor import Tensor

# PyTorch's default (rtol, atol) per dtype.
_TOLS = {_dt.float16: (1e-3, 1e-5), _dt.float32: (1.3e-6, 1e-5), _dt.float64: (1e-7, 1e-7)}


class _Mismatch(AssertionError):
    pass


def _tols(dt, rtol, atol):
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got no "
                         f"{'rtol' if rtol is None else 'atol'}.")
    if rtol is not None:
        return rtol, atol
    return _TOLS.get(dt, (0.0, 0.0))


def _fmt_index(i):
    return "(" + "".join(f"{int(k)}," if n == 0 else f" {int(k)}," for n, k in enumerate(i))[:-1] + \
        ("," if len(i) == 1 else "") + ")"


def _compare_tensors(a, e, rtol, atol, equal_nan, check_dtype, check_device, check_stride):
    for attr, va, ve in (("shape", a.shape, e.shape),):
        if va != ve:
            raise _Mismatch(f"The values for attribute '{attr}' do not match: {va} != {ve}.")
    if check_device and a.device != e.device:
        raise _Mismatch(f"The values for attribute 'device' do not match: {a.device} != {e.device}.")
    if check_dtype and a.dtype is not e.dtype:
        raise _Mismatch(f"The values for attribute 'dtype' do not match: {a.dtype} != {e.dtype}.")
    if check_stride and a.stride() != e.stride():
        raise _Mismatch(f"The values for attribute 'stride()' do not match: {a.stride()} != {e.stride()}.")
    dt = _dt.promote_types(a.dtype, e.dtype) if a.dtype is not e.dtype else a.dtype
    rtol, atol = _tols(dt, rtol, atol)
    x = a.detach().cpu().numpy()
    y = e.detach().cpu().numpy()
    floating = dt.is_floating_point
    if floating:
        x, y = x.astype(np.float64), y.astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            ok = np.isclose(x, y, rtol=rtol, atol=atol, equal_nan=equal_nan) | (x == y)
    else:
        x, y = x.astype(np.int64), y.astype(np.int64)
        ok = np.abs(x - y) <= atol + rtol * np.abs(y)
    if ok.all():
        return
    n, bad = ok.size, int((~ok).sum())
    if a.ndim == 0 and e.ndim == 0:
        av, ev = (float(x), float(y)) if floating else (int(x), int(y))
        return _scalar_report(av, ev, rtol, atol, kind_close=floating or bool(rtol or atol))
    with np.errstate(all="ignore"):
        if floating:
            xd, yd = x.astype(dt.np), y.astype(dt.np)      # PyTorch reports differences in the compared dtype
            absd = np.abs(xd - yd).astype(np.float64)
            reld = (np.abs(xd - yd) / np.abs(yd)).astype(np.float64)
        else:
            absd = np.abs(x - y)
            reld = (absd.astype(np.float32) / np.abs(y).astype(np.float32)).astype(np.float64)
    absd_m = np.where(ok, 0, absd)
    reld_m = np.where(ok, 0, reld)
    ia = np.unravel_index(np.nanargmax(absd_m) if not np.isnan(absd_m).all() else 0, absd.shape) if absd.ndim \
        else ()
    ir = np.unravel_index(np.nanargmax(reld_m) if not np.isnan(reld_m).all() else 0, reld.shape) if reld.ndim \
        else ()
    if np.isnan(absd_m).any():
        ia = np.unravel_index(int(np.argmax(np.isnan(absd_m))), absd.shape) if absd.ndim else ()
    if np.isnan(reld_m).any():
        ir = np.unravel_index(int(np.argmax(np.isnan(reld_m))), reld.shape) if reld.ndim else ()
    va, vr = absd[ia] if absd.ndim else absd, reld[ir] if reld.ndim else reld
    va = float(va) if floating else int(va)
    kind = "close" if floating or rtol or atol else "equal"
    lines = [f"Tensor-likes are not {kind}!", "", f"Mismatched elements: {bad} / {n} ({bad / n * 100:.1f}%)"]
    tail_a = f" (up to {atol} allowed)" if kind == "close" else ""
    tail_r = f" (up to {rtol} allowed)" if kind == "close" else ""
    if absd.ndim:
        lines.append(f"Greatest absolute difference: {va} at index {_fmt_index(ia)}{tail_a}")
        lines.append(f"Greatest relative difference: {float(vr)} at index {_fmt_index(ir)}{tail_r}")
    else:
        lines.append(f"Greatest absolute difference: {va}{tail_a}")
        lines.append(f"Greatest relative difference: {float(vr)}{tail_r}")
    raise _Mismatch("\n".join(lines))


def _compare_scalars(a, e, rtol, atol, equal_nan):
    if isinstance(a, bool) or isinstance(e, bool):
        if a != e:
            raise _Mismatch(f"Booleans mismatch: {a} is not {e}")
        return
    if isinstance(a, float) or isinstance(e, float):
        rtol, atol = _tols(_dt.float64, rtol, atol) if (rtol is None and atol is None) else (rtol, atol)
        if rtol is None or atol is None:
            _tols(_dt.float64, rtol, atol)
    else:
        rtol, atol = (0, 0) if rtol is None and atol is None else _tols(None, rtol, atol)
    if a == e or (equal_nan and isinstance(a, float) and math.isnan(a) and math.isnan(e)):
        return
    if abs(a - e) <= atol + rtol * abs(e):
        return
    _scalar_report(a, e, rtol, atol, kind_close=bool(rtol or atol))


def _scalar_report(a, e, rtol, atol, kind_close):
    d = abs(a - e)
    rel = d / abs(e) if e else math.inf
    if kind_close:
        raise _Mismatch(f"Scalars are not close!\n\nExpected {e} but got {a}.\nAbsolute difference: {d} (up to "
                        f"{atol} allowed)\nRelative difference: {rel} (up to {rtol} allowed)")
    raise _Mismatch(f"Scalars are not equal!\n\nExpected {e} but got {a}.\nAbsolute difference: {d}\n"
                    f"Relative difference: {rel}")


def _compare(a, e, path, kw):
    rtol, atol, equal_nan = kw["rtol"], kw["atol"], kw["equal_nan"]
    if isinstance(a, Tensor) and isinstance(e, Tensor):
        return _compare_tensors(a, e, rtol, atol, equal_nan, kw["check_dtype"], kw["check_device"],
                                kw["check_stride"])
    if isinstance(a, np.ndarray) and isinstance(e, np.ndarray):
        from .creation import from_numpy
        return _compare(from_numpy(np.ascontiguousarray(a)), from_numpy(np.ascontiguousarray(e)), path, kw)
    if isinstance(a, numbers.Number) and isinstance(e, numbers.Number) and \
            not isinstance(a, (Tensor, np.ndarray)) and not isinstance(e, (Tensor, np.ndarray)):
        return _compare_scalars(a, e, rtol, atol, equal_nan)
    if isinstance(a, dict) and isinstance(e, dict):
        if set(a) != set(e):
            raise _Mismatch(f"The keys of the mappings do not match:\nMissing keys: {sorted(set(e) - set(a))}\n"
                            f"Extra keys: {sorted(set(a) - set(e))}")
        for k in e:
            _compare(a[k], e[k], path + [k], kw)
        return
    if isinstance(a, (list, tuple)) and isinstance(e, (list, tuple)):
        if len(a) != len(e):
            raise _Mismatch(f"The length of the sequences mismatch: {len(a)} != {len(e)}")
        for i, (x, y) in enumerate(zip(a, e)):
            _compare(x, y, path + [i], kw)
        return
    raise TypeError(f"No comparison pair was able to handle inputs of type {_pytype(a)} and {_pytype(e)}.")


def _pytype(x):
    return "<class 'torch.Tensor'>" if isinstance(x, Tensor) else str(type(x))


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Raise AssertionError unless ``actual`` and ``expected`` are close (PyTorch's rules and report)."""
    if (rtol is None) != (atol is None):
        _tols(None, rtol, atol)
    kw = dict(rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype, check_device=check_device,
              check_stride=check_stride)
    try:
        _compare(actual, expected, [], kw)
    except _Mismatch as e:
        text = str(e)
        if msg is not None:
            text = msg(text) if callable(msg) else msg
        raise AssertionError(text) from None


def _with_path(fn):
    def run(a, e, path, kw):
        try:
            return fn(a, e, path, kw)
        except _Mismatch as err:
            if path and not getattr(err, "_pathed", False):
                new = _Mismatch(f"{err}\n\nThe failure occurred for item {''.join(f'[{p!r}]' for p in path)}")
                new._pathed = True
                raise new from None
            raise
    return run


_compare = _with_path(_compare)


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """Deprecated alias kept for old scripts."""
    from .creation import as_tensor
    a = actual if isinstance(actual, Tensor) else as_tensor(actual)
    e = expected if isinstance(expected, Tensor) else as_tensor(expected, dtype=a.dtype)
    assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=False, msg=msg or None)


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad=False, noncontiguous=False,
                exclude_zero=False, memory_format=None):
    """A tensor of random values in [low, high) (PyTorch's defaults: [-9, 9] for floats, [-9, 10) ints)."""
    from .creation import tensor
    if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
        shape = tuple(shape[0])
    dt = _dt.to_dtype(dtype)
    rng = np.random.default_rng()
    if low is not None and high is not None and low > high:
        raise ValueError(f"`low` must be less than or equal to `high`, but got {low} > {high}")
    n = int(np.prod(shape)) if shape else 1
    if dt is _dt.bool:
        vals = rng.integers(0, 2, n).astype(bool)
    elif dt.is_floating_point:
        lo = -9.0 if low is None else max(low, -9.0 if low is None else low)
        hi = 9.0 if high is None else high
        vals = rng.uniform(lo, hi, n)
        if exclude_zero:
            vals[vals == 0] = np.finfo(dt.np).tiny if dt is not _dt.float16 else 1e-3
    else:
        info = np.iinfo(dt.np)
        lo = max(info.min, -9 if low is None else math.ceil(low))
        if dt is _dt.uint8 and low is None:
            lo = 0
        hi = min(info.max, 10 if high is None else math.ceil(high))
        vals = rng.integers(lo, hi, n)
        if exclude_zero:
            vals[vals == 0] = 1
    t = tensor(vals.reshape(shape), dtype=dt, device=device)
    if noncontiguous and t.numel() > 1:
        from .joining import repeat_interleave
        t = repeat_interleave(t, 2, dim=-1)[..., ::2]
    if requires_grad:
        t.requires_grad_(True)
    return t


__all__ = ["assert_close", "make_tensor"]
