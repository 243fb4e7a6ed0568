"""numtorch.indexing against NumPy (values), PyTorch (grad_fn names, via importorskip) and finite differences."""
import warnings

import numpy as np
import pytest

import numtorch as torch
from _fd import check_grad


@pytest.fixture(autouse=True)
def _on_each_device(device):
    """Every case runs with factories on the CPU and on CUDA (see the ``device`` fixture)."""

T = torch.tensor
SHAPE = (4, 5, 6)


def _layouts():
    """(name, NumPy view, tensor view) pairs with equal contents and different strides."""
    base = np.arange(np.prod(SHAPE), dtype=np.float32).reshape(SHAPE)
    small = np.arange(6, dtype=np.float32).reshape(1, 1, 6)
    return [
        ("contig", base, torch.from_numpy(base.copy())),
        ("transposed", base.transpose(2, 0, 1), torch.from_numpy(base.copy()).permute(2, 0, 1)),
        ("stepped", base[::2, 1:, ::3], torch.from_numpy(base.copy())[::2, 1:, ::3]),
        ("expanded", np.broadcast_to(small, SHAPE), torch.from_numpy(small.copy()).expand(*SHAPE)),
    ]


LAYOUTS = _layouts()


def _mask(shape, k=3):
    return np.arange(int(np.prod(shape))).reshape(shape) % k == 0


# Each case builds the same index for NumPy (conv=np.asarray) and numtorch (conv=torch.from_numpy);
# ``s`` is the indexed array's shape.
GET_CASES = {
    "int": lambda c, s: 0,
    "neg int": lambda c, s: -1,
    "slice": lambda c, s: slice(1, 3),
    "step slice": lambda c, s: (slice(None), slice(None, None, 2)),
    "int, slice": lambda c, s: (1, slice(1, None)),
    "ellipsis int": lambda c, s: (Ellipsis, 1),
    "none": lambda c, s: (None, 1),
    "none mid": lambda c, s: (1, None, slice(None)),
    "list": lambda c, s: [0, 1],
    "list neg repeat": lambda c, s: [-1, 0, -1],
    "two lists": lambda c, s: ([0, -1], [1, 1]),
    "slice, list": lambda c, s: (slice(None), [0, 1]),
    "ellipsis, list": lambda c, s: (Ellipsis, [1, 0]),
    "separated lists": lambda c, s: ([0, 1], slice(None), [1, 0]),
    "broadcast lists": lambda c, s: ([[0], [1]], [0, 1, 1]),
    "tensor 2d": lambda c, s: c(np.array([[0, 1], [1, 0]])),
    "int32 tensor": lambda c, s: c(np.array([1, 0], dtype=np.int32)),
    "mask dim0": lambda c, s: c(_mask(s[:1], 2)),
    "mask dim1": lambda c, s: (slice(None), c(_mask(s[1:2], 2))),
    "mask 2d": lambda c, s: c(_mask(s[:2])),
    "mask full": lambda c, s: c(_mask(s)),
    "mask 2d, int": lambda c, s: (c(_mask(s[:2])), 1),
    "mask 2d, list": lambda c, s: (c(_mask(s[:2])), [0]),
    "none, list, slice, list": lambda c, s: (None, [0, 1], slice(1, 3), [1, 0]),
    "list, none, list": lambda c, s: ([0, 1], None, [1, 0]),
    "slice, list, none": lambda c, s: (slice(1, None), [0, 1], None),
    "int, bool list": lambda c, s: (1, [i % 2 == 0 for i in range(s[1])]),
    "empty list": lambda c, s: [],
    "True": lambda c, s: True,
    "False": lambda c, s: False,
    "0-d int tensor": lambda c, s: (c(np.array(1)), [0, 1]),
}


@pytest.mark.parametrize("layout", LAYOUTS, ids=[l[0] for l in LAYOUTS])
def test_getitem_matches_numpy(layout):
    _, a, t = layout
    for name, build in GET_CASES.items():
        want = a[build(np.asarray, a.shape)]
        got = t[build(torch.from_numpy, t.shape)]
        assert tuple(got.shape) == want.shape, name
        np.testing.assert_array_equal(got.cpu().numpy(), want, err_msg=name)


