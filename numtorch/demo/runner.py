"""Run tutorial cells like a notebook and compare their output with PyTorch's.

A cell runs in its tutorial's namespace with stdout captured. In notebook mode a trailing bare expression
displays ``repr(value)`` (Jupyter's default ``last_expr``); an exception ends the cell and prints
``ExcClass: message`` (the last line of a notebook traceback); warnings print as ``Category: message``
at the point they are raised. ``import torch`` inside a cell resolves to whichever module
``torch_alias`` installed (numtorch for the demo, real PyTorch when ``_extract`` regenerates expectations).
"""
import ast
import contextlib
import io
import re
import sys
import warnings

_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
# PyTorch's C++ warnings end with the source location they came from; it names PyTorch's build tree.
_TRIGGERED = re.compile(r" ?\(Triggered internally at [^)]*\)")
_SIZE = re.compile(r"(torch\.Size\(\[[^\]]*\]\))")
_NUMBER = re.compile(r"(?<![\w.])-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?(?![\w])")
_SPACES = re.compile(r"[ \t]+")
_OPEN_PAD = re.compile(r"([\[(]) ")


@contextlib.contextmanager
def torch_alias(module):
    """Make ``import torch`` (and ``import torch.nn`` ...) give ``module`` while the block runs (restores the
    previous entries)."""
    saved = {k: v for k, v in sys.modules.items() if k == "torch" or k.startswith("torch.")}
    if getattr(module, "__name__", "") == "numtorch":
        from .._torch_alias import install, uninstall
        for k in saved:
            del sys.modules[k]
        install()
        try:
            yield module
        finally:
            uninstall(saved)
        return
    missing = object()
    prev = sys.modules.get("torch", missing)
    sys.modules["torch"] = module
    try:
        yield module
    finally:
        if prev is missing:
            sys.modules.pop("torch", None)
        else:
            sys.modules["torch"] = prev


def _show_warning(out):
    def show(message, category, filename, lineno, file=None, line=None):
        # Numba's own performance/deprecation notes are not part of what the tutorial prints.
        if category.__module__.split(".")[0] == "numba":
            return
        out.write(f"{category.__name__}: {message}\n")
    return show


def _split_display(source, display):
    tree = ast.parse(source, mode="exec")
    if display and tree.body and isinstance(tree.body[-1], ast.Expr) \
            and not source.rstrip().endswith(";"):
        last = ast.Expression(tree.body.pop().value)
        return tree, last
    return tree, None


def run_cell(source, ns, display=True, filename="<cell>"):
    """Execute ``source`` in ``ns``; return everything it printed (plus display / error lines)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = _show_warning(out)
        try:
            tree, last = _split_display(source, display)
            exec(compile(tree, filename, "exec"), ns)
            if last is not None:
                value = eval(compile(last, filename, "eval"), ns)
                if value is not None:
                    print(repr(value))
        except Exception as exc:  # noqa: BLE001 -- a notebook shows any exception and goes on
            msg = str(exc)
            print(f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__)
    return out.getvalue()


def normalise(text, random=False):
    """Output text as compared: addresses masked, trailing blanks dropped; numbers masked if ``random``."""
    text = _ADDRESS.sub("0x...", text)
    text = _TRIGGERED.sub("", text)
    lines = [ln.rstrip() for ln in text.splitlines()]
    if random:
        lines = [_mask_numbers(ln) for ln in lines]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def _mask_numbers(line):
    # Random values change digits, signs, widths (alignment padding) and notation, never the structure:
    # keep shapes (torch.Size) and names (dtype=torch.float32), turn every other number into '#', and
    # squeeze the padding (runs of spaces, a space after an opening bracket).
    parts = _SIZE.split(line)
    parts = [p if i % 2 else _NUMBER.sub("#", p) for i, p in enumerate(parts)]
    return _OPEN_PAD.sub(r"\1", _SPACES.sub(" ", "".join(parts)))


def runnable_source(cell):
    """The cell's code less the lines it marks ``skip_lines`` (imports of packages numtorch does not replace)."""
    drop = set(cell.get("skip_lines", ()))
    if not drop:
        return cell["source"]
    return "\n".join(ln for ln in cell["source"].splitlines() if ln.strip() not in drop)


def run_tutorial(tutorial, cells, torch_module, on_cell=None):
    """Run one tutorial's cells in order in a fresh namespace; return {cell id: output or None if skipped}.

    ``on_cell(cell, output)`` is called after each cell (for streaming output)."""
    ns = {"__name__": "__main__"}
    results = {}
    with torch_alias(torch_module):
        if tutorial.get("prelude"):
            run_cell(tutorial["prelude"], ns, display=False, filename=f"<{tutorial['name']} prelude>")
        for cell in cells:
            if cell.get("skip"):
                results[cell["id"]] = None
            else:
                results[cell["id"]] = run_cell(runnable_source(cell), ns, display=tutorial["display"],
                                               filename=f"<{cell['id']}>")
            if on_cell is not None:
                on_cell(cell, results[cell["id"]])
    return results


def matches(cell, output):
    return normalise(output, cell.get("random", False)) == normalise(cell["expected"], cell.get("random", False))
