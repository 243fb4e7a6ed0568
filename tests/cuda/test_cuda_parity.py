"""CPU/CUDA parity: every elementwise op of the table, and programs over the other kernel families,
run on both devices; values, dtypes, shapes, grad_fn names and gradients must agree.

Sizes are tiny because CI runs these under Numba's CUDA simulator (a Python thread per CUDA thread).
"""
import numpy as np
import pytest

import numtorch as nt
from numtorch.optable import INT_ONLY, KEEP_INT, OPS, REJECT

UNARY = [o for o in OPS.values() if o.arity == 1 and o.ref is not None]
BINARY = [o for o in OPS.values() if o.arity == 2 and o.ref is not None]
LAYOUTS = ["contiguous", "transposed", "broadcast", "0d", "empty"]


def _data(op, dtype, shape, rng, second=False):
    lo, hi = op.domain
    if dtype is np.bool_:
        return rng.random(shape) > 0.5
    if np.issubdtype(dtype, np.integer):
        lo_i = 1 if op.name in ("floor_divide", "remainder", "fmod", "div") and second else -3
        if op.name in ("pow", "bitwise_left_shift", "bitwise_right_shift"):
            lo_i = 0
        return rng.integers(lo_i, 4 if op.name == "pow" else 6, shape).astype(dtype)
    a = rng.uniform(lo, hi, shape)
    if second and op.name in ("div", "floor_divide", "remainder", "fmod"):
        a = np.where(np.abs(a) < 0.3, 0.5, a)
    if op.name == "pow" and not second:
        a = np.abs(a) + 0.5
    return a.astype(dtype)


def _layout(t, layout):
    if layout == "transposed":
        return t.t()
    if layout == "broadcast":
        return t[:1].expand(2, 3) if t.shape == (2, 3) else t[:1].expand(3, 2)
    if layout == "0d":
        return t[1, 1]
    if layout == "empty":
        return t[:0]
    return t


def _dtypes(op):
    rej = REJECT.get(op.name, ("", ""))[0]
    if op.promote is INT_ONLY:
        return [np.int64] + ([np.bool_] if "b" not in rej else [])
    if "i" in rej:
        return [np.float32, np.float64]
    return [np.float32, np.float64, np.int64]


def same(c, g, tol=None):
    """``g`` (from CUDA) matches ``c`` (from the CPU): type, device, dtype, shape, values, grad_fn."""
    if isinstance(c, (tuple, list)):
        assert type(c) is type(g) or isinstance(g, type(c)), (type(c), type(g))
        assert len(c) == len(g)
        for a, b in zip(c, g):
            same(a, b, tol)
        return
    if not isinstance(c, nt.Tensor):
        assert c == g or (c != c and g != g), (c, g)
        return
    assert isinstance(g, nt.Tensor)
    assert g.device.type == "cuda" and str(g.device) == "cuda:0", g.device
    assert g.dtype is c.dtype, (c.dtype, g.dtype)
    assert g.shape == c.shape, (c.shape, g.shape)
    assert type(g.grad_fn).__name__ == type(c.grad_fn).__name__ if c.grad_fn else g.grad_fn is None
    cv, gv = c.detach().numpy(), g.detach().cpu().numpy()
    if c.dtype.is_floating_point:
        rt = tol if tol is not None else (1e-5 if c.dtype in (nt.float32, nt.float16) else 1e-12)
        np.testing.assert_allclose(gv, cv, rtol=rt, atol=rt, equal_nan=True)
    else:
        np.testing.assert_array_equal(gv, cv)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("op", UNARY, ids=lambda o: o.name)
def test_unary_parity(op, layout):
    rng = np.random.default_rng(1)
    for npdt in _dtypes(op):
        if op.promote is KEEP_INT and npdt is np.int64:
            continue
        x = _layout(nt.from_numpy(_data(op, npdt, (2, 3), rng)), layout)
        with np.errstate(all="ignore"):
            try:
                c = getattr(nt, op.name)(x)
            except Exception as e:          # the CUDA side must refuse the same way
                with pytest.raises(type(e)):
                    getattr(nt, op.name)(x.cuda())
                continue
        same(c, getattr(nt, op.name)(x.cuda()))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("op", BINARY, ids=lambda o: o.name)
def test_binary_parity(op, layout):
    rng = np.random.default_rng(2)
    for npdt in _dtypes(op):
        a = _layout(nt.from_numpy(_data(op, npdt, (2, 3), rng)), layout)
        b = nt.from_numpy(_data(op, npdt, (2, 3), rng, second=True))
        b = _layout(b, layout if layout != "broadcast" else "contiguous")
        try:
            c = getattr(nt, op.name)(a, b)
        except Exception as e:
            with pytest.raises(type(e)):
                getattr(nt, op.name)(a.cuda(), b.cuda())
            continue
        same(c, getattr(nt, op.name)(a.cuda(), b.cuda()))
        same(getattr(nt, op.name)(a, 2), getattr(nt, op.name)(a.cuda(), 2))