def test_basic_indexing_returns_views_and_advanced_copies():
    x = torch.arange(24.).reshape(2, 3, 4)
    for idx in (0, (slice(None), 1), (Ellipsis, 2), (None, 1), (1, slice(0, 3, 2)), Ellipsis, ()):
        assert x[idx]._storage is x._storage
    for idx in ([0], (slice(None), [1, 2]), x > 3, True):
        assert x[idx]._storage is not x._storage
    v = x[1]
    v[2, 3] = -1.0
    assert x[1, 2, 3].item() == -1.0
    x[:, 1][0] = 7.0
    assert x.cpu()._np()[0, 1].tolist() == [7.0] * 4
    x[0] += 1                                  # in-place on a view, then setitem of itself
    assert x.cpu()._np()[0, 1, 0] == 8.0 and x.cpu()._np()[1, 2, 3] == -1.0
    v0 = x._version
    x[[0]] = 0.0
    x[0, 0] = 1.0
    assert x._version == v0 + 2


def test_getitem_dtypes_and_scalars():
    xi = torch.arange(12).reshape(3, 4)
    assert xi[1, 2].item() == 6 and xi[1, 2].shape == ()
    np.testing.assert_array_equal(xi[[2, 0], 1:3].cpu().numpy(), np.arange(12).reshape(3, 4)[[2, 0], 1:3])
    b = torch.tensor([[True, False], [False, True]])
    np.testing.assert_array_equal(b[T([1, 1])].cpu().numpy(), [[False, True], [False, True]])
    np.testing.assert_array_equal(b[b].cpu().numpy(), [True, True])
    x0 = torch.tensor(5.0)
    assert x0[...].item() == 5.0 and x0[None].shape == (1,) and x0[True].shape == (1,)
    h = torch.arange(6.).half()
    assert h[[5, 0]].dtype == torch.float16 and h[[5, 0]].tolist() == [5.0, 0.0]


SET_CASES = [   # (index builder, value builder) on an array of shape s
    (lambda c, s: 0, lambda s: 1.5),
    (lambda c, s: -1, lambda s: np.arange(s[2], dtype=np.float32)),
    (lambda c, s: (slice(None), 1), lambda s: 2.0),
    (lambda c, s: (Ellipsis, 1), lambda s: np.arange(s[1], dtype=np.float32)[None]),
    (lambda c, s: [-1, 0], lambda s: 3.0),
    (lambda c, s: [1, 0], lambda s: np.arange(2 * s[1] * s[2], dtype=np.float32).reshape(2, s[1], s[2])),
    (lambda c, s: ([0, 1], [1, 2]), lambda s: np.arange(s[2], dtype=np.float32)),
    (lambda c, s: (slice(None), [0, 2]), lambda s: np.arange(2, dtype=np.float32)[:, None]),
    (lambda c, s: ([0, 1], slice(None), [1, 0]), lambda s: 9.0),
    (lambda c, s: c(_mask(s, 5)), lambda s: -1.0),
    (lambda c, s: c(_mask(s[:2], 3)), lambda s: np.arange(s[2], dtype=np.float32)),
    (lambda c, s: (slice(1, None), c(_mask(s[1:2], 2))), lambda s: np.float32(4.0)),
]


@pytest.mark.parametrize("layout", LAYOUTS[:3], ids=[l[0] for l in LAYOUTS[:3]])
def test_setitem_matches_numpy(layout):
    _, a, t0 = layout
    for k, (build, value) in enumerate(SET_CASES):
        a2, t = np.array(a), t0.clone()
        val = value(a.shape)
        a2[build(np.asarray, a.shape)] = val
        t[build(torch.from_numpy, a.shape)] = torch.from_numpy(val) if isinstance(val, np.ndarray) else float(val)
        np.testing.assert_array_equal(t.cpu().numpy(), a2, err_msg=str(k))


