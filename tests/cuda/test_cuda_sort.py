"""CUDA twins of the sort family against the CPU entry points (bit-exact values, identical indices).

Runs under Numba's simulator: small rows, several scenarios batched into the rows of one call.
Rows longer than the shared-memory segment (``CAP``, smaller under the simulator) take the merge path."""
import numpy as np
import pytest

cuda = pytest.importorskip("numtorch.kernels.cuda")   # skips if numba.cuda unusable

from numba import cuda as nbcuda  # noqa: E402

from numtorch.kernels import sort as K  # noqa: E402
from numtorch.kernels.cuda import sort as CS  # noqa: E402

RNG = np.random.default_rng(1)
CAP = CS.CAP


def dev(a):
    return nbcuda.to_device(np.ascontiguousarray(a))


def host(d):
    assert not isinstance(d, np.ndarray) and hasattr(d, "copy_to_host")
    return d.copy_to_host()


def bits(a):
    return np.ascontiguousarray(a).view(np.uint8)


def both(fn, x, k, *extra, vals=True):
    """Run fn on the CPU and through its hook on device copies; assert identical outputs."""
    rows, n = x.shape
    flat = np.ascontiguousarray(x).reshape(-1)
    out_c = ([np.full(rows * k, 7, x.dtype)] if vals else []) + [np.full(rows * k, -1, np.int64)]
    out_d = [dev(o) for o in out_c]
    fn(flat, rows, n, *extra, *out_c)
    fn(dev(flat), rows, n, *extra, *out_d)
    for c, d in zip(out_c, out_d):
        np.testing.assert_array_equal(bits(host(d)), bits(c))
    return out_c


def messy(rows, n, dtype):
    """Ties, NaN of both signs, +-inf and +-0.0 (floats); extremes and ties (ints)."""
    if np.dtype(dtype) == np.bool_:
        return RNG.integers(0, 2, (rows, n)).astype(bool)
    x = RNG.integers(-3, 4, (rows, n)).astype(dtype)
    if np.dtype(dtype).kind == "f":
        flat = x.reshape(-1)
        specials = np.array([np.nan, -np.nan, np.inf, -np.inf, -0.0, 0.0, 0.5], dtype)
        flat[RNG.integers(0, flat.size, flat.size // 3)] = RNG.choice(specials, flat.size // 3)
        if rows > 2:
            x[-1] = np.nan                                 # an all-NaN row
    else:
        info = np.iinfo(dtype)
        x.reshape(-1)[:2] = (info.min, info.max)
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_])
def test_sort_argsort(dtype):
    x = messy(4, 11, dtype)
    for desc in (False, True):
        v, i = both(K.sort, x, 11, desc, False)
        assert len(set(i[:11])) == 11
        both(K.argsort, x, 11, desc, True, vals=False)


def test_sort_long_rows_merge():
    x = messy(1, CAP + 3, np.float32)                      # two segments, one merge pass
    both(K.sort, x, CAP + 3, False, False)
    x = messy(2, 2 * CAP + 5, np.int64)                    # three segments: a run without partner
    x[1] = 0                                               # all ties: the merge keeps index order
    both(K.sort, x, 2 * CAP + 5, True, True)


def test_sort_empty_and_dtype():
    e = np.empty(0, np.float32)
    for rows, n in ((0, 5), (3, 0)):
        K.sort(dev(e), rows, n, False, False, dev(e), dev(np.empty(0, np.int64)))
        K.topk(dev(e), rows, n, 0, True, True, dev(e), dev(np.empty(0, np.int64)))
    x = dev(np.zeros(4, np.float16))
    with pytest.raises(TypeError):
        K.sort(x, 1, 4, False, False, dev(np.zeros(4, np.float16)), dev(np.zeros(4, np.int64)))


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_])
def test_topk(dtype):
    x = messy(3, 9, dtype)
    for largest in (True, False):
        for k in (0, 1, 4, 9):
            both(K.topk, x, k, k, largest, k != 4)


