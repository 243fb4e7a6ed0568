"""Run one test case with numtorch and with PyTorch (when importable) and compare the results.

``def case(T): ...`` builds inputs from NumPy arrays (``T.tensor(arr)``) so both libraries see the same
values; ``twin(case)`` returns numtorch's result after checking it against PyTorch's (values, dtypes,
shapes, grad_fn names of tensors; plain values by equality)."""
import numpy as np

import numtorch


def _torch():
    try:
        import torch
        return torch
    except ImportError:
        return None


def to_np(x):
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


def assert_same(a, b, rtol=1e-5, atol=1e-6, grad_fn=True, path="result"):
    """``a`` from numtorch, ``b`` from torch: same structure, dtypes, shapes, values, grad_fn names."""
    if hasattr(b, "detach") and hasattr(b, "dtype"):
        assert isinstance(a, numtorch.Tensor), f"{path}: numtorch gave {type(a)}"
        assert str(a.dtype) == str(b.dtype), f"{path}: dtype {a.dtype} vs {b.dtype}"
        assert tuple(a.shape) == tuple(b.shape), f"{path}: shape {tuple(a.shape)} vs {tuple(b.shape)}"
        if grad_fn:
            na = type(a.grad_fn).__name__ if a.grad_fn is not None else None
            nb = type(b.grad_fn).__name__ if b.grad_fn is not None else None
            assert na == nb, f"{path}: grad_fn {na} vs {nb}"
        np.testing.assert_allclose(to_np(a).astype(np.float64) if a.dtype.is_floating_point else to_np(a),
                                   to_np(b).astype(np.float64) if b.dtype.is_floating_point else to_np(b),
                                   rtol=rtol, atol=atol, err_msg=path, equal_nan=True)
    elif isinstance(b, (tuple, list)):
        assert len(a) == len(b), f"{path}: length {len(a)} vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, rtol, atol, grad_fn, f"{path}[{i}]")
    elif isinstance(b, dict):
        assert list(a.keys()) == list(b.keys()), f"{path}: keys {list(a)} vs {list(b)}"
        for k in b:
            assert_same(a[k], b[k], rtol, atol, grad_fn, f"{path}[{k!r}]")
    elif isinstance(b, float):
        assert np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True), f"{path}: {a} vs {b}"
    else:
        assert a == b, f"{path}: {a!r} vs {b!r}"


def twin(case, rtol=1e-5, atol=1e-6, grad_fn=True):
    """Run ``case(numtorch)``; where torch is importable also ``case(torch)`` and compare."""
    mine = case(numtorch)
    torch = _torch()
    if torch is not None:
        assert_same(mine, case(torch), rtol, atol, grad_fn)
    return mine


def twin_raises(case, exc, match=None):
    """Both libraries raise ``exc`` (message starting with ``match`` when given)."""
    import pytest
    for T in (numtorch, _torch()):
        if T is None:
            continue
        with pytest.raises(exc) as info:
            case(T)
        if match is not None:
            assert str(info.value).startswith(match), f"{T.__name__}: {info.value}"
