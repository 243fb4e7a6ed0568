"""Embedding / EmbeddingBag / one_hot: values, scatter-add backward kernels, padding_idx, max_norm, errors, reprs."""
import numpy as np
import pytest

import numtorch as nt
from numtorch.kernels import embedding as ke
from _fd import check_grad
from _twin import twin, twin_raises

F = nt.nn.functional
RNG = np.random.default_rng(3)
W = RNG.standard_normal((10, 4))
IDX = np.array([[1, 2, 2], [9, 0, 2]])


def _run(T, f, dtype="float64"):
    w = T.tensor(W, dtype=getattr(T, dtype), requires_grad=True)
    y = f(T, w)
    y.backward(T.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)), dtype=y.dtype))
    return y, w.grad


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_embedding_forward_backward(dtype):
    y, g = twin(lambda T: _run(T, lambda T, w: T.nn.functional.embedding(T.tensor(IDX), w), dtype))
    np.testing.assert_allclose(y.detach().numpy(), W[IDX], rtol=1e-6)
    ref = np.zeros_like(W)
    np.add.at(ref, IDX.ravel(), np.cos(np.arange(24.0)).reshape(6, 4))
    np.testing.assert_allclose(g.numpy(), ref, rtol=1e-5, atol=1e-6)
    assert type(y.grad_fn).__name__ == "EmbeddingBackward0"


def test_embedding_padding_freq_int32():
    y, g = twin(lambda T: _run(T, lambda T, w: T.nn.functional.embedding(T.tensor(IDX), w, padding_idx=-8,
                                                                         scale_grad_by_freq=True)))
    assert (g.numpy()[2] == 0).all()                       # padding row (10 - 8) gets no gradient
    np.testing.assert_allclose(g.numpy()[1], np.cos(np.arange(4.0)))
    twin(lambda T: _run(T, lambda T, w: T.nn.functional.embedding(T.tensor(IDX, dtype=T.int32), w)))


def test_embedding_kernel_gradcheck_and_double_backward():
    w = nt.tensor(W, requires_grad=True)
    i = nt.tensor(IDX)
    check_grad(lambda w: F.embedding(i, w), w)          # padding_idx / scale_grad_by_freq alter the gradient on purpose
    g, = nt.autograd.grad((F.embedding(i, w) ** 2).sum(), w, create_graph=True)
    gg, = nt.autograd.grad(g.sum(), w)
    cnt = np.bincount(IDX.ravel(), minlength=10)[:, None]
    np.testing.assert_allclose(gg.numpy(), 2.0 * cnt * np.ones((1, 4)))
    out = np.empty(40)
    ke.embedding_backward(np.ones(24), IDX.ravel().astype(np.int64), 10, 4, None, False, out)
    np.testing.assert_array_equal(out.reshape(10, 4)[:, 0], cnt[:, 0])


def test_embedding_max_norm():
    def case(T):
        w = T.tensor(W * 3)
        y = T.nn.functional.embedding(T.tensor([1, 3, 3]), w, max_norm=1.5)
        return y, w
    y, w = twin(case)
    norms = np.linalg.norm(w.numpy(), axis=1)
    assert abs(norms[1] - 1.5) < 1e-6 and abs(norms[3] - 1.5) < 1e-6 and norms[0] > 1.5
    twin(lambda T: T.nn.functional.embedding(T.tensor([2]), T.tensor(W * 3), max_norm=2.0, norm_type=1.0))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag(mode):
    def case(T):
        return _run(T, lambda T, w: T.nn.functional.embedding_bag(T.tensor([1, 2, 2, 9, 0, 2]), w,
                                                                  T.tensor([0, 2, 2]), mode=mode))
    y, g = twin(case)
    bags = [W[[1, 2]], np.zeros((0, 4)), W[[2, 9, 0, 2]]]
    red = {"sum": lambda b: b.sum(0), "mean": lambda b: b.mean(0) if len(b) else np.zeros(4),
           "max": lambda b: b.max(0) if len(b) else np.zeros(4)}[mode]
    np.testing.assert_allclose(y.detach().numpy(), np.stack([red(b) for b in bags]), rtol=1e-12)
    assert type(y.grad_fn).__name__ == "EmbeddingBagBackward0"
    w = nt.tensor(W, requires_grad=True)
    check_grad(lambda w: F.embedding_bag(nt.tensor(IDX), w, mode=mode), w)


def test_embedding_bag_options():
    twin(lambda T: _run(T, lambda T, w: T.nn.functional.embedding_bag(
        T.tensor([1, 2, 2, 9, 0, 2]), w, T.tensor([0, 2, 2, 6]), mode="mean", include_last_offset=True,
        padding_idx=2)))
    psw = RNG.standard_normal((2, 3))

    def case(T):
        w = T.tensor(W, requires_grad=True)
        p = T.tensor(psw, requires_grad=True)
        y = T.nn.functional.embedding_bag(T.tensor(IDX), w, mode="sum", per_sample_weights=p)
        y.backward(T.tensor(np.cos(np.arange(8.0)).reshape(2, 4)))
        return y, w.grad, p.grad
    twin(case)
    w = nt.tensor(W, requires_grad=True)
    p = nt.tensor(psw, requires_grad=True)
    check_grad(lambda w, p: F.embedding_bag(nt.tensor(IDX), w, mode="sum", per_sample_weights=p), w, p)


