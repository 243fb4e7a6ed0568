"""Per-rank entry of the launcher: export torchrun's variables from the MPI launcher's, then run the script."""
import os
import runpy
import sys


def _first(*names, default=None):
    for n in names:
        if n in os.environ:
            return os.environ[n]
    return default


def main():
    rank = _first("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "SLURM_PROCID", default="0")
    size = _first("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "SLURM_NTASKS", default="1")
    local = _first("MPI_LOCALRANKID", "OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", default=rank)
    local_size = _first("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE", "SLURM_NTASKS_PER_NODE", default=size)
    os.environ.update(RANK=rank, WORLD_SIZE=size, LOCAL_RANK=local, LOCAL_WORLD_SIZE=local_size,
                      GROUP_RANK="0", ROLE_RANK=rank, ROLE_WORLD_SIZE=size)
    args = sys.argv[1:]
    if args and args[0] == "-m":
        sys.argv = args[1:]
        runpy.run_module(args[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = args
        runpy.run_path(args[0], run_name="__main__")


if __name__ == "__main__":
    main()
