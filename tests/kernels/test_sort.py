"""sort/argsort/topk/kthvalue/median/nanmedian/mode/unique kernels against NumPy (and torch if present).

Order rule under test: NaN largest, ties by lowest index (= NumPy's stable order, made descending
without reversing tie order). Dtypes kept to a few widths to bound compile time."""
import numpy as np
import pytest

from numtorch.kernels import sort as K

RNG = np.random.default_rng(0)


def ref_order(x, descending=False):
    """Stable order per row with NaN largest; descending keeps ties in increasing index."""
    if not descending:
        return np.argsort(x, axis=-1, kind="stable")
    if x.dtype.kind == "f":
        nan = np.isnan(x)
        return np.lexsort((np.where(nan, 0, -x), ~nan), axis=-1)
    return np.argsort(~x, axis=-1, kind="stable")  # ~ reverses order for ints/bool without overflow


def run(fn, x, k, *extra):
    rows, n = x.shape
    ov = np.full(rows * k, 7, x.dtype)
    oi = np.full(rows * k, -1, np.int64)
    fn(np.ascontiguousarray(x).reshape(-1), rows, n, *extra, ov, oi)
    return ov.reshape(rows, k), oi.reshape(rows, k)


def same(a, b):
    return np.array_equal(a, b, equal_nan=a.dtype.kind == "f")


