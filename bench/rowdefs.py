"""Tensor-op rows: elementwise, broadcast, reductions, sort/scan, matmul, indexing, cat.

Row functions take ``(module, *inputs)``: ``module`` is numtorch, numpy or torch and the inputs are that
library's zero-copy views of the same arrays. ``"*"`` marks code that reads the same in all three.
"""
import math

import numpy as np

from .harness import close
from .rows import HEAVY_SIZES, MATMUL_SIZES, Row, data, grid, register, shape_label

IO = "io"      # traffic: every input read once + the output written once
GPU_STREAM = (2**26,)          # --device cuda: 256 MiB of float32 per operand, far beyond any L2
GPU_MATRIX = (2**24,)          # --device cuda: grid(2**24) = 4096x4096


def _x(kind="normal"):
    return lambda n, dt, rng: (data(rng, (n,), dt, kind),)


def _x2(kind="normal"):
    return lambda n, dt, rng: (data(rng, grid(n), dt, kind),)


def _ab(n, dt, rng):
    return data(rng, (n,), dt), data(rng, (n,), dt)


def _shape(x, *rest):
    return shape_label(*x.shape)


# -- elementwise -------------------------------------------------------------------------------------

def _unary(name, np_fn, kind):
    register(Row(name, "unary", f"{name}(x), contiguous", _x(kind),
                 {"*": lambda m, x: getattr(x, name)(), "numpy": np_fn}, traffic=IO, shape=_shape))


_unary("exp", lambda m, x: np.exp(x), "normal")
_unary("sqrt", lambda m, x: np.sqrt(x), "positive")
_unary("relu", lambda m, x: np.maximum(x, 0), "normal")

register(Row("add", "binary", "a + b, contiguous", _ab, {"*": lambda m, a, b: a + b}, traffic=IO, shape=_shape,
             gpu=True, cuda_sizes=GPU_STREAM))
register(Row("mul", "binary", "a * b, contiguous", _ab, {"*": lambda m, a, b: a * b}, traffic=IO, shape=_shape))


def _row_operands(n, dt, rng):
    r, c = grid(n)
    return data(rng, (r, c), dt), data(rng, (c,), dt)


def _col_operands(n, dt, rng):
    r, c = grid(n)
    return data(rng, (r, c), dt), data(rng, (r, 1), dt)


def _t_operands(n, dt, rng):
    r, c = grid(n)
    return data(rng, (c, r), dt), data(rng, (r, c), dt)


register(Row("add_row", "broadcast", "(M,N) + (N,)", _row_operands, {"*": lambda m, a, b: a + b},
             traffic=IO, shape=lambda a, b: f"{shape_label(*a.shape)}+({b.shape[0]},)"))
register(Row("add_col", "broadcast", "(M,N) + (M,1)", _col_operands, {"*": lambda m, a, b: a + b},
             traffic=IO, shape=lambda a, b: f"{shape_label(*a.shape)}+({b.shape[0]},1)"))
register(Row("add_T", "broadcast", "a.T + b (transposed operand)", _t_operands,
             {"*": lambda m, a, b: a.T + b}, traffic=IO, shape=lambda a, b: f"{shape_label(*b.shape)}"))
register(Row("chain", "chain", "(x+2)*(x+2)*3 (unfused chain)", _x(),
             {"*": lambda m, x: (x + 2) * (x + 2) * 3}, traffic=IO, shape=_shape))


# -- reductions --------------------------------------------------------------------------------------

def _reduced_check(axis, mean=False, scan=False):
    """numtorch vs NumPy with a tolerance scaled by sum(|x|) (float sums differ by summation order)."""
    def check(got, want, inputs, rtol, atol):
        x = inputs[0]
        if not np.issubdtype(x.dtype, np.floating):
            return close(got, want, 0, 0)
        ax = np.abs(x.astype(np.float64))
        scale = np.cumsum(ax, axis) if scan else (ax.sum() if axis is None else ax.sum(axis))
        if mean:
            scale = scale / x.size
        tol = 8 * np.finfo(x.dtype).eps * scale + atol
        g, w = np.asarray(got, np.float64), np.asarray(want, np.float64)
        if g.shape != w.shape:
            return False, f"shape {g.shape} != {w.shape}"
        bad = np.count_nonzero(~(np.abs(g - w) <= tol))
        return (bad == 0), (f"{bad} of {w.size} elements differ" if bad else "")
    return check


register(Row("sum", "reduce", "x.sum()", _x(), {"*": lambda m, x: x.sum()}, traffic=IO, shape=_shape,
             check=_reduced_check(None), gpu=True, cuda_sizes=GPU_STREAM))
register(Row("sum0", "reduce", "x.sum(0) of (M,N)", _x2(), {"*": lambda m, x: x.sum(0)}, traffic=IO,
             shape=_shape, check=_reduced_check(0)))
register(Row("sum1", "reduce", "x.sum(1) of (M,N)", _x2(), {"*": lambda m, x: x.sum(1)}, traffic=IO,
             shape=_shape, check=_reduced_check(1)))
register(Row("mean", "reduce", "x.mean()", _x(), {"*": lambda m, x: x.mean()}, traffic=IO, shape=_shape,
             check=_reduced_check(None, mean=True), float_only=True))


def _argmax_check(got, want, inputs, rtol, atol):
    x = inputs[0]
    got = np.asarray(got)
    if got.shape != want.shape:
        return False, f"shape {got.shape} != {want.shape}"
    picked = np.take_along_axis(x, got.astype(np.int64)[:, None], -1)[:, 0]
    bad = np.count_nonzero(picked != x.max(-1))
    return bad == 0, (f"{bad} of {got.size} rows point at a non-maximum" if bad else "")