def test_setitem_casts_and_writes_through_views():
    x = torch.zeros(3, 4, dtype=torch.int64)
    x[0] = 2.7
    x[1] = torch.tensor([1.5, 2.5, 3.5, 4.5])
    x[x > 3] = 9
    x[2, [0, 3]] = torch.tensor([7, 8])
    np.testing.assert_array_equal(x.cpu().numpy(), [[2, 2, 2, 2], [1, 2, 3, 9], [7, 0, 0, 8]])
    y = torch.zeros(4, 6)
    view = y[1:3, ::2]
    view[:, [0, 2]] = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    view[view == 0] = 5.0
    want = np.zeros((4, 6), np.float32)
    want[1:3, ::2] = [[1, 5, 2], [3, 5, 4]]
    np.testing.assert_array_equal(y.cpu().numpy(), want)
    z = torch.zeros(2, 3)
    z[[0, 0, 1]] = torch.tensor([[1.0, 1, 1], [2, 2, 2], [3, 3, 3]])   # repeated index: the last write wins
    np.testing.assert_array_equal(z.cpu().numpy(), [[2, 2, 2], [3, 3, 3]])
    u = torch.zeros(3, dtype=torch.uint8)
    u[0] = -1                                  # c10's uint8 check accepts -255..255 (wraps)
    assert u.tolist() == [255, 0, 0]


def test_setitem_validates_before_writing():
    x = torch.arange(6.).reshape(2, 3)
    for idx, val, exc, msg in [
            ([0, 5], 1.0, IndexError, "index 5 is out of bounds for dimension 0 with size 2"),
            ([0, 1], torch.ones(2), RuntimeError, "shape mismatch: value tensor of shape [2] cannot be broadcast "
                                                    "to indexing result of shape [2, 3]"),
            ([0], torch.ones(3, dtype=torch.float64), RuntimeError, "Index put requires the source and destination "
                                                                    "dtypes match"),
            (0, torch.ones(2), RuntimeError, "The expanded size of the tensor (3) must match"),
            (0, [1, 2, 3], TypeError, "can't assign a list to a torch.FloatTensor"),
            (0, 1e40, RuntimeError, "value cannot be converted to type float without overflow"),
            (slice(None, None, -1), 1.0, ValueError, "step must be greater than zero")]:
        with pytest.raises(exc) as e:
            x[idx] = val
        assert str(e.value).startswith(msg), str(e.value)
    np.testing.assert_array_equal(x.cpu().numpy(), np.arange(6.).reshape(2, 3))
    assert x._version == 0


