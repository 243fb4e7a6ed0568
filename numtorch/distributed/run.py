"""``python -m numtorch.distributed.run --nproc-per-node N script.py [args]``: a torchrun-like launcher for one
machine. It starts ``mpiexec -n N`` and each rank runs the script with RANK, WORLD_SIZE, LOCAL_RANK,
LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT set as torchrun sets them (taken from MPI's environment)."""
import argparse
import os
import shutil
import subprocess
import sys


def _mpiexec():
    here = os.path.join(sys.prefix, "bin", "mpiexec")
    return here if os.path.exists(here) else shutil.which("mpiexec") or shutil.which("mpirun")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m numtorch.distributed.run", description=__doc__.splitlines()[0])
    ap.add_argument("--nproc-per-node", "--nproc_per_node", type=int, default=1)
    ap.add_argument("--nnodes", default="1")
    ap.add_argument("--node-rank", "--node_rank", type=int, default=0)
    ap.add_argument("--master-addr", "--master_addr", default="127.0.0.1")
    ap.add_argument("--master-port", "--master_port", default="29500")
    ap.add_argument("--standalone", action="store_true")
    ap.add_argument("-m", "--module", action="store_true", help="run the target as a module (python -m)")
    ap.add_argument("script")
    ap.add_argument("args", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)
    exe = _mpiexec()
    if exe is None:
        print("numtorch.distributed.run: no mpiexec found (pip install mpi4py mpich, or load your cluster's MPI)",
              file=sys.stderr)
        return 1
    env = dict(os.environ, MASTER_ADDR=a.master_addr, MASTER_PORT=str(a.master_port))
    cmd = [exe, "-n", str(a.nproc_per_node), sys.executable, "-m", "numtorch.distributed._rank_env"]
    cmd += (["-m"] if a.module else []) + [a.script] + a.args
    return subprocess.call(cmd, env=env)


if __name__ == "__main__":
    sys.exit(main())
