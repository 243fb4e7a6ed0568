"""nn.utils.rnn: pad/pack/unpack helpers and PackedSequence through RNN/LSTM/GRU (packed == padded)."""
import numpy as np
import pytest

import numtorch
from numtorch.nn.utils import rnn as R
from _twin import twin, twin_raises, _torch
from test_rnn_layers import set_params


def _U(T):
    import importlib
    return importlib.import_module(T.__name__ + ".nn.utils.rnn")


def test_pad_pack_roundtrip():
    def case(T):
        U = _U(T)
        rng = np.random.default_rng(0)
        seqs = [T.tensor(rng.standard_normal((n, 2)), requires_grad=True) for n in (2, 5, 3)]
        right = U.pad_sequence(seqs, padding_value=-1.0)
        left = U.pad_sequence(seqs, batch_first=True, padding_side="left")
        p = U.pack_sequence(seqs, enforce_sorted=False)
        padded, lengths = U.pad_packed_sequence(p, batch_first=True, total_length=6, padding_value=9.0)
        (padded * padded).sum().backward()
        back = U.unpack_sequence(p)
        unpadded = U.unpad_sequence(right.clone(), T.tensor([2, 5, 3]))  # torch transposes its input in place
        return [right, left, p.data, p.batch_sizes, p.sorted_indices, p.unsorted_indices, padded, lengths] + \
            [s.grad for s in seqs] + back + unpadded
    res = twin(case, grad_fn=False)
    assert res[3].tolist() == [3, 3, 2, 1, 1]
    assert res[6][0, 2:].detach().numpy().tolist() == [[9.0, 9.0]] * 4


def test_pack_grad_fn_and_repr():
    def case(T):
        U = _U(T)
        x = T.tensor(np.arange(12.0).reshape(4, 3, 1), requires_grad=True)
        p = U.pack_padded_sequence(x, [4, 2, 1])
        return p.data, p.batch_sizes, repr(p)
    twin(case)


def test_errors():
    x = lambda T: T.zeros(4, 3, 2)  # noqa: E731
    twin_raises(lambda T: _U(T).pack_padded_sequence(x(T), [2, 4, 1]), RuntimeError,
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True")
    twin_raises(lambda T: _U(T).pack_padded_sequence(x(T), [4, 2, 0]), RuntimeError,
                "Length of all samples has to be greater than 0")
    twin_raises(lambda T: _U(T).pack_padded_sequence(x(T), [4, 2]), RuntimeError,
                "Expected `len(lengths)` to be equal to batch_size, but got 2 (batch_size=3)")

    def short(T):
        U = _U(T)
        U.pad_packed_sequence(U.pack_padded_sequence(x(T), [4, 2, 1]), total_length=2)
    twin_raises(short, ValueError, "Expected total_length to be at least the length of the longest sequence")


@pytest.mark.parametrize("cls,kw", [("LSTM", dict(bidirectional=True, num_layers=2)), ("GRU", dict(bidirectional=True)),
                                    ("RNN", {}), ("LSTM", dict(proj_size=2, batch_first=True))])
def test_packed_layer(cls, kw):
    lens = [3, 6, 2]

    def case(T):
        U = _U(T)
        rng = np.random.default_rng(2)
        m = getattr(T.nn, cls)(3, 4, dtype=T.float64, **kw)
        set_params(m, T)
        bf = kw.get("batch_first", False)
        x = T.tensor(rng.standard_normal((3, 6, 3) if bf else (6, 3, 3)), requires_grad=True)
        p = U.pack_padded_sequence(x, lens, batch_first=bf, enforce_sorted=False)
        out, h = m(p)
        pad, _ = U.pad_packed_sequence(out, batch_first=bf)
        hs = list(h) if isinstance(h, tuple) else [h]
        ((pad * pad).sum() + sum((t * t * t).sum() for t in hs)).backward()
        return [out.data, pad] + hs + [x.grad] + [q.grad for q in m.parameters()]
    res = twin(case, rtol=1e-7, atol=1e-9, grad_fn=False)
    # packed == each sequence run on its own (last valid state per sequence)
    m = getattr(numtorch.nn, cls)(3, 4, dtype=numtorch.float64, **kw)
    set_params(m, numtorch)
    rng = np.random.default_rng(2)
    bf = kw.get("batch_first", False)
    x = rng.standard_normal((3, 6, 3) if bf else (6, 3, 3))
    nd = 2 if kw.get("bidirectional") else 1
    for b, n in enumerate(lens):
        xb = x[b, :n] if bf else x[:n, b]
        o, h = m(numtorch.tensor(xb))
        h = h[0] if isinstance(h, tuple) else h
        ref = res[1][b, :n] if bf else res[1][:n, b]
        np.testing.assert_allclose(ref.detach().numpy(), o.detach().numpy(), atol=1e-12)
        np.testing.assert_allclose(res[2][:, b].detach().numpy(), h.detach().numpy(), atol=1e-12)
        assert nd * kw.get("num_layers", 1) == res[2].shape[0]


def test_packed_with_initial_state():
    """hx is permuted into the sorted order and h_n back into the caller's order."""
    def case(T):
        U = _U(T)
        m = T.nn.LSTM(3, 4, dtype=T.float64, bidirectional=True)
        set_params(m, T, 1)
        rng = np.random.default_rng(2)
        x = T.tensor(rng.standard_normal((5, 3, 3)), requires_grad=True)
        h0 = T.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
        c0 = T.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
        o, (h, c) = m(U.pack_padded_sequence(x, T.tensor([2, 5, 3]), enforce_sorted=False), (h0, c0))
        (o.data.sum() + (h * h).sum() + c.sum()).backward()
        return [o.data, h, c, x.grad, h0.grad, c0.grad]
    twin(case, rtol=1e-7, atol=1e-9, grad_fn=False)


@pytest.mark.parametrize("cls,kw", [("LSTM", dict(proj_size=2, batch_first=True)), ("GRU", dict(bidirectional=True))])
def test_rows_split_over_threads(monkeypatch, cls, kw):
    """Forcing the row split over threads (packed batch: the active rows cross the split) changes nothing."""
    from numtorch.kernels import rnn as K
    lens = [3, 6, 2, 5, 1]

    def run():
        m = getattr(numtorch.nn, cls)(3, 4, dtype=numtorch.float64, **kw)
        set_params(m, numtorch)
        bf = kw.get("batch_first", False)
        x = numtorch.tensor(np.random.default_rng(5).standard_normal((5, 6, 3) if bf else (6, 5, 3)),
                            requires_grad=True)
        out, h = m(R.pack_padded_sequence(x, lens, batch_first=bf, enforce_sorted=False))
        hs = list(h) if isinstance(h, tuple) else [h]
        ((out.data * out.data).sum() + sum((t * t * t).sum() for t in hs)).backward()
        return [t.detach().numpy() for t in [out.data] + hs + [x.grad] + [q.grad for q in m.parameters()]]
    ref = run()
    monkeypatch.setattr(K, "PAR_WORK", 0)
    monkeypatch.setattr(K, "STEP_PAR_WORK", 0)
    monkeypatch.setattr(K, "MIN_ROWS", 1)
    got = run()
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
