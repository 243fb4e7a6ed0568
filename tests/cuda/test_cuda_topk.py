"""CUDA topk against the CPU entry point, bit for bit (values and indices).

k <= ``SELECT_K`` takes the selection kernel (k block-reduction passes per row); larger k the sort.
Under the simulator a block has 32 threads and the grid 2 blocks: rows longer than 32 make threads
stride, more than 2 rows make blocks stride."""
import numpy as np
import pytest

cuda = pytest.importorskip("numtorch.kernels.cuda")   # skips if numba.cuda unusable

from numba import cuda as nbcuda  # noqa: E402

from numtorch.kernels import sort as K  # noqa: E402
from numtorch.kernels.cuda import sort as CS  # noqa: E402

RNG = np.random.default_rng(7)
SK = CS.SELECT_K


def dev(a):
    return nbcuda.to_device(np.ascontiguousarray(a))


def bits(a):
    return np.ascontiguousarray(a).view(np.uint8)


def check(x, k, largest, sorted_=True):
    """topk on the CPU and through the hook on device copies: identical bits."""
    rows, n = x.shape
    flat = np.ascontiguousarray(x).reshape(-1)
    cv, ci = np.full(rows * k, 7, x.dtype), np.full(rows * k, -1, np.int64)
    dv, di = dev(cv), dev(ci)
    K.topk(flat, rows, n, k, largest, sorted_, cv, ci)
    K.topk(dev(flat), rows, n, k, largest, sorted_, dv, di)
    np.testing.assert_array_equal(di.copy_to_host(), ci)
    np.testing.assert_array_equal(bits(dv.copy_to_host()), bits(cv))
    return cv.reshape(rows, k), ci.reshape(rows, k)


def messy(rows, n, dtype):
    """Heavy ties; floats add NaN of both signs, +-inf, -0.0/+0.0; ints their extremes."""
    if np.dtype(dtype) == np.bool_:
        return RNG.integers(0, 2, (rows, n)).astype(bool)
    x = RNG.integers(-2, 3, (rows, n)).astype(dtype)
    if np.dtype(dtype).kind == "f":
        flat = x.reshape(-1)
        specials = np.array([np.nan, -np.nan, np.inf, -np.inf, -0.0, 0.0], dtype)
        m = flat.size // 3
        flat[RNG.integers(0, flat.size, m)] = RNG.choice(specials, m)
    else:
        info = np.iinfo(dtype)
        x.reshape(-1)[:2] = (info.min, info.max)
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_])
def test_select_dtypes(dtype):
    x = messy(3, 40, dtype)                                # 3 rows > 2 blocks; 40 > 32 threads
    for largest in (True, False):
        check(x, 1, largest)
        check(x, 5, largest, sorted_=False)


def test_select_float_specials():
    x = np.array([[np.nan, -0.0, 0.0, -np.nan, 1.0, np.nan, -0.0, -np.inf, np.inf, 0.0],
                  [-0.0, 0.0, -0.0, 0.0, -0.0, 0.0, -0.0, 0.0, -0.0, 0.0],
                  [-np.nan] * 10], np.float32)
    for largest in (True, False):
        v, i = check(x, 10, largest)                       # k = n: the whole row, CPU order
        assert sorted(i[0]) == list(range(10))
        check(x.astype(np.float64), 7, largest, sorted_=False)
    v, i = check(x, 4, True)
    assert list(i[0]) == [0, 3, 5, 8]                      # NaNs largest, by index, then +inf
    v, i = check(x, 3, False)
    assert list(i[1]) == [0, 1, 2]                         # -0.0 == +0.0: pure index order


def test_select_k_limits_and_ties():
    x = messy(4, 70, np.float32)                           # > 2 strides of 32 threads
    x[1] = 3.0                                             # one value: indices 0..k-1
    for largest in (True, False):
        v, i = check(x, SK, largest, sorted_=largest)
        assert list(i[1]) == list(range(SK))
    y = messy(2, SK, np.int64)                             # k = n = SELECT_K
    check(y, SK, True)
    check(y, SK, False, sorted_=False)


def test_select_empty_and_sort_path():
    e = np.empty(0, np.float32)
    for rows, n, k in ((0, 5, 3), (0, 5, 0), (3, 4, 0)):
        K.topk(dev(e), rows, n, k, True, True, dev(e), dev(np.empty(0, np.int64)))
    x = messy(2, 24, np.float32)
    check(x, SK + 1, True)                                 # k above the constant: the sort path
    check(x, 24, False, sorted_=False)
