"""Issue 10 families: constructors never lose a digit, Tensor.where, exact prod/cumprod gradients with zeros,
randint overloads, error classes, argument aliases, indexing sequences, hasattr, torch.testing."""
import numpy as np
import pytest

import numtorch as nt
from _twin import twin, twin_raises

VALUES = [0.1, 1e40, -2.5e-310, 1 / 3, 2.0 ** 53 + 1, 65504.7, 1e-8, 0.0]
INTS = [2 ** 53 + 1, -(2 ** 63), 2 ** 63 - 1, 12345678901234567]


def _bits(t):
    a = t.numpy()
    return a.view({8: np.uint64, 4: np.uint32, 2: np.uint16, 1: np.uint8}[a.itemsize])


@pytest.mark.parametrize("dt", ["float64", "float32", "float16"])
@pytest.mark.parametrize("path", ["tensor", "nested", "legacy", "new_tensor", "as_tensor"])
def test_python_floats_convert_once(dt, path):
    d = getattr(nt, dt)
    with np.errstate(over="ignore"):
        want = np.array(VALUES, dtype=getattr(np, dt))
    make = {"tensor": lambda: nt.tensor(VALUES, dtype=d),
            "nested": lambda: nt.tensor([[v] for v in VALUES], dtype=d).reshape(-1),
            "legacy": lambda: {"float64": nt.DoubleTensor, "float32": nt.FloatTensor,
                               "float16": nt.HalfTensor}[dt](VALUES),
            "new_tensor": lambda: nt.zeros(1, dtype=nt.int64).new_tensor(VALUES, dtype=d),
            "as_tensor": lambda: nt.as_tensor(VALUES, dtype=d)}[path]
    np.testing.assert_array_equal(_bits(make()), want.view(_bits(nt.tensor(want)).dtype))


def test_int64_beyond_2_53_and_bool():
    assert nt.tensor(INTS).tolist() == INTS
    assert nt.tensor(INTS, dtype=nt.int64).tolist() == INTS
    assert nt.tensor([0.0, 2.5, -0.1], dtype=nt.bool).tolist() == [False, True, True]
    assert nt.tensor([1.7, -1.7], dtype=nt.int64).tolist() == [1, -1]


def test_scalar_paths_keep_float64():
    x = nt.zeros(3, dtype=nt.float64)
    x[0] = 0.1
    x[1:2] = 1e40
    assert x.tolist() == [0.1, 1e40, 0.0]
    assert nt.full((2,), 0.1, dtype=nt.float64).tolist() == [0.1, 0.1]
    assert (nt.zeros(1, dtype=nt.float64) + 0.1).item() == 0.1
    assert nt.zeros(2, dtype=nt.float64).fill_(0.1).tolist() == [0.1, 0.1]
    assert nt.zeros(2, dtype=nt.float64).masked_fill(nt.tensor([True, False]), 0.1).tolist() == [0.1, 0.0]
    assert (nt.zeros(1, dtype=nt.int64) + (2 ** 53 + 1)).item() == 2 ** 53 + 1
    np.testing.assert_array_equal(nt.tensor(np.array([0.1, 1e40])).numpy(), [0.1, 1e40])


def test_tensor_where_method():
    def case(T):
        x = T.tensor([1., -2., 3.])
        return x.where(T.tensor([True, False, True]), T.tensor(0.))
    assert twin(case).tolist() == [1.0, 0.0, 3.0]


@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, False), (1, True), (-1, True)])
def test_prod_gradient_with_zeros(dim, keepdim):
    a = np.array([[2., 0., 3., 0.5], [0., 0., 1., 2.], [1.5, 2., 3., 4.]])

    def case(T):
        x = T.tensor(a, requires_grad=True)
        y = x.prod() if dim is None else x.prod(dim, keepdim=keepdim)
        (g,) = T.autograd.grad(y.sum(), x, create_graph=True)
        (gg,) = T.autograd.grad(g.sum(), x)
        return g.detach(), gg
    g, gg = twin(case)
    assert not np.isnan(g.numpy()).any() and not np.isnan(gg.numpy()).any()
    x = nt.tensor(a, requires_grad=True)
    f = (lambda t: t.prod()) if dim is None else (lambda t: t.prod(dim, keepdim=keepdim))
    assert nt.autograd.gradcheck(f, (x,)) and nt.autograd.gradgradcheck(f, (x,))


