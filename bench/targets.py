"""numtorch's performance targets, judged from one run's results.

1. every large-tensor row (the largest size run of each sized row) at or below PyTorch's time;
2. streaming rows (largest size) at >= 80% of the measured memory bandwidth;
3. small tensors (issue 15): per-op latency rows (``SMALL``) and the sized ``add``/``relu``/``exp``/``sum`` rows
   at 1e3 (<= 1.5x) and 1e4..1e6 elements (<= 1x), each against PyTorch's time;
4. ``import numtorch`` at most 0.1 s more than ``import numba`` (start-up figures);
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


SMALL = (("add_2x2", 1.5, "2x2 a + b"), ("mul_scalar_2x2", 1.5, "2x2 a * 2"), ("sum_4", 1.5, "x.sum() of 4"),
         ("index_2x2", 1.5, "x[0]"), ("view_2x2", 1.5, "x.view(-1)"), ("tensor_list2", 1.5, "tensor([1., 2.])"),
         ("autograd_tiny", 0.7, "tiny autograd step"), ("linear_call_4x4", 1.0, "Linear(4, 4) call"),
         ("autograd_chain100", 0.7, "100-op chain + backward"), ("add_row_256", 1.0, "256x256 row-broadcast add"))
SIZED_SMALL = ("add", "relu", "exp", "sum")


def _sized_small(results):
    """The sized rows at 1e3 (<= 1.5x) and 1e4, 1e5, 1e6 elements (<= 1x), where they were run."""
    rows = [r for r in results if r["row"] in SIZED_SMALL and r["elements"] in (10**3, 10**4, 10**5, 10**6)
            and _t(r, "numtorch") and _t(r, "torch")]
    if not rows:
        return [{"target": "add/relu/exp/sum at 1e3-1e6 elements", "met": None,
                 "detail": "not measured (run --ops add,relu,exp,sum --sizes 1e3,1e4,1e5,1e6 with torch)"}]
    lim = lambda r: 1.5 if r["elements"] == 10**3 else 1.0  # noqa: E731
    miss = [r for r in rows if _t(r, "numtorch") > lim(r) * _t(r, "torch")]
    return [{"target": "add/relu/exp/sum: <= 1.5x PyTorch at 1e3 elements, <= 1x at 1e4-1e6", "met": not miss,
             "detail": f"{len(rows) - len(miss)}/{len(rows)} rows met",
             "misses": [f"{r['row']} {r['elements']:g} {_t(r, 'numtorch') / _t(r, 'torch'):.2f}x" for r in miss]}]


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
    for row, limit, label in SMALL:
        out.append(_ratio_target(results, row, limit, f"{label} <= {limit:g}x PyTorch"))
    out += _sized_small(results)
    imp = (startup or {}).get("import_numtorch_s", (None,))[0]
    base = (startup or {}).get("import_numba_s", (None,))[0]
    if imp is not None and base is not None:
        out.append({"target": "import numtorch <= import numba + 0.1 s", "met": imp - base <= 0.1,
                    "detail": f"numtorch {imp:.3f} s, numba {base:.3f} s (+{imp - base:.3f} s; fresh processes, "
                              "medians)"})
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