register(Row("argmax", "reduce", "x.argmax(dim=-1) of (M,N)", _x2(),
             {"*": lambda m, x: x.argmax(-1), "numpy": lambda m, x: x.argmax(-1)}, traffic=IO, shape=_shape,
             check=_argmax_check, gpu=True, cuda_sizes=GPU_MATRIX))
register(Row("cumsum", "scan", "x.cumsum(dim=-1) of (M,N)", _x2(),
             {"*": lambda m, x: x.cumsum(-1), "numpy": lambda m, x: np.cumsum(x, -1)}, traffic=IO,
             shape=_shape, check=_reduced_check(-1, scan=True)))


# -- sort / topk -------------------------------------------------------------------------------------

K = 10


def _np_topk(m, x):
    idx = np.argpartition(x, -K, axis=-1)[:, -K:]
    vals = np.take_along_axis(x, idx, -1)
    order = np.argsort(vals, axis=-1, kind="stable")[:, ::-1]
    return np.take_along_axis(vals, order, -1), np.take_along_axis(idx, order, -1)


def _np_sort(m, x):
    idx = np.argsort(x, axis=-1)
    return np.take_along_axis(x, idx, -1), idx


def _values_indices_check(got, want, inputs, rtol, atol):
    """Values match NumPy's; indices point at those values (tie order may differ, as in PyTorch)."""
    ok, msg = close(got[0], want[0], rtol, atol)
    if not ok:
        return False, "values: " + msg
    picked = np.take_along_axis(inputs[0], np.asarray(got[1]).astype(np.int64), -1)
    return close(picked, got[0], 0, 0) if picked.shape == np.shape(got[0]) else (False, "indices shape")


def _topk_sized(n, dt, rng):
    r, c = grid(max(n, 2 * K * K))
    return (data(rng, (r, c), dt),)


register(Row("topk", "sort", f"x.topk({K}, dim=-1) of (M,N)", _topk_sized,
             {"*": lambda m, x: tuple(x.topk(K, dim=-1)), "numpy": _np_topk}, sizes=HEAVY_SIZES,
             shape=_shape, work=lambda x: (x.size, "elem"), check=_values_indices_check, gpu=True,
             cuda_sizes=GPU_MATRIX))
register(Row("sort", "sort", "x.sort(dim=-1) values+indices of (M,N)", _x2(),
             {"*": lambda m, x: tuple(x.sort(dim=-1)), "numpy": _np_sort}, sizes=HEAVY_SIZES, shape=_shape,
             work=lambda x: (x.size, "elem"), check=_values_indices_check, gpu=True, cuda_sizes=GPU_MATRIX))


# -- matmul ------------------------------------------------------------------------------------------

def _square(n, dt, rng):
    s = max(1, math.isqrt(n))
    return data(rng, (s, s), dt), data(rng, (s, s), dt)


register(Row("matmul", "linalg", "a @ b, square", _square, {"*": lambda m, a, b: a @ b}, sizes=MATMUL_SIZES,
             quick_sizes=(64 * 64,), shape=lambda a, b: shape_label(*a.shape),
             work=lambda a, b: (2 * a.shape[0] * a.shape[1] * b.shape[1], "flop"), rtol=1e-3, atol=1e-3,
             needs=("matmul",)))


# -- indexing and joining ----------------------------------------------------------------------------

def _gather_in(n, dt, rng):
    r, c = grid(n)
    return data(rng, (r, c), dt), rng.integers(0, c, size=(r, c), dtype=np.int64)


def _select_in(n, dt, rng):
    r, c = grid(n)
    return data(rng, (r, c), dt), rng.integers(0, r, size=max(1, r // 2), dtype=np.int64)


def _select_traffic(inputs, out):
    return 2 * out.nbytes + inputs[1].nbytes       # only the selected rows are read


def _mask_in(n, dt, rng):
    x = data(rng, (n,), dt)
    return x, rng.random(n) < 0.5


register(Row("gather", "index", "x.gather(1, idx), idx (M,N)", _gather_in,
             {"*": lambda m, x, i: x.gather(1, i), "numpy": lambda m, x, i: np.take_along_axis(x, i, 1)},
             sizes=HEAVY_SIZES, needs=("Tensor.gather",), traffic=IO, shape=_shape))
register(Row("index_select", "index", "x.index_select(0, idx), M/2 random rows", _select_in,
             {"*": lambda m, x, i: x.index_select(0, i), "numpy": lambda m, x, i: np.take(x, i, axis=0)},
             sizes=HEAVY_SIZES, needs=("Tensor.index_select",), traffic=_select_traffic, shape=_shape))
register(Row("mask_select", "index", "x[mask], ~half true", _mask_in, {"*": lambda m, x, k: x[k]},
             sizes=HEAVY_SIZES, traffic=IO, shape=_shape))


def _cat_in(n, dt, rng):
    r, c = grid(n)
    q = max(1, r // 4)
    return tuple(data(rng, (q, c), dt) for _ in range(4))


register(Row("cat", "join", "cat of 4 (M/4,N) tensors, dim 0", _cat_in,
             {"*": lambda m, a, b, c, d: m.cat([a, b, c, d]), "numpy": lambda m, *t: np.concatenate(t)},
             needs=("cat",), traffic=IO, shape=lambda a, *r: f"4x{shape_label(*a.shape)}"))
