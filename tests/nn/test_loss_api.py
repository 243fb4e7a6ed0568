"""Loss modules (repr, options, buffers), F.softmax family signatures and warnings, legacy size_average /
reduce, and PyTorch's error classes and messages for bad input."""
import warnings

import numpy as np
import pytest

import numtorch as nt
from _twin import twin, twin_raises

RNG = np.random.default_rng(3)
A = RNG.standard_normal((4, 5))

ERRORS = [
    ("bce_range", lambda T, F: F.binary_cross_entropy(T.tensor([0.5, 1.5]), T.tensor([0., 1.])), RuntimeError,
     "all elements of input should be between 0 and 1"),
    ("bce_shape", lambda T, F: F.binary_cross_entropy(T.tensor([0.5, 0.5]), T.tensor([[0., 1.]])), ValueError,
     "Using a target size (torch.Size([1, 2])) that is different to the input size (torch.Size([2])) is deprecated"),
    ("bcel_shape", lambda T, F: F.binary_cross_entropy_with_logits(T.tensor([0.5, 0.5]), T.tensor([[0., 1.]])),
     ValueError, "Target size (torch.Size([1, 2])) must be the same as input size (torch.Size([2]))"),
    ("ce_3d_tshape", lambda T, F: F.cross_entropy(T.zeros(2, 3, 4), T.zeros(2, 5, dtype=T.long)), RuntimeError,
     "Expected target size [2, 4], got [2, 5]"),
    ("ce_oob", lambda T, F: F.cross_entropy(T.zeros(2, 3), T.tensor([0, 3])), IndexError,
     "Target 3 is out of bounds."),
    ("ce_neg", lambda T, F: F.cross_entropy(T.zeros(2, 3), T.tensor([0, -5])), IndexError,
     "Target -5 is out of bounds."),
    ("nll_oob_4d", lambda T, F: F.nll_loss(T.zeros(1, 3, 2, 2), T.tensor([[[0, 1], [9, 2]]])), IndexError,
     "Target 9 is out of bounds."),
    ("nll_float", lambda T, F: F.nll_loss(T.zeros(2, 3), T.tensor([0., 1.])), RuntimeError,
     "expected target dtype to be Long or Byte, but got Float"),
    ("ce_int", lambda T, F: F.cross_entropy(T.zeros(2, 3), T.tensor([0, 1], dtype=T.int32)), RuntimeError,
     "expected target dtype to be Long or Byte, but got Int"),
    ("ce_batch", lambda T, F: F.cross_entropy(T.zeros(4, 3), T.tensor([0, 1, 2])), ValueError,
     "Expected input batch_size (4) to match target batch_size (3)."),
    ("ce_multi", lambda T, F: F.cross_entropy(T.zeros(4, 3), T.zeros(4, 2, dtype=T.long)), RuntimeError,
     "0D or 1D target tensor expected, multi-target not supported"),
    ("ce_weight", lambda T, F: F.cross_entropy(T.zeros(4, 3), T.tensor([0, 1, 2, 0]), weight=T.ones(4)), RuntimeError,
     "weight tensor should be defined either for all 3 classes or no classes but got weight tensor of shape: [4]"),
    ("ce_0d", lambda T, F: F.cross_entropy(T.tensor(1.), T.tensor(0)), RuntimeError,
     "Expected floating point type for target with class probabilities, got Long"),
    ("ce_bad_red", lambda T, F: F.cross_entropy(T.zeros(2, 3), T.tensor([0, 1]), reduction="avg"), ValueError,
     "avg is not a valid value for reduction"),
    ("mse_bad_red", lambda T, F: F.mse_loss(T.zeros(2), T.zeros(2), reduction="avg"), ValueError,
     "avg is not a valid value for reduction"),
    ("ce_ls", lambda T, F: F.cross_entropy(T.zeros(2, 3), T.tensor([0, 1]), label_smoothing=1.5), RuntimeError,
     "label_smoothing must be between 0.0 and 1.0. Got: 1.5"),
    ("mm_p3", lambda T, F: F.multi_margin_loss(T.zeros(2, 3), T.tensor([0, 1]), p=3), ValueError,
     "only p == 1 and p == 2 supported"),
    ("sm_int", lambda T, F: F.softmax(T.tensor([1, 2]), 0), NotImplementedError,
     '"softmax_lastdim_kernel_impl" not implemented for \'Long\''),
    ("kl_bad", lambda T, F: F.kl_div(T.zeros(2), T.zeros(2), reduction="avg"), ValueError,
     "avg is not a valid value for reduction"),
    ("tm_margin", lambda T, F: T.nn.TripletMarginLoss(margin=0), ValueError,
     "TripletMarginLoss: expected margin to be greater than 0, got 0 instead"),
    ("mr_dims", lambda T, F: F.margin_ranking_loss(T.zeros(2), T.zeros(2, 1), T.zeros(2)), RuntimeError,
     "margin_ranking_loss : All input tensors should have same dimension but got sizes: input1: torch.Size([2])"),
    ("gnll_var", lambda T, F: F.gaussian_nll_loss(T.zeros(2, 3), T.zeros(2, 3), T.ones(3, 3)), ValueError,
     "var is of incorrect size"),
    ("mlm_shape", lambda T, F: F.multilabel_margin_loss(T.zeros(2, 3), T.zeros(2, 4, dtype=T.long)), RuntimeError,
     "inconsistent target size: [2, 4] for input of size: [2, 3]"),
]


