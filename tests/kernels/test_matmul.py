"""numtorch.kernels.matmul against np.matmul (and torch when installed)."""
import numpy as np
import pytest

from numtorch.kernels import matmul as M

RNG = np.random.default_rng(1)


def _ref(a, b):
    r = np.matmul(a.astype(np.int64), b.astype(np.int64))
    return r != 0 if a.dtype == np.bool_ else r.astype(a.dtype)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_float_blas(dtype):
    a = RNG.standard_normal((2, 3, 4)).astype(dtype)
    b = RNG.standard_normal((4, 5)).astype(dtype)
    r = M.matmul(a, b)
    assert r.dtype == dtype
    np.testing.assert_allclose(r, np.matmul(a, b), rtol=1e-6)
    out = np.empty((2, 3, 5), dtype)
    assert M.matmul(a, b, out=out) is out
    np.testing.assert_allclose(out, r)


@pytest.mark.parametrize('dtype', [np.int64, np.int32, np.bool_])
@pytest.mark.parametrize('sa,sb', [((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 2)),
                                   ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)), ((0, 4), (4, 3)),
                                   ((3, 0), (0, 2))])
def test_int_matmul(dtype, sa, sb):
    a = RNG.integers(-3, 4, sa).astype(dtype)
    b = RNG.integers(-3, 4, sb).astype(dtype)
    r = M.matmul(a, b)
    ref = _ref(a, b)
    assert r.dtype == dtype and r.shape == ref.shape
    np.testing.assert_array_equal(r, ref)


def test_int_matmul_wraps_and_parallel():
    a = np.full((2, 2), 2**31 - 1, np.int32)
    np.testing.assert_array_equal(M.matmul(a, a), np.matmul(a.astype(np.int64), a).astype(np.int32))
    a = RNG.integers(-100, 100, (130, 70))
    b = RNG.integers(-100, 100, (70, 90))
    np.testing.assert_array_equal(M.matmul(a, b), a @ b)
    out = np.empty((130, 90), np.int64)
    assert M.matmul(a, b, out=out) is out
    np.testing.assert_array_equal(out, a @ b)


def test_int_matches_torch():
    torch = pytest.importorskip('torch')
    a = RNG.integers(-2**20, 2**20, (6, 7)).astype(np.int32)
    b = RNG.integers(-2**20, 2**20, (7, 3)).astype(np.int32)
    np.testing.assert_array_equal(M.matmul(a, b), (torch.from_numpy(a) @ torch.from_numpy(b)).numpy())


def test_dot_outer_errors():
    a = np.array([1, 2, 3], np.int64)
    b = np.array([4, 5, 6], np.int64)
    d = M.dot(a, b)
    assert d.shape == () and d.dtype == np.int64 and int(d) == 32
    f = M.dot(a.astype(np.float32), b.astype(np.float32))
    assert f.dtype == np.float32 and float(f) == 32.0
    np.testing.assert_array_equal(M.outer(a, b), np.outer(a, b))
    assert M.outer(a > 1, b > 4).dtype == np.bool_
    with pytest.raises(ValueError):
        M.matmul(np.ones((2, 3), np.int64), np.ones((2, 3), np.int64))
    with pytest.raises(TypeError):
        M.matmul(np.ones((2, 3), np.int64), np.ones((3, 2), np.int32))
