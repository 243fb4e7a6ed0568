"""F.pad and padding modules, interpolate/Upsample, pixel/channel shuffle, unfold/fold, grid_sample,
affine_grid, fuse_conv_bn_eval."""
import warnings

import numpy as np
import pytest

import numtorch as nt
import numtorch.nn.functional as F
from _fd import check_grad
from _twin import twin, twin_raises

RNG = np.random.default_rng(5)
X = RNG.standard_normal((2, 3, 5, 7)).astype(np.float32)


def _run(fn, arrs, tol=1e-5):
    def case(T):
        xs = [T.tensor(a, requires_grad=True) for a in arrs]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = fn(T, T.nn.functional, *xs)
        g = T.tensor(np.random.default_rng(6).standard_normal(tuple(y.shape)).astype(arrs[0].dtype))
        return (y,) + tuple(T.autograd.grad(y, xs, g))
    return twin(case, rtol=tol, atol=tol)


@pytest.mark.parametrize("pad,mode,value", [((1, 2), "constant", None), ((1, 2, -1, 2), "constant", 1.5),
                                            ((2, 1, 3, 0), "reflect", None), ((2, 1, 3, 4), "replicate", None),
                                            ((2, 1, 3, 4), "circular", None), ((-1, 2, 1, 1), "reflect", None)])
def test_pad_modes(pad, mode, value):
    kw = {} if value is None else {"value": value}
    y = _run(lambda T, F, x: F.pad(x, pad, mode=mode, **kw), [X.astype(np.float64)], tol=1e-12)[0]
    if mode == "reflect" and pad[0] >= 0:
        want = np.pad(X.astype(np.float64), ((0, 0), (0, 0), (pad[2], pad[3]), (pad[0], pad[1])), mode="reflect")
        np.testing.assert_array_equal(y.detach().numpy(), want)


def test_pad_modules_and_errors():
    def case(T):
        nn = T.nn
        ms = [nn.ReflectionPad2d(1), nn.ConstantPad1d(2, 3.5), nn.ZeroPad2d((1, 2, 3, 4)), nn.ReplicationPad3d(1),
              nn.CircularPad1d(2), nn.ZeroPad1d(1)]
        return [repr(m) for m in ms] + [ms[0](T.tensor(X)), ms[2](T.tensor(X)), ms[4](T.tensor(X[0]))]
    assert twin(case)[0] == "ReflectionPad2d((1, 1, 1, 1))"
    twin_raises(lambda T: T.nn.functional.pad(T.ones(1, 2, 5, 5), (6, 6, 1, 1), mode="reflect"), RuntimeError,
                "Argument #4: Padding size should be less than the corresponding input dimension, but got: padding "
                "(6, 6) at dimension 3 of input [1, 2, 5, 5]")
    twin_raises(lambda T: T.nn.functional.pad(T.ones(1, 4, 5, 5), (1, 1, 1)), RuntimeError,
                "Padding length must be divisible by 2")
    twin_raises(lambda T: T.nn.functional.pad(T.ones(1, 4, 5, 5), (3, 3), mode="reflect"), NotImplementedError,
                "Padding size 2 is not supported for 4D input tensor.")


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear", "bicubic", "area"])
def test_interpolate_2d_modes(mode):
    for kw in [dict(scale_factor=2), dict(scale_factor=1.7), dict(size=(3, 4)),
               dict(scale_factor=(0.6, 2.3), recompute_scale_factor=True)]:
        for ac in ([None] if mode in ("nearest", "nearest-exact", "area") else [False, True]):
            _run(lambda T, F, x: F.interpolate(x, mode=mode, align_corners=ac, **kw), [X])
    if mode == "nearest":
        y = F.interpolate(nt.tensor(X), scale_factor=2)
        np.testing.assert_array_equal(y.numpy(), X.repeat(2, 2).repeat(2, 3))


