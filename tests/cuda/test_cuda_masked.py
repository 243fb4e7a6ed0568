"""CUDA twins of kernels/masked.py and kernels/index_extra.py against the CPU entry points."""
import math

import numpy as np
import pytest

cuda = pytest.importorskip("numtorch.kernels.cuda")   # skips if numba.cuda unusable

from numba import cuda as ncuda  # noqa: E402

from numtorch.kernels import index_extra as X  # noqa: E402
from numtorch.kernels import masked as M  # noqa: E402

D = ncuda.to_device
RNG = np.random.default_rng(7)
DTYPES = [np.float32, np.float64, np.int64, np.int32, np.bool_, np.uint8]


def H(a):
    return a.copy_to_host()


def data(n, dtype):
    if dtype == np.bool_:
        return RNG.random(n) < 0.5
    if np.dtype(dtype).kind == 'f':
        x = RNG.standard_normal(n).astype(dtype)
        x[::5] = 0
        x[1::7] = -0.0
        return x
    return RNG.integers(-3 if np.dtype(dtype).kind == 'i' else 0, 4, n).astype(dtype)


def same(cpu, dev):
    np.testing.assert_array_equal(H(dev), cpu)


# ----------------------------------------------------------------------------- masked ops
@pytest.mark.parametrize("dtype", DTYPES + [np.float16])
def test_masked_fill_broadcast_offset(dtype):
    a = data(40, dtype)
    m = RNG.random(8) < 0.5
    args = (2, (8, 1), (4, 8))
    value = 3 if dtype != np.bool_ else True
    c, d = a.copy(), D(a)
    M.masked_fill(c, *args, m, 0, (0, 1), value)
    M.masked_fill(d, *args, D(m), 0, (0, 1), value)
    same(c, d)


def test_masked_fill_strided_nan_empty_scalar():
    a = data(30, np.float32)
    m = RNG.random(30) < 0.5
    c, d = a.copy(), D(a)
    M.masked_fill(c, 1, (1, 5), (5, 5), m, 3, (5, 1), float("nan"))   # transposed target
    M.masked_fill(d, 1, (1, 5), (5, 5), D(m), 3, (5, 1), float("nan"))
    same(c, d)
    M.masked_fill(d, 0, (1,), (0,), D(m), 0, (1,), 1.0)               # empty: no-op
    M.masked_fill(c, 4, (), (), m, 2, (), -1.0)                       # 0-d
    M.masked_fill(d, 4, (), (), D(m), 2, (), -1.0)
    same(c, d)


@pytest.mark.parametrize("dtype", DTYPES)
def test_masked_select_and_mask_select(dtype):
    x = data(100, dtype)      # several chunks and tiles under the simulator
    m = RNG.random(100) < 0.4
    same(M.masked_select(x, m), M.masked_select(D(x), D(m)))
    same(X.mask_select(x, m), X.mask_select(D(x), D(m)))


def test_masked_select_edges():
    x = data(37, np.float64)
    for m in (np.zeros(37, bool), np.ones(37, bool)):
        same(M.masked_select(x, m), M.masked_select(D(x), D(m)))
        same(X.mask_positions(m), X.mask_positions(D(m)))
    e = np.empty(0, np.float32)
    assert M.masked_select(D(e), D(np.empty(0, bool))).size == 0
    assert X.mask_select(D(e), D(np.empty(0, bool))).size == 0
    assert X.mask_positions(D(np.empty(0, bool))).dtype == np.int64


def test_mask_positions():
    m = RNG.random(90) < 0.3
    same(X.mask_positions(m), X.mask_positions(D(m)))


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_])
def test_masked_scatter(dtype):
    a = data(50, dtype)
    m = RNG.random(50) < 0.5
    src = data(60, dtype)
    c, d = a.copy(), D(a)
    M.masked_scatter(c, m, src)
    M.masked_scatter(d, D(m), D(src))
    same(c, d)


def test_masked_scatter_cast_short_empty():
    a = data(20, np.float64)
    m = RNG.random(20) < 0.5
    src = np.arange(20, dtype=np.int32)
    c, d = a.copy(), D(a)
    M.masked_scatter(c, m, src)
    M.masked_scatter(d, D(m), D(src))
    same(c, d)
    with pytest.raises(RuntimeError, match="Number of elements of source < number of ones in mask"):
        M.masked_scatter(d, D(np.ones(20, bool)), D(src[:5]))
    same(c, d)                                   # untouched
    M.masked_scatter(D(np.empty(0)), D(np.empty(0, bool)), D(src))


