"""``torch.nn``: modules, parameters, ``functional``, ``init`` and ``utils``."""
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter  # noqa: F401
from .modules import *  # noqa: F401,F403
from .modules import Module  # noqa: F401
from . import functional  # noqa: F401
from . import modules  # noqa: F401


def __getattr__(name):
    # init/utils/parallel load on first use (``nn.init.xavier_uniform_``) so ``import numtorch.nn`` stays light.
    import importlib
    if name in ("init", "utils", "parallel", "attention"):
        try:
            return importlib.import_module(f"numtorch.nn.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"numtorch.nn.{name}":
                raise
    raise AttributeError(f"module 'numtorch.nn' has no attribute '{name}'")
