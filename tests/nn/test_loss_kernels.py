"""Fused softmax / log-softmax / cross-entropy / NLL kernels: finite-difference gradchecks of the fused
backward kernels, double backward through the composite path, dtypes, and CUDA parity (simulator)."""
import numpy as np
import pytest

import numtorch as nt
from numtorch.kernels import loss as KL
from numtorch.kernels import softmax as KS
from _fd import check_grad
from _twin import twin

RNG = np.random.default_rng(5)
F = nt.nn.functional


def _t(a, rg=True):
    return nt.tensor(a, dtype=nt.float64, requires_grad=rg)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("log", [False, True])
def test_softmax_fused_backward_fd(dim, log):
    x = _t(RNG.standard_normal((3, 4, 5)))
    check_grad(lambda x: F.log_softmax(x, dim) if log else F.softmax(x, dim), x)


@pytest.mark.parametrize("case", ["plain", "weight_ignore", "4d", "3d_none", "unbatched"])
def test_cross_entropy_fused_backward_fd(case):
    w = _t(RNG.uniform(0.5, 2, 5), False)
    if case == "plain":
        check_grad(lambda x: F.cross_entropy(x, nt.tensor([1, 0, 4])), _t(RNG.standard_normal((3, 5))))
    elif case == "weight_ignore":
        check_grad(lambda x: F.cross_entropy(x, nt.tensor([1, 0, 4, 2]), w, ignore_index=0),
                   _t(RNG.standard_normal((4, 5))))
    elif case == "4d":
        check_grad(lambda x: F.cross_entropy(x, nt.tensor([[[1, 2], [0, 4]]]), w, reduction="sum"),
                   _t(RNG.standard_normal((1, 5, 2, 2))))
    elif case == "3d_none":
        check_grad(lambda x: F.cross_entropy(x, nt.tensor([[1, 2, 3], [0, 4, 1]]), reduction="none"),
                   _t(RNG.standard_normal((2, 5, 3))))
    else:
        check_grad(lambda x: F.cross_entropy(x, nt.tensor(3)), _t(RNG.standard_normal(5)))


def test_nll_fused_backward_fd():
    check_grad(lambda x: F.nll_loss(x, nt.tensor([1, 0, 4]), reduction="none"), _t(RNG.standard_normal((3, 5))))


