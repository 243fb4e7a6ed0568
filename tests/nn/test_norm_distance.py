"""pairwise_distance, cosine_similarity, pdist, cdist, normalize: values, grads, grad_fn names, reprs."""
import numpy as np
import pytest

import numtorch as nt
from numtorch.nn._functional.distance import cdist
from _fd import check_grad
from _twin import twin, twin_raises

F = nt.nn.functional
RNG = np.random.default_rng(11)
A = RNG.standard_normal((4, 5))
B = RNG.standard_normal((4, 5))


def _run(T, f):
    a = T.tensor(A, requires_grad=True)
    b = T.tensor(B, requires_grad=True)
    y = f(T, a, b)
    y.backward(T.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape))))
    return y, a.grad, b.grad


@pytest.mark.parametrize("p", [2.0, 1.0, float("inf")])
def test_pairwise_distance(p):
    y, _, _ = twin(lambda T: _run(T, lambda T, a, b: T.nn.functional.pairwise_distance(a, b, p=p)))
    np.testing.assert_allclose(y.detach().numpy(), np.linalg.norm(A - B + 1e-6, ord=p, axis=1), rtol=1e-12)
    assert type(y.grad_fn).__name__ == "NormBackward1"
    twin(lambda T: _run(T, lambda T, a, b: T.nn.functional.pairwise_distance(a, b[0], keepdim=True)))


def test_cosine_similarity():
    y, _, _ = twin(lambda T: _run(T, lambda T, a, b: T.nn.functional.cosine_similarity(a, b)))
    ref = (A * B).sum(1) / np.linalg.norm(A, axis=1) / np.linalg.norm(B, axis=1)
    np.testing.assert_allclose(y.detach().numpy(), ref, rtol=1e-12)
    assert type(y.grad_fn).__name__ == "SumBackward1"
    twin(lambda T: _run(T, lambda T, a, b: T.nn.functional.cosine_similarity(a, b[:1], dim=0, eps=1e-3)))
    a = nt.tensor(A, requires_grad=True)
    b = nt.tensor(B, requires_grad=True)
    check_grad(lambda a, b: F.cosine_similarity(a, b), a, b)


def test_pdist_cdist():
    y, _, _ = twin(lambda T: _run(T, lambda T, a, b: T.nn.functional.pdist(a) + b.sum() * 0))
    i, j = np.triu_indices(4, 1)
    np.testing.assert_allclose(y.detach().numpy(), np.linalg.norm(A[i] - A[j], axis=1), rtol=1e-12)

    def case(T):
        a = T.tensor(A, requires_grad=True)
        return T.nn.functional.pdist(a, p=1), (T.cdist if T is not nt else cdist)(a, T.tensor(B[:3]))
    pd, cd = twin(case)
    assert type(pd.grad_fn).__name__ == "PdistBackward0" and type(cd.grad_fn).__name__ == "CdistBackward0"
    np.testing.assert_allclose(cd.detach().numpy(), np.linalg.norm(A[:, None] - B[None, :3], axis=2), rtol=1e-12)
    a = nt.tensor(A, requires_grad=True)
    check_grad(lambda a: F.pdist(a), a)
    check_grad(lambda a: cdist(a, nt.tensor(B[:2])), a)
    twin_raises(lambda T: T.nn.functional.pdist(T.ones(2, 3, 4)), RuntimeError,
                "pdist only supports 2D tensors, got: 3D")


def test_normalize():
    y, _, _ = twin(lambda T: _run(T, lambda T, a, b: T.nn.functional.normalize(a) * b))
    np.testing.assert_allclose(y.detach().numpy(), A / np.linalg.norm(A, axis=1, keepdims=True) * B, rtol=1e-12)
    twin(lambda T: _run(T, lambda T, a, b: T.nn.functional.normalize(a, p=1, dim=0) + b))
    z = nt.zeros(2, 3)
    assert F.normalize(z).tolist() == [[0.0] * 3] * 2
    out = nt.empty(4, 5, dtype=nt.float64)
    F.normalize(nt.tensor(A), out=out)
    np.testing.assert_allclose(out.numpy(), A / np.linalg.norm(A, axis=1, keepdims=True))
    a = nt.tensor(A, requires_grad=True)
    check_grad(lambda a: F.normalize(a, dim=0), a)


def test_modules():
    assert repr(nt.nn.PairwiseDistance(p=1)) == "PairwiseDistance()"
    assert repr(nt.nn.CosineSimilarity(0)) == "CosineSimilarity()"
    twin(lambda T: (T.nn.PairwiseDistance(p=1, keepdim=True)(T.tensor(A), T.tensor(B)),
                    T.nn.CosineSimilarity(0, 1e-3)(T.tensor(A), T.tensor(B))))
