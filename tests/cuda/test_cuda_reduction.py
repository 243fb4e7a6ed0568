"""CUDA twins of reduce / arg_reduce / scan / softmax against the CPU entry points (simulator-sized)."""
import numpy as np
import pytest

cuda = pytest.importorskip("numtorch.kernels.cuda")   # skips if numba.cuda unusable

from numba import cuda as nbcuda  # noqa: E402

from numtorch.kernels import reduction as R  # noqa: E402
from numtorch.kernels.cuda import reduction as C  # noqa: E402

# the simulator runs kernels as NumPy scalar code, which warns on NaN/inf arithmetic the GPU does silently
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")
RNG = np.random.default_rng(7)


def _data(size, dtype, nan_at=()):
    if dtype == np.bool_:
        x = RNG.random(size) < 0.5
    elif np.dtype(dtype).kind in 'iu':
        x = RNG.integers(0 if np.dtype(dtype).kind == 'u' else -5, 6, size).astype(dtype)
    else:
        x = RNG.standard_normal(size).astype(dtype)
        for i in nan_at:
            x[i] = np.nan
    return x


def _same(a, b, dtype=None):
    dt = np.dtype(dtype or a.dtype)
    if dt.kind == 'f':
        tol = 2e-6 if dt == np.float32 else 1e-12
        np.testing.assert_allclose(b, a, rtol=tol, atol=tol, equal_nan=True)
    else:
        np.testing.assert_array_equal(b, a)


def _reduce_both(op, x, outer, n, inner, odt, **kw):
    """reduce through the CPU entry point on host buffers and on device copies (the hook)."""
    m = outer * inner
    ref = R.reduce(op, x, outer, n, inner, np.zeros(m, odt), **kw)
    d = nbcuda.to_device(np.zeros(m, odt))
    got = R.reduce(op, nbcuda.to_device(x), outer, n, inner, d, **kw)
    assert got is d
    _same(ref, d.copy_to_host())
    return ref


_OUT = {'all': np.bool_, 'any': np.bool_, 'count_nonzero': np.int64}


@pytest.mark.parametrize('op', R._OPS)
def test_reduce_every_op(op):
    kw = {'p': 3.0} if op == 'norm' else {}
    _reduce_both(op, _data(20, np.float64), 2, 5, 2, _OUT.get(op, np.float64), **kw)


@pytest.mark.parametrize('op', R._OPS)
def test_reduce_every_op_columns(op):
    """inner >= _COL_MIN: a thread per column (coalesced reads) instead of a block per column."""
    assert C._COL_MIN <= 6
    kw = {'p': 3.0} if op == 'norm' else {}
    x = _data(2 * 5 * 6, np.float64)
    x[7] = np.nan
    _reduce_both(op, x, 2, 5, 6, _OUT.get(op, np.float64), **kw)
    _reduce_both(op, _data(3 * 4 * 8, np.float32), 3, 4, 8, _OUT.get(op, np.float32), **kw)


@pytest.mark.parametrize('layout', [(1, 7, 1), (3, 1, 2), (1, 4, 3), (2, 3, 1)])
@pytest.mark.parametrize('op', ['sum', 'var', 'amax'])
def test_reduce_layouts(op, layout):
    outer, n, inner = layout
    _reduce_both(op, _data(outer * n * inner, np.float32), outer, n, inner, np.float32)


@pytest.mark.parametrize('dtype', [np.int64, np.int32, np.uint8, np.bool_])
@pytest.mark.parametrize('op', ['sum', 'prod', 'all', 'any', 'count_nonzero', 'max', 'min'])
def test_reduce_int_bool(op, dtype):
    odt = _OUT.get(op, np.int64 if op in ('sum', 'prod') else dtype)
    _reduce_both(op, _data(8, dtype), 2, 4, 1, odt)


@pytest.mark.parametrize('op,kw', [('var', {}), ('std', {'correction': 0}), ('mean', {}),
                                   ('nanmean', {}), ('logsumexp', {}), ('norm', {'p': 2.0}),
                                   ('norm', {'p': 0.0}), ('norm', {'p': 1.5})])
def test_reduce_float_ops_of_ints(op, kw):
    _reduce_both(op, _data(8, np.int64), 2, 4, 1, np.float64, **kw)


