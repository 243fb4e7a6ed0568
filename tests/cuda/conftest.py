"""CUDA tests: under Numba's simulator in CI (small sizes), on a real GPU with NUMTORCH_TEST_GPU=1."""
import os

import pytest

if os.environ.get("NUMTORCH_RECORD_KERNELS"):
    import importlib.util as _u
    _spec = _u.spec_from_file_location("ptx_check", os.path.join(os.path.dirname(__file__), "ptx_check.py"))
    _m = _u.module_from_spec(_spec)
    _spec.loader.exec_module(_m)
    _m.install(os.environ["NUMTORCH_RECORD_KERNELS"])


def _usable():
    try:
        from numba import cuda
        return bool(cuda.is_available())
    except Exception:  # noqa: BLE001
        return False


@pytest.fixture(autouse=True, scope="module")
def _fast_simulator():
    """The simulator's block manager busy-polls its threads at every syncthreads: handing the GIL
    over sooner makes shared-memory kernels ~5x faster there."""
    import sys
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(old)


@pytest.fixture(autouse=True)
def cuda_enabled(monkeypatch):
    """Lets numtorch see the simulator as a GPU for the duration of each test in this folder."""
    if not _usable():
        pytest.skip("numba.cuda is not usable here")
    monkeypatch.setenv("NUMTORCH_CUDASIM", "1")
    import numtorch.cuda
    numtorch.cuda._AVAILABLE.clear()
    yield
    numtorch.cuda._AVAILABLE.clear()
