"""``python -m bench``: numtorch vs NumPy vs PyTorch kernel microbenchmarks.

Prints one table (stdout; progress lines go to stderr), then start-up/compile figures (unless ``--quick``)
and numtorch's kernel cache summary. Exit status 0, also when a row's numtorch op is missing (shown as
``n/a (missing: NAME)``) or a result mismatches (shown as ``MISMATCH``; ``--strict`` makes that exit 1).

``--device cuda`` runs numtorch and PyTorch on the GPU (the ``gpu`` rows unless ``--ops`` is given), keeps
NumPy on the host as the reference, measures the GPU's copy bandwidth instead of the host's STREAM figure
and judges the GPU targets; start-up figures only with ``--startup`` there (they are host-side).
"""
import argparse
import sys
import time

import numpy as np

from . import report
from .rows import families, parse_sizes, select


def _args(argv):
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--ops", help="comma list of row names or families (default: all); see --list")
    ap.add_argument("--sizes", help="element counts for every sized row, e.g. 1e3,1e5,2**24 (matmul: n = side**2)")
    ap.add_argument("--dtype", default="float32", help="input dtype (default float32): float64, int64, int32, bool")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="cuda: numtorch and PyTorch on the "
                    "GPU, NumPy on the host as reference; default rows: the gpu family (see --list)")
    ap.add_argument("--repeat", type=int, help="timed runs per measurement (default 7; --quick 2)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed calls after the first one (default 1)")
    ap.add_argument("--target", type=float, help="seconds per timed sample; faster calls are looped (default "
                    "0.005; --quick 0.001)")
    ap.add_argument("--json", metavar="OUT.json", help="write every figure (samples included) as JSON")
    ap.add_argument("--plot", metavar="OUT.png", help="throughput plot (PNG/PDF need matplotlib; .svg does not)")
    ap.add_argument("--quick", action="store_true", help="smoke mode: 1e3 elements (cuda: 256, 16x16), 2 repeats, "
                    "no start-up figures")
    ap.add_argument("--startup", action="store_true", help="only the import/compile/warm-start/demo figures")
    ap.add_argument("--no-startup", action="store_true", help="skip the start-up figures in a full run")
    ap.add_argument("--cold-demo", action="store_true", help="also time the demo on an empty Numba cache (slow)")
    ap.add_argument("--threads", type=int, metavar="N", help="threads for every library (OpenMP/BLAS/Numba "
                    "variables set before import under python -m bench; torch.set_num_threads)")
    ap.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if it is importable")
    ap.add_argument("--no-bandwidth", action="store_true", help="skip the STREAM (cuda: device copy) bandwidth "
                    "measurement")
    ap.add_argument("--strict", action="store_true", help="exit 1 if a numtorch result mismatches NumPy")
    ap.add_argument("--list", action="store_true", help="list rows and families, then exit")
    ap.add_argument("--profile", type=int, metavar="N", help="instead of timing, cProfile N numtorch calls of each "
                    "selected row (largest --sizes entry, default the row's largest) and print where time goes")
    return ap, ap.parse_args(argv)


def _list():
    from .rows import all_rows
    for r in all_rows():
        print(f"{r.name:<14} {r.family:<10} {r.desc}")
    print("\nfamilies: " + "; ".join(f"{k}: {','.join(v)}" for k, v in sorted(families().items())
                                     if k != "all"))


def _modules(no_torch, log, threads=None):
    import numtorch
    try:
        from numtorch.kernels import parallel_ok
        parallel_ok()          # pick numtorch's threading layer before any other parallel kernel runs
    except ImportError:
        pass
    mods = {"numtorch": numtorch, "numpy": np, "torch": None}
    if not no_torch:
        try:
            import torch
            mods["torch"] = torch
            if threads:
                torch.set_num_threads(threads)
        except ImportError:
            print("PyTorch is not importable: its column is left empty", file=log)
    return mods


def _cuda_check(mods):
    """(ok, why PyTorch's column is empty or None); drops a PyTorch without CUDA from ``mods``."""
    try:
        ok = bool(mods["numtorch"].cuda.is_available())
    except Exception:  # noqa: BLE001
        ok = False
    note = None
    if not ok:
        print("--device cuda: numtorch has no CUDA device here (numtorch.cuda.is_available() is False); "
              "nothing to benchmark. Run on a machine with an NVIDIA GPU and numba-cuda installed.")
    elif mods["torch"] is None:
        note = "PyTorch left out (--no-torch) or not importable"
    elif not mods["torch"].cuda.is_available():
        note = f"PyTorch {mods['torch'].__version__} has no CUDA device here (torch.cuda.is_available() is False)"
        mods["torch"] = None
    return ok, note


