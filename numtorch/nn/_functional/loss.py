"""Loss functions of ``torch.nn.functional``.

Cross entropy with class-index targets is one fused kernel forward (log-softmax + NLL) and one fused
kernel backward (kernels/loss.py); its graph shows torch's nodes (NllLossBackward0 over
LogSoftmaxBackward0, ...) where the lower ones only pass the fused gradient through. Losses that torch
records as one node (MseLossBackward0, BinaryCrossEntropyBackward0, ...) record one node with a backward
formula; the rest are composites of tensor ops, as in torch, so their graphs match torch's.
"""
import math
import warnings

import numpy as np

from ...autograd.grad_mode import no_grad
from ._loss_base import _Reduction, _apply, _nt, _one_node, _pointwise, _reduction, _size_warn  # noqa: F401
from ._loss_ctc import ctc_loss  # noqa: F401 (re-exported)
from ._loss_nll import cross_entropy, nll_loss  # noqa: F401 (re-exported)

__all__ = ["l1_loss", "mse_loss", "cross_entropy", "nll_loss", "poisson_nll_loss", "gaussian_nll_loss",
           "kl_div", "binary_cross_entropy", "binary_cross_entropy_with_logits", "huber_loss", "smooth_l1_loss",
           "soft_margin_loss", "multilabel_soft_margin_loss", "multilabel_margin_loss", "multi_margin_loss",
           "hinge_embedding_loss", "cosine_embedding_loss", "margin_ranking_loss", "triplet_margin_loss",
           "triplet_margin_with_distance_loss", "ctc_loss"]


# ------------------------------------------------------------------------------ regression losses
def _weighted(loss, weight, input, reduction, by_weight):
    """torch's Python path for l1/mse/huber with ``weight`` (mean divides by sum(weight) when by_weight)."""
    if weight.size() != input.size():
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.sum() / weight.sum() if by_weight else loss.mean()
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")


