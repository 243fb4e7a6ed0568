"""Generated from the op table: every elementwise op x dtype x layout against its NumPy reference."""
import threading

import numpy as np
import pytest

import numtorch as nt
from numtorch.optable import ALWAYS_BOOL, INT_ONLY, INT_TO_FLOAT, KEEP_INT, OPS, REJECT

try:
    from hypothesis import given, settings, strategies as st
except ImportError:          # pragma: no cover
    given = None

LAYOUTS = ["contiguous", "transposed", "step", "broadcast", "0d", "empty"]
UNARY = [o for o in OPS.values() if o.arity == 1 and o.ref is not None]
BINARY = [o for o in OPS.values() if o.arity == 2 and o.ref is not None]


def _data(op, dtype, shape, rng, second=False):
    lo, hi = op.domain
    if dtype is np.bool_:
        return rng.random(shape) > 0.5
    if np.issubdtype(dtype, np.integer):
        lo_i = 1 if op.name in ("floor_divide", "remainder", "fmod", "div") and second else int(min(lo, -3))
        hi_i = 4 if op.name in ("pow",) else 6
        a = rng.integers(max(lo_i, 0) if op.name in ("pow", "bitwise_left_shift", "bitwise_right_shift") else lo_i,
                         hi_i, shape)
        return a.astype(dtype)
    a = rng.uniform(lo, hi, shape).astype(dtype)
    if second and op.name in ("div", "floor_divide", "remainder", "fmod"):
        a = np.where(np.abs(a) < 0.3, 0.5, a).astype(dtype)
    if op.name == "pow" and not second:
        a = np.abs(a) + 0.5
    return a.astype(dtype)


def _layout(arr, layout):
    """(numtorch tensor, matching NumPy array) for a layout built from arr of shape (3, 4)."""
    t = nt.from_numpy(np.ascontiguousarray(arr))
    if layout == "contiguous":
        return t, arr
    if layout == "transposed":
        return t.t(), arr.T
    if layout == "step":
        return t[:, ::2], arr[:, ::2]
    if layout == "broadcast":
        return t[:1].expand(3, 4), np.broadcast_to(arr[:1], (3, 4))
    if layout == "0d":
        return t[1, 2], arr[1, 2]
    return t[:0], arr[:0]


def _dtypes(op):
    rej = REJECT.get(op.name, ("", ""))[0]
    if op.promote is INT_ONLY:
        return [np.int64] + ([np.bool_] if "b" not in rej else [])
    if "i" in rej:
        return [np.float32, np.float64]
    if op.name in ("logical_not", "logical_and", "logical_or", "logical_xor"):
        return [np.float32, np.bool_]
    return [np.float32, np.float64, np.int64]


def _expected_dtype(op, npdt):
    if op.promote is ALWAYS_BOOL:
        return np.bool_
    if op.promote is INT_TO_FLOAT and not np.issubdtype(npdt, np.floating):
        return np.float32
    return npdt


def _check(op, got, ref, npdt):
    assert got.dtype.np == _expected_dtype(op, npdt), (op.name, got.dtype)
    exp = np.asarray(ref).astype(got.dtype.np)
    g = got.numpy()
    assert g.shape == exp.shape
    if got.dtype.is_floating_point:
        tol = 2e-6 if got.dtype is nt.float32 else 1e-12
        np.testing.assert_allclose(g, exp, rtol=tol * 10, atol=tol, equal_nan=True)
    else:
        np.testing.assert_array_equal(g, exp)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("op", UNARY, ids=lambda o: o.name)
def test_unary(op, layout):
    rng = np.random.default_rng(1)
    for npdt in _dtypes(op):
        if op.promote is KEEP_INT and npdt is np.int64:
            continue
        if npdt is np.int64 and op.name in ("sqrt", "rsqrt", "log", "log2", "log10", "acosh", "reciprocal", "atanh",
                                            "asin", "acos", "log1p"):
            continue
        arr = _data(op, npdt, (3, 4), rng)
        t, a = _layout(arr, layout)
        with np.errstate(all="ignore"):
            ref = op.ref(np.asarray(a).astype(np.float64) if op.promote is INT_TO_FLOAT else a)
        _check(op, getattr(nt, op.name)(t), ref, npdt)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("op", BINARY, ids=lambda o: o.name)
