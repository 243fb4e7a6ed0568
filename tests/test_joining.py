"""numtorch.joining against NumPy (values on several layouts/dtypes), float64 gradchecks, torch names/errors."""
import warnings

import numpy as np
import pytest

import numtorch as nt
from numtorch import views as V
from _fd import check_grad

RNG = np.random.default_rng(0)
DTYPES = [np.float32, np.float64, np.int64, np.bool_]


def arr(shape, dtype=np.float64):
    a = RNG.standard_normal(shape) * 3
    return a.astype(dtype) if dtype != np.bool_ else a > 0


def T(a, **kw):
    return nt.tensor(np.ascontiguousarray(a), **kw)


def N(t):
    return t.detach().cpu().numpy()


@pytest.fixture(autouse=True)
def _on_each_device(device):
    """Every case runs with factories on the CPU and on CUDA (see the ``device`` fixture)."""


def layouts(a):
    """(numtorch tensor, equal NumPy array) pairs: contiguous, transposed, step-sliced, expanded."""
    t = T(a)
    yield t, a
    tt = T(np.ascontiguousarray(a.T)).t() if a.ndim == 2 else t.permute(*range(a.ndim - 1, -1, -1)).permute(
        *range(a.ndim - 1, -1, -1))
    yield tt, a
    big = T(np.repeat(a, 2, axis=-1))
    yield V.slice_dim(big, a.ndim - 1, 0, None, 2), a
    if a.ndim >= 1 and a.shape[0] > 0:
        one = V.narrow(t, 0, 0, 1)
        yield one.expand(*a.shape), np.broadcast_to(a[:1], a.shape)


def req(shape):
    return T(arr(shape), requires_grad=True)


# -- values ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_cat_stack_values(dtype):
    a, b = arr((2, 3), dtype), arr((2, 4), dtype)
    for (ta, na) in layouts(a):
        np.testing.assert_array_equal(N(nt.cat([ta, T(b)], 1)), np.concatenate([na, b], 1))
        np.testing.assert_array_equal(N(nt.cat([ta, ta], -2)), np.concatenate([na, na], 0))
        np.testing.assert_array_equal(N(nt.stack([ta, ta], 1)), np.stack([na, na], 1))
        np.testing.assert_array_equal(N(nt.stack((ta, ta), -1)), np.stack([na, na], -1))
    r = nt.cat([T(a), T(b)], dim=1)
    assert r.dtype.np == np.dtype(dtype) and r.is_contiguous()


def test_cat_rules():
    f, d = T(arr((2, 3), np.float32)), T(arr((2, 3)))
    assert nt.cat([f, d]).dtype is nt.float64
    assert nt.cat([T(arr((2, 3), np.int64)), f]).dtype is nt.float32
    assert nt.cat([T(arr((2, 3), np.bool_)), T(arr((2, 3), np.int64)).int()]).dtype is nt.int32
    np.testing.assert_array_equal(N(nt.cat([nt.zeros(0), f, nt.zeros(0)], 1)), N(f))   # legacy empty skipped
    assert nt.cat([nt.zeros(0), nt.zeros(0)], 3).shape == (0,)
    assert nt.cat([nt.zeros(0, 3), f]).shape == (2, 3)
    assert nt.concat([f, f]).shape == (4, 3) and nt.concatenate([f, f], axis=1).shape == (2, 6)
    out = nt.empty(4, 3)
    assert nt.cat([f, f], out=out) is out
    np.testing.assert_array_equal(N(out), np.concatenate([N(f)] * 2))
    h = f.half()
    assert nt.cat([h, h]).dtype is nt.float16
    np.testing.assert_array_equal(N(nt.cat([h, h])).astype(np.float32), np.concatenate([N(h)] * 2))
    hn = N(h)
    for got, exp in ((h.flip(0, 1), np.flip(hn)), (h.roll(1, 1), np.roll(hn, 1, 1)), (h.tril(), np.tril(hn)),
                     (h.repeat(2, 1), np.tile(hn, (2, 1))), (h.t().diag(), np.diag(hn.T))):
        assert got.dtype is nt.float16
        np.testing.assert_array_equal(N(got), exp)


