"""``torch.linalg`` decompositions and solvers: cholesky, qr, eigh, svd, solve_triangular, lu family, lstsq,
pinv, matrix_power/exp/rank, multi_dot, householder_product. Forward values come from NumPy's LAPACK on the host
(CPU tensors); gradients are PyTorch's closed forms written with numtorch ops (so they differentiate again).
Complex results (eig, eigvals) raise NotImplementedError: numtorch has no complex dtypes yet."""
import math

import numpy as np

from . import dtypes as _dt
from .autograd.graph import needs_grad, record
from .linalg import LinAlgError, _host, _square, _wrap, inv, solve
from .return_types import (linalg_cholesky_ex, linalg_eigh, linalg_lu, linalg_lu_factor, linalg_qr, linalg_svd,
                           _make as _rt_make)
from .tensor import Tensor

linalg_lstsq = _rt_make("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))
linalg_lu_factor_ex = _rt_make("linalg_lu_factor_ex", ("LU", "pivots", "info"))

__all__ = ["cholesky", "cholesky_ex", "qr", "eigh", "eigvalsh", "eig", "eigvals", "svd", "svdvals",
           "solve_triangular", "lu_factor", "lu_factor_ex", "lu", "lu_solve", "lstsq", "pinv", "matrix_power",
           "matrix_exp", "matrix_rank", "multi_dot", "householder_product", "cond", "tensorinv", "tensorsolve",
           "vander", "cross", "diagonal", "solve_ex"]


def _cpu(A, fname):
    if A._storage.device.type != "cpu":
        raise RuntimeError(f"linalg.{fname}: not implemented for CUDA tensors in numtorch yet")


def _float(A, fname):
    if not A.dtype.is_floating_point:
        raise RuntimeError(f"linalg.{fname}: Expected a floating point or complex tensor as input. Got "
                           f"{A.dtype.short}")
    if A.ndim < 2:
        raise RuntimeError(f"linalg.{fname}: The input tensor A must have at least 2 dimensions.")
    _cpu(A, fname)


def _eye_like(A, n=None):
    from .creation import eye
    n = A.shape[-1] if n is None else n
    return eye(n, dtype=A.dtype, device=A.device)


def _sym_tril(X):
    """0.5 * (tril(X) + tril(X, -1)^T): PyTorch's cholesky-backward symmetrisation."""
    t = X.tril()
    return 0.5 * (t + t.tril(-1).mT)


# -- Cholesky ---------------------------------------------------------------------------------------

def _chol_info(a):
    """0 when a is positive-definite, else the order of the first leading minor that is not."""
    for k in range(1, a.shape[-1] + 1):
        try:
            np.linalg.cholesky(a[:k, :k])
        except np.linalg.LinAlgError:
            return k
    return 0


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    _float(A, "cholesky")
    _square(A, "cholesky")
    a = _host(A)
    flat = a.reshape(-1, *a.shape[-2:])
    Ls = np.zeros_like(flat)
    infos = np.zeros(flat.shape[0], np.int32)
    for i, m in enumerate(flat):
        try:
            Ls[i] = np.linalg.cholesky(m)
        except np.linalg.LinAlgError:
            infos[i] = _chol_info(m)
    if check_errors and infos.any():
        _chol_error(infos)
    L = _wrap(Ls.reshape(a.shape), A.dtype, A.device)
    if needs_grad(A):
        def bw(node, gL, ginfo=None):
            (L_,) = node.saved_tensors
            gA = _sym_tril(L_.mT @ gL)         # the node sits on the lower factor, whatever `upper` says
            gA = solve_triangular(L_.mT, gA, upper=True, left=True)
            return (solve_triangular(L_, gA, upper=False, left=False),)
        record("LinalgCholeskyExBackward0", L, (A,), bw, save_outputs=(0,))
    res = L.mT if upper else L
    from .creation import tensor
    return linalg_cholesky_ex((res, tensor(infos.reshape(a.shape[:-2]), dtype=_dt.int32)))


def _chol_error(infos):
    k = int(infos[infos != 0][0])
    raise LinAlgError(f"linalg.cholesky: The factorization could not be completed because the input is not "
                      f"positive-definite (the leading minor of order {k} is not positive-definite).")


def cholesky(A, *, upper=False, out=None):
    L, info = cholesky_ex(A, upper=upper)
    i = info.numpy().reshape(-1)
    if i.any():
        _chol_error(i)
    return L if out is None else out.copy_(L)


# -- triangular solves --------------------------------------------------------------------------------

def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """X with A X = B (left) or X A = B; A triangular (LinalgSolveTriangularBackward0)."""
    _float(A, "solve_triangular")
    if A.dtype is not B.dtype:
        raise RuntimeError(f"linalg.solve_triangular: Expected A and B to have the same dtype, but found A of type "
                           f"{A.dtype.short} and B of type {B.dtype.short} instead.")
    a = _host(A)
    tri = np.triu(a) if upper else np.tril(a)
    if unitriangular:
        idx = np.arange(a.shape[-1])
        tri = tri.copy()
        tri[..., idx, idx] = 1
    b = _host(B)
    with np.errstate(all="ignore"):
        if left:
            batch = np.broadcast_shapes(tri.shape[:-2], b.shape[:-2])
            x = np.linalg.solve(np.broadcast_to(tri, batch + tri.shape[-2:]), np.broadcast_to(b, batch + b.shape[-2:]))
        else:
            tt, bt = np.swapaxes(tri, -1, -2), np.swapaxes(b, -1, -2)
            batch = np.broadcast_shapes(tt.shape[:-2], bt.shape[:-2])
            x = np.swapaxes(np.linalg.solve(np.broadcast_to(tt, batch + tt.shape[-2:]),
                                            np.broadcast_to(bt, batch + bt.shape[-2:])), -1, -2)
    X = _wrap(x, A.dtype, A.device)
    if needs_grad(A, B):
        def bw(node, g):
            A_, X_ = node.saved_tensors
            gB = solve_triangular(A_.mT, g, upper=not upper, left=left, unitriangular=unitriangular)
            gA = None
            if node.needs[0]:
                gA = -(gB @ X_.mT) if left else -(X_.mT @ gB)
                gA = gA.triu(1 if unitriangular else 0) if upper else gA.tril(-1 if unitriangular else 0)
            return gA, gB
        record("LinalgSolveTriangularBackward0", X, (A, B), bw, save=(A,), save_outputs=(0,))
    return X if out is None else out.copy_(X)


# -- QR -----------------------------------------------------------------------------------------------

def qr(A, mode="reduced", *, out=None):
    _float(A, "qr")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                           "or 'complete'")
    a = _host(A)
    if mode == "r":
        r = np.linalg.qr(a, mode="r")
        q = np.zeros((0,), a.dtype)
    else:
        q, r = np.linalg.qr(a, mode=mode)
    Q, R = _wrap(q, A.dtype, A.device), _wrap(r, A.dtype, A.device)
    m, n = A.shape[-2:]
    if needs_grad(A):
        def bw(node, gQ, gR):
            Q_, R_ = node.saved_tensors
            if mode == "r":
                raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                                   "Please use linalg.qr(A, mode='reduced') if you are going to differentiate "
                                   "through linalg.qr.")
            if mode == "complete" and m > n:
                raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and "
                                   "nrows > ncols.")
            gQ = Q_ * 0 if gQ is None else gQ
            gR = R_ * 0 if gR is None else gR
            if m >= n:
                return (_qr_square_grad(Q_, R_, gQ, gR),)
            # Wide A = Q [U | V]: the square part X = Q U gets gQ + Y gV^T (Y = Q V); Y's gradient is Q gV.
            from .joining import cat
            U, V = R_[..., :, :m], R_[..., :, m:]
            gU, gV = gR[..., :, :m], gR[..., :, m:]
            gX = _qr_square_grad(Q_, U, gQ + (Q_ @ V) @ gV.mT, gU)
            return (cat([gX, Q_ @ gV], -1),)
        record("LinalgQrBackward0", (Q, R), (A,), bw, save_outputs=(0, 1))
    return linalg_qr((Q, R))


