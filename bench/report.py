"""The results table, machine description, cache summary and JSON output."""
import json
import os
import platform
import sys
import time

from .runner import throughput

HEADER = ("row", "size", "numtorch", "NumPy", "PyTorch", "nt/pt", "nt/np", "nt thrpt", "%BW", "check")


def _cell(res, lib):
    d = res["libs"][lib]
    if d["status"] != "ok":
        return d["label"]
    med, lo, hi = d["median_s"], d["min_s"], d["max_s"]
    if med < 1e-3:
        return f"{med * 1e6:.3g} us ({lo * 1e6:.3g}-{hi * 1e6:.3g})"
    if med < 1:
        return f"{med * 1e3:.3g} ms ({lo * 1e3:.3g}-{hi * 1e3:.3g})"
    return f"{med:.3g} s ({lo:.3g}-{hi:.3g})"


def _ratio(res, a, b):
    ta, tb = res["libs"][a].get("median_s"), res["libs"][b].get("median_s")
    return f"{ta / tb:.2f}" if ta and tb else "-"


def llc_bytes():
    """Last-level cache size in bytes (Linux sysfs), or 32 MiB when unknown."""
    best = 0
    base = "/sys/devices/system/cpu/cpu0/cache"
    try:
        for idx in os.listdir(base):
            try:
                with open(os.path.join(base, idx, "size")) as f:
                    txt = f.read().strip()
            except OSError:
                continue
            mult = {"K": 2**10, "M": 2**20, "G": 2**30}.get(txt[-1:], 1)
            best = max(best, int(txt.rstrip("KMG")) * mult)
    except OSError:
        pass
    return best or 32 * 2**20


def bw_fraction(res, lib, bw_gbs, min_bytes=None):
    """Fraction of the measured DRAM bandwidth, only where the row's traffic cannot stay in cache
    (at least ``min_bytes``; default twice the CPU's last-level cache, a GPU's L2 under --device cuda)."""
    tp = throughput(res, lib)
    limit = 2 * llc_bytes() if min_bytes is None else min_bytes
    if tp is None or tp[1] != "GB/s" or not bw_gbs or (res.get("bytes") or 0) < limit:
        return None
    return tp[0] / bw_gbs


def table_rows(results, bw_gbs=None, min_bytes=None):
    rows = []
    for r in results:
        tp = throughput(r, "numtorch")
        tps = "-" if tp is None else f"{tp[0]:.3g} {tp[1]}"
        f = bw_fraction(r, "numtorch", bw_gbs, min_bytes)
        frac = "-" if f is None else f"{100 * f:.0f}%"
        rows.append((r["row"], r["shape"], _cell(r, "numtorch"), _cell(r, "numpy"), _cell(r, "torch"),
                     _ratio(r, "numtorch", "torch"), _ratio(r, "numtorch", "numpy"), tps, frac, r["check"]))
    return rows


def format_table(results, bw_gbs=None, min_bytes=None):
    """Fixed-width text table (also valid inside a Markdown code block)."""
    body = table_rows(results, bw_gbs, min_bytes)
    widths = [max(len(str(x)) for x in col) for col in zip(HEADER, *body)] if body else [len(h) for h in HEADER]
    right = {5, 6, 7, 8}

    def line(cells):
        return "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    out = [line(HEADER), line(["-" * w for w in widths])]
    out += [line(r) for r in body]
    return "\n".join(out)


def legend(dtype, repeat, bw_gbs):
    bw = f"measured {bw_gbs:.1f} GB/s" if bw_gbs else "bandwidth (not measured in this run)"
    return (f"times: median (min-max) per call over {repeat} timed runs after warm-up, dtype {dtype}; "
            f"nt/pt, nt/np: numtorch time / PyTorch, NumPy time (<1 = numtorch faster); nt thrpt: numtorch "
            f"GB/s (bytes read+written, streaming rows), GFLOP/s or Melem/s; %BW: of the {bw}, shown "
            f"when the traffic exceeds twice the {llc_bytes() / 2**20:.0f} MiB last-level cache; check: numtorch "
            f"vs NumPy result")


