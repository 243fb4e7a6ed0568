"""Introspection over every compiled kernel: compiled specializations and on-disk cache hits/misses."""
import importlib

from numba.core.registry import CPUDispatcher

_MODULES = ("ew_generated", "elementwise", "vmath", "reduction", "argreduce", "scan", "radix", "sort", "copy",
            "index", "index_extra", "masked", "matmul", "softmax", "loss", "norm", "dropout", "embedding",
            "nnlinear", "conv", "pooling", "batchnorm", "resample", "rnn", "attention", "optim")


def dispatchers():
    for name in _MODULES:
        try:
            mod = importlib.import_module(f"numtorch.kernels.{name}")
        except ImportError:
            continue
        for attr, obj in vars(mod).items():
            # each kernel once, under the module defining it (index.py re-exports copy.py's kernels)
            if isinstance(obj, CPUDispatcher) and obj.py_func.__module__ == mod.__name__:
                yield f"{name}.{attr}", obj
    # Elementwise kernels are jitted on first use from ew_generated's plain functions.
    ew = importlib.import_module("numtorch.kernels.elementwise")
    for fname, k in list(ew._JITTED.items()):
        for tag, d in (("", k.s), ("[parallel]", k._p)):
            if d is not None:
                yield f"elementwise.{fname}{tag}", d


def cache_info():
    """dict: kernels seen, specializations compiled in this process, loaded from cache, hits, misses."""
    info = {"kernels": 0, "specializations": 0, "cache_hits": 0, "cache_misses": 0, "per_kernel": {}}
    for qual, d in dispatchers():
        info["kernels"] += 1
        nsig = len(d.signatures)
        if not nsig:
            continue
        hits = sum(d.stats.cache_hits.values())
        misses = sum(d.stats.cache_misses.values())
        info["specializations"] += nsig
        info["cache_hits"] += hits
        info["cache_misses"] += misses
        info["per_kernel"][qual] = {"signatures": [str(s) for s in d.signatures], "hits": hits,
                                    "misses": misses}
    info["loaded_from_cache"] = info["cache_hits"]
    info["compiled"] = info["cache_misses"]
    return info
