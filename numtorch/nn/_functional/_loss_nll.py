"""nll_loss and cross_entropy: fused kernels (kernels/loss.py) for class-index targets; torch's composite
formulas for class-probability targets and label smoothing.

The fused cross entropy records torch's node chain (NllLossBackward0 over LogSoftmaxBackward0, with a
ViewBackward0 between them for 3-D / 5-D+ inputs): the top node computes the whole gradient w.r.t. the
logits in one kernel and the lower nodes pass it through."""
import numpy as np

from ...autograd.graph import needs_grad, record
from ...autograd.grad_mode import is_grad_enabled, no_grad
from ...kernels import loss as _kl
from ...reductions import _block, _new
from ...storage import empty_buffer
from ._loss_base import _nt, _reduction


def _check_nll(input, target, weight):
    """torch's checks of input/target/weight shapes and dtypes; returns the number of classes."""
    nt = _nt()
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    if target.dtype not in (nt.int64, nt.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {target.dtype.short}")
    if input.dim() == 1:
        if target.dim() > 0:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    elif input.dim() == 2:
        if target.dim() > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if input.size(0) != target.size(0):
            raise ValueError(f"Expected input batch_size ({input.size(0)}) to match target batch_size "
                             f"({target.size(0)}).")
    else:
        if input.size(0) != (target.size(0) if target.dim() else -1):
            raise ValueError(f"Expected input batch_size ({input.size(0)}) to match target batch_size "
                             f"({target.size(0) if target.dim() else 1}).")
        want = (input.shape[0],) + tuple(input.shape[2:])
        if tuple(target.shape) != want:
            raise RuntimeError(f"Expected target size {list(want)}, got {list(target.shape)}")
    c = input.shape[0] if input.dim() == 1 else input.shape[1]
    if weight is not None and weight.numel() != c:
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no classes but got "
                           f"weight tensor of shape: {list(weight.shape)}")
    return c


def _layout(input):
    """(outer, n, inner) of the class dim."""
    shp = input.shape
    if input.dim() == 1:
        return 1, shp[0], 1
    inner = 1
    for s in shp[2:]:
        inner *= s
    return shp[0], shp[1], inner


def _targets(target, c, ignore_index):
    """Contiguous int64 buffer of targets, validated like torch (IndexError before any kernel)."""
    buf = _block(target, (), np.dtype(np.int64))[0]
    if isinstance(buf, np.ndarray) and buf.size:
        bad = ((buf < 0) | (buf >= c)) & (buf != ignore_index)
        if bad.any():
            raise IndexError(f"Target {int(buf[np.argmax(bad)])} is out of bounds.")
    elif buf.size:
        host = buf.copy_to_host()
        bad = ((host < 0) | (host >= c)) & (host != ignore_index)
        if bad.any():
            raise IndexError(f"Target {int(host[np.argmax(bad)])} is out of bounds.")
    return buf


def _weight_buf(weight, cnp, device):
    if weight is None:
        return empty_buffer(0, cnp, device)
    return _block(weight.detach(), (), cnp)[0]


def _finish(per, p, out_shape):
    """Reduce per-sample losses (mean: divided by the summed weights of non-ignored targets) and keep the
    mean's denominator for the backward as a one-element buffer."""
    nt = _nt()
    cnp = p.dt.compute
    if p.reduction == "none":
        p.den = _block(nt.ones((), dtype=per.dtype, device=p.device), (), cnp)[0]
        return per.reshape(out_shape)
    pb, wb = per._storage.data, p.wsum._storage.data
    if isinstance(pb, np.ndarray):  # CPU: reduce the buffers directly (no tensor round trips)
        tot = pb.sum()
        den = wb.sum() if p.reduction == "mean" else np.ones((), pb.dtype)
        res = _new((), per.dtype, p.device)
        with np.errstate(invalid="ignore", divide="ignore"):  # all targets ignored: NaN, as torch
            res._storage.data[0] = tot / den
        p.den = np.array([den], cnp)
        return res
    s = per.sum()
    if p.reduction == "sum":
        p.den = _block(nt.ones((), dtype=per.dtype, device=p.device), (), cnp)[0]
        return s
    den = p.wsum.sum()
    p.den = _block(den, (), cnp)[0]
    return s / den


def _grad_scale(g, p):
    """The output grad as a buffer: per sample ('none') or one value."""
    return _block(g.detach(), (), p.dt.compute)[0]