def test_errors():
    twin_raises(lambda T: T.nn.functional.embedding(T.tensor([10]), T.ones(5, 2)), IndexError,
                "index out of range in self")
    twin_raises(lambda T: T.nn.functional.embedding(T.tensor([-1]), T.ones(5, 2)), IndexError,
                "index out of range in self")
    twin_raises(lambda T: T.nn.functional.embedding(T.tensor([1.0]), T.ones(5, 2)), RuntimeError,
                "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; "
                "but got torch.FloatTensor instead (while checking arguments for embedding)")
    twin_raises(lambda T: T.nn.Embedding(10, 3, padding_idx=10), AssertionError,
                "Padding_idx must be within num_embeddings")
    twin_raises(lambda T: T.nn.Embedding.from_pretrained(T.ones(3)), AssertionError,
                "Embeddings parameter is expected to be 2-dimensional")
    twin_raises(lambda T: T.nn.functional.embedding_bag(T.tensor([1, 2]), T.ones(5, 2)), ValueError,
                "offsets has to be a 1D Tensor but got None")
    twin_raises(lambda T: T.nn.functional.embedding_bag(T.tensor([1, 2]), T.ones(5, 2), T.tensor([1])),
                RuntimeError, "offsets[0] has to be 0")
    twin_raises(lambda T: T.nn.functional.embedding_bag(T.tensor([1, 2]), T.ones(5, 2), T.tensor([0]), mode="max",
                                                        per_sample_weights=T.ones(2)), NotImplementedError,
                "embedding_bag: per_sample_weights was not None.")
    twin_raises(lambda T: T.nn.functional.one_hot(T.tensor([0, 5]), 3), RuntimeError,
                "Class values must be smaller than num_classes.")
    twin_raises(lambda T: T.nn.functional.one_hot(T.tensor([-1, 2])), RuntimeError,
                "Class values must be non-negative.")
    twin_raises(lambda T: T.nn.functional.one_hot(T.tensor([0.0])), RuntimeError,
                "one_hot is only applicable to index tensor of type LongTensor.")


def test_one_hot():
    r = twin(lambda T: (T.nn.functional.one_hot(T.tensor([[0, 2], [1, 1]])),
                        T.nn.functional.one_hot(T.tensor([3]), 5)))
    np.testing.assert_array_equal(r[0].numpy(), np.eye(3, dtype=np.int64)[[[0, 2], [1, 1]]])
    assert r[1].tolist() == [[0, 0, 0, 1, 0]]


def test_modules_and_reprs():
    assert repr(nt.nn.Embedding(10, 3)) == "Embedding(10, 3)"
    assert repr(nt.nn.Embedding(10, 3, padding_idx=-2, max_norm=1.0)) == "Embedding(10, 3, padding_idx=8, max_norm=1.0)"
    assert repr(nt.nn.Embedding(10, 3, max_norm=2, norm_type=1.0, scale_grad_by_freq=True, sparse=True)) == \
        "Embedding(10, 3, max_norm=2, norm_type=1.0, scale_grad_by_freq=True, sparse=True)"
    assert repr(nt.nn.EmbeddingBag(10, 3)) == "EmbeddingBag(10, 3, mode='mean')"
    assert repr(nt.nn.EmbeddingBag(10, 3, mode="max", padding_idx=0)) == \
        "EmbeddingBag(10, 3, mode='max', padding_idx=0)"
    e = nt.nn.Embedding(10, 3, padding_idx=-2)
    assert e.padding_idx == 8 and e.weight[8].tolist() == [0.0, 0.0, 0.0] and e.weight.requires_grad
    p = nt.nn.Embedding.from_pretrained(nt.tensor(W))
    assert not p.weight.requires_grad and tuple(p(nt.tensor([3])).shape) == (1, 4)
    assert nt.nn.Embedding.from_pretrained(nt.tensor(W), freeze=False).weight.requires_grad

    def case(T):
        m = T.nn.EmbeddingBag.from_pretrained(T.tensor(W), mode="sum")
        e = T.nn.Embedding(10, 4, _weight=T.tensor(W))
        return m(T.tensor(IDX)), e(T.tensor(IDX))
    twin(case)


def test_parallel_scatter():
    """An index count and width above the parallel threshold: column-blocked scatter-add."""
    idx = RNG.integers(0, 50, 300)
    gy = RNG.standard_normal((300, 128)).astype(np.float32)
    w = nt.tensor(RNG.standard_normal((50, 128)).astype(np.float32), requires_grad=True)
    y = F.embedding(nt.tensor(idx), w)
    np.testing.assert_array_equal(y.detach().numpy(), w.detach().numpy()[idx])
    y.backward(nt.tensor(gy))
    ref = np.zeros((50, 128))
    np.add.at(ref, idx, gy.astype(np.float64))
    np.testing.assert_allclose(w.grad.numpy(), ref, rtol=1e-5, atol=1e-5)


def grads_of(f):
    """inputs -> d f / d inputs with create_graph=True (works under the finite-difference checker's no_grad)."""
    def fn(*xs):
        with nt.enable_grad():
            ys = [x if x.requires_grad else x.detach().requires_grad_() for x in xs]
            return nt.autograd.grad(f(*ys), ys, create_graph=True)
    return fn


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_double_backward(mode):
    w = nt.tensor(W, requires_grad=True)
    idx, offs = nt.tensor([1, 2, 2, 9, 0, 2]), nt.tensor([0, 2, 2])
    check_grad(grads_of(lambda w: (F.embedding_bag(idx, w, offs, mode=mode, padding_idx=0) ** 3).sum()), w)
    if mode == "sum":
        p = nt.tensor(RNG.standard_normal(6), requires_grad=True)
        check_grad(grads_of(lambda w, p: (F.embedding_bag(idx, w, offs, mode="sum", per_sample_weights=p) ** 3).sum()),
                   w, p)
