"""The GPU's device-to-device copy bandwidth: the reference for ``--device cuda``'s %BW column.

A grid-stride Numba CUDA copy kernel and the driver's device-to-device memcpy (``copy_to_device`` between
two device arrays) each copy ``n`` float32 (default 2**26 = 256 MiB, far beyond any L2); bytes count as
STREAM does (read + write, no write-allocate). numtorch's ``clone`` is timed the same way for comparison;
it is not part of the reference, which is the better of kernel and memcpy. Imported only under
``--device cuda`` (it imports ``numba.cuda``).
"""
import time

import numpy as np
from numba import cuda
from numba.core import config

THREADS = 256
BLOCKS_PER_SM = 32


@cuda.jit(cache=True)
def copy_kernel(src, dst):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    n = src.shape[0]
    while i < n:
        dst[i] = src[i]
        i += step


def _attr(dev, name, default):
    try:
        return int(getattr(dev, name))
    except Exception:  # noqa: BLE001 -- only sizes the grid / the %BW threshold
        return default


def _device():
    """(name, SM count, L2 bytes) of the current GPU; stand-ins under the simulator (no device object)."""
    if config.ENABLE_CUDASIM:
        return "Numba CUDA simulator", 1, 0
    dev = cuda.get_current_device()
    name = dev.name.decode() if isinstance(dev.name, bytes) else str(dev.name)
    return name, _attr(dev, "MULTIPROCESSOR_COUNT", 80), _attr(dev, "L2_CACHE_SIZE", 64 * 2**20)


def l2_bytes():
    """The GPU's L2 size in bytes (0 when unknown: the simulator)."""
    return _device()[2]


def _grid(n, sms):
    if config.ENABLE_CUDASIM:
        return 1, 32          # every simulated thread is a Python thread
    return max(1, min(sms * BLOCKS_PER_SM, -(-n // THREADS))), THREADS


def _time(fn, sync, repeat, inner):
    """(best, median) seconds per call: ``inner`` back-to-back calls then one synchronize, per sample."""
    fn()
    sync()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        sync()
        ts.append((time.perf_counter() - t0) / inner)
    return min(ts), float(np.median(ts))


def measure(n=1 << 26, repeat=10, inner=20, numtorch=None):
    """dict of GB/s (best and median) for the copy kernel, D2D memcpy and (given the module) numtorch clone."""
    name, sms, l2 = _device()
    host = (np.arange(n) % 1021).astype(np.float32)
    src = cuda.to_device(host)
    dst = cuda.device_array(n, np.float32)
    blocks, threads = _grid(n, sms)
    nbytes = 2 * host.nbytes
    t0 = time.perf_counter()
    copy_kernel[blocks, threads](src, dst)
    cuda.synchronize()
    res = {"n": n, "array_mb": host.nbytes / 2**20, "device": name, "sms": sms, "l2_bytes": l2,
           "launch": [blocks, threads], "first_call_s": time.perf_counter() - t0}
    runs = [("kernel_copy", lambda: copy_kernel[blocks, threads](src, dst)),
            ("memcpy", lambda: dst.copy_to_device(src))]
    for key, fn in runs:
        best, med = _time(fn, cuda.synchronize, repeat, inner)
        res[key] = {"best_gbs": nbytes / best / 1e9, "median_gbs": nbytes / med / 1e9}
        step = max(1, n // 4099)
        if not np.array_equal(dst.copy_to_host()[::step], host[::step]):
            raise RuntimeError(f"device copy ({key}) produced wrong values")
        dst = cuda.device_array(n, np.float32)      # the next method writes fresh memory
    res["reference_gbs"] = max(res["kernel_copy"]["best_gbs"], res["memcpy"]["best_gbs"])
    if numtorch is not None:
        try:
            t = numtorch.from_numpy(host).to("cuda")
            best, med = _time(t.clone, numtorch.cuda.synchronize, repeat, inner)
            res["numtorch_clone"] = {"best_gbs": nbytes / best / 1e9, "median_gbs": nbytes / med / 1e9}
        except Exception as exc:  # noqa: BLE001 -- informational only
            res["numtorch_clone"] = {"error": f"{type(exc).__name__}: {exc}"[:80]}
    return res


def summary(bw):
    nt = bw.get("numtorch_clone")
    if nt is None:
        clone = ""
    elif "error" in nt:
        clone = f", numtorch clone failed ({nt['error']})"
    else:
        clone = f", numtorch clone {_g(nt['best_gbs'])} GB/s"
    return (f"device bandwidth ({bw['device']}, device-to-device copy of float32 x {bw['n']:,} = "
            f"{bw['array_mb']:.3g} MiB): copy kernel {_g(bw['kernel_copy']['best_gbs'])} GB/s, "
            f"memcpy {_g(bw['memcpy']['best_gbs'])} GB/s (best of runs; medians "
            f"{_g(bw['kernel_copy']['median_gbs'])}/{_g(bw['memcpy']['median_gbs'])}){clone}; "
            f"reference {_g(bw['reference_gbs'])} GB/s")


def _g(gbs):
    return f"{gbs:.1f}" if gbs >= 10 else f"{gbs:.3g}"
