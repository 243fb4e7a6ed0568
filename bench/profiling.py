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