def _qr_square_grad(Q, R, gQ, gR):
    """m >= n: gA = [gQ + Q copyltu(M)] R^{-T}, M = R gR^T - gQ^T Q."""
    M = R @ gR.mT - gQ.mT @ Q
    Mt = M.tril(-1)
    copyltu = Mt + Mt.mT + M.diagonal(0, -2, -1).diag_embed()
    return solve_triangular(R.mT, gQ + Q @ copyltu, upper=False, left=False)


# -- symmetric eigendecomposition -------------------------------------------------------------------

def _check_uplo(UPLO):
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


def eigh(A, UPLO="L", *, out=None):
    _float(A, "eigh")
    _square(A, "eigh")
    _check_uplo(UPLO)
    w, v = np.linalg.eigh(_host(A), UPLO=UPLO)
    L, V = _wrap(w, A.dtype, A.device), _wrap(v, A.dtype, A.device)
    if needs_grad(A):
        def bw(node, gL, gV):
            L_, V_ = node.saved_tensors
            inner = 0
            if gV is not None:
                K = V_.mT @ gV
                E = L_.unsqueeze(-2) - L_.unsqueeze(-1)
                E = E + _eye_like(V_)
                F = (K - K.mT) * 0.5 / E
                inner = F - F.diagonal(0, -2, -1).diag_embed()
            if gL is not None:
                inner = inner + gL.diag_embed()
            return (V_ @ inner @ V_.mT,)
        record("LinalgEighBackward0", (L, V), (A,), bw, save_outputs=(0, 1))
    return linalg_eigh((L, V))


