"""CUDA twins of kernels.matmul against the CPU entry points, and the device random fills
(Philox known-answer vectors, ranges, moments, determinism) plus the front end's CUDA branches."""
import numpy as np
import pytest

cuda = pytest.importorskip("numtorch.kernels.cuda")   # skips if numba.cuda unusable

from numba import cuda as ncuda  # noqa: E402

from numtorch.kernels import matmul as M  # noqa: E402
from numtorch.kernels.cuda import random as R  # noqa: E402

RNG = np.random.default_rng(7)


def _dev(x):
    return ncuda.to_device(np.ascontiguousarray(x))


def _data(dt, shape):
    if dt in (np.float32, np.float64):
        return RNG.standard_normal(shape).astype(dt)
    lo = 0 if dt in (np.uint8, np.bool_) else -3
    return RNG.integers(lo, 4, shape).astype(dt)


def _check(a, b, rtol=0.0):
    ref = M.matmul(a, b)
    got = M.matmul(_dev(a), _dev(b)).copy_to_host()
    assert got.dtype == ref.dtype and got.shape == ref.shape
    if rtol:
        np.testing.assert_allclose(got, ref, rtol=rtol, atol=rtol)
    else:
        np.testing.assert_array_equal(got, ref)


# -- matmul / dot / outer -----------------------------------------------------------------------------

@pytest.mark.parametrize("dt,sa,sb", [
    (np.float64, (5, 7), (7, 9)),
    (np.float32, (17, 18), (18, 19)),            # two tiles each way, k not a multiple of TILE
    (np.int64, (2, 1, 3, 4), (5, 4, 2)),         # broadcast batch dims
    (np.int32, (3, 2, 5), (3, 5, 2)),            # batched, equal batch
    (np.int64, (1, 4), (4, 1)),
    (np.float64, (3, 1), (1, 2)),
    (np.int64, (4,), (4, 5)),
    (np.float64, (3, 70), (70,)),                # matrix @ vector: the reduction kernel, k > threads
    (np.int64, (2, 3, 40), (40,)),
    (np.float32, (40,), (40,)),                  # 0-d result
    (np.int64, (3, 0), (0, 2)),                  # empty k: zeros
    (np.float64, (0, 4), (4, 3)),
    (np.int64, (0, 2, 3), (3, 2)),
    (np.bool_, (3, 4), (4, 2)),
    (np.bool_, (3, 4), (4,)),
    (np.uint8, (2, 3), (3, 2)),
    (np.int8, (2, 3), (3, 4)),
])
def test_matmul_vs_cpu(dt, sa, sb):
    _check(_data(dt, sa), _data(dt, sb), 1e-5 if dt == np.float32 else (1e-12 if dt == np.float64 else 0))


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")    # the simulator's NumPy scalars
def test_matmul_int_wraps():
    a = np.full((2, 2), 2 ** 31 - 1, np.int32)
    _check(a, a)
    _check(np.full((2, 3), 100, np.int8), np.full((3, 2), 3, np.int8))
    _check(np.full((2, 3), 100, np.uint8), np.full((3,), 3, np.uint8))
    v = np.full(3, 2 ** 62, np.int64)
    _check(v, v)


def test_matmul_noncontiguous_and_out():
    a, b = _data(np.float64, (4, 3)), _data(np.float64, (4, 5))
    got = M.matmul(_dev(a).T, _dev(b)).copy_to_host()        # a transposed device view
    np.testing.assert_allclose(got, a.T @ b, rtol=1e-12)
    out = _dev(np.zeros((3, 5)))
    assert M.matmul(_dev(a.T), _dev(b), out=out) is out
    np.testing.assert_allclose(out.copy_to_host(), a.T @ b, rtol=1e-12)
    out = _dev(np.zeros((5, 3))).T                            # non-contiguous out
    assert M.matmul(_dev(a.T), _dev(b), out=out) is out
    np.testing.assert_allclose(out.copy_to_host(), a.T @ b, rtol=1e-12)


def test_matmul_errors():
    a = _dev(np.ones((2, 3)))
    with pytest.raises(TypeError):
        M.matmul(a, _dev(np.ones((3, 2), np.float32)))
    with pytest.raises(ValueError):
        M.matmul(a, _dev(np.ones((2, 2))))
    with pytest.raises(RuntimeError):
        M.matmul(a, np.ones((3, 2)))


