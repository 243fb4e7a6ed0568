"""F.linear / F.bilinear and Linear / Bilinear / LazyLinear / Identity: values vs NumPy and torch, grad_fn
names per input rank, gradchecks (fused small kernel and BLAS path), PyTorch's errors, reprs."""
import math

import numpy as np
import pytest

import numtorch as nt
from numtorch.kernels import nnlinear as kn
from _fd import check_grad
from _twin import twin, twin_raises

F = nt.nn.functional
RNG = np.random.default_rng(11)
W = RNG.standard_normal((3, 4))
B = RNG.standard_normal(3)


@pytest.mark.parametrize("shape", [(4,), (2, 4), (2, 5, 4), (0, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_values_and_grad_fn(shape, bias):
    x = RNG.standard_normal(shape)

    def case(T):
        w = T.tensor(W, dtype=T.float32, requires_grad=True)
        b = T.tensor(B, dtype=T.float32, requires_grad=True) if bias else None
        return F.linear(T.tensor(x, dtype=T.float32), w, b) if T is nt else \
            T.nn.functional.linear(T.tensor(x, dtype=T.float32), w, b)
    y = twin(case)
    ref = x @ W.T + (B if bias else 0)
    np.testing.assert_allclose(y.detach().numpy(), ref, rtol=1e-5, atol=1e-5)
    assert y.shape == shape[:-1] + (3,)


def test_linear_grad_fn_names():
    w = nt.tensor(W, requires_grad=True)
    b = nt.tensor(B, requires_grad=True)
    names = {shape: (type(F.linear(nt.ones(*shape, dtype=nt.float64), w, b).grad_fn).__name__,
                     type(F.linear(nt.ones(*shape, dtype=nt.float64), w).grad_fn).__name__)
             for shape in [(4,), (2, 4), (2, 5, 4)]}
    assert names == {(4,): ("ViewBackward0", "SqueezeBackward4"), (2, 4): ("AddmmBackward0", "MmBackward0"),
                     (2, 5, 4): ("ViewBackward0", "UnsafeViewBackward0")}
    y = F.linear(nt.ones(2, 5, 4, dtype=nt.float64), w, b)
    assert type(y.grad_fn.next_functions[0][0]).__name__ == "AddmmBackward0"
    # non-contiguous N-D input: matmul then add (PyTorch's AddBackward0)
    xt = nt.ones(5, 2, 4, dtype=nt.float64).transpose(0, 1)
    assert type(F.linear(xt, w, b).grad_fn).__name__ == "AddBackward0"


# the small fused kernel; BLAS + bias pass; small batch: W @ x^T laid out + biased in one pass
@pytest.mark.parametrize("n,k,m", [(3, 4, 2), (40, 30, 20), (8, 50, 60)])
def test_linear_gradcheck(n, k, m):
    assert (n * k * m <= kn.SMALL_MAX) == (n < 5)
    x = nt.tensor(RNG.standard_normal((n, k)), requires_grad=True)
    w = nt.tensor(RNG.standard_normal((m, k)), requires_grad=True)
    b = nt.tensor(RNG.standard_normal(m), requires_grad=True)
    y = F.linear(x, w, b)
    np.testing.assert_allclose(y.detach().numpy(), x.detach().numpy() @ w.detach().numpy().T + b.detach().numpy(),
                               rtol=1e-10)
    if n < 5:
        check_grad(F.linear, x, w, b)
        check_grad(lambda a, c: F.linear(a.transpose(0, 1), c), x.detach().t().contiguous().requires_grad_(), w)
    else:
        g = RNG.standard_normal((n, m))
        gx, gw, gb = nt.autograd.grad(y, (x, w, b), nt.tensor(g))
        np.testing.assert_allclose(gx.numpy(), g @ w.detach().numpy(), rtol=1e-10)
        np.testing.assert_allclose(gw.numpy(), g.T @ x.detach().numpy(), rtol=1e-10)
        np.testing.assert_allclose(gb.numpy(), g.sum(0), rtol=1e-10)


def test_linear_double_backward():
    x = nt.tensor(RNG.standard_normal((2, 3)), requires_grad=True)
    w = nt.tensor(RNG.standard_normal((2, 3)), requires_grad=True)
    assert nt.autograd.gradgradcheck(lambda a, c: F.linear(a, c) ** 2, (x, w))


def test_linear_strided_inputs():
    x = RNG.standard_normal((4, 6))
    w = RNG.standard_normal((3, 5))            # used transposed: a (5, 3) weight with strides (1, 5)
    b = RNG.standard_normal(10)
    for big in (False, True):
        xx = np.tile(x, (30, 1)) if big else x     # the BLAS path needs n * k * m > SMALL_MAX
        ww = np.tile(w, (1, 200)) if big else w
        bb = np.tile(b, 200) if big else b
        y = F.linear(nt.tensor(xx)[:, ::2], nt.tensor(ww).t(), nt.tensor(bb)[::2])
        np.testing.assert_allclose(y.numpy(), xx[:, ::2] @ ww + bb[::2], rtol=1e-12)
        np.testing.assert_allclose(F.linear(nt.tensor(xx)[:, ::2], nt.tensor(ww).t()).numpy(), xx[:, ::2] @ ww,
                                   rtol=1e-12)
    # small batch, wide layer (the transposed-product path), strided bias
    xs, ws, bs = RNG.standard_normal((6, 40)), RNG.standard_normal((100, 40)), RNG.standard_normal(200)
    y = F.linear(nt.tensor(xs), nt.tensor(ws), nt.tensor(bs)[::2])
    np.testing.assert_allclose(y.numpy(), xs @ ws.T + bs[::2], rtol=1e-12)
    np.testing.assert_allclose(F.linear(nt.tensor(xs), nt.tensor(ws)).numpy(), xs @ ws.T, rtol=1e-12)


def test_linear_errors():
    def bad_shape(T):
        return T.nn.functional.linear(T.ones(2, 5), T.ones(3, 4), T.ones(3))
    twin_raises(bad_shape, RuntimeError, "mat1 and mat2 shapes cannot be multiplied (2x5 and 4x3)")
    twin_raises(lambda T: T.nn.functional.linear(T.ones(2, 3, 5), T.ones(3, 4)), RuntimeError,
                "mat1 and mat2 shapes cannot be multiplied (6x5 and 4x3)")
    twin_raises(lambda T: T.nn.functional.linear(T.ones(2, 4, dtype=T.long), T.ones(3, 4), T.ones(3)), RuntimeError,
                "mat1 and mat2 must have the same dtype, but got Long and Float")
    twin_raises(lambda T: T.nn.functional.linear(T.ones(2, 4, dtype=T.float64), T.ones(3, 4)), RuntimeError,
                "expected m1 and m2 to have the same dtype, but got: double != float")
    twin_raises(lambda T: T.nn.functional.linear(T.ones(5, 2, 4, dtype=T.long), T.ones(3, 4)), RuntimeError,
                "expected m1 and m2 to have the same dtype, but got: long int != float")
    twin_raises(lambda T: T.nn.functional.linear(T.tensor(1.0), T.ones(3, 4)), RuntimeError,
                "both arguments to linear need to be at least 1D, but they are 0D and 2D")
    twin_raises(lambda T: T.nn.Linear(4, 3)(T.ones(2, 4, dtype=T.long)), RuntimeError,
                "mat1 and mat2 must have the same dtype, but got Long and Float")
    for shape in [(2, 4), (5, 2, 4), (4,)]:
        twin_raises(lambda T: T.nn.functional.linear(T.ones(*shape), T.ones(3, 4), T.ones(3, dtype=T.float64)),
                    RuntimeError, "self and mat2 must have the same dtype, but got Double and Float")
    twin_raises(lambda T: T.nn.functional.linear(T.ones(2, 4), T.ones(4), T.ones(1)), RuntimeError,
                "mat2 must be a matrix, got 1-D tensor")
    # non-contiguous N-D input: matmul then an in-place bias add (the product's dtype stays)
    y = twin(lambda T: T.nn.functional.linear(T.ones(5, 2, 4).transpose(0, 1), T.ones(3, 4),
                                              T.ones(3, dtype=T.float64)))
    assert y.dtype is nt.float32 and y.shape == (2, 5, 3) and (y.numpy() == 5).all()


def test_linear_module():
    nt.manual_seed(0)
    m = nt.nn.Linear(4, 3)
    assert repr(m) == "Linear(in_features=4, out_features=3, bias=True)"
    assert repr(nt.nn.Linear(4, 3, bias=False)) == "Linear(in_features=4, out_features=3, bias=False)"
    assert m.weight.shape == (3, 4) and m.bias.shape == (3,) and m.bias.requires_grad
    assert nt.nn.Linear(4, 3, bias=False).bias is None
    assert nt.nn.Linear(2, 2, dtype=nt.float64).weight.dtype is nt.float64
    big = nt.nn.Linear(100, 300)
    w, b = big.weight.detach().numpy(), big.bias.detach().numpy()
    assert np.abs(w).max() <= 0.1 and np.abs(w).max() > 0.099 and np.abs(b).max() <= 0.1
    assert abs(w.std() - 0.1 / math.sqrt(3)) < 0.002
    y = m(nt.ones(5, 4))
    assert type(y.grad_fn).__name__ == "AddmmBackward0"
    y.sum().backward()
    np.testing.assert_allclose(m.weight.grad.numpy(), np.full((3, 4), 5.0))
    np.testing.assert_allclose(m.bias.grad.numpy(), np.full(3, 5.0))


def test_identity_bilinear_lazy():
    assert repr(nt.nn.Identity(3, k=1)) == "Identity()"
    x = nt.ones(2)
    assert nt.nn.Identity()(x) is x
    nt.manual_seed(0)
    bl = nt.nn.Bilinear(2, 3, 4)
    assert repr(bl) == "Bilinear(in1_features=2, in2_features=3, out_features=4, bias=True)"
    assert bl.weight.shape == (4, 2, 3) and np.abs(bl.weight.detach().numpy()).max() <= 1 / math.sqrt(2)
    a, c = RNG.standard_normal((5, 2)), RNG.standard_normal((5, 3))
    y = bl(nt.tensor(a, dtype=nt.float32), nt.tensor(c, dtype=nt.float32))
    ref = np.einsum("ni,oij,nj->no", a, bl.weight.detach().numpy(), c) + bl.bias.detach().numpy()
    np.testing.assert_allclose(y.detach().numpy(), ref, rtol=1e-5, atol=1e-5)
    x1 = nt.tensor(a, requires_grad=True)
    x2 = nt.tensor(c, requires_grad=True)
    wt = nt.tensor(RNG.standard_normal((4, 2, 3)), requires_grad=True)
    bt = nt.tensor(RNG.standard_normal(4), requires_grad=True)
    check_grad(F.bilinear, x1, x2, wt, bt)
    twin_raises(lambda T: T.nn.functional.bilinear(T.ones(5, 2), T.ones(4, 3), T.ones(4, 2, 3)), RuntimeError,
                "bilinear(): input batch dimensions do not match")
    lz = nt.nn.LazyLinear(3)
    assert repr(lz) == "LazyLinear(in_features=0, out_features=3, bias=True)"
    out = lz(nt.ones(2, 7))
    assert type(lz) is nt.nn.Linear and repr(lz) == "Linear(in_features=7, out_features=3, bias=True)"
    assert out.shape == (2, 3) and lz.weight.shape == (3, 7)
    assert [n for n, _ in lz.named_parameters()] == ["weight", "bias"]
    src = nt.nn.Linear(5, 3)
    lz2 = nt.nn.LazyLinear(3)
    assert repr(lz2.load_state_dict(src.state_dict())) == "<All keys matched successfully>"
    np.testing.assert_array_equal(lz2(nt.ones(2, 5)).detach().numpy(), src(nt.ones(2, 5)).detach().numpy())
    assert type(lz2) is nt.nn.Linear


def test_bilinear_twin_grad_fn():
    a, c, w, b = (RNG.standard_normal(s) for s in [(3, 5, 2), (3, 5, 3), (4, 2, 3), (4,)])

    def case(T, bias=True):
        y = T.nn.functional.bilinear(T.tensor(a, requires_grad=True), T.tensor(c), T.tensor(w, requires_grad=True),
                                     T.tensor(b) if bias else None)
        return y
    y = twin(case)
    assert type(y.grad_fn).__name__ == "AddBackward0"
    assert type(twin(lambda T: case(T, False)).grad_fn).__name__ == "ViewBackward0"
    np.testing.assert_allclose(y.detach().numpy(), np.einsum("xni,oij,xnj->xno", a, w, c) + b, rtol=1e-10)


def test_uninitialized_parameter():
    import copy
    import pickle
    from numtorch.nn.parameter import is_lazy
    lz = nt.nn.LazyLinear(3)
    w = lz.weight
    assert repr(w) == "<UninitializedParameter>" and isinstance(w, nt.nn.Parameter) and is_lazy(w)
    assert str(type(w)) == "<class 'torch.nn.parameter.UninitializedParameter'>"
    assert repr(copy.deepcopy(lz)) == "LazyLinear(in_features=0, out_features=3, bias=True)"
    lz2 = pickle.loads(pickle.dumps(lz))
    assert repr(lz2.bias) == "<UninitializedParameter>"
    lz(nt.ones(1, 4))
    assert lz.weight is w and type(w) is nt.nn.Parameter and w.shape == (3, 4) and not is_lazy(w)
    p = nt.nn.UninitializedParameter()
    p.materialize((2, 3), dtype=nt.float64)
    assert type(p) is nt.nn.Parameter and p.shape == (2, 3) and p.dtype is nt.float64 and p.requires_grad
