"""Process groups and collectives over MPI communicators (zero copy for contiguous CPU tensors)."""
import datetime
import enum
import os
import sys
import time

import numpy as np

_DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)
_state = {"world": None, "backend": None, "timeout": _DEFAULT_TIMEOUT}


class Backend(str):
    MPI = "mpi"
    GLOO = "gloo"
    NCCL = "nccl"
    UNDEFINED = "undefined"

    def __new__(cls, name):
        return str.__new__(cls, name.lower())


class ReduceOp(enum.Enum):
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7
    PREMUL_SUM = 8
    UNUSED = 9

    def __repr__(self):
        return f"<RedOpType.{self.name}: {self.value}>"


class ProcessGroup:
    """A set of ranks with its MPI communicator (``ranks`` are global ranks, in group order)."""

    def __init__(self, comm, ranks):
        self.comm, self.ranks = comm, list(ranks)

    def rank(self):
        return self.comm.Get_rank()

    def size(self):
        return self.comm.Get_size()

    def name(self):
        return "mpi"

    def __repr__(self):
        return f"<numtorch.distributed.ProcessGroup mpi ranks={self.ranks}>"


class GroupMember:
    WORLD = None
    NON_GROUP_MEMBER = object()


class group:          # noqa: N801 (torch.distributed.group.WORLD)
    WORLD = None


def _mpi():
    from mpi4py import MPI
    return MPI


def is_mpi_available():
    import importlib.util
    return importlib.util.find_spec("mpi4py") is not None


def is_torchelastic_launched():
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


def _abort_on_uncaught(comm):
    """A rank that dies of an exception ends the whole job (MPI abort), never a hang of the others."""
    prev = sys.excepthook

    def hook(tp, value, tb):
        prev(tp, value, tb)
        sys.stderr.flush()
        comm.Abort(1)
    sys.excepthook = hook


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    if _state["world"] is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = "mpi" if backend is None else str(backend).lower()
    if name not in ("mpi", "cpu:mpi", "cuda:mpi"):
        raise RuntimeError(f"numtorch.distributed supports the 'mpi' backend only (got '{backend}'): run the script "
                           "under mpiexec/srun or `python -m numtorch.distributed.run` with backend='mpi'")
    MPI = _mpi()
    comm = MPI.COMM_WORLD
    if world_size not in (-1, None) and world_size != comm.Get_size():
        raise ValueError(f"world_size={world_size} does not match the MPI job's size {comm.Get_size()}")
    if rank not in (-1, None) and rank != comm.Get_rank():
        raise ValueError(f"rank={rank} does not match this process's MPI rank {comm.Get_rank()}")
    _share_cores(comm, MPI)
    world = ProcessGroup(comm, range(comm.Get_size()))
    _state.update(world=world, backend=Backend("mpi"), timeout=timeout or _DEFAULT_TIMEOUT)
    GroupMember.WORLD = group.WORLD = world
    _abort_on_uncaught(comm)


def _share_cores(comm, MPI):
    """Ranks on one machine split its cores (as torchrun sets OMP_NUM_THREADS=1): without this every rank
    starts a full Numba pool and OpenBLAS pool, and the oversubscribed cores make a step slower than on one rank."""
    local = comm.Split_type(MPI.COMM_TYPE_SHARED).Get_size()
    if local <= 1 or os.environ.get("OMP_NUM_THREADS") or os.environ.get("NUMBA_NUM_THREADS"):
        return
    n = max(1, (os.cpu_count() or 1) // local)
    from ..kernels import blas_threads, parallel_ok
    if parallel_ok():
        import numba
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    blas_threads.limit(n)


def is_initialized():
    return _state["world"] is not None


def _world():
    w = _state["world"]
    if w is None:
        raise ValueError("Default process group has not been initialized, please make sure to call "
                         "init_process_group.")
    return w


def _group(g):
    if g is None or g is GroupMember.WORLD:
        return _world()
    if g is GroupMember.NON_GROUP_MEMBER:
        raise RuntimeError("the calling rank is not part of this process group")
    return g


def destroy_process_group(group=None):
    if group is None or group is _state["world"]:
        _state["world"] = None
        GroupMember.WORLD = globals()["group"].WORLD = None
    elif isinstance(group, ProcessGroup):
        group.comm.Free()


def get_rank(group=None):
    if group is GroupMember.NON_GROUP_MEMBER:
        return -1
    return _group(group).rank()


def get_world_size(group=None):
    g = group if group is not None else _world()
    return -1 if g is GroupMember.NON_GROUP_MEMBER else g.size()


def get_backend(group=None):
    _group(group)
    return _state["backend"]


def get_process_group_ranks(group):
    return list(_group(group).ranks)


def get_global_rank(group, group_rank):
    return _group(group).ranks[group_rank]


def get_group_rank(group, global_rank):
    g = _group(group)
    if global_rank not in g.ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {g}")
    return g.ranks.index(global_rank)


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False,
              group_desc=None, device_id=None):
    """A sub-communicator of the given global ranks (every rank of the world must call it, as in PyTorch)."""
    world = _world()
    ranks = sorted(set(range(world.size()) if ranks is None else ranks))
    MPI = _mpi()
    sub = world.comm.Create_group(world.comm.Get_group().Incl(ranks))
    if sub == MPI.COMM_NULL:
        return GroupMember.NON_GROUP_MEMBER
    return ProcessGroup(sub, ranks)