@pytest.mark.parametrize("name,fn,exc,msg", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors(name, fn, exc, msg):
    twin_raises(lambda T: fn(T, T.nn.functional), exc, msg)


def _warns(fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fn()
    return [str(x.message) for x in w]


def test_warnings():
    F = nt.nn.functional
    x = nt.tensor(A)
    assert _warns(lambda: F.softmax(x)) == ["Implicit dimension choice for softmax has been deprecated. Change the "
                                            "call to include dim=X as an argument."]
    assert _warns(lambda: F.mse_loss(x, x[:, :1])) == [
        "Using a target size (torch.Size([4, 1])) that is different to the input size (torch.Size([4, 5])). This will "
        "likely lead to incorrect results due to broadcasting. Please ensure they have the same size."]
    assert _warns(lambda: F.mse_loss(x, x, size_average=False)) == [
        "size_average and reduce args will be deprecated, please use reduction='sum' instead."]
    assert _warns(lambda: F.l1_loss(x, x, reduce=False)) == [
        "size_average and reduce args will be deprecated, please use reduction='none' instead."]
    assert _warns(lambda: F.kl_div(x, x))[0].startswith("reduction: 'mean' divides the total loss by both the batch "
                                                        "size and the support size.'batchmean' divides only")


def test_legacy_reduction_values():
    def case(T):
        F = T.nn.functional
        x, y = T.tensor(A), T.tensor(A[::-1].copy())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return (F.mse_loss(x, y, size_average=False), F.mse_loss(x, y, reduce=False),
                    F.cross_entropy(x, T.tensor([0, 1, 2, 3]), size_average=False),
                    T.nn.L1Loss(size_average=False).reduction, T.nn.NLLLoss(reduce=False).reduction)
    r = twin(case)
    np.testing.assert_allclose(r[0].item(), ((A - A[::-1]) ** 2).sum())
    assert r[3:] == ("sum", "none")


MODULES = ["L1Loss", "MSELoss", "NLLLoss", "CrossEntropyLoss", "PoissonNLLLoss", "GaussianNLLLoss", "KLDivLoss",
           "BCELoss", "BCEWithLogitsLoss", "HingeEmbeddingLoss", "MultiLabelMarginLoss", "SmoothL1Loss", "HuberLoss",
           "SoftMarginLoss", "MultiLabelSoftMarginLoss", "CosineEmbeddingLoss", "MarginRankingLoss",
           "MultiMarginLoss", "TripletMarginLoss", "TripletMarginWithDistanceLoss", "CTCLoss"]


def test_module_reprs_and_options():
    def case(T):
        out = [repr(getattr(T.nn, n)()) for n in MODULES]
        ce = T.nn.CrossEntropyLoss(weight=T.ones(3), ignore_index=1, label_smoothing=0.1, reduction="sum")
        bce = T.nn.BCEWithLogitsLoss(pos_weight=T.ones(2))
        out += [repr(ce), sorted(ce.state_dict()), ce.ignore_index, ce.label_smoothing, ce.reduction,
                sorted(bce.state_dict()), T.nn.HuberLoss(delta=2.0).delta, T.nn.SmoothL1Loss(beta=0.5).beta,
                T.nn.MultiMarginLoss(p=2).p, T.nn.CTCLoss(blank=3).blank, T.nn.KLDivLoss(log_target=True).log_target]
        return out
    r = twin(case)
    assert r[:len(MODULES)] == [n + "()" if n != "TripletMarginWithDistanceLoss" else
                                n + "(\n  (distance_function): PairwiseDistance()\n)" for n in MODULES]
    assert r[len(MODULES) + 1] == ["weight"]


def test_modules_match_functional():
    def case(T):
        nn = T.nn
        x = T.tensor(A, requires_grad=True)
        t = T.tensor([0, 4, 2, 1])
        y = T.tensor(A[::-1].copy())
        w = T.tensor(np.linspace(0.5, 1.5, 5))
        p = T.tensor(1 / (1 + np.exp(-A)))
        res = [nn.CrossEntropyLoss(weight=w, ignore_index=4)(x, t), nn.NLLLoss(reduction="sum")(x, t),
               nn.MSELoss()(x, y), nn.L1Loss(reduction="none")(x, y), nn.HuberLoss(delta=0.3)(x, y),
               nn.SmoothL1Loss(beta=2.0)(x, y), nn.BCELoss(weight=w)(p, p.flip(0)),
               nn.BCEWithLogitsLoss(pos_weight=w)(x, p), nn.KLDivLoss(reduction="batchmean")(x, p),
               nn.SoftMarginLoss()(x, y.sign()), nn.MultiMarginLoss(margin=0.5)(x, t),
               nn.GaussianNLLLoss(full=True)(x, y, p), nn.PoissonNLLLoss(log_input=False)(p, y.abs())]
        (sum(r.sum() for r in res)).backward()
        return res, x.grad
    twin(case)


def test_softmax_family():
    def case(T):
        F = T.nn.functional
        x = T.tensor(A, requires_grad=True)
        r = [F.softmax(x, 1), F.log_softmax(x, 0, dtype=T.float32), F.softmin(x, -1), F.softmax(x[0], dim=0),
             T.softmax(x, 0), x.log_softmax(-1), T.nn.Softmax(dim=1)(x) if hasattr(T.nn, "Softmax") else F.softmax(x, 1)]
        sum(v.double().sum() * (i + 1) for i, v in enumerate(r)).backward()
        g = F.gumbel_softmax(x, tau=0.5, hard=True)
        return r, x.grad, g.shape, bool((g.sum(-1) == 1).all()), bool(((g == 0) | (g == 1)).all())
    twin(case)
