"""Pooling: max/avg/adaptive/lp pools, max_unpool, their modules, gradients and errors."""
import numpy as np
import pytest

import numtorch as nt
import numtorch.nn.functional as F
from _fd import check_grad
from _twin import twin, twin_raises

RNG = np.random.default_rng(1)
X = RNG.standard_normal((2, 3, 7, 6))
X[0, 0, 1, 1] = X[0, 0, 1, 2] = 5.0          # a tie inside one window: the first maximum wins


def ref_max_pool2d(x, k, s, p):
    N, C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf)
    oh, ow = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
    y = np.empty((N, C, oh, ow))
    for i in range(oh):
        for j in range(ow):
            y[:, :, i, j] = xp[:, :, i * s:i * s + k, j * s:j * s + k].max((2, 3))
    return y


def ref_avg_pool2d(x, k, s, p):
    """count_include_pad=True: zero padding counted in the divisor."""
    N, C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    oh, ow = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
    y = np.empty((N, C, oh, ow))
    for i in range(oh):
        for j in range(ow):
            y[:, :, i, j] = xp[:, :, i * s:i * s + k, j * s:j * s + k].mean((2, 3))
    return y


def _run(fn, arr, dd=False):
    def case(T):
        x = T.tensor(arr, requires_grad=True)
        r = fn(T, T.nn.functional, x)
        y = r[0] if isinstance(r, tuple) else r
        g = T.tensor(np.random.default_rng(2).standard_normal(tuple(y.shape)), requires_grad=dd)
        gx, = T.autograd.grad(y, x, g, create_graph=dd)
        extra = ()
        if dd:   # the input gradient is linear in g: differentiate it again with respect to g
            extra = T.autograd.grad((gx * gx).sum(), g)
        return (r if isinstance(r, tuple) else (r,)) + (gx,) + extra
    return twin(case, rtol=1e-9, atol=1e-12, grad_fn=not dd)


def test_max_avg_pool2d_match_references():
    y = _run(lambda T, F, x: F.max_pool2d(x, 3, 2, 1), X)[0]
    np.testing.assert_allclose(y.detach().numpy(), ref_max_pool2d(X, 3, 2, 1))
    y = _run(lambda T, F, x: F.avg_pool2d(x, 3, 2, 1), X)[0]
    np.testing.assert_allclose(y.detach().numpy(), ref_avg_pool2d(X, 3, 2, 1))
    # the tie: gradient goes to the first maximum only
    x = nt.tensor(X, requires_grad=True)
    F.max_pool2d(x, 3).sum().backward()
    assert float(x.grad[0, 0, 1, 1]) == 1.0 and float(x.grad[0, 0, 1, 2]) == 0.0


@pytest.mark.parametrize("fn", [
    lambda T, F, x: F.max_pool2d(x, (3, 2), (1, 2), (1, 0), ceil_mode=True, return_indices=True),
    lambda T, F, x: F.max_pool2d(x, 3, 2, 1, 2, True, True),
    lambda T, F, x: F.max_pool1d(x[0], 3, 2, 1, return_indices=True),
    lambda T, F, x: F.max_pool3d(x, 2, 1, return_indices=True),
    lambda T, F, x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
    lambda T, F, x: F.avg_pool2d(x, 3, 2, 1, divisor_override=5),
    lambda T, F, x: F.avg_pool1d(x[0], 3, 2, 1, ceil_mode=True),
    lambda T, F, x: F.avg_pool3d(x, (2, 3, 2), padding=1),
    lambda T, F, x: F.adaptive_avg_pool2d(x, (3, 4)),
    lambda T, F, x: F.adaptive_avg_pool2d(x, 1),
    lambda T, F, x: F.adaptive_max_pool2d(x, (None, 4), return_indices=True),
    lambda T, F, x: F.adaptive_max_pool1d(x[0], 4, True),
    lambda T, F, x: F.adaptive_avg_pool1d(x[0], 4),
    lambda T, F, x: F.adaptive_avg_pool3d(x, (2, 3, 4)),
    lambda T, F, x: F.adaptive_max_pool3d(x, (2, 3, 4)),
    lambda T, F, x: F.lp_pool2d(x, 2, 2),
    lambda T, F, x: F.lp_pool1d(x[0], 3, 2),
    lambda T, F, x: F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True), 2, output_size=(7, 6)),
    lambda T, F, x: F.max_unpool1d(*F.max_pool1d(x[0], 2, return_indices=True), 2),
])
def test_pools_match_torch(fn):
    _run(fn, X)