ERRORS = [
    (lambda x: x[::-1], ValueError, "step must be greater than zero"),
    (lambda x: x[5], IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
    (lambda x: x[:, 7], IndexError, "index 7 is out of bounds for dimension 1 with size 4"),
    (lambda x: x[0, 0, 0], IndexError, "too many indices for tensor of dimension 2"),
    (lambda x: x[[7]], IndexError, "index 7 is out of bounds for dimension 0 with size 3"),
    (lambda x: x[[0], [-5]], IndexError, "index -5 is out of bounds for dimension 1 with size 4"),
    (lambda x: x[T([1.0])], IndexError, "tensors used as indices must be long, int, byte or bool tensors"),
    (lambda x: x[1.5], IndexError, "only integers, slices (`:`), ellipsis (`...`), None and long or byte"),
    (lambda x: x[[True, False]], IndexError, "The shape of the mask [2] at index 0 does not match the shape of the "
                                             "indexed tensor [3, 4] at index 0"),
    (lambda x: x[[0, 1], [0, 1, 2]], IndexError, "shape mismatch: indexing tensors could not be broadcast together "
                                                 "with shapes [2], [3]"),
    (lambda x: torch.tensor(1.0)[0], IndexError, "invalid index of a 0-dim tensor"),
    (lambda x: x.index_select(0, [0]), TypeError, "index_select(): argument 'index' (position 2) must be Tensor"),
    (lambda x: x.index_select(0, T([0.0])), RuntimeError, "index_select(): Expected dtype int32 or int64 for index"),
    (lambda x: x.index_select(0, T([[0]])), IndexError, "index_select(): Index is supposed to be a vector"),
    (lambda x: x.index_select(0, T([3])), IndexError, "index out of range in self"),
    (lambda x: x.gather(1, T([[0, 4]])), RuntimeError, "index 4 is out of bounds for dimension 1 with size 4"),
    (lambda x: x.gather(1, T([0])), RuntimeError, "Index tensor must have the same number of dimensions as input"),
    (lambda x: x.gather(0, T([[0] * 5])), RuntimeError, "Size does not match at dimension 1 expected index [1, 5]"),
    (lambda x: x.scatter(1, T([[0] * 5]), x), RuntimeError, "Expected index [1, 5] to be no larger than self [3, 4] "
                                                            "apart from dimension 1 and to be no larger size than src"),
    (lambda x: x.scatter(1, T([[0]]), x.double()), RuntimeError, "scatter(): Expected self.dtype to be equal to src"),
    (lambda x: x.scatter(1, T([[0]]), x, reduce="mean"), RuntimeError, "reduce argument must be either add or"),
    (lambda x: x.scatter_add(1, T([[0]]), 1.0), TypeError, "scatter_add(): argument 'src' (position 3) must be Tensor"),
    (lambda x: x.scatter_reduce(1, T([[0]]), x, "foo"), RuntimeError, "reduce argument must be either sum, prod, mean"),
    (lambda x: x.index_add(0, T([0, 0]), torch.ones(3, 4)), RuntimeError, "index_add_(): Number of indices (2) should "
                                                                         "be equal to source.size(dim): (3)"),
    (lambda x: x.index_add(0, T([5]), torch.ones(1, 4)), RuntimeError, "index 5 is out of bounds for dimension 0"),
    (lambda x: x.index_copy(0, T([0], dtype=torch.int32), x[:1]), RuntimeError, "index_copy_(): Expected a long"),
    (lambda x: x.index_fill(1, T([0]), T([1.0])), RuntimeError, "index_fill_ only supports a 0-dimensional value"),
    (lambda x: x.masked_fill(x.long(), 1.0), RuntimeError, "masked_fill_ only supports boolean masks, but got mask "
                                                          "with dtype long int"),
    (lambda x: x.masked_fill_(torch.ones(2, 3, 4, dtype=torch.bool), 1.0), RuntimeError, "output with shape [3, 4] "
                                                                                         "doesn't match the broadcast"),
    (lambda x: x.masked_select(x.float()), RuntimeError, "masked_select: expected BoolTensor for mask"),
    (lambda x: x.masked_scatter(x > 0, torch.ones(2)), RuntimeError, "Number of elements of source < number of ones"),
    (lambda x: x.take(T([12])), IndexError, "out of range: tried to access index 12 on a tensor of 12 elements."),
    (lambda x: x.take(T([0], dtype=torch.int32)), RuntimeError, "take(): Expected a long tensor for index, but got"),
    (lambda x: x.put_(T([0, 1]), torch.ones(3)), IndexError, "put_(): Expected source and index to have the same"),
    (lambda x: x.index_put_((T([0]),) * 3, T(1.0)), IndexError, "too many indices for tensor of dimension 2 (got 3)"),
]


@pytest.mark.parametrize("fn,exc,msg", ERRORS, ids=[e[2][:40] for e in ERRORS])
def test_errors(fn, exc, msg):
    x = torch.arange(12.).reshape(3, 4) - 5
    with pytest.raises(exc) as e:
        fn(x)
    assert str(e.value).startswith(msg), str(e.value)
    np.testing.assert_array_equal(x.cpu().numpy(), np.arange(12.).reshape(3, 4) - 5)


def test_leaf_errors():
    x = torch.zeros(3, 4, requires_grad=True)
    for stmt, msg in ((lambda: x.__setitem__(0, 1.0), "a view of a leaf Variable that requires grad"),
                      (lambda: x.__setitem__([0], 1.0), "a leaf Variable that requires grad"),
                      (lambda: x.__setitem__(slice(None), 1.0), "a leaf Variable that requires grad"),
                      (lambda: x.scatter_(1, T([[0]]), 1.0), "a leaf Variable that requires grad"),
                      (lambda: x.masked_fill_(x > 0, 1.0), "a leaf Variable that requires grad")):
        with pytest.raises(RuntimeError, match="^" + msg):
            stmt()
    with torch.no_grad():
        x[0] = 1.0
        x[[1]] = 2.0
    assert x.requires_grad and x.sum().item() == 12.0


# ----------------------------------------------------------------------------- functions vs NumPy
def _np_scatter(a, dim, idx, src, op):
    out = np.array(a)
    for pos in np.ndindex(*idx.shape):
        tgt = list(pos)
        tgt[dim] = idx[pos]
        out[tuple(tgt)] = op(out[tuple(tgt)], src[pos])
    return out


@pytest.mark.parametrize("layout", LAYOUTS, ids=[l[0] for l in LAYOUTS])
def test_gather_index_select_take_nonzero(layout):
    _, a, t = layout
    rng = np.random.default_rng(0)
    idx = rng.integers(0, a.shape[1], (a.shape[0], 7, a.shape[2]))
    np.testing.assert_array_equal(t.gather(1, torch.from_numpy(idx)).cpu().numpy(), np.take_along_axis(a, idx, 1))
    sel = np.array([1, 0, 1, 1])
    for d in range(3):
        got = t.index_select(d, torch.from_numpy(sel.astype(np.int32)))
        np.testing.assert_array_equal(got.cpu().numpy(), np.take(a, sel, axis=d))
    flat = np.array([[0, -1], [7, 7]])
    np.testing.assert_array_equal(torch.take(t, torch.from_numpy(flat)).cpu().numpy(), np.take(a.ravel(), flat))
    np.testing.assert_array_equal(torch.nonzero(t > 20).cpu().numpy(), np.argwhere(a > 20))
    np.testing.assert_array_equal(torch.argwhere(t).cpu().numpy(), np.argwhere(a))
    for g, w in zip(torch.nonzero(t > 20, as_tuple=True), np.nonzero(a > 20)):
        np.testing.assert_array_equal(g.cpu().numpy(), w)
    m = _mask(a.shape[1:], 4)
    np.testing.assert_array_equal(t.masked_select(torch.from_numpy(m)).cpu().numpy(), np.broadcast_to(a, a.shape)[
        np.broadcast_to(m, a.shape)])
    np.testing.assert_array_equal(t.masked_fill(torch.from_numpy(m), -1.0).cpu().numpy(), np.where(m, -1.0, a))


@pytest.mark.cpu_only
def test_scatter_family_matches_numpy():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 5))
    idx = np.array([[0, 2, 2], [4, 4, 4], [1, 0, 3]])
    src = rng.standard_normal((3, 4))
    x, i, s = torch.from_numpy(a), torch.from_numpy(idx), torch.from_numpy(src)
    np.testing.assert_allclose(x.scatter(1, i[:, :1], s).cpu().numpy(), _np_scatter(a, 1, idx[:, :1], src, lambda o, v: v))
    np.testing.assert_allclose(x.scatter(1, i, 2.5).cpu().numpy(), _np_scatter(a, 1, idx, np.full(idx.shape, 2.5),
                                                                          lambda o, v: v))
    for red, op in (("add", np.add), ("multiply", np.multiply)):
        np.testing.assert_allclose(x.scatter(1, i, s, reduce=red).cpu().numpy(), _np_scatter(a, 1, idx, src, op))
    np.testing.assert_allclose(x.scatter_add(1, i, s).cpu().numpy(), _np_scatter(a, 1, idx, src, np.add))
    for red, op in (("sum", np.add), ("prod", np.multiply), ("amax", np.maximum), ("amin", np.minimum)):
        np.testing.assert_allclose(x.scatter_reduce(1, i, s, red).cpu().numpy(), _np_scatter(a, 1, idx, src, op))
        hit = _np_scatter(np.zeros_like(a), 1, idx, np.ones_like(src), np.add) > 0
        want = _np_scatter(np.where(hit, {"sum": 0, "prod": 1, "amax": -np.inf, "amin": np.inf}[red], a), 1, idx, src,
                           op)
        np.testing.assert_allclose(x.scatter_reduce(1, i, s, red, include_self=False).cpu().numpy(), want)
    cnt = _np_scatter(np.ones_like(a), 1, idx, np.ones_like(src), np.add)
    np.testing.assert_allclose(x.scatter_reduce(1, i, s, "mean").cpu().numpy(), _np_scatter(a, 1, idx, src, np.add) / cnt)
    xt = torch.zeros(5, 3, dtype=torch.float64).t()                              # non-contiguous target, in place
    xt.scatter_(1, i, s[:, :3])
    np.testing.assert_allclose(xt.cpu().numpy(), _np_scatter(np.zeros((3, 5)), 1, idx, src[:, :3], lambda o, v: v))
    zi = torch.zeros(2, 3, dtype=torch.int64).scatter_reduce(1, T([[0, 0]]), T([[3, 4]]), "mean", include_self=False)
    assert zi.tolist() == [[3, 0, 0], [0, 0, 0]]
    zb = torch.zeros(3, dtype=torch.bool).scatter_add(0, T([0, 0]), T([True, False]))
    assert zb.tolist() == [True, False, False]


