"""OpenBLAS thread count per GEMM size. NumPy's OpenBLAS threads busy-wait after each call; on a small
machine they then steal the cores Numba's thread pool needs for the next kernel, and for small products the
threaded GEMM itself costs more than it saves. Small products therefore run single-threaded; large ones use
OpenBLAS's own default. A no-op where the library cannot be found (another BLAS, or NUMTORCH_BLAS_THREADS=keep)."""
import ctypes
import os
import re

SMALL_MACS = 1 << 22          # multiply-adds below which one thread is faster here (LeNet/LSTM/GPT-sized GEMMs)
_state = {"set": None, "default": None, "current": None}


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
    """Pick OpenBLAS's thread count for a product of ``macs`` multiply-adds (called before the GEMM)."""
    st = _state
    if st["set"] is None:
        found = _find()
        st["set"] = False if found is None else found[0]
        st["default"] = st["current"] = None if found is None else found[1]
    setter = st["set"]
    if not setter:
        return
    want = 1 if macs < SMALL_MACS else st["default"]
    if want != st["current"]:
        setter(want)
        st["current"] = want


def limit(n):
    """Cap OpenBLAS at ``n`` threads for every product (distributed ranks sharing one machine's cores)."""
    for_macs(0)
    if _state["set"]:
        _state["default"] = max(1, min(n, _state["default"]))
        _state["current"] = None
