"""numtorch.kernels.index against NumPy (and torch when installed) on several layouts."""
import importlib
import numpy as np
import pytest

from numtorch.kernels import index as K

RNG = np.random.default_rng(0)


def desc(v, buf):
    """(offset, strides, shape) in elements of NumPy view ``v`` into flat ``buf``."""
    it = buf.itemsize
    off = (v.__array_interface__['data'][0] - buf.__array_interface__['data'][0]) // it
    return off, np.array([s // it for s in v.strides], np.int64), np.array(v.shape, np.int64)


def make(shape, dtype, layout):
    """A flat buffer and a view of it with ``shape`` in the given layout."""
    n = int(np.prod(shape))
    if layout == 'contig':
        buf = RNG.standard_normal(max(n, 1)).astype(dtype) if dtype != np.bool_ else RNG.random(max(n, 1)) > .5
        return buf, buf[:n].reshape(shape)
    if layout == 'transposed':
        buf, v = make(shape[::-1], dtype, 'contig')
        return buf, v.T
    if layout == 'step':
        buf, v = make(tuple(s * 2 for s in shape), dtype, 'contig')
        return buf, v[tuple(slice(1, None, 2) for _ in shape)]
    if layout == 'bcast':  # stride 0 in the first dim
        buf, v = make((1,) + tuple(shape[1:]), dtype, 'contig')
        return buf, np.broadcast_to(v, shape)
    if layout == 'flip':  # negative strides (flip/roll callers)
        buf, v = make(shape, dtype, 'contig')
        return buf, v[::-1, ::-1]
    raise ValueError(layout)


LAYOUTS = ['contig', 'transposed', 'step', 'bcast', 'flip']


# ----------------------------------------------------------------------------- copy_strided
@pytest.mark.parametrize('layout', LAYOUTS)
@pytest.mark.parametrize('shape', [(5, 7), (3, 4, 9), (40, 33)])
def test_copy_layouts(layout, shape):
    buf, v = make(shape, np.float32, layout)
    out = np.full(int(np.prod(shape)), -1, np.float32)
    off, st, sh = desc(v, buf)
    K.copy_strided(buf, off, st, out, 0, np.array(np.cumprod((1,) + shape[:0:-1])[::-1]), sh)
    np.testing.assert_array_equal(out.reshape(shape), v)


@pytest.mark.parametrize('layout', ['contig', 'transposed', 'step'])
def test_copy_into_strided_dst(layout):
    # copy_ / setitem: destination is the strided view
    dbuf, dv = make((6, 10), np.float32, layout)
    src = np.arange(60, dtype=np.float32).reshape(6, 10)
    keep = dbuf.copy()
    off, st, sh = desc(dv, dbuf)
    K.copy_strided(src.ravel(), 0, [10, 1], dbuf, off, st, sh)
    np.testing.assert_array_equal(dv, src)
    if layout == 'step':  # untouched elements stay
        assert dbuf[0] == keep[0]


def test_copy_cast_rules():
    x = np.array([np.nan, 1e10, -1e10, 300., -1., 2.7, -2.7, np.inf, -129.5, 3e9, 0., -0.], np.float32)
    exp = {
        np.int64: [-2**63, 10**10, -10**10, 300, -1, 2, -2, -2**63, -129, 3 * 10**9, 0, 0],
        np.int32: [-2**31, -2**31, -2**31, 300, -1, 2, -2, -2**31, -129, -2**31, 0, 0],
        np.uint8: [0, 0, 0, 44, 255, 2, 254, 0, 127, 0, 0, 0],
        np.bool_: [True] * 10 + [False, False],
    }
    for dt, want in exp.items():
        out = np.empty(x.size, dt)
        K.copy_strided(x, 0, [1], out, 0, [1], [x.size])
        assert out.tolist() == [bool(w) if dt == np.bool_ else w for w in want], dt


def test_copy_cast_ints_bool():
    i = np.array([300, -1, 2**40 + 5, 0], np.int64)
    out = np.empty(4, np.int32)
    K.copy_strided(i, 0, [1], out, 0, [1], [4])
    assert out.tolist() == [300, -1, 5, 0]
    b = np.empty(4, np.bool_)
    K.copy_strided(i, 0, [1], b, 0, [1], [4])
    assert b.tolist() == [True, True, True, False]
    f = np.empty(4, np.float32)
    K.copy_strided(b, 0, [1], f, 0, [1], [4])
    assert f.dtype == np.float32 and f.tolist() == [1., 1., 1., 0.]


@pytest.mark.parametrize('layout', ['transposed', 'step'])
def test_copy_cast_into_strided_dst(layout):
    # N-d cast with strided dst: bit move to a temporary, 1-D cast, bit move out
    dbuf, dv = make((5, 9), np.int32, layout)
    src = (RNG.standard_normal((5, 9)) * 50).astype(np.float32)
    off, st, sh = desc(dv, dbuf)
    K.copy_strided(src.ravel(), 0, [9, 1], dbuf, off, st, sh)
    np.testing.assert_array_equal(dv, np.trunc(src).astype(np.int32))


def test_copy_cast_matches_torch():
    torch = pytest.importorskip('torch')
    x = np.array([np.nan, 1e10, -3e9, 300., -1.5, 2.7, np.inf, -129.5], np.float32)
    for dt, tdt in [(np.int64, torch.int64), (np.int32, torch.int32), (np.uint8, torch.uint8)]:
        out = np.empty(x.size, dt)
        K.copy_strided(x, 0, [1], out, 0, [1], [x.size])
        assert out.tolist() == torch.from_numpy(x).to(tdt).tolist()


@pytest.mark.parametrize('n,m', [(30, 40), (300, 400)])  # 120k elements: parallel tiled path
def test_copy_transposed_cast(n, m):
    a = (RNG.standard_normal((n, m)) * 100).astype(np.float32)
    dt = np.int32 if n < 100 else np.float32
    out = np.empty(a.size, dt)
    K.copy_strided(a.ravel(), 0, [1, m], out, 0, [n, 1], [m, n])
    np.testing.assert_array_equal(out.reshape(m, n), np.trunc(a.T).astype(dt) if n < 100 else a.T)


def test_copy_permuted_3d_and_big_rows():
    a = RNG.standard_normal((8, 64, 300)).astype(np.float32)
    for perm in [(2, 0, 1), (1, 2, 0), (0, 2, 1), (1, 0, 2)]:
        v = a.transpose(perm)
        out = np.empty(a.size, np.float32)
        off, st, sh = desc(v, a.ravel())
        K.copy_strided(a.ravel(), off, st, out, 0, np.array(np.cumprod((1,) + v.shape[:0:-1])[::-1]), sh)
        np.testing.assert_array_equal(out.reshape(v.shape), v)


def test_copy_big_contig_and_serial(monkeypatch):
    x = RNG.standard_normal(100_003).astype(np.float32)
    y = np.empty_like(x)
    K.copy_strided(x, 0, [1], y, 0, [1], [x.size])
    np.testing.assert_array_equal(x, y)
    monkeypatch.setattr(importlib.import_module('numtorch.kernels.copy'), 'PARALLEL', False)
    y[:] = 0
    K.copy_strided(x, 3, [2], y, 0, [1], [50_000])
    np.testing.assert_array_equal(y[:50_000], x[3::2][:50_000])


def test_copy_0d_empty_float16():
    x = np.array([1.5, 2.5], np.float32)
    out = np.zeros(3, np.float32)
    K.copy_strided(x, 1, [], out, 2, [], [])
    assert out.tolist() == [0, 0, 2.5]
    K.copy_strided(x, 0, [1, 1], out, 0, [1, 1], [0, 4])  # empty: nothing touched
    h = np.arange(6, dtype=np.float16)
    out = np.empty(6, np.float32)
    K.copy_strided(h, 0, [1, 3], out, 0, [2, 1], [3, 2])  # cast: NumPy fallback
    np.testing.assert_array_equal(out.reshape(3, 2), h.reshape(2, 3).T)
    h2 = np.empty(6, np.float16)
    K.copy_strided(h, 0, [1, 3], h2, 0, [2, 1], [3, 2])  # same dtype: 16-bit moves
    np.testing.assert_array_equal(h2.reshape(3, 2), h.reshape(2, 3).T)


def test_tril_mask_fill():
    for k in (-1, 0, 2):
        for upper in (False, True):
            a = RNG.standard_normal((3, 4, 5))
            b = a.copy().ravel()
            K.tril_mask_fill(b, 4, 5, 3, k, upper)
            ref = np.triu(a, k) if upper else np.tril(a, k)
            np.testing.assert_array_equal(b.reshape(3, 4, 5), ref)
    a = RNG.standard_normal((300, 300))
    b = a.copy().ravel()
    K.tril_mask_fill(b, 300, 300, 1, 0, False)
    np.testing.assert_array_equal(b.reshape(300, 300), np.tril(a))


# ----------------------------------------------------------------------------- checks
def test_check_range_and_wrap():
    idx = np.array([0, 2, -3, 1], np.int64)
    assert K.check_range(idx, 3) == (True, 0)
    assert K.check_range(idx, 3, allow_negative=False) == (False, -3)
    assert K.check_range(np.array([1, 5, 7], np.int64), 3) == (False, 5)
    assert K.check_range(np.zeros(0, np.int64), 0) == (True, 0)
    assert K.wrap_negative(idx, 3).tolist() == [0, 2, 0, 1]
    K.wrap_negative(idx, 3, out=idx)
    assert idx.tolist() == [0, 2, 0, 1]


# ----------------------------------------------------------------------------- gather / scatter
def _ref_gather(x, idx, dim):
    sl = tuple(slice(0, n) if d != dim else slice(None) for d, n in enumerate(idx.shape))
    return np.take_along_axis(x[sl], idx, dim)


@pytest.mark.parametrize('layout', ['contig', 'transposed', 'step', 'bcast'])
@pytest.mark.parametrize('dim', [0, 1, 2])
def test_gather(layout, dim):
    buf, x = make((4, 5, 6), np.float64, layout)
    ishape = [3, 4, 5]
    ishape[dim] = 7
    idx = RNG.integers(0, x.shape[dim], ishape).astype(np.int64)
    out = np.empty(idx.size, np.float64)
    off, st, _ = desc(x, buf)
    K.gather(buf, off, st, idx.ravel(), idx.shape, dim, out)
    np.testing.assert_array_equal(out.reshape(idx.shape), _ref_gather(x, idx, dim))


def test_gather_parallel_negative_empty():
    x = RNG.standard_normal((300, 400)).astype(np.float64)
    idx = RNG.integers(-400, 400, (300, 500)).astype(np.int64)
    out = np.empty(idx.size, np.float64)
    K.gather(x.ravel(), 0, [400, 1], idx.ravel(), idx.shape, 1, out, dim_size=400)
    np.testing.assert_array_equal(out.reshape(idx.shape), np.take_along_axis(x, idx % 400, 1))
    K.gather(x.ravel(), 0, [400, 1], np.zeros(0, np.int64), (0, 3), 1, np.empty(0, np.float64))


@pytest.mark.parametrize('layout', ['contig', 'transposed', 'step'])
def test_scatter_set_and_scalar(layout):
    buf, s = make((4, 6), np.float64, layout)
    ref = s.copy()
    idx = np.array([RNG.permutation(6)[:3] for _ in range(4)], np.int64)
    src = RNG.standard_normal((4, 3))
    off, st, _ = desc(s, buf)
    K.scatter(buf, off, st, idx.ravel(), idx.shape, 1, src.ravel(), 0, [3, 1])
    np.put_along_axis(ref, idx, src, 1)
    np.testing.assert_array_equal(s, ref)
    K.scatter(buf, off, st, idx.ravel(), idx.shape, 1, 7.0, 0, None)
    np.put_along_axis(ref, idx, 7.0, 1)
    np.testing.assert_array_equal(s, ref)


def _coords(idx, dim):
    grid = list(np.indices(idx.shape))
    grid[dim] = idx
    return tuple(grid)


@pytest.mark.parametrize('reduce,ufunc', [('add', np.add), ('multiply', np.multiply),
                                          ('amax', np.maximum), ('amin', np.minimum)])
@pytest.mark.parametrize('dim', [0, 1])
def test_scatter_reduce_duplicates(reduce, ufunc, dim):
    s = RNG.standard_normal((5, 6))
    s[1, 1] = np.nan
    idx = RNG.integers(0, s.shape[dim], (4, 5)).astype(np.int64)
    src = RNG.standard_normal((5, 7))
    src[0, 0] = np.nan
    ref = s.copy()
    ufunc.at(ref, _coords(idx, dim), src[:4, :5])
    out = s.copy().ravel()
    K.scatter(out, 0, [6, 1], idx.ravel(), idx.shape, dim, src.ravel(), 0, [7, 1], reduce)
    np.testing.assert_array_equal(out.reshape(5, 6), ref)


@pytest.mark.parametrize('dim', [0, 1])
def test_scatter_add_parallel(dim):
    s = np.zeros((300, 400))
    idx = RNG.integers(0, s.shape[dim], (300, 400)).astype(np.int64)
    src = RNG.standard_normal((300, 400))
    ref = s.copy()
    np.add.at(ref, _coords(idx, dim), src)
    out = s.ravel().copy()
    K.scatter(out, 0, [400, 1], idx.ravel(), idx.shape, dim, src.ravel(), 0, [400, 1], 'add')
    np.testing.assert_allclose(out.reshape(s.shape), ref, rtol=1e-12, atol=1e-12)


def test_scatter_int_and_torch():
    s = np.zeros(5, np.int64)
    K.scatter(s, 0, [1], np.array([0, 0, 3], np.int64), [3], 0, np.array([1, 2, 3], np.int64), 0, [1], 'add')
    assert s.tolist() == [3, 0, 0, 3, 0]
    torch = pytest.importorskip('torch')
    t = torch.arange(6.).reshape(2, 3)
    ref = t.scatter_reduce(1, torch.tensor([[0, 0]]), torch.tensor([[float('nan'), 5.]]), 'amax')
    b = np.arange(6.)
    K.scatter(b, 0, [3, 1], np.array([0, 0], np.int64), [1, 2], 1, np.array([np.nan, 5.]), 0, [2, 1], 'amax')
    np.testing.assert_array_equal(b.reshape(2, 3), ref.numpy())


@pytest.mark.parametrize('layout', ['contig', 'transposed', 'step', 'bcast'])
@pytest.mark.parametrize('dim', [0, 1])
def test_index_select(layout, dim):
    buf, x = make((5, 6), np.float64, layout)
    idx = np.array([4, 0, 0, 2], np.int64)
    oshape = list(x.shape)
    oshape[dim] = idx.size
    out = np.empty(int(np.prod(oshape)), np.float64)
    off, st, sh = desc(x, buf)
    K.index_select(buf, off, st, sh, dim, idx, out)
    np.testing.assert_array_equal(out.reshape(oshape), np.take(x, idx, axis=dim))


def test_index_select_embedding_parallel():
    w = RNG.standard_normal((1000, 64)).astype(np.float64)
    idx = RNG.integers(0, 1000, 2000).astype(np.int64)
    out = np.empty((2000, 64), np.float64)
    K.index_select(w.ravel(), 0, [64, 1], [1000, 64], 0, idx, out.ravel())
    np.testing.assert_array_equal(out, w[idx])


@pytest.mark.parametrize('dim', [0, 1, 2])
def test_index_add_copy_fill(dim):
    s = RNG.standard_normal((4, 5, 6))
    t = s.transpose(1, 0, 2).copy().transpose(1, 0, 2)  # strided self
    buf = t.base.ravel() if t.base is not None else t.ravel()
    off, st, sh = desc(t, buf)
    idx = np.array([1, 3, 1, 0], np.int64)
    sshape = list(s.shape)
    sshape[dim] = idx.size
    src = RNG.standard_normal(sshape)
    ref = np.moveaxis(s.copy(), dim, 0)
    np.add.at(ref, idx, 2.5 * np.moveaxis(src, dim, 0))
    K.index_add(buf, off, st, sh, dim, idx, src.ravel(), alpha=2.5)
    np.testing.assert_allclose(t, np.moveaxis(ref, 0, dim), rtol=1e-12)
    uniq = np.array([3, 0], np.int64)
    sshape[dim] = 2
    src2 = RNG.standard_normal(sshape)
    K.index_copy(buf, off, st, sh, dim, uniq, src2.ravel())
    np.testing.assert_array_equal(np.take(t, uniq, axis=dim), src2)
    K.index_fill(buf, off, st, sh, dim, uniq, -1.0)
    assert (np.take(t, uniq, axis=dim) == -1).all()


def test_index_add_big_and_int():
    s = np.zeros((500, 300), np.float64)
    idx = RNG.integers(0, 500, 1000).astype(np.int64)
    src = RNG.standard_normal((1000, 300)).astype(np.float64)
    ref = s.copy()
    np.add.at(ref, idx, src)
    K.index_add(s.ravel(), 0, [300, 1], s.shape, 0, idx, src.ravel())
    np.testing.assert_allclose(s, ref, rtol=1e-5, atol=1e-5)
    c = np.zeros(3, np.int64)
    K.index_add(c, 0, [1], [3], 0, np.array([2, 2], np.int64), np.array([5, 6], np.int64), alpha=2)
    assert c.tolist() == [0, 0, 22]


# ----------------------------------------------------------------------------- masked
@pytest.mark.parametrize('n', [0, 17, 100_000])
def test_masked_select_scatter(n):
    x = RNG.standard_normal(n)
    m = RNG.random(n) > .4
    np.testing.assert_array_equal(K.masked_select(x, m), x[m])
    src = RNG.standard_normal(n)
    y = x.copy()
    K.masked_scatter(y, m, src)
    ref = x.copy()
    ref[m] = src[:m.sum()]
    np.testing.assert_array_equal(y, ref)


def test_masked_scatter_too_few():
    with pytest.raises(RuntimeError, match="Number of elements of source < number of ones in mask"):
        K.masked_scatter(np.zeros(4), np.ones(4, bool), np.ones(3))


@pytest.mark.parametrize('layout', ['contig', 'transposed', 'step'])
def test_masked_fill_broadcast(layout):
    buf, s = make((6, 7), np.float64, layout)
    ref = s.copy()
    mrow = RNG.random(7) > .5
    off, st, sh = desc(s, buf)
    K.masked_fill(buf, off, st, sh, mrow, 0, [0, 1], 3.5)  # mask broadcast over rows
    ref[:, mrow] = 3.5
    np.testing.assert_array_equal(s, ref)
    mfull = RNG.random((6, 7)) > .5
    K.masked_fill(buf, off, st, sh, mfull.ravel(), 0, [7, 1], -1)
    ref[mfull] = -1
    np.testing.assert_array_equal(s, ref)


def test_masked_fill_bool_nan_and_scatter_cast():
    b = np.zeros(4, np.bool_)
    K.masked_fill(b, 0, [1], [4], np.array([1, 0, 1, 0], np.bool_), 0, [1], True)
    assert b.tolist() == [True, False, True, False]
    f = np.zeros(3)
    K.masked_fill(f, 0, [1], [3], np.ones(1, np.bool_), 0, [0], np.nan)
    assert np.isnan(f).all()
    s = np.zeros(4, np.float64)  # src of another dtype is cast to self's dtype
    K.scatter(s, 0, [1], np.array([3, 1], np.int64), [2], 0, np.array([True, True]), 0, [1])
    assert s.tolist() == [0, 1, 0, 1]
    with pytest.raises(TypeError):
        K.gather(s, 0, [1], np.array([0], np.int64), [1], 0, np.empty(1, np.float32))


def test_masked_fill_big():
    s = np.arange(100_001, dtype=np.float64)
    m = RNG.random(100_001) > .5
    ref = s.copy()
    ref[m] = 7
    K.masked_fill(s, 0, [1], [s.size], m, 0, [1], 7)
    np.testing.assert_array_equal(s, ref)


# ----------------------------------------------------------------------------- nonzero / take
@pytest.mark.parametrize('layout', ['contig', 'transposed', 'step', 'bcast'])
def test_nonzero(layout):
    buf, x = make((5, 4, 6), np.float64, layout)
    buf[RNG.random(buf.size) > .5] = 0
    off, st, sh = desc(x, buf)
    np.testing.assert_array_equal(K.nonzero(buf, off, st, sh), np.argwhere(x))


def test_nonzero_signed_zero_nan_int():
    x = np.array([-0.0, 0.0, np.nan, 1.0, -2.0, np.inf], np.float64)
    assert K.nonzero(x, 0, [1], [6]).ravel().tolist() == [2, 3, 4, 5]
    i = np.array([0, -1, 0, 5], np.int64)
    assert K.nonzero(i, 0, [2, 1], [2, 2]).tolist() == [[0, 1], [1, 1]]


def test_nonzero_bool_big_0d_empty():
    x = RNG.random((300, 400)) > .7
    got = K.nonzero(x.ravel(), 0, [400, 1], [300, 400])
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, np.argwhere(x))
    assert K.nonzero(np.array([3.]), 0, [], []).shape == (1, 0)
    assert K.nonzero(np.array([0.]), 0, [], []).shape == (0, 0)
    assert K.nonzero(np.zeros(0), 0, [1, 1], [0, 3]).shape == (0, 2)
    assert K.nonzero(np.zeros(6), 0, [3, 1], [2, 3]).shape == (0, 2)


@pytest.mark.parametrize('layout', ['contig', 'transposed', 'step', 'bcast'])
def test_take(layout):
    buf, x = make((4, 5, 3), np.float64, layout)
    idx = RNG.integers(-60, 60, 25).astype(np.int64)
    off, st, sh = desc(x, buf)
    np.testing.assert_array_equal(K.take(buf, off, st, sh, idx), x.ravel()[idx])
    assert K.take(buf, off, st, sh, np.zeros(0, np.int64)).shape == (0,)


# ----------------------------------------------------------------------------- advanced indexing
def test_index_offsets_gather_scatter():
    x = RNG.standard_normal((4, 5, 6, 7))
    buf = x.ravel()
    st = [s // 8 for s in x.strides]
    i0 = np.array([[0, -1], [2, 3]])
    i2 = np.array([1, -2])
    # non-adjacent indices: broadcast dims first, then the sliced dims 1 and 3
    offs = K.index_offsets(0, [i0, i2], [st[0], st[2]], [4, 6], post=((5, 7), (st[1], st[3])))
    np.testing.assert_array_equal(K.gather_offsets(buf, offs), x[i0, :, i2])
    # adjacent indices on dims 1, 2 with a slice before
    offs = K.index_offsets(0, [i0 % 5, i2], [st[1], st[2]], [5, 6], pre=((4,), (st[0],)),
                           post=((7,), (st[3],)))
    np.testing.assert_array_equal(K.gather_offsets(buf, offs), x[:, i0 % 5, i2])
    big = K.index_offsets(0, [np.arange(70_000) % 4], [st[0]], [4])
    np.testing.assert_array_equal(K.gather_offsets(buf, big), buf[(np.arange(70_000) % 4) * st[0]])


def test_scatter_offsets_accumulate():
    buf = np.zeros(5)
    offs = np.array([1, 1, 3, 1], np.int64)
    K.scatter_offsets(buf, offs, np.array([1., 2., 3., 4.]), accumulate=True)
    assert buf.tolist() == [0, 7, 0, 3, 0]
    K.scatter_offsets(buf, offs, np.array([1., 2., 3., 4.]))
    assert buf.tolist() == [0, 4, 0, 3, 0]
    K.scatter_offsets(buf, offs, 9)
    assert buf.tolist() == [0, 9, 0, 9, 0]
    ib = np.zeros(3, np.int64)
    K.scatter_offsets(ib, np.array([0, 2], np.int64), np.array([1.7, -2.7], np.float32))
    assert ib.tolist() == [1, 0, -2]
    with pytest.raises(ValueError):
        K.scatter_offsets(buf, offs, np.ones(3))
