"""numtorch.kernels.reduction / scan against NumPy (and torch when installed) on (outer, n, inner) layouts.

Dtypes are limited to float32/float64 (every op), int64 and bool (the integer ops the front end sends
them to: it casts int/bool inputs of sum/prod/cumsum to int64) to keep the number of compiled
specializations small; the parallel variants are exercised with float32 only.
"""
import warnings

import numpy as np
import pytest

from numtorch.kernels import reduction as R
from numtorch.kernels import scan as S
from numtorch.kernels import softmax as SM

RNG = np.random.default_rng(0)
SHAPES = [(1, 1, 1), (4, 7, 1), (1, 13, 1), (2, 5, 3), (3, 1, 4), (1, 33, 2), (2, 40, 1)]
NAN, INF = np.nan, np.inf


def data(shape, dtype, special=False):
    o, n, i = shape
    if dtype == np.bool_:
        return RNG.random(o * n * i) > 0.4
    if np.dtype(dtype).kind == 'i':
        return RNG.integers(-5, 6, o * n * i).astype(dtype)
    x = RNG.standard_normal(o * n * i).astype(dtype)
    if special and x.size >= 8:
        x[[1, 5]] = NAN
        x[3], x[6] = INF, -INF
    return x


def run(op, x, shape, out_dtype, **kw):
    o, n, i = shape
    out = np.empty(o * i, out_dtype)
    R.reduce(op, x, o, n, i, out, **kw)
    return out.reshape(o, i)


def close(a, b, dtype, rtol=None):
    rtol = rtol or (2e-5 if dtype == np.float32 else 1e-10)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol, equal_nan=True)


NP_REF = {
    'sum': np.sum, 'nansum': np.nansum, 'prod': np.prod, 'mean': np.mean, 'nanmean': np.nanmean,
    'max': np.max, 'min': np.min, 'all': np.all, 'any': np.any,
    'count_nonzero': lambda a, axis: np.count_nonzero(a, axis=axis),
    'var': lambda a, axis: np.var(a, axis=axis, ddof=1), 'std': lambda a, axis: np.std(a, axis=axis, ddof=1),
    'logsumexp': lambda a, axis: np.log(np.exp(a).sum(axis)),
}


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('op', sorted(NP_REF))
def test_float_ops(op, shape, dtype):
    special = op not in ('logsumexp',)
    x = data(shape, dtype, special)
    X = x.reshape(shape).astype(np.float64)
    odt = {'all': np.bool_, 'any': np.bool_, 'count_nonzero': np.int64}.get(op, dtype)
    with np.errstate(all='ignore'), warnings.catch_warnings():
        warnings.simplefilter('ignore', RuntimeWarning)
        ref = NP_REF[op](X, axis=1)
        if op == 'var' and shape[1] == 1:
            ref = np.full_like(ref, NAN)
    got = run(op, x, shape, odt)
    assert got.dtype == odt
    close(got, ref, dtype)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('p', [2.0, 1.0, 3.0, 0.5, 0.0, INF, -INF, -1.0])
def test_norm(dtype, p):
    for shape in [(4, 7, 1), (2, 5, 3)]:
        x = data(shape, dtype)
        x[2] = 0
        X = np.abs(x.reshape(shape).astype(np.float64))
        with np.errstate(all='ignore'):
            if p == 0:
                ref = (X != 0).sum(1)
            elif p in (INF, -INF):
                ref = X.max(1) if p > 0 else X.min(1)
            else:
                ref = (X ** p).sum(1) ** (1 / p)
        close(run('norm', x, shape, dtype, p=p), ref, dtype)
    x = np.array([1.0, NAN, 2.0], dtype)
    for q in (2.0, 1.0, INF, -INF, 3.0):
        assert np.isnan(run('norm', x, (1, 3, 1), dtype, p=q)[0, 0])


@pytest.mark.parametrize('dtype', [np.int64, np.bool_])
@pytest.mark.parametrize('op', ['sum', 'prod', 'max', 'min', 'all', 'any', 'count_nonzero', 'nansum'])
def test_int_bool_ops(op, dtype):
    for shape in [(4, 7, 1), (2, 5, 3), (1, 9, 1)]:
        x = data(shape, dtype)
        odt = {'all': np.bool_, 'any': np.bool_}.get(op, np.int64)
        if op in ('max', 'min'):
            odt = dtype
        ref = NP_REF[op](x.reshape(shape).astype(np.int64), axis=1)
        got = run(op, x, shape, odt)
        assert got.dtype == odt
        np.testing.assert_array_equal(got, ref.astype(odt))


