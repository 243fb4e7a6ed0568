"""``numtorch.optim``: PyTorch's optimizers, ``lr_scheduler`` and ``swa_utils``.

Every optimizer but LBFGS (and SparseAdam, which refuses dense gradients as PyTorch does) updates each
parameter group with one multi-tensor compiled call per parameter dtype (``numtorch/kernels/optim.py``;
one launch per group on CUDA). Parameters the kernels cannot take (float16, non-contiguous,
``differentiable=True``, counters on another device) run PyTorch's single-tensor algorithm through
numtorch's compiled tensor ops, as does LBFGS."""
from . import lr_scheduler, swa_utils  # noqa: F401
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .asgd import ASGD
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD
from .sparse_adam import SparseAdam

__all__ = ["ASGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "LBFGS", "NAdam", "Optimizer", "RAdam",
           "RMSprop", "Rprop", "SGD", "SparseAdam", "lr_scheduler", "swa_utils"]
