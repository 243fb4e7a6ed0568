"""History rewriting for in-place ops (PyTorch's rebase_history).

A plain tensor simply gets the op's node as its new grad_fn. An in-place op on a view ``v`` of ``base``
records the op's node ``fn`` on ``v``, then gives ``base`` a ``CopySlices`` node (the base's gradient is
the incoming one with the view's region replaced by ``fn``'s input gradient) and regenerates ``v``'s
grad_fn as ``AsStridedBackward0`` of the new base history, as PyTorch does."""
from .graph import CopySlices, _init_node, edge_of, record


def _prev(t):
    """An alias carrying ``t``'s current history (the input 0 of the in-place op's node)."""
    p = t._alias()
    p.grad_fn = t.grad_fn
    p._output_nr = t._output_nr
    p._requires_grad = t._requires_grad
    if t.grad_fn is None and t._requires_grad:
        from .graph import grad_accumulator
        grad_accumulator(t)
        p._grad_acc = t._grad_acc
    return p


class _Geometry:
    """Where a view sits inside its base's storage (element offsets relative to the base)."""
    __slots__ = ("shape", "stride", "dense", "extent", "vshape", "vstride", "rel", "dtype", "device")

    def __init__(self, view, base):
        from ..shape import contiguous_strides
        self.shape, self.stride = base._shape, base._stride
        self.dense = base._stride == contiguous_strides(base._shape)
        n = 1
        for s in base._shape:
            n *= s
        self.extent = (1 + sum((s - 1) * st for s, st in zip(base._shape, base._stride))) if n else 0
        self.vshape, self.vstride = view._shape, view._stride
        self.rel = view._offset - base._offset
        self.dtype, self.device = base.dtype, base._storage.device

    def root(self, g=None):
        """A fresh buffer laid out like the base, holding ``g`` (base-shaped) or zeros."""
        from ..creation import zeros
        from ..views import as_strided
        if self.dense:
            if g is not None:
                r = g.clone()
                if r._shape != self.shape:
                    r = r.expand(self.shape).clone()
                return r
            return zeros(self.shape, dtype=self.dtype, device=self.device)
        buf = zeros(self.extent, dtype=self.dtype, device=self.device)
        if g is not None:
            as_strided(buf, self.shape, self.stride, 0).copy_(g)
        return buf

    def base_of(self, r):
        if self.dense:
            return r
        from ..views import as_strided
        return as_strided(r, self.shape, self.stride, 0)

    def view_of(self, r):
        from ..views import as_strided
        return as_strided(r, self.vshape, self.vstride, r._offset + self.rel)


def _copy_slices_backward(node, g):
    fn, geo = node.ctx
    if node._saved is None:                 # released by an earlier backward
        from .graph import SECOND_BACKWARD
        raise RuntimeError(SECOND_BACKWARD)
    from .engine import sum_to_meta
    r = geo.root(g)
    gs = geo.view_of(r)
    res = fn._backward(fn, gs.clone())
    if not isinstance(res, tuple):
        res = (res,)
    if res[0] is not None:
        gs.copy_(sum_to_meta(res[0], fn._input_meta[0]))
    else:
        gs.zero_()
    return (geo.base_of(r),) + tuple(res[1:])


def _as_strided_backward(node, g):
    geo = node.ctx
    r = geo.root()
    geo.view_of(r).copy_(g)
    return (geo.base_of(r),)


def rebase_history(self, make_node):
    """Apply ``make_node(prev)`` (which records the op's node with output ``self`` and input 0 ``prev``)
    so that ``self`` (or its base, through CopySlices) carries the new history."""
    base = self._base
    if base is None:
        make_node(_prev(self))
        if self._retains_grad and self.grad_fn is not None:
            _retain(self)
        return
    old = self.grad_fn
    base_edge = edge_of(base)
    make_node(_prev(self))
    fn = self.grad_fn
    if fn is None or fn is old:
        return
    # The base's gradient flows through fn's input 0 (the view's previous values).
    fn.needs = (True,) + tuple(fn.needs[1:])
    geo = _Geometry(self, base)
    node = CopySlices.__new__(CopySlices)
    _init_node(node, (base_edge,) + tuple(fn.next_functions[1:]))
    node._backward = _copy_slices_backward
    node.ctx = (fn, geo)
    # PyTorch's CopySlices drops fn when released: a second backward always fails, as here.
    node._saved = fn._saved or ((None, None, 0, False),)
    node._input_meta = ((base._shape, base.dtype, base._storage.device),) + tuple(fn._input_meta[1:])
    base.grad_fn = node
    base._output_nr = 0
    base._requires_grad = True
    # The view's new history: a strided view of the updated base.
    src = base._alias()
    src.grad_fn, src._requires_grad = node, True
    self.grad_fn = None
    record("AsStridedBackward0", self, (src,), _as_strided_backward, ctx=geo)
    for t in (base, self):
        if t._retains_grad:
            _retain(t)       # retain_grad follows the tensor to its new grad_fn, as in PyTorch


def _retain(t):
    from .engine import _install_retain
    _install_retain(t)


def _bw_copy(node, g):
    from ..creation import zeros_like
    return (zeros_like(g) if node.needs[0] else None), g


def record_copy(self, src):
    """History for ``self.copy_(src)`` (CopyBackwards; CopySlices when ``self`` is a view)."""
    rebase_history(self, lambda prev: record("CopyBackwards", self, (prev, src), _bw_copy))


def _bw_fill(node, g):
    from ..creation import zeros_like
    return (zeros_like(g),) if len(node.next_functions) == 1 else (zeros_like(g), g.sum())


def record_fill(self, name="FillBackward2", value=None):
    """History for ``self.fill_(scalar)`` ('FillBackward2'), ``self.fill_(tensor)`` ('FillBackward3', pass
    the 0-d ``value``) or ``self.zero_()`` ('ZeroBackward0')."""
    rebase_history(self, lambda prev: record(name, self, (prev,) if value is None else (prev, value), _bw_fill))


def regenerate_view(t):
    base = t._base
    if not (base._requires_grad or base.grad_fn is not None):
        return t.grad_fn
    t.grad_fn = None
    record("AsStridedBackward0", t, (_prev(base),), _as_strided_backward, ctx=_Geometry(t, base))
    if t._retains_grad:
        _retain(t)
    return t.grad_fn
