"""Dev script: regenerate ``numtorch/demo/cells.py`` from the tutorial texts in ``../shared/seeds``.

    cd /work/main && python -m numtorch.demo._extract [SEEDS_DIR]

Needs real PyTorch (``import torch``): every cell's expected output is what PyTorch prints today for the
cell's code (the tutorial's printed output is kept beside it as ``original``). Each tutorial is run twice
with different seeds; cells whose output changes are flagged ``random``. Hand fixes live in the tables
below (``TUTORIALS`` preludes, ``FIXES``, ``SKIP``, ``REGEN_NOTES``), so a regeneration reproduces them.
"""
import ast
import os
import re
import sys

from .runner import run_tutorial, normalise

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SEEDS = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "seeds"))

# Tutorial-level settings. display: notebook semantics (a trailing bare expression shows its repr).
# 001 is a blog post whose code fences are scripts (its outputs are the `>>>` lines), so no display.
# prelude: imports the tutorial's text omits (blog posts) or has only in a skipped cell (004's In [2]).
TUTORIALS = {
    "000": dict(display=True, prelude="import torch"),
    "001": dict(display=False, prelude="import torch\nimport numpy as np"),
    "002": dict(display=True, prelude=""),
    "003": dict(display=True, prelude=""),
    "004": dict(display=True, title="PyTorch Basic: autograd (Pytorch_Fast_Campus_2018 notes)",
                prelude="import torch\nimport numpy as np\nfrom collections import OrderedDict\n\ntorch.manual_seed(1)"),
}

# Obviously broken tutorial text, fixed to what the notebook/blog must have run:
# (tutorial, cell label, old, new, why).
FIXES = [
    ("001", "fence 4", "\tdevice = torch.device('cuda')", "    device = torch.device('cuda')",
     "the blog mixes a tab and spaces in this block (IndentationError as printed); indented with spaces"),
    ("004", "In [11]", "print(y)x", "print(y)",
     "typo 'print(y)x' is a SyntaxError; the notebook's output shows only print(y) ran"),
]

# Cells not run: (tutorial, substring of the source) -> reason.
SKIP = [
    ("002", "%pip install torchviz", "installs torchviz (%pip magic)"),
    ("002", "from torchviz import make_dot", "needs torchviz and Graphviz"),
]

# Lines not run inside a cell that otherwise runs: (tutorial, substring of the source, lines, reason).
SKIP_LINES = [
    ("004", "import torchvision", ("import torchvision", "import matplotlib.pyplot as plt", "%matplotlib inline"),
     "torchvision and matplotlib are not part of numtorch"),
]

_OUTPUT_START = re.compile(
    r"^(tensor\(|tensor\d* : |torch\.(Size|int|float|bool|uint)|True$|False$|None$|<|array\(|\w*(Error|Exception"
    r"|Warning)\b|Note:|Shape :|grad can|Trying to|\w*\s?[\uac00-\ud7a3])")
# Hangul-led paragraphs are output (not markdown) when they print a value.
_OUTPUT_LINE = re.compile(r"tensor\(| :  ?None")
_HANGUL_START = re.compile(r"^\w*\s?[\uac00-\ud7a3]")


def _front_title(text, fallback):
    m = re.search(r"^title:\s*(.+)$", text, re.M) or re.search(r"^#\s+(.+)$", text, re.M)
    return m.group(1).strip() if m else fallback


def _parses(code):
    code = "\n".join("" if ln.lstrip().startswith("%") else ln for ln in code.splitlines())
    try:
        ast.parse(code)
        return True
    except SyntaxError:
        return False


def _strip_block(lines):
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return "\n".join(lines)


def parse_nbconvert_md(text):
    """000: ```python fences, each followed by its output indented by 4 spaces."""
    cells, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        if lines[i].strip() == "```python":
            j = i + 1
            while lines[j].strip() != "```":
                j += 1
            code = _strip_block(lines[i + 1:j])
            k, out = j + 1, []
            while k < len(lines) and (not lines[k].strip() or lines[k].startswith("    ")):
                out.append(lines[k][4:])
                k += 1
            if code.strip():
                cells.append(dict(label=f"fence {len(cells) + 1}", source=code, original=_strip_block(out)))
            i = k
        else:
            i += 1
    return cells


