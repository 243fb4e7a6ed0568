"""pairwise_distance, cosine_similarity, pdist, cdist and normalize: composites of differentiable tensor ops
(PyTorch's formulas), with the root grad_fn named as PyTorch names it."""
from ...autograd.grad_mode import no_grad
from ...autograd.graph import node_class
from ...shape import wrap_dim

__all__ = ["pairwise_distance", "cosine_similarity", "pdist", "normalize"]   # cdist: torch.cdist only


def _retag(t, name):
    """Give the composite's root node PyTorch's grad_fn name (same node, same backward)."""
    fn = t.grad_fn
    if fn is not None and type(fn).__name__ != name:
        try:
            fn.__class__ = node_class(name)
        except TypeError:        # a node with its own layout: keep its name rather than break it
            pass
    return t


def _vnorm(x, p, dim, keepdim):
    from ...linalg import vector_norm
    return vector_norm(x, p, dim=dim, keepdim=keepdim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """``F.pairwise_distance``: ||x1 - x2 + eps||_p over the last dim (NormBackward1)."""
    out_dim = max(x1.ndim, x2.ndim)
    d = x1 - x2 + eps
    return _retag(_vnorm(d, p, max(out_dim - 1, 0) if out_dim else None, keepdim), "NormBackward1")


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``F.cosine_similarity``: sum((x1 / max(||x1||, eps)) * (x2 / max(||x2||, eps))) along dim."""
    from ... import dtypes as _dt
    if not x1.dtype.is_floating_point or not x2.dtype.is_floating_point:
        common = _dt.result_type(x1, x2)
        if not common.is_floating_point:
            common = _dt.get_default_dtype()
        x1, x2 = x1.to(common), x2.to(common)
    shape = _broadcast(x1.shape, x2.shape)
    x1, x2 = x1.expand(shape), x2.expand(shape)
    d = wrap_dim(dim, len(shape))
    n1 = _vnorm(x1, 2, d, True).clone()
    n2 = _vnorm(x2, 2, d, True).clone()
    with no_grad():
        n1.clamp_min_(eps)
        n2.clamp_min_(eps)
    return ((x1 / n1) * (x2 / n2)).sum(d)


def _broadcast(a, b):
    from ...shape import broadcast_shapes
    return broadcast_shapes(tuple(a), tuple(b))


def pdist(input, p=2):
    """``F.pdist``: p-norm distances between all row pairs i < j of a 2-D input (PdistBackward0)."""
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if not input.is_contiguous():
        raise RuntimeError("pdist only supports contiguous input")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    from ...extras import triu_indices
    n = input.shape[0]
    i, j = triu_indices(n, n, 1, device=input.device)
    if i.numel() == 0:
        return input.new_zeros((0,))
    return _retag(_vnorm(input[i] - input[j], p, 1, False), "PdistBackward0")


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """``torch.cdist``: p-norm distances between the rows of x1 (*, P, M) and x2 (*, R, M) (CdistBackward0)."""
    if x1.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D")
    if x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X2 got: {x2.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    d = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return _retag(_vnorm(d, p, -1, False), "CdistBackward0")


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """``F.normalize``: input / max(||input||_p along dim, eps) (DivBackward0)."""
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    if out is None:
        return input / denom
    from ...pointwise import div
    return div(input, denom, out=out)


TOPLEVEL = {"pairwise_distance": pairwise_distance, "cosine_similarity": cosine_similarity, "pdist": pdist,
            "cdist": cdist}
