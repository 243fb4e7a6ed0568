"""numtorch.distributed on 2 MPI ranks over loopback (skipped where mpi4py/mpiexec are missing)."""
import os
import shutil
import subprocess
import sys
import time

import pytest

import numtorch
import numtorch.distributed as dist

HERE = os.path.dirname(os.path.abspath(__file__))
MPIEXEC = os.path.join(sys.prefix, "bin", "mpiexec")
MPIEXEC = MPIEXEC if os.path.exists(MPIEXEC) else shutil.which("mpiexec")
needs_mpi = pytest.mark.skipif(not dist.is_available() or MPIEXEC is None, reason="mpi4py/mpiexec not installed")


def _mpirun(script, *args, timeout=120):
    return subprocess.run([MPIEXEC, "-n", "2", sys.executable, os.path.join(HERE, script), *args],
                          capture_output=True, text=True, timeout=timeout, cwd=HERE)


def test_import_numtorch_does_not_import_mpi4py():
    out = subprocess.run([sys.executable, "-c", "import sys, numtorch, numtorch.distributed; "
                          "print('mpi4py' in sys.modules)"], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr


def test_backend_errors_and_uninitialized():
    with pytest.raises(RuntimeError, match="supports the 'mpi' backend only"):
        dist.init_process_group("gloo")
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        dist.get_rank()


@needs_mpi
def test_collectives_two_ranks():
    out = _mpirun("_collectives.py")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "rank 0 ok" in out.stdout and "rank 1 ok" in out.stdout


@needs_mpi
def test_ddp_matches_single_process_and_checkpoints():
    out = _mpirun("_ddp.py")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "rank 0 ok" in out.stdout and "rank 1 ok" in out.stdout


@needs_mpi
def test_failing_rank_ends_the_job_nonzero_quickly():
    t0 = time.monotonic()
    out = _mpirun("_fault.py", timeout=60)
    assert out.returncode != 0
    assert "rank 1 failed on purpose" in out.stderr and "unreachable" not in out.stdout
    assert time.monotonic() - t0 < 60


@needs_mpi
def test_launcher_sets_torchrun_variables():
    out = subprocess.run([sys.executable, "-m", "numtorch.distributed.run", "--nproc-per-node", "2",
                          os.path.join(HERE, "_launched.py"), "--flag"], capture_output=True, text=True, timeout=120,
                         cwd=HERE)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "launched rank 0 args ['--flag']" in out.stdout and "launched rank 1 args ['--flag']" in out.stdout


def test_distributed_sampler_partitions():
    from numtorch.utils.data.distributed import DistributedSampler
    data = list(range(10))
    parts = [list(DistributedSampler(data, num_replicas=3, rank=k, shuffle=False)) for k in range(3)]
    assert parts == [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]          # padded by repetition
    drop = [list(DistributedSampler(data, num_replicas=3, rank=k, shuffle=False, drop_last=True)) for k in range(3)]
    assert sorted(sum(drop, [])) == sorted(set(sum(drop, []))) and all(len(p) == 3 for p in drop)
    s = DistributedSampler(data, num_replicas=2, rank=0, shuffle=True, seed=1)
    s.set_epoch(0)
    e0 = list(s)
    s.set_epoch(1)
    e1 = list(s)
    other = DistributedSampler(data, num_replicas=2, rank=1, shuffle=True, seed=1)
    other.set_epoch(0)
    assert e0 != e1 and sorted(e0 + list(other)) == data


@needs_mpi
def test_sync_batchnorm_matches_whole_batch():
    out = _mpirun("_syncbn.py")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "rank 0 ok" in out.stdout and "rank 1 ok" in out.stdout