def test_stack_family():
    v, w = np.arange(3.), np.arange(3., 6.)
    m = arr((2, 3))
    np.testing.assert_array_equal(N(nt.hstack([T(v), T(w)])), np.hstack([v, w]))
    np.testing.assert_array_equal(N(nt.hstack([T(m), T(m)])), np.hstack([m, m]))
    np.testing.assert_array_equal(N(nt.vstack([T(v), T(w)])), np.vstack([v, w]))
    np.testing.assert_array_equal(N(nt.row_stack([T(v), T(w)])), np.vstack([v, w]))
    np.testing.assert_array_equal(N(nt.dstack([T(m), T(m)])), np.dstack([m, m]))
    np.testing.assert_array_equal(N(nt.dstack([T(v), T(w)])), np.dstack([v, w]))
    np.testing.assert_array_equal(N(nt.column_stack([T(v), T(m.T)])), np.column_stack([v, m.T]))
    assert nt.column_stack([nt.tensor(1.), nt.tensor(2.)]).shape == (1, 2)
    assert nt.vstack([nt.tensor(1.), nt.tensor(2.)]).shape == (2, 1)
    assert nt.atleast_1d(nt.tensor(1.)).shape == (1,)
    assert nt.atleast_2d(T(v)).shape == (1, 3)
    assert nt.atleast_3d(T(v)).shape == (1, 3, 1) and nt.atleast_3d(T(m)).shape == (2, 3, 1)
    assert nt.atleast_3d(nt.tensor(1.)).shape == (1, 1, 1)
    t = T(v)
    assert nt.atleast_1d(t) is t
    r = nt.atleast_2d(t, T(m))
    assert isinstance(r, tuple) and [x.shape for x in r] == [(1, 3), (2, 3)]
    assert isinstance(nt.atleast_1d([t]), tuple)


@pytest.mark.parametrize("dtype", DTYPES)
def test_flip_roll_rot90(dtype):
    a = arr((3, 4), dtype)
    for t, na in layouts(a):
        np.testing.assert_array_equal(N(t.flip(0)), np.flip(na, 0))
        np.testing.assert_array_equal(N(nt.flip(t, (0, 1))), np.flip(na))
        np.testing.assert_array_equal(N(t.flip([-1])), np.flip(na, 1))
        np.testing.assert_array_equal(N(t.fliplr()), np.fliplr(na))
        np.testing.assert_array_equal(N(t.flipud()), np.flipud(na))
        np.testing.assert_array_equal(N(t.roll(2)), np.roll(na, 2))
        np.testing.assert_array_equal(N(t.roll(-5, 1)), np.roll(na, -5, 1))
        np.testing.assert_array_equal(N(t.roll((1, 2), (0, 1))), np.roll(na, (1, 2), (0, 1)))
        for k in (-1, 0, 1, 2, 3, 5):
            np.testing.assert_array_equal(N(t.rot90(k)), np.rot90(na, k))
        np.testing.assert_array_equal(N(t.rot90(1, [1, 0])), np.rot90(na, 1, (1, 0)))
    b = arr((2, 3, 4), dtype)
    np.testing.assert_array_equal(N(T(b).flip(0, 2)), np.flip(b, (0, 2)))
    np.testing.assert_array_equal(N(T(b).roll(3)), np.roll(b, 3))
    np.testing.assert_array_equal(N(T(b).permute(2, 0, 1).roll(3)), np.roll(b.transpose(2, 0, 1), 3))
    np.testing.assert_array_equal(N(T(b).rot90(1, (0, 2))), np.rot90(b, 1, (0, 2)))
    assert nt.tensor(1.).flip(0).item() == 1.0 and nt.zeros(0).roll(1).shape == (0,)
    np.testing.assert_array_equal(N(nt.flip(T(b), dims=[1])), np.flip(b, 1))
    np.testing.assert_array_equal(N(T(b).roll((1, 2, -1), (0, 0, 2))), np.roll(b, (3, -1), (0, 2)))