def test_prod_gradient_values_by_hand():
    x = nt.tensor([2., 0., 3.], dtype=nt.float64, requires_grad=True)
    x.prod().backward()
    assert x.grad.tolist() == [0.0, 6.0, 0.0]
    x = nt.tensor([0., 0., 3.], dtype=nt.float64, requires_grad=True)
    x.prod().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_cumprod_gradient_with_zeros():
    x = nt.tensor([[2., 0., 3., 0.], [1., 2., 0., 4.]], dtype=nt.float64, requires_grad=True)
    for d in (0, 1):
        assert nt.autograd.gradcheck(lambda t: t.cumprod(d), (x,))
        assert nt.autograd.gradgradcheck(lambda t: t.cumprod(d), (x,))


@pytest.mark.parametrize("call", [
    lambda T: T.randint(5, (3,)), lambda T: T.randint(2, 5, (3,)), lambda T: T.randint(high=5, size=(3,)),
    lambda T: T.randint(low=1, high=5, size=(3,)), lambda T: T.randint(5, size=[2]),
    lambda T: T.randint(5, (3,), dtype=T.int32), lambda T: T.randint(5, (2, 2), dtype=T.float32)])
def test_randint_overloads(call):
    r = call(nt)
    try:
        import torch
        ref = call(torch)
        assert tuple(r.shape) == tuple(ref.shape) and str(r.dtype) == str(ref.dtype)
    except ImportError:
        pass
    v = r.numpy()
    assert (v >= 0).all() and (v < 5).all()


def test_randint_errors():
    twin_raises(lambda T: T.randint(5), TypeError, "randint() received an invalid combination of arguments")
    twin_raises(lambda T: T.randint(5, 3), TypeError, "randint(): argument 'size' (position 2) must be tuple of ints")
    twin_raises(lambda T: T.randint(2.5, (2,)), TypeError, "randint(): argument 'high' (position 1) must be int")
    twin_raises(lambda T: T.randint(5, (3,), requires_grad=True), RuntimeError, "Only Tensors of floating point")
    twin_raises(lambda T: T.randint(3, 1, (2,)), RuntimeError, "random_ expects 'from' to be less than 'to'")
    assert nt.randint(5, (3,), dtype=nt.float32, requires_grad=True).requires_grad
    g = nt.Generator().manual_seed(3)
    a = nt.randint(0, 100, (5,), generator=g)
    g.manual_seed(3)
    assert nt.randint(0, 100, (5,), generator=g).tolist() == a.tolist()


def test_error_classes():
    twin_raises(lambda T: float(T.ones(2)), ValueError, "only one element tensors can be converted")
    twin_raises(lambda T: int(T.ones(2)), ValueError, "only one element tensors can be converted")
    twin_raises(lambda T: bool(T.ones(2)), RuntimeError, "Boolean value of Tensor with more than one value")
    twin_raises(lambda T: T.zeros(2, dtype="float32"), TypeError, "zeros(): argument 'dtype' must be torch.dtype")
    twin_raises(lambda T: T.tensor([1.], dtype="float64"), TypeError, "tensor(): argument 'dtype' must be")
    twin_raises(lambda T: T.ones(2, dtype=np.float64), TypeError, "ones(): argument 'dtype' must be torch.dtype")
    assert nt.zeros(2, dtype=float).dtype is nt.float64 and nt.zeros(2, dtype=bool).dtype is nt.bool


def test_numpy_style_aliases():
    def case(T):
        x = T.tensor([[1., 5., 2.], [4., 0., 6.]])
        return (x.sum(1, keepdims=True), x.sum(axis=0), T.sum(x, axis=1, keepdims=True), x.mean(axis=(0, 1)),
                x.argmax(axis=1), x.max(axis=1, keepdims=True).values, T.cat([x, x], axis=0),
                T.stack([x, x], axis=1), x.std(dim=[0, 1]), T.matmul(input=x, other=x.t()),
                T.add(input=x, other=x), x.squeeze(axis=0))
    twin(case)


def test_unknown_keyword_is_a_type_error():
    twin_raises(lambda T: T.ones(2, 3).sum(foo=1), TypeError)