# ----------------------------------------------------------------------------- nonzero
@pytest.mark.parametrize("dtype", DTYPES + [np.float16])
def test_nonzero(dtype):
    x = data(60, dtype)
    if np.dtype(dtype).kind == 'f':
        x[7] = np.nan
    for args in ((0, (12, 1), (5, 12)), (3, (1, 6), (6, 4)), (2, (0, 2), (3, 20))):
        cpu, dev = M.nonzero(x, *args), M.nonzero(D(x), *args)
        assert dev.shape == cpu.shape
        same(cpu, dev)


def test_nonzero_edges():
    x = np.array([0.0, -0.0, 2.0])
    for off in range(3):
        cpu, dev = M.nonzero(x, off, (), ()), M.nonzero(D(x), off, (), ())
        assert dev.shape == cpu.shape
    assert M.nonzero(D(x), 0, (1, 1), (0, 3)).shape == (0, 2)
    z = np.zeros(24, np.int32)
    assert M.nonzero(D(z), 0, (6, 2, 1), (4, 3, 2)).shape == (0, 3)


# ----------------------------------------------------------------------------- take / offsets
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_])
def test_take(dtype):
    x = data(40, dtype)
    idx = np.array([0, -1, 5, 3, 3, -12, 11], np.int64)
    for args in ((0, (4, 1), (3, 4)), (1, (1, 5), (4, 3))):
        same(M.take(x, *args, idx), M.take(D(x), *args, D(idx)))
    same(M.take(x, 2, (0,), (6,), idx[:3]), M.take(D(x), 2, (0,), (6,), D(idx[:3].astype(np.int32))))
    assert M.take(D(x), 0, (1,), (5,), D(np.empty(0, np.int64))).size == 0


def test_gather_offsets():
    x = data(30, np.float64)
    offs = RNG.integers(0, 30, (3, 4))
    cpu, dev = M.gather_offsets(x, offs), M.gather_offsets(D(x), D(offs))
    assert dev.shape == cpu.shape
    same(cpu, dev)


@pytest.mark.parametrize("dtype,acc", [(np.float64, False), (np.float32, True), (np.int64, True),
                                       (np.int8, True), (np.bool_, True), (np.bool_, False)])
def test_scatter_offsets(dtype, acc):
    x = data(20, dtype)
    offs = np.array([3, 7, 3, 0, 19, 7, 3], np.int64)          # duplicates: last wins / accumulate
    vals = data(offs.size, dtype)
    c, d = x.copy(), D(x)
    M.scatter_offsets(c, offs, vals, acc)
    M.scatter_offsets(d, D(offs), D(vals), acc)
    same(c, d)
    M.scatter_offsets(c, offs, 1, acc)                          # scalar value
    M.scatter_offsets(d, D(offs), 1, acc)
    same(c, d)


def test_scatter_offsets_cast_and_mismatch():
    x = np.zeros(10, np.float32)
    offs = np.array([1, 4, 1])
    vals = np.array([1, 2, 3], np.int64)
    c, d = x.copy(), D(x)
    M.scatter_offsets(c, offs, vals)
    M.scatter_offsets(d, D(offs), D(vals))
    same(c, d)
    M.scatter_offsets(c, offs, np.array([2.5]))               # host 1-element values
    M.scatter_offsets(d, D(offs), np.array([2.5]))
    same(c, d)
    with pytest.raises(ValueError, match="shape mismatch: value has 2 elements, index selects 3"):
        M.scatter_offsets(d, D(offs), D(vals[:2]))
    M.scatter_offsets(d, D(np.empty(0, np.int64)), 1.0)


def test_index_offsets():
    i0 = np.array([[0, -1, 2]])
    i1 = np.array([[1], [-2]])
    kw = dict(sizes=(3, 4), pre=((2,), (100,)), post=((3,), (1,)))
    cpu = M.index_offsets(5, [i0, i1], [20, 4], **kw)
    dev = M.index_offsets(5, [D(i0), D(i1.astype(np.int32))], [20, 4], **kw)
    assert dev.shape == cpu.shape
    same(cpu, dev)
    same(M.index_offsets(0, [i0], [3]), M.index_offsets(0, [D(i0)], [3]))     # no wrapping


# ----------------------------------------------------------------------------- AdvPlan / adv_gather / adv_scatter
SHAPE = (3, 4, 5)
LAYOUTS = [((20, 5, 1), 0), ((1, 3, 12), 2), ((0, 5, 1), 1)]     # contiguous, permuted+offset, broadcast


def plans(adv, shape=SHAPE, host_too=False):
    dev = [(d, k, a if host_too and i else D(a)) for i, (d, k, a) in enumerate(adv)]
    return X.AdvPlan(shape, adv), X.AdvPlan(shape, dev)


