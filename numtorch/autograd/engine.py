"""The backward engine: iterative topological order (no recursion), gradient buffers, central
un-broadcasting, saved-tensor release, tensor hooks and retain_grad."""
import heapq
import weakref

from .grad_mode import is_grad_enabled, set_grad_enabled
from .graph import AccumulateGrad, edge_of


def sum_to_meta(g, meta):
    """Reduce a broadcast gradient back to an input's (shape, dtype, device)."""
    shape, dtype, _ = meta
    gs = g._shape
    if gs != shape:
        lead = len(gs) - len(shape)
        dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and gs[lead + i] != 1)
        if dims:
            g = g.sum(dims, keepdim=True)
        if lead or g._shape != shape:
            g = g.reshape(shape)
    if g.dtype is not dtype and dtype.is_floating_point:
        g = g.to(dtype)
    return g


def _install_retain(t):
    node = t.grad_fn
    if node._retained is None:
        node._retained = {}
    node._retained[t._output_nr] = weakref.ref(t)


class _RemovableHook:
    def __init__(self, lst, fn):
        self._lst, self._fn = lst, fn

    def remove(self):
        if self._fn in self._lst:
            self._lst.remove(self._fn)


def register_tensor_hook(t, hook):
    if not t._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if t.grad_fn is None:
        if t._hooks is None:
            t._hooks = []
        t._hooks.append(hook)
        return _RemovableHook(t._hooks, hook)
    nr = t._output_nr
    entry = (nr, hook)
    t.grad_fn._pre_hooks.append(entry)
    return _RemovableHook(t.grad_fn._pre_hooks, entry)


def _implicit_grads(tensors, grads):
    from ..creation import ones_like
    out = []
    for i, (t, g) in enumerate(zip(tensors, grads)):
        if g is None:
            if t.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not t.dtype.is_floating_point:
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got "
                                   f"{t.dtype}")
            g = ones_like(t)
        elif not hasattr(g, "_vc"):
            from ..creation import tensor
            g = tensor(g, dtype=t.dtype)
        if g._shape != t._shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of torch.Size({list(g._shape)}) "
                               f"and output[{i}] has a shape of torch.Size({list(t._shape)}).")
        out.append(g)
    return out


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


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None, inputs=None):
    """``torch.autograd.backward``: accumulate gradients of ``tensors`` into leaves' ``.grad``."""
    tensors = _as_list(tensors)
    grads = _as_list(grad_tensors) or [None] * len(tensors)
    if len(grads) != len(tensors):
        raise RuntimeError(f"got {len(grads)} gradients but {len(tensors)} tensors")
    retain = create_graph if retain_graph is None else retain_graph
    edges = _roots(tensors)
    grads = _implicit_grads(tensors, grads)
    only = None
    if inputs is not None:
        inputs = _as_list(inputs)
        if not inputs:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
        only = {id(edge_of(t)[0]) for t in inputs}
    _execute(edges, grads, retain, create_graph, capture=None, accumulate_only=only)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """``torch.autograd.grad``: gradients of outputs w.r.t. inputs, without touching ``.grad``."""
    single = not isinstance(inputs, (list, tuple))
    outputs, inputs = _as_list(outputs), _as_list(inputs)
    allow_unused = materialize_grads if allow_unused is None else allow_unused
    for t in inputs:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = _as_list(grad_outputs) or [None] * len(outputs)
    retain = create_graph if retain_graph is None else retain_graph
    edges = _roots(outputs)
    grads = _implicit_grads(outputs, grads)
    capture = {}
    for i, t in enumerate(inputs):
        capture.setdefault((id(edge_of(t)[0]), edge_of(t)[1]), []).append(i)
    results = _execute(edges, grads, retain, create_graph, capture=capture, n_inputs=len(inputs),
                       keep=[edge_of(t)[0] for t in inputs])
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


