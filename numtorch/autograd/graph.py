"""Graph nodes (grad_fn objects with PyTorch's class names) and the one recording entry point.

Ownership (no reference cycles): a tensor holds its ``grad_fn``; a node holds its inputs' nodes
(``next_functions``), the tensors it saved (outputs only as aliases without ``grad_fn``) and, for
``AccumulateGrad``, the leaf itself; a leaf holds its accumulator only weakly."""
import itertools
import weakref

from .grad_mode import _state

_seq = itertools.count()
_ACC_SEQ = 1 << 62          # AccumulateGrad nodes run as soon as they are ready (PyTorch: UINT64_MAX)
_node_classes = {}
_NO_EDGE = (None, 0)
_PLAIN = {int, float, bool, complex}

SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they have "
    "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
    "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or "
    "if you need to access saved tensors after calling backward.")


def _short_name(name):
    """How PyTorch names a node inside the version-counter error ('Exp', 'Prod1', 'MyFn')."""
    if name.endswith("Backward0"):
        return name[:-9]
    i = name.rfind("Backward")
    return name[:i] + name[i + 8:] if i > 0 else name


def _version_error(t, version, owner, nr):
    shape = ", ".join(map(str, t._shape))
    which = f", which is output {nr} of {_short_name(owner.name())}," if owner is not None else ""
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"[torch.{t.dtype.legacy} [{shape}]]{which} is at version {t._vc.value}; expected version {version} "
        "instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, "
        "with torch.autograd.set_detect_anomaly(True, check_nan=False).")


def _save(t, is_output=False, nr=None):
    """A saved entry: (tensor, version, output_nr, is_output); non-tensors are kept as they are."""
    try:
        return (t, t._vc.value, t._output_nr if nr is None else nr, is_output)
    except AttributeError:
        return (t, None, 0, False)


def _unpack(entry, node):
    t, version, nr, is_output = entry
    if version is not None and t._vc.value != version:
        # PyTorch names the saved tensor's current grad_fn (inputs) or the saving node (outputs).
        owner = node if is_output else t.grad_fn
        raise _version_error(t, version, owner, nr)
    if is_output and getattr(_state, "enabled", True):
        # Double backward: a saved output must lead back to its node (a fresh alias, so the graph
        # holds no tensor<->node cycle).
        t = t._alias()
        t.grad_fn = node
        t._output_nr = nr
        t._requires_grad = True
    return t


