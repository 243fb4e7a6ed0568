"""CPU/CUDA parity of Linear (small fused kernel, BLAS + bias pass), the grad-norm / scale kernels and
clip_grad_norm_ (Numba's simulator in CI; tiny sizes)."""
import math

import numpy as np
import pytest

import numtorch as nt
from numtorch.kernels import nnlinear as kn

F = nt.nn.functional
RNG = np.random.default_rng(21)
X = RNG.standard_normal((3, 4))
W = RNG.standard_normal((2, 4))
B = RNG.standard_normal(2)
GY = np.cos(np.arange(6.0)).reshape(3, 2)


def _host(ts):
    return [None if t is None else t.detach().cpu().numpy() for t in ts]


def _linear(dev, bias=True, strided=False):
    x = nt.tensor(X.T.copy() if strided else X, device=dev, requires_grad=True)
    w = nt.tensor(W, device=dev, requires_grad=True)
    b = nt.tensor(B, device=dev, requires_grad=True) if bias else None
    y = F.linear(x.t() if strided else x, w, b)
    y.backward(nt.tensor(GY, device=dev))
    return y, x.grad, w.grad, (b.grad if bias else None)


@pytest.mark.parametrize("bias,strided,blas", [(True, False, False), (False, True, False), (True, True, True)])
def test_linear_parity(device, bias, strided, blas, monkeypatch):
    if blas:                                   # the matmul + bias-pass path, at a size the simulator runs fast
        monkeypatch.setattr(kn, "SMALL_MAX", 0)
    ref = _host(_linear("cpu", bias, strided))
    got = _host(_linear(device.type, bias, strided))
    for r, g in zip(ref, got):
        if r is None:
            assert g is None
        else:
            np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got[0], (X @ W.T + (B if bias else 0)), rtol=1e-10)


def test_linear_module_on_device(device):
    nt.manual_seed(0)
    m = nt.nn.Linear(4, 2).to(device)
    assert m.weight.device.type == device.type and type(m.weight) is nt.nn.Parameter
    y = m(nt.tensor(X, dtype=nt.float32, device=device.type))
    ref = X @ m.weight.detach().cpu().numpy().T + m.bias.detach().cpu().numpy()
    np.testing.assert_allclose(y.detach().cpu().numpy(), ref, rtol=1e-5, atol=1e-6)
    assert type(y.grad_fn).__name__ == "AddmmBackward0"


def test_bias_add_and_norm_kernels(device):
    out = RNG.standard_normal(12)
    b = RNG.standard_normal(5)
    want = out.reshape(3, 4) + b[1:5]
    dev_out = nt.tensor(out, device=device.type)
    dev_b = nt.tensor(b, device=device.type)
    kn.bias_add(dev_out._storage.data, dev_b._storage.data, 1, 3, 4)
    np.testing.assert_allclose(dev_out.cpu().numpy().reshape(3, 4), want, rtol=1e-14)
    src = nt.tensor(RNG.standard_normal(12), device=device.type)
    dst = nt.empty(12, dtype=nt.float64, device=device.type)
    kn.transpose_bias(src._storage.data, dst._storage.data, dev_b._storage.data, 1, True, 3, 4)
    np.testing.assert_allclose(dst.cpu().numpy().reshape(3, 4), src.cpu().numpy().reshape(4, 3).T + b[1:5], rtol=1e-14)
    bufs = [nt.tensor(RNG.standard_normal(n), device=device.type) for n in (1, 5, 40)]
    flat = np.concatenate([t.cpu().numpy() for t in bufs])
    raw = [t._storage.data for t in bufs]
    assert kn.grad_norm(raw, 2.0) == pytest.approx((flat ** 2).sum(), rel=1e-12)
    assert kn.grad_norm(raw, 3.0) == pytest.approx((np.abs(flat) ** 3).sum(), rel=1e-12)
    assert kn.grad_norm(raw, math.inf) == np.abs(flat).max()
    kn.scale_all(raw, 0.25)
    np.testing.assert_allclose(np.concatenate([t.cpu().numpy() for t in bufs]), flat * 0.25, rtol=1e-14)


@pytest.mark.parametrize("norm_type", [2.0, math.inf])
def test_clip_grad_norm_parity(device, norm_type):
    def run(dev):
        ps = []
        for i, s in enumerate([(3, 2), (4,)]):
            p = nt.nn.Parameter(nt.tensor(np.ones(s), dtype=nt.float32, device=dev))
            p.grad = nt.tensor(np.cos(np.arange(np.prod(s)) + i).reshape(s), dtype=nt.float32, device=dev)
            ps.append(p)
        tn = nt.nn.utils.clip_grad_norm_(ps, 0.5, norm_type=norm_type)
        assert tn.device.type == dev
        return [tn] + [p.grad for p in ps]
    ref = _host(run("cpu"))
    got = _host(run(device.type))
    for r, g in zip(ref, got):
        np.testing.assert_allclose(g, r, rtol=1e-6)
    flat = np.concatenate([np.cos(np.arange(6)), np.cos(np.arange(4) + 1)])
    total = np.abs(flat).max() if norm_type == math.inf else np.sqrt((flat ** 2).sum())
    np.testing.assert_allclose(ref[0], total, rtol=1e-6)
