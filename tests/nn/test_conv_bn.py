"""batch_norm / instance_norm and the BatchNorm / InstanceNorm / SyncBatchNorm modules."""
import collections

import numpy as np
import pytest

import numtorch as nt
import numtorch.nn.functional as F
from _fd import check_grad
from _twin import twin, twin_raises

RNG = np.random.default_rng(3)
X = RNG.standard_normal((4, 3, 5, 6)) * 3 + 100.0    # a large offset: the statistics must not cancel
W = RNG.standard_normal(3)
B = RNG.standard_normal(3)


def ref_bn_train(x, w, b, eps):
    dims = (0,) + tuple(range(2, x.ndim))
    m = x.mean(dims, keepdims=True)
    v = x.var(dims, keepdims=True)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return (x - m) / np.sqrt(v + eps) * w.reshape(shape) + b.reshape(shape)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_values_running_stats_and_grads(training):
    def case(T):
        x = T.tensor(X, requires_grad=True)
        w = T.tensor(W, requires_grad=True)
        b = T.tensor(B, requires_grad=True)
        rm = T.tensor(np.full(3, 0.5))
        rv = T.tensor(np.full(3, 2.0))
        y = T.nn.functional.batch_norm(x, rm, rv, w, b, training=training, momentum=0.3)
        g = T.tensor(np.random.default_rng(4).standard_normal(tuple(y.shape)))
        gx, gw, gb = T.autograd.grad(y, (x, w, b), g, create_graph=True)
        h = T.autograd.grad((gx * gx).sum() + (gw ** 3).sum(), (x, w))
        return y, rm, rv, gx, gw, gb, h
    r = twin(case, rtol=1e-6, atol=1e-8, grad_fn=False)   # composite double-backward nodes have other names
    if training:
        np.testing.assert_allclose(r[0].detach().numpy(), ref_bn_train(X, W, B, 1e-5), rtol=1e-9, atol=1e-9)
        dims = (0, 2, 3)
        np.testing.assert_allclose(r[1].numpy(), 0.7 * 0.5 + 0.3 * X.mean(dims), rtol=1e-12)
        np.testing.assert_allclose(r[2].numpy(), 0.7 * 2.0 + 0.3 * X.var(dims, ddof=1), rtol=1e-12)
    assert type(r[0].grad_fn).__name__ == "NativeBatchNormBackward0"


def test_batch_norm_gradcheck_and_float32():
    x = nt.tensor(X[:2, :, :2, :3], requires_grad=True)
    w = nt.tensor(W, requires_grad=True)
    b = nt.tensor(B, requires_grad=True)
    check_grad(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), x, w, b)
    check_grad(lambda x, w: F.batch_norm(x, nt.zeros(3, dtype=nt.float64), nt.ones(3, dtype=nt.float64), w,
                                         training=False), x, w)
    y = F.batch_norm(nt.tensor(X.astype(np.float32)), None, None, training=True)
    np.testing.assert_allclose(y.numpy(), ref_bn_train(X, np.ones(3), np.zeros(3), 1e-5), rtol=1e-4, atol=1e-4)
    assert y.dtype == nt.float32


def test_batchnorm_modules_track_state_and_load_old_checkpoints():
    x32 = X.astype(np.float32) - 100

    def case(T):
        nn = T.nn
        out = []
        for m in [nn.BatchNorm2d(3), nn.BatchNorm2d(3, momentum=None),
                  nn.BatchNorm2d(3, affine=False, track_running_stats=False), nn.SyncBatchNorm(3)]:
            out.append(repr(m))
            for i in range(3):
                y = m(T.tensor(x32 * (i + 1)))
            m.eval()
            out += [y, m(T.tensor(x32)), list(m.state_dict().keys())]
            if m.track_running_stats:
                out += [m.running_mean, m.running_var, m.num_batches_tracked]
        m = nn.BatchNorm1d(3)
        out += [m(T.tensor(x32[:, :, 0])), m(T.tensor(x32[:, :, :, 0]))]
        m = nn.LazyBatchNorm2d()
        m(T.tensor(x32))
        out += [repr(m), type(m).__name__]
        m = nn.BatchNorm2d(3)
        sd = collections.OrderedDict((k, v) for k, v in m.state_dict().items() if k != "num_batches_tracked")
        sd._metadata = {"": {"version": 1}}
        out.append(str(m.load_state_dict(sd)))
        out.append(m.num_batches_tracked)
        return out
    r = twin(case, rtol=1e-5, atol=1e-5)
    assert r[0] == "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"


def test_instance_norm_module_and_functional():
    x32 = X.astype(np.float32)

    def case(T):
        nn = T.nn
        out = []
        for m in [nn.InstanceNorm2d(3), nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
                  nn.InstanceNorm1d(3)]:
            x = T.tensor(x32 if isinstance(m, nn.InstanceNorm2d) else x32[:, :, 0], requires_grad=True)
            y = m(x)
            y.backward(T.ones_like(y) * T.arange(y.shape[-1], dtype=T.float32))
            out += [repr(m), y, x.grad, m(x[0]), list(m.state_dict())]
            m.eval()
            out.append(m(x))
        m = nn.LazyInstanceNorm2d()
        out.append(repr(m))
        out.append(m(T.tensor(x32)))
        out += [repr(m), type(m).__name__, list(m.state_dict())]
        return out
    twin(case, rtol=1e-4, atol=1e-4)


def test_norm_errors_match_torch():
    twin_raises(lambda T: T.nn.functional.batch_norm(T.ones(1, 4), T.zeros(4), T.ones(4), training=True),
                ValueError, "Expected more than 1 value per channel when training, got input size torch.Size([1, 4])")
    twin_raises(lambda T: T.nn.functional.batch_norm(T.ones(2, 4), T.zeros(3), T.ones(3), training=True),
                RuntimeError, "running_mean should contain 4 elements not 3")
    twin_raises(lambda T: T.nn.BatchNorm1d(4)(T.ones(2, 4, 3, 3)), ValueError, "expected 2D or 3D input (got 4D input)")
    twin_raises(lambda T: T.nn.BatchNorm2d(4)(T.ones(2, 4, 3)), ValueError, "expected 4D input (got 3D input)")