def eigvalsh(A, UPLO="L", *, out=None):
    _float(A, "eigvalsh")
    _square(A, "eigvalsh")
    _check_uplo(UPLO)
    if not needs_grad(A):
        return _wrap(np.linalg.eigvalsh(_host(A), UPLO=UPLO), A.dtype, A.device)
    return eigh(A, UPLO).eigenvalues


def eig(A, *, out=None):
    raise NotImplementedError("linalg.eig returns complex eigenvalues and eigenvectors, and numtorch has no complex "
                              "dtypes yet; for symmetric matrices use linalg.eigh")


def eigvals(A, *, out=None):
    raise NotImplementedError("linalg.eigvals returns complex eigenvalues, and numtorch has no complex dtypes yet; "
                              "for symmetric matrices use linalg.eigvalsh")


# -- SVD ----------------------------------------------------------------------------------------------

def svd(A, full_matrices=True, *, driver=None, out=None):
    _float(A, "svd")
    u, s, vh = np.linalg.svd(_host(A), full_matrices=full_matrices)
    U, S, Vh = _wrap(u, A.dtype, A.device), _wrap(s, A.dtype, A.device), _wrap(vh, A.dtype, A.device)
    m, n = A.shape[-2:]
    if needs_grad(A):
        def bw(node, gU, gS, gVh):
            U_, S_, Vh_ = node.saved_tensors
            k = S_.shape[-1]
            if (gU is not None or gVh is not None) and full_matrices and m != n:
                raise NotImplementedError("linalg.svd backward with full_matrices=True on a non-square input "
                                          "(use full_matrices=False)")
            U1, Vh1 = U_[..., :, :k], Vh_[..., :k, :]
            return (_svd_backward(U1, S_, Vh1, None if gU is None else gU[..., :, :k], gS,
                                  None if gVh is None else gVh[..., :k, :], m, n),)
        record("LinalgSvdBackward0", (U, S, Vh), (A,), bw, save_outputs=(0, 1, 2))
        S.grad_fn = U.grad_fn
    return linalg_svd((U, S, Vh))