# -- buffers ----------------------------------------------------------------------------------------

class _Buf:
    """A host NumPy view of a tensor for MPI (a contiguous copy, written back after, when needed)."""

    def __init__(self, t, write=True):
        self.t, self.write = t, write
        self.cuda = t.is_cuda
        src = t.detach()
        if self.cuda:
            src = src.cpu()
        self.copy = self.cuda or not src.is_contiguous()
        arr = src.contiguous()._np() if self.copy else src._np()
        self.arr = np.ascontiguousarray(arr).reshape(-1)
        if arr.dtype == np.float16 or arr.dtype == np.bool_:
            # MPI has no half or bool reductions: reduce in float32 / uint8, cast back after.
            self.arr = self.arr.astype(np.float32 if arr.dtype == np.float16 else np.uint8)
            self.copy = True

    def done(self):
        if self.write and self.copy:
            from ..creation import from_numpy
            src = from_numpy(self.arr.reshape(self.t.shape)).to(self.t.dtype)
            from ..autograd.grad_mode import no_grad
            with no_grad():
                self.t.detach().copy_(src if not self.cuda else src.to(self.t.device))
        elif self.write:
            self.t._bump()


def _op(op, MPI):
    table = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD, ReduceOp.MIN: MPI.MIN,
             ReduceOp.MAX: MPI.MAX, ReduceOp.BAND: MPI.BAND, ReduceOp.BOR: MPI.BOR, ReduceOp.BXOR: MPI.BXOR}
    if op not in table:
        raise ValueError(f"numtorch.distributed: unsupported reduce op {op}")
    return table[op]


class Work:
    """Handle of an asynchronous collective: ``wait()`` completes it (and writes results back)."""

    def __init__(self, req, finish=None, timeout=None):
        self._req, self._finish, self._done = req, finish, False
        self._timeout = timeout

    def is_completed(self):
        if not self._done and (self._req is None or self._req.Test()):
            self._complete()
        return self._done

    def _complete(self):
        if not self._done:
            self._done = True
            if self._finish is not None:
                self._finish()

    def wait(self, timeout=None):
        if not self._done:
            _wait(self._req, timeout or self._timeout)
            self._complete()
        return True

    def is_success(self):
        return self._done

    def exception(self):
        return None

    def result(self):
        return []

    def get_future(self):
        from concurrent.futures import Future
        f = Future()
        self.wait()
        f.set_result(self.result())
        return f

    def synchronize(self):
        self.wait()


def _wait(req, timeout):
    if req is None:
        return
    if timeout is None:
        timeout = _state["timeout"]
    limit = timeout.total_seconds() if isinstance(timeout, datetime.timedelta) else float(timeout)
    t0 = time.monotonic()
    spins = 0
    while not req.Test():
        spins += 1
        if spins > 1000:
            time.sleep(0.0005)
        if time.monotonic() - t0 > limit:
            raise RuntimeError(f"numtorch.distributed: collective timed out after {limit:.1f} s (a rank did not "
                               "join: check that every rank calls the same collectives in the same order)")


def _run(req, finish, async_op):
    w = Work(req, finish)
    if async_op:
        return w
    w.wait()
    return None


def _check_same(comm, arr, what):
    """TORCH_DISTRIBUTED_DEBUG=DETAIL: compare element counts and dtypes across ranks before a collective."""
    if os.environ.get("TORCH_DISTRIBUTED_DEBUG", "").upper() != "DETAIL":
        return
    seen = comm.allgather((arr.size, arr.dtype.str))
    if len(set(seen)) > 1:
        raise RuntimeError(f"Detected mismatch between collectives on ranks: {what} called with (numel, dtype) "
                           f"{seen} across ranks")