def gather_both(x, cp, dp, strides, off):
    n = math.prod(cp.result_shape())
    c, d = np.empty(n, x.dtype), cuda.empty(n, x.dtype)
    X.adv_gather(x, *cp.blocks(strides, off), c)
    X.adv_gather(D(x), *dp.blocks(strides, off), d)
    assert dp.result_shape() == cp.result_shape()
    same(c, d)


ADVS = [
    [(1, "int", np.array([[0, -1], [2, 1]]))],                                   # P and Q
    [(0, "int", np.array([2, 0, -3])), (2, "int", np.array([[4], [0]], np.int32))],   # non-adjacent
    [(0, "mask", RNG.random((3, 4)) < 0.5)],                                      # 2-d mask
    [(1, "mask", np.array([True, False, True, True])), (2, "int", np.array([1, 4, 0]))],
    [(0, "int", np.empty(0, np.int64))],
]


@pytest.mark.parametrize("k", range(len(ADVS)))
def test_adv_gather(k):
    x = data(64, np.float32)
    cp, dp = plans(ADVS[k], host_too=k == 3)
    assert type(dp).__module__.endswith("cuda.index_extra")
    for strides, off in LAYOUTS:
        gather_both(x, cp, dp, strides, off)


def test_adv_gather_dtypes():
    cp, dp = plans(ADVS[3])
    for dtype in (np.int64, np.bool_, np.uint8, np.float16):
        gather_both(data(64, dtype), cp, dp, (1, 3, 12), 0)


def test_adv_plan_errors():
    cases = [
        ([(1, "int", np.array([0, 4]))], "index 4 is out of bounds for dimension 0 with size 4"),
        ([(0, "int", np.array([0])), (1, "int", np.array([1, -5, 9]))],
         "index -5 is out of bounds for dimension 1 with size 4"),
        ([(0, "mask", np.ones((3, 5), bool))], "The shape of the mask [3, 5] at index 1 does not match"),
        ([(0, "int", np.zeros(2, np.int64)), (1, "int", np.zeros(3, np.int64))], "shape mismatch"),
        ([(0, "bad", np.zeros(2, np.float32))], "tensors used as indices must be long"),
    ]
    for adv, msg in cases:
        for dev in (False, True):
            with pytest.raises(IndexError) as ei:
                X.AdvPlan(SHAPE, [(d, k, D(a) if dev else a) for d, k, a in adv])
            assert msg in str(ei.value)


@pytest.mark.parametrize("dtype,acc", [(np.float32, False), (np.float64, True), (np.int32, True),
                                       (np.int8, True), (np.bool_, True), (np.uint8, False)])
def test_adv_scatter(dtype, acc):
    adv = [(1, "int", np.array([3, 0, 3, -1, 1]))]                # duplicates (3 and -1 == 3)
    cp, dp = plans(adv)
    n = math.prod(cp.result_shape())
    vals = data(n, dtype)
    for strides, off in LAYOUTS[:2]:
        x = data(62, dtype)
        c, d = x.copy(), D(x)
        X.adv_scatter(c, *cp.blocks(strides, off), vals, acc)
        X.adv_scatter(d, *dp.blocks(strides, off), D(vals), acc)
        if dtype == np.float64:
            np.testing.assert_allclose(H(d), c, rtol=1e-12)      # atomics add in any order
        else:
            same(c, d)
    x = data(62, dtype)
    c, d = x.copy(), D(x)
    one = np.ones(1, dtype)                                     # one broadcast value, host
    X.adv_scatter(c, *cp.blocks((20, 5, 1), 0), one, acc)
    X.adv_scatter(d, *dp.blocks((20, 5, 1), 0), one, acc)
    same(c, d)


def test_adv_scatter_mask_and_host_offsets():
    adv = [(0, "mask", RNG.random((3, 4)) < 0.5)]
    cp, dp = plans(adv)
    n = math.prod(cp.result_shape())
    vals = data(n, np.float32)
    x = data(60, np.float32)
    c, d = x.copy(), D(x)
    X.adv_scatter(c, *cp.blocks((1, 3, 12), 0), vals, False)
    X.adv_scatter(d, *dp.blocks((1, 3, 12), 0), D(vals), False)
    same(c, d)
    x = data(60, np.float32)                                     # host plan offsets, device target (list index)
    c, d = x.copy(), D(x)
    X.adv_scatter(c, *cp.blocks((20, 5, 1), 0), vals, True)
    X.adv_scatter(d, *cp.blocks((20, 5, 1), 0), D(vals), True)
    np.testing.assert_allclose(H(d), c, rtol=1e-6)
    out = cuda.empty(n, np.float32)
    X.adv_gather(d, *cp.blocks((20, 5, 1), 0), out)
    same(X.adv_gather(c, *cp.blocks((20, 5, 1), 0), np.empty(n, np.float32)), out)
