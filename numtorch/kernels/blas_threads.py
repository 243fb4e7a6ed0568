"""OpenBLAS threading. NumPy's OpenBLAS splits a GEMM statically over its threads, which busy-wait after
each call: on a small machine they steal the cores Numba's pool needs for the next kernel, and on a busy one
a product waits for a thread the scheduler does not run (a 512x128x512 GEMM took 16 ms instead of 0.9 ms
beside two other busy processes; a GPT training step 360 ms instead of 34 ms). OpenBLAS therefore runs
single-threaded, and ``gemm`` spreads a large product's rows over a small pool of Python threads (NumPy
releases the GIL) that take chunks dynamically: whichever thread runs does the work. A no-op where the
library cannot be found (another BLAS, or NUMTORCH_BLAS_THREADS=keep, which also keeps OpenBLAS's threads)."""
import ctypes
import itertools
import os
import re
import threading

import numpy as np

SMALL_MACS = 1 << 22          # multiply-adds below which one thread is faster here (LeNet/LSTM/GPT-sized GEMMs)
SPLIT_MACS = 1 << 23          # products from here on split their rows over the pool
_SINGLE = False               # TODO(lead): switch on once the conv/rnn GEMMs go through gemm()
_state = {"set": None, "default": None, "current": None, "keep": os.environ.get("NUMTORCH_BLAS_THREADS") == "keep"}


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
    want = 1 if macs < SMALL_MACS or _SINGLE else st["default"]
    if want != st["current"]:
        setter(want)
        st["current"] = want


def limit(n):
    """Cap OpenBLAS at ``n`` threads for every product (distributed ranks sharing one machine's cores)."""
    for_macs(0)
    if _state["set"]:
        _state["default"] = max(1, min(n, _state["default"]))
        _state["current"] = None


class _Pool:
    """Helper threads for ``gemm``, made per process (a forked DataLoader worker starts its own)."""

    def __init__(self, n):
        self.pid, self.n, self.lock, self.jobs, self.threads = os.getpid(), n, threading.Lock(), [], []
        self.ready = threading.Condition(self.lock)
        for _ in range(n):
            t = threading.Thread(target=self._work, daemon=True, name="numtorch-gemm")
            t.start()
            self.threads.append(t)

    def _work(self):
        while True:
            with self.ready:
                while not self.jobs:
                    self.ready.wait()
                job = self.jobs.pop()
            job.run()

    def submit(self, job, k):
        with self.ready:
            self.jobs.extend([job] * k)
            self.ready.notify(k)


class _Job:
    """Chunks of one product (rows of ``a``, or whole batch entries when ``batched``); every participant
    takes the next chunk until none is left."""

    def __init__(self, a, b, out, step, chunks, batched=False):
        self.a, self.b, self.out, self.step, self.chunks, self.batched = a, b, out, step, chunks, batched
        self.next, self.left, self.done, self.error = itertools.count(), chunks, threading.Event(), None
        self.lock = threading.Lock()

    def run(self):
        while True:
            i = next(self.next)
            if i >= self.chunks:
                return
            r = slice(i * self.step, (i + 1) * self.step)
            try:
                np.matmul(self.a[r], self.b[r] if self.batched else self.b, out=self.out[r])
            except BaseException as e:      # noqa: BLE001 - re-raised in the caller
                self.error = e
            with self.lock:
                self.left -= 1
                if not self.left:
                    self.done.set()


_pool = [None]


def _threads():
    import numba
    n = numba.get_num_threads()
    if _state["set"] is None:
        for_macs(0)
    cap = _state["default"] if _state["keep"] or _state["default"] else n
    return max(1, min(n, cap or n))


def gemm(a, b, out):
    """``np.matmul(a, b, out=out)`` with single-threaded OpenBLAS, a large product spread over the calling
    thread and ``numtorch.get_num_threads() - 1`` helpers: rows of a 2-D ``a`` against a 2-D ``b``, or the
    batch entries of 3-D ``a``/``b`` of one batch size. Anything else is one plain call."""
    if a.ndim == 2 and b.ndim == 2:
        m, k = a.shape
        macs, batched = m * k * b.shape[1], False
    elif a.ndim == 3 and b.ndim == 3 and a.shape[0] == b.shape[0] and out.shape[0] == a.shape[0]:
        m = a.shape[0]
        macs, batched = m * a.shape[1] * a.shape[2] * b.shape[2], True
    else:
        m, macs, batched = 0, 0, False
    for_macs(macs)
    n = _threads() if macs >= SPLIT_MACS and m >= 2 and _SINGLE and not _state["keep"] else 1
    if n <= 1:
        return np.matmul(a, b, out=out)
    pool = _pool[0]
    if pool is None or pool.pid != os.getpid() or pool.n != n - 1:
        pool = _pool[0] = _Pool(n - 1)
    step = -(-m // (4 * n))
    job = _Job(a, b, out, step, -(-m // step), batched)
    job.left = job.chunks
    pool.submit(job, n - 1)
    job.run()
    job.done.wait()
    if job.error is not None:
        raise job.error
    return out