@pytest.mark.cpu_only
def test_flip_big_parallel():
    a = arr((300, 301), np.float32)
    t = T(a)
    np.testing.assert_array_equal(N(t.flip(0, 1)), np.flip(a))
    np.testing.assert_array_equal(N(t.t().flip(1)), np.flip(a.T, 1))
    np.testing.assert_array_equal(N(t.roll((7, -9), (0, 1))), np.roll(a, (7, -9), (0, 1)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_repeat_tile(dtype):
    a = arr((2, 3), dtype)
    for t, na in layouts(a):
        np.testing.assert_array_equal(N(t.repeat(2, 3)), np.tile(na, (2, 3)))
        np.testing.assert_array_equal(N(t.repeat(2, 1, 2)), np.tile(na, (2, 1, 2)))
        np.testing.assert_array_equal(N(t.tile(2)), np.tile(na, 2))
        np.testing.assert_array_equal(N(nt.tile(t, (3, 1, 1))), np.tile(na, (3, 1, 1)))
        np.testing.assert_array_equal(N(t.repeat_interleave(2)), np.repeat(na, 2))
        np.testing.assert_array_equal(N(t.repeat_interleave(3, dim=1)), np.repeat(na, 3, 1))
        reps = np.array([1, 0, 2])
        np.testing.assert_array_equal(N(t.repeat_interleave(T(reps), dim=1)), np.repeat(na, reps, 1))
        np.testing.assert_array_equal(N(t.repeat_interleave(nt.tensor(2), dim=0)), np.repeat(na, 2, 0))
    assert nt.tensor([1., 2.]).repeat(0).shape == (0,)
    np.testing.assert_array_equal(N(nt.repeat_interleave(nt.tensor([1, 0, 2]))), [0, 2, 2])
    assert nt.tensor(1.).tile(()).shape == ()


@pytest.mark.parametrize("dtype", DTYPES)
def test_tril_triu(dtype):
    a = arr((2, 4, 5), dtype)
    for t, na in layouts(a):
        for k in (-2, 0, 1, 7):
            np.testing.assert_array_equal(N(t.tril(k)), np.tril(na, k))
            np.testing.assert_array_equal(N(nt.triu(t, k)), np.triu(na, k))
    c = T(a)
    assert c.tril_(1) is c and c._version == 1
    np.testing.assert_array_equal(N(c), np.tril(a, 1))
    tt = T(np.ascontiguousarray(a.transpose(0, 2, 1))).transpose(1, 2)   # non-contiguous in-place
    tt.triu_(-1)
    np.testing.assert_array_equal(N(tt), np.triu(a, -1))


def test_diag_trace():
    v, m = arr(4), arr((3, 5))
    for k in (-2, 0, 1):
        np.testing.assert_array_equal(N(T(v).diag(k)), np.diag(v, k))
        np.testing.assert_array_equal(N(T(m).diag(k)), np.diag(m, k))
        np.testing.assert_array_equal(N(T(m).t().diag(k)), np.diag(m.T, k))
    assert T(m).diag(9).shape == (0,)
    b = arr((2, 3))
    e = N(nt.diag_embed(T(b)))
    np.testing.assert_array_equal(e, np.stack([np.diag(r) for r in b]))
    e = N(T(b).diag_embed(1, 0, 2))
    assert e.shape == (4, 2, 4)
    np.testing.assert_array_equal(e.transpose(1, 0, 2), np.stack([np.diag(r, 1) for r in b]))
    assert T(m).trace().item() == pytest.approx(np.trace(m))
    ti = T(arr((3, 3), np.int64)).int().trace()
    assert ti.dtype is nt.int64


def test_meshgrid_cartesian_block_diag():
    x, y = np.arange(3.), np.arange(2.)
    for ind in ("ij", "xy"):
        g = nt.meshgrid(T(x), T(y), indexing=ind)
        for a, b in zip(g, np.meshgrid(x, y, indexing=ind)):
            np.testing.assert_array_equal(N(a), b)
    with pytest.warns(UserWarning, match="indexing argument"):
        nt.meshgrid(T(x), T(y))
    assert nt.meshgrid([T(x), T(y)], indexing="ij")[0].shape == (3, 2)
    cp = N(nt.cartesian_prod(T(x), T(y)))
    np.testing.assert_array_equal(cp, [[a, b] for a in x for b in y])
    assert nt.cartesian_prod(T(x), T(y), T(x)).shape == (18, 3)
    m = arr((2, 2))
    bd = N(nt.block_diag(nt.tensor(1.), T(x), T(m).double()))
    exp = np.zeros((4, 6))
    exp[0, 0], exp[1, 1:4], exp[2:, 4:] = 1, x, m
    np.testing.assert_array_equal(bd, exp)
    assert nt.block_diag(T(m).long(), T(m).float()).dtype is nt.float32
    assert nt.block_diag().shape == (1, 0)


# -- gradients ------------------------------------------------------------------------------------

def test_gradcheck_joins():
    a, b = req((2, 3)), req((2, 2))
    check_grad(lambda x, y: nt.cat([x, y, x], 1), a, b)
    check_grad(lambda x, y: nt.cat([nt.zeros(0, dtype=nt.float64), x, x]), a, b)
    check_grad(lambda x: nt.stack([x, x * 2], 1), a)
    check_grad(lambda x, y: nt.hstack([x, y]), a, b)
    check_grad(lambda x: nt.vstack([x, x]), a)
    check_grad(lambda x: nt.dstack([x, x]), a)
    check_grad(lambda x: nt.column_stack([x.t(), x.t()]), a)
    check_grad(lambda x, y: nt.block_diag(x, y), a, b)
    v, w = req(3), req(2)
    check_grad(lambda x, y: nt.meshgrid(x, y, indexing="xy"), v, w)
    check_grad(lambda x, y: nt.cartesian_prod(x, y), v, w)


def test_gradcheck_rearrange():
    a = req((3, 4))
    check_grad(lambda x: x.flip(0, 1), a)
    check_grad(lambda x: x.t().fliplr(), a)
    check_grad(lambda x: x.roll((1, -1), (0, 1)), a)
    check_grad(lambda x: x.t().roll(5), a)
    check_grad(lambda x: x.rot90(1), a)
    check_grad(lambda x: x.rot90(2, (1, 0)), a)
    check_grad(lambda x: x.repeat(2, 1, 3), a)
    check_grad(lambda x: x.t().tile(2), a)
    check_grad(lambda x: x.repeat_interleave(2, dim=1), a)
    check_grad(lambda x: x.repeat_interleave(nt.tensor([2, 0, 1])), req(3))
    check_grad(lambda x: x.repeat_interleave(nt.tensor([2, 0, 1]), dim=0), a)
    check_grad(lambda x: x.tril(-1), a)
    check_grad(lambda x: x.triu(1), a)
    check_grad(lambda x: (x * 1).tril_(), a)
    check_grad(lambda x: x.diag(1), a)
    check_grad(lambda x: x.diag(), req(3))
    check_grad(lambda x: x.diag_embed(-1), a)
    check_grad(lambda x: V.narrow(x, 1, 0, 3).trace(), a)


def test_double_backward_cat_repeat():
    x = req((2, 3))
    y = (nt.cat([x, x]) ** 2).repeat(2, 1).flip(0).sum()
    (g,) = nt.autograd.grad(y, x, create_graph=True)
    np.testing.assert_allclose(N(g), 8 * N(x))
    (gg,) = nt.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(N(gg), np.full((2, 3), 8.0))


# -- torch parity (names and errors) --------------------------------------------------------------

def test_grad_fn_names_vs_torch():
    torch = pytest.importorskip("torch")
    cases = [
        lambda m, x: m.cat([x, x]), lambda m, x: m.stack([x, x]), lambda m, x: m.hstack([x, x]),
        lambda m, x: x.flip(0), lambda m, x: x.roll(1), lambda m, x: x.repeat(2, 1), lambda m, x: x.tile(2),
        lambda m, x: x.tril(), lambda m, x: x.triu(), lambda m, x: x.repeat_interleave(2),
        lambda m, x: x.repeat_interleave(m.tensor([1, 2]), dim=0), lambda m, x: x.rot90(),
        lambda m, x: x.diag(), lambda m, x: x.diag_embed(), lambda m, x: x.trace(),
        lambda m, x: m.block_diag(x, x), lambda m, x: (x * 1).tril_(), lambda m, x: m.atleast_3d(x),
        lambda m, x: m.column_stack([x, x]),
    ]
    xn = nt.ones(2, 3, requires_grad=True)
    xt = torch.ones(2, 3, requires_grad=True)
    for f in cases:
        assert f(nt, xn).grad_fn.name() == f(torch, xt).grad_fn.name()


def _err(fn, mod):
    try:
        fn(mod)
    except Exception as e:     # noqa: BLE001
        return type(e).__name__, str(e).split("\n")[0]
    return None


ERRORS = [
    lambda m: m.cat([]), lambda m: m.cat([m.tensor(1.), m.tensor(2.)]),
    lambda m: m.cat([m.ones(2, 3), m.ones(1, 3)], 1), lambda m: m.cat([m.ones(2, 3), m.ones(2, 1)]),
    lambda m: m.cat([m.ones(2, 3), m.ones(3)]), lambda m: m.cat([m.ones(2), 1]), lambda m: m.cat(m.ones(2)),
    lambda m: m.cat([m.ones(2)], 1), lambda m: m.cat([m.ones(2)], out=m.ones(2, dtype=m.long)),
    lambda m: m.stack([m.ones(2), m.ones(3)]), lambda m: m.stack([]), lambda m: m.hstack([]),
    lambda m: m.ones(2, 3).flip(0, 0), lambda m: m.ones(3).fliplr(), lambda m: m.tensor(1.).flipud(),
    lambda m: m.ones(2, 3).roll((1, 2), (0,)), lambda m: m.ones(2, 3).roll((), ()),
    lambda m: m.ones(2, 3).repeat(2), lambda m: m.ones(3).repeat(-1),
    lambda m: m.ones(3).tril(), lambda m: m.ones(3).triu(),
    lambda m: m.ones(3).repeat_interleave(-1), lambda m: m.ones(3).repeat_interleave(m.tensor([1, 2])),
    lambda m: m.ones(3).repeat_interleave(m.tensor([1, -1, 2])), lambda m: m.ones(3).repeat_interleave(m.ones(3)),
    lambda m: m.ones(3).repeat_interleave(m.ones(1, 3, dtype=m.long)),
    lambda m: m.ones(2, 3).rot90(1, [0, 0]), lambda m: m.ones(3).rot90(), lambda m: m.ones(2, 3).rot90(1, [0, 1, 2]),
    lambda m: m.tensor(1.).diag(), lambda m: m.ones(2, 2, 2).diag(), lambda m: m.ones(2, 3).diag_embed(0, 1, 1),
    lambda m: m.ones(3).trace(), lambda m: m.ones(2, 2, dtype=m.bool).trace(),
    lambda m: m.meshgrid(m.ones(2), m.ones(2, dtype=m.long), indexing="ij"),
    lambda m: m.meshgrid(m.ones(2), indexing="foo"), lambda m: m.cartesian_prod(m.ones(2, 2)),
    lambda m: m.block_diag(m.ones(2, 2, 2)),
    lambda m: m.cat([m.ones(2, requires_grad=True)], out=m.empty(2)),
    lambda m: m.stack([m.ones(2, requires_grad=True)], out=m.empty(1, 2)),
    lambda m: m.tril(m.ones(2, 2), out=m.empty(2, 2, dtype=m.long)),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_vs_torch(i):
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _err(ERRORS[i], nt) == _err(ERRORS[i], torch)


def test_errors_without_torch():
    with pytest.raises(ValueError, match="expected a non-empty list of Tensors"):
        nt.cat([])
    with pytest.raises(RuntimeError, match=r"Sizes of tensors must match except in dimension 1. Expected size 2 "
                                           r"but got size 1 for tensor number 1 in the list."):
        nt.cat([nt.ones(2, 3), nt.ones(1, 3)], 1)
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but got \[2\] at entry 0 "
                                           r"and \[3\] at entry 1"):
        nt.stack([nt.ones(2), nt.ones(3)])
    with pytest.raises(IndexError, match="Dimension out of range"):
        nt.ones(2).flip(1)
    x = nt.ones(2, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x.tril_()