class _Plan:
    """What the backward kernels need from the forward: buffers (input, targets, weights, lse), the
    (outer, n, inner) layout, per-sample weights (the mean's denominator) and the options."""
    __slots__ = ("xb", "tb", "wb", "lse", "lay", "wsum", "den", "ignore_index", "reduction", "dt", "shape",
                 "device")


def _nll_core(input, target, weight, ignore_index, reduction, kind, c):
    """Forward through a kernel ('ce': fused log-softmax + NLL; 'nll') for c classes (input/target checked);
    returns (result, _Plan)."""
    nt = _nt()
    p = _Plan()
    p.lay = outer, n, inner = _layout(input)
    p.dt, p.shape, p.device, p.ignore_index, p.reduction = input.dtype, input.shape, input.device, ignore_index, \
        reduction
    cnp = p.dt.compute
    p.xb = _block(input.detach(), (), cnp)[0]
    p.tb = _targets(target, c, ignore_index)
    p.wb = _weight_buf(weight, cnp, input.device)
    m = outer * inner
    per = _new((m,), nt.float32 if p.dt == nt.float16 else p.dt, input.device)
    p.wsum = _new((m,), per.dtype, input.device)
    if kind == "ce":
        p.lse = empty_buffer(m, cnp, input.device)
        _kl.cross_entropy_forward(p.xb, outer, n, inner, p.tb, p.wb, ignore_index, per._storage.data,
                                  p.wsum._storage.data, p.lse)
    else:
        p.lse = None
        _kl.nll_forward(p.xb, outer, n, inner, p.tb, p.wb, ignore_index, per._storage.data, p.wsum._storage.data)
    res = _finish(per, p, target.shape)
    return (res if res.dtype == p.dt else res.to(p.dt)), p


def _as_tensor(buf, p, shape):
    """A compute-dtype buffer as a tensor of the input's dtype."""
    nt = _nt()
    t = nt.Tensor._from_buffer(buf, tuple(shape), nt.float32 if p.dt == nt.float16 else p.dt, p.device)
    return t if t.dtype == p.dt else t.to(p.dt)


def _composite_grad(p, g, x):
    """create_graph path, differentiable in g (and in x through softmax when x is given): the NLL
    gradient -w_t/den at the targets, plus softmax(x) * w_t/den for the fused cross entropy."""
    nt = _nt()
    cnp = p.dt.compute
    one = nt.ones((), dtype=p.dt, device=p.device)
    o = empty_buffer(p.lay[0] * p.lay[1] * p.lay[2], cnp, p.device)
    _kl.nll_backward(p.lay[1], p.lay[2], p.tb, p.wb, p.ignore_index, _block(one, (), cnp)[0], p.den, o)
    cmat = _as_tensor(o, p, p.lay)
    gb = g.reshape(p.lay[0], 1, p.lay[2]) if p.reduction == "none" else g
    if x is None:
        return (cmat * gb).reshape(p.shape)
    sm = x.reshape(p.lay).softmax(1)
    return ((sm * -cmat.sum(1, keepdim=True) + cmat) * gb).reshape(p.shape)


def _nll_node(name, res, edge, input, p, fused):
    """Record the NLL node on ``edge`` (fused: a placeholder of the logits ``input`` whose pass-through
    nodes carry the cross-entropy gradient this node computes w.r.t. the logits in one kernel)."""
    def bw(node, g):
        if is_grad_enabled():
            return (_composite_grad(p, g, node.saved_tensors[0] if fused else None),)
        gs = _grad_scale(g, p)
        o = empty_buffer(p.lay[0] * p.lay[1] * p.lay[2], p.dt.compute, p.device)
        if fused:
            _kl.cross_entropy_backward(p.xb, *p.lay, p.tb, p.wb, p.ignore_index, p.lse, gs, p.den, o)
        else:
            _kl.nll_backward(p.lay[1], p.lay[2], p.tb, p.wb, p.ignore_index, gs, p.den, o)
        return (_as_tensor(o, p, p.shape),)
    # fused: the input is saved so that an in-place change of the logits raises instead of a wrong gradient
    record(name, res, (edge,), bw, save=(input,) if fused else ())
    return res


