"""Run under mpiexec -n 2: rank 1 raises while rank 0 waits in a collective; the job must end non-zero."""
import numtorch as torch
import numtorch.distributed as dist

dist.init_process_group("mpi")
if dist.get_rank() == 1:
    raise ValueError("rank 1 failed on purpose")
dist.all_reduce(torch.ones(3))
print("unreachable")
