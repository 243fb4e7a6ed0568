"""CPU/CUDA parity of the recurrent and attention kernels (Numba's simulator in CI; tiny sizes)."""
import numpy as np
import pytest

import numtorch as nt

RNG = np.random.default_rng(11)
X = RNG.standard_normal((2, 2, 3))


def _host(ts):
    return [None if t is None else t.detach().cpu().numpy() for t in ts]


def _parity(device, fn):
    if device.type == "cpu":
        pytest.skip("parity is checked on the CUDA parameter")
    ref = _host(fn("cpu"))
    got = _host(fn(device.type))
    for r, g in zip(ref, got):
        np.testing.assert_allclose(g, r, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("cls,kw", [("LSTM", dict(proj_size=2)), ("GRU", dict(batch_first=True))])
def test_rnn_parity(device, cls, kw):
    def fn(dev):
        rng = np.random.default_rng(0)
        m = getattr(nt.nn, cls)(3, 4, dtype=nt.float64, device=dev, **kw)
        with nt.no_grad():
            for p in m.parameters():
                p.copy_(nt.tensor(rng.standard_normal(tuple(p.shape)) * 0.5, device=dev))
        x = nt.tensor(X, device=dev, requires_grad=True)
        o, h = m(x)
        hs = list(h) if isinstance(h, tuple) else [h]
        ((o * o).sum() + sum((t * t).sum() for t in hs)).backward()
        return [o] + hs + [x.grad] + [p.grad for p in m.parameters()]
    _parity(device, fn)


def test_packed_parity(device):
    """GRU over a packed batch: inactive rows carry their state, h_n is each sequence's last valid state."""
    def fn(dev):
        from numtorch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
        rng = np.random.default_rng(1)
        m = nt.nn.GRU(3, 2, dtype=nt.float64, device=dev)
        with nt.no_grad():
            for p in m.parameters():
                p.copy_(nt.tensor(rng.standard_normal(tuple(p.shape)) * 0.5, device=dev))
        x = nt.tensor(X, device=dev, requires_grad=True)
        o, h = m(pack_padded_sequence(x, [1, 2], enforce_sorted=False))
        pad, _ = pad_packed_sequence(o)
        ((pad * pad).sum() + (h * h).sum()).backward()
        return [pad, h, x.grad]
    _parity(device, fn)


@pytest.mark.parametrize("causal,masked", [(True, False), (False, True)])
def test_attention_parity(device, causal, masked):
    def fn(dev):
        rng = np.random.default_rng(2)
        q, k, v = (nt.tensor(rng.standard_normal(s), device=dev, requires_grad=True)
                   for s in ((1, 2, 3, 4), (1, 2, 4, 4), (1, 2, 4, 2)))
        m = nt.tensor(rng.standard_normal((3, 4)), device=dev) if masked else None
        o = nt.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m, is_causal=causal)
        (o * o).sum().backward()
        return [o, q.grad, k.grad, v.grad]
    _parity(device, fn)
