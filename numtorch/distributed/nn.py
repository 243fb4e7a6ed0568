"""Autograd-aware collectives (``torch.distributed.nn``) and SyncBatchNorm's cross-rank statistics."""
from ..autograd.function import Function
from . import c10d


class _AllReduceSum(Function):
    @staticmethod
    def forward(ctx, x, group):
        ctx.group = group
        out = x.clone()
        c10d.all_reduce(out, group=group)
        return out

    @staticmethod
    def backward(ctx, g):
        g = g.clone()
        c10d.all_reduce(g, group=ctx.group)
        return g, None


def all_reduce(tensor, op=c10d.ReduceOp.SUM, group=None):
    """Differentiable all-reduce (SUM): the gradient is all-reduced the same way."""
    if op is not c10d.ReduceOp.SUM:
        raise NotImplementedError("numtorch.distributed.nn.all_reduce supports ReduceOp.SUM only")
    return _AllReduceSum.apply(tensor, group)


def sync_batch_norm(input, weight, bias, running_mean, running_var, eps, momentum, group):
    """Training-mode batch norm whose mean/variance are over the whole batch across ranks."""
    from ..autograd.grad_mode import no_grad
    C = input.shape[1]
    dims = [0] + list(range(2, input.dim()))
    shape = [1, C] + [1] * (input.dim() - 2)
    local_n = input.numel() // C
    stats = all_reduce(_stack_stats(input, dims, local_n), group=group)
    n = stats[2 * C].detach().item()
    if n <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {list(input.shape)}")
    mean = stats[:C] / n
    var = stats[C:2 * C] / n - mean * mean
    y = (input - mean.reshape(shape)) * (var.reshape(shape) + eps).rsqrt()
    if weight is not None:
        y = y * weight.reshape(shape) + bias.reshape(shape)
    if running_mean is not None:
        with no_grad():
            running_mean.mul_(1 - momentum).add_(mean.detach() * momentum)
            running_var.mul_(1 - momentum).add_(var.detach() * (n / (n - 1)) * momentum)
    return y


def _stack_stats(x, dims, n):
    from ..joining import cat
    s = x.sum(dims)
    return cat([s, (x * x).sum(dims), s.new_full((1,), float(n))])