# -- collectives on tensors ----------------------------------------------------------------------------

def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    g = _group(group)
    MPI = _mpi()
    b = _Buf(tensor)
    _check_same(g.comm, b.arr, "all_reduce")
    if op is ReduceOp.AVG and not np.issubdtype(b.arr.dtype, np.floating):
        raise RuntimeError("Cannot use ReduceOp.AVG with integer tensors")
    req = g.comm.Iallreduce(MPI.IN_PLACE, b.arr, op=_op(op, MPI))

    def finish():
        if op is ReduceOp.AVG:
            b.arr /= g.size()
        b.done()
    return _run(req, finish, async_op)


def broadcast(tensor, src=0, group=None, async_op=False, group_src=None):
    g = _group(group)
    root = group_src if group_src is not None else g.ranks.index(src)
    b = _Buf(tensor, write=g.rank() != root)
    req = g.comm.Ibcast(b.arr, root=root)
    return _run(req, b.done, async_op)


def reduce(tensor, dst=0, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    g = _group(group)
    MPI = _mpi()
    root = group_dst if group_dst is not None else g.ranks.index(dst)
    b = _Buf(tensor, write=g.rank() == root)
    if g.rank() == root:
        req = g.comm.Ireduce(MPI.IN_PLACE, b.arr, op=_op(op, MPI), root=root)
    else:
        req = g.comm.Ireduce(b.arr, None, op=_op(op, MPI), root=root)

    def finish():
        if op is ReduceOp.AVG and g.rank() == root:
            b.arr /= g.size()
        b.done()
    return _run(req, finish, async_op)


def _flat_out(n, like):
    return np.empty(n, dtype=like.dtype)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    g = _group(group)
    if len(tensor_list) != g.size():
        raise ValueError(f"all_gather: tensor_list must have {g.size()} entries, got {len(tensor_list)}")
    b = _Buf(tensor, write=False)
    out = _flat_out(b.arr.size * g.size(), b.arr)
    req = g.comm.Iallgather(b.arr, out)

    def finish():
        for i, t in enumerate(tensor_list):
            _write(t, out[i * b.arr.size:(i + 1) * b.arr.size])
    return _run(req, finish, async_op)


def _write(t, flat):
    from ..autograd.grad_mode import no_grad
    from ..creation import from_numpy
    with no_grad():
        t.detach().copy_(from_numpy(np.ascontiguousarray(flat).reshape(t.shape)).to(t.dtype).to(t.device))


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    g = _group(group)
    if output_tensor.numel() != input_tensor.numel() * g.size():
        raise RuntimeError("output tensor size must be equal to world_size times input tensor size")
    b = _Buf(input_tensor, write=False)
    o = _Buf(output_tensor)
    req = g.comm.Iallgather(b.arr, o.arr)
    return _run(req, o.done, async_op)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    g = _group(group)
    MPI = _mpi()
    parts = [_Buf(t, write=False).arr for t in input_list]
    send = np.concatenate(parts)
    o = _Buf(output)
    req = g.comm.Ireduce_scatter(send, o.arr, recvcounts=[p.size for p in parts], op=_op(op, MPI))

    def finish():
        if op is ReduceOp.AVG:
            o.arr /= g.size()
        o.done()
    return _run(req, finish, async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    g = _group(group)
    if input.numel() != output.numel() * g.size():
        raise RuntimeError("input tensor must be the same size as output size times world size")
    return reduce_scatter(output, list(input.reshape(g.size(), -1).unbind(0)), op, group, async_op)


def gather(tensor, gather_list=None, dst=0, group=None, async_op=False, group_dst=None):
    g = _group(group)
    root = group_dst if group_dst is not None else g.ranks.index(dst)
    b = _Buf(tensor, write=False)
    me = g.rank() == root
    if me and (gather_list is None or len(gather_list) != g.size()):
        raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
    if not me and gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")
    out = _flat_out(b.arr.size * g.size(), b.arr) if me else None
    req = g.comm.Igather(b.arr, out, root=root)

    def finish():
        if me:
            for i, t in enumerate(gather_list):
                _write(t, out[i * b.arr.size:(i + 1) * b.arr.size])
    return _run(req, finish, async_op)


def scatter(tensor, scatter_list=None, src=0, group=None, async_op=False, group_src=None):
    g = _group(group)
    root = group_src if group_src is not None else g.ranks.index(src)
    me = g.rank() == root
    if me and (scatter_list is None or len(scatter_list) != g.size()):
        raise ValueError("Argument ``scatter_list`` must be specified on source rank.")
    if not me and scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    o = _Buf(tensor)
    send = np.concatenate([_Buf(t, write=False).arr for t in scatter_list]) if me else None
    req = g.comm.Iscatter(send, o.arr, root=root)
    return _run(req, o.done, async_op)


def all_to_all(output_tensor_list, input_tensor_list, group=None, async_op=False):
    g = _group(group)
    ins = [_Buf(t, write=False).arr for t in input_tensor_list]
    send = np.concatenate(ins)
    scounts = [a.size for a in ins]
    rcounts = [t.numel() for t in output_tensor_list]
    recv = np.empty(sum(rcounts), dtype=send.dtype)
    req = g.comm.Ialltoallv([send, (scounts, _displs(scounts))], [recv, (rcounts, _displs(rcounts))])

    def finish():
        off = 0
        for t, n in zip(output_tensor_list, rcounts):
            _write(t, recv[off:off + n])
            off += n
    return _run(req, finish, async_op)


def _displs(counts):
    return [int(x) for x in np.concatenate([[0], np.cumsum(counts)[:-1]])] if counts else []


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None, group=None, async_op=False):
    g = _group(group)
    n = g.size()
    row = int(np.prod(input.shape[1:])) if input.ndim > 1 else 1
    ins = input_split_sizes or [input.shape[0] // n] * n
    outs = output_split_sizes or [output.shape[0] // n] * n
    b = _Buf(input, write=False)
    o = _Buf(output)
    sc, rc = [s * row for s in ins], [s * row for s in outs]
    req = g.comm.Ialltoallv([b.arr, (sc, _displs(sc))], [o.arr, (rc, _displs(rc))])
    return _run(req, o.done, async_op)


def barrier(group=None, async_op=False, device_ids=None):
    g = _group(group)
    return _run(g.comm.Ibarrier(), None, async_op)


def monitored_barrier(group=None, timeout=None, wait_all_ranks=False):
    g = _group(group)
    w = Work(g.comm.Ibarrier(), None, timeout)
    w.wait()


# -- point to point ---------------------------------------------------------------------------------

def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    g = _group(group)
    peer = group_dst if group_dst is not None else g.ranks.index(dst)
    g.comm.Send(_Buf(tensor, write=False).arr, dest=peer, tag=tag)


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    g = _group(group)
    MPI = _mpi()
    peer = group_src if group_src is not None else (MPI.ANY_SOURCE if src is None else g.ranks.index(src))
    b = _Buf(tensor)
    status = MPI.Status()
    g.comm.Recv(b.arr, source=peer, tag=tag, status=status)
    b.done()
    return g.ranks[status.Get_source()]


def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    g = _group(group)
    peer = group_dst if group_dst is not None else g.ranks.index(dst)
    b = _Buf(tensor, write=False)
    return Work(g.comm.Isend(b.arr, dest=peer, tag=tag), None)


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    g = _group(group)
    MPI = _mpi()
    peer = group_src if group_src is not None else (MPI.ANY_SOURCE if src is None else g.ranks.index(src))
    b = _Buf(tensor)
    return Work(g.comm.Irecv(b.arr, source=peer, tag=tag), b.done)


class P2POp:
    def __init__(self, op, tensor, peer=None, group=None, tag=0, group_peer=None):
        self.op, self.tensor, self.peer, self.group, self.tag = op, tensor, peer, group, tag


def batch_isend_irecv(p2p_op_list):
    return [op.op(op.tensor, op.peer, op.group, op.tag) for op in p2p_op_list]


# -- collectives on Python objects ---------------------------------------------------------------------

def broadcast_object_list(object_list, src=0, group=None, device=None, group_src=None):
    g = _group(group)
    root = group_src if group_src is not None else g.ranks.index(src)
    objs = g.comm.bcast(list(object_list) if g.rank() == root else None, root=root)
    object_list[:] = objs


def all_gather_object(object_list, obj, group=None):
    g = _group(group)
    object_list[:] = g.comm.allgather(obj)


def gather_object(obj, object_gather_list=None, dst=0, group=None, group_dst=None):
    g = _group(group)
    root = group_dst if group_dst is not None else g.ranks.index(dst)
    res = g.comm.gather(obj, root=root)
    if g.rank() == root:
        object_gather_list[:] = res


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src=0, group=None,
                        group_src=None):
    g = _group(group)
    root = group_src if group_src is not None else g.ranks.index(src)
    scatter_object_output_list[0] = g.comm.scatter(scatter_object_input_list if g.rank() == root else None,
                                                   root=root)