DIFF_UNARY = [o for o in UNARY if o.grad_fn and o.promote is not INT_ONLY]
DIFF_BINARY = [o for o in BINARY if o.grad_fn and o.promote is not INT_ONLY]


@pytest.mark.parametrize("op", DIFF_UNARY + DIFF_BINARY, ids=lambda o: o.name)
def test_gradient_parity(op):
    """Backward runs on the device and gives the CPU's float64 gradient."""
    rng = np.random.default_rng(3)
    arrs = [_data(op, np.float64, (2, 3), rng, second=k == 1) for k in range(op.arity)]
    if op.arity == 2:
        arrs[1] = arrs[1][:1]                      # broadcast: the engine reduces the gradient back
    grads = {}
    for dev in ("cpu", "cuda"):
        xs = [nt.tensor(a, device=dev, requires_grad=True) for a in arrs]
        y = getattr(nt, op.name)(*xs)
        (y * y).sum().backward()
        grads[dev] = [x.grad for x in xs]
        if dev == "cuda":
            assert all(g is None or g.device.type == "cuda" for g in grads[dev])
    for c, g in zip(grads["cpu"], grads["cuda"]):
        if c is None:
            assert g is None
        else:
            same(c, g, 1e-10)


def _x(shape=(3, 4), dtype=np.float64, seed=0):
    return nt.from_numpy(np.random.default_rng(seed).standard_normal(shape).astype(dtype))


PROGRAMS = {
    # reductions / scans
    "sum": lambda x: (x.sum(), x.sum(0), x.sum(1, keepdim=True), x.t().sum(1)),
    "mean_var_std": lambda x: (x.mean(), x.mean(1), x.var(0), x.std(), x.var(1, correction=0)),
    "prod_norm": lambda x: (x.prod(1), x.norm(), x.norm(p=1, dim=0), x.abs().amax(1)),
    "int_sum": lambda x: ((x * 10).long().sum(), (x > 0).sum(1), (x > 0).any(), (x > 0).all(1)),
    "max_min": lambda x: (x.max(), x.min(0), x.max(1, keepdim=True), x.argmax(), x.argmin(1)),
    "cum": lambda x: (x.cumsum(1), x.cumprod(0), x.cummax(1), x.logcumsumexp(0)),
    "softmax": lambda x: (nt.softmax(x, 1), nt.log_softmax(x, 0), x.logsumexp(1)),
    # sorting
    "sort": lambda x: (x.sort(1), x.sort(0, descending=True), x.argsort(1), x.msort()),
    "topk": lambda x: (x.topk(2), x.topk(1, 0, largest=False), x.kthvalue(2, 1)),
    "median_mode": lambda x: (x.median(1), x.median(), (x * 2).round().mode(1)),
    "unique": lambda x: ((x * 2).round().unique(), (x > 0).long().unique(return_counts=True),
                         (x * 2).round().flatten().unique_consecutive(return_inverse=True)),
    # copies, views, joining
    "views": lambda x: (x.t().contiguous(), x.reshape(2, 6), x.flatten(), x[:, 1:3].clone(), x[::2], x.unsqueeze(0)),
    "casts": lambda x: (x.float(), x.long(), x.bool(), x.half().float(), x.to(nt.int32)),
    "join": lambda x: (nt.cat([x, x], 0), nt.stack([x, x], 1), nt.cat([x[:, :1], x], 1), x.chunk(2, 1)),
    "rearrange": lambda x: (x.flip(0), x.roll(1, 1), x.repeat(2, 1), x.tril(), x.triu(1), x.diag()),
    # indexing
    "index": lambda x: (x[1], x[:, 2], x[x > 0], x[[0, 2]], x[nt.tensor([2, 0], device=x.device), 1:]),
    "gather_scatter": lambda x: (x.gather(1, nt.tensor([[0, 1], [2, 2], [3, 0]], device=x.device)),
                                 nt.zeros(3, 4, dtype=x.dtype, device=x.device).scatter_add(
                                     1, nt.tensor([[0, 0], [1, 3], [2, 2]], device=x.device), x[:, :2]),
                                 x.index_select(1, nt.tensor([3, 1], device=x.device))),
    "masked": lambda x: (x.masked_fill(x < 0, 0.5), x.masked_select(x > 0), (x > 0).nonzero(),
                         nt.where(x > 0, x, -x), x.clamp(-0.5, 0.5)),
    "setitem": lambda x: _setitem(x.clone()),
    "extras": lambda x: (x.signbit(), (x * 0).signbit(), x.histc(5), (x * 3).long().abs().flatten().bincount(),
                         nt.searchsorted(x.flatten().sort().values, x[0]), nt.bucketize(x, x[1].sort().values,
                                                                                        right=True),
                         nt.tril_indices(3, 4, 1, device=x.device), x.diff(dim=1), x.roll(1)),
    # products
    "matmul": lambda x: (x @ x.t(), x.t() @ x, x[0] @ x[1], nt.outer(x[0], x[1]),
                         nt.bmm(x.reshape(1, 3, 4), x.t().reshape(1, 4, 3))),
    # creation on the device
    "creation": lambda x: (nt.zeros(2, 3, device=x.device), nt.ones_like(x), nt.full((2,), 7, device=x.device),
                           nt.arange(5, device=x.device), nt.eye(3, device=x.device), nt.empty(0, device=x.device)),
}


