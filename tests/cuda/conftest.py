"""CUDA tests: under Numba's simulator in CI (small sizes), on a real GPU with NUMTORCH_TEST_GPU=1."""
import pytest


def _usable():
    try:
        from numba import cuda
        return bool(cuda.is_available())
    except Exception:  # noqa: BLE001
        return False


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
