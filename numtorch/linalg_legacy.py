"""PyTorch's older top-level linear-algebra names (``torch.svd``, ``torch.qr``, ``torch.cholesky``, ...), with
their deprecation warnings, over ``numtorch.linalg``."""
import warnings

from . import linalg as _la
from .return_types import lu_unpack as _RT_lu_unpack, qr as _RT_qr, svd as _RT_svd, \
    triangular_solve as _RT_triangular_solve

__all__ = ["svd", "qr", "cholesky", "cholesky_solve", "cholesky_inverse", "triangular_solve", "pinverse", "lstsq",
           "lu", "lu_unpack", "lu_solve", "matrix_power", "matrix_exp", "chain_matmul", "inverse", "ger",
           "eig", "symeig", "matrix_rank", "solve"]


def _warn(msg):
    warnings.warn(msg, UserWarning, stacklevel=3)


def svd(input, some=True, compute_uv=True, *, out=None):
    """(U, S, V) with V (not V^T); ``some=False`` gives full U and V."""
    if not compute_uv:
        from .creation import zeros
        m, n = input.shape[-2:]
        S = _la.svdvals(input)
        shp_u = input.shape[:-2] + ((m, m) if not some else (m, min(m, n)))
        shp_v = input.shape[:-2] + ((n, n) if not some else (n, min(m, n)))
        return _RT_svd((zeros(shp_u, dtype=input.dtype), S, zeros(shp_v, dtype=input.dtype)))
    U, S, Vh = _la.svd(input, full_matrices=not some)
    return _RT_svd((U, S, Vh.mT))


def qr(input, some=True, *, out=None):
    _warn("torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future PyTorch release.\n"
          "The boolean parameter 'some' has been replaced with a string parameter 'mode'.\nQ, R = torch.qr(A, some)\n"
          "should be replaced with\nQ, R = torch.linalg.qr(A, 'reduced' if some else 'complete')")
    Q, R = _la.qr(input, "reduced" if some else "complete")
    return _RT_qr((Q, R))


def cholesky(input, upper=False, *, out=None):
    _warn("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a future PyTorch "
          "release.\nL = torch.cholesky(A)\nshould be replaced with\nL = torch.linalg.cholesky(A)\nand\n"
          "U = torch.cholesky(A, upper=True)\nshould be replaced with\nU = torch.linalg.cholesky(A).mH\nThis "
          "transform will produce equivalent results for all valid (symmetric positive definite) inputs.")
    return _la.cholesky(input, upper=upper)


def cholesky_solve(B, L, upper=False, *, out=None):
    """X with A X = B where A = L L^T (or U^T U)."""
    if upper:
        y = _la.solve_triangular(L.mT, B, upper=False)
        return _la.solve_triangular(L, y, upper=True)
    y = _la.solve_triangular(L, B, upper=False)
    return _la.solve_triangular(L.mT, y, upper=True)


def cholesky_inverse(L, upper=False, *, out=None):
    from .creation import eye
    return cholesky_solve(eye(L.shape[-1], dtype=L.dtype), L, upper)


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False, *, out=None):
    _warn("torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangularand will be removed in a "
          "future PyTorch release.\ntorch.linalg.solve_triangular has its arguments reversed and does not return a "
          "copy of one of the inputs.\nX = torch.triangular_solve(B, A).solution\nshould be replaced with\n"
          "X = torch.linalg.solve_triangular(A, B).")
    M = A.mT if transpose else A
    X = _la.solve_triangular(M, b, upper=upper != transpose, unitriangular=unitriangular)
    return _RT_triangular_solve((X, A.clone()))


def pinverse(input, rcond=1e-15):
    return _la.pinv(input, rtol=rcond)