def test_amax_alias():
    x = data((2, 5, 3), np.float32, special=True)
    np.testing.assert_array_equal(run('amax', x, (2, 5, 3), np.float32), run('max', x, (2, 5, 3), np.float32))
    np.testing.assert_array_equal(run('amin', x, (2, 5, 3), np.float32), x.reshape(2, 5, 3).min(1))


def test_int_sums_wrap_exactly():
    x = np.array([2 ** 62, 2 ** 62, 3], np.int64)
    assert run('sum', x, (1, 3, 1), np.int64)[0, 0] == np.int64(-2 ** 63 + 3)
    assert run('prod', np.array([2 ** 62, 4], np.int64), (1, 2, 1), np.int64)[0, 0] == 0
    big = np.array([2 ** 53 + 1, 1, -1], np.int64)  # never rounded through float64
    assert run('sum', big, (1, 3, 1), np.int64)[0, 0] == 2 ** 53 + 1
    x = RNG.integers(-2 ** 40, 2 ** 40, 1000)
    np.testing.assert_allclose(run('mean', x, (10, 100, 1), np.float64).ravel(), x.reshape(10, 100).mean(1))


def test_empty():
    x = np.empty(0, np.float32)
    fills = {'sum': 0, 'prod': 1, 'mean': NAN, 'var': NAN, 'norm': 0, 'logsumexp': -INF, 'nanmean': NAN,
             'count_nonzero': 0}
    for op, v in fills.items():
        np.testing.assert_array_equal(run(op, x, (2, 0, 3), np.float32), np.full((2, 3), v, np.float32))
    assert run('all', x, (2, 0, 1), np.bool_).all() and not run('any', x, (2, 0, 1), np.bool_).any()
    for op, kw in [('max', {}), ('min', {}), ('norm', {'p': INF}), ('norm', {'p': -1.0})]:
        assert R.needs_nonempty(op, **kw)
        with pytest.raises(RuntimeError):
            run(op, x, (2, 0, 1), np.float32, **kw)
    assert not R.needs_nonempty('sum') and not R.needs_nonempty('norm', 2.0)
    with pytest.raises(RuntimeError):
        R.arg_reduce('argmax', x, 2, 0, 1, None, np.empty(2, np.int64))
    assert run('sum', x, (0, 5, 3), np.float32).shape == (0, 3)  # no outputs: nothing to do


def test_validation():
    x = np.ones(6, np.float32)
    with pytest.raises(ValueError):
        R.reduce('sum', x, 2, 2, 2, np.empty(4, np.float32))
    with pytest.raises(ValueError):
        R.reduce('sum', x, 2, 3, 1, np.empty(3, np.float32))
    with pytest.raises(ValueError):
        R.reduce('median', x, 2, 3, 1, np.empty(2, np.float32))
    with pytest.raises(ValueError):
        R.reduce('sum', x.reshape(2, 3), 2, 3, 1, np.empty(2, np.float32))
    with pytest.raises(ValueError):
        R.arg_reduce('argmax', x, 2, 3, 1, None, np.empty(2, np.int32))


def test_var_correction_and_precision():
    x = np.array([1.0, 2.0], np.float64)
    assert run('var', x, (1, 2, 1), np.float64, correction=0)[0, 0] == 0.25
    assert run('var', x, (1, 2, 1), np.float64, correction=2)[0, 0] == INF
    assert np.isnan(run('var', np.array([INF, 1.0]), (1, 2, 1), np.float64)[0, 0])
    y = (1e4 + RNG.standard_normal(5000)).astype(np.float32)  # two-pass: no cancellation
    close(run('std', y, (1, 5000, 1), np.float32), y.astype(np.float64).std(ddof=1), np.float32, 1e-4)


def test_logsumexp_edges():
    rows = np.array([[-INF, -INF], [INF, 1.0], [INF, -INF], [1.0, NAN], [1000.0, 1000.0]])
    got = run('logsumexp', rows.ravel(), (5, 2, 1), np.float64).ravel()
    np.testing.assert_array_equal(got[:4], [-INF, INF, INF, NAN])
    assert got[4] == pytest.approx(1000 + np.log(2))


