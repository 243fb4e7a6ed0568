"""Child process of ``bench.startup``: the demo's tutorial cells run with real PyTorch.

``python -m bench._torchdemo`` loads ``numtorch/demo/cells.py`` and ``numtorch/demo/runner.py`` by file
path (importing ``numtorch.demo`` would import numtorch and charge its start-up to PyTorch), runs every
tutorial's cells with ``import torch`` resolving to real torch, and prints a summary line like the demo's.
"""
import importlib.util
import os
import sys


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    import torch
    root = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "numtorch", "demo")
    cells = _load("_bench_cells", os.path.join(root, "cells.py"))
    runner = _load("_bench_runner", os.path.join(root, "runner.py"))
    counts = {"matched": 0, "skipped": 0, "differ": 0}
    for tut in cells.TUTORIALS:
        mine = [c for c in cells.CELLS if c["tutorial"] == tut["name"]]
        for cell_id, out in runner.run_tutorial(tut, mine, torch).items():
            cell = next(c for c in mine if c["id"] == cell_id)
            counts["skipped" if out is None else "matched" if runner.matches(cell, out) else "differ"] += 1
    total = sum(counts.values())
    print(f"{total} cells: {counts['matched']} matched, {counts['skipped']} skipped, {counts['differ']} differ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
