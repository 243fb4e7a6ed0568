"""``DistributedDataParallel``: replicate a module on every rank, average gradients with bucketed
all-reduces launched during backward as soon as each bucket's gradients are ready."""
import contextlib

import numpy as np

from ..modules.module import Module

_FIRST_BUCKET_BYTES = 1024 * 1024          # PyTorch's dist._DEFAULT_FIRST_BUCKET_BYTES
_UNFINISHED = (
    "Expected to have finished reduction in the prior iteration before starting a new one. This error indicates "
    "that your module has parameters that were not used in producing loss. You can enable unused parameter "
    "detection by passing the keyword argument `find_unused_parameters=True` to "
    "`torch.nn.parallel.DistributedDataParallel`, and by making sure all `forward` function outputs participate "
    "in calculating loss.")


class _Bucket:
    __slots__ = ("params", "offsets", "buf", "pending", "work")

    def __init__(self, params, dtype):
        self.params = params
        self.offsets, n = [], 0
        for p in params:
            self.offsets.append(n)
            n += p.numel()
        self.buf = np.zeros(n, dtype=np.float32 if dtype == np.float16 else dtype)
        self.pending = len(params)
        self.work = None


class DistributedDataParallel(Module):
    """Data parallelism across MPI ranks (PyTorch's DDP API; the scaling model is data parallel only)."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 init_sync=True, process_group=None, bucket_cap_mb=None, find_unused_parameters=False,
                 check_reduction=False, gradient_as_bucket_view=False, static_graph=False, delay_all_reduce_named_params=None,
                 param_to_hook_all_reduce=None, mixed_precision=None, device_mesh=None, skip_all_reduce_unused_params=False):
        super().__init__()
        from ... import distributed as dist
        self.module = module
        self.process_group = process_group
        self._dist = dist
        self.world_size = dist.get_world_size(process_group)
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        self.require_backward_grad_sync = True
        self.device_ids, self.output_device, self.dim = device_ids, output_device, dim
        params = [p for p in module.parameters() if p.requires_grad]
        if not params and not any(True for _ in module.parameters()):
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               "that requires a gradient.")
        if init_sync:
            self._sync_module_states()
        self._buckets, self._where = self._build_buckets(params)
        self._launched = 0
        self._expect = False
        self._used = set()
        self._handles = [p.register_post_accumulate_grad_hook(self._grad_ready) for p in params]

    # -- setup ------------------------------------------------------------------------------------------
    def _sync_module_states(self):
        from ...autograd.grad_mode import no_grad
        with no_grad():
            for t in list(self.module.parameters()) + [b for b in self.module.buffers()]:
                self._dist.broadcast(t, 0, group=self.process_group)

    def _build_buckets(self, params):
        """Parameters in reverse registration order (about the order backward produces their gradients),
        grouped by dtype into buckets of at most bucket_cap_mb (the first one 1 MiB, as PyTorch)."""
        buckets, where = [], {}
        cur, cur_bytes, cur_dt = [], 0, None
        cap = _FIRST_BUCKET_BYTES
        for p in reversed(params):
            nbytes = p.numel() * p.element_size()
            dt = p.dtype.np
            if cur and (cur_bytes + nbytes > cap or dt != cur_dt):
                buckets.append(_Bucket(cur, cur_dt))
                cur, cur_bytes, cap = [], 0, self.bucket_bytes_cap
            cur.append(p)
            cur_bytes += nbytes
            cur_dt = dt
        if cur:
            buckets.append(_Bucket(cur, cur_dt))
        for bi, b in enumerate(buckets):
            for pi, p in enumerate(b.params):
                where[id(p)] = (bi, pi)
        return buckets, where

    # -- forward ------------------------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        from ...autograd.grad_mode import is_grad_enabled
        if self._expect and self._launched < len(self._buckets) and self.require_backward_grad_sync:
            if not self.find_unused_parameters:
                raise RuntimeError(_UNFINISHED)
        if self.broadcast_buffers and self.world_size > 1:
            from ...autograd.grad_mode import no_grad
            with no_grad():
                for b in self.module.buffers():
                    self._dist.broadcast(b, 0, group=self.process_group)
        out = self.module(*inputs, **kwargs)
        if is_grad_enabled() and self.require_backward_grad_sync:
            self._prepare_for_backward(out)
        return out

    def _prepare_for_backward(self, out):
        for b in self._buckets:
            b.pending, b.work = len(b.params), None
        self._launched = 0
        self._expect = True
        self._used = set()
        if self.find_unused_parameters:
            reached = _reachable_leaves(out)
            for b in self._buckets:
                for p in b.params:
                    if id(p) not in reached:
                        self._mark(p, used=False)

    # -- backward hooks -------------------------------------------------------------------------------------
    def _grad_ready(self, p):
        if not self.require_backward_grad_sync or not self._expect:
            return
        self._mark(p, used=True)

    def _mark(self, p, used):
        bi, pi = self._where[id(p)]
        b = self._buckets[bi]
        off = b.offsets[pi]
        if used:
            self._used.add(id(p))
            b.buf[off:off + p.numel()] = p.grad.detach().cpu()._np().reshape(-1)
        else:
            b.buf[off:off + p.numel()] = 0
        b.pending -= 1
        if b.pending == 0:
            self._launch(b)

    def _launch(self, b):
        from mpi4py import MPI
        comm = self._dist.c10d._group(self.process_group).comm
        b.work = comm.Iallreduce(MPI.IN_PLACE, b.buf, op=MPI.SUM)
        self._launched += 1
        if self._launched == len(self._buckets):
            self._finalize()

    def _finalize(self):
        from ...autograd.grad_mode import no_grad
        from ...creation import from_numpy
        used_anywhere = None
        if self.find_unused_parameters:
            flags = np.array([1 if id(p) in self._used else 0 for b in self._buckets for p in b.params], np.int32)
            comm = self._dist.c10d._group(self.process_group).comm
            from mpi4py import MPI
            comm.Allreduce(MPI.IN_PLACE, flags, op=MPI.MAX)
            used_anywhere = iter(flags.tolist())
        for b in self._buckets:
            from ...distributed.c10d import _wait
            _wait(b.work, None)
            b.buf /= self.world_size
            with no_grad():
                for p, off in zip(b.params, b.offsets):
                    if used_anywhere is not None and not next(used_anywhere):
                        continue
                    flat = b.buf[off:off + p.numel()].reshape(p.shape)
                    if self.gradient_as_bucket_view and p.dtype.np == b.buf.dtype and not p.is_cuda:
                        p.grad = from_numpy(flat)
                    elif p.grad is None:
                        p.grad = from_numpy(flat.copy()).to(p.dtype).to(p.device)
                    else:
                        p.grad.copy_(from_numpy(flat).to(p.dtype))
        self._expect = False

    # -- API ------------------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def no_sync(self):
        """Gradients accumulate locally inside the block; the next synchronised backward averages them."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def _set_static_graph(self):
        pass

    def join(self, *args, **kwargs):
        return contextlib.nullcontext()

    def register_comm_hook(self, state, hook):
        raise NotImplementedError("numtorch's DistributedDataParallel does not support communication hooks yet")


def _reachable_leaves(out):
    """ids of the leaf tensors the autograd graph of ``out`` reaches (for find_unused_parameters)."""
    from ...tensor import Tensor
    roots = []
    stack = [out]
    while stack:
        o = stack.pop()
        if isinstance(o, Tensor):
            if o.grad_fn is not None:
                roots.append(o.grad_fn)
        elif isinstance(o, dict):
            stack.extend(o.values())
        elif isinstance(o, (list, tuple)):
            stack.extend(o)
    seen, leaves = set(), set()
    while roots:
        n = roots.pop()
        if n is None or id(n) in seen:
            continue
        seen.add(id(n))
        v = getattr(n, "variable", None)
        if v is not None:
            leaves.add(id(v))
        roots.extend(e[0] for e in n.next_functions)
    return leaves