def test_pool_double_backward_and_gradcheck():
    _run(lambda T, F, x: F.avg_pool2d(x, 3, 2, 1), X, dd=True)
    _run(lambda T, F, x: F.max_pool2d(x, 2), X, dd=True)
    x = nt.tensor(X[1:, :2, :5, :4], requires_grad=True)     # no ties: finite differences need a smooth point
    check_grad(lambda x: F.max_pool2d(x, 2, 1, 1), x)
    check_grad(lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), x)
    check_grad(lambda x: F.adaptive_avg_pool2d(x, (3, 2)), x)
    check_grad(lambda x: F.adaptive_max_pool2d(x, (2, 3)), x)


def test_pool_modules_reprs():
    def run(T):
        nn = T.nn
        ms = [nn.MaxPool1d(2), nn.MaxPool2d(2), nn.MaxPool2d((2, 3), 1, 1, return_indices=True, ceil_mode=True),
              nn.MaxPool3d(2), nn.AvgPool1d(2), nn.AvgPool2d(2), nn.AvgPool2d(3, 2, 1, True, False, 3),
              nn.AvgPool3d(2), nn.AdaptiveAvgPool2d((2, 2)), nn.AdaptiveAvgPool2d(1), nn.AdaptiveMaxPool2d((None, 2)),
              nn.AdaptiveAvgPool1d(3), nn.AdaptiveMaxPool1d(2, True), nn.MaxUnpool2d(2), nn.MaxUnpool1d(2, 1),
              nn.LPPool2d(2, 3), nn.LPPool1d(2, 3, 1)]
        x = T.tensor(X)
        return [repr(m) for m in ms] + [ms[1](x), ms[6](x), ms[8](x), ms[15](x)]
    r = twin(run, rtol=1e-9, atol=1e-12)
    assert r[1] == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"


def test_pool_errors_match_torch():
    twin_raises(lambda T: T.nn.functional.max_pool2d(T.ones(1, 4, 5, 5), 3, padding=2), RuntimeError,
                "pad should be at most half of effective kernel size, but got pad=2, kernel_size=3 and dilation=1")
    twin_raises(lambda T: T.nn.functional.max_pool2d(T.ones(1, 4, 2, 2), 3), RuntimeError,
                "Given input size: (4x2x2). Calculated output size: (4x0x0). Output size is too small")
    twin_raises(lambda T: T.nn.functional.max_pool2d(T.ones(4, 2), 2), RuntimeError,
                "non-empty 3D or 4D (batch mode) tensor expected for input")
    twin_raises(lambda T: T.nn.functional.max_pool2d(T.ones(1, 4, 5, 5), 2, stride=0), RuntimeError,
                "stride should not be zero")
    twin_raises(lambda T: T.nn.functional.adaptive_avg_pool2d(T.ones(5), 2), RuntimeError,
                "adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got [5]")


def test_max_unpool_repeated_indices_overwrite_like_torch():
    """Overlapping windows repeat an index: unpooling writes it (last one wins), it does not add."""
    from _twin import twin

    def case(T):
        F = T.nn.functional
        x = T.tensor([[[1., 5., 2., 3.]]])
        out, idx = F.max_pool1d(x, 2, 1, return_indices=True)
        y = T.tensor([[[[1., 9., 2.], [4., 0., 8.]]]])
        o2, i2 = F.max_pool2d(y, 2, 1, return_indices=True)
        return F.max_unpool1d(out, idx, 2, 1), F.max_unpool2d(o2, i2, 2, 1)
    u1, u2 = twin(case)
    assert u1.tolist() == [[[0.0, 5.0, 0.0, 3.0]]]
    assert u2.tolist() == [[[[0.0, 9.0, 0.0], [0.0, 0.0, 0.0]]]]
