"""Run rows over the libraries: same inputs, timed calls, cross-checks, throughput figures."""
import functools
import sys
import time

import numpy as np

from .harness import Outcome, classify, close, measure, require, to_numpy
from .rows import LIBS, sizes_for, size_label

SEED = 20240601


class Device:
    """Where numtorch and torch inputs live: CPU (zero-copy ``from_numpy``) or CUDA (copied, synchronised).
    NumPy's inputs always stay on the host: under CUDA its column is the host reference."""

    def __init__(self, kind="cpu"):
        self.kind = kind

    def convert(self, lib, mod, inputs):
        if lib == "numpy":
            return tuple(inputs)
        out = []
        for a in inputs:
            if isinstance(a, np.ndarray):
                t = mod.from_numpy(a)
                out.append(t.to(self.kind) if self.kind != "cpu" else t)
            else:
                out.append(a)
        return tuple(out)

    def sync(self, lib, mod):
        """The library's device synchronize (``numtorch.cuda.synchronize``, ``torch.cuda.synchronize``), or
        None on the host: ``measure`` calls it at the end of each timed batch."""
        if self.kind == "cpu" or lib == "numpy":
            return None
        return mod.cuda.synchronize


def _nbytes(x):
    if isinstance(x, (tuple, list)):
        return sum(_nbytes(v) for v in x)
    return np.asarray(x).nbytes


def _traffic(row, inputs, out):
    if row.traffic is None or out is None:
        return None
    if row.traffic == "io":
        return sum(a.nbytes for a in inputs if isinstance(a, np.ndarray)) + _nbytes(out)
    return row.traffic(inputs, out)


def _tolerances(row, dt):
    if dt == np.float64:
        return row.rtol * 1e-5, row.atol * 1e-5
    return row.rtol, row.atol


def _run_lib(row, lib, mod, inputs, device, opts):
    if mod is None:
        return Outcome(status="skipped")
    try:
        if lib == "numtorch":
            require(mod, *row.needs)
        if row.prep is None:
            args = device.convert(lib, mod, inputs)
        else:
            args = row.prep(lib, mod, inputs) if device.kind == "cpu" else row.prep(lib, mod, inputs, device=device)
        fn = functools.partial(row.fn(lib), mod, *args)
        seen = {}
        timing = measure(fn, repeat=opts["repeat"], warmup=opts["warmup"], target=opts["target"],
                         on_first=lambda out: seen.setdefault("out", to_numpy(out)), sync=device.sync(lib, mod))
        return Outcome(timing=timing, output=seen.get("out"))
    except Exception as exc:  # noqa: BLE001 -- one library's failure must not stop the suite
        status, detail = classify(exc)
        return Outcome(status=status, detail=detail)


def run_one(row, n, dtype, mods, device, opts):
    """Result dict for one (row, size)."""
    dt = np.dtype(dtype)
    if row.float_only and not np.issubdtype(dt, np.floating):
        dt = np.dtype(np.float32)
    inputs = row.make(n, dt, np.random.default_rng(SEED + n))
    arrays = [a for a in inputs if isinstance(a, np.ndarray)]
    label = row.shape(*inputs) if row.shape else "-"
    if arrays and arrays[0].ndim == 1 and not row.fixed:
        label = size_label(arrays[0].size)
    res = {"row": row.name, "family": row.family, "desc": row.desc, "requested": n, "shape": label,
           "elements": int(arrays[0].size) if arrays else 0, "dtype": str(dt), "libs": {}}
    outs = {}
    for lib in LIBS:
        oc = _run_lib(row, lib, mods.get(lib), inputs, device, opts)
        outs[lib] = oc
        t = oc.timing
        res["libs"][lib] = {"status": oc.status, "detail": oc.detail, "label": oc.label(),
                            **({"median_s": t.median, "min_s": t.lo, "max_s": t.hi, "first_s": t.first,
                                "number": t.number, "samples_s": t.samples} if t else {})}
    ref = outs["numpy"].output if outs["numpy"].output is not None else outs["numtorch"].output
    nbytes = _traffic(row, inputs, ref)
    res["bytes"] = nbytes
    if row.work is not None and arrays:
        res["work"], res["work_unit"] = row.work(*inputs)
    rtol, atol = _tolerances(row, dt)
    checker = row.check or (lambda g, w, i, r, a: close(g, w, r, a))
    res["check"], res["check_detail"] = "-", ""
    if outs["numtorch"].output is not None and outs["numpy"].output is not None:
        try:
            ok, msg = checker(outs["numtorch"].output, outs["numpy"].output, inputs, rtol, atol)
        except Exception as exc:  # noqa: BLE001
            ok, msg = False, f"check failed: {type(exc).__name__}: {exc}"
        res["check"], res["check_detail"] = ("ok" if ok else "MISMATCH"), msg
    if outs["torch"].output is not None and outs["numpy"].output is not None:
        try:
            ok, msg = checker(outs["torch"].output, outs["numpy"].output, inputs, rtol, atol)
        except Exception as exc:  # noqa: BLE001
            ok, msg = False, str(exc)
        res["torch_check"] = "ok" if ok else f"differs: {msg}"
    return res


def throughput(res, lib):
    """(value, unit) for one library: GB/s for streaming rows, else elements/s or FLOP/s; None if n/a."""
    t = res["libs"][lib].get("median_s")
    if not t:
        return None
    if res.get("bytes"):
        return res["bytes"] / t / 1e9, "GB/s"
    if res.get("work"):
        unit = res["work_unit"]
        return (res["work"] / t / 1e9, "GFLOP/s") if unit == "flop" else (res["work"] / t / 1e6, "Melem/s")
    return None


def run_rows(rows, mods, dtype, device, opts, sizes=None, quick=False, log=sys.stderr):
    plan = [(row, n) for row in rows for n in sizes_for(row, sizes, quick, device.kind)]
    results = []
    for i, (row, n) in enumerate(plan, 1):
        t0 = time.perf_counter()
        res = run_one(row, n, dtype, mods, device, opts)
        results.append(res)
        parts = []
        for lib in LIBS:
            d = res["libs"][lib]
            if d["status"] == "ok":
                parts.append(f"{lib} {fmt_time(d['median_s'])}")
            elif d["status"] != "skipped":
                parts.append(f"{lib} {d['label']}")
        loud = "  !! MISMATCH: " + res["check_detail"] if res["check"] == "MISMATCH" else ""
        print(f"[{i:>3}/{len(plan)}] {row.name} {res['shape']}: {', '.join(parts)} "
              f"({time.perf_counter() - t0:.1f} s){loud}", file=log, flush=True)
    return results


def fmt_time(s):
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.3g} us" if s * 1e6 < 100 else f"{s * 1e6:.0f} us"
    if s < 1:
        return f"{s * 1e3:.3g} ms"
    return f"{s:.3g} s"
