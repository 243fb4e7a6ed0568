"""``python -m numtorch.demo [--tutorial NAME] [--diff]``: run every tutorial cell with numtorch as ``torch``.

Prints a header per tutorial and per cell, the cell's output, its status, and a final summary line
``N cells: N matched, N skipped, N differ``. Exit status 0 (differences are reported, not fatal).
"""
import argparse
import sys

from . import find_tutorial, run, tutorials
from .runner import matches, normalise


def _status(cell, out):
    if out is None:
        return "skipped"
    return "matched" if matches(cell, out) else "differ"


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m numtorch.demo", description=__doc__.splitlines()[0])
    ap.add_argument("--tutorial", action="append", metavar="NAME",
                    help="run only this tutorial (number like 002, file name or title part); repeatable")
    ap.add_argument("--diff", action="store_true", help="show expected vs got for differing cells")
    args = ap.parse_args(argv)
    try:
        chosen = [find_tutorial(n) for n in args.tutorial] if args.tutorial else tutorials()
    except KeyError as exc:
        ap.error(exc.args[0])
    counts = {"matched": 0, "skipped": 0, "differ": 0}
    differing = []

    def on_cell(cell, out):
        status = _status(cell, out)
        counts[status] += 1
        flags = [f for f in ("random", "error", "fixed") if cell.get(f)]
        print(f"--- [{cell['id']}] {cell['label']}" + (f" ({', '.join(flags)})" if flags else "") + " ---")
        if out is None:
            print(f"[skipped: {cell['skip']}]")
            return
        if cell.get("skip_lines"):
            print(f"[skipped lines: {'; '.join(cell['skip_lines'])} ({cell['skip_lines_reason']})]")
        sys.stdout.write(out if out.endswith("\n") or not out else out + "\n")
        print(f"[{status}]")
        if status == "differ":
            differing.append(cell["id"])
            if args.diff:
                rnd = cell.get("random", False)
                print(">>> expected (PyTorch):")
                print(normalise(cell["expected"], rnd))
                print(">>> got (numtorch):")
                print(normalise(out, rnd))
        sys.stdout.flush()

    import numtorch
    for tut in chosen:
        print(f"=== {tut['name']}: {tut['title']} ({tut['file']}) ===")
        run(tut, numtorch, on_cell=on_cell)
        print()
    total = sum(counts.values())
    if differing:
        print("differ: " + ", ".join(differing))
    print(f"{total} cells: {counts['matched']} matched, {counts['skipped']} skipped, {counts['differ']} differ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
