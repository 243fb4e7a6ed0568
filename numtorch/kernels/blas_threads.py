"""OpenBLAS thread count per GEMM. NumPy's OpenBLAS splits a product statically over its threads, which
busy-wait after each call. Small products run single-threaded: there the threaded GEMM costs more than it
saves, and its spinning threads steal the cores Numba's pool needs for the next kernel. Large products use
OpenBLAS's default, except on a busy machine: a static split then waits for a thread the scheduler does not
run (a 512x128x512 GEMM took 16 ms instead of 0.9 ms single-threaded beside two busy processes, a GPT
training step 360 ms instead of 34 ms). ``observe`` compares each large threaded product's time with the
best single-threaded rate seen (the first large product runs single-threaded to measure it); when threads
made one ``SLOWER`` times slower than that rate predicts, large products run single-threaded for the next
``BACKOFF_S`` seconds, then threads are tried again. A no-op where the library cannot be found
(another BLAS, or NUMTORCH_BLAS_THREADS=keep)."""
import ctypes
import os
import re
import time

SMALL_MACS = 1 << 22          # multiply-adds below which one thread is faster here (LeNet/LSTM/GPT-sized GEMMs)
BACKOFF_S = 2.0               # seconds of single-threaded large products after threads were seen to lose
SLOWER = 8.0                  # ... that is, a threaded product this many times slower than one thread predicts
_state = {"set": None, "default": None, "current": None, "rate1": 0.0, "until": 0.0}


def _find():
    if os.environ.get("NUMTORCH_BLAS_THREADS") == "keep":
        return None
    try:
        with open("/proc/self/maps") as f:
            paths = set(re.findall(r"(/\S*openblas\S*\.so\S*)", f.read()))
    except OSError:
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for setter, getter in (("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
                               ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
                               ("openblas_set_num_threads", "openblas_get_num_threads")):
            if hasattr(lib, setter) and hasattr(lib, getter):
                s, g = getattr(lib, setter), getattr(lib, getter)
                s.argtypes, s.restype, g.restype = [ctypes.c_int], None, ctypes.c_int
                return s, int(g())
    return None


def for_macs(macs):
    """Pick OpenBLAS's thread count for a product of ``macs`` multiply-adds (called before the GEMM);
    returns the count picked (None where OpenBLAS is not managed)."""
    st = _state
    if st["set"] is None:
        found = _find()
        st["set"] = False if found is None else found[0]
        st["default"] = st["current"] = None if found is None else found[1]
    setter = st["set"]
    if not setter:
        return None
    # The first large product runs single-threaded too: it calibrates the single-thread rate.
    want = 1 if macs < SMALL_MACS or not st["rate1"] or time.monotonic() < st["until"] else st["default"]
    if want != st["current"]:
        setter(want)
        st["current"] = want
    return want


def observe(macs, seconds, threads):
    """Feed back one product's time. Single-threaded products of at least 1M multiply-adds set the best
    single-thread rate; a threaded one slower than that rate predicts starts the back-off."""
    st = _state
    if threads is None or macs < (1 << 20) or seconds <= 0.0:
        return
    if threads == 1:
        rate = macs / seconds
        if rate > st["rate1"]:
            st["rate1"] = rate
    elif st["rate1"] and seconds > SLOWER * macs / st["rate1"]:
        st["until"] = time.monotonic() + BACKOFF_S


def limit(n):
    """Cap OpenBLAS at ``n`` threads for every product (distributed ranks sharing one machine's cores)."""
    for_macs(0)
    if _state["set"]:
        _state["default"] = max(1, min(n, _state["default"]))
        _state["current"] = None