@pytest.mark.cpu_only
def test_index_add_copy_fill_put():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((4, 3)).astype(np.float32)
    src = rng.standard_normal((3, 3)).astype(np.float32)
    idx = np.array([1, 3, 1])
    x = torch.from_numpy(a)
    want = a.copy()
    np.add.at(want, idx, 2 * src)
    np.testing.assert_allclose(x.index_add(0, torch.from_numpy(idx), torch.from_numpy(src), alpha=2).cpu().numpy(), want,
                               rtol=1e-6)
    want = a.copy()
    src2 = rng.standard_normal((3, 4)).astype(np.float32)
    np.add.at(want, (slice(None), [2, 0, 2]), src2.T)         # along dim 1, transposed layouts on both sides
    xt = x.t().contiguous().t()
    np.testing.assert_allclose(xt.index_add(1, T([2, 0, 2]), torch.from_numpy(src2).t()).cpu().numpy(), want, rtol=1e-6)
    want = a.copy()
    want[[3, 0]] = src[:2]
    np.testing.assert_array_equal(x.index_copy(0, T([3, 0]), torch.from_numpy(src[:2])).cpu().numpy(), want)
    want = a.copy()
    want[:, [0, 2]] = -7
    np.testing.assert_array_equal(x.index_fill(1, T([0, -1]), -7).cpu().numpy(), want)
    y = torch.zeros(3, 4).t()
    y.put_(T([0, 5, 5]), T([1.0, 2.0, 3.0]), accumulate=True)
    want = np.zeros((4, 3), np.float32)
    np.add.at(want.reshape(-1), [0, 5, 5], [1, 2, 3])
    np.testing.assert_array_equal(y.cpu().numpy(), want)
    z = torch.zeros(2, 3)
    z.index_put_((T([0, 0, 1]), T([1, 1, 2])), T([1.0, 2.0, 3.0]), accumulate=True)
    assert z.tolist() == [[0, 3, 0], [0, 0, 3]]
    zb = torch.zeros(4, dtype=torch.bool).index_add(0, T([1, 1]), T([True, True]))
    assert zb.tolist() == [False, True, False, False]
    m = torch.from_numpy(_mask((4, 3), 2))
    ms = torch.zeros(4, 3).masked_scatter(m, torch.arange(12.))
    want = np.zeros((4, 3), np.float32)
    want[_mask((4, 3), 2)] = np.arange(6)
    np.testing.assert_array_equal(ms.cpu().numpy(), want)


