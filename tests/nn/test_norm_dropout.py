"""Dropout family: mask statistics, scaling, identity cases, seed repeatability, channel masks, grads, errors."""
import warnings

import numpy as np
import pytest

import numtorch as nt
from numtorch.kernels import dropout as kd
from _fd import check_grad
from _twin import twin, twin_raises

F = nt.nn.functional


@pytest.mark.parametrize("dtype", [nt.float32, nt.float64])
def test_dropout_statistics_and_scaling(dtype):
    nt.manual_seed(0)
    x = nt.ones(400, 100, dtype=dtype, requires_grad=True)       # above the parallel threshold
    y = F.dropout(x, 0.3)
    v = y.detach().numpy()
    kept = v != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(v[kept], 1 / 0.7, rtol=1e-6)
    assert type(y.grad_fn).__name__ == "MulBackward0" and y.dtype is dtype
    y.backward(nt.full((400, 100), 2.0, dtype=dtype))
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, 2 / 0.7, 0.0), rtol=1e-6)
    nt.manual_seed(0)
    assert nt.equal(F.dropout(x, 0.3), y)          # manual_seed makes the mask repeatable
    assert not nt.equal(F.dropout(x, 0.3), y)      # the stream moves on


def test_dropout_identity_and_extremes():
    x = nt.tensor([[1.0, -2.0], [3.0, 4.0]], requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    z = F.dropout(x, 1.0)
    assert z.tolist() == [[0.0, -0.0], [0.0, 0.0]] and type(z.grad_fn).__name__ == "MulBackward0"
    m = nt.nn.Dropout(0.5)
    m.eval()
    assert m(x) is x
    h = nt.ones(1000)
    r = F.dropout(h, 0.5, inplace=True)
    assert r is h and set(h.tolist()) == {0.0, 2.0}


def test_dropout_grad_and_double_backward():
    x = nt.tensor(np.linspace(-1, 1, 12).reshape(3, 4), requires_grad=True)
    for f in (lambda x: F.dropout(x, 0.4), lambda x: F.dropout1d(x, 0.4)):
        nt.manual_seed(5)
        y = f(x)
        nt.manual_seed(5)
        check_grad(lambda x: (nt.manual_seed(5), f(x))[1], x)
        g, = nt.autograd.grad((y * y).sum(), x, create_graph=True)
        gg, = nt.autograd.grad(g.sum(), x)
        mask = (y.detach().numpy() != 0).reshape(3, 4)
        np.testing.assert_allclose(gg.numpy(), np.where(mask, 2 / 0.36, 0.0), rtol=1e-10)


def test_channel_dropout():
    nt.manual_seed(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = F.dropout2d(nt.ones(8, 16, 3, 3), 0.5).numpy()
        assert (y == y[:, :, :1, :1]).all() and set(np.unique(y)) == {0.0, 2.0}
        y1 = F.dropout1d(nt.ones(16, 5), 0.5).numpy()                   # unbatched (C, L)
        assert (y1 == y1[:, :1]).all() and 0 < (y1[:, 0] == 0).sum() < 16
        y3 = F.dropout3d(nt.ones(2, 8, 2, 2, 2), 0.25).numpy()
        assert (y3 == y3[:, :, :1, :1, :1]).all()
    with pytest.warns(UserWarning, match="dropout2d: Received a 3D input"):
        F.dropout2d(nt.ones(2, 3, 4), 0.5)
    with pytest.warns(UserWarning, match="dropout2d: Received a 5-D input"):
        F.dropout2d(nt.ones(1, 2, 1, 1, 1), 0.5)
    twin_raises(lambda T: T.nn.functional.dropout1d(T.ones(2, 3, 4, 5), 0.5), RuntimeError,
                "dropout1d: Expected 2D or 3D input, but received a 4D input.")


def test_alpha_dropout():
    nt.manual_seed(2)
    x = nt.randn(40000, dtype=nt.float64)
    y = F.alpha_dropout(x, 0.2, True)
    assert abs(y.mean().item()) < 0.03 and abs(y.std().item() - 1) < 0.03
    assert F.alpha_dropout(x, 0.2) is x                  # training defaults to False
    xr = x.detach().requires_grad_()
    assert type(F.alpha_dropout(xr, 0.2, True).grad_fn).__name__ == "AddBackward0"
    f = F.feature_alpha_dropout(nt.ones(4, 50, 3), 0.5, True).numpy()
    assert (f == f[:, :, :1]).all() and len(np.unique(f)) == 2
    assert F.alpha_dropout(nt.ones(3), 1.0, True).tolist() == [0.0, 0.0, 0.0]


def test_errors_and_reprs():
    twin_raises(lambda T: T.nn.functional.dropout(T.ones(3), 1.5), ValueError,
                "dropout probability has to be between 0 and 1, but got 1.5")
    twin_raises(lambda T: T.nn.Dropout(-0.1), ValueError, "dropout probability has to be between 0 and 1, but got -0.1")
    with pytest.warns(UserWarning, match="dropout2d: Received a 1-D input"):
        twin_raises(lambda T: T.nn.functional.dropout2d(T.ones(3), 0.5), RuntimeError,
                    "Feature dropout requires at least 2 dimensions in the input")
    assert repr(nt.nn.Dropout()) == "Dropout(p=0.5, inplace=False)"
    assert repr(nt.nn.Dropout2d(0.3, True)) == "Dropout2d(p=0.3, inplace=True)"
    assert repr(nt.nn.AlphaDropout(0.2)) == "AlphaDropout(p=0.2, inplace=False)"
    assert repr(nt.nn.FeatureAlphaDropout()) == "FeatureAlphaDropout(p=0.5, inplace=False)"
    assert repr(nt.nn.Dropout1d()) == "Dropout1d(p=0.5, inplace=False)"
    assert repr(nt.nn.Dropout3d()) == "Dropout3d(p=0.5, inplace=False)"

    def case(T):
        return T.nn.functional.dropout(T.tensor([1.0, 2.0]), 0.5, training=False), T.nn.Dropout(0.2).eval()(T.ones(2))
    twin(case)


def test_kernel_mask_and_backward():
    x = np.arange(1.0, 7.0)
    y, m = np.empty(6), np.empty(3, np.uint8)
    kd.dropout(x, y, m, 3, 2, 0.5, 2.0, 1234)
    np.testing.assert_array_equal(y, x * np.repeat(m, 2) * 2.0)
    m2 = np.empty(3, np.uint8)
    kd.keep_mask(m2, 3, 0.5, 1234)
    np.testing.assert_array_equal(m, m2)                  # the same draw in both kernels
    out = np.empty(6)
    kd.dropout_backward(np.ones(6), m, 3, 2, 2.0, out)
    np.testing.assert_array_equal(out, np.repeat(m, 2) * 2.0)
    big = np.empty(1 << 16, np.uint8)
    assert kd.keep_mask(big, big.size, 1.0, 9).sum() == 0
    assert kd.keep_mask(big, big.size, 0.0, 9).sum() == big.size