def parse_fence_prompt(text):
    """001: ``` fences whose output lines start with '>>>' (continuations indented)."""
    cells, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        if lines[i].strip().startswith("```python"):
            j = i + 1
            while lines[j].strip() != "```":
                j += 1
            code, out, in_out = [], [], False
            for ln in lines[i + 1:j]:
                if ln.startswith(">>>"):
                    out.append(ln[3:])
                    in_out = True
                elif in_out and (ln.startswith(" ") or not ln.strip()) and ln.strip():
                    out.append(ln.strip() if ln.startswith("   ") and not ln.startswith("    ") else ln)
                else:
                    in_out = False
                    code.append(ln)
            source = _strip_block(code)
            if source.strip():
                cells.append(dict(label=f"fence {len(cells) + 1}", source=source, original="\n".join(out)))
            i = j + 1
        else:
            i += 1
    return cells


def parse_notebook_dump(text):
    """002-004: 'In [n]:' then the code, a blank line, the output; markdown follows.

    Code = the longest run of leading blank-separated paragraphs that parses as Python, stopping at a
    paragraph that opens like output (tensor(..., True, torch.Size, ...) or like markdown ('- ', '$')."""
    parts = re.split(r"^(In \[\d*\]:)\s*$", text, flags=re.M)
    cells = []
    for label, body in zip(parts[1::2], parts[2::2]):
        paras = re.split(r"\n\s*\n", body.strip("\n"))
        ncode = 1
        for k in range(1, len(paras) + 1):
            first = paras[k - 1].splitlines()[0]
            if k > 1 and (_OUTPUT_START.match(first) or first.startswith(("- ", "$"))):
                break
            if _parses("\n\n".join(paras[:k])):
                ncode = k
        out, k = [], ncode
        while k < len(paras):
            first = paras[k].splitlines()[0]
            if first.startswith(("#", "- ", "$")) or (
                    _HANGUL_START.match(first) and not _OUTPUT_LINE.search(paras[k])):
                break
            out.append(paras[k])
            k += 1
        cells.append(dict(label=label.rstrip(":"), source="\n\n".join(paras[:ncode]), original="\n\n".join(out)))
    return cells


def extract(seeds_dir):
    tutorials, cells = [], []
    for fname in sorted(os.listdir(seeds_dir)):
        if not fname.endswith(".txt"):
            continue
        name = fname[:3]
        text = open(os.path.join(seeds_dir, fname), encoding="utf-8").read()
        notes = []
        for tut, label, old, new, why in FIXES:
            if tut == name and old in text:
                text = text.replace(old, new)
                notes.append((label, new, why))
        parser = {"000": parse_nbconvert_md, "001": parse_fence_prompt}.get(name, parse_notebook_dump)
        meta = dict(TUTORIALS[name])
        tutorials.append(dict(name=name, file=fname, title=meta.pop("title", None) or _front_title(text, fname),
                              **meta))
        for n, c in enumerate(parser(text)):
            c.update(id=f"{name}-{n:02d}", tutorial=name)
            for label, new, why in notes:
                if c["label"] == label and new in c["source"]:
                    c["fixed"] = why
            for tut, needle, reason in SKIP:
                if tut == name and needle in c["source"]:
                    c["skip"] = reason
            for tut, needle, lines, reason in SKIP_LINES:
                if tut == name and needle in c["source"]:
                    c["skip_lines"], c["skip_lines_reason"] = lines, reason
            cells.append(c)
    return tutorials, cells


def _no_blank(text):
    # Notebook text dumps put blank lines between a cell's stdout and its error display.
    return "\n".join(ln for ln in text.splitlines() if ln.strip())


_OLD = "printed by PyTorch 0.4: 'tensor([[ 1.,  1.],' padding and no grad_fn/requires_grad suffix"
# Why the tutorial's printed output differs from what PyTorch 2.13 prints for the same code (by cell id).
REGEN_NOTES = {
    "001-05": "the blog put each printed tensor on its own '>>>' line; print(y, z, out) separates them by spaces",
    "003-06": "PyTorch now warns (UserWarning) when .grad of a non-leaf is read; the dump kept only the "
              "warning's source line",
    "004-01": _OLD, "004-02": _OLD, "004-05": _OLD, "004-09": _OLD, "004-11": _OLD, "004-12": _OLD,
    "004-13": _OLD, "004-14": _OLD, "004-15": _OLD,
    "004-07": _OLD + "; the shown values (3.6049, ...) came from another session (the code gives 27)",
    "004-08": "IPython displays '<MulBackward0 at 0x...>'; the runner displays repr(): "
              "'<MulBackward0 object at 0x...>'",
    "004-16": _OLD + "; PyTorch 0.4's 'buffers have already been freed' message is now the longer "
              "'Trying to backward through the graph a second time (or directly access saved tensors ...' text",
    "004-17": _OLD,
}


