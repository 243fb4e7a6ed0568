"""CUDA twins of the copy/cast and index kernels against the CPU entry points (simulator by default)."""
import numpy as np
import pytest

cuda = pytest.importorskip("numtorch.kernels.cuda")   # skips if numba.cuda unusable

from numba import cuda as nc  # noqa: E402

from numtorch.kernels import copy as kc  # noqa: E402
from numtorch.kernels import index as ki  # noqa: E402

# NumPy under the simulator warns on the wrapping casts/arithmetic that a GPU does silently
pytestmark = [pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning"),
              pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")]
RNG = np.random.default_rng(0)
DTYPES = [np.float32, np.float64, np.int64, np.int32, np.bool_, np.uint8]


def _data(n, dt):
    v = RNG.normal(0, 4, n)
    if dt == np.bool_:
        return v > 0
    if np.dtype(dt).kind in "iu":
        return np.abs(v).astype(dt) if np.dtype(dt).kind == "u" else v.astype(dt)
    return v.astype(dt)


def _d(a):
    return nc.to_device(a)


# ----------------------------------------------------------------------------- copy_strided
def _copy_case(src, so, ss, dst, do, ds, shape):
    h = dst.copy()
    with np.errstate(all="ignore"):
        kc.copy_strided(src, so, ss, h, do, ds, shape)
    d = _d(dst)
    kc.copy_strided(_d(src), so, ss, d, do, ds, shape)
    return h, d.copy_to_host()


@pytest.mark.parametrize("sdt", DTYPES)
@pytest.mark.parametrize("ddt", [np.float32, np.int64, np.bool_, np.uint8])
def test_copy_cast_pairs(sdt, ddt):
    src = _data(12, sdt)
    h, g = _copy_case(src, 0, (1,), np.zeros(12, ddt), 0, (1,), (12,))
    np.testing.assert_array_equal(g, h)


@pytest.mark.parametrize("dt", [np.float32, np.int64, np.bool_])
def test_copy_transposed_offset_broadcast(dt):
    src = _data(40, dt)
    # transpose of a (3, 4) view at offset 2 into a (4, 3) destination at offset 1
    h, g = _copy_case(src, 2, (1, 4), np.zeros(14, dt), 1, (3, 1), (4, 3))
    np.testing.assert_array_equal(g, h)
    # broadcast (stride 0) dim, negative stride (flip), 3-d
    h, g = _copy_case(src, 30, (0, -3, 1), np.zeros(24, dt), 0, (6, 2, 1), (4, 3, 2))
    np.testing.assert_array_equal(g, h)
    # strided destination with a cast
    h, g = _copy_case(src, 0, (5, 1), np.zeros(30, np.float64), 3, (1, 6), (3, 4))
    np.testing.assert_array_equal(g, h)


def test_copy_float_to_int_rules():
    src = np.array([np.nan, np.inf, -np.inf, 3.7, -3.7, 2.5e9, -2.5e9, 1e19, -0.5, 127.9, 300.0, -1.0])
    for sdt in (np.float64, np.float32):
        for ddt in (np.int64, np.int32, np.int16, np.int8, np.uint8, np.uint32, np.bool_):
            s = src.astype(sdt)
            h, g = _copy_case(s, 0, (1,), np.zeros(12, ddt), 0, (1,), (12,))
            np.testing.assert_array_equal(g, h, err_msg=f"{np.dtype(sdt)}->{np.dtype(ddt)}")


def test_copy_int_narrowing_and_float16():
    src = np.array([300, -1, -129, 2 ** 40, 65535, 7], np.int64)
    for ddt in (np.int8, np.uint8, np.int16, np.int32, np.uint32, np.float16):
        h, g = _copy_case(src, 0, (1,), np.zeros(6, ddt), 0, (1,), (6,))
        np.testing.assert_array_equal(g, h)
    f = np.array([0.1, -2.75, np.nan, 70000.0, 1e-8, -0.0], np.float64)
    for sdt, ddt in ((np.float64, np.float16), (np.float32, np.float16), (np.float16, np.float32),
                     (np.float16, np.int32), (np.float16, np.bool_), (np.float16, np.float16),
                     (np.bool_, np.float16)):
        s = (f != 0) if sdt == np.bool_ else f.astype(sdt)
        h, g = _copy_case(s, 1, (2,), np.zeros(3, ddt), 0, (1,), (3,))
        np.testing.assert_array_equal(g, h, err_msg=f"{np.dtype(sdt)}->{np.dtype(ddt)}")


def test_copy_empty_scalar_and_host_scalar():
    d = _d(np.arange(4, dtype=np.float32))
    kc.copy_strided(_d(np.ones(3, np.float32)), 0, (1,), d, 0, (1,), (0,))
    np.testing.assert_array_equal(d.copy_to_host(), np.arange(4))
    kc.copy_strided(np.array([7.5]), 0, (0, 0), d, 0, (2, 1), (2, 2))   # host 0-d scalar, broadcast
    np.testing.assert_array_equal(d.copy_to_host(), [7.5] * 4)
    kc.copy_strided(_d(np.array([2], np.int64)), 0, (), d, 3, (), ())   # 0-d view
    np.testing.assert_array_equal(d.copy_to_host(), [7.5, 7.5, 7.5, 2])
    with pytest.raises(RuntimeError):
        kc.copy_strided(np.ones(3, np.float32), 0, (1,), d, 0, (1,), (3,))


def test_as_dtype():
    x = _data(12, np.float64)
    d = _d(x)
    b, o, s = kc.as_dtype(d, 2, (1,), (5,), np.float64)
    assert b is d and o == 2
    b, o, s = kc.as_dtype(d, 1, (2,), (5,), np.int32)
    hb, ho, hs = kc.as_dtype(x, 1, (2,), (5,), np.int32)
    assert (o, list(s)) == (ho, list(hs))
    np.testing.assert_array_equal(b.copy_to_host(), hb)


@pytest.mark.parametrize("dt", [np.float32, np.bool_, np.int64])
@pytest.mark.parametrize("k,upper", [(0, False), (1, True), (-1, False), (5, True), (-9, True)])
def test_tril_mask_fill(dt, k, upper):
    x = (np.arange(2 + 2 * 3 * 4) + 1).astype(dt)
    h = x.copy()
    kc.tril_mask_fill(h, 3, 4, 2, k, upper, 2)
    d = _d(x)
    kc.tril_mask_fill(d, 3, 4, 2, k, upper, 2)
    np.testing.assert_array_equal(d.copy_to_host(), h)
    kc.tril_mask_fill(d, 0, 4, 2, k, upper)   # empty: no-op


# ----------------------------------------------------------------------------- index checks
@pytest.mark.parametrize("neg", [True, False])
def test_check_range_and_wrap(neg):
    for idx in ([0, 3, -4, 2], [1, 4, 2, 9], [0, -5, 7, -1], [], [-1, -2]):
        a = np.array(idx, np.int64)
        assert ki.check_range(_d(a), 4, allow_negative=neg) == ki.check_range(a, 4, allow_negative=neg)
    a = np.array([0, -1, 3, -4], np.int64)
    np.testing.assert_array_equal(ki.wrap_negative(_d(a), 4).copy_to_host(), ki.wrap_negative(a, 4))
    d = _d(a)
    assert ki.wrap_negative(d, 4, out=d) is d
    np.testing.assert_array_equal(d.copy_to_host(), [0, 3, 3, 0])
    assert ki.wrap_negative(_d(np.zeros(0, np.int64)), 4).size == 0


# ----------------------------------------------------------------------------- gather / index_select
@pytest.mark.parametrize("dt", DTYPES)
def test_gather(dt):
    x = _data(30, dt)
    # x: (3, 4) view at offset 1 with strides (5, 2); gather along both dims
    for dim, ishape, n in ((1, (3, 2), 4), (0, (2, 4), 3)):
        idx = RNG.integers(0, n, int(np.prod(ishape))).astype(np.int64)
        h = np.zeros(idx.size, dt)
        ki.gather(x, 1, (5, 2), idx, ishape, dim, h, n)
        d = _d(np.zeros(idx.size, dt))
        assert ki.gather(_d(x), 1, (5, 2), _d(idx), ishape, dim, d, n) is d
        np.testing.assert_array_equal(d.copy_to_host(), h)


def test_gather_negative_empty_dtype_mismatch():
    x = np.arange(12, dtype=np.float32)
    idx = np.array([-1, 0, -3, 2], np.int64)
    h = np.zeros(4, np.float32)
    ki.gather(x, 0, (3, 1), idx, (2, 2), 1, h, 3)
    d = _d(np.zeros(4, np.float32))
    ki.gather(_d(x), 0, (3, 1), _d(idx), (2, 2), 1, d, 3)
    np.testing.assert_array_equal(d.copy_to_host(), h)
    ki.gather(_d(x), 0, (3, 1), _d(np.zeros(0, np.int64)), (0, 2), 1, _d(np.zeros(1, np.float32)), 3)
    with pytest.raises(TypeError):
        ki.gather(_d(x), 0, (3, 1), _d(idx), (2, 2), 1, _d(np.zeros(4, np.float64)), 3)


@pytest.mark.parametrize("dt", [np.float64, np.int32, np.bool_, np.float16])
def test_index_select(dt):
    x = _data(40, dt)
    for dim in (0, 1, 2):
        shape = (2, 3, 4)
        idx = np.array([1, 0, 1], np.int64) if dim != 2 else np.array([3, 3, 0, 1, 2], np.int64)
        osh = list(shape)
        osh[dim] = idx.size
        # broadcast dim 1 (stride 0) and an offset
        args = (3, (12, 0, 2), shape, dim)
        h = np.zeros(int(np.prod(osh)), dt)
        ki.index_select(x, *args, idx, h)
        d = _d(np.zeros(h.size, dt))
        ki.index_select(_d(x), *args, _d(idx), d)
        np.testing.assert_array_equal(d.copy_to_host(), h)
    d = _d(np.zeros(6, dt))   # host-built index is accepted too
    ki.index_select(_d(x), 0, (1,), (6,), 0, np.arange(6)[::-1].copy(), d)
    np.testing.assert_array_equal(d.copy_to_host(), x[:6][::-1])


# ----------------------------------------------------------------------------- scatter
def _scatter_pair(a, ao, ast, idx, ishape, dim, src, so, sst, reduce, n):
    h = a.copy()
    ki.scatter(h, ao, ast, idx, ishape, dim, src, so, sst, reduce=reduce, dim_size=n)
    d = _d(a)
    dsrc = _d(src) if isinstance(src, np.ndarray) and src.size > 1 else src
    ki.scatter(d, ao, ast, _d(idx), ishape, dim, dsrc, so, sst, reduce=reduce, dim_size=n)
    return h, d.copy_to_host()


@pytest.mark.parametrize("reduce", [None, "add", "multiply", "amax", "amin"])
@pytest.mark.parametrize("dt", [np.float32, np.int64, np.int32, np.uint8, np.float64])
def test_scatter_reduce(reduce, dt):
    # self (3, 4) at offset 1, scatter along dim 1 and dim 0 with duplicates (unique for plain set)
    a = _data(14, dt)
    src = _data(20, dt)
    for dim, ishape in ((1, (3, 3)), (0, (3, 2))):
        n = 4 if dim == 1 else 3
        if reduce is None:
            rows = [RNG.permutation(n)[:ishape[dim]] for _ in range(ishape[1 - dim])]
            idx = np.stack(rows, axis=1 - dim).astype(np.int64).ravel()
        else:
            idx = RNG.integers(0, n, int(np.prod(ishape))).astype(np.int64)
        h, g = _scatter_pair(a, 1, (4, 1), idx, ishape, dim, src, 2, (5, 1), reduce, n)
        if dt in (np.float32, np.float64) and reduce in ("add", "multiply"):
            np.testing.assert_allclose(g, h, rtol=1e-5)
        else:
            np.testing.assert_array_equal(g, h)


def test_scatter_nan_scalar_and_cast():
    a = np.array([1.0, np.nan, 3.0, 4.0])
    src = np.array([np.nan, 5.0, 2.0, 9.0])
    idx = np.array([0, 1, 2, 2], np.int64)
    for red in ("amax", "amin"):
        h, g = _scatter_pair(a, 0, (1,), idx, (4,), 0, src, 0, (1,), red, 4)
        np.testing.assert_array_equal(g, h)
    # Python scalar src, broadcast host 1-element buffer, negative indices, src of another dtype
    idx = np.array([-1, 0], np.int64)
    for src, sst in ((2.5, ()), (np.array([7.0]), (0,)), (np.array([3], np.int64), (0,))):
        for red in (None, "add"):
            h, g = _scatter_pair(a, 0, (1,), idx, (2,), 0, src, 0, sst, red, 4)
            np.testing.assert_array_equal(g, h)
    h, g = _scatter_pair(a, 0, (1,), idx, (2,), 0, np.array([1, 2, 3], np.int32), 1, (1,), "add", 4)
    np.testing.assert_array_equal(g, h)
    h, g = _scatter_pair(a, 0, (1,), np.zeros(0, np.int64), (0,), 0, 1.0, 0, (), "add", 4)
    np.testing.assert_array_equal(g, h)


def test_scatter_int8_add_and_bool_set():
    a = np.array([100, -100, 5, 0], np.int8)
    src = np.array([100, 100, -100, 7, 1, 1], np.int8)
    idx = np.array([0, 0, 1, 3, 2, 2], np.int64)
    h, g = _scatter_pair(a, 0, (1,), idx, (6,), 0, src, 0, (1,), "add", 4)
    np.testing.assert_array_equal(g, h)
    b = np.array([True, False, True, False])
    h, g = _scatter_pair(b, 0, (1,), np.array([1, 2], np.int64), (2,), 0, np.array([True, False]), 0,
                         (1,), None, 4)
    np.testing.assert_array_equal(g, h)


# ----------------------------------------------------------------------------- index_add / copy / fill
@pytest.mark.parametrize("dt", [np.float64, np.int64, np.int16, np.float32])
@pytest.mark.parametrize("dim", [0, 1])
def test_index_add(dt, dim):
    shape = (3, 4)
    idx = np.array([2, 0, 2, -1, 1], np.int64)[:shape[dim] + 1]
    sshape = list(shape)
    sshape[dim] = idx.size
    a = _data(14, dt)
    src = _data(int(np.prod(sshape)), dt)
    h = a.copy()
    ki.index_add(h, 2, (1, 3), shape, dim, idx, src, alpha=2)
    d = _d(a)
    ki.index_add(d, 2, (1, 3), shape, dim, _d(idx), _d(src), alpha=2)
    np.testing.assert_allclose(d.copy_to_host(), h, rtol=1e-6)


@pytest.mark.parametrize("dt", [np.float32, np.bool_, np.int64])
def test_index_copy_fill(dt):
    shape = (3, 4)
    a = _data(12, dt)
    for dim in (0, 1):
        idx = np.array([2, 0], np.int64)
        sshape = list(shape)
        sshape[dim] = 2
        src = _data(8, dt)
        h = a.copy()
        ki.index_copy(h, 0, (4, 1), shape, dim, idx, src)
        d = _d(a)
        ki.index_copy(d, 0, (4, 1), shape, dim, _d(idx), _d(src))
        np.testing.assert_array_equal(d.copy_to_host(), h)
        for value in (1, 0.0, True):
            h = a.copy()
            ki.index_fill(h, 0, (4, 1), shape, dim, idx, value)
            d = _d(a)
            ki.index_fill(d, 0, (4, 1), shape, dim, _d(idx), value)
            np.testing.assert_array_equal(d.copy_to_host(), h)