@pytest.mark.parametrize('p', [1.0, 2.0, np.inf, -np.inf, 0.0, -1.0])
def test_norm_orders(p):
    x = _data(8, np.float32)
    x[5] = 0.0
    _reduce_both('norm', x, 2, 4, 1, np.float32, p=p)


def test_var_correction():
    for correction in (0, 2):  # n - 2 == 0: x / 0
        _reduce_both('var', _data(4, np.float64), 2, 2, 1, np.float64, correction=correction)
    _reduce_both('std', _data(2, np.float64), 1, 1, 2, np.float64)  # n = 1


@pytest.mark.parametrize('op', ['sum', 'nansum', 'mean', 'nanmean', 'amax', 'amin', 'logsumexp', 'norm',
                                'var', 'prod'])
def test_reduce_nan(op):
    x = _data(12, np.float64, nan_at=(1, 6, 7, 8))  # rows: one NaN, all NaN, two NaN
    x[4] = np.inf
    _reduce_both(op, x, 3, 4, 1, np.float64)


def test_logsumexp_infinities():
    x = np.array([np.inf, 1.0, 2.0, -np.inf, -np.inf, -np.inf, np.inf, np.inf, 3.0], np.float64)
    ref = _reduce_both('logsumexp', x, 3, 3, 1, np.float64)
    assert ref[0] == np.inf and ref[1] == -np.inf and ref[2] == np.inf


def test_full_sum_of_float32_ones_is_exact():
    x = np.ones(2 ** 12, np.float32)
    d = nbcuda.to_device(np.zeros(1, np.float32))
    R.reduce('sum', nbcuda.to_device(x), 1, 2 ** 12, 1, d)
    assert d.copy_to_host()[0] == 4096.0
    assert C._nch(1, 2 ** 12) > 1  # the two-pass path


@pytest.mark.parametrize('op,layout', [('sum', (1, 300, 1)), ('sum', (2, 200, 1)), ('sum', (1, 150, 2)),
                                       ('var', (1, 150, 2)), ('max', (2, 200, 1)), ('logsumexp', (1, 300, 1)),
                                       ('all', (2, 200, 1)), ('norm', (1, 150, 2))])
def test_two_pass(op, layout):
    outer, n, inner = layout
    assert C._nch(outer * inner, n) > 1
    x = _data(outer * n * inner, np.float64)
    if op == 'all':
        x[77] = 0.0
    _reduce_both(op, x, outer, n, inner, _OUT.get(op, np.float64), **({'p': 3.0} if op == 'norm' else {}))


def test_two_pass_ints():
    _reduce_both('sum', _data(300, np.int64), 1, 300, 1, np.int64)
    _reduce_both('prod', np.where(_data(300, np.int64) > 3, 2, 1).astype(np.int64), 1, 300, 1, np.int64)


def test_reduce_empty_and_errors():
    for op in ('sum', 'prod', 'mean', 'all', 'any', 'count_nonzero', 'logsumexp', 'norm', 'var'):
        _reduce_both(op, np.zeros(0, np.float32), 2, 0, 2, _OUT.get(op, np.float32))
    for op, kw in (('max', {}), ('amin', {}), ('norm', {'p': np.inf})):
        with pytest.raises(RuntimeError):
            R.reduce(op, nbcuda.to_device(np.zeros(0)), 2, 0, 1, nbcuda.to_device(np.zeros(2)), **kw)
    d = nbcuda.to_device(np.zeros(0))
    assert R.reduce('max', nbcuda.to_device(np.zeros(0)), 0, 3, 1, d) is d
    with pytest.raises(ValueError):
        R.reduce('median', nbcuda.to_device(np.zeros(4)), 1, 4, 1, nbcuda.to_device(np.zeros(1)))
    with pytest.raises(ValueError):
        R.reduce('sum', nbcuda.to_device(np.zeros(4)), 1, 3, 1, nbcuda.to_device(np.zeros(1)))
    with pytest.raises(ValueError):
        R.reduce('sum', nbcuda.to_device(np.zeros(4)), 1, 4, 1, nbcuda.to_device(np.zeros(2)))
    with pytest.raises(TypeError):
        R.reduce('sum', nbcuda.to_device(np.zeros(4, np.uint64)), 1, 4, 1, nbcuda.to_device(np.zeros(1)))


