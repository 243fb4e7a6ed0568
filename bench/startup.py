"""Start-up and compile figures, each measured in fresh subprocesses.

- ``import numtorch`` (and ``import torch``) wall time in a fresh interpreter (median of 3).
- Per kernel family (``bench._probe.FAMILIES``): the cold first call (a fresh process whose
  ``NUMBA_CACHE_DIR`` is an empty temporary folder: everything compiles), the warm first call (a second
  process on the same folder: kernels load from the cache) and the steady-state call.
- End-to-end wall time of ``python -m numtorch.demo`` (the normal cache; first run and best of the
  repeats) beside the same tutorial cells run with real torch (``bench._torchdemo``). ``cold_demo``
  adds one demo run on an empty cache folder (slow: it compiles everything the tutorials touch).
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _env(cache_dir=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    return env


def _run(args, cache_dir=None, timeout=600):
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable] + args, cwd=ROOT, env=_env(cache_dir), capture_output=True, text=True,
                       timeout=timeout)
    return time.perf_counter() - t0, p


def import_time(module, runs=3):
    """(median seconds of ``import module`` measured inside a fresh process, median process wall time)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    inner, wall = [], []
    for _ in range(runs):
        w, p = _run(["-c", code])
        if p.returncode != 0:
            return None, None
        inner.append(float(p.stdout.strip().splitlines()[-1]))
        wall.append(w)
    return statistics.median(inner), statistics.median(wall)


def probe(family, cache_dir):
    wall, p = _run(["-m", "bench._probe", family], cache_dir=cache_dir)
    for ln in p.stdout.splitlines():
        if ln.startswith("PROBE "):
            out = json.loads(ln[6:])
            out["wall_s"] = wall
            return out
    return {"family": family, "status": "error", "detail": (p.stderr.strip().splitlines() or ["?"])[-1][:80]}


def families(log):
    from ._probe import FAMILIES
    rows = []
    for fam in FAMILIES:
        tmp = tempfile.mkdtemp(prefix="numtorch-bench-cache-")
        try:
            cold = probe(fam, tmp)
            warm = probe(fam, tmp) if "first_s" in cold else {}
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        rows.append({"family": fam, "op": cold.get("op", FAMILIES[fam][0]), "cold": cold, "warm": warm})
        print(f"[startup] {fam}: cold {_s(cold.get('first_s'))}, warm {_s(warm.get('first_s'))}"
              + (f" ({cold.get('detail')})" if cold.get("detail") else ""), file=log, flush=True)
    return rows


def demo(torch_ok, runs=2, cold=False, log=sys.stderr):
    res = {}
    nt = [_run(["-m", "numtorch.demo"]) for _ in range(runs)]
    res["numtorch"] = _demo_result(nt)
    print(f"[startup] demo numtorch: {_s(res['numtorch']['best_s'])} ({res['numtorch']['summary']})",
          file=log, flush=True)
    if cold:
        tmp = tempfile.mkdtemp(prefix="numtorch-bench-cache-")
        try:
            w, p = _run(["-m", "numtorch.demo"], cache_dir=tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        res["numtorch"]["cold_cache_s"] = w
        print(f"[startup] demo numtorch, empty cache: {_s(w)}", file=log, flush=True)
    if torch_ok:
        th = [_run(["-m", "bench._torchdemo"]) for _ in range(runs)]
        res["torch"] = _demo_result(th)
        print(f"[startup] demo torch: {_s(res['torch']['best_s'])} ({res['torch']['summary']})", file=log,
              flush=True)
    return res


def _demo_result(runs):
    """Wall times of demo runs; ``ok`` only if every run exited 0 and printed its 'N cells: ...' summary."""
    ok = all(p.returncode == 0 and " cells: " in _last(p.stdout) for _, p in runs)
    last = runs[-1][1]
    return {"first_s": runs[0][0], "best_s": min(w for w, _ in runs), "rc": last.returncode, "ok": ok,
            "summary": _last(last.stdout) if ok else "FAILED: " + (_last(last.stderr) or _last(last.stdout))}


def _last(text):
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:100] if lines else ""


def _s(x):
    if x is None:
        return "-"
    return f"{x * 1e6:.3g} us" if x < 1e-3 else f"{x * 1e3:.3g} ms" if x < 1 else f"{x:.2f} s"


def run(torch_ok, cold_demo=False, log=sys.stderr):
    res = {"import_numtorch_s": import_time("numtorch", runs=5), "import_numba_s": import_time("numba", runs=5),
           "import_torch_s": import_time("torch") if torch_ok else (None, None)}
    print(f"[startup] import numtorch {_s(res['import_numtorch_s'][0])}", file=log, flush=True)
    res["families"] = families(log)
    res["demo"] = demo(torch_ok, cold=cold_demo, log=log)
    return res


def format_startup(res):
    imp, wall = res["import_numtorch_s"]
    lines = [f"import numtorch: {_s(imp)} (fresh process, median of 5; process wall {_s(wall)})"]
    nb = (res.get("import_numba_s") or (None, None))[0]
    if nb is not None:
        lines[-1] += f"; import numba alone: {_s(nb)}"
    ti, tw = res.get("import_torch_s") or (None, None)
    if ti is not None:
        lines[-1] += f"; import torch: {_s(ti)} (process wall {_s(tw)})"
    head = ("family", "ops (64x64 float32)", "cold 1st call", "warm 1st call", "steady call", "compiled", "loaded")
    body = []
    for r in res["families"]:
        c, w = r["cold"], r["warm"]
        if "first_s" not in c:
            body.append((r["family"], r["op"], f"n/a ({c.get('status', 'error')}: {c.get('detail', '')})",
                         "-", "-", "-", "-"))
            continue
        body.append((r["family"], r["op"], _s(c["first_s"]), _s(w.get("first_s")), _s(w.get("steady_s")),
                     str(c.get("compiled", "?")), str(w.get("loaded", "?"))))
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    fmt = lambda cells: "  ".join(str(x).ljust(wd) for x, wd in zip(cells, widths)).rstrip()  # noqa: E731
    lines += ["", fmt(head), fmt(["-" * wd for wd in widths])] + [fmt(b) for b in body]
    d = res.get("demo", {})
    if d.get("numtorch"):
        n = d["numtorch"]
        txt = (f"\ndemo (all tutorial cells, fresh process, end to end): python -m numtorch.demo "
               f"{_s(n['best_s'])} (first run {_s(n['first_s'])})")
        if "cold_cache_s" in n:
            txt += f", empty Numba cache {_s(n['cold_cache_s'])}"
        if d.get("torch"):
            txt += f"; same cells with real torch {_s(d['torch']['best_s'])} (first run {_s(d['torch']['first_s'])})"
        lines.append(txt)
        lines.append(f"  numtorch: {n['summary']}" + (f" | torch: {d['torch']['summary']}" if d.get("torch") else ""))
    lines.append("cold = fresh process, empty NUMBA_CACHE_DIR (compiles); warm = second process on that cache "
                 "(loads); compiled/loaded = kernel specializations")
    return "\n".join(lines)