def _svd_backward(U, S, Vh, gU, gS, gVh, m, n):
    """PyTorch's svd_backward for real inputs (reduced factors)."""
    V = Vh.mT
    if gU is None and gVh is None:
        return U @ (gS.unsqueeze(-1) * Vh)
    S2 = S * S
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1)
    E = E + _eye_like(S.unsqueeze(-1), S.shape[-1])
    inner = 0
    if gU is not None:
        UhgU = U.mT @ gU
        inner = ((UhgU - UhgU.mT) * S.unsqueeze(-2)) / E
    if gVh is not None:
        VhgV = Vh @ gVh.mT
        inner = inner + S.unsqueeze(-1) * ((VhgV - VhgV.mT) / E)
    if gS is not None:
        inner = inner + gS.diag_embed()
    gA = U @ inner @ Vh
    if gU is not None and m > S.shape[-1]:
        gA = gA + (gU - U @ (U.mT @ gU)) / S.unsqueeze(-2) @ Vh
    if gVh is not None and n > S.shape[-1]:
        gV = gVh.mT
        gA = gA + U @ ((gV - V @ (Vh @ gV)) / S.unsqueeze(-2)).mT
    return gA


def svdvals(A, *, driver=None, out=None):
    _float(A, "svdvals")
    if not needs_grad(A):
        return _wrap(np.linalg.svd(_host(A), compute_uv=False), A.dtype, A.device)
    return svd(A, full_matrices=False).S


# -- LU -----------------------------------------------------------------------------------------------

def _lu_host(a):
    """Batched LU with partial pivoting (getrf's rule): packed LU, 1-based int32 pivots, info."""
    a = np.array(a, dtype=np.float64 if a.dtype == np.float64 else a.dtype, copy=True)
    *batch, m, n = a.shape
    flat = a.reshape(-1, m, n)
    k = min(m, n)
    piv = np.zeros((flat.shape[0], k), np.int32)
    info = np.zeros(flat.shape[0], np.int32)
    for b in range(flat.shape[0]):
        M = flat[b]
        for j in range(k):
            p = j + int(np.argmax(np.abs(M[j:, j])))
            piv[b, j] = p + 1
            if p != j:
                M[[j, p]] = M[[p, j]]
            if M[j, j] == 0:
                if info[b] == 0:
                    info[b] = j + 1
                continue
            M[j + 1:, j] /= M[j, j]
            M[j + 1:, j + 1:] -= np.outer(M[j + 1:, j], M[j, j + 1:])
    return flat.reshape(a.shape), piv.reshape(*batch, k), info.reshape(batch)


def _perm_from_pivots(piv, m):
    """Row permutation P (as an index array per batch) such that A = P L U."""
    flat = piv.reshape(-1, piv.shape[-1])
    perms = np.tile(np.arange(m), (flat.shape[0], 1))
    for b in range(flat.shape[0]):
        for j, p in enumerate(flat[b] - 1):
            perms[b, [j, p]] = perms[b, [p, j]]
    P = np.zeros((flat.shape[0], m, m))
    for b in range(flat.shape[0]):
        P[b, perms[b], np.arange(m)] = 1.0
    return P.reshape(*piv.shape[:-1], m, m)


def lu_factor_ex(A, *, pivot=True, check_errors=False, out=None):
    _float(A, "lu_factor")
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    lu_, piv, info = _lu_host(_host(A))
    from .creation import tensor
    LU = _wrap(lu_, A.dtype, A.device)
    if needs_grad(A):
        def bw(node, gLU, gp=None, gi=None):
            (LU_,) = node.saved_tensors
            m, n = LU_.shape[-2:]
            if m != n:
                raise NotImplementedError("lu_factor backward for non-square matrices")
            L = LU_.tril(-1) + _eye_like(LU_)
            U = LU_.triu()
            P = _wrap(_perm_from_pivots(piv, m), A.dtype, A.device)
            return (_lu_backward(P, L, U, gLU.tril(-1), gLU.triu()),)
        record("LinalgLuFactorExBackward0", LU, (A,), bw, save_outputs=(0,))
    if check_errors and info.any():
        raise LinAlgError(f"torch.linalg.lu_factor: U[{int(info[info != 0][0])},{int(info[info != 0][0])}] is zero "
                          "and using it on lu_solve would result in a division by zero. If you still want to perform "
                          "the factorization, consider calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")
    return linalg_lu_factor_ex((LU, tensor(piv, dtype=_dt.int32), tensor(info, dtype=_dt.int32)))