def _setitem(y):
    y[0] = 1.5
    y[:, 1] = y[:, 2]
    y[y > 1] = 0.0
    y[[0, 1], [1, 2]] = nt.tensor([7.0, 8.0], dtype=y.dtype, device=y.device)
    y.index_put_((nt.tensor([2, 2], device=y.device),), y[0].clone(), accumulate=True)
    return y


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_program_parity(name):
    x = _x()
    same(PROGRAMS[name](x), PROGRAMS[name](x.cuda()))


GRAD_PROGRAMS = {
    "reductions": lambda x: x.sum(0).pow(2).sum() + x.mean() + x.var(1).sum() + x.norm() + x.amax(1).sum(),
    "softmax": lambda x: (nt.softmax(x, 1) * nt.log_softmax(x, 0)).sum(),
    "indexing": lambda x: x[[0, 2]].sum() + x[:, 1].pow(2).sum() + x.gather(
        1, nt.tensor([[0], [1], [3]], device=x.device)).sum() + x.masked_select(x > 0).sum(),
    "sort_topk": lambda x: (x.sort(1).values * nt.arange(4.0, device=x.device)).sum() + x.topk(2).values.sum(),
    "matmul": lambda x: (x @ x.t()).tanh().sum() + (x.t() @ x).sigmoid().sum(),
    "join_views": lambda x: nt.cat([x, x.flip(1)], 0).t().reshape(-1)[::3].exp().sum(),
    "scan": lambda x: x.cumsum(1).sum() + x.cumprod(0).sum() + x.max(1).values.sum(),
}


@pytest.mark.parametrize("name", list(GRAD_PROGRAMS))
def test_gradient_program_parity(name):
    grads = {}
    for dev in ("cpu", "cuda"):
        x = _x().to(dev).requires_grad_()
        y = GRAD_PROGRAMS[name](x)
        assert y.device.type == dev
        y.backward()
        grads[dev] = x.grad
    same(grads["cpu"], grads["cuda"], 1e-10)


def test_training_step_on_device():
    """A tiny MLP step: forward, loss, backward, SGD update, all on the device."""
    rng = np.random.default_rng(5)
    out = {}
    for dev in ("cpu", "cuda"):
        w1 = nt.tensor(rng.standard_normal((4, 3)) * 0.5, dtype=nt.float32, device=dev, requires_grad=True)
        w2 = nt.tensor(np.ones((3, 2)) * 0.1, dtype=nt.float32, device=dev, requires_grad=True)
        x = nt.tensor(np.linspace(-1, 1, 20).reshape(5, 4), dtype=nt.float32, device=dev)
        target = nt.tensor([0, 1, 1, 0, 1], device=dev)
        for _ in range(2):
            logits = (x @ w1).relu() @ w2
            loss = -nt.log_softmax(logits, 1).gather(1, target.unsqueeze(1)).mean()
            loss.backward()
            with nt.no_grad():
                w1 -= 0.1 * w1.grad
                w2 -= 0.1 * w2.grad
                w1.grad.zero_()
                w2.grad.zero_()
        out[dev] = (loss.detach(), w1.detach(), w2.detach())
        rng = np.random.default_rng(5)
    same(out["cpu"], out["cuda"], 1e-5)


def test_memory_is_stable_over_a_training_loop():
    w = nt.randn(4, 3, device="cuda", requires_grad=True)
    x = nt.randn(5, 4, device="cuda")
    seen = []
    for _ in range(6):
        loss = (x @ w).relu().pow(2).mean()
        loss.backward()
        with nt.no_grad():
            w -= 0.01 * w.grad
            w.grad.zero_()
        del loss
        seen.append(nt.cuda.memory_allocated())
    assert len(set(seen[2:])) == 1, seen