# ---------------------------------------------------------------- arg reductions
def arg_ref(X, want_max):
    """torch's rule: first NaN, else first occurrence of the extreme (NumPy's argmax agrees)."""
    return np.argmax(X, 1) if want_max else np.argmin(X, 1)


@pytest.mark.parametrize('dtype', [np.float32, np.float64, np.int64, np.bool_])
@pytest.mark.parametrize('op', ['max', 'min', 'argmax', 'argmin'])
def test_arg_reduce(op, dtype):
    for shape in SHAPES + [(3, 600, 1), (1, 300, 5)]:
        x = data(shape, dtype, special=True)
        if dtype != np.bool_ and x.size > 10:
            x[-3:] = x[2]  # ties
        X = x.reshape(shape)
        oi = np.empty(shape[0] * shape[2], np.int64)
        ov = np.empty(shape[0] * shape[2], dtype) if op in ('max', 'min') else None
        R.arg_reduce(op, x, *shape, ov, oi)
        idx = arg_ref(X, 'max' in op)
        np.testing.assert_array_equal(oi.reshape(idx.shape), idx)
        if ov is not None:
            np.testing.assert_array_equal(ov.reshape(idx.shape), np.take_along_axis(X, idx[:, None], 1)[:, 0])


def test_arg_nan_zero_and_long_rows():
    x = np.array([1.0, NAN, 0.0, NAN], np.float32)
    for op in ('argmax', 'argmin'):
        oi = np.empty(1, np.int64)
        R.arg_reduce(op, x, 1, 4, 1, None, oi)
        assert oi[0] == 1
    z = np.array([0.0, -0.0, 0.0, -0.0] * 10, np.float64)  # -0.0 == 0.0: first index wins
    for op in ('argmax', 'argmin'):
        oi = np.empty(1, np.int64)
        R.arg_reduce(op, z, 1, 40, 1, None, oi)
        assert oi[0] == 0
    y = RNG.standard_normal(5000)  # key path with NaN only in a late block, negative NaN too
    y[4000] = -np.abs(NAN)
    y[4500] = NAN
    oi = np.empty(1, np.int64)
    R.arg_reduce('argmax', y, 1, 5000, 1, None, oi)
    assert oi[0] == 4000
    y[4000] = 1.0
    y[4500] = 10.0
    y[4700] = 10.0
    R.arg_reduce('argmax', y, 1, 5000, 1, None, oi)
    assert oi[0] == 4500


def test_arg_vs_torch():
    torch = pytest.importorskip("torch")
    x = np.array([[1.0, NAN, 0.0, NAN], [3.0, 1.0, 3.0, -INF], [2.0, 2.0, -1.0, -1.0]], np.float32)
    for fn in ('argmax', 'argmin'):
        oi = np.empty(3, np.int64)
        R.arg_reduce(fn, x.ravel(), 3, 4, 1, None, oi)
        np.testing.assert_array_equal(oi, getattr(torch.from_numpy(x), fn)(1).numpy())
        oi = np.empty(4, np.int64)
        R.arg_reduce(fn, x.ravel(), 1, 3, 4, None, oi)
        np.testing.assert_array_equal(oi, getattr(torch.from_numpy(x), fn)(0).numpy())


# ---------------------------------------------------------------- large inputs (parallel kernels)
def test_float32_sum_accuracy():
    ones = np.ones(2 ** 26, np.float32)
    assert run('sum', ones, (1, 2 ** 26, 1), np.float32)[0, 0] == 67108864.0
    x = RNG.random(2 ** 24, dtype=np.float32)
    got = float(run('sum', x, (1, 2 ** 24, 1), np.float32)[0, 0])
    assert abs(got - x.astype(np.float64).sum()) <= 1e-6 * abs(got)


