"""``torch.distributed`` on MPI (mpi4py): process groups, collectives on tensors and Python objects.

``import numtorch`` never imports mpi4py; ``init_process_group(backend="mpi")`` does. Ranks and the world size
come from MPI, so scripts run under ``mpiexec -n N``, ``srun`` or ``python -m numtorch.distributed.run``."""
import importlib.util

from .c10d import (GroupMember, ProcessGroup, ReduceOp, Work, all_gather, all_gather_into_tensor,  # noqa: F401
                   all_gather_object, all_reduce, all_to_all, all_to_all_single, barrier, batch_isend_irecv,
                   broadcast, broadcast_object_list, destroy_process_group, gather, gather_object, get_backend,
                   get_global_rank, get_group_rank, get_process_group_ranks, get_rank, get_world_size, group,
                   init_process_group, irecv, is_initialized, is_mpi_available, isend, monitored_barrier, new_group,
                   recv, reduce, reduce_scatter, reduce_scatter_tensor, scatter, scatter_object_list, send, P2POp,
                   Backend, is_torchelastic_launched)


def is_available():
    """True when mpi4py can be imported (checked without importing it)."""
    return importlib.util.find_spec("mpi4py") is not None


is_gloo_available = is_nccl_available = lambda: False  # noqa: E731
