"""Timing, missing-op detection and result checks shared by every row.

``measure`` follows ``timeit``'s method: one first call (which, for numtorch, includes compiling or
loading the kernels), ``warmup`` untimed calls, then ``repeat`` timed samples with the garbage collector
off. Small calls are looped ``number`` times per sample (calibrated by timing whole loops until one lasts
about ``target`` seconds) and reported per call, so microsecond rows are not dominated by timer resolution.
With ``sync`` (a GPU's synchronize), every timed stretch ends with one ``sync()`` call, so a sample covers
the device work its calls queued, and the per-call figure carries one synchronize per batch, not per call.
"""
import gc
import re
import statistics
import time
from dataclasses import dataclass, field

import numpy as np


class Missing(Exception):
    """A numtorch (or other library) operation a row needs does not exist (yet)."""

    def __init__(self, name):
        super().__init__(name)
        self.name = name


@dataclass
class Timing:
    first: float                 # seconds, first call (compile/cache load included)
    median: float                # seconds per call
    lo: float
    hi: float
    number: int                  # calls per sample
    samples: list = field(default_factory=list)


@dataclass
class Outcome:
    """One library's result for one (row, size): a Timing, or why there is none."""
    timing: Timing = None
    status: str = "ok"           # ok | missing | error | skipped
    detail: str = ""
    output: object = None        # first call's result as NumPy arrays (for the check)

    def label(self):
        if self.status == "missing":
            return f"n/a (missing: {self.detail})"
        if self.status == "error":
            return f"error: {self.detail}"
        if self.status == "skipped":
            return "-"
        return ""


def measure(fn, repeat=5, warmup=1, target=0.005, max_number=100_000, on_first=None, sync=None):
    """Time ``fn()``; ``on_first(result)`` sees the first call's return value; ``sync()`` (optional)
    waits for queued device work at the end of each timed stretch."""
    gc.collect()
    t0 = time.perf_counter()
    out = fn()
    if sync is not None:
        sync()
    first = time.perf_counter() - t0
    if on_first is not None:
        on_first(out)
    del out
    last = first
    for _ in range(max(warmup, 1)):
        t0 = time.perf_counter()
        fn()
        if sync is not None:
            sync()
        last = time.perf_counter() - t0
    number = 1
    while last < target and number < max_number:
        # timeit.autorange-style: time whole loops, so a fast warm-up call cannot inflate the count
        number = int(min(max_number, max(number * 2, number * target / max(last, 1e-9) * 1.1)))
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        if sync is not None:
            sync()
        last = time.perf_counter() - t0
    samples = []
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(max(repeat, 1)):
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            if sync is not None:
                sync()
            samples.append((time.perf_counter() - t0) / number)
    finally:
        if enabled:
            gc.enable()
    return Timing(first, statistics.median(samples), min(samples), max(samples), number, samples)


_ATTR = re.compile(r"has no attribute '([^']+)'")


def classify(exc):
    """(status, detail) for an exception raised by a library call."""
    if isinstance(exc, Missing):
        return "missing", exc.name
    if isinstance(exc, AttributeError):
        m = _ATTR.search(str(exc))
        return "missing", m.group(1) if m else str(exc)[:60]
    if isinstance(exc, NotImplementedError):
        return "missing", (str(exc) or type(exc).__name__)[:60]
    msg = str(exc).splitlines()[0] if str(exc) else ""
    return "error", f"{type(exc).__name__}: {msg}"[:80]


def require(mod, *names):
    """Raise ``Missing`` unless every name exists: ``'gather'`` on the module, ``'Tensor.gather'`` on its
    Tensor class. numtorch resolves optional modules lazily, so an import error there counts as missing."""
    for name in names:
        obj, attr = (getattr(mod, "Tensor"), name[7:]) if name.startswith("Tensor.") else (mod, name)
        try:
            ok = hasattr(obj, attr)
        except Exception:  # noqa: BLE001 -- a half-landed optional module fails to import
            ok = False
        if not ok:
            raise Missing(name)


def to_numpy(x):
    """Copy a result (tensor, array, scalar, or tuple of them) into NumPy arrays."""
    if isinstance(x, (tuple, list)):
        return tuple(to_numpy(v) for v in x)
    if isinstance(x, np.ndarray):
        return x.copy()
    if isinstance(x, (int, float, bool, np.generic)):
        return np.asarray(x)
    if hasattr(x, "detach"):
        x = x.detach()
    if getattr(getattr(x, "device", None), "type", "cpu") != "cpu":
        x = x.cpu()                # a CUDA tensor (numtorch or PyTorch): checks compare host copies
    if hasattr(x, "numpy"):
        return np.array(x.numpy(), copy=True)
    return np.asarray(x)


def close(got, want, rtol, atol):
    """(ok, message) comparing two results elementwise (tuples compared entry by entry)."""
    if isinstance(want, tuple):
        if not isinstance(got, tuple) or len(got) != len(want):
            return False, "different number of outputs"
        for i, (g, w) in enumerate(zip(got, want)):
            ok, msg = close(g, w, rtol, atol)
            if not ok:
                return False, f"output {i}: {msg}"
        return True, ""
    got, want = np.asarray(got), np.asarray(want)
    if got.dtype != want.dtype and got.dtype.kind == "f" and want.dtype.kind == "f":
        # NumPy and PyTorch promote differently (exp of int64: float64 vs float32; of bool: float16 vs
        # float32): compare in the narrower dtype, where both results were rounded (or overflowed)
        narrow = min(got.dtype, want.dtype, key=lambda d: d.itemsize)
        got, want = got.astype(narrow), want.astype(narrow)
        if narrow == np.float16:
            rtol, atol = max(rtol, 1e-3), max(atol, 1e-3)
    if got.shape != want.shape:
        return False, f"shape {got.shape} != {want.shape}"
    if got.size == 0:
        return True, ""
    if want.dtype == np.bool_ or np.issubdtype(want.dtype, np.integer):
        bad = np.count_nonzero(got != want)
    else:
        bad = np.count_nonzero(~np.isclose(got.astype(np.float64), want.astype(np.float64), rtol=rtol,
                                           atol=atol, equal_nan=True))
    if bad:
        return False, f"{bad} of {want.size} elements differ"
    return True, ""
