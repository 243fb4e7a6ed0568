"""ctc_loss: per-sample alpha recursion in a kernel (kernels/loss.py); CtcLossBackward0 runs torch's gradient
formula (alpha-beta) in a second kernel. Lengths and targets are validated on the host first."""
import numpy as np

from ...autograd.graph import needs_grad, record
from ...kernels import loss as _kl
from ._loss_base import _Reduction, _nt

_WHERE = "(while checking arguments for ctc_loss_allocate_outputs)"


def _lengths(v):
    nt = _nt()
    if isinstance(v, nt.Tensor):
        return v.detach().cpu().reshape(-1).numpy().astype(np.int64)
    return np.asarray([v] if isinstance(v, int) else list(v), dtype=np.int64).reshape(-1)


def _plan(targets, ils, tls, T, N, C, blank):
    """Host checks as torch (class and message); returns flat int64 targets and each sample's offset."""
    if ils.size != N:
        raise RuntimeError("input_lengths must be of size batch_size")
    if tls.size != N:
        raise RuntimeError("target_lengths must be of size batch_size")
    if blank < 0 or blank >= C:
        raise RuntimeError("blank must be in label range")
    if N and ils.max() > T:
        raise RuntimeError(f"Expected input_lengths to have value at most {T}, but got value {int(ils.max())} "
                           + _WHERE)
    if N and (ils.min() < 0 or tls.min() < 0):
        raise RuntimeError("ctc_loss: input and target lengths must be non-negative")
    tg = targets.detach().cpu().numpy().astype(np.int64)
    if targets.dim() == 1:          # concatenated targets
        toffs = np.concatenate([[0], np.cumsum(tls)[:-1]]).astype(np.int64)
        if tls.sum() > tg.size:
            raise RuntimeError(f"Expected tensor to have size at least {int(tls.sum())} at dimension 0, but got size "
                               f"{tg.size} for argument #2 'targets' " + _WHERE)
        used = [tg[o:o + k] for o, k in zip(toffs, tls)]
    else:                           # padded (N, S)
        smax = tg.shape[1]
        if N and tls.max() > smax:
            raise RuntimeError(f"Expected tensor to have size at least {int(tls.max())} at dimension 1, but got size "
                               f"{smax} for argument #2 'targets' " + _WHERE)
        toffs = (np.arange(N) * smax).astype(np.int64)
        used = [tg[i, :k] for i, k in enumerate(tls)]
    used = np.concatenate(used) if used else tg.reshape(-1)[:0]
    if used.size and (used.min() < 0 or used.max() >= C):  # torch reads out of bounds here; we refuse
        raise IndexError(f"Target {int(used[(used < 0) | (used >= C)][0])} is out of bounds.")
    return np.ascontiguousarray(tg.reshape(-1)), toffs


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """Connectionist temporal classification loss of log_probs (T, N, C) (or (T, C) unbatched); targets
    padded (N, S) or concatenated (sum(target_lengths),)."""
    nt = _nt()
    _Reduction.get_enum(reduction)
    if log_probs.dim() == 2:
        one = (lambda v: v.reshape(1) if isinstance(v, nt.Tensor) else v)
        tg = targets.unsqueeze(0) if targets.dim() == 1 and targets.numel() else targets
        r = ctc_loss(log_probs.unsqueeze(1), tg, one(input_lengths), one(target_lengths), blank, reduction,
                     zero_infinity)
        return r.squeeze(0) if reduction == "none" else r
    T, N, C = log_probs.shape
    ils, tls = _lengths(input_lengths), _lengths(target_lengths)
    tg, toffs = _plan(targets, ils, tls, T, N, C, blank)
    loss = _ctc_node(log_probs, (tg, toffs, tls, ils), blank, zero_infinity)
    dev = log_probs.device
    if zero_infinity:
        loss = nt.where(loss == float("inf"), nt.zeros((), dtype=loss.dtype, device=dev), loss)
    if reduction == "mean":
        return (loss / nt.tensor(tls, dtype=loss.dtype, device=dev).clamp_min(1)).mean()
    return loss.sum() if reduction == "sum" else loss


def _ctc_node(log_probs, bufs, blank, zero_infinity):
    """Per-sample losses (kernel, float64) with a CtcLossBackward0 node whose backward is the gradient kernel."""
    nt = _nt()
    T, N, C = log_probs.shape
    dev = log_probs.device
    lp = log_probs.detach().to(nt.float64).contiguous()
    lpb = lp._storage.data[lp._offset:lp._offset + lp.numel()]
    if dev.type != "cpu":
        from numba import cuda
        bufs = [cuda.to_device(b) for b in bufs]
    loss = nt.empty(N, dtype=nt.float64, device=dev)
    _kl.ctc_forward(lpb, T, N, C, *bufs, blank, loss._storage.data)
    loss = loss.to(log_probs.dtype)
    if needs_grad(log_probs):
        def bw(node, g):
            gb = g.detach().to(nt.float64).contiguous()
            out = nt.empty((T, N, C), dtype=nt.float64, device=dev)
            _kl.ctc_backward(lpb, T, N, C, *bufs, blank, gb._storage.data[gb._offset:gb._offset + N],
                             zero_infinity, out._storage.data)
            return (out.to(log_probs.dtype),)
        record("CtcLossBackward0", loss, (log_probs,), bw)
    return loss