def _reseeding(torch, offset):
    real = torch.manual_seed

    def manual_seed(seed):
        return real(seed + offset)
    return real, manual_seed


def expectations(tutorials, cells):
    """Run every tutorial with real PyTorch twice (different seeds); fill expected/error/random."""
    import torch
    runs = []
    for offset in (0, 1000):
        real, patched = _reseeding(torch, offset)
        torch.manual_seed = patched
        try:
            outs = {}
            for tut in tutorials:
                real(offset)
                outs.update(run_tutorial(tut, [c for c in cells if c["tutorial"] == tut["name"]], torch))
        finally:
            torch.manual_seed = real
        runs.append(outs)
    for c in cells:
        if c.get("skip"):
            continue
        a, b = runs[0][c["id"]], runs[1][c["id"]]
        c["expected"] = a
        if normalise(a) != normalise(b):
            c["random"] = True
        if re.search(r"^\w+(Error|Exception): ", a, re.M) and not re.search(r"except\s+\w*", c["source"]):
            c["error"] = True
        rnd = c.get("random", False)
        if _no_blank(normalise(a, rnd)) != _no_blank(normalise(c["original"], rnd)):
            c["regenerated"] = REGEN_NOTES.get(c["id"], "the tutorial printed something else")
    return torch.__version__


def _lit(s):
    if "\n" not in s:
        return repr(s)
    for q in ("'''", '"""'):
        if q not in s and "\\" not in s and not s.endswith(q[0]) and "\r" not in s:
            return q + s + q
    return repr(s)


HEADER = '''"""The tutorials' code cells and what PyTorch {version} prints for them. GENERATED by
``python -m numtorch.demo._extract`` from ../shared/seeds (hand fixes live in _extract.py's tables).

Each cell: id, tutorial, label (notebook prompt or fence number), source (the tutorial's code), original (the
output printed in the tutorial, for reference), expected (what real PyTorch {version} prints today for the
same code run in order in the tutorial's namespace: this is what tests compare against), and flags:
  random      output shows random values: compared with numbers masked (shapes/dtypes/structure only)
  error       the cell raises (as in the tutorial); the runner prints ``ExcClass: message`` like a notebook
  skip        not run (reason given)
  skip_lines  lines of the cell not run (imports of packages numtorch does not replace), with skip_lines_reason
  fixed       the tutorial text was broken; the source is what the notebook must have run (reason given)
  regenerated the tutorial's printed output differs from what PyTorch {version} prints (old PyTorch output
              format: e.g. ``tensor([[ 1.,  1.], ...`` without grad_fn, the old "buffers have already been
              freed" message, IPython's ``<MulBackward0 at 0x...>``, another session's random values): the
              expectation is the regenerated one, ``original`` keeps the tutorial's text.
"""

'''


def write(path, tutorials, cells, version):
    keys = ("id", "tutorial", "label", "source", "expected", "original", "random", "error", "skip", "skip_lines",
            "skip_lines_reason", "fixed", "regenerated")
    out = [HEADER.format(version=version), f"TORCH_VERSION = {version!r}\n\n", "TUTORIALS = [\n"]
    for t in tutorials:
        out.append("    dict(" + ", ".join(f"{k}={_lit(v) if isinstance(v, str) else repr(v)}"
                                            for k, v in t.items()) + "),\n")
    out.append("]\n\nCELLS = [\n")
    for c in cells:
        if c.get("fixed"):
            out.append(f"    # FIXED tutorial text: {c['fixed']}\n")
        out.append("    dict(\n")
        for k in keys:
            if k in c and c[k] not in (False, None) or k in ("id", "tutorial", "label", "source", "original"):
                v = c.get(k)
                out.append(f"        {k}={_lit(v) if isinstance(v, str) else repr(v)},\n")
        out.append("    ),\n")
    out.append("]\n")
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(out))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    seeds = argv[0] if argv else DEFAULT_SEEDS
    tutorials, cells = extract(seeds)
    version = expectations(tutorials, cells)
    path = os.path.join(HERE, "cells.py")
    write(path, tutorials, cells, version)
    n = len(cells)
    print(f"wrote {path}: {n} cells, {sum(bool(c.get('skip')) for c in cells)} skipped, "
          f"{sum(bool(c.get('random')) for c in cells)} random, {sum(bool(c.get('error')) for c in cells)} error, "
          f"{sum(bool(c.get('regenerated')) for c in cells)} regenerated")


if __name__ == "__main__":
    main()
