"""History rewriting for in-place ops: a plain tensor gets a new grad_fn; a view's base gets CopySlices."""
from .graph import _init_node, edge_of, node_class, record


def _prev(t):
    """An alias carrying ``t``'s current history (the input of the in-place op's node)."""
    p = t._alias()
    p.grad_fn = t.grad_fn
    p._output_nr = t._output_nr
    p._requires_grad = t._requires_grad
    if t.grad_fn is None and t._requires_grad:
        p._grad_acc = t._grad_acc
        if p._grad_acc is None:
            from .graph import grad_accumulator
            grad_accumulator(t)
            p._grad_acc = t._grad_acc
    return p


def _geometry(view, base):
    shape, stride, off = view._shape, view._stride, view._offset - base._offset
    return lambda z: z._view_of(shape, stride, z._offset + off)


def rebase_history(self, make_node):
    """Apply ``make_node(prev)`` so that ``self`` (or its base, via CopySlices) carries the new history."""
    base = self._base
    if base is None:
        make_node(_prev(self))
        return
    view_fn = _geometry(self, base)
    prev_base = _prev(base)
    holder = self._alias()
    holder.grad_fn, holder._requires_grad = None, False
    make_node(holder)           # the op's own node: its input-0 edge is replaced by CopySlices below
    fn = holder.grad_fn
    if fn is None:
        return
    _copy_slices(base, prev_base, fn, view_fn)
    _regenerate_view(self, base, view_fn)


def _copy_slices(base, prev_base, fn, view_fn):
    def backward(node, g):
        result = g.clone()
        gs = view_fn(result)
        res = fn._backward(fn, gs.clone())
        res = res if isinstance(res, tuple) else (res,)
        from .engine import sum_to_meta
        if res[0] is not None:
            gs.copy_(sum_to_meta(res[0], fn._input_meta[0]))
        else:
            gs.zero_()
        others = tuple(sum_to_meta(r, m) if r is not None and m is not None else r
                       for r, m in zip(res[1:], fn._input_meta[1:]))
        return (result,) + others

    node = node_class("CopySlices").__new__(node_class("CopySlices"))
    _init_node(node, (edge_of(prev_base),) + fn.next_functions[1:])
    node._backward = backward
    node.ctx = fn
    node._input_meta = ((base._shape, base.dtype, base.device),) + fn._input_meta[1:]
    node.needs = (True,) + tuple(e[0] is not None for e in fn.next_functions[1:])
    fn.needs = (True,) + tuple(fn.needs[1:]) if getattr(fn, "needs", None) else None
    base.grad_fn = node
    base._output_nr = 0
    base._requires_grad = True


def _regenerate_view(view, base, view_fn):
    from .. import views as _views
    src = base._alias()
    src.grad_fn, src._requires_grad = base.grad_fn, True
    v = _views.as_strided(src, view._shape, view._stride, view._offset)
    view.grad_fn = v.grad_fn
    view._output_nr = 0
    view._requires_grad = True


def _bw_copy(node, g):
    return g * 0, g


def record_copy(self, src):
    """History for ``self.copy_(src)`` (also used by setitem and fills)."""
    rebase_history(self, lambda prev: record("CopyBackwards", self, (prev, src), _bw_copy))
