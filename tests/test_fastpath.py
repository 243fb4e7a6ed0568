"""The dispatch fast path (numtorch/fastpath.py) must give bit-for-bit what the general path gives:
every case runs twice, once with the fast path disabled, and the results (values, dtype, shape,
strides, grad_fn names, gradients, errors) are compared."""
import contextlib

import numpy as np
import pytest

import numtorch as nt
from numtorch import fastpath
from numtorch.optable import OPS


@contextlib.contextmanager
def general_path():
    saved = set(fastpath._FAST)
    fastpath._FAST.clear()
    try:
        yield
    finally:
        fastpath._FAST.update(saved)


def both(fn):
    """(fast result, general result) of ``fn()``; an exception must be the same on both paths."""
    out = []
    for ctx in (contextlib.nullcontext, general_path):
        with ctx():
            try:
                out.append(("ok", fn()))
            except Exception as e:      # noqa: BLE001
                out.append(("err", (type(e), str(e))))
    (k1, r1), (k2, r2) = out
    assert k1 == k2, out
    if k1 == "err":
        assert r1 == r2
    return r1, r2


def same(a, b):
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            same(x, y)
        return
    if not isinstance(a, nt.Tensor):
        assert a == b or (a != a and b != b)
        return
    assert a.dtype == b.dtype and a.shape == b.shape
    assert type(a.grad_fn).__name__ == type(b.grad_fn).__name__
    x, y = a.detach().numpy(), b.detach().numpy()
    if x.dtype.kind == "f":
        assert np.array_equal(x.view(f"i{x.itemsize}"), y.view(f"i{y.itemsize}")), (x, y)   # bits, -0.0, NaN
    else:
        assert np.array_equal(x, y)


VALUES = np.array([-2.5, -1.0, -0.0, 0.0, 0.5, 1.0, 3.0, np.inf, -np.inf, np.nan, 1e-30, 7.0], np.float64)
INTS = np.array([-7, -1, 0, 1, 2, 3, 5, 100, -128, 127, 9, 4], np.int64)


def _mk(dt, shape=(3, 4), seed=0):
    if dt in (nt.float32, nt.float64):
        return nt.tensor(np.random.default_rng(seed).permutation(VALUES).reshape(shape), dtype=dt)
    if dt is nt.bool:
        return nt.tensor(np.random.default_rng(seed).permutation(INTS).reshape(shape) > 1)
    return nt.tensor(np.random.default_rng(seed).permutation(INTS).reshape(shape), dtype=dt)


BINARY = sorted(n for n, op in OPS.items() if op.arity == 2)
UNARY = sorted(n for n, op in OPS.items() if op.arity == 1)
DTYPES = (nt.float32, nt.float64, nt.int64, nt.int32, nt.int8, nt.uint8, nt.bool)


@pytest.mark.parametrize("dt", DTYPES, ids=str)
def test_binary_ops_match_general_path(dt):
    a, b = _mk(dt, seed=1), _mk(dt, seed=2)
    for name in BINARY:
        for other in (b, 2, 3.5, -0.0, b[0, 0], 0):
            same(*both(lambda: nt.ops.elementwise(name, a, other)))
    for op in ("__add__", "__sub__", "__mul__", "__truediv__", "__radd__", "__rmul__", "__eq__", "__lt__",
               "__ge__", "__ne__"):
        for other in (b, 2, 0.5, -0.0, b[1, 2]):
            same(*both(lambda: getattr(a, op)(other)))


@pytest.mark.parametrize("dt", DTYPES, ids=str)
def test_unary_ops_match_general_path(dt):
    a = _mk(dt, seed=3)
    with np.errstate(all="ignore"):
        for name in UNARY:
            same(*both(lambda: nt.ops.elementwise(name, a)))


def test_layouts_offsets_and_external_buffers():
    vals = np.random.default_rng(4).permutation(np.r_[VALUES, 2.0, -3.0, 0.25, 9.0])
    base = nt.tensor(vals.reshape(4, 4), dtype=nt.float32)
    raw = np.frombuffer(bytes(1) + np.arange(16, dtype=np.float32).tobytes(), np.float32, 16, 1)  # unaligned
    ext = nt.from_numpy(raw.reshape(4, 4))
    cases = [lambda: base[1] + base[2], lambda: base[1:3] * base[2:4], lambda: base.t() + 1,
             lambda: base[0, 0] * base, lambda: base * base[0, 0], lambda: base.expand(2, 4, 4)[1] - 1.0,
             lambda: nt.ones(1).expand(4, 4) * base, lambda: ext + 1, lambda: ext * ext, lambda: base + ext,
             lambda: ext.sum(), lambda: ext.mean(), lambda: base[2].sum(), lambda: base[1:].mean(),
             lambda: nt.ones(3, 0) + 1, lambda: nt.tensor(2.0) + nt.tensor(3.0)]
    for fn in cases:
        for _ in range(3):          # first call fills the plan, later ones take its entry point
            same(*both(fn))


