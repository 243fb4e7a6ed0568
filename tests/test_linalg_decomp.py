"""torch.linalg decompositions/solvers and the legacy names: values against NumPy/PyTorch, float64 gradchecks."""
import numpy as np
import pytest

import numtorch as nt
from _twin import twin, twin_raises

L = nt.linalg
rng = np.random.default_rng(0)
A4 = rng.standard_normal((4, 4))
T53 = rng.standard_normal((5, 3))
W35 = rng.standard_normal((3, 5))
SPD = A4 @ A4.T + 4 * np.eye(4)
B5 = rng.standard_normal((5, 2))


def t64(a, rg=False):
    return nt.tensor(a, dtype=nt.float64, requires_grad=rg)


def test_cholesky_and_errors():
    def case(T):
        return T.linalg.cholesky(T.tensor(SPD)), T.linalg.cholesky(T.tensor(SPD), upper=True), \
            T.linalg.cholesky_ex(T.tensor(SPD)).info
    Lc, U, info = twin(case)
    np.testing.assert_allclose(Lc.numpy(), np.linalg.cholesky(SPD), atol=1e-12)
    np.testing.assert_allclose(U.numpy(), np.linalg.cholesky(SPD).T, atol=1e-12)
    assert info.item() == 0 and info.dtype is nt.int32
    twin_raises(lambda T: T.linalg.cholesky(T.tensor([[1., 2.], [2., 1.]])), RuntimeError,
                "linalg.cholesky: The factorization could not be completed because the input is not positive-definite"
                " (the leading minor of order 2 is not positive-definite).")
    assert L.cholesky_ex(nt.tensor([[1., 2.], [2., 1.]])).info.item() == 2


@pytest.mark.parametrize("a", [A4, T53, W35])
def test_qr_matches_lapack(a):
    def case(T):
        return tuple(T.linalg.qr(T.tensor(a)))
    Q, R = twin(case, atol=1e-10)
    q, r = np.linalg.qr(a)
    np.testing.assert_allclose(Q.numpy(), q, atol=1e-12)
    np.testing.assert_allclose(R.numpy(), r, atol=1e-12)
    assert L.qr(nt.tensor(a), mode="complete").Q.shape == (a.shape[0], a.shape[0])


def test_eigh_svd_values():
    S = A4 + A4.T
    w, V = L.eigh(t64(S))
    np.testing.assert_allclose(w.numpy(), np.linalg.eigvalsh(S), atol=1e-12)
    np.testing.assert_allclose((V @ w.diag_embed() @ V.mT).numpy(), S, atol=1e-12)
    U, s, Vh = L.svd(t64(T53), full_matrices=False)
    np.testing.assert_allclose(s.numpy(), np.linalg.svd(T53, compute_uv=False), atol=1e-12)
    np.testing.assert_allclose((U * s.unsqueeze(0) @ Vh).numpy(), T53, atol=1e-12)
    assert L.svd(t64(T53)).U.shape == (5, 5)
    np.testing.assert_allclose(L.svdvals(t64(W35)).numpy(), np.linalg.svd(W35, compute_uv=False), atol=1e-12)
    twin(lambda T: T.linalg.eigvalsh(T.tensor(S)), atol=1e-10)
    with pytest.raises(NotImplementedError, match="complex"):
        L.eig(t64(A4))