class Node:
    """Base of every grad_fn. ``_backward(node, *grads)`` returns one gradient per input edge.

    ``_saved`` is a tuple of saved entries, ``()`` when nothing was saved and ``None`` once released."""
    __slots__ = ("next_functions", "_saved", "_backward", "ctx", "_input_meta", "_seq", "_num_outputs", "_needs",
                 "__weakref__", "__dict__")
    # Rarely used fields live in the instance __dict__ only when set.
    _pre_hooks = None          # node pre-hooks: fn(grad_outputs) -> new grad_outputs or None
    _hooks = None              # node post-hooks: fn(grad_inputs, grad_outputs) -> new grad_inputs or None
    _tensor_hooks = None       # (output_nr, fn) registered through Tensor.register_hook on a non-leaf
    _retained = None           # {output_nr: weakref to a tensor that called retain_grad()}
    _hooked = False            # any of the four above was ever set: the engine's plain path skips them all
    _metadata = None
    _view_version = None       # view nodes: the version counter value their output was made at

    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"

    def _sequence_nr(self):
        return self._seq

    @property
    def needs(self):
        """Per input edge: whether a gradient is wanted (backward formulas skip the others)."""
        n = self._needs
        if n is None:
            n = self._needs = tuple([e[0] is not None for e in self.next_functions])
        return n

    @needs.setter
    def needs(self, value):
        self._needs = tuple(value)

    @property
    def metadata(self):
        if self._metadata is None:
            self._metadata = {}
        return self._metadata

    @property
    def saved_tensors(self):
        saved = self._saved
        if saved is None:
            raise RuntimeError(SECOND_BACKWARD)
        out = []
        for s in saved:
            t, version, nr, is_output = s
            if is_output or version is not None and t._vc.value != version:
                t = _unpack(s, self)
            out.append(t)
        return tuple(out)

    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` runs after the node; it may return replacement grad_inputs."""
        if self._hooks is None:
            self._hooks = []
        self._hooked = True
        self._hooks.append(fn)
        return RemovableHandle(self._hooks, fn)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` runs before the node; it may return replacement grad_outputs."""
        if self._pre_hooks is None:
            self._pre_hooks = []
        self._hooked = True
        self._pre_hooks.append(fn)
        return RemovableHandle(self._pre_hooks, fn)

    def release(self):
        if self._saved:
            self._saved = None

    def __call__(self, *grads):
        return self._backward(self, *grads)


class AccumulateGrad(Node):
    """Sink for a leaf: accumulates into ``variable.grad``. The leaf keeps its node for reuse by every
    graph it enters; the node holds the leaf weakly (no cycle), so ``variable`` is None once the leaf is
    gone, and then there is nothing to accumulate into."""
    __slots__ = ("_var",)

    @property
    def variable(self):
        return self._var()

    def name(self):
        return "torch::autograd::AccumulateGrad"

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"


class CopySlices(Node):
    """In-place op on a view: routes the base's gradient through the op at the view's position."""
    __slots__ = ()

    def name(self):
        return "torch::autograd::CopySlices"

    def __repr__(self):
        return f"<CopySlices object at {hex(id(self))}>"


class RemovableHandle:
    """``handle.remove()`` unregisters a hook; also a context manager (PyTorch's RemovableHandle)."""
    __slots__ = ("_lst", "_fn")
    _next_id = itertools.count()

    def __init__(self, lst, fn):
        self._lst, self._fn = lst, fn

    def remove(self):
        lst = self._lst
        if lst is not None:
            for i, f in enumerate(lst):
                if f is self._fn:
                    del lst[i]
                    break
        self._lst = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()




def node_class(name):
    """One Node subclass per PyTorch grad_fn name (``AddBackward0``...), created on first use."""
    cls = _node_classes.get(name)
    if cls is None:
        cls = _node_classes[name] = type(name, (Node,), {"__slots__": (), "__module__": "torch.autograd.graph"})
    return cls


def _init_node(node, next_functions):
    """Fill the slots of a bare node (used by inplace.py and function.py)."""
    node.next_functions = next_functions
    node._saved = ()
    node._backward = None
    node.ctx = None
    node._input_meta = ()
    node._seq = next(_seq)
    node._num_outputs = 1
    node._needs = None


def grad_accumulator(t):
    """The AccumulateGrad node of a leaf tensor, cached on the leaf while its shape and dtype hold."""
    acc = t._grad_acc
    if acc is None or acc._input_meta[0][0] != t._shape or acc._input_meta[0][1] is not t.dtype:
        acc = AccumulateGrad.__new__(AccumulateGrad)
        acc.next_functions = ()
        acc._saved = ()
        acc._backward = None
        acc.ctx = None
        acc._seq = _ACC_SEQ + next(_seq)
        acc._num_outputs = 1
        acc._needs = ()
        acc._input_meta = ((t._shape, t.dtype, t._storage.device),)
        acc._var = weakref.ref(t)
        t._grad_acc = acc
    return acc


def edge_of(t):
    """(node, output_nr) an input contributes to: grad_fn, AccumulateGrad, or (None, 0)."""
    if t is None or not hasattr(t, "_vc"):
        return (None, 0)
    fn = t.grad_fn
    if fn is not None:
        if t._base is not None and fn._view_version is not None and fn._view_version != t._vc.value:
            fn = _regenerate(t)
        return (fn, t._output_nr)
    if t._requires_grad:
        return (grad_accumulator(t), 0)
    return (None, 0)


def needs_grad(*inputs):
    if not getattr(_state, "enabled", True):
        return False
    for t in inputs:
        if t is not None:
            try:
                if t._requires_grad:
                    return True
            except AttributeError:
                pass
    return False


def record(name, outputs, inputs, backward, save=(), save_outputs=(), ctx=None):
    """Attach a grad_fn called ``name`` to ``outputs`` (a tensor or a tuple).

    ``backward(node, *grads_per_output)`` returns a tuple with one gradient (or None) per entry of
    ``inputs``; the engine un-broadcasts/casts each to its input's (shape, dtype). ``save`` are input
    tensors (or plain values) and ``save_outputs`` indices of outputs needed by backward; both come
    back from ``node.saved_tensors`` (version-checked against in-place changes)."""
    cls = _node_classes.get(name)
    if cls is None:
        cls = node_class(name)
    node = cls.__new__(cls)
    edges = []
    metas = []
    for t in inputs:
        if t is None:
            edges.append(_NO_EDGE)
            metas.append(None)
            continue
        try:
            fn = t.grad_fn
        except AttributeError:              # a non-tensor operand
            edges.append(_NO_EDGE)
            metas.append(None)
            continue
        if fn is not None:
            if t._base is not None and fn._view_version is not None and fn._view_version != t._vc.value:
                fn = _regenerate(t)
            edges.append((fn, t._output_nr))
        elif t._requires_grad:
            edges.append((grad_accumulator(t), 0))
        else:
            edges.append(_NO_EDGE)
        metas.append((t._shape, t.dtype, t._storage.device))
    node.next_functions = tuple(edges)
    node._needs = None
    node._input_meta = tuple(metas)
    node._backward = backward
    node.ctx = ctx
    node._seq = next(_seq)
    if type(outputs) is tuple or type(outputs) is list:
        outs = outputs
        node._num_outputs = len(outs)
    else:
        outs = (outputs,)
        node._num_outputs = 1
    saved = None
    if save:
        saved = []
        for t in save:
            if t is None or t.__class__ in _PLAIN:
                saved.append((t, None, 0, False))
            else:
                saved.append(_save(t))
    nr = 0
    for o in outs:
        if o is not None and o.dtype.is_floating_point:
            o._requires_grad = True
            o.grad_fn = node
            o._output_nr = nr
            if o._base is not None:
                node._view_version = o._vc.value
        nr += 1
    if save_outputs:
        # An alias without grad_fn (same storage and version counter) avoids a node<->tensor cycle.
        saved = (saved or []) + [_save(outs[i]._alias(), True, i) for i in save_outputs]
    node._saved = tuple(saved) if saved else ()
    return outputs


_new = object.__new__
_NO_SAVE = (None, None, 0, False)


def _edge_meta(t):
    """(edge, meta) of one operand of ``record_op``: ``record``'s per-input step, inlined."""
    fn = t.grad_fn
    if fn is not None:
        if t._base is not None and fn._view_version is not None and fn._view_version != t._vc.value:
            fn = _regenerate(t)
        e = (fn, t._output_nr)
    elif t._requires_grad:
        e = (grad_accumulator(t), 0)
    else:
        e = _NO_EDGE
    return e, (t._shape, t.dtype, t._storage.device)


def record_op(name, out, a, b, backward, saved, ctx, save_out):
    """``record`` for the elementwise table ops: one output, tensor ``a`` and a tensor ``b``, None (a
    scalar operand: no edge) or False (unary: one input); ``saved`` are ready entries
    (``_save``/``_NO_SAVE``); ``save_out`` adds the output as ``save_outputs=(0,)`` does."""
    cls = _node_classes.get(name)
    if cls is None:
        cls = node_class(name)
    node = _new(cls)
    ea, ma = _edge_meta(a)
    if b is False:
        node.next_functions = (ea,)
        node._input_meta = (ma,)
    elif b is None:
        node.next_functions = (ea, _NO_EDGE)
        node._input_meta = (ma, None)
    else:
        eb, mb = _edge_meta(b)
        node.next_functions = (ea, eb)
        node._input_meta = (ma, mb)
    node._needs = None
    node._backward = backward
    node.ctx = ctx
    node._seq = next(_seq)
    node._num_outputs = 1
    out._requires_grad = True
    out.grad_fn = node
    out._output_nr = 0
    if out._base is not None:
        node._view_version = out._vc.value
    if save_out:
        al = out._alias()
        saved = saved + ((al, al._vc.value, 0, True),)
    node._saved = saved
    return out


def _regenerate(t):
    """A view whose base changed in place since the view was made gets a fresh AsStridedBackward0
    grad_fn on the base's current history (PyTorch regenerates view grad_fns the same way)."""
    from .inplace import regenerate_view
    return regenerate_view(t)
