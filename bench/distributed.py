"""``python -m bench.distributed``: all_reduce bandwidth between 2 ranks on loopback (1 KB to 64 MB float32),
numtorch (MPI) beside PyTorch's gloo backend when torch is installed, and a DDP training step of the MLP
(64x784 -> 256 -> 128 -> 10) on 2 ranks against 1 rank on the same global batch. Medians of repeated runs.

Bus bandwidth as nccl-tests defines it for all_reduce: 2 (n-1)/n * bytes / time."""
import os
import subprocess
import sys

SIZES = [2 ** k for k in range(10, 27, 2)]          # bytes: 1 KiB .. 64 MiB


def _worker(lib):
    import time
    import numpy as np
    if lib == "numtorch":
        import numtorch as T
        import numtorch.distributed as dist
        dist.init_process_group("mpi")
    else:
        import torch as T
        import torch.distributed as dist
        os.environ.setdefault("RANK", os.environ.get("PMI_RANK", "0"))
        os.environ.setdefault("WORLD_SIZE", os.environ.get("PMI_SIZE", "1"))
        T.set_num_threads(1)
        dist.init_process_group("gloo")
    r, n = dist.get_rank(), dist.get_world_size()
    rows = []
    for nbytes in SIZES:
        t = T.ones(nbytes // 4)
        reps = max(5, min(200, (1 << 24) // nbytes))
        for _ in range(3):
            dist.all_reduce(t)
        times = []
        for _ in range(5):
            dist.barrier()
            t0 = time.perf_counter()
            for _ in range(reps):
                dist.all_reduce(t)
            times.append((time.perf_counter() - t0) / reps)
        med = float(np.median(times))
        rows.append((nbytes, med, 2 * (n - 1) / n * nbytes / med / 1e9))
    if lib == "numtorch":
        rows.append(("ddp", _ddp_step(T, dist, r, n), None))
    if r == 0:
        for row in rows:
            print("ROW", lib, *row, flush=True)
    dist.destroy_process_group()


def _ddp_step(T, dist, r, n):
    import time
    import numpy as np
    import numtorch.nn as nn
    from numtorch.nn.parallel import DistributedDataParallel as DDP
    T.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    if n > 1:
        model = DDP(model)
    opt = T.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    per = 64 // n
    x, y = T.randn(per, 784), T.randint(0, 10, (per,))
    loss_fn = nn.CrossEntropyLoss()
    times = []
    for i in range(40):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
        if i >= 10:
            times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _launch(lib, nproc=2):
    mpiexec = os.path.join(sys.prefix, "bin", "mpiexec")
    env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT="29517")
    out = subprocess.run([mpiexec, "-n", str(nproc), sys.executable, "-m", "bench.distributed", "--worker", lib],
                         capture_output=True, text=True, env=env, timeout=900)
    rows = [ln.split()[2:] for ln in out.stdout.splitlines() if ln.startswith("ROW")]
    if out.returncode != 0:
        print(out.stderr[-2000:], file=sys.stderr)
    return rows


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        return _worker(sys.argv[2])
    mine = _launch("numtorch")
    try:
        import torch  # noqa: F401
        theirs = _launch("torch")
    except ImportError:
        theirs = []
    ref = {int(r[0]): float(r[2]) for r in theirs}
    print(f"{'bytes':>10}  {'numtorch us':>12}  {'GB/s':>7}  {'gloo GB/s':>9}  {'ratio':>6}")
    for r in mine:
        if r[0] == "ddp":
            continue
        nb, t, bw = int(r[0]), float(r[1]), float(r[2])
        g = ref.get(nb)
        print(f"{nb:>10}  {t * 1e6:>12.1f}  {bw:>7.3f}  {g if g is None else f'{g:.3f}':>9}  "
              f"{'' if g is None else f'{bw / g:.2f}':>6}")
    one = _launch("numtorch", 1)
    d2 = [float(r[1]) for r in mine if r[0] == "ddp"]
    d1 = [float(r[1]) for r in one if r[0] == "ddp"]
    if d1 and d2:
        print(f"DDP MLP step, global batch 64: 1 rank {d1[0] * 1e3:.2f} ms, 2 ranks {d2[0] * 1e3:.2f} ms "
              f"(speedup {d1[0] / d2[0]:.2f}x on 2 cores)")


if __name__ == "__main__":
    main()
