"""RNN / LSTM / GRU layers and cells: PyTorch twins (outputs, final states, every parameter gradient),
NumPy step-by-step references, parameter names, reprs and errors."""
import numpy as np
import pytest

import numtorch
from _twin import twin, twin_raises


def set_params(m, T, seed=0, scale=0.4):
    """Same values in both libraries: parameters drawn from NumPy in named order."""
    rng = np.random.default_rng(seed)
    with T.no_grad():
        for _, p in m.named_parameters():
            p.copy_(T.tensor(rng.standard_normal(tuple(p.shape)) * scale, dtype=p.dtype))


def run_layer(T, cls, kw, shape, dtype="float64", hx=False, seed=1):
    rng = np.random.default_rng(seed)
    dt = getattr(T, dtype)
    m = getattr(T.nn, cls)(3, 4, dtype=dt, **kw)
    set_params(m, T)
    x = T.tensor(rng.standard_normal(shape), dtype=dt, requires_grad=True)
    args = (x,)
    if hx:
        nd = 2 if kw.get("bidirectional") else 1
        L = kw.get("num_layers", 1)
        B = shape[0] if kw.get("batch_first") else shape[1]
        P = kw.get("proj_size", 0) or 4
        h0 = T.tensor(rng.standard_normal((L * nd, B, P)), dtype=dt, requires_grad=True)
        if cls == "LSTM":
            c0 = T.tensor(rng.standard_normal((L * nd, B, 4)), dtype=dt, requires_grad=True)
            args = (x, (h0, c0))
        else:
            args = (x, h0)
    out, h = m(*args)
    hs = list(h) if isinstance(h, tuple) else [h]
    w = T.tensor(rng.standard_normal(tuple(out.shape)), dtype=dt)
    loss = (out * w).sum() + sum((t * t * t).sum() for t in hs)
    loss.backward()
    grads = [x.grad] + [p.grad for _, p in m.named_parameters()]
    if hx:
        grads += [a.grad for a in (args[1] if isinstance(args[1], tuple) else (args[1],))]
    return [out] + hs + grads


CASES = [
    ("RNN", {}, (5, 2, 3)),
    ("RNN", dict(nonlinearity="relu", bias=False, num_layers=2), (4, 2, 3)),
    ("LSTM", {}, (5, 2, 3)),
    ("LSTM", dict(num_layers=2, bidirectional=True, batch_first=True), (2, 5, 3)),
    ("LSTM", dict(proj_size=2, bidirectional=True), (4, 3, 3)),
    ("GRU", {}, (5, 2, 3)),
    ("GRU", dict(num_layers=2, bidirectional=True), (4, 2, 3)),
    ("GRU", dict(batch_first=True), (3, 4, 3)),
]


@pytest.mark.parametrize("cls,kw,shape", CASES)
def test_layer_twin(cls, kw, shape):
    twin(lambda T: run_layer(T, cls, kw, shape), rtol=1e-7, atol=1e-9, grad_fn=False)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_initial_state_and_unbatched(cls):
    twin(lambda T: run_layer(T, cls, dict(bidirectional=True), (4, 2, 3), hx=True), rtol=1e-7, atol=1e-9,
         grad_fn=False)
    twin(lambda T: run_layer(T, cls, {}, (4, 3)), rtol=1e-7, atol=1e-9)


def test_float32_grad_fns():
    def case(T):
        out = []
        for cls in ("RNN", "LSTM", "GRU"):
            m = getattr(T.nn, cls)(3, 4)
            set_params(m, T)
            o, h = m(T.tensor(np.ones((2, 1, 3), np.float32)))
            out += [o, h[0] if isinstance(h, tuple) else h]
        return out
    res = twin(case, rtol=1e-5, atol=1e-6)
    assert type(res[2].grad_fn).__name__ == "MkldnnRnnLayerBackward0"


def _sig(x):
    return 1 / (1 + np.exp(-x))