def test_row_and_column_broadcasts_match():
    a = _mk(nt.float32, (3, 4), seed=6)
    x = nt.arange(24.0).view(2, 3, 4) - 7
    cases = [lambda: a + a[0], lambda: a[0] - a, lambda: a / a[:, :1], lambda: a[:, 1:2] * a,
             lambda: a + a[0].view(1, 4), lambda: x - x.mean(2, keepdim=True), lambda: x / x.sum(0),
             lambda: x * x[0, 0], lambda: x + nt.ones(3, 1, 1), lambda: x.view(2, 3, 1, 4) + nt.ones(4),
             lambda: nt.ones(3, 1) + nt.ones(1, 4), lambda: a[:, :2] + a[0, :2], lambda: a.t() + a[0, :3],
             lambda: nt.ones(2, 1, 4) - x, lambda: a.long() // a[0].long().clamp(min=1)]
    for fn in cases:
        same(*both(fn))

    def grads():
        w = nt.tensor([[1.0, -2.0, 0.5, 3.0]], requires_grad=True)
        c = nt.tensor([[0.5], [2.0], [-1.0]], requires_grad=True)
        y = (a * w - c) / (c + 4)
        y.sum().backward()
        return y, w.grad, c.grad
    same(*both(grads))


def test_integer_division_by_zero_and_overflow():
    a = nt.tensor([1, 2, 3])
    for fn in (lambda: a // nt.tensor([1, 0, 1]), lambda: a % 0, lambda: a.fmod(nt.tensor([0, 1, 1]))):
        same(*both(fn))
    i8 = nt.tensor([100, -100], dtype=nt.int8)
    same(*both(lambda: i8 + i8))
    same(*both(lambda: i8 * 3))
    with pytest.raises(RuntimeError):
        nt.tensor([True]) - nt.tensor([True])


def test_autograd_graphs_and_gradients_match():
    def run():
        x = nt.tensor([[1.5, -2.0], [0.5, 3.0]], requires_grad=True)
        w = nt.nn.Parameter(nt.tensor([[0.25, 1.0], [2.0, -1.0]]))
        y = (x * w + 2) / (w - 5) - x.exp() * 0.5
        z = (y * y).tanh().sum() + (x * 3).mean() + y[0].sum()
        z.backward()
        return z, y, x.grad, w.grad, type(y.grad_fn).__name__
    same(*both(run))


def test_version_counter_checks_survive_the_fast_path():
    x = nt.ones(2, 2, requires_grad=True)
    y = x * 1.0
    z = y * y
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_subclasses_take_the_general_path():
    class MyTensor(nt.Tensor):
        pass
    a = nt.ones(2).as_subclass(MyTensor)
    assert type(a) is MyTensor
    r = a + 1
    np.testing.assert_array_equal(r.numpy(), [2.0, 2.0])


def test_tensor_list_and_factories_match():
    for data in ([1.0, 2.0], [1, 2], [1, 2.5], [True, 1], [2 ** 62, 1], [1e39], [3.4e38, -3.4e38]):
        same(*both(lambda: nt.tensor(data)))
    for fn in (lambda: nt.ones(2, 3), lambda: nt.zeros((2, 3)), lambda: nt.ones(2, requires_grad=True) * 2,
               lambda: nt.zeros([2, 3]), lambda: nt.empty(nt.Size([2])).shape, lambda: nt.ones(0, 2)):
        same(*both(fn))
    with pytest.raises(TypeError):
        nt.ones(2.0, 2)


def test_views_and_indexing_match():
    a = nt.arange(12.0).view(3, 4)
    for fn in (lambda: a.view(-1), lambda: a.view(2, 6), lambda: a.view((4, 3)), lambda: a[1], lambda: a[-1],
               lambda: a[1][2], lambda: a.t().view(-1), lambda: a[3], lambda: a.view(5, -1)):
        same(*both(fn))
    v = a.view(-1)
    assert v._base is a._base and v.data_ptr() == a.data_ptr()


def test_gc_threshold_is_raised_only_from_the_default():
    import subprocess
    import sys
    code = "import gc; {}import numtorch; print(gc.get_threshold()[0])"
    run = lambda pre, env=None: subprocess.run(  # noqa: E731
        [sys.executable, "-c", code.format(pre)], capture_output=True, text=True, env=env, check=True).stdout.strip()
    import os
    env = dict(os.environ)
    env.pop("NUMTORCH_GC_THRESHOLD", None)
    assert run("", env) == "10000"
    assert run("gc.set_threshold(500); ", env) == "500"          # the program's own choice stays
    assert run("", dict(env, NUMTORCH_GC_THRESHOLD="0")) == "700"


def test_dim_reductions_match():
    x = nt.tensor(np.random.default_rng(7).standard_normal((3, 5, 7)))
    for t in (x, x.float(), x[1], x.float()[:, 2]):
        for d in range(-t.ndim, t.ndim):
            for k in (False, True):
                same(*both(lambda: t.sum(d, keepdim=k)))
                same(*both(lambda: t.mean(d, keepdim=k)))
                same(*both(lambda: t.sum(dim=d, keepdims=k)))

    def grads():
        w = nt.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
        y = w.mean(1) * w.sum(0, keepdim=True).sum() + w.sum(-1)
        y.sum().backward()
        return y, w.grad
    same(*both(grads))
    same(*both(lambda: x.sum(3)))
