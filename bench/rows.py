"""Benchmark rows: the ``Row`` record, the registry, size parsing and ``--ops`` selection.

A row is a small function triple (numtorch, NumPy, PyTorch) over the SAME input arrays: ``make(n, dtype,
rng)`` builds NumPy inputs for a requested size ``n`` (elements), each library receives them converted
zero-copy (``from_numpy``), and ``fns[lib](module, *inputs)`` is the timed call. Under ``--device cuda``
numtorch's and PyTorch's copies live on the GPU; ``gpu`` rows are that mode's default selection.
"""
import math
import re
from dataclasses import dataclass, field

import numpy as np

LIBS = ("numtorch", "numpy", "torch")

STREAM_SIZES = (10**3, 10**4, 10**5, 10**6, 2**24)
HEAVY_SIZES = (10**3, 10**5, 2**22)
MATMUL_SIZES = (128 * 128, 512 * 512, 1024 * 1024)
QUICK_SIZES = (10**3,)
CUDA_QUICK_SIZES = (256,)             # the simulator runs every CUDA thread as a Python thread: tiny only


@dataclass
class Row:
    name: str
    family: str
    desc: str
    make: object                       # (n, np dtype, rng) -> tuple of inputs
    fns: dict                          # lib -> f(module, *inputs); "*" = shared by all libs
    sizes: tuple = STREAM_SIZES
    quick_sizes: tuple = QUICK_SIZES
    fixed: bool = False                # ignores --sizes (fixed-shape rows)
    needs: tuple = ()                  # numtorch names the row needs ("gather", "Tensor.gather")
    traffic: object = None             # inputs -> bytes read + written (streaming rows)
    work: object = None                # inputs -> (count, unit) for non-streaming throughput
    shape: object = None               # inputs -> label for the size column
    prep: object = None                # (lib, module, inputs) -> inputs for that library
    check: object = None               # (numtorch out, numpy out, inputs, rtol, atol) -> (ok, msg)
    rtol: float = 1e-4                 # float32 tolerances; float64 uses rtol*1e-5
    atol: float = 1e-5
    float_only: bool = False           # always runs in a floating dtype
    on_cuda: bool = True               # runs under --device cuda (its inputs can move to the GPU)
    gpu: bool = False                  # in the default --device cuda selection
    cuda_sizes: tuple = None           # sizes under --device cuda (None: ``sizes``)
    cuda_quick_sizes: tuple = None     # --device cuda --quick (None: CUDA_QUICK_SIZES; fixed rows: sizes[0])
    extra: dict = field(default_factory=dict)

    def fn(self, lib):
        return self.fns.get(lib, self.fns.get("*"))


REGISTRY = []


def register(row):
    REGISTRY.append(row)
    return row


def all_rows():
    if not REGISTRY:
        from . import rowdefs, rowgrad  # noqa: F401 -- registering happens on import
        import importlib
        import pkgutil
        from . import __path__ as _here
        for info in sorted(pkgutil.iter_modules(_here), key=lambda i: i.name):
            if info.name.startswith("rows_"):      # one file of rows per training-stack family
                importlib.import_module(f"{__package__}.{info.name}")
    return list(REGISTRY)


def families():
    fams = {}
    for r in all_rows():
        fams.setdefault(r.family, []).append(r.name)
    fams["elementwise"] = [r.name for r in all_rows() if r.family in ("unary", "binary", "broadcast", "chain")]
    fams["streaming"] = [r.name for r in all_rows() if r.traffic is not None]
    fams["gpu"] = [r.name for r in all_rows() if r.gpu]
    fams["all"] = [r.name for r in all_rows()]
    return fams


def select(spec, device="cpu"):
    """Rows named in a comma list of row names and/or families (None: all rows; under ``device="cuda"``
    the ``gpu`` family), in registry order. ``device="cuda"`` drops rows that cannot run on a GPU."""
    if device == "cuda":
        return [r for r in select(spec or "gpu") if r.on_cuda]
    rows = all_rows()
    if not spec:
        return rows
    fams, names, wanted = families(), {r.name for r in rows}, set()
    unknown = []
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        if item in names:
            wanted.add(item)
        elif item in fams:
            wanted.update(fams[item])
        else:
            unknown.append(item)
    if unknown:
        raise ValueError(f"unknown row or family: {', '.join(unknown)} (rows: {', '.join(r.name for r in rows)}; "
                         f"families: {', '.join(sorted(fams))})")
    return [r for r in rows if r.name in wanted]


_POW = re.compile(r"^\s*(\d+)\s*(?:\*\*|\^)\s*(\d+)\s*$")


def parse_size(text):
    """'1000', '1e5', '2**24', '2^20', '4k', '16M' -> int."""
    t = text.strip()
    m = _POW.match(t)
    if m:
        return int(m.group(1)) ** int(m.group(2))
    mult = {"k": 10**3, "K": 2**10, "m": 10**6, "M": 2**20}.get(t[-1:], 1)
    if mult != 1:
        t = t[:-1]
    try:
        v = float(t) * mult
    except ValueError:
        raise ValueError(f"bad size {text!r} (examples: 1000, 1e5, 2**24)") from None
    if v < 1 or v != int(v):
        raise ValueError(f"bad size {text!r}: must be a positive whole number of elements")
    return int(v)


def parse_sizes(text):
    return tuple(parse_size(s) for s in text.split(",") if s.strip()) if text else None


def sizes_for(row, override, quick, device="cpu"):
    if device == "cuda":
        if row.fixed:
            return row.cuda_quick_sizes if quick and row.cuda_quick_sizes else (row.sizes[0],)
        if override:
            return override
        return (row.cuda_quick_sizes or CUDA_QUICK_SIZES) if quick else (row.cuda_sizes or row.sizes)
    if row.fixed:
        return (row.sizes[0],)
    if override:
        return override
    return row.quick_sizes if quick else row.sizes


def grid(n):
    """(rows, cols) with cols a power of two near sqrt(n) and rows*cols <= n (at least 1x1)."""
    cols = max(1, 2 ** round(math.log2(max(1.0, math.sqrt(n)))))
    cols = min(cols, n)
    return max(1, n // cols), cols


def size_label(n):
    if n >= 1024 and n & (n - 1) == 0:
        return f"2**{n.bit_length() - 1}"
    for e in range(9, 2, -1):
        if n == 10**e:
            return f"1e{e}"
    return str(n)


def shape_label(*shape):
    return "x".join(str(s) for s in shape)


def data(rng, shape, dtype, kind="normal"):
    """Random inputs of ``dtype``: 'normal' (signed), 'positive' (for sqrt/log), 'uniform' in [0, 1)."""
    dt = np.dtype(dtype)
    if dt == np.bool_:
        return rng.random(shape) < 0.5
    if np.issubdtype(dt, np.integer):
        lo = 0 if kind == "positive" else -100
        return rng.integers(lo, 100, size=shape).astype(dt)
    if kind == "positive":
        x = rng.random(shape) + 0.5
    elif kind == "uniform":
        x = rng.random(shape)
    else:
        x = rng.standard_normal(shape)
    return x.astype(dt)
