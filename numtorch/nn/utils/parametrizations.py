"""``torch.nn.utils.parametrizations``: ``weight_norm``, ``spectral_norm`` and ``orthogonal`` as
parametrizations (see parametrize.py). Orthogonal maps are differentiable compositions of tensor ops:
the matrix exponential by scaling and squaring, Cayley by ``solve``, Householder products as a chain of
rank-one updates; ``right_inverse`` factors with LAPACK's geqrf through NumPy (it runs under no_grad)."""
from enum import Enum, auto

import numpy as np

from ...autograd.grad_mode import no_grad
from ...tensor import Tensor
from ..modules.module import Module
from . import parametrize
from .weight_norm import _weight_norm, norm_except_dim

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


# -- weight_norm --------------------------------------------------------------------------------------

class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        if dim is None:
            dim = -1
        self.dim = dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Parametrize ``module.<name>`` as g * v / ||v|| (originals: ``original0`` = g, ``original1`` = v)."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def _weight_norm_compat_hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                 error_msgs):
        g_key = f"{prefix}{name}_g"
        v_key = f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module._register_load_state_dict_pre_hook(_weight_norm_compat_hook)
    return module


# -- spectral_norm ------------------------------------------------------------------------------------

def _normalize_into(x, eps, out=None):
    """x / max(||x||_2, eps); written into ``out`` (in place, version bumped) when given."""
    n = max(float(x.norm(2).item()), eps)
    if out is None:
        return x / n
    out.copy_(x)
    out.div_(n)
    return out