def _lu_backward(P, L, U, gL, gU):
    """Square A = P L U: gA = P L^{-T} [tril(L^T gL, -1) + triu(gU U^T)] U^{-T}."""
    phi = (L.mT @ gL).tril(-1) + (gU @ U.mT).triu()
    x = solve_triangular(L.mT, phi, upper=True, left=True, unitriangular=True)
    x = solve_triangular(U.mT, x, upper=False, left=False)
    return P @ x


def lu_factor(A, *, pivot=True, out=None):
    LU, piv, info = lu_factor_ex(A, pivot=pivot)
    if info.numpy().any():
        i = int(info.numpy()[info.numpy() != 0].reshape(-1)[0])
        raise LinAlgError(f"torch.linalg.lu_factor: U[{i},{i}] is zero and using it on lu_solve would result in a "
                          "division by zero. If you still want to perform the factorization, consider calling "
                          "linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")
    return linalg_lu_factor((LU, piv))


def lu(A, *, pivot=True, out=None):
    """(P, L, U) with A = P L U."""
    _float(A, "lu")
    lu_, piv, _ = _lu_host(_host(A))
    m, n = A.shape[-2:]
    k = min(m, n)
    P = _wrap(_perm_from_pivots(piv, m), A.dtype, A.device)
    Lh = np.tril(lu_[..., :, :k], -1) + np.eye(m, k)
    Uh = np.triu(lu_[..., :k, :])
    L, U = _wrap(Lh, A.dtype, A.device), _wrap(Uh, A.dtype, A.device)
    if needs_grad(A):
        def bw(node, gP, gL, gU):
            L_, U_ = node.saved_tensors
            if m != n:
                raise NotImplementedError("linalg.lu backward for non-square matrices")
            gL = L_ * 0 if gL is None else gL
            gU = U_ * 0 if gU is None else gU
            return (_lu_backward(P, L_, U_, gL.tril(-1), gU.triu()),)
        record("LinalgLuBackward0", (P, L, U), (A,), bw, save_outputs=(1, 2))
        P.grad_fn, P._requires_grad = None, False
    return linalg_lu((P, L, U))


def lu_solve(LU, pivots, B, *, left=True, adjoint=False, out=None):
    """Solve with a factorisation from lu_factor (differentiable through B and LU)."""
    m = LU.shape[-1]
    P = _wrap(_perm_from_pivots(pivots.numpy(), m), LU.dtype, LU.device)
    L = LU.tril(-1) + _eye_like(LU)
    U = LU.triu()
    if left and not adjoint:
        y = solve_triangular(L, P.mT @ B, upper=False, unitriangular=True)
        return solve_triangular(U, y, upper=True)
    if left and adjoint:        # A^T X = B, A^T = U^T L^T P^T
        y = solve_triangular(U.mT, B, upper=False)
        return P @ solve_triangular(L.mT, y, upper=True, unitriangular=True)
    if not adjoint:             # X A = B
        y = solve_triangular(U, B, upper=True, left=False)
        return solve_triangular(L, y, upper=False, left=False, unitriangular=True) @ P.mT
    return lu_solve(LU, pivots, B.mT, left=True, adjoint=False).mT


# -- least squares, pseudo-inverse, powers, exponential, rank ----------------------------------------