LOSSES = {
    "mse": lambda x, y: F.mse_loss(x, y),
    "huber": lambda x, y: F.huber_loss(x, y, delta=0.5, reduction="sum"),
    "smooth_l1": lambda x, y: F.smooth_l1_loss(x, y, beta=0.7, reduction="none"),
    "bce": lambda x, y: F.binary_cross_entropy(x.sigmoid(), y.sigmoid()),
    "bce_logits_pw": lambda x, y: F.binary_cross_entropy_with_logits(x, y.sigmoid(), pos_weight=nt.full((4,), 2.0,
                                                                                   dtype=nt.float64)),
    "soft_margin": lambda x, y: F.soft_margin_loss(x, y),
    "kl": lambda x, y: F.kl_div(x, y, reduction="batchmean", log_target=True),
    "gaussian": lambda x, y: F.gaussian_nll_loss(x, y, (x * y).abs() + 0.5),
    "multilabel_margin": lambda x, y: F.multilabel_margin_loss(x * y, nt.tensor([[3, 0, -1, 1]] * 3)),
    "multi_margin": lambda x, y: F.multi_margin_loss(x * y, nt.tensor([0, 3, 1]), p=2, margin=2.0),
    "cosine": lambda x, y: F.cosine_embedding_loss(x, y, nt.tensor([1.0, -1.0, 1.0], dtype=nt.float64), margin=-0.5),
    "triplet": lambda x, y: F.triplet_margin_loss(x, y, x * 0.5 + 0.1, margin=3.0),
    "ce_prob": lambda x, y: F.cross_entropy(x, y.softmax(1), label_smoothing=0.1),
    "ce_smooth": lambda x, y: F.cross_entropy(x * y, nt.tensor([3, 0, 1]), label_smoothing=0.2),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_fd(name):
    x = _t(RNG.standard_normal((3, 4)))
    y = _t(RNG.standard_normal((3, 4)))
    check_grad(LOSSES[name], x, y)


@pytest.mark.parametrize("name", ["ce", "ce_w", "ce_4d", "ce_3d_none", "nll", "softmax", "log_softmax", "mse", "bce_logits",
                                  "multi_margin"])
def test_double_backward(name):
    w = nt.tensor([1.0, 2.0, 0.5], dtype=nt.float64)
    fns = {
        "ce": lambda x: F.cross_entropy(x, nt.tensor([2, 0, 1, 1])),
        "ce_w": lambda x: F.cross_entropy(x, nt.tensor([2, 0, 1, -100]), w, reduction="none"),
        "ce_4d": lambda x: F.cross_entropy(x.reshape(1, 3, 2, 2), nt.tensor([[[2, 0], [1, 1]]])),
        "ce_3d_none": lambda x: F.cross_entropy(x.reshape(2, 3, 2), nt.tensor([[2, 0], [1, -100]]), reduction="none"),
        "nll": lambda x: F.nll_loss(x, nt.tensor([2, 0, 1, 1]), w),
        "softmax": lambda x: F.softmax(x, 0),
        "log_softmax": lambda x: F.log_softmax(x, 1),
        "mse": lambda x: F.mse_loss(x, x.flip(0) * 2),
        "bce_logits": lambda x: F.binary_cross_entropy_with_logits(x, nt.full((4, 3), 0.3, dtype=nt.float64)),
        "multi_margin": lambda x: F.multi_margin_loss(x, nt.tensor([0, 2, 1, 1]), p=2),
    }
    x = _t(RNG.standard_normal((4, 3)))
    assert nt.autograd.gradgradcheck(fns[name], (x,))


def test_cross_entropy_float32_float16_and_names():
    a = RNG.standard_normal((6, 7)).astype(np.float32)
    t = np.array([0, 6, 3, 3, -100, 1])

    def case(T):
        x = T.tensor(a, requires_grad=True)
        loss = T.nn.functional.cross_entropy(x, T.tensor(t))
        loss.backward()
        h = T.tensor(a).half().requires_grad_()
        lh = T.nn.functional.cross_entropy(h, T.tensor(t), reduction="none")
        lh.sum().backward()
        nxt = type(loss.grad_fn.next_functions[0][0]).__name__
        return loss, x.grad, lh, h.grad, nxt
    res = twin(case, rtol=2e-3, atol=2e-3)
    assert res[0].dtype == nt.float32 and res[2].dtype == nt.float16 and res[4] == "LogSoftmaxBackward0"
    lsm = a - a.max(1, keepdims=True)
    lsm = lsm - np.log(np.exp(lsm).sum(1, keepdims=True))
    keep = t != -100
    np.testing.assert_allclose(res[0].item(), -lsm[np.arange(6)[keep], t[keep]].mean(), rtol=1e-5)


def test_softmax_kernel_edge_values():
    x = np.array([[-np.inf, -np.inf, -np.inf], [np.inf, 1.0, 2.0], [np.nan, 0.0, 1.0], [-200.0, -100.0, 0.0]],
                 np.float32).ravel()
    out = np.empty_like(x)
    KS.softmax(x, 4, 3, 1, out)
    o = out.reshape(4, 3)
    assert np.isnan(o[:3]).all()
    np.testing.assert_allclose(o[3], [0.0, np.exp(np.float32(-100.0)), 1.0], rtol=1e-6, atol=0)
    KS.softmax(x, 4, 3, 1, out, log=True)
    np.testing.assert_array_equal(out.reshape(4, 3)[3], [-200.0, -100.0, 0.0])


def test_vexpf_accuracy():
    from numba import njit

    @njit
    def run(a, o):
        for j in range(a.size):
            o[j] = KS.vexpf(a[j])
    a = np.linspace(-87, 88.5, 100001).astype(np.float32)
    o = np.empty_like(a)
    run(a, o)
    ref = np.exp(a.astype(np.float64))
    assert (np.abs(o - ref) / ref).max() < 2.5e-7
    s = np.array([-np.inf, np.inf, np.nan, -104.0, 89.0, -100.0], np.float32)
    o = np.empty_like(s)
    run(s, o)
    assert o[0] == 0 and o[1] == np.inf and np.isnan(o[2]) and o[3] == 0 and o[4] == np.inf
    assert 0 < o[5] < 1e-43


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("lay", [(3, 5, 1), (2, 5, 3)])
def test_loss_kernels_cuda_parity(dt, lay):
    cuda = pytest.importorskip("numba.cuda")
    if not cuda.is_available():
        pytest.skip("numba.cuda is not usable here")
    outer, n, inner = lay
    m = outer * inner
    x = RNG.standard_normal(outer * n * inner).astype(dt)
    t = RNG.integers(0, n, m).astype(np.int64)
    t[0] = -100
    w = RNG.uniform(0.5, 2, n).astype(dt)
    gs = RNG.standard_normal(m).astype(dt)
    den = np.array([1.7], dt)
    host = [np.empty(m, dt) for _ in range(3)]
    KL.cross_entropy_forward(x, outer, n, inner, t, w, -100, *host)
    dev = [cuda.to_device(np.zeros(m, dt)) for _ in range(3)]
    dx, dt_, dw = cuda.to_device(x), cuda.to_device(t), cuda.to_device(w)
    KL.cross_entropy_forward(dx, outer, n, inner, dt_, dw, -100, *dev)
    for h, d in zip(host, dev):
        np.testing.assert_allclose(d.copy_to_host(), h, rtol=2e-6, atol=1e-6)
    gh = np.empty_like(x)
    KL.cross_entropy_backward(x, outer, n, inner, t, w, -100, host[2], gs, den, gh)
    gd = cuda.to_device(np.zeros_like(x))
    KL.cross_entropy_backward(dx, outer, n, inner, dt_, dw, -100, dev[2], cuda.to_device(gs), cuda.to_device(den), gd)
    np.testing.assert_allclose(gd.copy_to_host(), gh, rtol=2e-6, atol=1e-6)
    nh = [np.empty(m, dt) for _ in range(2)]
    KL.nll_forward(x, outer, n, inner, t, w, -100, *nh)
    nd = [cuda.to_device(np.zeros(m, dt)) for _ in range(2)]
    KL.nll_forward(dx, outer, n, inner, dt_, dw, -100, *nd)
    for h, d in zip(nh, nd):
        np.testing.assert_allclose(d.copy_to_host(), h, rtol=1e-6)
    bh = np.empty_like(x)
    KL.nll_backward(n, inner, t, w, -100, gs, den, bh)
    bd = cuda.to_device(np.ones_like(x))
    KL.nll_backward(n, inner, dt_, dw, -100, cuda.to_device(gs), cuda.to_device(den), bd)
    np.testing.assert_allclose(bd.copy_to_host(), bh, rtol=1e-6)
    sh = np.empty_like(x)
    KS.softmax(x, outer, n, inner, sh, log=True)
    sd = cuda.to_device(np.zeros_like(x))
    KS.softmax(dx, outer, n, inner, sd, log=True)
    np.testing.assert_allclose(sd.copy_to_host(), sh, rtol=2e-6, atol=1e-6)
    g2 = RNG.standard_normal(x.size).astype(dt)
    bh2 = np.empty_like(x)
    KS.softmax_backward(g2, sh, outer, n, inner, bh2, log=True)
    bd2 = cuda.to_device(np.zeros_like(x))
    KS.softmax_backward(cuda.to_device(g2), sd, outer, n, inner, bd2, log=True)
    np.testing.assert_allclose(bd2.copy_to_host(), bh2, rtol=2e-5, atol=1e-6)


def test_cross_entropy_on_device(device):
    """The whole F.cross_entropy / softmax path on each device (tiny sizes for the simulator)."""
    a = RNG.standard_normal((3, 4))
    x = nt.tensor(a, requires_grad=True)
    loss = F.cross_entropy(x, nt.tensor([3, 0, 1]), nt.tensor([1.0, 2.0, 1.0, 0.5], dtype=nt.float64))
    loss.backward()
    lsm = a - np.log(np.exp(a).sum(1, keepdims=True))
    w = np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(loss.item(), -(w * lsm[[0, 1, 2], [3, 0, 1]]).sum() / w.sum(), rtol=1e-10)
    sm = np.exp(lsm)
    ref = sm * w[:, None]
    ref[[0, 1, 2], [3, 0, 1]] -= w
    np.testing.assert_allclose(x.grad.cpu().numpy(), ref / w.sum(), rtol=1e-10, atol=1e-12)
    assert x.grad.device.type == device.type


CTC = {  # targets, input_lengths, target_lengths
    "padded": (np.array([[1, 2, 2], [0, 0, 1]]), [6, 5], [3, 2]),
    "infeasible": (np.array([[1, 2, 2], [3, 3, 0]]), [6, 2], [3, 2]),
    "concat_tuple": (np.array([1, 2, 2, 3, 3]), (6, 5), (3, 2)),
    "empty_target": (np.array([[1, 2, 2], [3, 3, 0]]), [6, 5], [0, 2]),
}
A_CTC = RNG.standard_normal((6, 2, 4))


def _ctc_case(T, key, reduction, zero_inf, blank=0):
    targets, il, tl = CTC[key]
    x = T.tensor(A_CTC, requires_grad=True)
    lengths = (lambda v: v if isinstance(v, tuple) else T.tensor(v))
    loss = T.nn.functional.ctc_loss(x.log_softmax(2), T.tensor(targets), lengths(il), lengths(tl), blank=blank,
                                    reduction=reduction, zero_infinity=zero_inf)
    g, = T.autograd.grad(loss.sum(), x)
    return loss, g


@pytest.mark.parametrize("key", sorted(CTC))
@pytest.mark.parametrize("reduction,zero_inf", [("none", False), ("mean", True), ("sum", False), ("none", True)])
def test_ctc_vs_torch(key, reduction, zero_inf):
    loss, g = twin(lambda T: _ctc_case(T, key, reduction, zero_inf, blank=3 if key == "padded" else 0))
    if key == "infeasible" and not zero_inf:
        assert np.isinf(loss.detach().numpy()).any()


def _ctc_np(lp, tgt, blank=0):
    """Brute-force CTC: sum over all alignments of length T that collapse to tgt."""
    import itertools
    T_, C = lp.shape
    total = 0.0
    for path in itertools.product(range(C), repeat=T_):
        col = [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]
        if [k for k in col if k != blank] == list(tgt):
            total += np.exp(sum(lp[t, k] for t, k in enumerate(path)))
    return -np.log(total)


def test_ctc_vs_bruteforce_and_fd():
    a = RNG.standard_normal((4, 1, 3))
    lp = a - np.log(np.exp(a).sum(2, keepdims=True))
    loss = F.ctc_loss(nt.tensor(lp), nt.tensor([[1, 1]]), [4], [2], reduction="none")
    np.testing.assert_allclose(loss.numpy(), [_ctc_np(lp[:, 0], [1, 1])], rtol=1e-12)
    un = F.ctc_loss(nt.tensor(lp[:, 0]), nt.tensor([2, 1]), (4,), (2,), reduction="none")
    np.testing.assert_allclose(un.item(), _ctc_np(lp[:, 0], [2, 1]), rtol=1e-12)
    check_grad(lambda x: F.ctc_loss(x.log_softmax(2), nt.tensor([[1, 2], [2, 2]]), [4, 3], [2, 1]),
               _t(RNG.standard_normal((4, 2, 3))))


def test_ctc_errors():
    lp = lambda T: T.zeros(6, 2, 4)  # noqa: E731
    tg = lambda T: T.tensor([[1, 2, 2]] * 2)  # noqa: E731
    from _twin import twin_raises
    twin_raises(lambda T: T.nn.functional.ctc_loss(lp(T), tg(T), (7, 5), (3, 2)), RuntimeError,
                "Expected input_lengths to have value at most 6, but got value 7")
    twin_raises(lambda T: T.nn.functional.ctc_loss(lp(T), tg(T), (6, 5, 1), (3, 2)), RuntimeError,
                "input_lengths must be of size batch_size")
    twin_raises(lambda T: T.nn.functional.ctc_loss(lp(T), tg(T), (6, 5), (4, 2)), RuntimeError,
                "Expected tensor to have size at least 4 at dimension 1, but got size 3 for argument #2 'targets'")
    twin_raises(lambda T: T.nn.functional.ctc_loss(lp(T), tg(T), (6, 5), (3, 2), blank=4), RuntimeError,
                "blank must be in label range")
    with pytest.raises(IndexError, match="Target 9 is out of bounds."):  # torch reads out of bounds here
        F.ctc_loss(lp(nt), nt.tensor([[1, 2, 9]] * 2), (6, 5), (3, 2))


def test_ctc_cuda_parity():
    cuda = pytest.importorskip("numba.cuda")
    if not cuda.is_available():
        pytest.skip("numba.cuda is not usable here")
    lp = (A_CTC - np.log(np.exp(A_CTC).sum(2, keepdims=True))).ravel()
    bufs = [np.array([1, 2, 2, 3, 3, 0]), np.array([0, 3]), np.array([3, 2]), np.array([6, 4])]
    host = np.empty(2)
    KL.ctc_forward(lp, 6, 2, 4, *bufs, 0, host)
    dev = cuda.to_device(np.zeros(2))
    dbufs = [cuda.to_device(b) for b in bufs]
    KL.ctc_forward(cuda.to_device(lp), 6, 2, 4, *dbufs, 0, dev)
    np.testing.assert_allclose(dev.copy_to_host(), host, rtol=1e-12)
    gs = np.array([0.7, -1.3])
    gh = np.empty(lp.size)
    KL.ctc_backward(lp, 6, 2, 4, *bufs, 0, gs, False, gh)
    gd = cuda.to_device(np.ones(lp.size))
    KL.ctc_backward(cuda.to_device(lp), 6, 2, 4, *dbufs, 0, cuda.to_device(gs), False, gd)
    np.testing.assert_allclose(gd.copy_to_host(), gh, rtol=1e-10, atol=1e-12)


def test_other_losses_on_device(device):
    """NLL, MSE, BCE-with-logits, label smoothing and CTC on each device (values against the CPU path)."""
    a = RNG.standard_normal((3, 4))
    lp = np.log(np.full((4, 1, 3), 1 / 3))

    def run():
        x = nt.tensor(a, requires_grad=True)
        t = nt.tensor([3, 0, 1])
        p = nt.tensor(lp, requires_grad=True)
        out = [F.nll_loss(x, t, reduction="none"), F.mse_loss(x, x.detach() * 0.5),
               F.binary_cross_entropy_with_logits(x, x.detach().sigmoid()),
               F.cross_entropy(x, t, label_smoothing=0.1),
               F.ctc_loss(p, nt.tensor([[1, 2]]), [4], [2], reduction="sum")]
        gx, gp = nt.autograd.grad(sum(o.sum() for o in out), (x, p))
        return [o.detach().cpu().numpy() for o in out] + [gx.cpu().numpy(), gp.cpu().numpy()]
    got = run()
    nt.set_default_device(None)
    ref = run()
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-12)