def test_indexing_with_any_sequence():
    def case(T):
        y = T.arange(12).reshape(3, 4)
        z = T.zeros(3, 4)
        z[range(2), [1, 2]] = 5.
        return (y[range(2)], y[range(2), [1, 2]], y[range(1, 3), 1:], y[np.int64(1)],
                y[np.array([[0], [2]]), np.array([1, 3])], y[..., np.array([True, False, True, False])],
                y[([0, 1], [1, 2])], y[..., [0, 1]], y[np.array([0, 2])], z)
    twin(case)


def test_hasattr_for_missing_and_lazy_names():
    assert not hasattr(nt, "no_such_function")
    for name in ("cuda", "linalg", "testing", "nn", "autograd"):
        assert hasattr(nt, name), name
    for name in sorted(nt._LAZY_MODULES):
        try:
            getattr(nt, name)
        except AttributeError:
            pass                      # not built yet: hasattr says False instead of raising ImportError


CLOSE_CASES = [
    lambda T: T.testing.assert_close(T.tensor([1., 2., 3.]), T.tensor([1., 2.1, 3.])),
    lambda T: T.testing.assert_close(T.tensor([1, 2]), T.tensor([1, 3])),
    lambda T: T.testing.assert_close(T.tensor([1., 2.]), T.tensor([1., 2., 3.])),
    lambda T: T.testing.assert_close(T.tensor([1., 2.]), T.tensor([1., 2.], dtype=T.float64)),
    lambda T: T.testing.assert_close(1.0, 1.1),
    lambda T: T.testing.assert_close([T.tensor(1.)], [T.tensor(2.)]),
    lambda T: T.testing.assert_close({"a": T.tensor(1.)}, {"a": T.tensor(2.)}),
    lambda T: T.testing.assert_close(T.tensor([float("nan")]), T.tensor([float("nan")])),
    lambda T: T.testing.assert_close(T.tensor([[1., 2.], [3., 4.]]), T.tensor([[1., 2.], [3., 5.]])),
    lambda T: T.testing.assert_close(T.tensor([1., 2.]), T.tensor([1., 2.5]), rtol=0.1, atol=0),
    lambda T: T.testing.assert_close(1, 2),
]

CLOSE_MESSAGES = [
    "Tensor-likes are not close!\n\nMismatched elements: 1 / 3 (33.3%)\nGreatest absolute difference: "
    "0.09999990463256836 at index (1,) (up to 1e-05 allowed)\nGreatest relative difference: 0.04761900380253792 at "
    "index (1,) (up to 1.3e-06 allowed)",
    "Tensor-likes are not equal!\n\nMismatched elements: 1 / 2 (50.0%)\nGreatest absolute difference: 1 at index "
    "(1,)\nGreatest relative difference: 0.3333333432674408 at index (1,)",
    "The values for attribute 'shape' do not match: torch.Size([2]) != torch.Size([3]).",
    "The values for attribute 'dtype' do not match: torch.float32 != torch.float64.",
    "Scalars are not close!\n\nExpected 1.1 but got 1.0.\nAbsolute difference: 0.10000000000000009 (up to 1e-07 "
    "allowed)\nRelative difference: 0.09090909090909098 (up to 1e-07 allowed)",
    "Scalars are not close!\n\nExpected 2.0 but got 1.0.\nAbsolute difference: 1.0 (up to 1e-05 allowed)\nRelative "
    "difference: 0.5 (up to 1.3e-06 allowed)\n\nThe failure occurred for item [0]",
    "Scalars are not close!\n\nExpected 2.0 but got 1.0.\nAbsolute difference: 1.0 (up to 1e-05 allowed)\nRelative "
    "difference: 0.5 (up to 1.3e-06 allowed)\n\nThe failure occurred for item ['a']",
    "Tensor-likes are not close!\n\nMismatched elements: 1 / 1 (100.0%)\nGreatest absolute difference: nan at index "
    "(0,) (up to 1e-05 allowed)\nGreatest relative difference: nan at index (0,) (up to 1.3e-06 allowed)",
    "Tensor-likes are not close!\n\nMismatched elements: 1 / 4 (25.0%)\nGreatest absolute difference: 1.0 at index "
    "(1, 1) (up to 1e-05 allowed)\nGreatest relative difference: 0.20000000298023224 at index (1, 1) (up to 1.3e-06 "
    "allowed)",
    "Tensor-likes are not close!\n\nMismatched elements: 1 / 2 (50.0%)\nGreatest absolute difference: 0.5 at index "
    "(1,) (up to 0 allowed)\nGreatest relative difference: 0.20000000298023224 at index (1,) (up to 0.1 allowed)",
    "Scalars are not equal!\n\nExpected 2 but got 1.\nAbsolute difference: 1\nRelative difference: 0.5",
]