def test_interpolate_1d_3d_modules_and_gradcheck():
    _run(lambda T, F, x: F.interpolate(x, scale_factor=2.5, mode="linear"), [X[0]])
    _run(lambda T, F, x: F.interpolate(x, size=3, mode="nearest"), [X[0]])
    _run(lambda T, F, x: F.interpolate(x, scale_factor=1.5, mode="trilinear", align_corners=False), [X[None]])

    def case(T):
        nn = T.nn
        ms = [nn.Upsample(scale_factor=2), nn.Upsample(size=(3, 4), mode="bilinear", align_corners=True),
              nn.UpsamplingNearest2d(scale_factor=2), nn.UpsamplingBilinear2d(size=4)]
        return [repr(m) for m in ms] + [m(T.tensor(X)) for m in ms]
    assert twin(case)[0] == "Upsample(scale_factor=2.0, mode='nearest')"
    x = nt.tensor(X[:1, :1, :3, :3].astype(np.float64), requires_grad=True)
    check_grad(lambda x: F.interpolate(x, size=(4, 5), mode="bicubic", align_corners=False), x)
    check_grad(lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear", align_corners=True), x)


def test_shuffles_unfold_fold():
    a = RNG.standard_normal((2, 8, 3, 2))
    _run(lambda T, F, x: F.pixel_shuffle(x, 2), [a], tol=1e-12)
    _run(lambda T, F, x: F.pixel_unshuffle(x, 2), [RNG.standard_normal((2, 2, 4, 6))], tol=1e-12)
    _run(lambda T, F, x: F.channel_shuffle(x, 2), [a], tol=1e-12)
    y = _run(lambda T, F, x: F.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), [X])[0]
    assert tuple(y.shape) == (2, 18, 15)
    _run(lambda T, F, x: F.fold(x, (5, 6), (2, 3), padding=1, stride=(2, 1)), [RNG.standard_normal((2, 12, 18))])
    # unfold -> matmul -> view is a convolution
    w = RNG.standard_normal((4, 3, 2, 2))
    cols = F.unfold(nt.tensor(X.astype(np.float64)), 2)
    conv = (nt.tensor(w.reshape(4, -1)) @ cols).view(2, 4, 4, 6)
    np.testing.assert_allclose(conv.numpy(), F.conv2d(nt.tensor(X.astype(np.float64)), nt.tensor(w)).numpy(),
                               rtol=1e-10)

    def case(T):
        nn = T.nn
        return [repr(m) for m in [nn.PixelShuffle(2), nn.PixelUnshuffle(3), nn.ChannelShuffle(2), nn.Unfold(2),
                                  nn.Fold((4, 5), 2, padding=1)]]
    twin(case)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_and_affine_grid(mode):
    g = RNG.uniform(-1.2, 1.2, (2, 4, 6, 2)).astype(np.float32)
    for pm in ["zeros", "border", "reflection"]:
        for ac in [False, True]:
            _run(lambda T, F, x, gr: F.grid_sample(x, gr, mode=mode, padding_mode=pm, align_corners=ac), [X, g],
                 tol=1e-4)
    if mode == "bilinear":
        _run(lambda T, F, t: F.affine_grid(t, (2, 3, 4, 5), align_corners=False), [RNG.standard_normal((2, 2, 3))])
        _run(lambda T, F, t: F.affine_grid(t, (2, 3, 4, 5, 3), align_corners=True), [RNG.standard_normal((2, 3, 4))])
        x = nt.tensor(X[:1, :1, :3, :4].astype(np.float64), requires_grad=True)
        gr = nt.tensor(RNG.uniform(-0.9, 0.9, (1, 2, 3, 2)), requires_grad=True)
        check_grad(lambda x, gr: F.grid_sample(x, gr, align_corners=False), x, gr)


def test_fuse_conv_bn_eval():
    from numtorch.nn.utils.fusion import fuse_conv_bn_eval
    conv = nt.nn.Conv2d(3, 4, 3)
    bn = nt.nn.BatchNorm2d(4)
    with nt.no_grad():
        bn.running_mean.copy_(nt.tensor([0.1, 0.2, -0.3, 0.4]))
        bn.running_var.copy_(nt.tensor([1.5, 0.5, 2.0, 1.0]))
        bn.weight.copy_(nt.tensor([1.0, 2.0, 3.0, 4.0]))
        bn.bias.copy_(nt.tensor([0.5, -0.5, 0.0, 1.0]))
    conv.eval()
    bn.eval()
    fused = fuse_conv_bn_eval(conv, bn)
    x = nt.tensor(X[:, :, :5, :5])
    np.testing.assert_allclose(fused(x).detach().numpy(), bn(conv(x)).detach().numpy(), rtol=1e-5, atol=1e-5)
    assert repr(fused) == "Conv2d(3, 4, kernel_size=(3, 3), stride=(1, 1))"
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        fuse_conv_bn_eval(conv.train(), bn)


def test_torch_level_forms():
    def case(T):
        x = T.tensor(X[:1, :2])
        return [T.max_pool2d(x, 2), T.avg_pool1d(x[0], 2), T.adaptive_max_pool1d(x[0], 2)[1],
                T.batch_norm(x, None, None, T.zeros(2), T.ones(2), False, 0.1, 1e-5, False),
                T.instance_norm(x, None, None, None, None, True, 0.1, 1e-5, False), T.constant_pad_nd(x, (1, 1), 2.0),
                T.pixel_shuffle(T.ones(1, 4, 2, 2), 2), T.channel_shuffle(x, 2),
                T.convolution(x, T.ones(3, 2, 3, 3), None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1),
                T.conv_transpose2d(x, T.ones(2, 1, 2, 2), stride=2)]
    twin(case, rtol=1e-5, atol=1e-5)
