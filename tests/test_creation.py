import numpy as np
import pytest

import numtorch as nt


@pytest.mark.parametrize("data,dtype", [
    ([1, 2], nt.int64), ([1.0, 2.0], nt.float32), ([1, 2.0], nt.float32), ([True], nt.bool),
    ([True, 1], nt.int64), (3, nt.int64), (2.5, nt.float32), (True, nt.bool), ([[1, 2], [3, 4]], nt.int64),
    ([], nt.float32), (np.array([1.0]), nt.float64), (np.array([1], dtype=np.int32), nt.int32),
    (np.float64(1.5), nt.float64), ([np.float32(1.5), 2], nt.float32)])
def test_tensor_infers_dtype(data, dtype):
    t = nt.tensor(data)
    assert t.dtype is dtype
    np.testing.assert_array_equal(t.numpy(), np.array(data))


def test_tensor_copies_and_from_numpy_shares():
    a = np.arange(6.0).reshape(2, 3)
    t = nt.tensor(a)
    a[0, 0] = 100
    assert t[0, 0].item() == 0.0
    s = nt.from_numpy(a)
    a[0, 1] = 7
    assert s[0, 1].item() == 7
    s[1, 2] = -1
    assert a[1, 2] == -1
    n = s.numpy()
    n[0, 0] = 42
    assert a[0, 0] == 42
    st = nt.from_numpy(a[:, ::2])
    assert st.shape == (2, 2) and st.stride() == (3, 2)
    with pytest.raises(TypeError, match="expected np.ndarray"):
        nt.from_numpy([1, 2])


def test_nested_tensor_elements_promote():
    assert nt.tensor([1, nt.tensor(2.5, dtype=nt.float64)]).dtype is nt.float64
    assert nt.tensor([nt.tensor(1, dtype=nt.int32), nt.tensor(2, dtype=nt.int32)]).dtype is nt.int32
    assert nt.tensor([nt.tensor(True), 1]).tolist() == [1, 1]
    assert nt.tensor([[]]).shape == (1, 0)


def test_ragged_and_bad_data():
    with pytest.raises(ValueError, match="expected sequence of length 2 at dim 1"):
        nt.tensor([[1, 2], [3]])
    with pytest.raises(TypeError):
        nt.tensor([1, "a"])


def test_factories():
    assert nt.zeros(2, 3).shape == (2, 3) and nt.zeros((2, 3)).dtype is nt.float32
    assert nt.ones([2], dtype=nt.int64).tolist() == [1, 1]
    assert nt.full((2,), 7).dtype is nt.int64 and nt.full((2,), 7.0).dtype is nt.float32
    assert nt.full((1,), True).dtype is nt.bool
    assert nt.empty(0).shape == (0,)
    assert nt.arange(5).tolist() == [0, 1, 2, 3, 4] and nt.arange(5).dtype is nt.int64
    assert nt.arange(0.0, 1.0, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75]
    assert nt.arange(1, 10, 3).tolist() == [1, 4, 7]
    np.testing.assert_allclose(nt.linspace(0, 1, 5).numpy(), np.linspace(0, 1, 5), rtol=1e-6)
    np.testing.assert_allclose(nt.logspace(0, 2, 3).numpy(), [1, 10, 100], rtol=1e-6)
    np.testing.assert_array_equal(nt.eye(2, 3).numpy(), np.eye(2, 3))
    with pytest.raises(RuntimeError, match="negative dimension"):
        nt.zeros(-1)


def test_like_factories():
    x = nt.tensor([[5, 7], [1, 2]])
    assert nt.ones_like(x).tolist() == [[1, 1], [1, 1]] and nt.ones_like(x).dtype is nt.int64
    assert nt.zeros_like(x, dtype=nt.float64).dtype is nt.float64
    assert nt.full_like(x, 3).tolist() == [[3, 3], [3, 3]]
    r = nt.rand_like(x, dtype=nt.float32)
    assert r.shape == (2, 2) and ((r >= 0) & (r < 1)).all()
    with pytest.raises(RuntimeError):
        nt.rand_like(x)
    assert nt.randint_like(x, 10).dtype is nt.int64


def test_requires_grad_kwarg():
    assert nt.zeros(2, requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="Only Tensors of floating point"):
        nt.zeros(2, dtype=nt.int64, requires_grad=True)
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require gradients"):
        nt.zeros(2, dtype=nt.int64).requires_grad_()


def test_random_is_seeded():
    nt.manual_seed(0)
    a = nt.rand(5)
    nt.manual_seed(0)
    b = nt.rand(5)
    assert a.tolist() == b.tolist()
    g = nt.Generator().manual_seed(3)
    assert nt.randn(3, generator=g).dtype is nt.float32
    p = nt.randperm(10)
    assert sorted(p.tolist()) == list(range(10))
    r = nt.randint(3, 9, (100,))
    assert r.min().item() >= 3 and r.max().item() < 9
    assert nt.normal(0.0, 1.0, size=(3,)).shape == (3,)
    assert nt.bernoulli(nt.full((4,), 1.0)).tolist() == [1.0] * 4


def test_inplace_fills():
    x = nt.zeros(2, 3)
    x.fill_(2.5)
    assert x.tolist() == [[2.5] * 3] * 2
    x.zero_()
    assert x.sum().item() == 0
    x.uniform_(2, 3)
    assert ((x >= 2) & (x <= 3)).all()
    x.normal_()
    assert x._version == 4


def test_legacy_constructors():
    t = nt.FloatTensor([[1, 2], [3, 4]])
    assert t.dtype is nt.float32 and t.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert nt.LongTensor([1, 2]).dtype is nt.int64 and nt.IntTensor([1]).dtype is nt.int32
    assert nt.DoubleTensor(2, 3).shape == (2, 3) and nt.BoolTensor([1, 0]).dtype is nt.bool
    assert isinstance(t, nt.Tensor)
