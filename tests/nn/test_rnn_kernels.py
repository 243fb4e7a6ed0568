"""Fused kernels in isolation: float64 finite-difference checks of the recurrent gate kernels (one layer,
one direction, packed and reversed variants) and of the tiled attention kernel; O(T*d) attention memory."""
import tracemalloc

import numpy as np
import pytest

import numtorch as nt
import numtorch.nn.functional as F
from numtorch.nn.modules.rnn import _layer
from _fd import check_grad


def _t(rng, *shape):
    return nt.tensor(rng.standard_normal(shape) * 0.6, dtype=nt.float64, requires_grad=True)


@pytest.mark.parametrize("mode,proj,reverse,packed", [(0, False, False, False), (1, False, True, False),
                                                      (2, False, False, True), (2, True, True, True),
                                                      (3, False, True, True), (3, False, False, False)])
def test_layer_kernel_gradcheck(mode, proj, reverse, packed):
    rng = np.random.default_rng(mode * 4 + reverse)
    T, B, I, H = 3, 2, 2, 2
    G = {0: 1, 1: 1, 2: 4, 3: 3}[mode] * H
    P = 1 if proj else H
    x, wih, whh = _t(rng, T, B, I), _t(rng, G, I), _t(rng, G, P)
    bih, bhh, h0 = _t(rng, G), _t(rng, G), _t(rng, B, P)
    c0 = _t(rng, B, H) if mode == 2 else None
    whr = _t(rng, P, H) if proj else None
    bs = np.array([2, 2, 1] if packed else [2, 2, 2], dtype=np.int64)

    def fn(x, wih, whh, bih, bhh, h0, c0=None, whr=None):
        Y, h, c = _layer(mode, x, wih, whh, bih, bhh, whr, h0, c0, bs, reverse)
        return (Y, h) if c is None else (Y, h, c)
    check_grad(fn, x, wih, whh, bih, bhh, h0, c0, whr)


@pytest.mark.parametrize("causal,mask", [(False, None), (True, None), (False, "float"), (True, "bool")])
def test_attention_kernel_gradcheck(causal, mask):
    rng = np.random.default_rng(7)
    q, k, v = _t(rng, 1, 2, 3, 2), _t(rng, 1, 2, 4, 2), _t(rng, 1, 2, 4, 3)
    m = None
    if mask == "float":
        m = nt.tensor(rng.standard_normal((3, 4)))
    elif mask == "bool":
        m = nt.tensor(np.array([[True, False, True, True], [True, True, False, True], [True, True, True, True]]))
    check_grad(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=m, is_causal=causal), q, k, v)


def test_attention_double_backward():
    rng = np.random.default_rng(8)
    q, k, v = _t(rng, 1, 2, 2), _t(rng, 1, 3, 2), _t(rng, 1, 3, 2)

    def grads(q, k, v):
        with nt.enable_grad():
            q, k, v = (t if t.requires_grad else t.detach().requires_grad_() for t in (q, k, v))
            o = F.scaled_dot_product_attention(q, k, v)
            return nt.autograd.grad((o * o).sum(), (q, k, v), create_graph=True)
    check_grad(grads, q, k, v)


def _np_attention(q, k, v, mask=None, causal=False):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if causal:
        s = np.where(np.tril(np.ones(s.shape[-2:], bool)), s, -np.inf)
    if mask is not None:
        s = s + mask
    s = s - s.max(-1, keepdims=True)
    p = np.exp(s)
    return (p / p.sum(-1, keepdims=True)) @ v


def test_long_sequence_memory():
    """T = 2048: forward + backward never allocate a T x T score matrix (tracemalloc sees NumPy buffers)."""
    T, d = 2048, 16
    rng = np.random.default_rng(9)
    arrs = [rng.standard_normal((1, 1, T, d)).astype(np.float32) for _ in range(3)]
    q, k, v = (nt.tensor(a, requires_grad=True) for a in arrs)
    w = nt.ones(1, 1, 256, d, requires_grad=True)   # compile first (serial and parallel paths): Numba allocates
    F.scaled_dot_product_attention(w, w, w, is_causal=True).sum().backward()
    tracemalloc.start()
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    out.sum().backward()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < T * T * 4 / 4, peak
    qa, ka, va = (a[0, 0].astype(np.float64) for a in arrs)
    rows = np.arange(T - 64, T)
    mask = np.where(np.arange(T)[None, :] <= rows[:, None], 0.0, -np.inf)
    ref = _np_attention(qa[rows], ka, va, mask)
    np.testing.assert_allclose(out.detach().numpy()[0, 0, -64:], ref, rtol=1e-4, atol=1e-5)
    assert q.grad.shape == (1, 1, T, d) and np.isfinite(q.grad.numpy()).all()


@pytest.mark.parametrize("mode", [2, 3])
def test_layer_double_backward(mode):
    """create_graph=True: the backward differentiates the composite recurrence (second derivatives)."""
    rng = np.random.default_rng(20 + mode)
    T, B, I, H = 2, 2, 2, 2
    G = (4 if mode == 2 else 3) * H
    x, wih, whh = _t(rng, T, B, I), _t(rng, G, I), _t(rng, G, H)
    bih, bhh, h0 = _t(rng, G), _t(rng, G), _t(rng, B, H)
    c0 = _t(rng, B, H) if mode == 2 else None
    bs = np.array([2, 1], dtype=np.int64)

    def grads(x, wih, whh):
        with nt.enable_grad():
            x, wih, whh = (t if t.requires_grad else t.detach().requires_grad_() for t in (x, wih, whh))
            Y, h, c = _layer(mode, x, wih, whh, bih, bhh, None, h0, c0, bs, True)
            return nt.autograd.grad((Y * Y).sum() + (h * h * h).sum(), (x, wih, whh), create_graph=True)
    check_grad(grads, x, wih, whh)
