"""This machine's memory bandwidth, measured STREAM-style by kernels that do not use numtorch.

``copy`` (c = a) and ``triad`` (a = b + s*c) run as ``parallel=True`` Numba kernels on all threads over
arrays far larger than the last-level cache; bytes are counted as STREAM does (copy 2 arrays, triad 3,
no write-allocate traffic). NumPy's single-threaded ``np.copyto`` is measured for comparison. The
reference bandwidth for the ``%BW`` column is the best of copy and triad (the roofline of the plot).

Import numtorch (``numtorch.kernels.parallel_ok()``) before the first call here, so Numba's threading
layer is the one numtorch selected.
"""
import time

import numpy as np
from numba import njit, prange

BLOCK = 1 << 14


@njit(cache=True, error_model="numpy", parallel=True)
def stream_copy(a, c):
    n = a.shape[0]
    nb = (n + BLOCK - 1) // BLOCK
    for bi in prange(nb):
        s = np.int64(bi) * BLOCK
        e = min(s + BLOCK, n)
        src = a[s:e]
        dst = c[s:e]
        for j in range(e - s):
            dst[j] = src[j]


@njit(cache=True, error_model="numpy", parallel=True)
def stream_triad(a, b, c, scalar):
    n = a.shape[0]
    nb = (n + BLOCK - 1) // BLOCK
    s_ = a.dtype.type(scalar)
    for bi in prange(nb):
        s = np.int64(bi) * BLOCK
        e = min(s + BLOCK, n)
        x = b[s:e]
        y = c[s:e]
        out = a[s:e]
        for j in range(e - s):
            out[j] = x[j] + s_ * y[j]


def _best(fn, repeat):
    fn()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts), float(np.median(ts))


def measure(n=1 << 24, repeat=10):
    """dict of GB/s (best and median) for STREAM copy, triad and NumPy copy over float64 arrays of ``n``."""
    import numba
    a = np.full(n, 1.0)
    b = np.full(n, 2.0)
    c = np.full(n, 0.5)
    t0 = time.perf_counter()
    stream_copy(a[:BLOCK], c[:BLOCK])
    stream_triad(a[:BLOCK], b[:BLOCK], c[:BLOCK], 3.0)
    jit_s = time.perf_counter() - t0
    res = {"n": n, "array_mb": a.nbytes / 2**20, "threads": numba.get_num_threads(), "first_call_s": jit_s}
    for name, fn, nbytes in (
            ("copy", lambda: stream_copy(a, c), 2 * a.nbytes),
            ("triad", lambda: stream_triad(a, b, c, 3.0), 3 * a.nbytes),
            ("numpy_copy", lambda: np.copyto(c, a), 2 * a.nbytes)):
        best, med = _best(fn, repeat)
        res[name] = {"best_gbs": nbytes / best / 1e9, "median_gbs": nbytes / med / 1e9}
        if name == "triad" and not np.allclose(a[::4099], b[::4099] + 3.0 * c[::4099]):
            raise RuntimeError("STREAM triad produced wrong values")
    res["reference_gbs"] = max(res["copy"]["best_gbs"], res["triad"]["best_gbs"])
    return res


def summary(bw):
    return (f"bandwidth (STREAM, float64 x {bw['n']:,} = {bw['array_mb']:.0f} MiB/array, {bw['threads']} threads): "
            f"copy {bw['copy']['best_gbs']:.1f} GB/s, triad {bw['triad']['best_gbs']:.1f} GB/s, "
            f"NumPy copy {bw['numpy_copy']['best_gbs']:.1f} GB/s (best of runs; medians "
            f"{bw['copy']['median_gbs']:.1f}/{bw['triad']['median_gbs']:.1f}/{bw['numpy_copy']['median_gbs']:.1f}); "
            f"reference {bw['reference_gbs']:.1f} GB/s")
