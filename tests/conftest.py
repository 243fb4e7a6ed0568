import os
import sys

# CUDA tests run under Numba's simulator unless NUMTORCH_TEST_GPU=1 (a real GPU). The variable must be
# set before numba is imported. numtorch.cuda.is_available() stays False under the simulator unless a
# test opts in with NUMTORCH_CUDASIM=1 (the ``cuda`` fixtures in tests/cuda do), so CPU-only behaviour
# (the tutorials' "Torch not compiled with CUDA enabled") is still what the other tests see.
if os.environ.get("NUMTORCH_TEST_GPU") != "1":
    os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")

sys.path.insert(0, os.path.dirname(__file__))
