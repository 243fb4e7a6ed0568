"""``python -m bench --profile N --ops ROWS``: where numtorch's time goes, per row.

Runs the numtorch side of each row once (compiling or loading its kernels), then N calls under cProfile,
and prints the per-call time, a breakdown of self time by area (compiled kernels are C calls that cProfile
charges to the ``numtorch/kernels`` wrapper that calls them) and the top functions by self time.
Under ``--device cuda`` the inputs live on the GPU and each timed stretch ends with a synchronize.
"""
import cProfile
import functools
import os
import pstats
import time

import numpy as np

from .harness import classify, require
from .runner import SEED, Device, fmt_time
from .rows import sizes_for

AREAS = (("numtorch/kernels/", "kernels (wrappers + compiled code)"), ("numtorch/autograd/", "autograd engine/graph"),
         ("numtorch/", "numtorch front end"), ("numba/", "numba dispatch"), ("numpy/", "numpy (Python side)"))


def _area(filename):
    f = filename.replace(os.sep, "/")
    for key, name in AREAS:
        if key in f:
            return name
    return "builtins/other" if f.startswith("~") or f.startswith("<") else "other Python"


# Layers of a small op (issue 15): the first rule whose path fragment and function name (None: any)
# match a profiled function gets its self time. Compiled kernels are charged where cProfile sees them:
# a Numba dispatcher call shows up under the kernel's Python source file.
LAYERS = (
    ("kernels/ew_generated", None, "kernel entry + compiled code"),
    ("numtorch/kernels/", ("_rows_ser", "_frows_ser", "_finish_ser"), "kernel entry + compiled code"),
    ("numba/", None, "kernel entry + compiled code"),
    ("numtorch/kernels/elementwise", ("_layout", "_plan", "_rows", "_contig"), "broadcasting / layout"),
    ("numtorch/kernels/", None, "kernel wrappers (checks, dtype dispatch)"),
    ("numtorch/autograd/engine", None, "engine bookkeeping"),
    ("numtorch/autograd/", None, "graph recording"),
    ("numtorch/ops", ("_record", "_save", "_wanted"), "graph recording"),
    ("numtorch/optable", None, "backward formulas (Python)"),
    ("numtorch/ops", ("_result_dtypes", "_fast_rt", "_check_device", "_lookup"), "promotion / device checks"),
    ("numtorch/dtypes", None, "promotion / device checks"),
    ("numtorch/ops", ("_common_shape",), "broadcasting / layout"),
    ("numtorch/shape", None, "broadcasting / layout"),
    ("numtorch/ops", ("_scalar_buffer", "_new_out"), "allocation"),
    ("numtorch/storage", ("empty_buffer",), "allocation"),
    ("~", ("<built-in method numpy.empty>",), "allocation"),
    ("numtorch/tensor", ("_make", "_view_of", "_from_buffer", "_alias"), "Tensor construction"),
    ("numtorch/fastpath", ("tensor_of", "view_of"), "Tensor construction"),
    ("numtorch/storage", None, "Tensor construction"),
    ("~", ("<method '__new__' of 'object' objects>", "<built-in method __new__ of type object at"), "Tensor construction"),
    ("numtorch/fastpath", None, "fast-path dispatch (plan lookup, checks)"),
    ("numtorch/_args", None, "argument parsing / Python entry"),
    ("numtorch/_methods", None, "argument parsing / Python entry"),
    ("numtorch/pointwise", None, "argument parsing / Python entry"),
    ("numtorch/", None, "other front end (views, reductions, creation)"),
)


def _layer(func):
    filename, _, name = func
    f = filename.replace(os.sep, "/")
    for frag, names, layer in LAYERS:
        if frag == "~":
            if f == "~" and any(name.startswith(n) for n in names):
                return layer
            continue
        if frag in f and (names is None or name in names):
            return layer
    return "Python builtins / other"


def layer_breakdown(st, calls, plain):
    """Per-layer time per call, each layer's share of cProfile's self time scaled to the unprofiled
    time ``plain`` (cProfile's own overhead inflates every call about equally)."""
    layers, total = {}, 0.0
    for func, (cc, nc, tt, ct, callers) in st.stats.items():
        k = _layer(func)
        layers[k] = layers.get(k, 0.0) + tt
        total += tt
    return [(k, plain * tt / max(total, 1e-12)) for k, tt in sorted(layers.items(), key=lambda kv: -kv[1])]


def _short(func):
    filename, line, name = func
    f = filename.replace(os.sep, "/")
    for key in ("numtorch/", "numba/", "numpy/", "bench/"):
        if key in f:
            f = f[f.index(key):]
            break
    return f"{f}:{line}({name})"


def profile_row(row, n, dtype, mod, calls, top=12, device=None):
    dt = np.dtype(dtype)
    if row.float_only and not np.issubdtype(dt, np.floating):
        dt = np.dtype(np.float32)
    inputs = row.make(n, dt, np.random.default_rng(SEED + n))
    require(mod, *row.needs)
    dev = device or Device()
    if row.prep is None:
        args = dev.convert("numtorch", mod, inputs)
    else:
        args = row.prep("numtorch", mod, inputs) if dev.kind == "cpu" else row.prep("numtorch", mod, inputs, device=dev)
    fn = functools.partial(row.fn("numtorch"), mod, *args)
    sync = dev.sync("numtorch", mod) or (lambda: None)
    fn()
    sync()
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    sync()
    plain = (time.perf_counter() - t0) / calls
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(calls):
        fn()
    sync()
    prof.disable()
    st = pstats.Stats(prof)
    areas, total = {}, 0.0
    for func, (cc, nc, tt, ct, callers) in st.stats.items():
        areas[_area(func[0])] = areas.get(_area(func[0]), 0.0) + tt
        total += tt
    lines = [f"== {row.name} ({row.desc}), {n} elements: {fmt_time(plain)} per call without the profiler, "
             f"{fmt_time(total / calls)} under cProfile"]
    for name, tt in sorted(areas.items(), key=lambda kv: -kv[1]):
        lines.append(f"   {100 * tt / max(total, 1e-12):5.1f}%  {name}")
    lines.append("   by layer (self time scaled to the unprofiled call):")
    for k, t in layer_breakdown(st, calls, plain):
        lines.append(f"   {fmt_time(t):>9}  {k}")
    lines.append("   top functions by self time per call (ncalls per call):")
    rows = sorted(st.stats.items(), key=lambda kv: -kv[1][2])[:top]
    for func, (cc, nc, tt, ct, callers) in rows:
        lines.append(f"   {fmt_time(tt / calls):>9}  {nc / calls:6.1f}x  {_short(func)}")
    return "\n".join(lines)


def profile_rows(rows, sizes, dtype, mods, calls, device=None):
    kind = device.kind if device else "cpu"
    for row in rows:
        n = max(sizes_for(row, sizes, False, kind))
        try:
            print(profile_row(row, n, dtype, mods["numtorch"], calls, device=device))
        except Exception as exc:  # noqa: BLE001
            st, detail = classify(exc)
            print(f"== {row.name}: {st}: {detail}")
        print()
