"""numtorch caches its modules' bytecode as it caches its compiled kernels, whatever
``PYTHONDONTWRITEBYTECODE`` says: compiling the ~60 modules of a plain ``import numtorch`` from source
costs about 0.4 s per process otherwise (Numba writes its kernel cache into the same ``__pycache__``
folders anyway). Only imports of numtorch's own modules run with writing enabled."""
import sys


class writing:
    """``with writing(): import ...`` writes .pyc files for the modules imported inside."""
    __slots__ = ("prev",)

    def __enter__(self):
        self.prev = sys.dont_write_bytecode
        sys.dont_write_bytecode = False
        return self

    def __exit__(self, *exc):
        sys.dont_write_bytecode = self.prev
