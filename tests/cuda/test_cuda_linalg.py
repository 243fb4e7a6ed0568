"""CUDA linalg.det / slogdet / inv / inv_ex / solve against the CPU (NumPy LAPACK) results.

Under the simulator: n = 1..3 take the one-thread-per-matrix LU, n = 5 the shared-memory block
LU and n = SH_N + 4 the global-memory block LU (SH_N is lowered under the simulator)."""
import numpy as np
import pytest

cuda = pytest.importorskip("numtorch.kernels.cuda")   # skips if numba.cuda unusable

from numba import cuda as nbcuda  # noqa: E402

import numtorch as nt  # noqa: E402
from numtorch.kernels.cuda import linalg as CL  # noqa: E402

BIG = CL.SH_N + 4
SIZES = [1, 2, 3, 5, BIG]
TOL = {np.float64: 1e-10, np.float32: 1e-4}


def rand(shape, dtype, seed):
    a = np.random.default_rng(seed).standard_normal(shape)
    n = shape[-1]
    return (a + n ** 0.5 * np.eye(n) * np.sign(a.diagonal(0, -2, -1))[..., None]).astype(dtype)


def same(c, g, tol):
    """``g`` (CUDA) matches ``c`` (CPU): device, dtype, shape, grad_fn name, values."""
    if isinstance(c, tuple):
        assert type(c) is type(g)
        for a, b in zip(c, g):
            same(a, b, tol)
        return
    assert g.device.type == "cuda" and g.dtype is c.dtype and g.shape == c.shape
    assert type(g.grad_fn).__name__ == type(c.grad_fn).__name__ if c.grad_fn else g.grad_fn is None
    np.testing.assert_allclose(g.detach().cpu().numpy(), c.detach().numpy(), rtol=tol, atol=tol * 1e-3)


def both(fn, *arrays, tol=1e-10):
    """fn on CPU tensors and on CUDA copies; same results (or the same exception and message)."""
    ts = [nt.tensor(a) for a in arrays]
    try:
        c = fn(*ts)
    except Exception as e:  # noqa: BLE001
        with pytest.raises(type(e)) as info:
            fn(*[t.cuda() for t in ts])
        assert str(info.value) == str(e)
        return e
    same(c, fn(*[t.cuda() for t in ts]), tol)
    return c


@pytest.mark.parametrize("n,dtype", [(n, np.float64) for n in SIZES] + [(n, np.float32) for n in SIZES[:-1]])
def test_values(n, dtype):
    tol = TOL[dtype]
    a = rand((2, n, n), dtype, n)
    b = np.random.default_rng(n + 10).standard_normal((2, n, 3)).astype(dtype)
    both(nt.linalg.det, a, tol=tol)
    both(nt.linalg.slogdet, a, tol=tol)
    both(nt.linalg.inv, a, tol=tol)
    both(nt.linalg.solve, a, b, tol=tol)


def test_solve_broadcast_vector_left():
    a = rand((2, 1, 3, 3), np.float64, 1)
    b = np.random.default_rng(2).standard_normal((4, 3, 2))
    both(nt.linalg.solve, a, b)                                  # batch (2, 4); A factored twice
    both(nt.linalg.solve, a[0, 0], b)                            # one A for every B
    both(nt.linalg.solve, a, b[0, :, 0])                         # vector B (n,)
    both(nt.linalg.solve, a[:, 0], b[:2, :, 0])                  # vector B (batch, n)
    both(lambda x, y: nt.linalg.solve(x, y, left=False), a[:, 0], b[:2].transpose(0, 2, 1))
    x = nt.tensor(a[:, 0]).cuda().mT                             # non-contiguous input
    np.testing.assert_allclose(nt.linalg.inv(x).cpu().numpy(), np.linalg.inv(a[:, 0].transpose(0, 2, 1)),
                               rtol=1e-12)


@pytest.mark.parametrize("n", [3, 5])
def test_ill_conditioned(n):
    h = 1.0 / (np.arange(n)[:, None] + np.arange(n)[None] + 1.0)     # Hilbert: cond 5e2 (3), 5e5 (5)
    b = np.arange(n * 2, dtype=np.float64).reshape(n, 2)
    for fn in (nt.linalg.det, nt.linalg.slogdet, nt.linalg.inv):
        both(fn, h, tol=1e-10 * (1 if n == 3 else 1e2))
    both(nt.linalg.solve, h, b, tol=1e-10 * (1 if n == 3 else 1e2))
    both(nt.linalg.det, h.astype(np.float32), tol=1e-4 * (1 if n == 3 else 1e2))


