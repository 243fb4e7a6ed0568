"""Run under mpiexec -n 2: SyncBatchNorm over half batches equals BatchNorm over the whole batch."""
import numpy as np

import numtorch as torch
import numtorch.distributed as dist
import numtorch.nn as nn

dist.init_process_group("mpi")
r = dist.get_rank()
rng = np.random.default_rng(1)
X = torch.tensor(rng.standard_normal((8, 3, 4)))
G = torch.tensor(rng.standard_normal((8, 3, 4)))
ref = nn.BatchNorm1d(3).double()
x = X.clone().requires_grad_()
(ref(x) * G).sum().backward()
sync = nn.SyncBatchNorm(3).double()
mine = X[4 * r:4 * r + 4].clone().requires_grad_()
(sync(mine) * G[4 * r:4 * r + 4]).sum().backward()
assert np.abs((mine.grad - x.grad[4 * r:4 * r + 4]).numpy()).max() < 1e-10
assert np.abs((sync.running_mean - ref.running_mean).numpy()).max() < 1e-12
assert np.abs((sync.running_var - ref.running_var).numpy()).max() < 1e-12
w = sync.weight.grad.clone()
dist.all_reduce(w)
assert np.abs((w - ref.weight.grad).numpy()).max() < 1e-10
print(f"rank {r} ok")
