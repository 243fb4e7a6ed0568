"""Let ``import torch.nn as nn`` (any ``torch.X``) resolve to ``numtorch.X`` while ``torch`` is aliased to
numtorch in ``sys.modules``; without this, submodule imports would load second copies of numtorch's files."""
import importlib
import importlib.abc
import importlib.util
import sys


class _Loader(importlib.abc.Loader):
    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        module = importlib.import_module(self.target)
        self.saved = module.__spec__, getattr(module, "__loader__", None)
        return module

    def exec_module(self, module):
        # importlib stamped the alias's spec on the shared module: put numtorch's back (relative imports use it).
        module.__spec__, module.__loader__ = self.saved


class TorchSubmoduleFinder(importlib.abc.MetaPathFinder):
    """Maps ``torch.<rest>`` to ``numtorch.<rest>`` when ``sys.modules['torch']`` is numtorch."""

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith("torch."):
            return None
        root = sys.modules.get("torch")
        if root is None or getattr(root, "__name__", None) != "numtorch":
            return None
        name = "numtorch." + fullname[len("torch."):]
        if importlib.util.find_spec(name) is None:
            return None
        return importlib.util.spec_from_loader(fullname, _Loader(name))


_FINDER = TorchSubmoduleFinder()


def install():
    """Make ``import torch`` (and ``torch.nn``, ``torch.optim``, ...) give numtorch in this process."""
    import numtorch
    sys.modules["torch"] = numtorch
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    return numtorch


def uninstall(saved=None):
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    for k in [k for k in sys.modules if k == "torch" or k.startswith("torch.")]:
        m = sys.modules[k]
        if getattr(m, "__name__", "").startswith("numtorch"):
            del sys.modules[k]
    if saved:
        sys.modules.update(saved)
