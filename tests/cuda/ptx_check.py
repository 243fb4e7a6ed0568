"""Compile every CUDA kernel the tests launch for a real GPU, without one.

The simulator runs kernels as Python, so code that passes it can still fail to compile for a GPU.
This closes that gap where NVVM is at hand (``pip install "numba-cuda[cu12]"``) but no GPU is:

1. record: ``NUMTORCH_RECORD_KERNELS=/tmp/k.json python -m pytest -q tests/cuda`` runs the CUDA
   tests under the simulator and writes every launched kernel with its argument types;
2. compile: ``python tests/cuda/ptx_check.py /tmp/k.json`` (simulator off, numba-cuda installed)
   compiles each (kernel, signature) to PTX for sm_90 and lists the failures.
"""
import atexit
import json
import os
import sys

_SEEN = {}


def install(path):
    """Record (module, function name, argument types) of every simulated kernel launch into ``path``."""
    import numba
    from numba.cuda.simulator import kernel as _k

    call = _k.FakeCUDAKernel.__call__

    def typ(a):
        if hasattr(a, "_ary"):
            return repr(numba.typeof(a._ary))
        return repr(numba.typeof(a))

    def recording(self, *args):
        if not self._device:
            fn = self.fn
            try:
                key = (fn.__module__, fn.__name__, tuple(typ(a) for a in args))
                _SEEN[key] = 1
            except Exception:  # noqa: BLE001 - recording never breaks a test
                pass
        return call(self, *args)

    _k.FakeCUDAKernel.__call__ = recording

    def dump():
        with open(path, "w") as f:
            json.dump([list(k[:2]) + [list(k[2])] for k in _SEEN], f)
    atexit.register(dump)


def compile_all(path, cc=(9, 0)):
    import importlib
    import types as _pytypes

    import numba.cuda.dispatcher as _d
    from numba import cuda
    from numba.core import types as nbt
    # Device functions ask the current device for its compute capability; there is none here.
    _d.get_current_device = lambda: _pytypes.SimpleNamespace(compute_capability=cc)
    ns = {k: getattr(nbt, k) for k in dir(nbt)}
    ns.update(Array=nbt.Array, int64=nbt.int64, float64=nbt.float64, bool=nbt.boolean)
    entries = [e for e in json.load(open(path)) if e[0].startswith("numtorch.")]   # not the tests' own
    fails = 0
    for mod, name, argtypes in entries:
        fn = getattr(importlib.import_module(mod), name)
        fn = getattr(fn, "py_func", fn)
        sig = tuple(eval(t, ns) for t in argtypes)      # noqa: S307 - our own recorded reprs
        try:
            cuda.compile_ptx(fn, sig, cc=cc)
        except Exception as e:  # noqa: BLE001
            fails += 1
            print(f"FAIL {mod}.{name}{sig}: {str(e).splitlines()[0][:200]}")
    print(f"{len(entries)} kernel signatures compiled for sm_{cc[0]}{cc[1]}, {fails} failed")
    return fails


if __name__ == "__main__":
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        sys.exit("run the compile step with the simulator off")
    sys.exit(1 if compile_all(sys.argv[1]) else 0)