# ----------------------------------------------------------------------------- autograd
def _d(*shape, seed=0):
    return torch.tensor(np.random.default_rng(seed).standard_normal(shape), dtype=torch.float64, requires_grad=True)


def test_gradcheck_getitem():
    x = _d(3, 4)
    check_grad(lambda x: x[1, 1:3], x)
    check_grad(lambda x: x[None, ..., 2], x)
    check_grad(lambda x: x[[0, 0, 2], [1, 1, 3]], x)          # repeated indices accumulate
    check_grad(lambda x: x[:, [3, 3, 0]], x)
    check_grad(lambda x: x.t()[[1, 1]], x)
    check_grad(lambda x: x[x.detach() > 0], x)
    check_grad(lambda x: x[T([[True, False, True, True]] * 3)], x)


def test_gradcheck_functions():
    x, s = _d(3, 4), _d(3, 4, seed=1)
    i = T([[0, 0], [1, 3], [2, 2]])
    check_grad(lambda x: x.index_select(1, T([0, 0, 3])), x)
    check_grad(lambda x: x.gather(1, i), x)
    check_grad(lambda x, s: x.scatter(1, T([[0, 1], [3, 2]]), s[:2, :2]), x, s)
    check_grad(lambda x, s: x.scatter_add(1, i, s[:, :2]), x, s)
    check_grad(lambda x: x.masked_fill(x.detach() > 0, 2.0), x)
    check_grad(lambda x: x.masked_select(T([True, False, True, True])), x)
    check_grad(lambda x: x.take(T([0, 0, 11, -1])), x)
    check_grad(lambda x, s: x.index_add(0, T([2, 2]), s[:2], alpha=1.5), x, s)
    check_grad(lambda x, s: x.scatter_reduce(1, i, s[:, :2], "amax"), x, s)
    check_grad(lambda x, s: x.index_put((T([0, 0]),), s[0], accumulate=True), x, s)


