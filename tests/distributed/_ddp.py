"""Run under mpiexec -n 2: DDP with half the batch per rank matches one process on the whole batch."""
import io
import sys

import numpy as np

import numtorch as torch
import numtorch.distributed as dist
import numtorch.nn as nn
from numtorch.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("mpi")
r, n = dist.get_rank(), dist.get_world_size()
rng = np.random.default_rng(0)
X = torch.tensor(rng.standard_normal((8, 5)))
Y = torch.tensor(rng.standard_normal((8, 2)))


def make(seed):
    torch.manual_seed(seed)
    m = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 2)).double()
    return m


def sgd(params, lr=0.1):
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad = None


ref = make(0)                                           # one process, whole batch
for _ in range(5):
    ((ref(X) - Y) ** 2).mean().backward()
    sgd(ref.parameters())

model = DDP(make(100 + r), bucket_cap_mb=0.0001)        # different init per rank: DDP broadcasts rank 0's
assert list(model.state_dict())[0] == "module.0.weight"
if r == 0:
    assert all(torch.equal(a, b) for a, b in zip(model.module.parameters(), make(100).parameters()))
mine = slice(4 * r, 4 * r + 4)
torch.manual_seed(0)
ref0 = make(0)
with torch.no_grad():
    for p, q in zip(model.module.parameters(), ref0.parameters()):
        p.copy_(q)
for _ in range(5):
    ((model(X[mine]) - Y[mine]) ** 2).mean().backward()
    sgd(model.parameters())
for p, q in zip(model.module.parameters(), ref.parameters()):
    assert np.abs((p - q).detach().numpy()).max() < 1e-10, (p - q).abs().max()

# no_sync: two micro-batches accumulate locally, the synchronised third averages all of it
acc = make(0)
m2 = DDP(make(0))
for k in range(2):
    ((acc(X[4 * k:4 * k + 4]) - Y[4 * k:4 * k + 4]) ** 2).mean().backward()
with m2.no_sync():
    ((m2(X[mine][:2]) - Y[mine][:2]) ** 2).mean().backward()
((m2(X[mine][2:]) - Y[mine][2:]) ** 2).mean().backward()
for p, q in zip(m2.module.parameters(), acc.parameters()):
    want = q.grad                    # (1/2) sum of two half-size means per rank, averaged over 2 ranks
    assert np.abs((p.grad - want).numpy()).max() < 1e-10

# find_unused_parameters: a branch unused on this rank
class Two(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(3, 1), nn.Linear(3, 1)

    def forward(self, x, use_b):
        return self.a(x) + (self.b(x) if use_b else 0)


m3 = DDP(Two().double(), find_unused_parameters=True)
m3(torch.ones(2, 3, dtype=torch.float64), use_b=(r == 0)).sum().backward()
assert m3.module.b.weight.grad is not None and torch.allclose(m3.module.b.weight.grad,
                                                               torch.full((1, 3), 1.0, dtype=torch.float64))
# checkpoint saved on rank 0 loads on every rank
buf = io.BytesIO()
if r == 0:
    torch.save(model.module.state_dict(), buf)
blob = [buf.getvalue()]
dist.broadcast_object_list(blob, src=0)
sd = torch.load(io.BytesIO(blob[0]))
fresh = make(5)
fresh.load_state_dict(sd)
assert all(torch.equal(a, b) for a, b in zip(fresh.parameters(), model.module.parameters()))
dist.destroy_process_group()
print(f"rank {r} ok")
sys.stdout.flush()
