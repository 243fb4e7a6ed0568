"""Deep graphs (iterative engine, iterative-safe deallocation), no reference cycles, flat memory over
many training steps, and a coarse speed guard for the tutorial's tiny step."""
import gc
import time
import tracemalloc
import weakref

import numpy as np
import pytest

import numtorch as nt
from numtorch.autograd.graph import record


def _ident(node, g):
    return (g,)


def _alias_chain(x, n):
    y = x
    for _ in range(n):
        z = y._alias()
        record("AliasBackward0", z, (y,), _ident)
        y = z
    return y


def test_100k_node_chain_backward_and_free():
    x = nt.ones(3, requires_grad=True)
    y = _alias_chain(x, 100_000)
    y.sum().backward(retain_graph=True)
    assert x.grad.tolist() == [1.0, 1.0, 1.0]
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]
    ref = weakref.ref(y.grad_fn)
    del y                       # frees 100k nodes: no recursion error, no crash
    assert ref() is None


def test_deep_chain_of_real_ops():
    x = nt.tensor([1.0, 2.0], dtype=nt.float64, requires_grad=True)
    k = nt.tensor(1.0001, dtype=nt.float64)
    y = x
    for _ in range(3000):       # deeper than Python's recursion limit
        y = y * k + 0.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 3000] * 2, rtol=1e-9)


def test_scalar_operand_saved_in_full_precision():
    x = nt.tensor([1.0], dtype=nt.float64, requires_grad=True)
    (x * 1.0001).sum().backward()
    assert x.grad.item() == 1.0001


def test_no_reference_cycles():
    gc.collect()
    gc.disable()
    try:
        x = nt.ones(3, requires_grad=True)
        h = x * 2
        y = h.exp()                          # saves its output
        v = y.narrow(0, 0, 2)                # a view
        out = (v * v).sum()
        h.retain_grad()
        refs = [weakref.ref(t) for t in (h, y, v, out)] + [weakref.ref(out.grad_fn), weakref.ref(y.grad_fn)]
        out.backward()
        del h, y, v, out
        assert all(r() is None for r in refs)
        w = nt.ones(2, requires_grad=True)
        acc_ref = weakref.ref((w * 2).grad_fn.next_functions[0][0])
        assert acc_ref() is (w * 3).grad_fn.next_functions[0][0]    # the leaf keeps its accumulator...
        assert acc_ref().variable is w
        del w
        assert acc_ref() is None             # ...without a cycle: both go with the leaf
    finally:
        gc.enable()


def test_memory_flat_over_training_steps():
    w = nt.randn(4, 3).requires_grad_()
    b = nt.zeros(3, requires_grad=True)
    x = nt.randn(8, 4)
    t = nt.randn(8, 3)

    def step():
        y = (x.unsqueeze(2) * w).sum(1) + b
        loss = ((y - t) ** 2).mean()
        loss.backward()
        with nt.no_grad():
            w.sub_(w.grad * 0.01)
            b.sub_(b.grad * 0.01)
        w.grad = None
        b.grad = None
        return loss

    first = step().item()
    for _ in range(1400):                # 2,000 steps in all, the last 600 traced (tracing is slow)
        step()
    gc.collect()
    tracemalloc.start()
    try:
        for _ in range(100):
            step()
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(500):
            step()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after - before < 16 * 1024, (before, after)     # a leaked tensor per step would be >100 KB
    assert step().item() < first


def test_tiny_step_speed_guard():
    def step():
        x = nt.ones(2, 2, requires_grad=True)
        y = x + 2
        z = y * y * 3
        out = z.mean()
        out.backward()
        return x
    x = step()
    assert x.grad.tolist() == [[4.5, 4.5], [4.5, 4.5]]
    for _ in range(50):
        step()
    n = 200
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    per = (time.perf_counter() - t0) / n
    assert per < 5e-3, per          # generous: a regression guard, not a benchmark


def test_reused_accumulator_follows_the_leaf():
    p = nt.nn.Parameter(nt.ones(2))
    (p * 2).sum().backward()
    acc = (p * 1).grad_fn.next_functions[0][0]
    assert acc is (p + 1).grad_fn.next_functions[0][0]
    p.data = nt.ones(3)                       # a new shape: a new accumulator with the new metadata
    p.grad = None
    (p * 3).sum().backward()
    np.testing.assert_array_equal(p.grad.numpy(), [3.0, 3.0, 3.0])
    assert (p * 1).grad_fn.next_functions[0][0] is not acc


def test_backward_after_the_leaf_is_gone():
    x = nt.ones(2, requires_grad=True)
    y = (x * 2).sum()
    del x
    y.backward()                              # nothing left to accumulate into; no error