def test_binary(op, layout):
    rng = np.random.default_rng(2)
    for npdt in _dtypes(op):
        if op.promote is INT_TO_FLOAT and npdt is np.int64 and op.name in ("copysign",):
            continue
        a_arr = _data(op, npdt, (3, 4), rng)
        b_arr = _data(op, npdt, (3, 4), rng, second=True)
        ta, na = _layout(a_arr, layout)
        tb, nb = _layout(b_arr, "contiguous" if layout != "0d" else "0d")
        if layout in ("transposed",):
            tb, nb = _layout(b_arr, "transposed")
        if layout == "step":
            tb, nb = _layout(b_arr, "step")
        if layout == "empty":
            tb, nb = _layout(b_arr, "empty")
        with np.errstate(all="ignore"):
            ref = op.ref(np.asarray(na).astype(np.float64), np.asarray(nb).astype(np.float64)) \
                if op.promote is INT_TO_FLOAT else op.ref(na, nb)
        _check(op, getattr(nt, op.name)(ta, tb), ref, npdt)


@pytest.mark.parametrize("op", UNARY + BINARY, ids=lambda o: o.name)
def test_dtype_rules_match_torch(op):
    torch = pytest.importorskip("torch")
    for name in ("bool", "uint8", "int32", "int64", "float16", "float32", "float64"):
        x = nt.ones(2, dtype=getattr(nt, name))
        tx = torch.ones(2, dtype=getattr(torch, name))
        fn, tfn = getattr(nt, op.name), getattr(torch, op.name)
        args, targs = ((x,), (tx,)) if op.arity == 1 else ((x, x), (tx, tx))
        try:
            expected = str(tfn(*targs).dtype)
        except (RuntimeError, TypeError, NotImplementedError) as e:
            with pytest.raises(type(e)):
                fn(*args)
            continue
        assert str(fn(*args).dtype) == expected, (op.name, name)


def test_broadcasting_and_errors():
    a = nt.tensor([[1, 2], [3, 4]])
    assert (a + nt.tensor([10, 20])).tolist() == [[11, 22], [13, 24]]
    assert (a + nt.tensor([[10], [20]])).tolist() == [[11, 12], [23, 24]]
    assert (nt.zeros(5, 1, 4, 1) + nt.zeros(3, 1, 1)).shape == (5, 3, 4, 1)
    assert (nt.zeros(0, 3) + nt.zeros(1, 3)).shape == (0, 3)
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size of tensor b \(4\) at "
                                           r"non-singleton dimension 1"):
        nt.zeros(2, 3) + nt.zeros(2, 4)


