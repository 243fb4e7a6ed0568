"""Small-tensor rows (issue 15): per-op latency of the dispatch fast path, graph recording and the
backward engine, beside PyTorch. The sized rows ``add``/``relu``/``exp``/``sum`` (rowdefs.py) cover
1e3..1e6 elements; these are the fixed shapes the targets in ``targets.py`` name."""
import numpy as np

from .rows import Row, data, register


def _fixed(name, desc, make, fns, shape, **kw):
    register(Row(name, "latency", desc, make, fns, sizes=(4,), fixed=True, shape=shape, **kw))


_fixed("mul_scalar_2x2", "2x2 a * 2 (Python scalar operand)", lambda n, dt, rng: (data(rng, (2, 2), dt),),
       {"*": lambda m, a: a * 2}, lambda a: "2x2")
_fixed("sum_4", "x.sum() of 4 elements", lambda n, dt, rng: (data(rng, (4,), dt),),
       {"*": lambda m, x: x.sum()}, lambda x: "4")
_fixed("index_2x2", "x[0] (basic indexing view)", lambda n, dt, rng: (data(rng, (2, 2), dt),),
       {"*": lambda m, x: x[0]}, lambda x: "2x2")
_fixed("view_2x2", "x.view(-1)", lambda n, dt, rng: (data(rng, (2, 2), dt),),
       {"*": lambda m, x: x.view(-1), "numpy": lambda m, x: x.reshape(-1)}, lambda x: "2x2")
_fixed("tensor_list2", "torch.tensor([1., 2.])", lambda n, dt, rng: (),
       {"*": lambda m: m.tensor([1.0, 2.0]), "numpy": lambda m: np.array([1.0, 2.0], np.float32)},
       lambda: "2", float_only=True, on_cuda=False)
_fixed("add_row_256", "(256,256) + (256,) row broadcast",
       lambda n, dt, rng: (data(rng, (256, 256), dt), data(rng, (256,), dt)),
       {"*": lambda m, a, b: a + b}, lambda a, b: "256x256+256")


def _chain(m):
    """100 alternating 2x2 ops (+0.5, *1.001) on a leaf, then sum().backward()."""
    x = m.ones(2, 2, requires_grad=True)
    y = x
    for i in range(100):
        y = y * 1.001 if i % 2 else y + 0.5
    y.sum().backward()
    return x.grad


def _chain_np(m):
    y = np.ones((2, 2), np.float32)
    for i in range(100):
        y = y * np.float32(1.001) if i % 2 else y + np.float32(0.5)
    return np.full((2, 2), np.float32(1.001) ** 50, np.float32)


register(Row("autograd_chain100", "autograd", "100 2x2 ops (+, * scalar) on a leaf, then sum().backward()",
             lambda n, dt, rng: (), {"*": _chain, "numpy": _chain_np}, sizes=(4,), fixed=True,
             shape=lambda: "2x2", float_only=True, on_cuda=False, rtol=1e-3))
