"""numtorch's performance targets, judged from one run's results.

1. every large-tensor row (the largest size run of each sized row) at or below PyTorch's time;
2. streaming rows (largest size) at >= 80% of the measured memory bandwidth;
3. 2x2 add latency <= 2x PyTorch's;
4. the tutorial's tiny autograd step <= PyTorch's;
5. ``python -m numtorch.demo`` wall time below the same cells run with PyTorch.

Under ``--device cuda`` (``evaluate_cuda``): elementwise rows at >= 80% of the GPU's measured copy
bandwidth; reductions, and topk/sort, within 1.5x of PyTorch CUDA's time (largest size run of each row).
"""
from .report import bw_fraction

BW_TARGET = 0.8


def _largest(results):
    best = {}
    for r in results:
        if r["family"] in ("latency", "autograd"):
            continue
        if r["row"] not in best or r["elements"] > best[r["row"]]["elements"]:
            best[r["row"]] = r
    return list(best.values())


def _t(r, lib):
    return r["libs"][lib].get("median_s")


def _find(results, name):
    return next((r for r in results if r["row"] == name), None)


def _ratio_target(results, row, limit, label):
    r = _find(results, row)
    if r is None or not _t(r, "numtorch") or not _t(r, "torch"):
        return {"target": label, "met": None, "detail": "not measured (row not run, op missing or no PyTorch)"}
    q = _t(r, "numtorch") / _t(r, "torch")
    return {"target": label, "met": q <= limit,
            "detail": f"numtorch {_t(r, 'numtorch') * 1e6:.3g} us vs PyTorch {_t(r, 'torch') * 1e6:.3g} us "
                      f"({q:.2f}x, limit {limit:g}x)"}


def evaluate(results, bw_gbs, startup=None):
    """[{target, met (True/False/None = not measured), detail, misses}]"""
    out = []
    large = [r for r in _largest(results) if _t(r, "numtorch") and _t(r, "torch")]
    miss = [r for r in large if _t(r, "numtorch") > _t(r, "torch")]
    out.append({"target": "large-tensor rows at or below PyTorch's time", "met": (not miss) if large else None,
                "detail": f"{len(large) - len(miss)}/{len(large)} rows met",
                "misses": [f"{r['row']} {r['shape']} {_t(r, 'numtorch') / _t(r, 'torch'):.2f}x" for r in miss]})
    fr = [(r, bw_fraction(r, "numtorch", bw_gbs)) for r in _largest(results)]
    fr = [(r, f) for r, f in fr if f is not None]
    low = [(r, f) for r, f in fr if f < BW_TARGET]
    out.append({"target": f"streaming rows >= {BW_TARGET:.0%} of measured bandwidth", "met": (not low) if fr else None,
                "detail": f"{len(fr) - len(low)}/{len(fr)} rows met" + (f" (of {bw_gbs:.1f} GB/s)" if bw_gbs else ""),
                "misses": [f"{r['row']} {r['shape']} {100 * f:.0f}%" for r, f in low]})
    out.append(_ratio_target(results, "add_2x2", 2.0, "2x2 add latency <= 2x PyTorch"))
    out.append(_ratio_target(results, "autograd_tiny", 1.0, "tiny autograd step <= PyTorch"))
    demo = (startup or {}).get("demo", {})
    if demo.get("numtorch") and not demo["numtorch"].get("ok", True):
        out.append({"target": "demo wall time below PyTorch's", "met": False,
                    "detail": f"python -m numtorch.demo failed ({demo['numtorch']['summary']})"})
    elif demo.get("numtorch") and demo.get("torch"):
        a, b = demo["numtorch"]["best_s"], demo["torch"]["best_s"]
        out.append({"target": "demo wall time below PyTorch's", "met": a < b,
                    "detail": f"numtorch {a:.2f} s vs PyTorch {b:.2f} s (fresh processes, best of runs)"})
    else:
        out.append({"target": "demo wall time below PyTorch's", "met": None,
                    "detail": "not measured (run without --quick/--no-startup, with torch importable)"})
    return out


GPU_RATIO = 1.5
ELEMENTWISE = ("unary", "binary", "broadcast", "chain")


def _within(results, fams, limit, label):
    rows = [r for r in _largest(results) if r["family"] in fams and _t(r, "numtorch") and _t(r, "torch")]
    if not rows:
        return {"target": label, "met": None, "detail": "not measured (rows not run, op missing or no PyTorch CUDA)"}
    miss = [r for r in rows if _t(r, "numtorch") > limit * _t(r, "torch")]
    return {"target": label, "met": not miss,
            "detail": f"{len(rows) - len(miss)}/{len(rows)} rows met (" + ", ".join(
                f"{r['row']} {r['shape']} {_t(r, 'numtorch') / _t(r, 'torch'):.2f}x" for r in rows) + ")",
            "misses": [f"{r['row']} {r['shape']} {_t(r, 'numtorch') / _t(r, 'torch'):.2f}x" for r in miss]}


def evaluate_cuda(results, bw_gbs, min_bytes):
    """The GPU targets, judged like ``evaluate``'s (``min_bytes``: traffic below it is not judged)."""
    fr = [(r, bw_fraction(r, "numtorch", bw_gbs, min_bytes)) for r in _largest(results) if r["family"] in ELEMENTWISE]
    fr = [(r, f) for r, f in fr if f is not None]
    low = [(r, f) for r, f in fr if f < BW_TARGET]
    label = f"elementwise rows >= {BW_TARGET:.0%} of the device copy bandwidth"
    if fr:       # bw_fraction is None without a bandwidth figure, so bw_gbs is set here
        each = ", ".join(f"{r['row']} {r['shape']} {100 * f:.0f}%" for r, f in fr)
        ew = {"target": label, "met": not low, "detail": f"{len(fr) - len(low)}/{len(fr)} rows met (of "
              f"{bw_gbs:.1f} GB/s: {each})", "misses": [f"{r['row']} {r['shape']} {100 * f:.0f}%" for r, f in low]}
    else:
        ew = {"target": label, "met": None,
              "detail": "not measured (no elementwise row above twice the L2 size, or bandwidth not measured)"}
    return [ew, _within(results, ("reduce", "scan"), GPU_RATIO, f"reductions within {GPU_RATIO:g}x of PyTorch CUDA"),
            _within(results, ("sort",), GPU_RATIO, f"topk and sort within {GPU_RATIO:g}x of PyTorch CUDA")]


def format_targets(items):
    lines = ["targets:"]
    for it in items:
        tag = {True: "MET   ", False: "MISSED", None: "n/a   "}[it["met"]]
        lines.append(f"  [{tag}] {it['target']}: {it['detail']}")
        if it.get("misses"):
            lines.append("           missed: " + ", ".join(it["misses"]))
    return "\n".join(lines)