def test_dot_outer():
    for dt in (np.int64, np.float64):
        a, b = _data(dt, 9), _data(dt, 9)
        got = M.dot(_dev(a), _dev(b)).copy_to_host()
        assert got.shape == () and got.dtype == dt
        np.testing.assert_allclose(got, M.dot(a, b), rtol=1e-12)
    for dt in (np.int64, np.float32, np.bool_):
        a, b = _data(dt, 3), _data(dt, 4)
        got = M.outer(_dev(a), _dev(b)).copy_to_host()
        ref = M.outer(a, b)
        assert got.dtype == ref.dtype
        np.testing.assert_array_equal(got, ref)
    assert M.outer(_dev(np.ones(0)), _dev(np.ones(3))).shape == (0, 3)


# -- random kernels -------------------------------------------------------------------------------------

@ncuda.jit
def _philox_k(g, seed, off, out):
    r0, r1, r2, r3 = R._philox(g, seed, off)
    out[0] = r0
    out[1] = r1
    out[2] = r2
    out[3] = r3


@pytest.mark.parametrize("ctr,key,expect", [
    ((0, 0, 0, 0), (0, 0), (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)),
    ((0xffffffff,) * 4, (0xffffffff,) * 2, (0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd)),
    ((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), (0xa4093822, 0x299f31d0),
     (0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1)),
])
def test_philox_known_answers(ctr, key, expect):
    """Random123's philox4x32-10 known-answer vectors."""
    out = ncuda.device_array(4, np.uint64)
    _philox_k[1, 1](np.uint64(ctr[0] | ctr[1] << 32), np.uint64(key[0] | key[1] << 32),
                    np.uint64(ctr[2] | ctr[3] << 32), out)
    assert tuple(int(v) for v in out.copy_to_host()) == expect


N = 4096


def _fill(fn, dt, n, *args, seed=1234, offset=5, pad=3):
    """fn into a buffer of n + pad elements pre-set to a sentinel; checks the pad is untouched."""
    sentinel = np.nan if np.issubdtype(dt, np.floating) else 77
    buf = _dev(np.full(n + pad, sentinel, dt))
    fn(buf, n, seed, offset, *args)
    h = buf.copy_to_host()
    np.testing.assert_array_equal(h[n:], np.full(pad, sentinel, dt))
    return h[:n]


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_uniform(dt):
    x = _fill(R.uniform_, dt, N, -2.0, 3.0)
    assert x.dtype == dt and x.min() >= -2 and x.max() < 3
    assert abs(x.mean() - 0.5) < 0.15 and abs(x.std() - 5 / 12 ** 0.5) < 0.1
    u = _fill(R.uniform_, dt, 1001, 0.0, 1.0)              # n not a multiple of the 4 / 2 per draw
    assert u.min() >= 0 and u.max() < 1 and len(np.unique(u)) > 990


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_normal(dt):
    x = _fill(R.normal_, dt, N, 1.0, 2.0)
    assert x.dtype == dt and np.isfinite(x).all()
    assert abs(x.mean() - 1) < 0.15 and abs(x.std() - 2) < 0.1
    z = (x - 1) / 2
    assert abs((z ** 3).mean()) < 0.15 and abs((z ** 4).mean() - 3) < 0.4


def test_randint():
    x = _fill(R.randint_, np.int64, N, -5, 5)
    assert set(np.unique(x)) == set(range(-5, 5))
    assert abs(x.mean() + 0.5) < 0.2
    big = _fill(R.randint_, np.int64, N, 0, 2 ** 40)         # 64-bit draws
    assert big.min() >= 0 and big.max() < 2 ** 40 and big.max() > 2 ** 39
    assert abs(big.mean() / 2 ** 40 - 0.5) < 0.05
    i32 = _fill(R.randint_, np.int32, 99, 3, 4)
    assert i32.dtype == np.int32 and (i32 == 3).all()
    f = _fill(R.randint_, np.float32, 99, 0, 3)
    assert set(np.unique(f)) == {0.0, 1.0, 2.0}


def test_bernoulli_and_exponential():
    x = _fill(R.bernoulli_, np.float32, N, 0.3)
    assert set(np.unique(x)) <= {0.0, 1.0} and abs(x.mean() - 0.3) < 0.04
    p = _dev(np.r_[np.zeros(50), np.ones(50)])
    b = _fill(R.bernoulli_, np.bool_, 100, p)
    assert not b[:50].any() and b[50:].all()
    with pytest.raises(RuntimeError):
        R.bernoulli_(_dev(np.zeros(2)), 2, 1, 0, _dev(np.array([0.5, 1.5])))
    e = _fill(R.exponential_, np.float64, N, 2.0)
    assert e.min() >= 0 and np.isfinite(e).all() and abs(e.mean() - 0.5) < 0.05