def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    _float(A, "pinv")
    if not needs_grad(A):
        a = _host(A)
        if atol is None and rtol is None:
            res = np.linalg.pinv(a, rcond=max(a.shape[-2:]) * np.finfo(a.dtype).eps, hermitian=hermitian)
        else:
            s = np.linalg.svd(a, compute_uv=False)
            smax = s[..., :1] if s.shape[-1] else s
            tol = np.maximum(atol or 0.0, (rtol or 0.0) * smax)
            u, s2, vh = np.linalg.svd(a, full_matrices=False)
            sinv = np.where(s2 > tol, 1 / np.where(s2 == 0, 1, s2), 0)
            res = np.swapaxes(vh, -1, -2) @ (sinv[..., None] * np.swapaxes(u, -1, -2))
        return _wrap(res, A.dtype, A.device)
    U, S, Vh = svd(A, full_matrices=False)
    smax = S[..., :1] if S.shape[-1] else S
    r = max(A.shape[-2:]) * float(np.finfo(A.dtype.np).eps) if rtol is None and atol is None else (rtol or 0.0)
    tol = (smax * r).clamp_min(atol or 0.0)
    keep = S > tol
    from .ops import where
    sinv = where(keep, 1 / where(keep, S, S * 0 + 1), S * 0)
    return Vh.mT @ (sinv.unsqueeze(-1) * U.mT)


def lstsq(A, B, rcond=None, *, driver=None):
    """(solution, residuals, rank, singular_values) like PyTorch's default 'gelsy' driver on the CPU."""
    _float(A, "lstsq")
    if driver not in (None, "gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    vec = B.ndim == A.ndim - 1
    Bm = B.unsqueeze(-1) if vec else B
    from .creation import tensor
    m, n = A.shape[-2:]
    if needs_grad(A, B):
        X = pinv(A) @ Bm
    else:
        a, b = _host(A), _host(Bm)
        if a.ndim == 2 and b.ndim == 2:
            x = np.linalg.lstsq(a, b, rcond=rcond)[0]
        else:
            batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
            ab = np.broadcast_to(a, batch + a.shape[-2:]).reshape(-1, m, n)
            bb = np.broadcast_to(b, batch + b.shape[-2:]).reshape(-1, m, b.shape[-1])
            x = np.stack([np.linalg.lstsq(p, q, rcond=rcond)[0] for p, q in zip(ab, bb)]).reshape(
                batch + (n, b.shape[-1]))
        X = _wrap(x, A.dtype, A.device)
    drv = driver or "gelsy"
    a = _host(A)
    ranks = np.linalg.matrix_rank(a) if drv != "gels" else None
    rank = tensor(ranks, dtype=_dt.int64) if ranks is not None else tensor([], dtype=_dt.int64)
    sv = _wrap(np.linalg.svd(a, compute_uv=False), A.dtype, A.device) if drv in ("gelsd", "gelss") else \
        tensor([], dtype=A.dtype)
    if m > n and drv != "gelsy" and (ranks is None or np.all(ranks == n)):
        res = ((A @ X - Bm) ** 2).sum(-2).detach()
    else:
        res = tensor([], dtype=A.dtype)
    return linalg_lstsq((X.squeeze(-1) if vec else X, res, rank, sv))


def matrix_power(A, n):
    if not isinstance(n, int):
        raise TypeError(f"matrix_power(): argument 'n' (position 2) must be int, not {type(n).__name__}")
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{A.shape[-2] if A.ndim >= 2 else A.ndim} by {A.shape[-1] if A.ndim else 0} matrices")
    if n == 0:
        return (A * 0 + _eye_like(A)).detach() if not A.requires_grad else A * 0 + _eye_like(A)
    if n < 0:
        A, n = inv(A), -n
    result, base = None, A
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return result


def matrix_exp(A):
    """Scaling and squaring with a degree-18 Taylor series (composite: differentiable)."""
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError("linalg.matrix_exp: A must be batches of square matrices")
    if A.shape[-1] == 0:
        return A.clone()
    norm = float(A.detach().abs().sum(-2).amax()) if A.numel() else 0.0
    s = max(0, int(math.ceil(math.log2(norm / 0.5))) if norm > 0.5 else 0)
    X = A / (2 ** s)
    eye = _eye_like(A)
    term = eye + X * 0
    result = term
    for k in range(1, 19):
        term = term @ X / k
        result = result + term
    for _ in range(s):
        result = result @ result
    return result


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, tol=None, out=None):
    _float(A, "matrix_rank")
    from .creation import tensor
    s = np.linalg.svd(_host(A), compute_uv=False)
    if tol is not None:
        atol, rtol = tol, 0.0
    smax = s.max(-1, keepdims=True) if s.shape[-1] else np.zeros(s.shape[:-1] + (1,))
    if atol is None and rtol is None:
        rtol = max(A.shape[-2:]) * np.finfo(_host(A).dtype).eps
    thr = np.maximum(atol or 0.0, (rtol if rtol is not None else 0.0) * smax)
    return tensor((s > thr).sum(-1).astype(np.int64))


