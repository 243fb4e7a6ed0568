"""Less common PyTorch functions composed from numtorch ops (so autograd comes for free)."""
import numpy as np

from . import dtypes as _dt
from .shape import wrap_dim
from .tensor import Tensor

__all__ = ["bincount", "det", "inverse", "logdet", "diff", "dist", "hsplit", "vsplit", "dsplit", "logaddexp",
           "logaddexp2", "ravel", "searchsorted", "bucketize", "take_along_dim", "tril_indices", "triu_indices",
           "cross", "kron", "heaviside", "histc", "cdist", "trapezoid", "vander", "cosine_similarity"]


def bincount(input, weights=None, minlength=0):
    return input.bincount(weights, minlength)


def det(A):
    from .linalg import det as _det
    return _det(A)


def inverse(A):
    from .linalg import inv
    return inv(A)


def logdet(A):
    return det(A).log()


def ravel(input):
    return input.reshape(-1)


def diff(input, n=1, dim=-1, prepend=None, append=None):
    from .joining import cat
    d = wrap_dim(dim, input.ndim)
    x = input
    if prepend is not None or append is not None:
        parts = [p for p in (prepend, x, append) if p is not None]
        x = cat([p if p.ndim else p.expand(*x.shape[:d], 1, *x.shape[d + 1:]) for p in parts], d)
    for _ in range(n):
        m = x.shape[d]
        a, b = x.narrow(d, 1, m - 1), x.narrow(d, 0, m - 1)
        x = (a ^ b) if x.dtype is _dt.bool else a - b
    return x


def dist(input, other, p=2):
    return (input - other).norm(p)


def _split_along(input, sections, dim, name, min_dim):
    if input.ndim < min_dim:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dim} dimension, but got a tensor "
                           f"with {input.ndim} dimensions!")
    if isinstance(sections, int) and input.shape[dim] % sections:
        raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the size of the dimension "
                           f"{input.shape[dim]} is not divisible by the split_size {sections}!")
    return input.tensor_split(sections, dim)


def hsplit(input, sections):
    return _split_along(input, sections, 1 if input.ndim > 1 else 0, "hsplit", 1)


def vsplit(input, sections):
    return _split_along(input, sections, 0, "vsplit", 2)


def dsplit(input, sections):
    return _split_along(input, sections, 2, "dsplit", 3)


def logaddexp(input, other):
    from .ops import elementwise
    m = elementwise("maximum", input, other)
    m = m.detach().nan_to_num(0.0, 0.0, 0.0) if m.dtype.is_floating_point else m
    return ((input - m).exp() + (other - m).exp()).log() + m


def logaddexp2(input, other):
    ln2 = 0.6931471805599453
    return logaddexp(input * ln2, other * ln2) / ln2


def searchsorted(sorted_sequence, values, *, out_int32=False, right=False, side=None, sorter=None):
    """Binary search per row (NumPy's searchsorted does the search; the results are plain indices)."""
    from .creation import tensor
    side = side or ("right" if right else "left")
    if sorted_sequence.device.type != "cpu":
        return _searchsorted_tensor(sorted_sequence, values, out_int32, side == "right", sorter)
    seq = sorted_sequence._host_values()
    scalar = not isinstance(values, Tensor)
    vals = np.asarray(values) if scalar else values._host_values()
    if sorter is not None:
        seq = np.take_along_axis(seq, sorter._host_values(), -1)
    if seq.ndim == 1:
        res = np.searchsorted(seq, vals, side=side)
    else:
        res = np.stack([np.searchsorted(s, v, side=side) for s, v in
                        zip(seq.reshape(-1, seq.shape[-1]), vals.reshape(-1, vals.shape[-1]))]).reshape(vals.shape)
    return tensor(res, dtype=_dt.int32 if out_int32 else _dt.int64)


def _searchsorted_tensor(seq, values, out_int32, right, sorter):
    """searchsorted from tensor ops on the sequence's device: the insertion point is the count of
    elements below (or not above) each value; NaN, the largest, goes after everything."""
    from .creation import tensor
    if sorter is not None:
        seq = seq.gather(-1, sorter)
    v = values if isinstance(values, Tensor) else tensor(values, dtype=seq.dtype, device=seq.device)
    s = seq.detach()
    if s.ndim == 1:
        s = s.reshape((1,) * v.ndim + (s.shape[0],))
    else:
        s = s.unsqueeze(-2)
    vv = v.detach().unsqueeze(-1)
    below = (s <= vv) if right else (s < vv)
    res = below.sum(-1)
    if v.dtype.is_floating_point:
        res = res.masked_fill(v.detach().isnan(), seq.shape[-1])
    return res.to(_dt.int32 if out_int32 else _dt.int64)