def test_operators_and_reflected():
    x = nt.tensor([1.0, 2.0, 4.0])
    np.testing.assert_allclose((2 * x).numpy(), [2, 4, 8])
    np.testing.assert_allclose((1 / x).numpy(), [1, 0.5, 0.25])
    np.testing.assert_allclose((2 ** x).numpy(), [2, 4, 16])
    np.testing.assert_allclose((1 - x).numpy(), [0, -1, -3])
    assert (-nt.tensor([-7]) // 2).tolist() == [3] and (nt.tensor([-7]) // 2).tolist() == [-4]
    assert (nt.tensor([-7]) % 3).tolist() == [2] and nt.fmod(nt.tensor([-7]), 3).tolist() == [-1]
    assert (~nt.tensor([True, False])).tolist() == [False, True] and (~nt.tensor([0, 1])).tolist() == [-1, -2]
    assert (nt.tensor([1, 2]) == None) is False  # noqa: E711
    assert nt.equal(nt.tensor([1, 2]), nt.tensor([1, 2])) is True


def test_division_rules():
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        nt.tensor([1, 2]) // 0
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        nt.tensor([1, 2]) % nt.tensor([1, 0])
    r = nt.tensor([1, 0, -1]) / 0
    assert r.tolist()[0] == float("inf") and np.isnan(r.tolist()[1]) and r.tolist()[2] == float("-inf")
    assert nt.div(nt.tensor([-7, 7]), 2, rounding_mode="trunc").tolist() == [-3, 3]
    assert nt.div(nt.tensor([-7.0, 7.0]), 2, rounding_mode="floor").tolist() == [-4.0, 3.0]
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed."):
        nt.tensor([2]) ** -1


def test_integer_overflow_wraps():
    x = nt.tensor([2 ** 62], dtype=nt.int64)
    assert (x * 4).tolist() == [0]
    assert (nt.tensor([127], dtype=nt.int8) + 1).tolist() == [-128]


def test_nan_propagation():
    n = float("nan")
    x = nt.tensor([1.0, n, 3.0])
    assert np.isnan(nt.maximum(x, nt.zeros(3)).tolist()[1])
    assert np.isnan(x.clamp(0, 2).tolist()[1]) and np.isnan(x.relu().tolist()[1])
    assert nt.fmax(x, nt.zeros(3)).tolist()[1] == 0.0
    assert np.isnan(x.max().item())


def test_inplace_rules():
    x = nt.zeros(2, 3)
    v = x[0]
    v.add_(1)
    assert x.tolist() == [[1, 1, 1], [0, 0, 0]] and x._version == 1
    i = nt.tensor([1, 2])
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        i.add_(1.5)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        i += 1.5
    f = nt.tensor([1.0, 2.0])
    f.add_(nt.tensor([1, 1]))
    assert f.tolist() == [2.0, 3.0]
    with pytest.raises(RuntimeError, match=r"output with shape \[1, 3\] doesn't match the broadcast shape \[2, 3\]"):
        nt.zeros(1, 3).add_(nt.zeros(2, 3))
    a = nt.tensor([[1, 2], [3, 4]])
    a.mul_(nt.tensor([[2, 2], [3, 3]]))
    assert a.tolist() == [[2, 4], [9, 12]]
    y = nt.ones(3)
    y += 2
    y *= y
    assert y.tolist() == [9.0, 9.0, 9.0]


def test_out_argument():
    out = nt.empty(3)
    r = nt.add(nt.ones(3), 1, out=out)
    assert r is out and out.tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(RuntimeError, match="can't be cast"):
        nt.add(nt.ones(3), 1, out=nt.empty(3, dtype=nt.int64))


def test_clamp_round_misc():
    x = nt.tensor([-1.5, 0.5, 2.5])
    assert x.clamp(min=0).tolist() == [0, 0.5, 2.5] and x.clamp(max=1).tolist() == [-1.5, 0.5, 1]
    assert x.clamp(nt.tensor([0.0, 0.0, 0.0]), nt.tensor([1.0, 1.0, 1.0])).tolist() == [0, 0.5, 1]
    assert nt.round(x).tolist() == [-2.0, 0.0, 2.0]
    assert nt.round(nt.tensor([1.2345]), decimals=2).tolist()[0] == pytest.approx(1.23)
    assert nt.nan_to_num(nt.tensor([float("nan"), float("inf")]), posinf=5.0).tolist() == [0.0, 5.0]
    assert nt.where(nt.tensor([True, False]), nt.tensor([1, 2]), nt.tensor([3.0, 4.0])).tolist() == [1.0, 4.0]
    assert nt.lerp(nt.zeros(2), nt.ones(2), 0.25).tolist() == [0.25, 0.25]
    assert nt.allclose(nt.tensor([1.0]), nt.tensor([1.0 + 1e-9]))
    assert nt.isclose(nt.tensor([1.0, float("nan")]), nt.tensor([1.0, float("nan")]), equal_nan=True).all()


def test_threads_run_ops_concurrently():
    big = nt.rand(300_000)
    expect = float((big * 2 + 1).sum())
    errors = []

    def work():
        try:
            for _ in range(20):
                s = float((big * 2 + 1).sum())
                if abs(s - expect) > 1e-3 * abs(expect):
                    errors.append(s)
        except Exception as e:        # pragma: no cover
            errors.append(e)
    ts = [threading.Thread(target=work) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors


if given is not None:
    @settings(max_examples=25, deadline=None)
    @given(st.lists(st.integers(1, 4), min_size=0, max_size=3), st.lists(st.integers(1, 4), min_size=0, max_size=3),
           st.data())
    def test_hypothesis_broadcast(sa, sb, data):
        sb = [b if data.draw(st.booleans()) else 1 for b in sb]
        sa = [a if data.draw(st.booleans()) else 1 for a in sa]
        try:
            expected = np.broadcast_shapes(tuple(sa), tuple(sb))
        except ValueError:
            with pytest.raises(RuntimeError):
                nt.zeros(sa) + nt.zeros(sb)
            return
        a = np.arange(int(np.prod(sa)), dtype=np.float64).reshape(sa)
        b = np.arange(int(np.prod(sb)), dtype=np.float64).reshape(sb) * 10
        got = nt.tensor(a) * nt.tensor(b) + nt.tensor(a)
        assert got.shape == expected
        np.testing.assert_allclose(got.numpy(), a * b + a)