class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but got "
                             f"{dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.size()
            with no_grad():
                u = weight_mat.new_empty(h).normal_(0, 1)
                v = weight_mat.new_empty(w).normal_(0, 1)
                self.register_buffer("_u", _normalize_into(u, self.eps))
                self.register_buffer("_v", _normalize_into(v, self.eps))
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight):
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.dim()) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat, n_power_iterations):
        from ... import mv
        with no_grad():
            for _ in range(n_power_iterations):
                _normalize_into(mv(weight_mat, self._v), self.eps, out=self._u)
                _normalize_into(mv(weight_mat.mH, self._u), self.eps, out=self._v)

    def forward(self, weight):
        from ... import mv, vdot
        if weight.ndim == 1:
            return weight / weight.norm(2).clamp(min=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u = self._u.clone()
        v = self._v.clone()
        sigma = vdot(u, mv(weight_mat, v))
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Parametrize ``module.<name>`` as W / sigma(W) (power-iteration estimate, updated in training)."""
    from .spectral_norm import _default_dim
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = _default_dim(module)
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


# -- orthogonal ---------------------------------------------------------------------------------------

class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


def _eye_like(X, n):
    from ... import eye
    return eye(n, dtype=X.dtype, device=X.device)


def _matrix_exp(A):
    """exp(A) by scaling and squaring of a degree-18 Taylor polynomial (differentiable)."""
    norm = float(A.detach().abs().sum(-1).max().item()) if A.numel() else 0.0
    s = max(0, int(np.ceil(np.log2(norm / 0.25))) if norm > 0.25 else 0)
    X = A / (2.0 ** s)
    n = A.size(-1)
    Id = _eye_like(A, n)
    term = Id.expand(A.shape) if A.ndim > 2 else Id
    out = term
    for i in range(1, 19):
        term = (term @ X) / float(i)
        out = out + term
    for _ in range(s):
        out = out @ out
    return out


def _householder_product(A, tau):
    """H_1 ... H_k (first k columns), H_i = I - tau_i v_i v_i^H, v_i = e_i + A[i+1:, i] (differentiable)."""
    n, k = A.size(-2), A.size(-1)
    Id = _eye_like(A, n)
    Q = Id.expand(*A.shape[:-2], n, n) if A.ndim > 2 else Id
    rows = np.arange(n)
    for i in range(k):
        from ... import tensor
        below = tensor((rows > i).astype(np.float64), dtype=A.dtype, device=A.device)
        v = A[..., :, i] * below + Id[:, i]
        Qv = (Q @ v.unsqueeze(-1))
        Q = Q - tau[..., i].unsqueeze(-1).unsqueeze(-1) * (Qv @ v.unsqueeze(-2))
    return Q[..., :, :k]


def _geqrf(Q):
    """LAPACK geqrf of a (batch of) matrix: (A with R above and reflectors below the diagonal, tau)."""
    from ... import tensor
    q = Q.detach().cpu().numpy()
    batch = q.shape[:-2]
    flat = q.reshape((-1,) + q.shape[-2:])
    As, taus = [], []
    for m in flat:
        h, t = np.linalg.qr(m.astype(np.float64), mode="raw")
        As.append(h.T)
        taus.append(t)
    A = np.stack(As).reshape(batch + q.shape[-2:])
    t = np.stack(taus).reshape(batch + (taus[0].shape[-1],))
    return tensor(A, dtype=Q.dtype, device=Q.device), tensor(t, dtype=Q.dtype, device=Q.device)


def _make_orthogonal(A):
    X, tau = _geqrf(A)
    Q = _householder_product(X, tau)
    return Q * X.diagonal(dim1=-2, dim2=-1).sign().unsqueeze(-2)


def _is_orthogonal(Q, eps=None):
    from ... import allclose, finfo
    n, k = Q.size(-2), Q.size(-1)
    Id = _eye_like(Q, k)
    eps = 10 * n * finfo(Q.dtype).eps
    return allclose(Q.mH @ Q, Id, atol=eps)


class _Orthogonal(Module):
    base: Tensor

    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        if weight.is_complex() and orthogonal_map == _OrthMaps.householder:
            raise ValueError("The householder parametrization does not support complex tensors.")
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        from ... import cat
        from ...linalg import solve
        n, k = X.size(-2), X.size(-1)
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            X = X.tril()
            if n != k:
                X = cat([X, X.new_zeros(n, n - k).expand(*X.shape[:-2], -1, -1)], dim=-1)
            A = X - X.mH
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = _matrix_exp(A)
            else:
                Id = _eye_like(A, n)
                Q = solve(Id - 0.5 * A, Id + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = _householder_product(A, tau)
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if hasattr(self, "base"):
            Q = self.base @ Q
        if transposed:
            Q = Q.mT
        return Q

    def right_inverse(self, Q):
        from ... import cat, randn, zeros_like
        if Q.shape != self.shape:
            raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. Got a tensor of shape "
                             f"{Q.shape}.")
        with no_grad():
            Q_init = Q
            n, k = Q.size(-2), Q.size(-1)
            transpose = n < k
            if transpose:
                Q = Q.mT
                n, k = k, n
            if not hasattr(self, "base"):
                if self.orthogonal_map == _OrthMaps.cayley or self.orthogonal_map == _OrthMaps.matrix_exp:
                    raise NotImplementedError("It is not possible to assign to the matrix exponential or the Cayley "
                                              "parametrizations when use_trivialization=False.")
                A, tau = _geqrf(Q)
                d = A.diagonal(dim1=-2, dim2=-1)
                sign = d.sign()
                sign = sign + (tau == 0).to(sign.dtype) * (-2 * sign)
                A = A - A.diagonal(dim1=-2, dim2=-1).diag_embed() + sign.diag_embed()
                return A.mT if transpose else A
            if n == k:
                Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
            else:
                N = randn(*(Q.size()[:-2] + (n, n - k)), dtype=Q.dtype, device=Q.device)
                Q = _make_orthogonal(cat([Q, N], dim=-1))
            self.base = Q
            neg_Id = zeros_like(Q_init)
            neg_Id.diagonal(dim1=-2, dim2=-1).fill_(-1.0)
            return neg_Id


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Parametrize ``module.<name>`` as an orthogonal (or unitary) matrix."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.size(-2) == weight.size(-1) or weight.is_complex() else "householder"
    orth_enum = getattr(_OrthMaps, orthogonal_map, None)
    if orth_enum is None:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
                         f"Got: {orthogonal_map}")
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
