"""nn.init: distributions (moments and bounds with fixed seeds), gains, fans and PyTorch's errors."""
import math
import warnings

import numpy as np
import pytest

import numtorch as nt
from numtorch.nn import init


def _arr(t):
    return t.detach().numpy().astype(np.float64)


def test_calculate_gain():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == 5.0 / 3
    assert init.calculate_gain("relu") == math.sqrt(2.0)
    assert init.calculate_gain("leaky_relu") == math.sqrt(2.0 / (1 + 0.01 ** 2))
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2.0 / 1.04)
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity foo"):
        init.calculate_gain("foo")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)


def test_fans():
    assert init._calculate_fan_in_and_fan_out(nt.empty(3, 5)) == (5, 3)
    assert init._calculate_fan_in_and_fan_out(nt.empty(4, 2, 3, 3)) == (18, 36)
    assert init._calculate_correct_fan(nt.empty(4, 2, 3), "FAN_OUT") == 12
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed for tensor with fewer than 2"):
        init._calculate_fan_in_and_fan_out(nt.empty(3))
    with pytest.raises(ValueError, match=r"Mode fan_x not supported, please use one of \['fan_in', 'fan_out'\]"):
        init.kaiming_uniform_(nt.empty(2, 2), mode="fan_x")


def test_uniform_normal_constant():
    nt.manual_seed(0)
    w = nt.empty(300, 200)
    a = _arr(init.uniform_(w, -2.0, 3.0))
    assert a.min() >= -2.0 and a.max() < 3.0 and abs(a.mean() - 0.5) < 0.03
    a = _arr(init.normal_(w, 1.0, 2.0))
    assert abs(a.mean() - 1.0) < 0.03 and abs(a.std() - 2.0) < 0.03
    assert (_arr(init.constant_(w, 0.25)) == 0.25).all()
    assert (_arr(init.ones_(w)) == 1).all() and (_arr(init.zeros_(w)) == 0).all()


def test_init_runs_under_no_grad_on_parameters():
    p = nt.nn.Parameter(nt.empty(4, 3))
    out = init.kaiming_uniform_(p, a=math.sqrt(5))
    assert out is p and p.is_leaf and p.grad_fn is None and p.requires_grad


def test_kaiming_and_xavier_bounds_and_moments():
    nt.manual_seed(1)
    w = nt.empty(256, 128)
    a = _arr(init.kaiming_uniform_(w, a=math.sqrt(5)))
    bound = 1 / math.sqrt(128)                     # gain sqrt(2/6) * sqrt(3/fan_in)
    assert a.max() <= bound and a.min() >= -bound and a.max() > 0.98 * bound
    a = _arr(init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu"))
    assert abs(a.std() - math.sqrt(2.0 / 256)) < 0.003
    a = _arr(init.xavier_uniform_(w, gain=2.0))
    b = 2.0 * math.sqrt(6.0 / (256 + 128))
    assert a.max() <= b and a.min() >= -b and abs(a.std() - b / math.sqrt(3)) < 0.003
    a = _arr(init.xavier_normal_(w))
    assert abs(a.std() - math.sqrt(2.0 / 384)) < 0.002
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        init.kaiming_uniform_(nt.empty(0, 3))
    assert "Initializing zero-element tensors is a no-op" in str(rec[0].message)


def test_manual_seed_reproducible():
    nt.manual_seed(5)
    a = _arr(init.trunc_normal_(nt.empty(10, 10)))
    nt.manual_seed(5)
    assert (a == _arr(init.trunc_normal_(nt.empty(10, 10)))).all()


def test_trunc_normal():
    nt.manual_seed(2)
    a = _arr(init.trunc_normal_(nt.empty(200, 200), mean=0.5, std=1.0, a=-1.0, b=1.5))
    assert a.min() >= -1.0 and a.max() <= 1.5
    # truncated N(0.5, 1) on [-1, 1.5]: mean 0.5 + (phi(-1.5) - phi(1)) / (Phi(1) - Phi(-1.5))
    phi = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    expect = 0.5 + (phi(-1.5) - phi(1.0)) / (cdf(1.0) - cdf(-1.5))
    assert abs(a.mean() - expect) < 0.01
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        init.trunc_normal_(nt.empty(3), mean=10.0, a=-1.0, b=1.0)


def test_eye_dirac_orthogonal_sparse():
    w = init.eye_(nt.empty(3, 5))
    assert (_arr(w) == np.eye(3, 5)).all()
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(nt.empty(3))
    d = _arr(init.dirac_(nt.empty(4, 2, 3), groups=2))
    ref = np.zeros((4, 2, 3))
    ref[0, 0, 1] = ref[1, 1, 1] = ref[2, 0, 1] = ref[3, 1, 1] = 1
    assert (d == ref).all()
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
        init.dirac_(nt.empty(3, 2, 3), groups=2)
    with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions are supported"):
        init.dirac_(nt.empty(3, 2))
    nt.manual_seed(3)
    for shape in [(6, 4), (4, 6), (3, 2, 2)]:
        q = _arr(init.orthogonal_(nt.empty(*shape), gain=2.0)).reshape(shape[0], -1)
        g = q @ q.T if q.shape[0] <= q.shape[1] else q.T @ q
        np.testing.assert_allclose(g, 4 * np.eye(min(q.shape)), atol=1e-5)
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions are supported"):
        init.orthogonal_(nt.empty(3))
    s = _arr(init.sparse_(nt.empty(10, 6), sparsity=0.3))
    assert ((s == 0).sum(0) == 3).all() and np.abs(s).max() < 0.1


def test_deprecated_aliases():
    with pytest.warns(FutureWarning, match="`nn.init.uniform` is now deprecated in favor of `nn.init.uniform_`"):
        init.uniform(nt.empty(2))
