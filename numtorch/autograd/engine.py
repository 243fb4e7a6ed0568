"""The backward engine: iterative (no recursion at any depth), dependency-counted topological order
with PyTorch's priority (most recently created node first, AccumulateGrad as soon as ready), gradient
buffers, central un-broadcasting/casting, saved-tensor release, tensor/node hooks and retain_grad."""
import heapq
from sys import getrefcount

import numpy as np

from .grad_mode import _state
from .graph import AccumulateGrad, edge_of
from .hooks import (_PostAccumulate, _install_retain, _tensor_pre_hooks,  # noqa: F401 (tensor.py imports these)
                    register_post_accumulate_grad_hook, register_tensor_hook)
from ..kernels import elementwise as _ew
from ..shape import contiguous_strides


def _shape_str(shape):
    return "[" + ", ".join(map(str, shape)) + "]"


def sum_to_meta(g, meta, node=None, index=0):
    """Reduce a broadcast gradient back to an input's (shape, dtype, device)."""
    shape, dtype, device = meta
    gs = g._shape
    if gs != shape:
        lead = len(gs) - len(shape)
        if lead < 0 or any(s != 1 and s != gs[lead + i] for i, s in enumerate(shape)):
            who = node.name() if node is not None else "Function"
            raise RuntimeError(f"Function {who} returned an invalid gradient at index {index} - got "
                               f"{_shape_str(gs)} but expected shape compatible with {_shape_str(shape)}")
        dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and gs[lead + i] != 1)
        if dims:
            g = g.sum(dims, keepdim=True)
        if lead or g._shape != shape:
            g = g.reshape(shape)
    if g.dtype is not dtype and dtype.is_floating_point:
        g = g.to(dtype)
    if device is not None and g._storage.device is not device and g._storage.device != device:
        g = g.to(device)            # a 0-d CPU input of a CUDA op gets its gradient on the CPU
    return g


# -- entry points -----------------------------------------------------------------------------------

def _as_list(x):
    if x is None:
        return None
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _roots(tensors):
    edges = []
    for i, t in enumerate(tensors):
        e = edge_of(t)
        if e[0] is None:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        edges.append(e)
    return edges


def _ones_like(t):
    global _ones_like_fn, _tensor_of
    if _ones_like_fn is None:
        from ..creation import ones_like as _ones_like_fn
        from ..fastpath import tensor_of as _tensor_of
    if not t._shape and t._storage.device.type == "cpu" and t.dtype.np is t.dtype.compute:
        b = np.empty(1, t.dtype.np)                     # a scalar loss's implicit gradient (np.ones is slow)
        b.fill(1)
        return _tensor_of(b, (), (), t.dtype)
    return _ones_like_fn(t)


_ones_like_fn = _tensor_of = None


def _implicit_grads(tensors, grads):
    out = []
    for i, (t, g) in enumerate(zip(tensors, grads)):
        if g is None:
            if t.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not t.dtype.is_floating_point:
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got "
                                   f"{t.dtype}")
            g = _ones_like(t)
        elif not hasattr(g, "_vc"):
            from ..creation import tensor
            g = tensor(g, dtype=t.dtype, device=t.device)
        if g._shape != t._shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of torch.Size({list(g._shape)}) "
                               f"and output[{i}] has a shape of torch.Size({list(t._shape)}).")
        if g._storage.device != t._storage.device:
            raise RuntimeError(f"invalid gradient at index {i} - expected device {t.device} but got {g.device}")
        out.append(g)
    return out


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None, inputs=None):
    """``torch.autograd.backward``: accumulate gradients of ``tensors`` into leaves' ``.grad``."""
    if grad_variables is not None:
        grad_tensors = grad_variables
    tensors = _as_list(tensors)
    grads = _as_list(grad_tensors) or [None] * len(tensors)
    if len(grads) != len(tensors):
        raise RuntimeError(f"got {len(tensors)} tensors and {len(grads)} gradients")
    retain = create_graph if retain_graph is None else retain_graph
    edges = _roots(tensors)
    grads = _implicit_grads(tensors, grads)
    targets = None
    if inputs is not None:
        inputs = _as_list(inputs)
        if not inputs:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
        targets = {}
        for t in inputs:
            e = edge_of(t)
            if e[0] is None:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            if t.grad_fn is not None and not t._retains_grad:
                t.retain_grad()       # PyTorch populates .grad of non-leaf inputs
            targets[e[0]] = None
    _execute(edges, grads, retain, create_graph, targets=targets)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """``torch.autograd.grad``: gradients of outputs w.r.t. inputs, without touching ``.grad``."""
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, but got: "
                         "allow_unused=False.")
    outputs = _as_list(outputs)
    inputs = _as_list(inputs)
    allow_unused = materialize_grads if allow_unused is None else allow_unused
    for t in inputs:
        if not getattr(t, "_requires_grad", False):
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = _as_list(grad_outputs) or [None] * len(outputs)
    if len(grads) != len(outputs):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(grads)} gradients")
    retain = create_graph if retain_graph is None else retain_graph
    edges = _roots(outputs)
    grads = _implicit_grads(outputs, grads)
    if is_grads_batched:
        raise NotImplementedError("is_grads_batched=True is not supported by numtorch")
    captures = {}
    for i, t in enumerate(inputs):
        node, nr = edge_of(t)
        captures.setdefault(node, []).append((nr, i))
    results = [None] * len(inputs)
    _execute(edges, grads, retain, create_graph, targets=captures, captures=captures, results=results)
    out = []
    for i, r in enumerate(results):
        if r is None:
            if not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have been used in the "
                                   "graph. Set allow_unused=True if this is the desired behavior.")
            if materialize_grads:
                from ..creation import zeros_like
                r = zeros_like(inputs[i])
        out.append(r)
    return tuple(out)


