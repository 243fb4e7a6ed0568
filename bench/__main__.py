"""``python -m bench``: see ``bench.cli``.

``--threads N`` is applied here, before NumPy, PyTorch or Numba are imported: it sets the OpenMP, BLAS
and Numba thread-count variables so every library runs on the same number of threads.
"""
import os
import sys


def _early_threads(argv):
    for i, a in enumerate(argv):
        val = a.split("=", 1)[1] if a.startswith("--threads=") else (
            argv[i + 1] if a == "--threads" and i + 1 < len(argv) else None)
        if val and val.isdigit() and int(val) > 0:
            for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
                os.environ[var] = val


_early_threads(sys.argv[1:])

from .cli import main  # noqa: E402 -- after the thread variables

if __name__ == "__main__":
    sys.exit(main())