def test_parallel_paths():
    x = RNG.standard_normal(512 * 300).astype(np.float32)
    for shape in [(512, 300, 1), (1, 512, 300), (2, 256, 300), (1, 153600, 1), (3, 51200, 1)]:
        X = x.reshape(shape).astype(np.float64)
        close(run('sum', x, shape, np.float32), X.sum(1), np.float32, 1e-4)
        if shape[0] != 2:
            close(run('var', x, shape, np.float32), X.var(1, ddof=1), np.float32, 1e-4)
        for op in ('argmax', 'argmin'):
            oi = np.empty(shape[0] * shape[2], np.int64)
            R.arg_reduce(op, x, *shape, None, oi)
            np.testing.assert_array_equal(oi, arg_ref(X, op == 'argmax').ravel())
    y = x.copy()
    y[[70000, 90000]] = NAN
    oi = np.empty(1, np.int64)
    R.arg_reduce('argmin', y, 1, y.size, 1, None, oi)
    assert oi[0] == 70000
    assert np.isnan(run('max', y, (1, y.size, 1), np.float32)[0, 0])


# ---------------------------------------------------------------- scans
def scan(op, x, shape, odt):
    o, n, i = shape
    out = np.empty(x.size, odt)
    if op in ('cummax', 'cummin'):
        oi = np.empty(x.size, np.int64)
        S.scan(op, x, o, n, i, out, oi)
        return out.reshape(shape), oi.reshape(shape)
    S.scan(op, x, o, n, i, out)
    return out.reshape(shape)


def cumext_ref(X, want_max):
    """torch's cummax/cummin: NaN sticks (later NaNs take over the index), ties take the later index."""
    v = X.copy()
    idx = np.zeros(X.shape, np.int64)
    for a in range(X.shape[0]):
        for c in range(X.shape[2] if X.shape[1] else 0):
            b, bi = X[a, 0, c], 0
            for k in range(X.shape[1]):
                x = X[a, k, c]
                if x != x or (b == b and (x >= b if want_max else x <= b)):
                    b, bi = x, k
                v[a, k, c], idx[a, k, c] = b, bi
    return v, idx