def _phantom(x, names):
    """A placeholder for x behind pass-through nodes called ``names`` (innermost first): the graph shows
    torch's node chain while the fused top node computes the whole gradient w.r.t. x."""
    t = x
    for name in names:
        ph = x._alias()
        record(name, ph, (t,), lambda node, g: (g,))
        t = ph
    return t


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log likelihood of log-probabilities ``input`` (N, C) / (C,) / (N, C, d1, ...)."""
    reduction = _reduction(size_average, reduce, reduction)
    c = _check_nll(input, target, weight)
    if input.dim() == 3 or input.dim() > 4:
        n = input.shape[0]
        x4 = input.contiguous().view(n, c, 1, -1)
        t3 = target.contiguous().view(n, 1, -1)
        r = nll_loss(x4, t3, weight, None, ignore_index, None, reduction)
        return r.view(target.shape) if reduction == "none" else r
    res, plan = _nll_core(input, target, weight, ignore_index, reduction, "nll", c)
    if needs_grad(input):
        _nll_node("NllLoss2DBackward0" if input.dim() == 4 else "NllLossBackward0", res, input, input, plan, False)
    return res


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """log_softmax over the class dim + NLL: fused kernels for class-index targets; class-probability
    targets and label smoothing follow torch's composite formulas."""
    nt = _nt()
    reduction = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    cdim = 0 if input.dim() == 1 else 1
    if target.shape == input.shape:
        if not target.dtype.is_floating_point:
            raise RuntimeError(f"Expected floating point type for target with class probabilities, got "
                               f"{target.dtype.short}")
        return _ce_prob(input, target, weight, reduction, label_smoothing, cdim)
    if input.dim() == 0:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    if label_smoothing > 0:
        return _ce_smooth(input, target, weight, reduction, ignore_index, label_smoothing, cdim)
    c = _check_nll(input, target, weight)
    if input.dim() == 3 or input.dim() > 4:
        n = input.shape[0]
        res, plan = _nll_core(input.detach().reshape(n, c, 1, -1), target.reshape(n, 1, -1), weight, ignore_index,
                              reduction, "ce", c)
        plan.shape = input.shape
        if needs_grad(input):
            ph = _phantom(input, ("LogSoftmaxBackward0", "ViewBackward0"))
            _nll_node("NllLoss2DBackward0", res, ph, input, plan, True)
        return res.view(target.shape) if reduction == "none" else res
    res, plan = _nll_core(input, target, weight, ignore_index, reduction, "ce", c)
    if needs_grad(input):
        ph = _phantom(input, ("LogSoftmaxBackward0",))
        _nll_node("NllLoss2DBackward0" if input.dim() == 4 else "NllLossBackward0", res, ph, input, plan, True)
    return res


def _div_scalar(t, d):
    """t / d for a Python number d, recorded as torch's C++ div(Tensor, Scalar) (DivBackward1)."""
    with no_grad():
        out = t / d
    if needs_grad(t):
        record("DivBackward1", out, (t,), lambda node, g: (g / d,))
    return out


def _ce_prob(input, target, weight, reduction, label_smoothing, cdim):
    """Cross entropy with class-probability targets (torch's composite formula)."""
    n_classes = input.shape[cdim]
    logp = input.log_softmax(cdim)
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    if weight is not None:
        if weight.numel() != n_classes:
            raise RuntimeError(f"weight tensor should be defined either for all {n_classes} classes or no classes "
                               f"but got weight tensor of shape: {list(weight.shape)}")
        wshape = [1] * input.dim()
        wshape[cdim] = n_classes
        prod = logp * target * weight.view(wshape)
    else:
        prod = logp * target
    if reduction == "mean":
        if input.numel() == 0:
            return -prod.sum().fill_(float("nan"))
        return _div_scalar(-prod.sum(), input.numel() / n_classes)
    if reduction == "sum":
        return -prod.sum()
    return -prod.sum(cdim)


def _ce_smooth(input, target, weight, reduction, ignore_index, label_smoothing, cdim):
    """Cross entropy with class-index targets and label smoothing (torch's composite formula)."""
    logp = input.log_softmax(cdim)
    nll = nll_loss(logp, target, weight, None, ignore_index, None, reduction)
    n_classes = input.shape[cdim]
    if weight is not None:
        wshape = [1] * input.dim()
        wshape[cdim] = n_classes
        smooth = -(logp * weight.view(wshape)).sum(cdim)
    else:
        smooth = -logp.sum(cdim)
    ignore = target == ignore_index
    smooth = smooth.masked_fill(ignore, 0.0)
    if reduction == "mean":
        if weight is not None:
            ret = smooth.sum() / weight.gather(0, target.masked_select(~ignore).flatten()).sum()
        else:
            ret = smooth.sum() / (~ignore).sum()
    elif reduction == "sum":
        ret = smooth.sum()
    else:
        ret = smooth
    return nll * (1 - label_smoothing) + ret * (label_smoothing / n_classes)
