"""CPU/CUDA parity of the norm, dropout and embedding kernels (Numba's simulator in CI; tiny sizes)."""
import warnings

import numpy as np
import pytest

import numtorch as nt

F = nt.nn.functional
RNG = np.random.default_rng(5)
A = RNG.standard_normal((3, 4))
W4 = RNG.standard_normal(4)
B4 = RNG.standard_normal(4)
GY = np.cos(np.arange(12.0)).reshape(3, 4)
EW = RNG.standard_normal((6, 3))


def _host(ts):
    return [None if t is None else t.detach().cpu().numpy() for t in ts]


def _parity(device, fn, exact=False):
    """fn(dev) on the CPU and on ``device``; same values (same seeds -> same dropout masks)."""
    nt.manual_seed(3)
    ref = _host(fn("cpu"))
    nt.manual_seed(3)
    got = _host(fn(device.type))
    for r, g in zip(ref, got):
        if r is None:
            assert g is None
        elif exact:
            np.testing.assert_array_equal(g, r)
        else:
            np.testing.assert_allclose(g, r, rtol=1e-6, atol=1e-9)
    return got


def _norm(kind):
    def fn(dev):
        x = nt.tensor(A, device=dev, requires_grad=True)
        w = nt.tensor(W4, device=dev, requires_grad=True)
        b = nt.tensor(B4, device=dev, requires_grad=True)
        if kind == "ln":
            y = F.layer_norm(x, (4,), w, b)
        elif kind == "rms":
            y = F.rms_norm(x, (4,), w) + b
        else:
            y = F.group_norm(x.reshape(1, 4, 3), 2, w, b).reshape(3, 4)
        y.backward(nt.tensor(GY, device=dev))
        return y, x.grad, w.grad, b.grad
    return fn


@pytest.mark.parametrize("kind", ["ln", "rms", "gn"])
def test_norm_parity(device, kind):
    _parity(device, _norm(kind))


def test_dropout_parity(device):
    def fn(dev):
        x = nt.tensor(A, device=dev, requires_grad=True)
        y = F.dropout(x, 0.4)
        y.backward(nt.ones(3, 4, device=dev, dtype=nt.float64))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            z = F.dropout2d(nt.tensor(A, device=dev).reshape(1, 3, 4), 0.5)
        return y, x.grad, z, F.alpha_dropout(x, 0.3, True)
    y = _parity(device, fn, exact=True)[0]
    assert 0 < (y == 0).sum() < 12


def test_embedding_parity(device):
    def fn(dev):
        w = nt.tensor(EW, device=dev, requires_grad=True)
        y = F.embedding(nt.tensor([[1, 2], [2, 5]], device=dev), w, padding_idx=5, scale_grad_by_freq=True)
        y.backward(nt.ones(2, 2, 3, device=dev, dtype=nt.float64))
        w2 = nt.tensor(EW, device=dev, requires_grad=True)
        p = nt.tensor([1.0, 2.0, 3.0, 4.0], device=dev, dtype=nt.float64, requires_grad=True)
        z = F.embedding_bag(nt.tensor([1, 2, 2, 5], device=dev), w2, nt.tensor([0, 1], device=dev), mode="sum",
                            per_sample_weights=p)
        z.backward(nt.ones(2, 3, device=dev, dtype=nt.float64))
        w3 = nt.tensor(EW, device=dev, requires_grad=True)
        m = F.embedding_bag(nt.tensor([[1, 2], [4, 5]], device=dev), w3, mode="max")
        m.sum().backward()
        w4 = nt.tensor(EW * 3, device=dev)
        F.embedding(nt.tensor([1, 3], device=dev), w4, max_norm=2.0)
        return y, w.grad, z, w2.grad, p.grad, m, w3.grad, w4
    _parity(device, fn)


def test_long_rows_parity(device):
    """Rows longer than a block (the threads stride over them) and a group spanning several channels."""
    X = RNG.standard_normal((2, 40))

    def fn(dev):
        x = nt.tensor(X, device=dev, requires_grad=True)
        w = nt.tensor(np.linspace(0.5, 1.5, 40), device=dev, requires_grad=True)
        y = F.layer_norm(x, (40,), w)
        z = F.group_norm(x.reshape(2, 4, 10), 2)
        (y * y).sum().backward()
        gx = x.grad
        x.grad = None
        (z * z).sum().backward()
        return y, z, gx, w.grad, x.grad
    _parity(device, fn)


def test_mixed_devices_raise(device):
    if device.type != "cuda":
        pytest.skip("needs two devices")
    w = nt.tensor(EW, device="cuda")
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        F.embedding(nt.tensor([1], device="cpu"), w)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        F.layer_norm(nt.tensor(A, device="cuda"), (4,), nt.tensor(W4, device="cpu"))