@pytest.mark.parametrize('dtype', [np.float32, np.float64, np.int64, np.bool_])
def test_scans(dtype):
    for shape in [(1, 1, 1), (3, 6, 1), (2, 5, 3), (1, 0, 2)]:
        x = data(shape, dtype, special=True)
        if dtype == np.float32 and x.size > 4:
            x[x.size // 2] = x[0]
        X = x.reshape(shape)
        acc = np.float64 if X.dtype.kind == 'f' else np.int64
        odt = dtype if X.dtype.kind == 'f' else np.int64
        if dtype != np.bool_:  # the front end scans bool sums as int64
            with np.errstate(all='ignore'):
                close(scan('cumsum', x, shape, odt), np.cumsum(X.astype(acc), 1), dtype)
                close(scan('cumprod', x, shape, odt), np.cumprod(X.astype(acc), 1), dtype)
        for op in ('cummax', 'cummin'):
            v, i = scan(op, x, shape, x.dtype)
            rv, ri = cumext_ref(X, op == 'cummax')
            np.testing.assert_array_equal(v, rv)
            np.testing.assert_array_equal(i, ri)
    if dtype == np.float64:
        x = np.array([-INF, -INF, 1.0, INF, INF, 2.0, NAN, 3.0])
        np.testing.assert_array_equal(scan('logcumsumexp', x, (1, 8, 1), np.float64).ravel(),
                                      [-INF, -INF, 1.0, INF, INF, INF, NAN, NAN])
        y = RNG.standard_normal(30)
        for shape in [(3, 10, 1), (2, 5, 3)]:
            Y = y.reshape(shape)
            close(scan('logcumsumexp', y, shape, np.float64), np.log(np.cumsum(np.exp(Y), 1)), dtype)


def test_scans_vs_torch():
    torch = pytest.importorskip("torch")
    x = np.array([[3.0, 1.0, 3.0, 1.0, NAN, 5.0, NAN], [1.0, 2.0, 2.0, 1.0, 0.0, 3.0, 3.0]], np.float32)
    for op in ('cummax', 'cummin'):
        for dim, shape in ((1, (2, 7, 1)), (0, (1, 2, 7))):
            v, i = scan(op, x.ravel(), shape, np.float32)
            r = getattr(torch.from_numpy(x), op)(dim)
            np.testing.assert_array_equal(v.reshape(x.shape), r.values.numpy())
            np.testing.assert_array_equal(i.reshape(x.shape), r.indices.numpy())
    v = scan('logcumsumexp', x.ravel(), (2, 7, 1), np.float32)
    np.testing.assert_allclose(v.reshape(x.shape), torch.from_numpy(x).logcumsumexp(1).numpy(), rtol=1e-6)


def test_scan_parallel_and_validation():
    x = RNG.standard_normal(300 * 400).astype(np.float32)
    for shape in [(300, 400, 1), (1, 300, 400)]:
        close(scan('cumsum', x, shape, np.float32), np.cumsum(x.reshape(shape).astype(np.float64), 1), np.float32, 1e-4)
        v, i = scan('cummax', x, shape, np.float32)
        np.testing.assert_array_equal(v, np.maximum.accumulate(x.reshape(shape), 1))
    with pytest.raises(ValueError):
        S.scan('cummax', x, 300, 400, 1, np.empty_like(x))  # no index buffer
    with pytest.raises(ValueError):
        S.scan('cumsum', x, 300, 400, 1, np.empty(5, np.float32))


# ---------------------------------------------------------------- softmax
def softmax_ref(X, log):
    m = X.max(1, keepdims=True)
    e = np.exp(X - m)
    s = e.sum(1, keepdims=True)
    return X - m - np.log(s) if log else e / s


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('log', [False, True])
def test_softmax(dtype, log):
    for shape in [(1, 1, 1), (4, 9, 1), (2, 6, 3), (64, 10, 1), (3, 700, 2)]:
        x = (RNG.standard_normal(np.prod(shape)) * 5).astype(dtype)
        out = np.empty_like(x)
        SM.softmax(x, *shape, out, log=log)
        close(out.reshape(shape), softmax_ref(x.reshape(shape).astype(np.float64), log), dtype)
    rows = np.array([[-INF, -INF], [INF, 1.0], [1.0, NAN], [-INF, 1.0], [1000.0, 0.0]], dtype)
    out = np.empty(rows.size, dtype)
    SM.softmax(rows.ravel(), 5, 2, 1, out, log=log)
    out = out.reshape(5, 2)
    assert np.isnan(out[:3]).all()
    np.testing.assert_array_equal(out[3:], [[-INF, 0.0], [0.0, -1000.0]] if log else [[0.0, 1.0], [1.0, 0.0]])


@pytest.mark.parametrize('log', [False, True])
def test_softmax_backward(log):
    for shape in [(4, 9, 1), (2, 6, 3)]:
        x = RNG.standard_normal(np.prod(shape))
        g = RNG.standard_normal(x.size)
        y = np.empty_like(x)
        SM.softmax(x, *shape, y, log=log)
        out = np.empty_like(x)
        SM.softmax_backward(g, y, *shape, out, log=log)
        G, Y = g.reshape(shape), y.reshape(shape)
        ref = G - np.exp(Y) * G.sum(1, keepdims=True) if log else Y * (G - (G * Y).sum(1, keepdims=True))
        close(out.reshape(shape), ref, np.float64)
        eps, k = 1e-6, 3  # finite difference of <g, f(x)> in one coordinate
        xp, xm = x.copy(), x.copy()
        xp[k] += eps
        xm[k] -= eps
        fp, fm = np.empty_like(x), np.empty_like(x)
        SM.softmax(xp, *shape, fp, log=log)
        SM.softmax(xm, *shape, fm, log=log)
        assert out[k] == pytest.approx((g @ fp - g @ fm) / (2 * eps), rel=1e-5, abs=1e-7)


def test_softmax_parallel_and_vs_torch():
    x = RNG.standard_normal(256 * 300).astype(np.float32)
    try:
        import torch
    except ImportError:
        torch = None
    for dim, shape in ((1, (256, 300, 1)), (0, (1, 256, 300))):
        for log in (False, True):
            out = np.empty_like(x)
            SM.softmax(x, *shape, out, log=log)
            close(out.reshape(shape), softmax_ref(x.reshape(shape).astype(np.float64), log), np.float32)
            if torch is not None:
                t = torch.from_numpy(x.reshape(256, 300))
                ref = (t.log_softmax(dim) if log else t.softmax(dim)).numpy()
                np.testing.assert_allclose(out.reshape(256, 300), ref, rtol=2e-5, atol=1e-6)
