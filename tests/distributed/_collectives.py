"""Run under mpiexec -n 2: every collective against a single-process computation."""
import numpy as np

import numtorch as torch
import numtorch.distributed as dist

dist.init_process_group("mpi")
r, n = dist.get_rank(), dist.get_world_size()
assert (r, n) == (dist.get_rank(), 2) and dist.is_initialized() and dist.get_backend() == "mpi"
base = lambda k: torch.arange(6, dtype=torch.float32).reshape(2, 3) + 10 * k  # noqa: E731
total = sum(base(k) for k in range(n))

t = base(r)
assert dist.all_reduce(t) is None and torch.equal(t, total)
t = base(r)
dist.all_reduce(t, op=dist.ReduceOp.MAX)
assert torch.equal(t, base(n - 1))
t = base(r)
dist.all_reduce(t, op=dist.ReduceOp.AVG)
assert torch.allclose(t, total / n)
t = base(r).double().t()                      # non-contiguous: reduced and written back in place
dist.all_reduce(t)
assert torch.equal(t, total.double().t())
i = torch.tensor([r + 1, 3 * (r + 1)])
dist.all_reduce(i, op=dist.ReduceOp.PRODUCT)
assert i.tolist() == [2, 18]
h = torch.tensor([r + 0.5], dtype=torch.float16)
dist.all_reduce(h)
assert h.dtype is torch.float16 and h.tolist() == [2.0]
w = dist.all_reduce(base(r), async_op=True)
assert w.wait() and w.is_completed()

t = base(r)
dist.broadcast(t, src=1)
assert torch.equal(t, base(1))
t = base(r)
dist.reduce(t, dst=0)
assert torch.equal(t, total if r == 0 else base(r))
out = [torch.zeros(2, 3) for _ in range(n)]
dist.all_gather(out, base(r))
assert all(torch.equal(out[k], base(k)) for k in range(n))
big = torch.zeros(2 * n, 3)
dist.all_gather_into_tensor(big, base(r))
assert torch.equal(big, torch.cat([base(k) for k in range(n)]))
o = torch.zeros(2, 3)
dist.reduce_scatter(o, [base(r) * (k + 1) for k in range(n)])
assert torch.equal(o, total * (r + 1))
o = torch.zeros(3)
dist.reduce_scatter_tensor(o, base(r).reshape(-1))
assert torch.equal(o, total.reshape(-1)[3 * r:3 * r + 3])
g = [torch.zeros(2, 3) for _ in range(n)] if r == 0 else None
dist.gather(base(r), g, dst=0)
assert r != 0 or all(torch.equal(g[k], base(k)) for k in range(n))
s = torch.zeros(2, 3)
dist.scatter(s, [base(k) for k in range(n)] if r == 1 else None, src=1)
assert torch.equal(s, base(r))
outs = [torch.zeros(1) for _ in range(n)]
dist.all_to_all(outs, [torch.tensor([float(10 * r + k)]) for k in range(n)])
assert [x.item() for x in outs] == [float(10 * k + r) for k in range(n)]
a2 = torch.zeros(n)
dist.all_to_all_single(a2, torch.tensor([float(10 * r + k) for k in range(n)]))
assert a2.tolist() == [float(10 * k + r) for k in range(n)]

if r == 0:
    dist.send(torch.tensor([7.0, 8.0]), dst=1)
    req = dist.irecv(buf := torch.zeros(1), src=1)
    req.wait()
    assert buf.item() == 5.0
else:
    got = torch.zeros(2)
    assert dist.recv(got, src=0) == 0 and got.tolist() == [7.0, 8.0]
    dist.isend(torch.tensor([5.0]), dst=0).wait()

objs = [{"a": 1}, "x"] if r == 0 else [None, None]
dist.broadcast_object_list(objs, src=0)
assert objs == [{"a": 1}, "x"]
gathered = [None] * n
dist.all_gather_object(gathered, ("rank", r))
assert gathered == [("rank", k) for k in range(n)]
dest = [None] * n if r == 0 else None
dist.gather_object(r * 2, dest, dst=0)
assert r != 0 or dest == [0, 2]
out1 = [None]
dist.scatter_object_list(out1, ["a", "b"] if r == 0 else None, src=0)
assert out1 == [["a", "b"][r]]

sub = dist.new_group([1])
if r == 1:
    assert dist.get_rank(sub) == 0 and dist.get_world_size(sub) == 1 and dist.get_global_rank(sub, 0) == 1
    t = torch.ones(2)
    dist.all_reduce(t, group=sub)
    assert t.tolist() == [1.0, 1.0]
else:
    assert sub is dist.GroupMember.NON_GROUP_MEMBER
dist.barrier()
dist.destroy_process_group()
print(f"rank {r} ok")
