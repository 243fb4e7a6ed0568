"""``torch.nn.parallel``: DistributedDataParallel over numtorch.distributed (MPI)."""
from .distributed import DistributedDataParallel  # noqa: F401

__all__ = ["DistributedDataParallel"]