def test_setitem_autograd():
    x, s = _d(3, 4), _d(4, seed=1)

    def f(x, s):
        y = x * 1.0
        y[0] = s
        y[[1, 2], [0, 0]] = s[:2] * 2
        y[y.detach() > 1] = 0.0
        return y
    check_grad(f, x, s)
    y = x * 1
    y[0] = 1.0
    assert type(y.grad_fn).__name__ == "CopySlices"
    y[[1]] = 1.0
    assert type(y.grad_fn).__name__ == "IndexPutBackward0"


def test_double_backward_through_index():
    x = _d(3, 4)
    (g,) = torch.autograd.grad((x[[0, 0, 2]] ** 2).sum(), x, create_graph=True)
    g.sum().backward()
    want = np.zeros((3, 4))
    want[0], want[2] = 4.0, 2.0
    np.testing.assert_allclose(x.grad.cpu().numpy(), want)


GRAD_FN_CASES = [
    "x[...]", "x[:]", "x[0]", "x[None]", "x[:, :]", "x[0, :]", "x[1:2]", "x[[0, 1]]", "x[x > 0]", "x[True]",
    "x.index_select(0, I([0]))", "x.gather(1, I([[0]]))", "x.scatter(1, I([[0]]), s)", "x.scatter(1, I([[0]]), 1.0)",
    "x.scatter(1, I([[0]]), s, reduce='add')", "x.scatter_add(1, I([[0]]), s)",
    "x.scatter_reduce(1, I([[0]]), s, 'sum')",
    "x.index_add(0, I([0]), s[:1])", "x.index_copy(0, I([0]), s[:1])", "x.index_fill(0, I([0]), 1.0)",
    "x.index_fill(0, I([0]), v)", "x.masked_fill(x > 0, 1.0)", "x.masked_fill(x > 0, v)", "x.masked_select(x > 0)",
    "x.masked_scatter(x > 0, s)", "x.take(I([0]))", "x.index_put((I([0]),), s[0])",
]


