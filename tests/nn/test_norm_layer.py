"""layer_norm / rms_norm / group_norm / local_response_norm: values vs NumPy and torch, fused backward kernels,
double backward, errors, module reprs."""
import numpy as np
import pytest

import numtorch as nt
from numtorch.kernels import norm as kn
from _fd import check_grad
from _twin import twin, twin_raises

F = nt.nn.functional
RNG = np.random.default_rng(7)
A = RNG.standard_normal((3, 2, 4))
W4 = RNG.standard_normal(4)
B4 = RNG.standard_normal(4)
G = np.cos(np.arange(24.0)).reshape(3, 2, 4)


def grads_of(f):
    """x -> d f(x) / dx with create_graph=True (works under the finite-difference checker's no_grad)."""
    def fn(*xs):
        with nt.enable_grad():
            ys = [x if x.requires_grad else x.detach().requires_grad_() for x in xs]
            return nt.autograd.grad(f(*ys), ys, create_graph=True)
    return fn


def _ln_ref(x, axes, w=None, b=None, eps=1e-5, rms=False):
    mu = 0.0 if rms else x.mean(axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axes, keepdims=True)
    y = (x - mu) / np.sqrt(var + eps)
    if w is not None:
        y = y * w
    if b is not None:
        y = y + b
    return y


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_layer_norm_forward_backward_twin(dtype):
    def case(T):
        dt = getattr(T, dtype)
        x = T.tensor(A, dtype=dt, requires_grad=True)
        w = T.tensor(W4, dtype=dt, requires_grad=True)
        b = T.tensor(B4, dtype=dt, requires_grad=True)
        y = T.nn.functional.layer_norm(x, (4,), w, b)
        y.backward(T.tensor(G, dtype=dt))
        return y, x.grad, w.grad, b.grad
    y, gx, gw, gb = twin(case, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(y.detach().numpy(), _ln_ref(A, (-1,), W4, B4), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(gb.numpy(), G.sum((0, 1)), rtol=1e-4, atol=1e-5)
    assert type(y.grad_fn).__name__ == "NativeLayerNormBackward0"


def test_layer_norm_multi_dim_and_no_affine():
    def case(T):
        x = T.tensor(A, requires_grad=True)
        y = T.nn.functional.layer_norm(x, [2, 4], eps=1e-3)
        (y * T.tensor(G)).sum().backward()
        return y, x.grad
    y, gx = twin(case)
    np.testing.assert_allclose(y.detach().numpy(), _ln_ref(A, (1, 2), eps=1e-3), atol=1e-6)
    np.testing.assert_allclose(gx.numpy().sum((1, 2)), 0, atol=1e-6)   # layer norm grads sum to 0 per row


def test_layer_norm_gradcheck_kernel_and_double_backward():
    x = nt.tensor(A, requires_grad=True)
    w = nt.tensor(W4, requires_grad=True)
    b = nt.tensor(B4, requires_grad=True)
    check_grad(lambda x, w, b: F.layer_norm(x, (4,), w, b), x, w, b)
    check_grad(lambda x, w: F.layer_norm(x, (2, 4), w.expand(2, 4)), x, w)
    # composite path (create_graph): gradients of the gradients vs finite differences
    check_grad(grads_of(lambda x, w: (F.layer_norm(x, (4,), w) ** 3).sum()), x, w)


def test_rms_norm():
    def case(T):
        x = T.tensor(A, requires_grad=True)
        w = T.tensor(W4, requires_grad=True)
        y = T.nn.functional.rms_norm(x, [4], w)
        y.backward(T.tensor(G))
        z = T.nn.functional.rms_norm(x.float(), (2, 4))        # eps=None: finfo(float32).eps
        return y, x.grad, w.grad, z
    y, gx, gw, z = twin(case)
    assert type(y.grad_fn).__name__ == "MulBackward0"
    np.testing.assert_allclose(y.detach().numpy(), _ln_ref(A, (-1,), W4, eps=np.finfo(np.float64).eps, rms=True),
                               atol=1e-9)
    np.testing.assert_allclose(z.detach().numpy(), _ln_ref(A, (1, 2), eps=np.finfo(np.float32).eps, rms=True),
                               atol=1e-5)
    x = nt.tensor(A, requires_grad=True)
    w = nt.tensor(W4, requires_grad=True)
    check_grad(lambda x, w: F.rms_norm(x, (4,), w, 1e-6), x, w)
    check_grad(grads_of(lambda x, w: (F.rms_norm(x, (4,), w) ** 3).sum()), x, w)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_group_norm(dtype):
    X = RNG.standard_normal((2, 6, 3))
    Wc, Bc = RNG.standard_normal(6), RNG.standard_normal(6)
    GY = np.sin(np.arange(36.0)).reshape(2, 6, 3)

    def case(T):
        dt = getattr(T, dtype)
        x = T.tensor(X, dtype=dt, requires_grad=True)
        w = T.tensor(Wc, dtype=dt, requires_grad=True)
        b = T.tensor(Bc, dtype=dt, requires_grad=True)
        y = T.nn.functional.group_norm(x, 3, w, b)
        y.backward(T.tensor(GY, dtype=dt))
        return y, x.grad, w.grad, b.grad
    y, gx, gw, gb = twin(case, rtol=1e-4, atol=1e-5)
    assert type(y.grad_fn).__name__ == "NativeGroupNormBackward0"
    ref = _ln_ref(X.reshape(2, 3, 6), (-1,)).reshape(2, 6, 3) * Wc[:, None] + Bc[:, None]
    np.testing.assert_allclose(y.detach().numpy(), ref, rtol=1e-4, atol=1e-5)


def test_group_norm_gradcheck_and_double_backward():
    x = nt.tensor(RNG.standard_normal((2, 4, 3)), requires_grad=True)
    w = nt.tensor(RNG.standard_normal(4), requires_grad=True)
    b = nt.tensor(RNG.standard_normal(4), requires_grad=True)
    check_grad(lambda x, w, b: F.group_norm(x, 2, w, b), x, w, b)
    check_grad(lambda x: F.group_norm(x, 4), x)
    check_grad(grads_of(lambda x, w: (F.group_norm(x, 2, w) ** 3).sum()), x, w)


def test_local_response_norm():
    X = RNG.standard_normal((2, 5, 3))

    def case(T):
        x = T.tensor(X, requires_grad=True)
        y = T.nn.functional.local_response_norm(x, 3, alpha=0.5, beta=0.7, k=2.0)
        y.backward(T.tensor(np.cos(np.arange(30.0)).reshape(2, 5, 3)))
        return y, x.grad
    y, _ = twin(case)
    sq = np.pad(X ** 2, ((0, 0), (1, 1), (0, 0)))
    div = (sum(sq[:, j:j + 5] for j in range(3)) / 3 * 0.5 + 2.0) ** 0.7
    np.testing.assert_allclose(y.detach().numpy(), X / div, rtol=1e-10)
    assert type(y.grad_fn).__name__ == "DivBackward0"


def test_fused_backward_kernels_match_numpy():
    rows, n = 5, 7
    x = RNG.standard_normal(rows * n)
    w = RNG.standard_normal(n)
    g = RNG.standard_normal(rows * n)
    y, m, r = np.empty_like(x), np.empty(rows), np.empty(rows)
    kn.layer_norm(x, rows, n, w, np.empty(0), 1e-5, y, m, r)
    dx, dw, db = np.empty_like(x), np.empty(n), np.empty(n)
    kn.layer_norm_backward(g, x, m, r, w, rows, n, dx, dw, db)
    X, Gm = x.reshape(rows, n), g.reshape(rows, n)
    xh = _ln_ref(X, (-1,))
    gw = Gm * w
    rs = 1 / np.sqrt(X.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(dx.reshape(rows, n), rs * (gw - gw.mean(1, keepdims=True)
                                                           - xh * (gw * xh).mean(1, keepdims=True)), atol=1e-12)
    np.testing.assert_allclose(dw, (Gm * xh).sum(0), atol=1e-12)
    np.testing.assert_allclose(db, Gm.sum(0), atol=1e-12)


def test_errors():
    twin_raises(lambda T: T.nn.functional.layer_norm(T.ones(4, 6), (5,)), RuntimeError,
                "Given normalized_shape=[5], expected input with shape [*, 5], but got input of size[4, 6]")
    twin_raises(lambda T: T.nn.functional.rms_norm(T.ones(4, 6), (2, 3)), RuntimeError,
                "Given normalized_shape=[2, 3], expected input with shape [*2, 3], but got input of size[4, 6]")
    twin_raises(lambda T: T.nn.functional.layer_norm(T.ones(3, 4), [4], T.ones(3)), RuntimeError,
                "Expected weight to be of same shape as normalized_shape, but got weight of shape [3] and "
                "normalized_shape = [4]")
    twin_raises(lambda T: T.nn.functional.group_norm(T.ones(2, 6, 3), 4), RuntimeError,
                "Expected number of channels in input to be divisible by num_groups, but got input of shape "
                "[2, 6, 3] and num_groups=4")
    twin_raises(lambda T: T.nn.GroupNorm(4, 6), ValueError, "num_channels (6) must be divisible by num_groups (4)")
    twin_raises(lambda T: T.nn.functional.local_response_norm(T.ones(3, 4), 2), ValueError,
                "Expected 3D or higher dimensionality")
    twin_raises(lambda T: T.nn.functional.layer_norm(T.arange(6), (6,)), NotImplementedError,
                "\"LayerNormKernelImpl\" not implemented for 'Long'")


def test_modules_and_reprs():
    reprs = [(nt.nn.LayerNorm(6), "LayerNorm((6,), eps=1e-05, elementwise_affine=True, bias=True)"),
             (nt.nn.LayerNorm([2, 3], eps=1e-3, elementwise_affine=False),
              "LayerNorm((2, 3), eps=0.001, elementwise_affine=False, bias=False)"),
             (nt.nn.LayerNorm(4, bias=False), "LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=False)"),
             (nt.nn.RMSNorm(6), "RMSNorm((6,), eps=None, elementwise_affine=True)"),
             (nt.nn.GroupNorm(2, 6), "GroupNorm(2, 6, eps=1e-05, affine=True, bias=True)"),
             (nt.nn.GroupNorm(2, 6, affine=False), "GroupNorm(2, 6, eps=1e-05, affine=False, bias=False)"),
             (nt.nn.LocalResponseNorm(2), "LocalResponseNorm(2, alpha=0.0001, beta=0.75, k=1.0)")]
    for m, r in reprs:
        assert repr(m) == r
    m = nt.nn.LayerNorm(4)
    assert m.weight.tolist() == [1.0] * 4 and m.bias.tolist() == [0.0] * 4
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]

    X = RNG.standard_normal((2, 4, 3))

    def case(T):
        gn = T.nn.GroupNorm(2, 4)
        ln = T.nn.LayerNorm(3)
        rms = T.nn.RMSNorm(3, eps=1e-6)
        x = T.tensor(X, dtype=T.float32)
        return gn(x), ln(x), rms(x)
    twin(case, rtol=1e-4, atol=1e-5)


def test_float16_and_empty():
    x = nt.tensor(A, dtype=nt.float16)
    y = F.layer_norm(x, (4,))
    assert y.dtype is nt.float16
    np.testing.assert_allclose(y.float().numpy(), _ln_ref(A.astype(np.float16).astype(np.float64), (-1,)), atol=3e-3)
    e = F.layer_norm(nt.ones(0, 4), (4,))
    assert tuple(e.shape) == (0, 4)


def test_parallel_kernels_match_numpy():
    """Sizes above the kernels' parallel threshold (the task split and the dw/db partials)."""
    rows, n = 96, 512
    x = RNG.standard_normal((rows, n)).astype(np.float32)
    g = RNG.standard_normal((rows, n)).astype(np.float32)
    w = RNG.standard_normal(n).astype(np.float32)
    xt = nt.tensor(x, requires_grad=True)
    wt = nt.tensor(w, requires_grad=True)
    y = F.layer_norm(xt, (n,), wt)
    y.backward(nt.tensor(g))
    x64, g64 = x.astype(np.float64), g.astype(np.float64)
    xh = _ln_ref(x64, (-1,))
    np.testing.assert_allclose(y.detach().numpy(), xh * w, rtol=1e-4, atol=1e-4)
    gw = g64 * w
    rs = 1 / np.sqrt(x64.var(1, keepdims=True) + 1e-5)
    dx = rs * (gw - gw.mean(1, keepdims=True) - xh * (gw * xh).mean(1, keepdims=True))
    np.testing.assert_allclose(xt.grad.numpy(), dx, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(wt.grad.numpy(), (g64 * xh).sum(0), rtol=1e-3, atol=1e-3)


def test_functional_norms_take_a_sequence_only():
    x = nt.ones(2, 6)
    for f, name in ((nt.nn.functional.layer_norm, "layer_norm"), (nt.nn.functional.rms_norm, "rms_norm")):
        with pytest.raises(TypeError, match=rf"{name}\(\): argument 'normalized_shape' \(position 2\) must be "
                                            "tuple of ints, not int"):
            f(x, 6)
        assert f(x, [6]).shape == (2, 6) and f(x, nt.Size([6])).shape == (2, 6)
    assert nt.nn.LayerNorm(6)(x).shape == (2, 6)           # the modules accept an int
