"""Convolutions: conv1d/2d/3d, conv_transpose1d/2d/3d, their modules, gradients and errors."""
import math

import numpy as np
import pytest

import numtorch as nt
import numtorch.nn.functional as F
from _fd import check_grad
from _twin import twin, twin_raises

RNG = np.random.default_rng(0)


def ref_conv2d(x, w, b, s, p, d, g):
    """Plain loop convolution (the spec): x (N, C, H, W), w (O, C/g, kh, kw)."""
    N, C, H, W = x.shape
    O, Cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    oh = (H + 2 * p[0] - d[0] * (kh - 1) - 1) // s[0] + 1
    ow = (W + 2 * p[1] - d[1] * (kw - 1) - 1) // s[1] + 1
    y = np.zeros((N, O, oh, ow))
    for n in range(N):
        for o in range(O):
            grp = o // (O // g)
            for i in range(oh):
                for j in range(ow):
                    patch = xp[n, grp * Cg:(grp + 1) * Cg, i * s[0]:i * s[0] + d[0] * (kh - 1) + 1:d[0],
                               j * s[1]:j * s[1] + d[1] * (kw - 1) + 1:d[1]]
                    y[n, o, i, j] = (patch * w[o]).sum() + (0 if b is None else b[o])
    return y


def ref_conv_transpose2d(x, w, b, s, p, op, d, g):
    N, C, H, W = x.shape
    _, Og, kh, kw = w.shape
    oh = (H - 1) * s[0] - 2 * p[0] + d[0] * (kh - 1) + op[0] + 1
    ow = (W - 1) * s[1] - 2 * p[1] + d[1] * (kw - 1) + op[1] + 1
    full = np.zeros((N, Og * g, oh + 2 * p[0] + s[0] + d[0] * kh, ow + 2 * p[1] + s[1] + d[1] * kw))
    Cg = C // g
    for n in range(N):
        for c in range(C):
            grp = c // Cg
            for i in range(H):
                for j in range(W):
                    for a in range(kh):
                        for bb in range(kw):
                            full[n, grp * Og:(grp + 1) * Og, i * s[0] + a * d[0], j * s[1] + bb * d[1]] += \
                                x[n, c, i, j] * w[c, :, a, bb]
    y = full[:, :, p[0]:p[0] + oh, p[1]:p[1] + ow]
    return y + (0 if b is None else b.reshape(1, -1, 1, 1))


CASES = [  # N, C, H, W, O, k, stride, padding, dilation, groups
    (2, 3, 7, 6, 4, (3, 3), (1, 1), (0, 0), (1, 1), 1),
    (1, 4, 8, 7, 6, (3, 2), (2, 1), (1, 2), (1, 2), 2),
    (2, 4, 6, 6, 4, (3, 3), (1, 2), (1, 1), (2, 1), 4),     # depthwise
    (2, 4, 5, 5, 8, (1, 1), (1, 1), (0, 0), (1, 1), 1),     # pointwise
    (1, 2, 5, 4, 3, (2, 2), (3, 2), (0, 1), (1, 1), 1),
]