# ----------------------------------------------------------------------------- arg reductions
def _arg_both(op, x, outer, n, inner, vdt='same'):
    m = outer * inner
    vdt = x.dtype if vdt == 'same' else vdt
    rv = None if vdt is None else np.zeros(m, vdt)
    ri = np.zeros(m, np.int64)
    R.arg_reduce(op, x, outer, n, inner, rv, ri)
    dv = None if vdt is None else nbcuda.to_device(np.zeros(m, vdt))
    di = nbcuda.to_device(np.zeros(m, np.int64))
    res = R.arg_reduce(op, nbcuda.to_device(x), outer, n, inner, dv, di)
    assert res[0] is dv and res[1] is di
    np.testing.assert_array_equal(di.copy_to_host(), ri)
    if vdt is not None:
        _same(rv, dv.copy_to_host())
    return ri


@pytest.mark.parametrize('op', ['max', 'min', 'argmax', 'argmin'])
def test_arg_reduce_ties_and_nan(op):
    # rows: ties, ties + NaN twice, all NaN, plain, single -inf/inf ties
    x = np.array([3, 1, 3, 0, 3, 1,
                  1, np.nan, 5, np.nan, 5, -1,
                  np.nan, np.nan, np.nan, np.nan, np.nan, np.nan,
                  0, 2, -4, 7, 7, -4,
                  -np.inf, np.inf, -np.inf, np.inf, 0, 0], np.float32)
    _arg_both(op, x, 5, 6, 1)
    _arg_both(op, x, 1, 5, 6)  # columns: inner > 1 (a thread per column: inner >= _COL_MIN)
    _arg_both(op, x[:15], 1, 5, 3)  # narrow columns: a block per column


@pytest.mark.parametrize('dtype', [np.float64, np.int64, np.int32, np.bool_, np.uint8])
def test_arg_reduce_dtypes(dtype):
    x = _data(12, dtype)
    _arg_both('max', x, 2, 3, 2)
    _arg_both('argmin', x, 3, 4, 1)


def test_arg_reduce_values_none_cast_n1():
    x = _data(12, np.float32)
    _arg_both('argmax', x, 3, 4, 1, vdt=None)
    _arg_both('max', x, 3, 4, 1, vdt=np.float64)
    _arg_both('min', x, 2, 1, 6)


def test_arg_reduce_two_pass():
    x = _data(300, np.float64)
    x[[40, 250]] = 9.0  # tie across chunks: the first wins
    assert _arg_both('max', x, 1, 300, 1)[0] == 40
    x[[200, 290]] = np.nan
    assert _arg_both('min', x, 1, 300, 1)[0] == 200
    _arg_both('argmin', _data(300, np.int64), 1, 150, 2)


def test_arg_reduce_empty_and_errors():
    di = nbcuda.to_device(np.zeros(2, np.int64))
    with pytest.raises(RuntimeError):
        R.arg_reduce('max', nbcuda.to_device(np.zeros(0)), 2, 0, 1, None, di)
    e = nbcuda.to_device(np.zeros(0, np.int64))
    assert R.arg_reduce('max', nbcuda.to_device(np.zeros(0)), 0, 5, 1, None, e) == (None, e)
    with pytest.raises(ValueError):
        R.arg_reduce('median', nbcuda.to_device(np.zeros(4)), 2, 2, 1, None, di)
    with pytest.raises(ValueError):
        R.arg_reduce('max', nbcuda.to_device(np.zeros(4)), 2, 2, 1, None,
                     nbcuda.to_device(np.zeros(2, np.int32)))


# ----------------------------------------------------------------------------- scans
def _scan_both(op, x, outer, n, inner, odt=None):
    total = outer * n * inner
    odt = odt or x.dtype
    idx = op in ('cummax', 'cummin')
    ro = np.zeros(total, odt)
    ri = np.zeros(total, np.int64) if idx else None
    R.scan(op, x, outer, n, inner, ro, ri)
    do = nbcuda.to_device(np.zeros(total, odt))
    di = nbcuda.to_device(np.zeros(total, np.int64)) if idx else None
    res = R.scan(op, nbcuda.to_device(x), outer, n, inner, do, di)
    assert (res == (do, di)) if idx else (res is do)
    _same(ro, do.copy_to_host())
    if idx:
        np.testing.assert_array_equal(di.copy_to_host(), ri)