# -- execution --------------------------------------------------------------------------------------

def _dependencies(roots):
    """Number of incoming edges of every node reachable from the roots (iterative DFS)."""
    deps = {}
    if len(roots) == 1:
        # A single root is never reached again (the graph is acyclic): ``deps`` doubles as the seen set.
        stack = list(roots)
        pop, push = stack.pop, stack.append
        while stack:
            for nxt, _ in pop().next_functions:
                if nxt is not None:
                    if nxt in deps:
                        deps[nxt] += 1
                    else:
                        deps[nxt] = 1
                        push(nxt)
        return deps
    seen = set(roots)
    stack = list(seen)
    while stack:
        for nxt, _ in stack.pop().next_functions:
            if nxt is not None:
                if nxt in deps:
                    deps[nxt] += 1
                else:
                    deps[nxt] = 1
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
    return deps


def _needed(roots, deps, targets):
    """Nodes lying on a path to a target (the only ones that must run when inputs are given)."""
    order = []
    remaining = dict(deps)
    ready = [n for n in set(roots) if n not in remaining]
    while ready:
        n = ready.pop()
        order.append(n)
        for nxt, _ in n.next_functions:
            if nxt is not None:
                remaining[nxt] -= 1
                if remaining[nxt] == 0:
                    ready.append(nxt)
    needed = set()
    for n in reversed(order):
        for nxt, _ in n.next_functions:
            if nxt is not None and (nxt in needed or nxt in targets):
                needed.add(n)
                break
        else:
            if n in targets and not _is_capture_only(n, targets):
                needed.add(n)
    return needed


def _is_capture_only(n, targets):
    return targets[n] is not None          # autograd.grad captures; backward(inputs=) executes


def _execute(roots, grads, retain, create_graph, targets=None, captures=None, results=None):
    root_nodes = [n for n, _ in roots]
    deps = _dependencies(root_nodes)
    needed = _needed(root_nodes, deps, targets) if targets is not None else None
    buffers = {}
    for (node, nr), g in zip(roots, grads):
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node._num_outputs
        buf[nr] = g if buf[nr] is None else buf[nr] + g
    heap = [(-node._seq, node) for node in buffers if node not in deps]
    heapq.heapify(heap)
    heappush, heappop = heapq.heappush, heapq.heappop
    state = _state
    prev_enabled = getattr(state, "enabled", True)
    prev_create = getattr(state, "create_graph", False)
    state.enabled = state.create_graph = bool(create_graph)
    follow = None       # the one node made ready last step while nothing else was: it runs next, heap-free
    try:
        while True:
            if follow is not None:
                node, follow = follow, None
            elif heap:
                node = heappop(heap)[1]
            else:
                break
            gbuf = buffers.pop(node, None)
            if gbuf is None:
                gbuf = [None] * node._num_outputs
            if needed is not None:
                if captures is not None and node in captures:
                    if node in needed:
                        _capture(node, gbuf, captures, results)     # PyTorch captures before the hooks here
                        _tensor_pre_hooks(node, gbuf)
                    else:
                        _tensor_pre_hooks(node, gbuf)
                        _capture(node, gbuf, captures, results)
                        continue
                elif node not in needed:
                    continue
                else:
                    _tensor_pre_hooks(node, gbuf)
            elif node._hooked and (node._tensor_hooks is not None or node._retained is not None):
                _tensor_pre_hooks(node, gbuf)
            if node.__class__ is AccumulateGrad:
                if captures is None:
                    var = node.variable
                    if var is None:
                        continue            # the leaf is gone: nobody can read its gradient
                    if needed is None and var._hooks:
                        _tensor_pre_hooks(node, gbuf)
                    if gbuf[0] is not None:
                        _accumulate(node, gbuf[0], create_graph)
                continue
            if node._hooked and (node._pre_hooks or node._hooks):
                outs = _call(node, gbuf)
            elif len(gbuf) == 1:
                g = gbuf[0]
                if g is None:
                    outs = ()
                else:
                    outs = node._backward(node, g)
                    if type(outs) is not tuple:
                        outs = tuple(outs) if isinstance(outs, list) else (outs,)
            else:
                for g in gbuf:
                    if g is not None:
                        outs = node._backward(node, *gbuf)
                        if type(outs) is not tuple:
                            outs = tuple(outs) if isinstance(outs, list) else (outs,)
                        break
                else:
                    outs = ()
            if not retain and node._saved:
                node._saved = None
            metas = node._input_meta
            n_outs = len(outs)
            i = 0
            ready = None
            for nxt, nr in node.next_functions:
                if nxt is not None:
                    g = outs[i] if i < n_outs else None
                    if g is not None:
                        meta = metas[i]
                        if meta is not None and (g._shape != meta[0] or g.dtype is not meta[1]):
                            g = sum_to_meta(g, meta, node, i)
                        buf = buffers.get(nxt)
                        if buf is None:
                            if nxt._num_outputs == 1:
                                buffers[nxt] = [g]
                            else:
                                buf = buffers[nxt] = [None] * nxt._num_outputs
                                buf[nr] = g
                        else:
                            old = buf[nr]
                            buf[nr] = g if old is None else old + g
                    d = deps[nxt] - 1
                    deps[nxt] = d
                    if d == 0:
                        if ready is None:
                            ready = nxt
                        else:
                            heappush(heap, (-nxt._seq, nxt))
                i += 1
            if ready is not None:
                if heap:
                    heappush(heap, (-ready._seq, ready))
                else:
                    follow = ready
            g = old = outs = None       # no stale references (gradient stealing counts them)
    finally:
        state.enabled = prev_enabled
        state.create_graph = prev_create


