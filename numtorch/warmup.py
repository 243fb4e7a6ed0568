"""``python -m numtorch.warmup``: compile numtorch's common kernels ahead of time.

Runs the tutorial-common ops (elementwise with tensors and scalars, broadcasting and transposed operands,
reductions, softmax, scans, sort/topk, copies and casts, matmul, indexing, joining, a small autograd step
and small nn training steps: Linear/GELU/LayerNorm/dropout/cross-entropy/Adam, conv/pool/batch norm) once per dtype on a small tensor (serial kernels) and, unless ``--no-parallel``, on a tensor above
the parallel threshold (the ``parallel=True`` twins). Every kernel is ``cache=True``, so later processes
load them from Numba's on-disk cache instead of compiling (``NUMBA_CACHE_DIR`` moves that cache).
Ops that are missing or unsupported for a dtype are skipped and listed; the exit status is 0.
"""
import argparse
import os
import sys
import time

DEFAULT_DTYPES = ("float32", "float64", "int64", "bool")
SMALL = (3, 4)
LARGE = (256, 512)          # 131072 elements: above the elementwise/reduction parallel threshold


def _float_tasks(t):
    return [
        ("exp log sqrt", lambda x: (x.exp(), x.abs().log(), x.abs().sqrt())),
        ("sin cos tanh sigmoid", lambda x: (x.sin(), x.cos(), x.tanh(), x.sigmoid())),
        ("x / 2, x / y, x ** 2, x ** 0.5", lambda x: (x / 2, x / (x.abs() + 1), x ** 2, x.abs() ** 0.5)),
        ("mean std var", lambda x: (x.mean(), x.mean(1), x.std(), x.var(0))),
        ("softmax log_softmax", lambda x: (x.softmax(-1), x.log_softmax(-1))),
        ("matmul", lambda x: (x @ x.T, x.T @ x)),
        ("autograd step", lambda x: _grad_step(t, x)),
        ("nn: linear gelu layer_norm dropout cross_entropy adam", lambda x: _nn_step(t, x)),
        ("nn: conv2d max_pool2d batch_norm", lambda x: _conv_step(t, x)),
    ]


def _nn_step(t, x):
    import numtorch.nn as nn
    F = nn.functional
    lin = nn.Linear(x.shape[1], 3).to(x.dtype)
    opt = t.optim.Adam(lin.parameters())
    h = F.dropout(F.layer_norm(F.gelu(x), x.shape[1:]), 0.1)
    loss = F.cross_entropy(lin(h), t.zeros(x.shape[0], dtype=t.int64))
    loss.backward()
    opt.step()
    return loss


def _conv_step(t, x):
    import numtorch.nn as nn
    F = nn.functional
    img = x.reshape(1, 1, *x.shape).detach().requires_grad_()
    w = t.ones(2, 1, 3, 3, dtype=x.dtype, requires_grad=True)
    y = F.batch_norm(F.max_pool2d(F.relu(F.conv2d(img, w, padding=1)), 2), None, None, training=True)
    y.sum().backward()
    return y


def _grad_step(t, x):
    w = x.detach().clone().requires_grad_()
    y = w + 2
    out = (y * y * 3).mean()
    out.backward()
    h = (w @ w.T).relu()
    loss = -(h.log_softmax(1)).sum() / h.shape[0] + (w.exp() * w.sigmoid()).sum()
    loss.backward()
    with t.no_grad():
        w -= 0.1 * w.grad
    return w


def _numeric_tasks(t):
    return [
        ("add sub mul", lambda x: (x + x, x - x, x * x)),
        ("x + 2, x * 3, 1 - x", lambda x: (x + 2, x * 3, 1 - x, 2 * x)),
        ("neg abs relu clamp", lambda x: (-x, x.abs(), x.relu(), x.clamp(min=0))),
        ("maximum minimum", lambda x: (t.maximum(x, x.T.T), t.minimum(x, x))),
        ("max min argmax argmin", lambda x: (x.max(), x.min(), x.max(1), x.argmax(-1), x.argmin(0))),
        ("prod cumsum cumprod", lambda x: (x.prod(1), x.cumsum(-1), x.cumsum(0), x.cumprod(-1))),
        ("sort topk argsort", lambda x: (x.sort(-1), x.sort(0, descending=True), x.topk(2, -1), x.argsort(-1))),
    ]


def _common_tasks(t):
    return [
        ("eq ne lt le gt ge", lambda x: (x == x, x != x, x < x, x <= x, x > x, x >= x)),
        ("broadcast row/col, a.T + a", lambda x: (x + x[0], x * x[:, :1], x.T.contiguous().T + x)),
        ("sum sum(0) sum(1)", lambda x: (x.sum(), x.sum(0), x.sum(1), x.sum(-1, keepdim=True))),
        ("copies: clone, contiguous, reshape", lambda x: (x.clone(), x.T.contiguous(), x.T.reshape(-1))),
        ("casts", lambda x: tuple(x.to(d) for d in (t.float32, t.float64, t.int64, t.bool))),
        ("where", lambda x: t.where(x == x, x, x)),
        ("indexing", lambda x: (x[x == x], x[t.tensor([0, 0])], x[:, t.tensor([1, 0])],
                                x.gather(1, t.zeros(x.shape, dtype=t.int64)),
                                x.index_select(0, t.tensor([0]))))
        ,
        ("cat stack", lambda x: (t.cat([x, x]), t.cat([x, x], 1), t.stack([x, x]))),
    ]


