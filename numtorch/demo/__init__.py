"""``python -m numtorch.demo``: run the tutorials' PyTorch code cells with numtorch as ``torch``.

The cells (and what PyTorch 2.13 prints for each) ship in ``numtorch.demo.cells``; ``runner`` executes them
notebook-style and compares. ``_extract`` regenerates ``cells.py`` from the tutorial texts (dev only).
"""
from .runner import matches, normalise, run_cell, run_tutorial, torch_alias

__all__ = ["tutorials", "cells_of", "run", "matches", "normalise", "run_cell", "run_tutorial", "torch_alias"]


def tutorials():
    from .cells import TUTORIALS
    return list(TUTORIALS)


def cells_of(name):
    from .cells import CELLS
    return [c for c in CELLS if c["tutorial"] == name]


def find_tutorial(name):
    """A tutorial by its number ('002'), file name, or a substring of its title."""
    for t in tutorials():
        if name in (t["name"], t["file"]) or t["file"].startswith(name) or name.lower() in t["title"].lower():
            return t
    raise KeyError(f"no tutorial named {name!r} (have: {', '.join(t['name'] for t in tutorials())})")


def run(tutorial, torch_module=None, on_cell=None):
    """Run one tutorial with numtorch (or ``torch_module``); return {cell id: output, None if skipped}."""
    if torch_module is None:
        import numtorch as torch_module
    if isinstance(tutorial, str):
        tutorial = find_tutorial(tutorial)
    return run_tutorial(tutorial, cells_of(tutorial["name"]), torch_module, on_cell=on_cell)