def messy_float(rows, n, dtype):
    x = RNG.integers(-5, 6, (rows, n)).astype(dtype)  # many ties
    x[:, ::3] = RNG.standard_normal((rows, len(range(0, n, 3))))
    flat = x.reshape(-1)
    for v in (np.nan, -np.nan, np.inf, -np.inf, -0.0, 0.0):
        flat[RNG.integers(0, flat.size, max(1, flat.size // 20))] = v
    return x


def int_rows(rows, n, dtype):
    info = np.iinfo(dtype)
    x = RNG.integers(-3, 4, (rows, n)).astype(dtype)
    if rows > 1:
        x[1] = RNG.integers(info.min, info.max, n, dtype=dtype, endpoint=True)
        x[1, :2] = (info.min, info.max)[:n]
    if rows > 2:
        x[2] = RNG.integers(-300, 300, n).astype(dtype)  # 2-byte key range
    if rows > 3:
        x[3] = RNG.integers(-2**19, 2**19, n).astype(dtype)  # 3-byte key range
    return x


CASES = [(3, 1), (4, 7), (5, 33), (3, 300), (2, 5000)]
SPECIAL = [np.sort(np.arange(50.0)), np.arange(50.0)[::-1].copy(), np.zeros(50), np.full(50, np.nan)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_float(dtype, descending):
    par = [(40, 2000)] if dtype == np.float32 else []  # prange variants: one width is enough
    for rows, n in CASES + par:
        x = messy_float(rows, n, dtype)
        v, i = run(K.sort, x, n, descending, False)
        ref = ref_order(x, descending)
        assert (i == ref).all(), (rows, n)
        assert same(v, np.take_along_axis(x, ref, -1)) and v.dtype == dtype
        assert (np.signbit(v) == np.signbit(np.take_along_axis(x, ref, -1))).all()  # bit-exact -0.0
    x = np.stack(SPECIAL).astype(dtype)
    assert (run(K.sort, x, 50, descending, True)[1] == ref_order(x, descending)).all()


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int8, np.bool_])
def test_sort_int_bool(dtype):
    for rows, n in CASES:
        x = RNG.integers(0, 2, (rows, n)).astype(bool) if dtype == np.bool_ else int_rows(rows, n, dtype)
        for desc in (False, True):
            v, i = run(K.sort, x, n, desc, True)
            ref = ref_order(x, desc)
            assert (i == ref).all() and (v == np.take_along_axis(x, ref, -1)).all(), (rows, n, desc)


def test_argsort_and_empty():
    x = messy_float(6, 100, np.float32)
    oi = np.empty(600, np.int64)
    K.argsort(x.reshape(-1), 6, 100, True, False, oi)
    assert (oi.reshape(6, 100) == ref_order(x, True)).all()
    e = np.empty(0, np.float32)
    K.sort(e, 0, 5, False, False, e, np.empty(0, np.int64))  # rows == 0
    K.sort(e, 3, 0, False, False, e, np.empty(0, np.int64))  # n == 0
    v, i = run(K.sort, np.array([[2.5], [np.nan]], np.float32), 1, False, False)
    assert same(v, np.array([[2.5], [np.nan]], np.float32)) and (i == 0).all()
    with pytest.raises(TypeError):
        K.sort(np.zeros(4, np.float16), 1, 4, False, False, np.zeros(4, np.float16), oi[:4])


@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_topk(dtype):
    for rows, n in [(4, 7), (3, 300), (2, 5000)] + ([(40, 2000)] if dtype == np.float32 else []):
        x = messy_float(rows, n, dtype) if dtype == np.float32 else int_rows(rows, n, dtype)
        for largest in (True, False):
            ref = ref_order(x, largest)
            for k in sorted({0, 1, 5, min(n, 64), min(n, 65), n}):
                v, i = run(K.topk, x, k, k, largest, True)
                assert (i == ref[:, :k]).all(), (rows, n, k, largest)
                assert same(v, np.take_along_axis(x, ref[:, :k], -1))
    ramp = np.tile(np.arange(3000, dtype=dtype), (3, 1))  # adversarial: every element enters the heap
    for largest in (True, False):
        v, i = run(K.topk, ramp, 10, 10, largest, False)
        assert (i == ref_order(ramp, largest)[:, :10]).all()


@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_kthvalue_median(dtype):
    for rows, n in [(3, 1), (4, 8), (5, 33), (3, 3001)] + ([(40, 2000)] if dtype == np.float32 else []):
        x = messy_float(rows, n, dtype) if dtype == np.float32 else int_rows(rows, n, dtype)
        ref = ref_order(x)
        for k in sorted({1, 2, (n + 1) // 2, n} - {0}):
            if k > n:
                continue
            v, i = run(K.kthvalue, x, 1, k)
            assert (i[:, 0] == ref[:, k - 1]).all(), (rows, n, k)
            assert same(v[:, 0], np.take_along_axis(x, ref[:, k - 1:k], -1)[:, 0])
        v, i = run(K.median, x, 1)
        for r in range(rows):
            row = x[r]
            if dtype == np.float32 and np.isnan(row).any():
                assert np.isnan(v[r, 0]) and i[r, 0] == np.flatnonzero(np.isnan(row))[0]
            else:
                assert i[r, 0] == ref[r, (n - 1) // 2] and v[r, 0] == row[i[r, 0]]
        v, i = run(K.nanmedian, x, 1)
        for r in range(rows):
            row = x[r]
            good = ~np.isnan(row) if dtype == np.float32 else np.ones(n, bool)
            if not good.any():
                assert np.isnan(v[r, 0]) and i[r, 0] == 0
                continue
            vals = np.sort(row[good], kind="stable")
            assert v[r, 0] == vals[(good.sum() - 1) // 2] and row[i[r, 0]] == v[r, 0]


def test_nanmedian_all_nan_and_median_nan_index():
    x = np.array([[np.nan, 1.0, np.nan, 2.0], [np.nan] * 4, [3.0, 1.0, 2.0, 1.0]])
    v, i = run(K.median, x, 1)
    assert np.isnan(v[:2, 0]).all() and list(i[:, 0]) == [0, 0, 3] and v[2, 0] == 1.0
    v, i = run(K.nanmedian, x, 1)
    assert v[0, 0] == 1.0 and i[0, 0] == 1 and np.isnan(v[1, 0]) and i[1, 0] == 0


def ref_mode(row):
    """Most frequent value (NaNs all distinct), smallest on ties, last index of it."""
    good = row[~np.isnan(row)] if row.dtype.kind == "f" else row
    if good.size == 0:
        return row[0], 0
    vals, counts = np.unique(good, return_counts=True)
    val = vals[np.argmax(counts)]
    return val, np.flatnonzero(row == val)[-1]


@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_mode(dtype):
    for rows, n in [(3, 1), (4, 9), (5, 40)] + ([(40, 2000)] if dtype == np.float32 else []):
        x = RNG.integers(-4, 5, (rows, n)).astype(dtype)
        if dtype == np.float32 and n > 1:
            x[0, :2] = np.nan
        v, i = run(K.mode, x, 1)
        for r in range(rows):
            ev, ei = ref_mode(x[r])
            assert v[r, 0] == ev and i[r, 0] == ei, (rows, n, r)
    v, i = run(K.mode, np.array([[np.nan, np.nan, 2.0], [np.nan, np.nan, np.nan]]), 1)
    assert v[0, 0] == 2.0 and i[0, 0] == 2 and np.isnan(v[1, 0])


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_])
def test_unique(dtype):
    for n in (0, 1, 20, 3000):
        x = RNG.integers(-5, 6, n).astype(dtype)
        vals, inv, cnt = K.unique(x)
        ev, ei, ec = np.unique(x, return_inverse=True, return_counts=True)
        assert (vals == ev).all() and (inv == ei).all() and (cnt == ec).all() and vals.dtype == x.dtype
        vals, inv, cnt = K.unique_consecutive(x)
        starts = np.r_[0, np.flatnonzero(x[1:] != x[:-1]) + 1][:n]
        assert (vals == x[starts]).all() and (cnt == np.diff(np.r_[starts, n])).all()
        assert (vals[inv] == x).all()
    x = np.array([3, 1, 2, 1, 3, np.nan, np.nan, -0.0, 0.0])
    vals, inv, cnt = K.unique(x)
    assert same(vals, np.array([0.0, 1, 2, 3, np.nan, np.nan])) and list(cnt) == [2, 2, 1, 2, 1, 1]
    assert list(inv) == [3, 1, 2, 1, 3, 4, 5, 0, 0]
    vals, inv, cnt = K.unique_consecutive(np.array([1.0, 1, np.nan, np.nan, 2]))
    assert list(cnt) == [2, 1, 1, 1] and list(inv) == [0, 0, 1, 2, 3]


def test_against_torch():
    torch = pytest.importorskip("torch")
    x = messy_float(6, 300, np.float32)
    t = torch.from_numpy(x)
    for desc in (False, True):
        v, i = run(K.sort, x, 300, desc, False)
        tv = t.sort(dim=1, descending=desc, stable=True)
        assert same(v, tv.values.numpy()) and (i == tv.indices.numpy()).all()
    for largest in (True, False):
        v, i = run(K.topk, x, 7, 7, largest, True)
        tv = t.topk(7, dim=1, largest=largest)
        assert same(v, tv.values.numpy()) and same(np.take_along_axis(x, i, 1), v)
    v, _ = run(K.median, x, 1)
    assert same(v[:, 0], t.median(dim=1).values.numpy())
    v, _ = run(K.nanmedian, x, 1)
    assert same(v[:, 0], t.nanmedian(dim=1).values.numpy())
    v, _ = run(K.kthvalue, x, 1, 100)
    assert same(v[:, 0], t.kthvalue(100, dim=1).values.numpy())
    xi = RNG.integers(0, 4, (8, 12)).astype(np.int64)  # n <= 16: torch's mode index is the last one
    v, i = run(K.mode, xi, 1)
    tm = torch.from_numpy(xi).mode(dim=1)
    assert (v[:, 0] == tm.values.numpy()).all() and (i[:, 0] == tm.indices.numpy()).all()
    xu = np.array([3, 1, 2, 1, 3, np.nan, np.nan, -0.0, 0.0], np.float32)
    tu = torch.unique(torch.from_numpy(xu), return_inverse=True, return_counts=True)
    for ours, theirs in zip(K.unique(xu), tu):
        assert same(ours, theirs.numpy())
    tc = torch.unique_consecutive(torch.from_numpy(xu), return_inverse=True, return_counts=True)
    for ours, theirs in zip(K.unique_consecutive(xu), tc):
        assert same(ours, theirs.numpy())
