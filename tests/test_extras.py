import numpy as np
import pytest

import numtorch as nt
from _fd import check_grad


def test_values_against_numpy():
    a = np.array([1, 4, 9, 16])
    np.testing.assert_array_equal(nt.diff(nt.tensor(a)).numpy(), np.diff(a))
    np.testing.assert_array_equal(nt.diff(nt.tensor(a), n=2).numpy(), np.diff(a, n=2))
    np.testing.assert_array_equal(nt.bincount(nt.tensor([0, 1, 1, 3])).numpy(), np.bincount([0, 1, 1, 3]))
    m = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(nt.det(nt.tensor(m)).item(), np.linalg.det(m), rtol=1e-6)
    np.testing.assert_allclose(nt.inverse(nt.tensor(m)).numpy(), np.linalg.inv(m), rtol=1e-5)
    np.testing.assert_array_equal(nt.searchsorted(nt.tensor([1, 3, 5, 7]), nt.tensor([3, 6])).numpy(),
                                  np.searchsorted([1, 3, 5, 7], [3, 6]))
    np.testing.assert_array_equal(nt.cross(nt.tensor([1.0, 0, 0]), nt.tensor([0.0, 1, 0]), dim=0).numpy(),
                                  np.cross([1.0, 0, 0], [0.0, 1, 0]))
    np.testing.assert_array_equal(nt.kron(nt.eye(2), nt.ones(2, 2)).numpy(), np.kron(np.eye(2), np.ones((2, 2))))
    np.testing.assert_array_equal(nt.tril_indices(3, 3).numpy(), np.stack(np.tril_indices(3)))
    np.testing.assert_allclose(nt.logaddexp(nt.tensor([1.0, 2.0]), nt.tensor([3.0, -1.0])).numpy(),
                               np.logaddexp([1.0, 2.0], [3.0, -1.0]), rtol=1e-6)
    np.testing.assert_array_equal(nt.take_along_dim(nt.tensor([[10, 30, 20]]), nt.tensor([[2, 0]]), 1).numpy(),
                                  [[20, 10]])
    np.testing.assert_allclose(nt.trapezoid(nt.tensor([1.0, 2.0, 3.0])).item(), np.trapezoid([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(nt.vander(nt.tensor([1, 2, 3]), 3).numpy(), np.vander([1, 2, 3], 3))
    assert [t.shape for t in nt.hsplit(nt.arange(6).view(2, 3), 3)] == [(2, 1)] * 3
    with pytest.raises(RuntimeError, match="is not divisible"):
        nt.hsplit(nt.arange(6).view(2, 3), 2)


def test_against_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((3, 4))
    for name, args in (("cdist", (x, x[:2])), ("dist", (x, x * 2)), ("logaddexp", (x, -x))):
        got = getattr(nt, name)(*[nt.tensor(a) for a in args]).numpy()
        exp = getattr(torch, name)(*[torch.tensor(a) for a in args]).numpy()
        np.testing.assert_allclose(got, exp, rtol=1e-6)


def test_grads():
    rng = np.random.default_rng(1)
    a = nt.tensor(rng.standard_normal((3, 3)), dtype=nt.float64, requires_grad=True)
    b = nt.tensor(rng.standard_normal((3, 3)), dtype=nt.float64, requires_grad=True)
    check_grad(lambda x: nt.diff(x, dim=0), a)
    check_grad(lambda x, y: nt.cross(x, y, dim=1), a, b)
    check_grad(lambda x, y: nt.kron(x, y), a, b)
    check_grad(lambda x, y: nt.logaddexp(x, y), a, b)
    check_grad(lambda x, y: nt.cdist(x, y), a, b)
