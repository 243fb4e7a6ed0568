"""Child process of ``bench.startup``: ``python -m bench._probe FAMILY`` prints one JSON line.

It times ``import numtorch``, the first call of one kernel family's representative op on tutorial-scale
inputs (kernels compiled, or loaded from ``NUMBA_CACHE_DIR``), and the steady-state call, and reports how
many kernel specializations were compiled and how many were loaded from the on-disk cache.
"""
import json
import statistics
import sys
import time

_t0 = time.perf_counter()
import numtorch as nt  # noqa: E402 -- timing the import is the point
IMPORT_S = time.perf_counter() - _t0

import numpy as np  # noqa: E402

R, C = 64, 64


def _inputs():
    rng = np.random.default_rng(0)
    a = nt.from_numpy(rng.standard_normal((R, C)).astype(np.float32))
    b = nt.from_numpy(rng.standard_normal((R, C)).astype(np.float32))
    row = nt.from_numpy(rng.standard_normal(C).astype(np.float32))
    idx = nt.from_numpy(rng.integers(0, C, (R, C)))
    rows = nt.from_numpy(rng.integers(0, R, R // 2))
    return a, b, row, idx, rows


def _tiny_step():
    x = nt.ones(2, 2, requires_grad=True)
    out = ((x + 2) * (x + 2) * 3).mean()
    out.backward()
    return x.grad


# family -> (label, needs, fn(a, b, row, idx, rows))
FAMILIES = {
    "binary": ("a + b, a * b", (), lambda a, b, r, i, s: (a + b, a * b)),
    "unary": ("exp, sqrt, relu", (), lambda a, b, r, i, s: (a.exp(), a.abs().sqrt(), a.relu())),
    "scalar": ("(x+2)*(x+2)*3", (), lambda a, b, r, i, s: (a + 2) * (a + 2) * 3),
    "broadcast": ("a + row, a.T + b", (), lambda a, b, r, i, s: (a + r, a.T + b)),
    "reduction": ("sum(), sum(0), sum(1), mean()", (),
                  lambda a, b, r, i, s: (a.sum(), a.sum(0), a.sum(1), a.mean())),
    "argmax": ("argmax(-1)", (), lambda a, b, r, i, s: a.argmax(-1)),
    "scan": ("cumsum(-1)", (), lambda a, b, r, i, s: a.cumsum(-1)),
    "sort": ("sort(-1)", (), lambda a, b, r, i, s: a.sort(dim=-1)),
    "topk": ("topk(10, -1)", (), lambda a, b, r, i, s: a.topk(10, dim=-1)),
    "matmul": ("a @ b", ("matmul",), lambda a, b, r, i, s: a @ b),
    "index": ("gather, index_select, x[mask]", ("Tensor.gather", "Tensor.index_select"),
              lambda a, b, r, i, s: (a.gather(1, i), a.index_select(0, s), a[a > 0])),
    "copy": ("a.T.contiguous(), a.to(float64)", (), lambda a, b, r, i, s: (a.T.contiguous(), a.to(nt.float64))),
    "cat": ("cat([a, b, a, b])", ("cat",), lambda a, b, r, i, s: nt.cat([a, b, a, b])),
    "autograd": ("tiny step: ones(2,2,rg) ... mean().backward()", (), lambda a, b, r, i, s: _tiny_step()),
}


def _counts():
    try:
        from numtorch.kernels import cache_info
        info = cache_info()
        hits, misses = info["cache_hits"], info["cache_misses"]
    except Exception:  # noqa: BLE001
        return None, None
    return hits, misses


def main(argv):
    fam = argv[0]
    steady_n = int(argv[1]) if len(argv) > 1 else 50
    label, needs, fn = FAMILIES[fam]
    out = {"family": fam, "op": label, "import_s": IMPORT_S}
    try:
        from bench.harness import require
        require(nt, *needs)
        args = _inputs()
        t0 = time.perf_counter()
        fn(*args)
        out["first_s"] = time.perf_counter() - t0
        ts = []
        for _ in range(steady_n):
            t0 = time.perf_counter()
            fn(*args)
            ts.append(time.perf_counter() - t0)
        out["steady_s"] = statistics.median(ts)
        out["loaded"], out["compiled"] = _counts()
    except Exception as exc:  # noqa: BLE001
        from bench.harness import classify
        out["status"], out["detail"] = classify(exc)
    print("PROBE " + json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
