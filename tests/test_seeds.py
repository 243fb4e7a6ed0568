"""The tutorials' cells (numtorch/demo/cells.py) run with numtorch print what PyTorch 2.13 prints.

One test per non-skipped cell. Cells depend on the cells before them, so each tutorial runs once, in order,
in one namespace (cached per module) and each test checks its own cell's output. Comparison is literal after
normalisation: object addresses masked, trailing blanks dropped, and numbers masked for ``random`` cells.
"""
import os
import re
import subprocess
import sys
import time

import pytest

import numtorch
from numtorch.demo import cells_of, find_tutorial, run, tutorials
from numtorch.demo.cells import CELLS, TORCH_VERSION
from numtorch.demo.runner import normalise, run_cell, runnable_source, torch_alias

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = os.path.join(os.path.dirname(ROOT), "shared", "seeds")

_RUNS = {}


def _output(cell):
    name = cell["tutorial"]
    if name not in _RUNS:
        _RUNS[name] = run(name, numtorch)
    return _RUNS[name][cell["id"]]


def _param(c):
    label = re.sub(r"\W+", "", c["label"].replace("fence ", "f"))
    return pytest.param(c, id=f"{c['id']}-{label}")


@pytest.mark.parametrize("cell", [_param(c) for c in CELLS if not c.get("skip")])
def test_cell(cell):
    got = _output(cell)
    rnd = cell.get("random", False)
    assert normalise(got, rnd) == normalise(cell["expected"], rnd), (
        f"\n--- source ---\n{cell['source']}\n--- expected (PyTorch {TORCH_VERSION}) ---\n{cell['expected']}"
        f"\n--- got (numtorch) ---\n{got}")


# -- the data module itself ------------------------------------------------------------------------------

def test_cells_table():
    ids = [c["id"] for c in CELLS]
    assert len(ids) == len(set(ids))
    assert {c["tutorial"] for c in CELLS} == {t["name"] for t in tutorials()}
    for c in CELLS:
        assert c.get("skip") or isinstance(c.get("expected"), str), c["id"]
        compile(runnable_source(c), c["id"], "exec") if not c.get("skip") else None
    assert sum(1 for c in CELLS if c.get("skip")) == 2
    # 004's first cell runs, less its torchvision/matplotlib lines (numtorch replaces torch only)
    assert [c["skip_lines"] for c in CELLS if c.get("skip_lines")] == [
        ("import torchvision", "import matplotlib.pyplot as plt", "%matplotlib inline")]
    assert find_tutorial("002")["file"].startswith("002_")
    assert cells_of("003")[0]["source"] == "import torch"


@pytest.mark.skipif(not os.path.isdir(SEEDS), reason="tutorial texts (../shared/seeds) not present")
def test_cells_match_seed_texts():
    """cells.py is what _extract makes of the tutorial texts (regenerate it if this fails)."""
    from numtorch.demo._extract import extract
    tuts, cells = extract(SEEDS)
    assert [t["name"] for t in tuts] == [t["name"] for t in tutorials()]
    assert [(c["id"], c["source"], c["original"]) for c in cells] == \
        [(c["id"], c["source"], c["original"]) for c in CELLS]


def test_expectations_are_pytorchs():
    """Rerun a few deterministic cells with real PyTorch: the stored expectations are what it prints."""
    torch = pytest.importorskip("torch")
    if torch.__version__ != TORCH_VERSION:
        pytest.skip(f"expectations recorded with torch {TORCH_VERSION}, have {torch.__version__}")
    outs = run("003", torch)
    for c in cells_of("003"):
        assert normalise(outs[c["id"]]) == normalise(c["expected"]), c["id"]


# -- runner semantics (independent of numtorch's coverage) -----------------------------------------------

def test_runner_display_error_and_warning():
    ns = {}
    assert run_cell("a = [1, 2]\na", ns) == "[1, 2]\n"
    assert run_cell("a", ns, display=False) == ""
    assert run_cell("a;", ns) == ""
    assert run_cell("None", ns) == ""
    assert run_cell("print(1)\nassert False, 'boom'\nprint(2)", ns) == "1\nAssertionError: boom\n"
    assert run_cell("import warnings\nwarnings.warn('w1')\nprint(3)", ns) == "UserWarning: w1\n3\n"
    assert run_cell("raise KeyError", ns) == "KeyError\n"


def test_runner_torch_alias_restores():
    before = sys.modules.get("torch")
    with torch_alias(numtorch):
        ns = {}
        run_cell("import torch\nt = torch", ns)
        assert ns["t"] is numtorch
    assert sys.modules.get("torch") is before


def test_normalise():
    a = "<AddBackward0 object at 0x7f00aa>\nx (Triggered internally at /a/b.h:493.)  \n\n"
    assert normalise(a) == "<AddBackward0 object at 0x...>\nx"
    r1 = "tensor([[ 4.3848,  6.6710],\n        [-4.1821, 11.0535]])\ntorch.Size([2, 2]) torch.float32"
    r2 = "tensor([[1.0000e-05, 2.0000e+00],\n        [3.0000e+00, 4.0000e+00]])\ntorch.Size([2, 2]) torch.float32"
    assert normalise(r1, True) == normalise(r2, True)
    assert normalise(r1, True) != normalise(r1.replace("[2, 2]", "[2, 3]"), True)
    assert normalise("tensor([1, 2])", True) != normalise("tensor([1, 2, 3])", True)


# -- CUDA path (seed 002 cell 'In [4]') -------------------------------------------------------------------

def test_cuda_unavailable_path():
    """Without a usable GPU (CI sets NUMBA_ENABLE_CUDASIM=1: the simulator is not a GPU) .cuda() fails like a
    CPU-only PyTorch build."""
    with torch_alias(numtorch):
        out = run_cell("import torch\nprint(torch.cuda.is_available())\nx = torch.tensor([[1, 2], [3, 4]])\n"
                       "print(x.is_cuda)\nx = x.cuda()\nprint(x.is_cuda)", {})
    assert out == "False\nFalse\nAssertionError: Torch not compiled with CUDA enabled\n"


# -- the CLI ----------------------------------------------------------------------------------------------

def test_demo_cli_exits_zero():
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-m", "numtorch.demo"], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env=dict(os.environ, PYTHONPATH=ROOT))
    assert proc.returncode == 0, proc.stderr[-3000:]
    last = proc.stdout.strip().splitlines()[-1]
    m = re.fullmatch(r"(\d+) cells: (\d+) matched, (\d+) skipped, (\d+) differ", last)
    assert m, last
    total, matched, skipped, differ = map(int, m.groups())
    assert total == len(CELLS) == matched + skipped + differ and skipped == 2
    for t in tutorials():
        assert f"=== {t['name']}: " in proc.stdout
    assert time.time() - t0 < 300


def test_demo_cli_tutorial_flag():
    from numtorch.demo.__main__ import main
    import contextlib
    import io
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["--tutorial", "001", "--diff"]) == 0
    text = buf.getvalue()
    assert "=== 001: " in text and "=== 002: " not in text
    assert text.strip().splitlines()[-1].startswith(f"{len(cells_of('001'))} cells: ")