def test_determinism_and_streams():
    a = _fill(R.uniform_, np.float32, 257, 0.0, 1.0, seed=9, offset=0)
    np.testing.assert_array_equal(a, _fill(R.uniform_, np.float32, 257, 0.0, 1.0, seed=9, offset=0))
    b = _fill(R.uniform_, np.float32, 257, 0.0, 1.0, seed=9, offset=1)
    c = _fill(R.uniform_, np.float32, 257, 0.0, 1.0, seed=10, offset=0)
    assert (a != b).mean() > 0.99 and (a != c).mean() > 0.99
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.2
    # seeds and offsets use all 64 bits
    d = _fill(R.normal_, np.float64, 64, 0.0, 1.0, seed=2 ** 63 + 9, offset=2 ** 40)
    assert (d != _fill(R.normal_, np.float64, 64, 0.0, 1.0, seed=9, offset=2 ** 40)).all()
    assert (d != _fill(R.normal_, np.float64, 64, 0.0, 1.0, seed=2 ** 63 + 9, offset=0)).all()
    assert _fill(R.uniform_, np.float32, 0, 0.0, 1.0).shape == (0,)


@pytest.mark.parametrize("n,serial", [(1, True), (2, True), (50, True), (300, False), (256, False)])
def test_randperm(monkeypatch, n, serial):
    if not serial:
        monkeypatch.setattr(R, "_SERIAL_PERM", 0)            # the Feistel path at a small size
    p = _fill(R.randperm, np.int64, n, seed=3, offset=4, pad=1)
    np.testing.assert_array_equal(np.sort(p), np.arange(n))
    np.testing.assert_array_equal(p, _fill(R.randperm, np.int64, n, seed=3, offset=4, pad=1))
    if n >= 50:
        q = _fill(R.randperm, np.int32, n, seed=4, offset=4, pad=1)
        assert q.dtype == np.int32 and (p != q).mean() > 0.9
        assert (p != np.arange(n)).mean() > 0.9


# -- front end (numtorch.random's CUDA branches) --------------------------------------------------------

@pytest.fixture
def nt(monkeypatch):
    monkeypatch.setenv("NUMTORCH_CUDASIM", "1")
    import numtorch
    if not numtorch.cuda.is_available():
        pytest.skip("numtorch CUDA device not available")
    return numtorch


def _host(t):
    assert t.device.type == "cuda"
    return t.cpu().numpy()


def test_frontend_factories(nt):
    nt.manual_seed(11)
    a = nt.rand(3, 5, device="cuda")
    nt.manual_seed(11)
    b = nt.rand(3, 5, device="cuda")
    c = nt.rand(3, 5, device="cuda")
    assert a.dtype is nt.float32 and tuple(a.shape) == (3, 5)
    np.testing.assert_array_equal(_host(a), _host(b))
    assert (_host(a) != _host(c)).any()
    x = _host(a)
    assert x.min() >= 0 and x.max() < 1
    assert _host(nt.randn(4, device="cuda", dtype=nt.float64)).dtype == np.float64
    assert _host(nt.randn(4, device="cuda", dtype=nt.float16)).dtype == np.float16
    r = _host(nt.randint(2, 6, (40,), device="cuda", dtype=nt.int32))
    assert r.dtype == np.int32 and r.min() >= 2 and r.max() < 6
    p = _host(nt.randperm(20, device="cuda"))
    np.testing.assert_array_equal(np.sort(p), np.arange(20))
    assert nt.rand_like(a).device.type == "cuda"
    assert nt.randn_like(a).shape == a.shape
    assert _host(nt.randint_like(a, 3)).max() < 3
    assert nt.rand(2, device="cuda", requires_grad=True).requires_grad
    assert nt.normal(nt.zeros(3, device="cuda"), 1.0).device.type == "cuda"
    assert nt.normal(2.0, 1.0, (3,), device="cuda").device.type == "cuda"


def test_frontend_fills(nt):
    b = _host(nt.bernoulli(nt.tensor([0.0, 1.0, 0.0, 1.0], device="cuda")))
    np.testing.assert_array_equal(b, [0, 1, 0, 1])
    with pytest.raises(RuntimeError):
        nt.bernoulli(nt.zeros(2, device="cuda"), 1.5)
    x = nt.zeros(3, 2, device="cuda").t()                    # non-contiguous target
    v = _host(x.uniform_(1, 2))
    assert v.shape == (2, 3) and v.min() >= 1 and v.max() < 2
    assert np.isfinite(_host(x.normal_())).all()
    assert set(np.unique(_host(x.random_(3)))) <= {0.0, 1.0, 2.0}
    assert set(np.unique(_host(x.bernoulli_(0.5)))) <= {0.0, 1.0}
    assert _host(x.exponential_()).min() >= 0
    i = nt.zeros(5, dtype=nt.int64, device="cuda")
    assert _host(i.random_(4, 6)).min() >= 4