def test_grad_fn_names_match_torch():
    pt = pytest.importorskip("torch")
    for expr in GRAD_FN_CASES:
        names = []
        for lib in (pt, torch):
            x = lib.ones(2, 3, requires_grad=True)
            s = lib.ones(2, 3, requires_grad=True)
            v = lib.tensor(2.0, requires_grad=True)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                names.append(type(eval(expr, dict(x=x, s=s, v=v, I=lib.tensor)).grad_fn).__name__)
        assert names[0] == names[1], expr


def test_inplace_history_matches_torch():
    pt = pytest.importorskip("torch")
    stmts = ["y.scatter_(1, I([[0]]), 1.)", "y.index_add_(0, I([0, 0]), s[:2])", "y.masked_fill_(y > 0, 1.)",
             "y[0].masked_fill_(y[0] > 0, 1.)", "y.put_(I([0, 0]), s[0, :2], accumulate=True)",
             "y[1:, [1, 2]] = s[:2, :2]"]
    xa = np.random.default_rng(0).standard_normal((3, 4))
    for st in stmts:
        res = []
        for lib in (pt, torch):
            x = lib.tensor(xa, requires_grad=True)
            s = lib.tensor(xa * 2, requires_grad=True)
            y = x * 1
            exec(st, dict(y=y, s=s, I=lib.tensor))
            (y * lib.tensor(xa)).sum().backward()
            res.append((type(y.grad_fn).__name__, y._version, x.grad.cpu().numpy().copy(),
                        None if s.grad is None else s.grad.cpu().numpy().copy()))
        assert res[0][:2] == res[1][:2], st
        np.testing.assert_allclose(res[1][2], res[0][2], err_msg=st)
        assert (res[0][3] is None) == (res[1][3] is None), st
        if res[0][3] is not None:
            np.testing.assert_allclose(res[1][3], res[0][3], err_msg=st)


@pytest.mark.cpu_only
def test_strided_row_gather():
    b = np.random.default_rng(4).standard_normal((40, 50)).astype(np.float32)
    rows = np.random.default_rng(5).integers(0, 50, 20)
    np.testing.assert_array_equal(torch.from_numpy(b).t()[T(rows)].cpu().numpy(), b.T[rows])   # column-blocked walk


@pytest.mark.cpu_only
def test_parallel_kernels(monkeypatch):
    from numtorch.kernels import index_extra
    monkeypatch.setattr(index_extra, "PAR_MIN", 1)       # run the parallel=True twins on small inputs
    rng = np.random.default_rng(3)
    a = rng.standard_normal((9, 300)).astype(np.float32)
    src = rng.standard_normal((12, 300)).astype(np.float32)
    x = torch.from_numpy(a.copy())
    rows, cols = rng.integers(-9, 9, 12), rng.integers(0, 300, 400)
    np.testing.assert_array_equal(x[T(rows)].cpu().numpy(), a[rows])
    np.testing.assert_array_equal(x[:, T(cols)].cpu().numpy(), a[:, cols])
    b = rng.standard_normal((40, 50)).astype(np.float32)
    many = rng.integers(0, 50, 300)
    np.testing.assert_array_equal(torch.from_numpy(b).t()[T(many)].cpu().numpy(), b.T[many])  # column-blocked walk
    m = a > 0.2
    np.testing.assert_array_equal(x[torch.from_numpy(m)].cpu().numpy(), a[m])                  # mask compaction
    np.testing.assert_array_equal(x[:, torch.from_numpy(m[0])].cpu().numpy(), a[:, m[0]])     # mask positions
    z = torch.zeros(9, 300)
    z.index_put_((T(rows),), torch.from_numpy(src), accumulate=True)  # split over the 300-wide rows
    want = np.zeros_like(a)
    np.add.at(want, rows, src)
    np.testing.assert_allclose(z.cpu().numpy(), want, rtol=1e-6)
    z[:, T(cols)] = 1.0                                                # split over the 9 leading rows
    want[:, cols] = 1.0
    np.testing.assert_array_equal(z.cpu().numpy(), want)