def cuda_legend(dtype, repeat, bw_gbs, min_bytes):
    bw = f"device copy bandwidth measured {bw_gbs:.3g} GB/s" if bw_gbs else "device copy bandwidth (not measured)"
    when = (f"shown when the traffic is at least {min_bytes / 2**20:.0f} MiB (twice the GPU's L2)" if min_bytes else
            "shown for every streaming row (the GPU's L2 size is unknown: simulator)")
    return (f"times: median (min-max) per call over {repeat} timed runs after warm-up, dtype {dtype}; numtorch and "
            f"PyTorch on the GPU, each timed batch of calls ends with that library's cuda.synchronize(); NumPy on "
            f"the host (CPU reference); nt/pt, nt/np: numtorch time / PyTorch, NumPy time (<1 = numtorch faster); "
            f"nt thrpt: numtorch GB/s (bytes read+written), GFLOP/s or Melem/s; %BW: of the {bw}, {when}; check: "
            f"numtorch's .cpu() result vs NumPy")


def cuda_header(mods, torch_note):
    """Lines naming the GPU, what each column runs on, and why a column is empty."""
    nt = mods["numtorch"]
    lines = [f"device cuda: numtorch on {nt.cuda.get_device_name()}"]
    torch = mods.get("torch")
    if torch is not None:
        lines[0] += f"; PyTorch {torch.__version__} on {torch.cuda.get_device_name()}"
    else:
        lines.append(f"PyTorch column empty: {torch_note}")
    lines.append("NumPy column: the host (CPU) reference, timed on the CPU (nt/np compares numtorch's GPU time "
                 "with NumPy's CPU time); result checks compare numtorch's .cpu() copy with NumPy's")
    return "\n".join(lines)


def mismatches(results):
    return [r for r in results if r["check"] == "MISMATCH"]


def machine_info():
    info = {"python": platform.python_version(), "platform": platform.platform(), "cpu_count": os.cpu_count()}
    try:
        info["cpus_usable"] = len(os.sched_getaffinity(0))
    except AttributeError:
        pass
    try:
        with open("/proc/cpuinfo") as f:
            for ln in f:
                if ln.startswith("model name"):
                    info["cpu"] = ln.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            for ln in f:
                if ln.startswith("MemTotal"):
                    info["mem_gib"] = round(int(ln.split()[1]) / 2**20, 1)
                    break
    except OSError:
        pass
    if hasattr(os, "getloadavg"):
        info["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    for name in ("numpy", "numba", "torch", "numtorch"):
        mod = sys.modules.get(name)
        if mod is not None:
            info[name] = getattr(mod, "__version__", "?")
    try:
        import numba
        info["numba_threads"] = numba.get_num_threads()
        info["threading_layer"] = numba.threading_layer()
    except (ImportError, ValueError):
        pass
    info["date"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    return info


def busy_warning(info):
    load = (info.get("loadavg") or [0])[0]
    cores = info.get("cpus_usable") or info.get("cpu_count") or 1
    if load > 0.75 * cores:
        return (f"WARNING: this machine is busy (1-minute load {load:.1f} on {cores} cores): other processes "
                f"share the CPUs, so timings (multi-threaded PyTorch ones most) are unreliable")
    return None


def machine_line(info):
    parts = [info.get("cpu", "cpu ?"), f"{info.get('cpus_usable', info.get('cpu_count'))} cores",
             f"{info.get('mem_gib', '?')} GiB", f"Python {info['python']}"]
    parts += [f"{k} {info[k]}" for k in ("numpy", "numba", "torch", "numtorch") if k in info]
    if "threading_layer" in info:
        parts.append(f"numba layer {info['threading_layer']} x{info.get('numba_threads')}")
    if "loadavg" in info:
        parts.append("load " + "/".join(str(x) for x in info["loadavg"]))
    return "machine: " + ", ".join(parts)


def cache_summary():
    """numtorch.kernels.cache_info() in one paragraph."""
    try:
        from numtorch.kernels import cache_info
        info = cache_info()
    except Exception as exc:  # noqa: BLE001
        return f"numtorch.kernels.cache_info() unavailable: {type(exc).__name__}: {exc}", None
    text = (f"numtorch.kernels.cache_info(): {info['kernels']} kernels, {info['specializations']} specializations "
            f"in use, {info['cache_hits']} loaded from the on-disk cache, {info['cache_misses']} compiled")
    return text, info


def write_json(path, payload):
    with open(path, "w") as f:
        json.dump(payload, f, indent=1, default=str)