@pytest.mark.parametrize("case", CASES)
def test_conv2d_matches_loop_reference_and_torch(case):
    N, C, H, W, O, k, s, p, d, g = case
    x = RNG.standard_normal((N, C, H, W))
    w = RNG.standard_normal((O, C // g) + k)
    b = RNG.standard_normal(O)
    want = ref_conv2d(x, w, b, s, p, d, g)

    def run(T):
        X = T.tensor(x.astype(np.float32), requires_grad=True)
        Wt = T.tensor(w.astype(np.float32), requires_grad=True)
        B = T.tensor(b.astype(np.float32), requires_grad=True)
        y = T.nn.functional.conv2d(X, Wt, B, stride=s, padding=p, dilation=d, groups=g)
        (y * y).sum().backward()
        return y, X.grad, Wt.grad, B.grad
    y = twin(run, rtol=1e-4, atol=1e-4)[0]
    np.testing.assert_allclose(y.detach().numpy(), want, rtol=1e-4, atol=1e-4)
    assert type(y.grad_fn).__name__ == "ConvolutionBackward0"


@pytest.mark.parametrize("case", CASES[:3])
def test_conv2d_gradcheck_float64(case):
    N, C, H, W, O, k, s, p, d, g = case
    N, H, W = 1, min(H, 6), min(W, 6)
    x = nt.tensor(RNG.standard_normal((N, C, H, W)), requires_grad=True)
    w = nt.tensor(RNG.standard_normal((O, C // g) + k), requires_grad=True)
    b = nt.tensor(RNG.standard_normal(O), requires_grad=True)
    check_grad(lambda x, w, b: F.conv2d(x, w, b, s, p, d, g), x, w, b)


def test_conv_transpose2d_reference_and_grads():
    x = RNG.standard_normal((2, 4, 3, 4))
    w = RNG.standard_normal((4, 3, 3, 2))
    b = RNG.standard_normal(6)
    s, p, op, d, g = (2, 1), (1, 0), (1, 0), (1, 2), 2
    want = ref_conv_transpose2d(x, w, b, s, p, op, d, g)

    def run(T):
        X = T.tensor(x, requires_grad=True)
        Wt = T.tensor(w, requires_grad=True)
        y = T.nn.functional.conv_transpose2d(X, Wt, T.tensor(b), stride=s, padding=p, output_padding=op, groups=g,
                                             dilation=d)
        y.backward(T.ones_like(y))
        return y, X.grad, Wt.grad
    y = twin(run)[0]
    np.testing.assert_allclose(y.detach().numpy(), want, rtol=1e-10, atol=1e-10)
    X = nt.tensor(x[:1, :, :2, :3], requires_grad=True)
    Wt = nt.tensor(w, requires_grad=True)
    B = nt.tensor(b, requires_grad=True)
    check_grad(lambda X, Wt, B: F.conv_transpose2d(X, Wt, B, s, p, op, g, d), X, Wt, B)


def test_conv1d_conv3d_and_transposes_match_torch():
    x1 = RNG.standard_normal((2, 4, 9))
    x3 = RNG.standard_normal((1, 2, 4, 5, 3))

    def run(T):
        f = T.nn.functional
        a = T.tensor(x1, requires_grad=True)
        c = T.tensor(x3, requires_grad=True)
        w1 = T.tensor(RNG_W1, requires_grad=True)
        w3 = T.tensor(RNG_W3, requires_grad=True)
        outs = [f.conv1d(a, w1, None, 2, 1, 2, 2), f.conv_transpose1d(a, w1, stride=2, padding=1, groups=2),
                f.conv3d(c, w3, None, (1, 2, 1), 1), f.conv_transpose3d(c, w3.transpose(0, 1).contiguous(),
                                                                       stride=(2, 1, 1)),
                f.conv1d(a[0], w1, groups=2)]
        sum(o.sum() for o in outs).backward()
        return outs + [a.grad, c.grad, w1.grad, w3.grad]
    twin(run, rtol=1e-9, atol=1e-9)


RNG_W1 = RNG.standard_normal((4, 2, 3))
RNG_W3 = RNG.standard_normal((3, 2, 2, 3, 2))


def test_conv1d_conv3d_gradcheck():
    a = nt.tensor(RNG.standard_normal((1, 2, 6)), requires_grad=True)
    w = nt.tensor(RNG.standard_normal((3, 2, 3)), requires_grad=True)
    check_grad(lambda a, w: F.conv1d(a, w, stride=2, padding=1), a, w)
    c = nt.tensor(RNG.standard_normal((1, 2, 3, 3, 3)), requires_grad=True)
    w3 = nt.tensor(RNG.standard_normal((2, 1, 2, 2, 2)), requires_grad=True)
    check_grad(lambda c, w3: F.conv3d(c, w3, padding=(1, 0, 1), groups=2), c, w3)


def test_padding_same_valid_and_double_backward():
    x = RNG.standard_normal((1, 2, 6, 5))
    w = RNG.standard_normal((3, 2, 4, 3))

    def run(T):
        X = T.tensor(x, requires_grad=True)
        Wt = T.tensor(w, requires_grad=True)
        y = T.nn.functional.conv2d(X, Wt, padding="same", dilation=(1, 2))
        v = T.nn.functional.conv2d(X, Wt, padding="valid")
        gx, gw = T.autograd.grad((y * y).sum() + v.sum(), (X, Wt), create_graph=True)
        (gx.pow(2).sum() + gw.pow(2).sum()).backward()
        return y, v, gx, gw, X.grad, Wt.grad
    y = twin(run, rtol=1e-9, atol=1e-9)[0]
    assert tuple(y.shape) == (1, 3, 6, 5)


def test_conv_modules_reprs_init_and_lazy():
    def run(T):
        nn = T.nn
        ms = [nn.Conv2d(1, 6, 5), nn.Conv2d(3, 6, (3, 5), stride=2, padding=(1, 2), dilation=2, groups=3, bias=False,
                                            padding_mode="reflect"),
              nn.Conv1d(2, 4, 3, padding="same"), nn.ConvTranspose2d(4, 2, 3, stride=2, output_padding=1),
              nn.Conv3d(2, 2, 1), nn.ConvTranspose1d(2, 3, 2, groups=1, dilation=2)]
        return [repr(m) for m in ms] + [tuple(m.weight.shape) for m in ms]
    r = twin(run)
    assert r[0] == "Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))"
    nt.manual_seed(0)
    m = nt.nn.Conv2d(16, 32, 3)
    bound = 1 / math.sqrt(16 * 9)
    assert float(m.weight.abs().max()) <= bound and float(m.weight.abs().max()) > 0.9 * bound
    assert float(m.bias.abs().max()) <= bound
    lazy = nt.nn.LazyConv2d(4, 3)
    y = lazy(nt.ones(2, 3, 5, 5))
    assert type(lazy).__name__ == "Conv2d" and tuple(lazy.weight.shape) == (4, 3, 3, 3)
    assert tuple(y.shape) == (2, 4, 3, 3)
    lt = nt.nn.LazyConvTranspose1d(2, 3)
    assert tuple(lt(nt.ones(1, 5, 4)).shape) == (1, 2, 6) and type(lt).__name__ == "ConvTranspose1d"


def test_conv_module_padding_modes_and_output_size():
    x = RNG.standard_normal((1, 3, 6, 5)).astype(np.float32)

    def run(T):
        outs = []
        for mode in ("zeros", "reflect", "replicate", "circular"):
            m = T.nn.Conv2d(3, 2, 3, padding=1, padding_mode=mode)
            with T.no_grad():
                m.weight.copy_(T.tensor(np.linspace(-1, 1, 54, dtype=np.float32).reshape(2, 3, 3, 3)))
                m.bias.zero_()
            outs.append(m(T.tensor(x)))
        ct = T.nn.ConvTranspose2d(3, 2, 3, stride=2)
        with T.no_grad():
            ct.weight.fill_(0.5)
            ct.bias.zero_()
        outs.append(ct(T.tensor(x), output_size=(14, 12)))
        return outs
    twin(run, rtol=1e-5, atol=1e-5)


def test_conv_errors_match_torch():
    twin_raises(lambda T: T.nn.functional.conv2d(T.ones(1, 4, 28, 28), T.ones(6, 3, 5, 5)), RuntimeError,
                "Given groups=1, weight of size [6, 3, 5, 5], expected input[1, 4, 28, 28] to have 3 channels, but "
                "got 4 channels instead")
    twin_raises(lambda T: T.nn.functional.conv2d(T.ones(1, 3, 2, 2), T.ones(6, 3, 3, 3)), RuntimeError,
                "Calculated padded input size per channel: (2 x 2). Kernel size: (3 x 3). Kernel size can't be "
                "greater than actual input size")
    twin_raises(lambda T: T.nn.functional.conv2d(T.ones(1, 4, 5, 5), T.ones(3, 2, 3, 3), groups=2), RuntimeError,
                "Given groups=2, expected weight to be divisible by 2 at dimension 0")
    twin_raises(lambda T: T.nn.functional.conv2d(T.ones(1, 4, 5, 5), T.ones(4, 4, 3, 3), stride=0), RuntimeError,
                "non-positive stride is not supported")
    twin_raises(lambda T: T.nn.functional.conv2d(T.ones(1, 4, 5, 5), T.ones(4, 4, 3, 3), stride=2, padding="same"),
                RuntimeError, "padding='same' is not supported for strided convolutions")
    twin_raises(lambda T: T.nn.functional.conv2d(T.ones(2, 3), T.ones(4, 4, 3, 3)), RuntimeError,
                "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [2, 3]")
    twin_raises(lambda T: T.nn.functional.conv2d(T.ones(1, 4, 5, 5), T.ones(4, 4, 3, 3), bias=T.ones(3)),
                RuntimeError, "Given weight of size [4, 4, 3, 3], expected bias to be 1-dimensional with 4 elements")
    twin_raises(lambda T: T.nn.functional.conv2d(T.ones(1, 4, 5, 5, dtype=T.float64), T.ones(4, 4, 3, 3)),
                RuntimeError, "expected scalar type Double but found Float")
    twin_raises(lambda T: T.nn.functional.conv_transpose2d(T.ones(1, 4, 5, 5), T.ones(4, 4, 3, 3),
                                                           output_padding=1), RuntimeError,
                "output padding must be smaller than either stride or dilation")
    twin_raises(lambda T: T.nn.Conv2d(4, 4, 3, groups=3), ValueError, "in_channels must be divisible by groups")
    twin_raises(lambda T: T.nn.Conv2d(4, 4, 3, stride=2, padding="same"), ValueError,
                "padding='same' is not supported for strided convolutions")


def test_channels_last_layout_is_read_in_place():
    x = RNG.standard_normal((2, 3, 6, 5))
    w = RNG.standard_normal((4, 3, 3, 3))

    def case(T):
        X = T.tensor(x).contiguous(memory_format=T.channels_last).requires_grad_()
        W = T.tensor(w, requires_grad=True)
        y = T.nn.functional.conv2d(X, W, padding=1, stride=(1, 2))
        y.backward(T.ones_like(y))
        return [X.stride(), X.is_contiguous(), X.is_contiguous(memory_format=T.channels_last), y, X.grad, W.grad,
                T.randn(2, 3, 4, 5, 6).contiguous(memory_format=T.channels_last_3d).stride()]
    r = twin(case, rtol=1e-10, atol=1e-10)
    assert r[0] == (90, 1, 15, 3)
    ref = F.conv2d(nt.tensor(x), nt.tensor(w), padding=1, stride=(1, 2))
    np.testing.assert_allclose(r[3].detach().numpy(), ref.numpy(), rtol=1e-12)
