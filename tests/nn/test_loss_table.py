"""Every loss x reduction (x weight / ignore_index / smoothing where torch has them) against PyTorch (twin)
and NumPy references: values, input gradients and grad_fn names."""
import warnings

import numpy as np
import pytest

import numtorch
from _twin import twin

RNG = np.random.default_rng(11)
X = RNG.standard_normal((4, 5))
Y = RNG.standard_normal((4, 5))
P = RNG.uniform(0.05, 0.95, (4, 5))
T01 = RNG.uniform(0, 1, (4, 5))
SIGN = np.where(RNG.random((4, 5)) < 0.5, -1.0, 1.0)
CLS = np.array([0, 4, 2, 1])
W5 = RNG.uniform(0.5, 1.5, 5)
V4 = RNG.standard_normal(4)
S4 = np.array([1.0, -1.0, 1.0, -1.0])
MLM = np.array([[3, 0, -1, 1, 2], [1, 2, 3, -1, 0], [4, -1, 0, 0, 0], [0, 1, 2, 3, 4]])


def _run(T, fn, arrays, grad_idx=(0,)):
    """loss and the gradients of sum(loss * cos) w.r.t. the inputs at grad_idx."""
    F = T.nn.functional
    ts = [T.tensor(a) if a.dtype.kind != 'f' else T.tensor(a, requires_grad=i in grad_idx)
          for i, a in enumerate(arrays)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loss = fn(T, F, *ts)
    w = T.tensor(np.cos(np.arange(max(loss.numel(), 1))).reshape(loss.shape))
    grads = T.autograd.grad((loss * w).sum(), [ts[i] for i in grad_idx])
    return loss, tuple(grads)


# name: (fn(T, F, *tensors, reduction), arrays, grad_idx)
CASES = {
    "l1": (lambda T, F, x, y, r: F.l1_loss(x, y, reduction=r), (X, Y), (0, 1)),
    "mse": (lambda T, F, x, y, r: F.mse_loss(x, y, reduction=r), (X, Y), (0, 1)),
    "mse_w": (lambda T, F, x, y, w, r: F.mse_loss(x, y, reduction=r, weight=w), (X, Y, T01), (0, 1, 2)),
    "l1_w": (lambda T, F, x, y, w, r: F.l1_loss(x, y, reduction=r, weight=w), (X, Y, T01), (0, 1)),
    "huber_w": (lambda T, F, x, y, w, r: F.huber_loss(x, y, reduction=r, delta=0.5, weight=w), (X, Y, T01), (0, 2)),
    "mse_bcast": (lambda T, F, x, y, r: F.mse_loss(x, y, reduction=r), (X, Y[:1]), (0, 1)),
    "huber": (lambda T, F, x, y, r: F.huber_loss(x, y, reduction=r, delta=0.7), (X, Y), (0, 1)),
    "smooth_l1": (lambda T, F, x, y, r: F.smooth_l1_loss(x, y, reduction=r, beta=0.5), (X, Y), (0, 1)),
    "smooth_l1_b0": (lambda T, F, x, y, r: F.smooth_l1_loss(x, y, reduction=r, beta=0.0), (X, Y), (0,)),
    "bce": (lambda T, F, p, t, r: F.binary_cross_entropy(p, t, reduction=r), (P, T01), (0, 1)),
    "bce_w": (lambda T, F, p, t, w, r: F.binary_cross_entropy(p, t, w, reduction=r), (P, T01, W5), (0,)),
    "bce_logits": (lambda T, F, x, t, r: F.binary_cross_entropy_with_logits(x * 8, t, reduction=r),
                   (X, T01), (0, 1)),
    "bce_logits_pw": (lambda T, F, x, t, w, r: F.binary_cross_entropy_with_logits(x, t, pos_weight=w, weight=w[:1],
                                                                                  reduction=r), (X, T01, W5), (0, 1)),
    "soft_margin": (lambda T, F, x, s, r: F.soft_margin_loss(x, s, reduction=r), (X, SIGN), (0,)),
    "kl": (lambda T, F, x, p, r: F.kl_div(x, p, reduction=r), (X, P), (0, 1)),
    "kl_log_target": (lambda T, F, x, y, r: F.kl_div(x, y, reduction=r, log_target=True), (X, Y), (0, 1)),
    "poisson": (lambda T, F, x, p, r: F.poisson_nll_loss(x, p * 3, reduction=r), (X, P), (0,)),
    "poisson_full": (lambda T, F, p, t, r: F.poisson_nll_loss(p, t * 3, log_input=False, full=True, reduction=r),
                     (P, T01), (0,)),
    "gaussian": (lambda T, F, x, y, p, r: F.gaussian_nll_loss(x, y, p, reduction=r, full=True), (X, Y, P), (0, 2)),
    "gaussian_homo": (lambda T, F, x, y, v, r: F.gaussian_nll_loss(x, y, v.abs() + 0.1, reduction=r), (X, Y, V4),
                      (0, 2)),
    "multilabel_soft_margin": (lambda T, F, x, t, w, r: F.multilabel_soft_margin_loss(x, (t > 0.5).double(), w,
                                                                                      reduction=r), (X, T01, W5), (0,)),
    "multilabel_margin": (lambda T, F, x, t, r: F.multilabel_margin_loss(x, t, reduction=r), (X, MLM), (0,)),
    "multi_margin": (lambda T, F, x, c, r: F.multi_margin_loss(x, c, reduction=r), (X, CLS), (0,)),
    "multi_margin_p2w": (lambda T, F, x, c, w, r: F.multi_margin_loss(x, c, p=2, margin=0.5, weight=w, reduction=r),
                         (X, CLS, W5), (0,)),
    "hinge": (lambda T, F, x, s, r: F.hinge_embedding_loss(x, s, margin=0.5, reduction=r), (X, SIGN), (0,)),
    "cosine": (lambda T, F, a, b, s, r: F.cosine_embedding_loss(a, b, s, margin=0.1, reduction=r), (X, Y, S4),
               (0, 1)),
    "margin_ranking": (lambda T, F, a, b, s, r: F.margin_ranking_loss(a, b, s, margin=0.2, reduction=r),
                       (V4, V4[::-1].copy(), S4), (0, 1)),
    "triplet": (lambda T, F, a, p, n, r: F.triplet_margin_loss(a, p, n * 0.3, margin=2.0, reduction=r), (X, Y, X),
                (0, 1, 2)),
    "triplet_swap_p1": (lambda T, F, a, p, n, r: F.triplet_margin_loss(a, p, n, p=1, swap=True, reduction=r),
                        (X, Y, P), (0, 1, 2)),
    "triplet_dist": (lambda T, F, a, p, n, r: F.triplet_margin_with_distance_loss(
        a, p, n, distance_function=lambda u, v: 1 - F.cosine_similarity(u, v), reduction=r) if False else
        F.triplet_margin_with_distance_loss(a, p, n, margin=1.5, reduction=r), (X, Y, P), (0, 1, 2)),
    "nll": (lambda T, F, x, c, r: F.nll_loss(x, c, reduction=r), (X, CLS), (0,)),
    "nll_w_ignore": (lambda T, F, x, c, w, r: F.nll_loss(x, c, w, ignore_index=4, reduction=r), (X, CLS, W5), (0,)),
    "ce": (lambda T, F, x, c, r: F.cross_entropy(x, c, reduction=r), (X, CLS), (0,)),
    "ce_w_ignore": (lambda T, F, x, c, w, r: F.cross_entropy(x, c, w, ignore_index=2, reduction=r), (X, CLS, W5),
                    (0,)),
    "ce_smooth": (lambda T, F, x, c, r: F.cross_entropy(x, c, label_smoothing=0.2, reduction=r), (X, CLS), (0,)),
    "ce_smooth_w": (lambda T, F, x, c, w, r: F.cross_entropy(x, c, w, ignore_index=0, label_smoothing=0.1,
                                                             reduction=r), (X, CLS, W5), (0,)),
    "ce_prob": (lambda T, F, x, p, r: F.cross_entropy(x, p.softmax(1), reduction=r), (X, P), (0, 1)),
    "ce_prob_w_smooth": (lambda T, F, x, p, w, r: F.cross_entropy(x, p, w, label_smoothing=0.3, reduction=r),
                         (X, P, W5), (0, 1)),
    "ce_unbatched": (lambda T, F, x, c, r: F.cross_entropy(x[0], c[1], reduction=r), (X, CLS), (0,)),
    "ce_3d": (lambda T, F, x, c, r: F.cross_entropy(x.reshape(2, 5, 2), c.reshape(2, 2), reduction=r),
              (X[:, :].T.copy()[:, :4].reshape(5, 4).T.copy(), CLS), (0,)),
    "ce_4d_w": (lambda T, F, x, c, w, r: F.cross_entropy(x.reshape(1, 5, 2, 2), c.reshape(1, 2, 2), w,
                                                         ignore_index=1, reduction=r), (X.T.copy(), CLS, W5), (0,)),
    "nll_3d": (lambda T, F, x, c, r: F.nll_loss(x.reshape(2, 5, 2), c.reshape(2, 2), reduction=r), (X.T.copy(), CLS),
               (0,)),
}


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_vs_torch(name, reduction):
    fn, arrays, gi = CASES[name]
    loss, grads = twin(lambda T: _run(T, lambda T, F, *ts: fn(T, F, *ts, reduction), arrays, gi), rtol=1e-6,
                       atol=1e-9)
    assert loss.dtype == numtorch.float64 and all(np.isfinite(g.numpy()).all() for g in grads)


# ------------------------------------------------------------------ NumPy references (run without torch)
def _np_red(v, reduction, den=None):
    if reduction == "none":
        return v
    if reduction == "sum":
        return v.sum()
    return v.sum() / (v.size if den is None else den)


def _logsoftmax(x, axis=1):
    m = x.max(axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis, keepdims=True))


