import os
import sys

# CUDA tests run under Numba's simulator unless NUMTORCH_TEST_GPU=1 (a real GPU). The variable must be
# set before numba is imported. numtorch.cuda.is_available() stays False under the simulator unless a
# test opts in with NUMTORCH_CUDASIM=1 (the ``cuda`` fixtures in tests/cuda do), so CPU-only behaviour
# (the tutorials' "Torch not compiled with CUDA enabled") is still what the other tests see.
if os.environ.get("NUMTORCH_TEST_GPU") != "1":
    os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")

sys.path.insert(0, os.path.dirname(__file__))

import pytest  # noqa: E402


def _cuda_usable():
    try:
        from numba import cuda
        return bool(cuda.is_available())
    except Exception:  # noqa: BLE001
        return False


@pytest.fixture(params=["cpu", "cuda"])
def device(request, monkeypatch):
    """Runs a CPU test case on CUDA too: factories default to the device (``set_default_device``), so a
    test written for the CPU exercises the CUDA kernels unchanged (under the simulator in CI)."""
    import numtorch
    if request.param == "cuda":
        if request.node.get_closest_marker("cpu_only"):
            pytest.skip("a CPU-specific case (CPU kernels, NumPy memory sharing or CPU-only semantics)")
        if not _cuda_usable():
            pytest.skip("numba.cuda is not usable here")
        monkeypatch.setenv("NUMTORCH_CUDASIM", "1")
        numtorch.cuda._AVAILABLE.clear()
        old = sys.getswitchinterval()
        sys.setswitchinterval(1e-5)        # the simulator's threads poll at each syncthreads
    numtorch.set_default_device(request.param)
    yield numtorch.device(request.param)
    numtorch.set_default_device(None)
    if request.param == "cuda":
        sys.setswitchinterval(old)
        numtorch.cuda._AVAILABLE.clear()