def _bool_tasks(t):
    return [
        ("& | ^ ~", lambda x: (x & x, x | x, x ^ x, ~x)),
        ("all any", lambda x: (x.all(), x.any(), x.all(1), x.any(0))),
    ]


def tasks(dtypes=DEFAULT_DTYPES, parallel=True):
    """[(dtype name, size label, op label, make_input, fn)] in run order."""
    import numtorch as t
    out = []
    for name in dtypes:
        dt = getattr(t, name)
        groups = _common_tasks(t)
        if dt is t.bool:
            groups += _bool_tasks(t)
        else:
            groups = _numeric_tasks(t) + groups
        if dt.is_floating_point:
            groups += _float_tasks(t)
        for shape in (SMALL, LARGE) if parallel else (SMALL,):
            make = _maker(t, dt, shape)
            label = "small" if shape == SMALL else "large"
            out += [(name, label, op, make, fn) for op, fn in groups]
    return out


def _maker(t, dt, shape):
    cache = {}

    def make():
        if "x" not in cache:
            n = shape[0] * shape[1]
            base = t.arange(n, dtype=t.float64).reshape(shape) * 0.37 - n * 0.1
            cache["x"] = (base > 0) if dt is t.bool else base.to(dt)
        return cache["x"]
    return make


def _bar(done, total, width=28):
    full = int(width * done / max(total, 1))
    return "[" + "#" * full + "." * (width - full) + f"] {done}/{total} {100 * done // max(total, 1):3d}%"


def warmup(dtypes=DEFAULT_DTYPES, parallel=True, stream=sys.stderr, quiet=False):
    """Run every task; return {'tasks', 'seconds', 'failed': [(dtype, size, op, error)], 'cache': info}."""
    import numtorch
    todo = tasks(dtypes, parallel)
    tty = hasattr(stream, "isatty") and stream.isatty()
    failed, t0, last_pct = [], time.perf_counter(), -1
    for i, (dt, size, op, make, fn) in enumerate(todo, 1):
        try:
            fn(make())
        except Exception as exc:  # noqa: BLE001 -- missing/unsupported ops are skipped, not fatal
            failed.append((dt, size, op, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"))
        if quiet:
            continue
        line = f"{_bar(i, len(todo))} {time.perf_counter() - t0:6.1f} s  {dt:<8} {size:<5} {op}"
        if tty:
            stream.write("\r" + line[:118].ljust(118))
            stream.flush()
        elif (pct := 100 * i // len(todo)) // 5 != last_pct // 5 or i == len(todo):
            last_pct = pct
            print(line, file=stream, flush=True)
    if tty and not quiet:
        stream.write("\n")
    try:
        info = dict(numtorch.kernels.cache_info())
    except Exception:  # noqa: BLE001
        info = {}
    return {"tasks": len(todo), "seconds": time.perf_counter() - t0, "failed": failed, "cache": info}


def cache_location():
    import numba
    d = os.environ.get("NUMBA_CACHE_DIR") or getattr(numba.config, "CACHE_DIR", "")
    if d:
        return d
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "kernels", "__pycache__") + \
        " (or Numba's user cache folder when that is not writable)"


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m numtorch.warmup", description=__doc__.splitlines()[0])
    ap.add_argument("--dtypes", default=",".join(DEFAULT_DTYPES),
                    help=f"comma list (default {','.join(DEFAULT_DTYPES)}); any of float32, float64, int32, int64, "
                         "int16, int8, uint8, bool")
    ap.add_argument("--no-parallel", action="store_true", help="only small tensors (skip the parallel kernels)")
    ap.add_argument("--list", action="store_true", help="print the task list and exit")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    ap.add_argument("--verbose", action="store_true", help="show every skipped op with its error")
    a = ap.parse_args(argv)
    dtypes = tuple(d.strip() for d in a.dtypes.split(",") if d.strip())
    import numtorch
    bad = [d for d in dtypes if not isinstance(getattr(numtorch, d, None), numtorch.dtype)]
    if bad:
        ap.error(f"unknown dtype(s): {', '.join(bad)}")
    if a.list:
        for dt, size, op, _, _ in tasks(dtypes, not a.no_parallel):
            print(f"{dt:<8} {size:<5} {op}")
        return 0
    res = warmup(dtypes, not a.no_parallel, quiet=a.quiet)
    info = res["cache"] or {}
    compiled = info.get("cache_misses", 0) + info.get("elementwise_misses", 0)
    loaded = info.get("cache_hits", 0) + info.get("elementwise_hits", 0)
    print(f"numtorch.warmup: {res['tasks']} tasks in {res['seconds']:.1f} s; kernel specializations: "
          f"{compiled} compiled, {loaded} loaded from the cache; cache at {cache_location()}")
    if res["failed"]:
        print(f"skipped {len(res['failed'])} tasks (op missing or not supported for the dtype):")
        for dt, size, op, err in res["failed"] if a.verbose else res["failed"][:12]:
            print(f"  {dt} {size} {op}: {err[:100]}")
        if not a.verbose and len(res["failed"]) > 12:
            print(f"  ... {len(res['failed']) - 12} more (--verbose lists all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