def test_mixed_devices_raise():
    a, b = nt.ones(2, device="cuda"), nt.ones(2)
    msg = "Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!"
    for f in (lambda: a + b, lambda: b * a, lambda: nt.cat([a, b]), lambda: nt.where(a > 0, a, b),
              lambda: a @ b):
        with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
            f()
    with pytest.raises(RuntimeError) as ei:
        a + b
    assert str(ei.value) == msg
    assert (a + nt.tensor(2.0)).device.type == "cuda"       # 0-d CPU tensors act as scalars
    assert (nt.tensor(2.0) * a).tolist() == [2.0, 2.0]


def test_device_api_and_repr():
    t = nt.tensor([[1, 2], [3, 4]], device="cuda")
    assert t.is_cuda and not t.is_cpu and t.get_device() == 0
    assert str(t.device) == "cuda:0" and repr(t.device) == "device(type='cuda', index=0)"
    assert repr(t) == "tensor([[1, 2],\n        [3, 4]], device='cuda:0')"
    assert repr(t.float().requires_grad_()) == \
        "tensor([[1., 2.],\n        [3., 4.]], device='cuda:0', requires_grad=True)"
    assert repr(nt.zeros(0, 3, device="cuda:0")) == "tensor([], device='cuda:0', size=(0, 3))"
    assert repr(t.double()) == \
        "tensor([[1., 2.],\n        [3., 4.]], device='cuda:0', dtype=torch.float64)"
    assert t.cpu().device.type == "cpu" and t.cpu().tolist() == [[1, 2], [3, 4]]
    assert t.to("cpu", nt.float64).dtype is nt.float64
    assert t.to(nt.device("cuda", 0)) is t
    assert nt.ones(2).to("cuda").device == nt.device("cuda:0")
    assert nt.ones(2, device=nt.device(type="cuda", index=0)).is_cuda
    assert nt.zeros_like(t, device="cpu").is_cpu and nt.rand(2, device="cuda").is_cuda
    assert t[1, 0].item() == 3 and t.sum().item() == 10
    with pytest.raises(TypeError, match="can't convert cuda:0 device type tensor to numpy"):
        t.numpy()
    assert nt.cuda.is_available() and nt.cuda.device_count() == 1 and nt.cuda.current_device() == 0
    assert isinstance(nt.cuda.get_device_name(), str)
    nt.cuda.synchronize()
    before = nt.cuda.memory_allocated()
    nt.cuda.reset_peak_memory_stats()
    big = nt.empty(1000, device="cuda")
    assert nt.cuda.memory_allocated() >= before + 4000
    assert nt.cuda.max_memory_allocated() >= nt.cuda.memory_allocated()
    del big
    import gc
    gc.collect()
    assert nt.cuda.memory_allocated() <= before + 0


def test_copy_between_devices_and_inplace():
    a = nt.zeros(2, 3, device="cuda")
    a.copy_(nt.arange(6.0).reshape(2, 3))
    assert a.tolist() == [[0, 1, 2], [3, 4, 5]]
    b = nt.zeros(3)
    b.copy_(a[1])
    assert b.tolist() == [3, 4, 5]
    a.add_(1).mul_(2)
    a[0].fill_(-1)
    assert a.tolist() == [[-1, -1, -1], [8, 10, 12]]
    a.zero_()
    assert a.sum().item() == 0


def test_pickle_and_deepcopy_keep_the_device():
    import copy
    import pickle
    t = nt.tensor([[1.5, 2.0]], device="cuda", requires_grad=True)
    for u in (pickle.loads(pickle.dumps(t)), copy.deepcopy(t)):
        assert u.is_cuda and u.requires_grad and u.tolist() == [[1.5, 2.0]]


def test_backward_through_device_moves():
    w = nt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (w.cuda() * 2).sum()
    y.backward()
    assert w.grad.device.type == "cpu" and w.grad.tolist() == [2.0, 2.0, 2.0]
    assert type(w.cuda().grad_fn).__name__ == "ToCopyBackward0"
    v = nt.tensor([1.0, 2.0], device="cuda", requires_grad=True)
    (v.cpu() ** 2).sum().backward()
    assert v.grad.is_cuda and v.grad.tolist() == [2.0, 4.0]
    with pytest.raises(RuntimeError, match="invalid gradient at index 0 - expected device cuda:0 but got cpu"):
        (v * 2).backward(nt.ones(2))
    s = nt.tensor(2.0, requires_grad=True)          # a 0-d CPU operand of a CUDA op
    (v * s).sum().backward()
    assert s.grad.device.type == "cpu" and s.grad.item() == 3.0