def main(argv=None):
    ap, a = _args(argv)
    log = sys.stderr
    if a.list:
        _list()
        return 0
    try:
        rows = select(a.ops, a.device)
        sizes = parse_sizes(a.sizes)
        dtype = np.dtype(a.dtype)
    except (ValueError, TypeError) as exc:
        ap.error(str(exc))
    t_start = time.perf_counter()
    try:
        mods = _modules(a.no_torch, log, a.threads)
    except Exception as exc:  # noqa: BLE001 -- a half-landed numtorch module: say so, no traceback wall
        print(f"cannot import numtorch: {type(exc).__name__}: {exc}", file=log)
        return 1
    if a.threads:
        import numba
        numba.set_num_threads(min(a.threads, numba.config.NUMBA_NUM_THREADS))
    torch_note = None
    if a.device == "cuda":
        ok, torch_note = _cuda_check(mods)
        if not ok:
            return 0
    import gc
    gc.collect()
    gc.freeze()     # imported modules move to a permanent generation: gc.collect() between rows stays cheap
    payload = {"command": "python -m bench " + " ".join(sys.argv[1:] if argv is None else argv),
               "machine": report.machine_info()}
    print(report.machine_line(payload["machine"]))
    warn = report.busy_warning(payload["machine"])
    if warn:
        print(warn)
    if a.device == "cuda":
        payload["machine"]["cuda_device"] = mods["numtorch"].cuda.get_device_name()
        print(report.cuda_header(mods, torch_note))
        host_only = [r.name for r in select(a.ops) if not r.on_cuda] if a.ops else []
        if host_only:
            print(f"left out under --device cuda (rows that build host tensors): {', '.join(host_only)}")
    if a.profile:
        from .profiling import profile_rows
        from .runner import Device
        profile_rows(rows, sizes, dtype, mods, a.profile, Device(a.device))
        return 0
    code = 0
    if not a.startup:
        code = _run_table(a, rows, sizes, dtype, mods, payload, log)
    if a.startup or not (a.quick or a.no_startup or a.device == "cuda"):
        from . import startup
        res = startup.run(mods["torch"] is not None, cold_demo=a.cold_demo, log=log)
        payload["startup"] = res
        print("\n" + startup.format_startup(res))
    if not a.quick and (payload.get("results") or payload.get("startup")):
        from .targets import evaluate, evaluate_cuda, format_targets
        bw = payload.get("bandwidth", {}).get("reference_gbs")
        if a.device == "cuda":
            payload["targets"] = evaluate_cuda(payload.get("results", []), bw,
                                               payload.get("options", {}).get("bw_min_bytes"))
        else:
            payload["targets"] = evaluate(payload.get("results", []), bw, payload.get("startup"))
        print("\n" + format_targets(payload["targets"]))
    text, info = report.cache_summary()
    payload["cache_info"] = info
    print("\n" + text)
    payload["machine"]["loadavg_end"] = report.machine_info().get("loadavg")
    payload["wall_s"] = time.perf_counter() - t_start
    print(f"total wall time {payload['wall_s']:.1f} s")
    if a.json:
        report.write_json(a.json, payload)
        print(f"wrote {a.json}")
    return code


def _device_bandwidth(a, mods, payload, log):
    """(device copy bandwidth dict or None, traffic in bytes below which %BW is not shown: twice the L2)."""
    from . import devicebw
    bw = None
    if not a.no_bandwidth:
        print("[bandwidth] measuring the device-to-device copy ...", file=log, flush=True)
        small = a.quick or devicebw.config.ENABLE_CUDASIM     # the simulator copies with 32 Python threads
        bw = devicebw.measure(n=(1 << 12) if small else (1 << 26), repeat=2 if small else 10,
                              inner=1 if small else 20, numtorch=mods["numtorch"])
        payload["bandwidth"] = bw
        print(devicebw.summary(bw))
    return bw, 2 * (bw["l2_bytes"] if bw else devicebw.l2_bytes())


def _run_table(a, rows, sizes, dtype, mods, payload, log):
    from . import bandwidth
    from .runner import Device, run_rows
    quick = a.quick
    bw = None
    min_bytes = None
    if a.device == "cuda":
        bw, min_bytes = _device_bandwidth(a, mods, payload, log)
    elif not a.no_bandwidth:
        print("[bandwidth] measuring STREAM copy/triad ...", file=log, flush=True)
        bw = bandwidth.measure(n=(1 << 22) if quick else (1 << 24), repeat=3 if quick else 10)
        payload["bandwidth"] = bw
        print(bandwidth.summary(bw))
    opts = {"repeat": a.repeat or (2 if quick else 7), "warmup": a.warmup,
            "target": a.target or (0.001 if quick else 0.005)}
    results = run_rows(rows, mods, dtype, Device(a.device), opts, sizes=sizes, quick=quick, log=log)
    payload["results"], payload["options"] = results, dict(opts, dtype=str(dtype), quick=quick)
    if a.device == "cuda":
        payload["options"].update(device="cuda", bw_min_bytes=min_bytes)
    ref = bw["reference_gbs"] if bw else None
    print()
    print(report.format_table(results, ref, min_bytes))
    if a.device == "cuda":
        print(report.cuda_legend(dtype, opts["repeat"], ref, min_bytes))
    else:
        print(report.legend(dtype, opts["repeat"], ref))
    bad = report.mismatches(results)
    for r in bad:
        print(f"!! MISMATCH {r['row']} {r['shape']}: numtorch differs from NumPy: {r['check_detail']}")
    for r in results:
        if r.get("torch_check", "ok") != "ok":
            print(f"note: {r['row']} {r['shape']}: PyTorch {r['torch_check']} (tolerance or bench row issue)")
    if a.plot:
        from .plot import PlotUnavailable, save
        try:
            print(f"wrote {save(results, ref, a.plot)}")
        except PlotUnavailable as exc:
            print(f"--plot: {exc}")
    return 1 if (bad and a.strict) else 0