def test_solvers():
    B = rng.standard_normal((4, 2))

    def case(T):
        A = T.tensor(A4)
        U = A.triu() + 4 * T.eye(4, dtype=T.float64)
        LU, piv = T.linalg.lu_factor(A)
        P, Lw, Up = T.linalg.lu(A)
        return (T.linalg.solve_triangular(U, T.tensor(B), upper=True),
                T.linalg.solve_triangular(U.mT, T.tensor(B).mT, upper=False, left=False),
                LU, piv, P, Lw, Up, T.linalg.lu_solve(LU, piv, T.tensor(B)),
                T.linalg.lu_solve(LU, piv, T.tensor(B), adjoint=True),
                T.linalg.lstsq(T.tensor(T53), T.tensor(B5)).solution,
                T.linalg.pinv(T.tensor(T53)), T.linalg.matrix_power(A, 3), T.linalg.matrix_power(A, -2),
                T.linalg.matrix_exp(A * 0.3), T.linalg.matrix_rank(A), T.linalg.multi_dot([A, A, T.tensor(B)]))
    out = twin(case, rtol=1e-9, atol=1e-9, grad_fn=False)
    np.testing.assert_allclose(out[7].numpy(), np.linalg.solve(A4, B), atol=1e-10)
    np.testing.assert_allclose(out[8].numpy(), np.linalg.solve(A4.T, B), atol=1e-10)
    np.testing.assert_allclose(out[10].numpy(), np.linalg.pinv(T53), atol=1e-10)
    np.testing.assert_allclose(out[12].numpy(), np.linalg.matrix_power(np.linalg.inv(A4), 2), atol=1e-9)
    P, Lw, Up = out[4:7]
    np.testing.assert_allclose((P @ Lw @ Up).numpy(), A4, atol=1e-12)


def test_legacy_names():
    def case(T):
        import warnings
        A = T.tensor([[4., 1.], [1., 3.]])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Lc = T.linalg.cholesky(A)
            LU, p = T.lu(A)
            return (tuple(T.svd(A)), tuple(T.qr(A)), T.cholesky(A), T.cholesky_solve(T.ones(2, 1), Lc),
                    T.cholesky_inverse(Lc), tuple(T.triangular_solve(T.ones(2, 1), A.triu())), T.pinverse(A),
                    LU, p, tuple(T.lu_unpack(LU, p)), T.lu_solve(T.ones(2, 1), LU, p))
    twin(case, atol=1e-5, grad_fn=False)
    twin_raises(lambda T: T.lstsq(T.ones(2, 2), T.ones(2, 2)), RuntimeError, "This function was deprecated")
    with pytest.warns(UserWarning, match="torch.qr is deprecated"):
        nt.qr(nt.ones(2, 2))


SPDF = lambda a: a @ a.mT + 4 * nt.eye(a.shape[-1], dtype=a.dtype)  # noqa: E731
GRADS = {
    "cholesky": (lambda a: L.cholesky(SPDF(a)), A4), "cholesky_upper": (lambda a: L.cholesky(SPDF(a), upper=True), A4),
    "qr_tall": (lambda a: tuple(L.qr(a)), T53), "qr_wide": (lambda a: tuple(L.qr(a)), W35),
    "eigh": (lambda a: tuple(L.eigh(a + a.mT)), A4), "svd": (lambda a: tuple(L.svd(a, full_matrices=False)), T53),
    "svdvals": (lambda a: L.svdvals(a), W35),
    "solve_triangular": (lambda a: L.solve_triangular(a.triu() + 4 * nt.eye(4, dtype=a.dtype), a, upper=True), A4),
    "lu": (lambda a: tuple(L.lu(a))[1:], A4), "pinv": (lambda a: L.pinv(a), T53),
    "matrix_power": (lambda a: L.matrix_power(a, -2), A4), "matrix_exp": (lambda a: L.matrix_exp(a), A4),
    "householder": (lambda a: L.householder_product(a, nt.tensor([1.2, 0.5, 0.3], dtype=nt.float64)), T53),
    "lstsq": (lambda a: L.lstsq(a, nt.ones(5, 2, dtype=nt.float64)).solution, T53),
}


@pytest.mark.parametrize("name", sorted(GRADS))
def test_gradcheck(name):
    f, a = GRADS[name]
    x = t64(a, True)
    assert nt.autograd.gradcheck(f, (x,))
    if name != "lu":
        assert nt.autograd.gradgradcheck(f, (x,))


def test_grad_fn_names():
    def case(T):
        A = T.tensor(SPD, requires_grad=True)
        return (T.linalg.cholesky(A), T.linalg.qr(A).Q, T.linalg.eigh(A).eigenvalues, T.linalg.svd(A).S,
                T.linalg.solve_triangular(A.detach().triu().requires_grad_(), A, upper=True))
    twin(case, atol=1e-8)