def _legacy(size_average, reduce, reduction, weight):
    if size_average is not None or reduce is not None:
        return _Reduction.legacy_get_string(size_average, reduce)
    return reduction if weight is not None else _reduction(None, None, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """mean/sum/none of |input - target| (torch records it as abs + reduction)."""
    input, target = _size_warn(input, target)
    reduction = _legacy(size_average, reduce, reduction, weight)
    if weight is not None:
        return _weighted((input - target).abs(), weight, input, reduction, True)
    return _apply((input - target).abs(), reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """mean/sum/none of (input - target)**2 (MseLossBackward0)."""
    input, target = _size_warn(input, target)
    reduction = _legacy(size_average, reduce, reduction, weight)
    if weight is not None:
        return _weighted((input - target) ** 2, weight, input, reduction, True)

    def bwd(x, y, ge, wy):
        gx = (x - y) * 2 * ge
        return gx, (-gx if wy else None)
    return _pointwise("MseLossBackward0", input, target, reduction, lambda x, y: (x - y) * (x - y), bwd)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d**2 where |d| < delta, else delta * (|d| - 0.5 delta) (HuberLossBackward0)."""
    nt = _nt()
    input, target = _size_warn(input, target)
    if weight is not None:
        return _weighted(huber_loss(input, target, "none", delta), weight, input, reduction, False)
    reduction = _reduction(None, None, reduction)

    def fwd(x, y):
        d = x - y
        ad = d.abs()
        return nt.where(ad < delta, d * d * 0.5, (ad - 0.5 * delta) * delta)

    def bwd(x, y, ge, wy):
        gx = (x - y).clamp(-delta, delta) * ge
        return gx, (-gx if wy else None)
    return _pointwise("HuberLossBackward0", input, target, reduction, fwd, bwd)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d**2 / beta where |d| < beta, else |d| - 0.5 beta (SmoothL1LossBackward0)."""
    nt = _nt()
    reduction = _reduction(size_average, reduce, reduction)
    input, target = _size_warn(input, target)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)

    def fwd(x, y):
        d = x - y
        ad = d.abs()
        return nt.where(ad < beta, d * d * (0.5 / beta), ad - 0.5 * beta)

    def bwd(x, y, ge, wy):
        d = x - y
        gx = nt.where(d.abs() < beta, d / beta, d.sign()) * ge
        return gx, (-gx if wy else None)
    return _pointwise("SmoothL1LossBackward0", input, target, reduction, fwd, bwd)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """exp(input) - target * input (log_input) or input - target * log(input + eps); full adds Stirling's term."""
    reduction = _reduction(size_average, reduce, reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + (target * (2 * math.pi)).log() * 0.5
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return _apply(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 * (log(var) + (input - target)**2 / var) (+ 0.5 log(2 pi) when full)."""
    nt = _nt()
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * nt.ones_like(input)
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var.size() != input.size():
        if input.size()[:-1] == var.size():
            var = var.unsqueeze(-1)
        elif input.ndim == var.ndim and sum(y for x, y in zip(input.size(), var.size()) if x != y) == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    loss = (var.log() + (input - target) ** 2 / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _apply(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Pointwise KL divergence target * (log target - input) ('batchmean' divides the sum by the batch size)."""
    nt = _nt()
    if size_average is not None or reduce is not None:
        reduction = _Reduction.legacy_get_string(size_average, reduce)
    else:
        if reduction == "mean":
            warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                          "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                          "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                          stacklevel=2)
        if reduction != "batchmean":
            _Reduction.get_enum(reduction)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = nt.xlogy(target, target) - target * input
    if reduction == "batchmean":
        red = loss.sum()
        return red / input.size()[0] if input.dim() != 0 else red
    return _apply(loss, reduction)


# ------------------------------------------------------------------------------ binary losses
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-w (t log p + (1 - t) log(1 - p)) with logs clamped at -100 (BinaryCrossEntropyBackward0)."""
    reduction = _reduction(size_average, reduce, reduction)
    if target.size() != input.size():
        raise ValueError(f"Using a target size ({target.size()}) that is different to the input size "
                         f"({input.size()}) is deprecated. Please ensure they have the same size.")
    with no_grad():
        if input.numel() and bool(((input < 0) | (input > 1)).any()):
            raise RuntimeError("all elements of input should be between 0 and 1")
    w = weight.expand(input.shape) if weight is not None else None

    def fwd(x, y):
        loss = -(y * x.log().clamp_min(-100) + (1 - y) * (1 - x).log().clamp_min(-100))
        return loss if w is None else loss * w

    def bwd(x, y, ge, wy):
        gx = (x - y) / (x * (1 - x)).clamp_min(1e-12) * ge
        gy = ((1 - x).log().clamp_min(-100) - x.log().clamp_min(-100)) * ge if wy else None
        if w is not None:
            gx = gx * w
            gy = gy * w if gy is not None else None
        return gx, gy
    return _pointwise("BinaryCrossEntropyBackward0", input, target, reduction, fwd, bwd)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Sigmoid + binary cross entropy in the stable form (BinaryCrossEntropyWithLogitsBackward0)."""
    reduction = _reduction(size_average, reduce, reduction)
    if target.size() != input.size():
        raise ValueError(f"Target size ({target.size()}) must be the same as input size ({input.size()})")

    def sp_neg(x):  # log(1 + exp(-x)), stable
        return (-x.abs()).exp().log1p() + (-x).clamp_min(0)

    def fwd(x, y):
        if pos_weight is not None:
            lw = (pos_weight - 1) * y + 1
            loss = (1 - y) * x + lw * sp_neg(x)
        else:
            loss = (1 - y) * x + sp_neg(x)
        return loss if weight is None else loss * weight

    def bwd(x, y, ge, wy):
        s = x.sigmoid()
        if pos_weight is not None:
            gx = (((pos_weight - 1) * y + 1) * s - pos_weight * y) * ge
            gy = (-x + (pos_weight - 1) * sp_neg(x)) * ge if wy else None
        else:
            gx = (s - y) * ge
            gy = -x * ge if wy else None
        if weight is not None:
            gx = gx * weight
            gy = gy * weight if gy is not None else None
        return gx, gy
    return _pointwise("BinaryCrossEntropyWithLogitsBackward0", input, target, reduction, fwd, bwd)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target * input)) (SoftMarginLossBackward0)."""
    reduction = _reduction(size_average, reduce, reduction)
    input, target = _size_warn(input, target)

    def bwd(x, y, ge, wy):
        s = (-(x * y)).sigmoid() * ge
        return -y * s, (-x * s if wy else None)
    return _pointwise("SoftMarginLossBackward0", input, target, reduction,
                      lambda x, y: (-(y * x)).exp().log1p(), bwd)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Mean over classes of the binary logistic loss of each class."""
    reduction = _reduction(size_average, reduce, reduction)

    def logsig(x):
        return -((-x.abs()).exp().log1p() + (-x).clamp_min(0))
    loss = -(target * logsig(input) + (1 - target) * logsig(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(dim=class_dim) / input.size(class_dim)
    return _apply(loss, reduction)


# ------------------------------------------------------------------------------ margin losses
def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """input where target == 1, max(0, margin - input) where target == -1."""
    nt = _nt()
    reduction = _reduction(size_average, reduce, reduction)
    zeros = nt.zeros_like(input)
    margin_clamp = (margin - input).clamp_min(0)
    out = nt.where(target != 1, margin_clamp, zeros) + nt.where(target != -1, input, zeros)
    return _apply(out, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) where target == 1, max(0, cos - margin) where target == -1."""
    nt = _nt()
    reduction = _reduction(size_average, reduce, reduction)
    if target.dim() not in (0, 1):
        raise RuntimeError(f"0D or 1D target tensor expected, multi-target not supported")
    d = target.dim()
    prod = (input1 * input2).sum(d)
    m1 = (input1 * input1).sum(d) + 1e-12
    m2 = (input2 * input2).sum(d) + 1e-12
    cos = prod / (m1 * m2).sqrt()
    zeros = nt.zeros_like(cos)
    out = nt.where(target == 1, 1 - cos, zeros) + nt.where(target == -1, (cos - margin).clamp_min(0), zeros)
    return _apply(out, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -target * (input1 - input2) + margin)."""
    reduction = _reduction(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} ")
    return _apply((-target * (input1 - input2) + margin).clamp_min(0), reduction)


def _pairwise_distance(x1, x2, p=2.0, eps=1e-6):
    return (x1 - x2 + eps).norm(p, dim=-1)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(0, margin + d(a, p) - d(a, n)) with the p-norm pairwise distance."""
    nt = _nt()
    reduction = _reduction(size_average, reduce, reduction)
    a, po, ne = anchor.ndim, positive.ndim, negative.ndim
    if not (a == po == ne):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {a}D, positive {po}D, and negative {ne}D inputs")
    dist_pos = _pairwise_distance(anchor, positive, p, eps)
    dist_neg = _pairwise_distance(anchor, negative, p, eps)
    if swap:
        dist_neg = nt.minimum(dist_neg, _pairwise_distance(positive, negative, p, eps))
    return _apply((margin + dist_pos - dist_neg).clamp_min(0), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0,
                                      swap=False, reduction="mean"):
    """triplet_margin_loss with any distance function (default: pairwise_distance)."""
    nt = _nt()
    if margin <= 0:
        raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, got {margin} instead")
    _Reduction.get_enum(reduction)
    if distance_function is None:
        from .distance import pairwise_distance as distance_function
    dist = distance_function
    dist_pos = dist(anchor, positive)
    dist_neg = dist(anchor, negative)
    if swap:
        dist_neg = nt.minimum(dist_neg, dist(positive, negative))
    return _apply((margin + dist_pos - dist_neg).clamp_min(0), reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """sum over target classes j (until the first -1) and non-target classes i of max(0, 1 - (x[j] - x[i])),
    divided by the number of classes (MultilabelMarginLossBackward0)."""
    nt = _nt()
    reduction = _reduction(size_average, reduce, reduction)
    if input.dim() > 2 or input.shape != target.shape:
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: {list(input.shape)}")
    x2 = input.reshape(1, -1) if input.dim() < 2 else input
    t = target.detach().cpu().reshape(x2.shape).numpy() if target.numel() else np.zeros(x2.shape, np.int64)
    c = x2.shape[1]
    cnt = np.zeros(x2.shape)
    for r in range(t.shape[0]):
        for v in t[r]:
            if v < 0:
                break
            if v >= c:
                raise RuntimeError(f"multilabel_margin_loss: target index {v} is out of range [0, {c})")
            cnt[r, v] += 1
    cnt_t = nt.tensor(cnt, dtype=input.dtype, device=input.device)
    nontarget = (cnt_t == 0).to(input.dtype)

    def fn(x):
        xx = x.reshape(x2.shape)
        m = (1 - xx.unsqueeze(2) + xx.unsqueeze(1)).clamp_min(0)  # [r, j, i] = 1 - x_j + x_i
        per = (m * cnt_t.unsqueeze(2) * nontarget.unsqueeze(1)).sum((1, 2)) / c
        per = per.reshape(input.shape[:-1]) if input.dim() else per.reshape(())
        return _apply(per, reduction)
    return _one_node("MultilabelMarginLossBackward0", fn, (input,))


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """sum over i != y of max(0, margin - x[y] + x[i])**p * w[y] / C (MultiMarginLossBackward0)."""
    nt = _nt()
    reduction = _reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    x2 = input.reshape(1, -1) if input.dim() < 2 else input
    c = x2.shape[1]
    tt = target.reshape(-1)
    if tt.numel() != x2.shape[0]:
        raise RuntimeError(f"inconsistent target size, expected {x2.shape[0]} but got {list(target.shape)}")
    if tt.numel() and bool(((tt < 0) | (tt >= c)).any()):
        raise RuntimeError("target out of range")
    idx = tt.unsqueeze(1)
    notcls = nt.ones(x2.shape, dtype=input.dtype, device=input.device).scatter(1, idx, 0.0)

    def fn(x):
        xx = x.reshape(x2.shape)
        m = (margin - xx.gather(1, idx) + xx).clamp_min(0)
        if p == 2:
            m = m * m
        if weight is not None:
            m = m * weight.gather(0, tt).unsqueeze(1)
        per = (m * notcls).sum(1) / c
        return _apply(per.reshape(target.shape) if input.dim() >= 2 else per.reshape(()), reduction)
    return _one_node("MultiMarginLossBackward0", fn, (input,))