def _capture(node, gbuf, captures, results):
    for nr, i in captures[node]:
        results[i] = gbuf[nr]


def _call(node, gbuf):
    if node._pre_hooks:
        for h in tuple(node._pre_hooks):
            r = h(tuple(gbuf))
            if r is not None:
                gbuf = list(r)
    for g in gbuf:
        if g is not None:
            outs = node._backward(node, *gbuf)
            if type(outs) is not tuple:
                outs = tuple(outs) if isinstance(outs, list) else (outs,)
            break
    else:
        outs = (None,) * len(node.next_functions)
    if node._hooks:
        for h in tuple(node._hooks):
            r = h(outs, tuple(gbuf))
            if r is not None:
                r = tuple(r) if isinstance(r, (tuple, list)) else (r,)
                if len(r) != len(outs):
                    raise RuntimeError(f"hook '{getattr(h, '__name__', h)}' has returned an incorrect number of "
                                       f"values (got {len(r)}, but expected {len(outs)})")
                outs = r
    return outs


def _fresh(g, var):
    """True when ``g`` can become ``var.grad`` without a copy: nothing else references the tensor or its
    storage (PyTorch steals the gradient buffer under the same use-count condition)."""
    return (g._base is None and g._offset == 0 and g.dtype is var.dtype and g._shape == var._shape
            and g._stride == _contig(g._shape) and not g._requires_grad
            and getrefcount(g._storage) == 2 and getrefcount(g._storage.data) == 2 and getrefcount(g) <= 4
            and len(g._storage.data) == g.numel())


_contig = contiguous_strides


def _add_into(dst, src):
    """``dst += src`` (same shape) without recording, through the elementwise kernel when possible."""
    buf = dst._storage.data
    if (src.dtype is dst.dtype and buf.dtype == dst.dtype.compute and dst._storage.device.type == "cpu"
            and src._storage.device.type == "cpu" and src._shape == dst._shape
            and all(s or n == 1 for s, n in zip(dst._stride, dst._shape))):
        _ew.binary("add", src._storage.data, src._offset, src._stride, buf, dst._offset, dst._stride,
                   buf, dst._offset, dst._stride, dst._shape)
        dst._bump()
        return
    prev = _state.enabled
    _state.enabled = False
    try:
        dst.add_(src.detach())
    finally:
        _state.enabled = prev


def _accumulate(node, g, create_graph):
    var = node.variable
    if var is None:
        return
    old = var._grad
    if old is None:
        if create_graph:
            var._grad = g.clone()
        elif _fresh(g, var):
            var._grad = g
        else:
            var._grad = g.detach().clone()
    elif create_graph or old._requires_grad:
        var._grad = old + g
    else:
        _add_into(old, g)
    hooks = var._hooks
    if hooks:
        for h in tuple(hooks):
            if type(h) is _PostAccumulate:
                h.fn(var)
