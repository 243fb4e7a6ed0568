"""Stand-ins for PyTorch's pickled globals (``torch._utils._rebuild_tensor_v2``, ``torch.FloatStorage``, ...).

``numtorch.save`` pickles tensors with the C pickler through these importable objects, then renames their
GLOBAL records to PyTorch's names, so a checkpoint loads in PyTorch without numtorch ever importing torch.
Called directly (plain ``pickle`` of such a record), they rebuild numtorch objects."""
from . import dtypes as _dt

__all__ = ["_rebuild_tensor_v2", "_rebuild_parameter", "STORAGE_CLASSES"]


def _rebuild_tensor_v2(*args):
    from .serialization import _rebuild_tensor_v2 as f
    return f(*args)


def _rebuild_parameter(*args):
    from .serialization import _rebuild_parameter as f
    return f(*args)


class _LegacyStorage:
    """Base of ``FloatStorage`` & co.: only the dtype matters (persistent ids name the storage's type)."""
    dtype = None


STORAGE_CLASSES = {}
for _d in _dt.ALL_DTYPES:
    _name = _d.legacy.replace("Tensor", "Storage")
    STORAGE_CLASSES[_d] = globals()[_name] = type(_name, (_LegacyStorage,), {"dtype": _d, "__module__": __name__})
del _d, _name
