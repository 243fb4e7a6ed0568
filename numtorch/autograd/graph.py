"""Graph nodes (grad_fn objects with PyTorch's class names) and the one recording entry point."""
import itertools
import weakref

from .grad_mode import is_grad_enabled

_seq = itertools.count()
_node_classes = {}

SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they have "
    "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
    "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or "
    "if you need to access saved tensors after calling backward.")


class SavedTensor:
    """A tensor saved for backward with the version it had, so in-place changes are detected."""
    __slots__ = ("tensor", "version", "output_nr_of", "is_output")

    def __init__(self, t, output_nr=None, is_output=False):
        self.tensor = t
        self.version = t._vc.value
        self.output_nr_of = t._output_nr if output_nr is None else output_nr
        self.is_output = is_output

    def unpack(self, node):
        t = self.tensor
        if t._vc.value != self.version:
            d = t.dtype
            owner = t.grad_fn.name() if (t.grad_fn is not None and not self.is_output) else node.name()
            owner = owner[:-9] if owner.endswith("Backward0") or owner.endswith("Backward1") else owner
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an inplace "
                f"operation: [torch.{d.legacy} [{', '.join(map(str, t.shape))}]], which is output "
                f"{self.output_nr_of} of {owner}, is at version {t._vc.value}; expected version "
                f"{self.version} instead. Hint: enable anomaly detection to find the operation that failed "
                "to compute its gradient, with torch.autograd.set_detect_anomaly(True).")
        return t


class Node:
    """Base of every grad_fn. ``backward(node, *grads)`` returns one gradient per input."""
    __slots__ = ("next_functions", "_saved", "_backward", "ctx", "_input_meta", "_released", "_seq",
                 "_pre_hooks", "_hooks", "_retained", "metadata", "_num_outputs", "needs", "__weakref__", "__dict__")

    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f"<{type(self).__name__} object at {hex(id(self))}>"

    @property
    def saved_tensors(self):
        if self._released:
            raise RuntimeError(SECOND_BACKWARD)
        return tuple(s.unpack(self) if s is not None else None for s in self._saved)

    def register_hook(self, fn):
        self._hooks.append(fn)
        return _Handle(self._hooks, fn)

    def register_prehook(self, fn):
        self._pre_hooks.append(fn)
        return _Handle(self._pre_hooks, fn)

    def release(self):
        if self._saved:
            self._saved = ()
            self._released = True

    def __call__(self, *grads):
        return self._backward(self, *grads)


class AccumulateGrad(Node):
    """Sink for a leaf: accumulates into ``variable.grad``."""
    __slots__ = ("_variable",)

    @property
    def variable(self):
        return self._variable()


class _Handle:
    __slots__ = ("_lst", "_fn")

    def __init__(self, lst, fn):
        self._lst, self._fn = lst, fn

    def remove(self):
        try:
            self._lst.remove(self._fn)
        except ValueError:
            pass


def node_class(name):
    """One Node subclass per PyTorch grad_fn name (``AddBackward0``...), created on first use."""
    cls = _node_classes.get(name)
    if cls is None:
        cls = _node_classes[name] = type(name, (Node,), {"__slots__": ()})
    return cls


def _init_node(node, next_functions):
    node.next_functions = next_functions
    node._saved = ()
    node._released = False
    node._seq = next(_seq)
    node._pre_hooks = []
    node._hooks = []
    node._retained = None
    node.metadata = {}
    node._num_outputs = 1
    node.needs = tuple(e[0] is not None for e in next_functions)


def grad_accumulator(t):
    """The (cached, weakly held) AccumulateGrad node of a leaf tensor."""
    acc = t._grad_acc() if t._grad_acc is not None else None
    if acc is None:
        acc = AccumulateGrad.__new__(AccumulateGrad)
        _init_node(acc, ())
        acc._variable = weakref.ref(t)
        acc._backward = None
        acc._input_meta = ((t._shape, t.dtype, t.device),)
        t._grad_acc = weakref.ref(acc)
    return acc


def edge_of(t):
    """(node, output_nr) an input contributes to: grad_fn, AccumulateGrad, or (None, 0)."""
    if t is None or not getattr(t, "_requires_grad", False) and t.grad_fn is None:
        return (None, 0)
    if t.grad_fn is not None:
        return (t.grad_fn, t._output_nr)
    return (grad_accumulator(t), 0)


def needs_grad(*inputs):
    if not is_grad_enabled():
        return False
    for t in inputs:
        if t is not None and getattr(t, "requires_grad", False):
            return True
    return False


def record(name, outputs, inputs, backward, save=(), save_outputs=(), ctx=None):
    """Attach a grad_fn called ``name`` to ``outputs`` when grad mode is on and an input needs grad.

    ``backward(node, *grads_per_output)`` returns a tuple with one gradient (or None) per entry of
    ``inputs``; the engine un-broadcasts each to its input's shape. ``save`` are input tensors and
    ``save_outputs`` indices of outputs needed by backward (checked against in-place changes)."""
    single = not isinstance(outputs, (tuple, list))
    outs = (outputs,) if single else tuple(outputs)
    node = node_class(name).__new__(node_class(name))
    _init_node(node, tuple(edge_of(t) if hasattr(t, "_vc") else (None, 0) for t in inputs))
    node._backward = backward
    node.ctx = ctx
    node._input_meta = tuple((t._shape, t.dtype, t.device) if hasattr(t, "_vc") else None for t in inputs)
    node._num_outputs = len(outs)
    saved = [SavedTensor(t) if t is not None else None for t in save]
    for i, o in enumerate(outs):
        if o is None:
            continue
        if o.dtype.is_floating_point:
            o._requires_grad = True
            o.grad_fn = node
            o._output_nr = i
    for i in save_outputs:
        # An alias without grad_fn (same storage and version counter) avoids a node<->tensor cycle.
        saved.append(SavedTensor(outs[i]._alias(), output_nr=i, is_output=True))
    node._saved = tuple(saved)
    return outputs