def _graph(edges):
    """Dependency counts of every node reachable from the roots (iterative DFS)."""
    deps = {}
    seen = set()
    stack = [e[0] for e in edges]
    nodes = {}
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        nodes[id(n)] = n
        for nxt, _ in n.next_functions:
            if nxt is not None:
                deps[id(nxt)] = deps.get(id(nxt), 0) + 1
                if id(nxt) not in seen:
                    stack.append(nxt)
    return deps, nodes


def _add(a, b):
    return b if a is None else (a if b is None else a + b)


def _execute(edges, grads, retain, create_graph, capture=None, n_inputs=0, keep=None, accumulate_only=None):
    deps, nodes = _graph(edges)
    buffers = {}
    for (node, nr), g in zip(edges, grads):
        buf = buffers.setdefault(id(node), [None] * node._num_outputs)
        buf[nr] = _add(buf[nr], g)
    results = [None] * n_inputs
    heap = []
    pushed = set()
    for node, _ in edges:
        if deps.get(id(node), 0) == 0 and id(node) not in pushed:
            pushed.add(id(node))
            heapq.heappush(heap, (-node._seq, id(node)))
    prev = is_grad_enabled()
    set_grad_enabled(create_graph)
    try:
        while heap:
            _, nid = heapq.heappop(heap)
            node = nodes[nid]
            gbuf = buffers.pop(nid, None) or [None] * node._num_outputs
            _run_node(node, gbuf, buffers, deps, nodes, heap, retain, create_graph, capture, results,
                      accumulate_only)
    finally:
        set_grad_enabled(prev)
    return results


def _run_node(node, gbuf, buffers, deps, nodes, heap, retain, create_graph, capture, results, only):
    for hook in node._pre_hooks:
        nr, fn = hook if isinstance(hook, tuple) else (None, hook)
        if nr is not None and gbuf[nr] is not None:
            r = fn(gbuf[nr])
            if r is not None:
                gbuf[nr] = r
    if node._retained:
        for nr, ref in node._retained.items():
            t = ref()
            if t is not None and gbuf[nr] is not None:
                g = gbuf[nr] if create_graph else gbuf[nr].detach()
                t._grad = g.clone() if t._grad is None else t._grad + g
    if capture is not None:
        for nr in range(len(gbuf)):
            for i in capture.get((id(node), nr), ()):
                results[i] = gbuf[nr]
    if isinstance(node, AccumulateGrad):
        if capture is None and (only is None or id(node) in only) and gbuf[0] is not None:
            _accumulate(node, gbuf[0], create_graph)
        return
    if capture is not None and all(g is None for g in gbuf):
        outs = (None,) * len(node.next_functions)
    elif all(g is None for g in gbuf):
        outs = (None,) * len(node.next_functions)
    else:
        outs = node._backward(node, *gbuf)
        if not isinstance(outs, tuple):
            outs = (outs,)
        for h in node._hooks:
            h(tuple(outs), tuple(gbuf))
    if not retain:
        node.release()
    for (nxt, nr), g, meta in zip(node.next_functions, outs, node._input_meta):
        if nxt is None:
            continue
        if g is not None:
            if meta is not None:
                g = sum_to_meta(g, meta)
            buf = buffers.setdefault(id(nxt), [None] * nxt._num_outputs)
            buf[nr] = _add(buf[nr], g)
        deps[id(nxt)] -= 1
        if deps[id(nxt)] == 0:
            heapq.heappush(heap, (-nxt._seq, id(nxt)))


def _accumulate(node, g, create_graph):
    var = node.variable
    if var is None:
        return
    if var._hooks:
        for h in var._hooks:
            r = h(g)
            if r is not None:
                g = r
    if var._grad is None:
        var._grad = g.clone() if create_graph else g.detach().clone()
    elif create_graph:
        var._grad = var._grad + g
    else:
        from .grad_mode import no_grad
        with no_grad():
            var._grad.add_(g.detach())
    for h in getattr(node, "_post_acc_hooks", ()):
        h(var)