def bucketize(input, boundaries, *, out_int32=False, right=False):
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def take_along_dim(input, indices, dim=None):
    if dim is None:
        return input.reshape(-1).gather(0, indices.reshape(-1))
    d = wrap_dim(dim, input.ndim)
    shp_i = list(input.shape)
    shp_x = list(indices.shape)
    shp_i[d] = shp_x[d] = 1
    from .shape import broadcast_shapes
    b = broadcast_shapes(tuple(shp_i), tuple(shp_x))
    xs = list(b)
    xs[d] = input.shape[d]
    ix = list(b)
    ix[d] = indices.shape[d]
    return input.expand(xs).gather(d, indices.expand(ix))


def _tri_indices(row, col, offset, upper, dtype, device):
    from .creation import tensor
    r, c = (np.triu_indices if upper else np.tril_indices)(row, offset, col)
    return tensor(np.stack([r, c]), dtype=_dt.int64 if dtype is None else dtype, device=device)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    return _tri_indices(row, col, offset, False, dtype, device)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    return _tri_indices(row, col, offset, True, dtype, device)


def cross(input, other, dim=None):
    if dim is None:
        dim = next((i for i, s in enumerate(input.shape) if s == 3), -1)
    d = wrap_dim(dim, input.ndim)
    if input.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {d} must have length 3. Got {input.shape[d]} and "
                           f"{other.shape[d]}")
    from .joining import stack
    a = [input.select(d, i) for i in range(3)]
    b = [other.select(d, i) for i in range(3)]
    return stack([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]], d)


def kron(input, other):
    nd = max(input.ndim, other.ndim)
    a = input.reshape((1,) * (nd - input.ndim) + tuple(input.shape))
    b = other.reshape((1,) * (nd - other.ndim) + tuple(other.shape))
    sa = [s for d in a.shape for s in (d, 1)]
    sb = [s for d in b.shape for s in (1, d)]
    out = a.reshape(sa) * b.reshape(sb)
    return out.reshape([x * y for x, y in zip(a.shape, b.shape)])


def heaviside(input, values):
    from .ops import where
    return where(input == 0, values.to(input.dtype) if isinstance(values, Tensor) else values,
                 (input > 0).to(input.dtype))


def _histc_tensor(input, bins, lo, hi):
    """histc from tensor ops, so it runs on the input's device (the range needs one host sync)."""
    from .creation import zeros
    x = input.detach().reshape(-1).double()
    if lo == hi and x.numel():
        lo, hi = x.min().item(), x.max().item()
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    v = x[(x >= lo) & (x <= hi)]
    idx = ((v - lo) * (bins / (hi - lo))).floor().long().clamp(0, bins - 1)
    ones = zeros(1, dtype=input.dtype, device=input.device).add_(1).expand(v.numel())
    return zeros(bins, dtype=input.dtype, device=input.device).index_add_(0, idx, ones)


def histc(input, bins=100, min=0, max=0):
    from .creation import tensor
    if input.device.type != "cpu":
        return _histc_tensor(input, bins, float(min), float(max))
    v = input._host_values().astype(np.float64).ravel()
    lo, hi = float(min), float(max)
    if lo == hi and v.size:
        lo, hi = float(v.min()), float(v.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    h, _ = np.histogram(v[(v >= lo) & (v <= hi)], bins=bins, range=(lo, hi))
    return tensor(h, dtype=input.dtype)


def cdist(x1, x2, p=2.0):
    diffs = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return diffs.norm(p, dim=-1)


def trapezoid(y, x=None, *, dx=None, dim=-1):
    d = wrap_dim(dim, y.ndim)
    n = y.shape[d]
    avg = (y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1)) / 2
    if x is None:
        return avg.sum(d) * (1 if dx is None else dx)
    dxs = x.narrow(-1 if x.ndim == 1 else d, 1, n - 1) - x.narrow(-1 if x.ndim == 1 else d, 0, n - 1)
    return (avg * dxs).sum(d)


def vander(x, N=None, increasing=False):
    from .joining import stack
    N = x.shape[0] if N is None else N
    cols = [x ** i for i in range(N)]
    return stack(cols if increasing else cols[::-1], 1)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    num = (x1 * x2).sum(dim)
    den = (x1.norm(dim=dim).clamp_min(eps) * x2.norm(dim=dim).clamp_min(eps))
    return num / den