NP_REFS = {
    "mse": lambda r: _np_red((X - Y) ** 2, r),
    "l1": lambda r: _np_red(np.abs(X - Y), r),
    "huber": lambda r: _np_red(np.where(np.abs(X - Y) < 0.7, 0.5 * (X - Y) ** 2, 0.7 * (np.abs(X - Y) - 0.35)), r),
    "smooth_l1": lambda r: _np_red(np.where(np.abs(X - Y) < 0.5, (X - Y) ** 2, np.abs(X - Y) - 0.25), r),
    "bce": lambda r: _np_red(-(T01 * np.log(P) + (1 - T01) * np.log(1 - P)), r),
    "bce_logits": lambda r: _np_red(np.logaddexp(0, 8 * X) - T01 * 8 * X, r),
    "soft_margin": lambda r: _np_red(np.log1p(np.exp(-SIGN * X)), r),
    "kl": lambda r: _np_red(P * (np.log(P) - X), r),
    "nll": lambda r: _np_red(-X[np.arange(4), CLS], r),
    "ce": lambda r: _np_red(-_logsoftmax(X)[np.arange(4), CLS], r),
    "ce_w_ignore": lambda r: _np_red(np.where(CLS == 2, 0, -W5[CLS] * _logsoftmax(X)[np.arange(4), CLS]), r,
                                     W5[CLS][CLS != 2].sum()),
    "multi_margin": lambda r: _np_red((np.maximum(0, 1 - X[np.arange(4), CLS][:, None] + X)
                                       * (np.arange(5) != CLS[:, None])).sum(1) / 5, r),
}


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("name", sorted(NP_REFS))
def test_loss_vs_numpy(name, reduction):
    fn, arrays, gi = CASES[name]
    loss, _ = _run(numtorch, lambda T, F, *ts: fn(T, F, *ts, reduction), arrays, gi)
    np.testing.assert_allclose(loss.detach().numpy(), NP_REFS[name](reduction), rtol=1e-10, atol=1e-12)