def test_numpy_step_reference():
    """Gate order LSTM i,f,g,o and GRU r,z,n (n uses r * (W_hn h + b_hn)), checked step by step."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 2, 3))
    for cls in ("LSTM", "GRU", "RNN"):
        m = getattr(numtorch.nn, cls)(3, 5, dtype=numtorch.float64)
        set_params(m, numtorch)
        wi, wh, bi, bh = (p.detach().numpy() for p in (m.weight_ih_l0, m.weight_hh_l0, m.bias_ih_l0, m.bias_hh_l0))
        h = np.zeros((2, 5))
        c = np.zeros((2, 5))
        outs = []
        for t in range(4):
            gi = x[t] @ wi.T + bi
            gh = h @ wh.T + bh
            if cls == "LSTM":
                i, f, g, o = np.split(gi + gh, 4, axis=1)
                c = _sig(f) * c + _sig(i) * np.tanh(g)
                h = _sig(o) * np.tanh(c)
            elif cls == "GRU":
                r = _sig(gi[:, :5] + gh[:, :5])
                z = _sig(gi[:, 5:10] + gh[:, 5:10])
                n = np.tanh(gi[:, 10:] + r * gh[:, 10:])
                h = (1 - z) * n + z * h
            else:
                h = np.tanh(gi + gh)
            outs.append(h)
        o, hn = m(numtorch.tensor(x))
        np.testing.assert_allclose(o.detach().numpy(), np.stack(outs), atol=1e-12)
        hn = hn[0] if isinstance(hn, tuple) else hn
        np.testing.assert_allclose(hn.detach().numpy()[0], outs[-1], atol=1e-12)
        if cls == "LSTM":
            np.testing.assert_allclose(m(numtorch.tensor(x))[1][1].detach().numpy()[0], c, atol=1e-12)


def test_parameters_repr_init():
    def case(T):
        m = T.nn.LSTM(10, 20, num_layers=2, batch_first=True, proj_size=5, bidirectional=True)
        names = [(n, tuple(p.shape)) for n, p in m.named_parameters()]
        return names, repr(m), repr(T.nn.RNN(3, 4, nonlinearity="relu", bias=False)), repr(T.nn.GRU(3, 4, dropout=0.5,
                                                                                                     num_layers=2)), \
            repr(T.nn.LSTMCell(3, 4)), repr(T.nn.GRUCell(3, 4, bias=False)), repr(T.nn.RNNCell(3, 4, nonlinearity="relu"))
    res = twin(case)
    assert res[1] == "LSTM(10, 20, proj_size=5, num_layers=2, batch_first=True, bidirectional=True)"
    assert ("weight_hr_l1_reverse", (5, 20)) in res[0]
    m = numtorch.nn.GRU(4, 16)
    bound = 1 / 4
    for p in m.parameters():
        a = p.detach().numpy()
        assert a.min() >= -bound and a.max() <= bound and a.std() > bound / 4
    m.flatten_parameters()


def test_errors():
    def bad_input(T):
        T.nn.LSTM(32, 64)(T.zeros(5, 16, 16))
    twin_raises(bad_input, RuntimeError, "input.size(-1) must be equal to input_size. Expected 32, got 16")

    def bad_hidden(T):
        T.nn.GRU(4, 64)(T.zeros(5, 16, 4), T.zeros(1, 8, 64))
    twin_raises(bad_hidden, RuntimeError, "Expected hidden size (1, 16, 64), got [1, 8, 64]")

    def bad_cell(T):
        T.nn.LSTM(4, 64)(T.zeros(5, 16, 4), (T.zeros(1, 16, 64), T.zeros(1, 16, 3)))
    twin_raises(bad_cell, RuntimeError, "Expected hidden[1] size (1, 16, 64), got [1, 16, 3]")
    twin_raises(lambda T: T.nn.LSTM(4, 6)(T.zeros(1, 2, 3, 4)), ValueError,
                "LSTM: Expected input to be 2D or 3D, got 4D instead")
    twin_raises(lambda T: T.nn.RNN(4, 6, nonlinearity="gelu"), ValueError, "Unknown nonlinearity 'gelu'")
    twin_raises(lambda T: T.nn.LSTM(4, 6, proj_size=6), ValueError, "proj_size has to be smaller than hidden_size")
    twin_raises(lambda T: T.nn.GRU(4, 6, proj_size=2), ValueError, "proj_size argument is only supported for LSTM")
    twin_raises(lambda T: T.nn.RNN(4, 6)(T.zeros(3, 4), T.zeros(1, 1, 6)), RuntimeError,
                "For unbatched 2-D input, hx should also be 2-D but got 3-D tensor")
    twin_raises(lambda T: T.nn.LSTM(4, 6)(T.zeros(3, 2, 4, dtype=T.float64)), ValueError,
                "RNN input dtype (torch.float64) does not match weight dtype (torch.float32)")


def test_cells():
    def case(T):
        rng = np.random.default_rng(5)
        res = []
        for cls, kw in (("RNNCell", {}), ("RNNCell", dict(nonlinearity="relu")), ("LSTMCell", {}), ("GRUCell", {})):
            m = getattr(T.nn, cls)(3, 4, dtype=T.float64, **kw)
            set_params(m, T)
            x = T.tensor(rng.standard_normal((2, 3)), requires_grad=True)
            h = T.tensor(rng.standard_normal((2, 4)))
            hx = (h, h * 0.5) if cls == "LSTMCell" else h
            out = m(x, hx)
            outs = list(out) if isinstance(out, tuple) else [out]
            sum((o * o).sum() for o in outs).backward()
            res += outs + [x.grad] + [p.grad for p in m.parameters()]
            u = m(x[0])
            res += list(u) if isinstance(u, tuple) else [u]
        return res
    twin(case, rtol=1e-7, atol=1e-9)


def test_dropout_between_layers():
    m = numtorch.nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = numtorch.randn(5, 2, 3)
    m.eval()
    a = m(x)[0]
    b = m(x)[0]
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    m.train()
    outs = [m(x)[0].detach().numpy() for _ in range(3)]
    assert not np.allclose(outs[0], outs[1]) or not np.allclose(outs[1], outs[2])


def test_float16_runs_in_float32():
    def case(T):
        m = T.nn.GRU(3, 4).half()
        set_params(m, T, scale=0.3)
        x = T.tensor(np.linspace(-1, 1, 18).reshape(3, 2, 3), dtype=T.float16, requires_grad=True)
        o, h = m(x)
        o.float().sum().backward()
        return [o, h, x.grad, m.weight_hh_l0.grad]
    twin(case, rtol=2e-3, atol=2e-3, grad_fn=False)


@pytest.mark.parametrize("cls,batch_first", [("LSTM", True), ("GRU", False)])
def test_no_grad_forward_matches(cls, batch_first):
    """Under no_grad the output shares the kernel's buffer (no copy): same values as with grad, and
    writing into it leaves h_n alone."""
    m = getattr(numtorch.nn, cls)(3, 4, batch_first=batch_first, dtype=numtorch.float64)
    set_params(m, numtorch)
    x = numtorch.tensor(np.random.default_rng(4).standard_normal((2, 5, 3)))
    ref, href = m(x.requires_grad_())
    with numtorch.no_grad():
        out, h = m(x)
    np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())
    h = h[0] if cls == "LSTM" else h
    hr = (href[0] if cls == "LSTM" else href).detach().numpy()
    out.zero_()
    np.testing.assert_array_equal(h.numpy(), hr)
    assert np.abs(hr).sum() > 0