@pytest.mark.parametrize("i", range(len(CLOSE_CASES)))
def test_assert_close_report(i):
    with pytest.raises(AssertionError) as info:
        CLOSE_CASES[i](nt)
    assert str(info.value) == CLOSE_MESSAGES[i]


def test_assert_close_passes_and_make_tensor():
    nt.testing.assert_close(nt.tensor([1., 2.]), nt.tensor([1., 2.000001]))
    nt.testing.assert_close(nt.tensor([float("nan")]), nt.tensor([float("nan")]), equal_nan=True)
    with pytest.raises(AssertionError, match="custom"):
        nt.testing.assert_close(nt.tensor(1.), nt.tensor(2.), msg="custom")
    with pytest.raises(ValueError, match="Both 'rtol' and 'atol'"):
        nt.testing.assert_close(nt.tensor(1.), nt.tensor(1.), rtol=0.1)
    t = nt.testing.make_tensor((2, 3), dtype=nt.float32, device="cpu")
    assert t.shape == (2, 3) and t.dtype is nt.float32 and (t.abs() <= 9).all()
    i = nt.testing.make_tensor((50,), dtype=nt.int64, device="cpu", low=0, high=5)
    assert (i >= 0).all() and (i < 5).all()
    n = nt.testing.make_tensor((3, 4), dtype=nt.float64, device="cpu", noncontiguous=True)
    assert not n.is_contiguous() and n.shape == (3, 4)


def test_signed_zero_scalars_are_not_conflated():
    # 0.0 and -0.0 compare equal: a cache keyed on the scalar must not hand one out for the other.
    x = nt.ones(3)
    for z in (0.0, -0.0, np.float32(0.0), np.float32(-0.0), 0.0, -0.0):
        r = (x * z).numpy()
        assert np.array_equal(np.signbit(r), np.signbit(np.ones(3, np.float32) * np.float32(z))), z
        r = (x.double() + z - 1).numpy()
        assert np.array_equal(np.signbit(r), np.signbit(np.ones(3) + float(z) - 1)), z


def test_view_dtype_reinterprets_bytes():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    x = nt.from_numpy(a.copy())
    np.testing.assert_array_equal(x.view(nt.int32).numpy(), a.view(np.int32))
    np.testing.assert_array_equal(x.view(nt.int16).numpy(), a.view(np.int16))
    assert x.view(nt.int16).stride() == (6, 1)
    np.testing.assert_array_equal(x.view(nt.int8)[:, 4:].view(nt.int32).numpy(), a[:, 1:].view(np.int32))
    w = x.view(nt.int32)
    w[0, 0] = 1065353216                       # the bits of 1.0f: the view shares memory
    assert x[0, 0].item() == 1.0
    for f, msg in ((lambda: x.view(nt.float64), "self.size(-1) must be divisible by 2 to view Float as Double"),
                   (lambda: x.t().view(nt.int16), "self.stride(-1) must be 1 to view Float as Short"),
                   (lambda: nt.tensor(1.).view(nt.int16), "self.dim() cannot be 0 to view Float as Short"),
                   (lambda: x[:, 1:].view(nt.float64), "self.storage_offset() must be divisible by 2")):
        with pytest.raises(RuntimeError, match=msg.replace("(", r"\(").replace(")", r"\)")):
            f()
    assert not nt.ones(2, requires_grad=True).view(nt.float32).requires_grad


def test_python_int_operands_wrap_like_pytorch():
    # An int operand goes through int64: beyond it OverflowError; into a narrower int dtype it wraps.
    assert (nt.tensor([1], dtype=nt.int8) + 1000).tolist() == [-23]
    assert (nt.tensor([1], dtype=nt.int32) * 2 ** 40).tolist() == [0]
    assert (nt.tensor([3], dtype=nt.uint8) - 5).tolist() == [254]
    x = nt.tensor([1], dtype=nt.int8)
    x.add_(1000)
    assert x.tolist() == [-23]
    for f in (lambda: nt.tensor([1]) + 2 ** 70, lambda: nt.tensor([1.0]) + 2 ** 70):
        with pytest.raises(OverflowError, match="int too big to convert"):
            f()
    assert (nt.tensor([1.0]) * 1e300).tolist() == [float("inf")]