def test_topk_long_row():
    x = messy(1, CAP + 3, np.float64)
    both(K.topk, x, 5, 5, True, True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.uint8])
def test_kthvalue_median_nanmedian(dtype):
    x = messy(5, 8, dtype)
    if np.dtype(dtype).kind == "f":
        x[0] = [1, np.nan, 2, np.nan, 2, 0, -0.0, 5]       # NaN inside: median -> the first NaN
        x[1] = [np.nan] * 7 + [3]                          # nanmedian of a single value
    for k in (1, 4, 8):
        both(K.kthvalue, x, 1, k)
    both(K.median, x, 1)
    both(K.nanmedian, x, 1)
    one = messy(3, 1, dtype)
    both(K.median, one, 1)
    both(K.nanmedian, one, 1)


def test_median_long_row():
    x = messy(1, CAP + 3, np.float32)
    x[0, 5] = np.nan
    both(K.median, x, 1)
    both(K.nanmedian, x, 1)
    both(K.kthvalue, x, 1, CAP)


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_])
def test_mode(dtype):
    x = RNG.integers(-2, 3, (6, 9)).astype(dtype)
    x[0] = np.array([2, 1, 1, 2, 0, 0, 0, 2, 1]).astype(dtype)   # three-way tie: smallest wins
    if np.dtype(dtype).kind == "f":
        x[1] = [np.nan, np.nan, 2, np.nan, 1, 1, -0.0, 0.0, 0.0]  # NaNs never form a run
        x[2] = np.nan
        x[3] = [np.nan, 5, np.nan, -1, 4, 3, 2, 1, 0]            # all singletons
    both(K.mode, x, 1)
    both(K.mode, messy(2, 1, dtype), 1)


def test_mode_long_rows():
    # sorted, the tied longest runs (0 and 200) end 32 apart: one simulator thread sees both
    row = np.r_[np.zeros(10), np.arange(100, 122), np.full(10, 200)].astype(np.int64)
    both(K.mode, RNG.permutation(row)[None, :], 1)
    both(K.mode, RNG.integers(0, 40, (1, CAP + 3)).astype(np.float32), 1)


def _unique_both(x, consecutive):
    c = K.unique(x, consecutive) if consecutive else K.unique(x)
    fn = K.unique_consecutive if consecutive else K.unique
    d = fn(dev(x))
    assert len(d) == 3 and d[0].dtype == x.dtype
    for a, b in zip(c, d):
        np.testing.assert_array_equal(bits(host(b)), bits(a))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_])
def test_unique(dtype):
    x = messy(1, 23, dtype).reshape(-1)
    x[3:6] = x[2]                                          # a run for unique_consecutive
    for consecutive in (False, True):
        _unique_both(x, consecutive)
        _unique_both(x[:1].copy(), consecutive)
        _unique_both(x[:0].copy(), consecutive)


def test_unique_special_and_long():
    x = np.array([3, 1, 2, 1, 3, np.nan, np.nan, -0.0, 0.0, -np.nan, 0.0, -0.0], np.float32)
    for consecutive in (False, True):
        _unique_both(x, consecutive)
    vals, inv, cnt = K.unique(dev(x))
    assert list(host(cnt)) == [4, 2, 1, 2, 1, 1, 1] and np.signbit(host(vals)[0])  # first zero is -0.0
    long = messy(1, CAP + 3, np.float32).reshape(-1)      # merge path + a multi-block scan
    _unique_both(long, False)
    _unique_both(long, True)


def test_scan_multilevel(monkeypatch):
    monkeypatch.setattr(CS, "_SCAN_PER", 1)               # small chunks: levels at simulator sizes
    chunk = cuda.block_threads(CS.MAX_THREADS)
    n = chunk * chunk + 3                                  # three levels of block sums
    a = RNG.integers(0, 3, n).astype(np.int64)
    d = dev(a)
    CS._scan(d, n)
    np.testing.assert_array_equal(host(d), np.cumsum(a))