def lstsq(input, A, *, out=None):
    raise RuntimeError(
        "This function was deprecated since version 1.9 and is now removed. `torch.lstsq` is deprecated in favor of "
        "`torch.linalg.lstsq`.\n`torch.linalg.lstsq` has reversed arguments and does not return the QR decomposition "
        "in the returned tuple (although it returns other information about the problem).\n\nTo get the QR "
        "decomposition consider using `torch.linalg.qr`.\n\nThe returned solution in `torch.lstsq` stored the "
        "residuals of the solution in the last m - n columns of the returned value whenever m > n. In "
        "torch.linalg.lstsq, the residuals are in the field 'residuals' of the returned named tuple.\n\nThe "
        "unpacking of the solution, as in\nX, _ = torch.lstsq(B, A).solution[:A.size(1)]\nshould be replaced "
        "with:\nX = torch.linalg.lstsq(A, B).solution")


def lu(A, pivot=True, get_infos=False, out=None):
    _warn("torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex and will be "
          "removed in a future PyTorch release.\nLU, pivots = torch.lu(A, compute_pivots)\nshould be replaced with\n"
          "LU, pivots = torch.linalg.lu_factor(A, compute_pivots)\nand\nLU, pivots, info = torch.lu(A, "
          "compute_pivots, get_infos=True)\nshould be replaced with\nLU, pivots, info = torch.linalg.lu_factor_ex(A, "
          "compute_pivots)")
    LU, piv, info = _la.lu_factor_ex(A, pivot=pivot)
    return (LU, piv, info) if get_infos else (LU, piv)


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    from .linalg_decomp import _perm_from_pivots, _wrap
    m, n = LU_data.shape[-2:]
    k = min(m, n)
    P = _wrap(_perm_from_pivots(LU_pivots.numpy(), m), LU_data.dtype, LU_data.device)
    from .creation import eye
    L = LU_data[..., :, :k].tril(-1) + eye(m, k, dtype=LU_data.dtype)
    U = LU_data[..., :k, :].triu()
    return _RT_lu_unpack((P, L, U))


def lu_solve(b, LU_data, LU_pivots, *, out=None):
    _warn("torch.lu_solve is deprecated in favor of torch.linalg.lu_solveand will be removed in a future PyTorch "
          "release.\nNote that torch.linalg.lu_solve has its arguments reversed.\nX = torch.lu_solve(B, LU, pivots)\n"
          "should be replaced with\nX = torch.linalg.lu_solve(LU, pivots, B)")
    return _la.lu_solve(LU_data, LU_pivots, b)


def matrix_power(input, n):
    return _la.matrix_power(input, n)


def matrix_exp(input):
    return _la.matrix_exp(input)


def chain_matmul(*matrices, out=None):
    _warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
          "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than multiple "
          "parameters.")
    if len(matrices) == 1:
        return matrices[0].clone()
    return _la.multi_dot(list(matrices))


def inverse(input, *, out=None):
    return _la.inv(input)


def ger(input, vec2, *, out=None):
    return input.outer(vec2)


def eig(input, eigenvectors=False):
    raise RuntimeError("This function was deprecated since version 1.9 and is now removed. Please use the "
                       "`torch.linalg.eig` function instead.")


def symeig(input, eigenvectors=False, upper=True):
    raise RuntimeError("This function was deprecated since version 1.9 and is now removed. Please use the "
                       "`torch.linalg.eigh` function instead.")


def matrix_rank(input, tol=None, symmetric=False, *, out=None):
    raise RuntimeError("This function was deprecated since version 1.9 and is now removed. Please use the "
                       "`torch.linalg.matrix_rank` function instead.")


def solve(input, A, *, out=None):
    raise RuntimeError("This function was deprecated since version 1.9 and is now removed. `torch.solve` is "
                       "deprecated in favor of `torch.linalg.solve`. `torch.linalg.solve` has its arguments "
                       "reversed and does not return the LU factorization.\n\nTo get the LU factorization see "
                       "`torch.lu`, which can be used with `torch.lu_solve` or `torch.lu_unpack`.\nX = "
                       "torch.solve(B, A).solution should be replaced with:\nX = torch.linalg.solve(A, B)")