def multi_dot(tensors, *, out=None):
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    ts = list(tensors)
    first_vec, last_vec = ts[0].ndim == 1, ts[-1].ndim == 1
    if first_vec:
        ts[0] = ts[0].unsqueeze(0)
    if last_vec:
        ts[-1] = ts[-1].unsqueeze(-1)
    for i, t in enumerate(ts):
        if t.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    res = ts[0]
    for t in ts[1:]:
        res = res @ t
    if first_vec:
        res = res.squeeze(0)
    if last_vec:
        res = res.squeeze(-1)
    return res


def householder_product(A, tau, *, out=None):
    """Q = H_1 ... H_k, H_i = I - tau_i v_i v_i^T with v_i from the columns of A (geqrf's layout)."""
    m, n = A.shape[-2:]
    k = tau.shape[-1]
    if k > n:
        raise RuntimeError("torch.linalg.householder_product: input.shape[-1] must be greater than or equal to "
                           "tau.shape[-1]")
    from .creation import tensor
    eye = _eye_like(A, m)
    Q = eye
    for i in range(k):
        below = tensor([0.0] * (i + 1) + [1.0] * (m - i - 1), dtype=A.dtype, device=A.device)
        unit = tensor([1.0 if j == i else 0.0 for j in range(m)], dtype=A.dtype, device=A.device)
        v = A[..., :, i] * below + unit
        Q = Q @ (eye - tau[..., i].unsqueeze(-1).unsqueeze(-1) * (v.unsqueeze(-1) * v.unsqueeze(-2)))
    return Q[..., :, :n]


def cond(A, p=None):
    from .linalg import matrix_norm
    if p is None or p == 2 or p == -2:
        s = svdvals(A)
        return s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0]
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


def tensorinv(A, ind=2):
    shp = A.shape
    m = math.prod(shp[:ind])
    return inv(A.reshape(m, -1)).reshape(*shp[ind:], *shp[:ind])


def tensorsolve(A, B, dims=None):
    n = B.numel()
    return solve(A.reshape(n, -1), B.reshape(n)).reshape(A.shape[B.ndim:])


def vander(x, N=None):
    """linalg.vander: increasing powers x^0 .. x^(N-1) along the last dim."""
    N = x.shape[-1] if N is None else N
    from .joining import stack
    return stack([x ** i for i in range(N)], -1) if N else x.unsqueeze(-1)[..., :0]


def cross(input, other, *, dim=-1, out=None):
    from .extras import cross as _cross
    return _cross(input, other, dim=dim)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    return A.diagonal(offset, dim1, dim2)


def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    from .creation import zeros
    from .return_types import _make
    rt = _make("linalg_solve_ex", ("result", "info"))
    return rt((solve(A, B, left=left), zeros(A.shape[:-2], dtype=_dt.int32)))