@pytest.mark.parametrize("n", [3, 5, BIG])
def test_singular(n):
    rng = np.random.default_rng(n)
    ok = rand((n, n), np.float64, 0)
    bad = rng.integers(-3, 4, (n, n)).astype(np.float64)
    bad[:, n // 2] = 0.0                          # a zero column: an exactly zero pivot for every LU order
    z = np.zeros((n, n))
    a = np.stack([ok, bad, z])
    d = both(nt.linalg.det, a)
    assert d[1].item() == 0 and d[2].item() == 0
    s, l = both(nt.linalg.slogdet, a)
    assert s[1].item() == 0 and l[1].item() == -np.inf
    e = both(nt.linalg.inv, a)
    assert isinstance(e, nt.linalg.LinAlgError) and "singular" in str(e)
    assert isinstance(both(nt.linalg.solve, a, np.ones((3, n, 1))), nt.linalg.LinAlgError)
    assert isinstance(both(nt.linalg.inv_ex, a[1:2]), nt.linalg.LinAlgError)


def test_singular_2x2_and_float32():
    a = np.array([[[1.0, 2.0], [2.0, 4.0]], [[0.0, 0.0], [0.0, 1.0]]])
    both(nt.linalg.det, a)
    both(nt.linalg.slogdet, a.astype(np.float32), tol=1e-4)
    assert isinstance(both(nt.linalg.inv, a.astype(np.float32)), nt.linalg.LinAlgError)


@pytest.mark.parametrize("n", [3, 5, BIG])
def test_pivoting(n):
    """Zero leading elements, permutation matrices and ties (getrf keeps the first largest row)."""
    perm = np.eye(n)[np.random.default_rng(n).permutation(n)]
    lead0 = rand((n, n), np.float64, 3)
    lead0[0, 0] = 0.0
    ties = rand((n, n), np.float64, 5)
    ties[:, 0] = np.where(np.arange(n) % 2, -2.0, 2.0)
    ties[0, 0] = 1.0                                           # pivot: row 1, the first of the |2|s
    a = np.stack([perm, lead0, ties, -perm])
    both(nt.linalg.det, a)
    both(nt.linalg.inv, a)
    both(nt.linalg.solve, a, np.ones((n, 1)) * np.arange(1, n + 1)[:, None])
    sl = pytest.importorskip("scipy.linalg")
    buf = nbcuda.to_device(np.ascontiguousarray(a).reshape(-1))
    piv, bad = CL.lu(buf, 4, n)
    lu = buf.copy_to_host().reshape(a.shape)
    for k in range(4):
        ref, rpiv = sl.lu_factor(a[k])
        np.testing.assert_array_equal(piv.copy_to_host().reshape(4, n)[k], rpiv)
        np.testing.assert_allclose(lu[k], ref, rtol=1e-12, atol=1e-12)
    assert bad.copy_to_host()[0] == 0


@pytest.mark.parametrize("n", [2, 5])
def test_gradients(n):
    a = rand((2, n, n), np.float64, 7)
    b = np.random.default_rng(8).standard_normal((2, n, 2))
    progs = {
        "det": lambda x, y: nt.linalg.det(x),
        "logabsdet": lambda x, y: nt.linalg.slogdet(x)[1],
        "inv": lambda x, y: nt.linalg.inv(x),
        "solve": lambda x, y: nt.linalg.solve(x, y),
        "solve_vec": lambda x, y: nt.linalg.solve(x, y[..., 0]),
        "logdet": lambda x, y: nt.logdet(x @ x.mT),
    }
    for name, fn in progs.items():
        out = {}
        for dev in ("cpu", "cuda"):
            x = nt.tensor(a, device=dev, requires_grad=True)
            y = nt.tensor(b, device=dev, requires_grad=True)
            r = fn(x, y)
            (r * r).sum().backward()
            out[dev] = (r, x.grad, y.grad)
        c, g = out["cpu"], out["cuda"]
        same(c[0], g[0], 1e-10)
        assert type(g[0].grad_fn).__name__ == type(c[0].grad_fn).__name__, name
        same(c[1], g[1], 1e-9)
        if c[2] is None:
            assert g[2] is None
        else:
            same(c[2], g[2], 1e-9)


def test_extras_inv_ex_float16_empty_devices():
    a = rand((2, 3, 3), np.float64, 4)
    both(nt.det, a)
    both(nt.inverse, a)
    both(nt.logdet, a @ a.transpose(0, 2, 1))
    r = both(nt.linalg.inv_ex, a)
    assert r.info.dtype is nt.int32
    both(nt.linalg.det, a.astype(np.float16), tol=1e-2)
    both(nt.linalg.inv, a.astype(np.float16), tol=1e-2)
    for shape in [(0, 3, 3), (2, 0, 0)]:
        e = np.zeros(shape)
        both(nt.linalg.det, e)
        both(nt.linalg.slogdet, e)
        both(nt.linalg.inv, e)
        both(nt.linalg.solve, e, np.zeros(shape[:-1] + (2,)))
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        nt.linalg.solve(nt.tensor(a).cuda(), nt.tensor(a))
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        nt.linalg.solve(nt.tensor(a), nt.tensor(a).cuda())
    for fn in (nt.linalg.det, nt.linalg.inv):                     # validation errors stay the CPU's
        both(fn, np.ones((2, 3)))
        both(fn, np.ones((3, 3), np.int64))
