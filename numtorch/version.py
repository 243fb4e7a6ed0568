"""``torch.version``: numtorch reports no CUDA build unless a CUDA device is usable."""
__version__ = "2.13.0+numtorch0.1"
git_version = "unknown"
debug = False
hip = None


def __getattr__(name):
    if name == "cuda":
        from . import cuda as _cuda
        return _cuda._cuda_version()
    raise AttributeError(name)