@pytest.mark.parametrize('layout', [(2, 4, 1), (1, 4, 3), (3, 1, 2), (2, 0, 2)])
@pytest.mark.parametrize('op', ['cumsum', 'cumprod', 'logcumsumexp', 'cummax', 'cummin'])
def test_scan_float(op, layout):
    outer, n, inner = layout
    x = _data(outer * n * inner, np.float64, nan_at=(5,) if outer * n * inner > 8 else ())
    _scan_both(op, x, outer, n, inner)


@pytest.mark.parametrize('dtype', [np.float32, np.int64, np.int32, np.bool_])
@pytest.mark.parametrize('op', ['cumsum', 'cumprod', 'cummax', 'cummin'])
def test_scan_dtypes(op, dtype):
    x = _data(12, dtype)
    wide = op in ('cumsum', 'cumprod') and dtype != np.float32
    _scan_both(op, x, 2, 3, 2, np.int64 if wide else dtype)


def test_scan_special_values():
    x = np.array([1, 1, 0, 1, np.inf, np.inf, -np.inf, 2, np.nan, 1, -np.inf, -np.inf], np.float64)
    for op in ('cummax', 'cummin', 'logcumsumexp', 'cumsum'):
        _scan_both(op, x, 1, 12, 1)
    _scan_both('logcumsumexp', _data(8, np.int64), 2, 4, 1, np.float64)
    _scan_both('cumsum', np.ones(64, np.float32), 1, 64, 1)
    with pytest.raises(ValueError):
        R.scan('cumlogsum', nbcuda.to_device(x), 1, 12, 1, nbcuda.to_device(x))
    with pytest.raises(ValueError):
        R.scan('cummax', nbcuda.to_device(x), 1, 12, 1, nbcuda.to_device(np.zeros(12, np.float32)),
               nbcuda.to_device(np.zeros(12, np.int64)))
    with pytest.raises(ValueError):
        R.scan('cummax', nbcuda.to_device(x), 1, 12, 1, nbcuda.to_device(x), None)


# ----------------------------------------------------------------------------- softmax
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('layout', [(2, 5, 1), (1, 4, 3), (3, 1, 1), (2, 0, 3)])
def test_softmax(layout, dtype):
    outer, n, inner = layout
    total = outer * n * inner
    x = _data(total, dtype)
    for log in (False, True):
        ref = R.softmax(x, outer, n, inner, np.zeros(total, dtype), log=log)
        d = nbcuda.to_device(np.zeros(total, dtype))
        assert R.softmax(nbcuda.to_device(x), outer, n, inner, d, log=log) is d
        _same(ref, d.copy_to_host())


def test_softmax_special_rows():
    x = np.array([0, 1, np.nan, 2, -np.inf, -np.inf, -np.inf, -np.inf, 1000, -1000, np.inf, 3], np.float64)
    for log in (False, True):
        ref = R.softmax(x, 3, 4, 1, np.zeros(12), log=log)
        d = nbcuda.to_device(np.zeros(12))
        R.softmax(nbcuda.to_device(x), 3, 4, 1, d, log=log)
        _same(ref, d.copy_to_host())
    with pytest.raises(ValueError):
        R.softmax(nbcuda.to_device(_data(4, np.int64)), 1, 4, 1, nbcuda.to_device(np.zeros(4, np.int64)))


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('layout', [(2, 5, 1), (1, 3, 4), (2, 0, 1)])
def test_softmax_backward(layout, dtype):
    outer, n, inner = layout
    total = outer * n * inner
    g, y = _data(total, dtype), _data(total, dtype)
    for log in (False, True):
        ref = R.softmax_backward(g, y, outer, n, inner, np.zeros(total, dtype), log=log)
        d = nbcuda.to_device(np.zeros(total, dtype))
        assert R.softmax_backward(nbcuda.to_device(g), nbcuda.to_device(y), outer, n, inner, d, log=log) is d
        _same(ref, d.copy_to_host())
    with pytest.raises(ValueError):
        R.softmax_backward(nbcuda.to_device(g), nbcuda.to_device(y.astype(np.float16)), outer, n, inner,
                           nbcuda.to_device(np.zeros(total, dtype)))


def test_needs_nonempty_reexported():
    assert C.needs_nonempty('amax') and C.needs_nonempty('norm', -1.0) and not C.needs_nonempty('sum')
