"""``numtorch.autograd.Function``: user-defined forward/backward pairs (PyTorch's custom Function API).

The ctx passed to ``forward``/``backward`` is the graph node itself (``<Name>Backward``), as in PyTorch,
so attributes set on ctx are visible on ``out.grad_fn``."""
import functools

from .grad_mode import _state
from .graph import Node, _save, _seq, edge_of

_LEGACY = ("Legacy autograd function with non-static forward method is deprecated. Please use new-style "
           "autograd function with static forward method. (Example: "
           "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")


def _is_tensor(x):
    return hasattr(x, "_vc") and hasattr(x, "grad_fn")


class FunctionCtx:
    """What ``ctx`` offers inside forward/setup_context and backward."""
    __slots__ = ()

    def save_for_backward(self, *tensors):
        for i, t in enumerate(tensors):
            if t is not None and not _is_tensor(t):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} is of type "
                                f"{type(t).__name__}")
        self.to_save = tensors

    def save_for_forward(self, *tensors):
        self.saved_for_forward = tensors

    def mark_dirty(self, *args):
        self.dirty_tensors = args

    def mark_non_differentiable(self, *args):
        self.non_differentiable = args

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)

    @property
    def saved_variables(self):
        return self.saved_tensors


class BackwardCFunction(Node, FunctionCtx):
    """Graph node of a custom Function; also its ctx."""
    __slots__ = ()
    _forward_cls = None
    to_save = None
    dirty_tensors = ()
    non_differentiable = ()
    materialize_grads = True
    needs_input_grad = ()
    _output_meta = ()

    def __init__(self):
        self.next_functions = ()
        self._saved = ()
        self._backward = _custom_backward
        self.ctx = None
        self._input_meta = ()
        self._seq = next(_seq)
        self._num_outputs = 1
        self.needs = ()

    def __repr__(self):
        return f"<torch.autograd.function.{type(self).__name__} object at {hex(id(self))}>"

    def apply(self, *grads):
        return _custom_backward(self, *grads)


class FunctionMeta(type):
    """Creates the ``<Name>Backward`` node class of every Function subclass."""

    def __init__(cls, name, bases, attrs):
        cls._backward_cls = type(name + "Backward", (BackwardCFunction,),
                                 {"__slots__": (), "_forward_cls": cls, "__module__": "torch.autograd.function"})
        super().__init__(name, bases, attrs)


class Function(metaclass=FunctionMeta):
    """Subclass with ``@staticmethod forward(ctx, *args)`` and ``@staticmethod backward(ctx, *grads)``
    (or ``forward(*args)`` plus ``setup_context(ctx, inputs, output)``); call ``MyFn.apply(*args)``."""

    def __init__(self, *args, **kwargs):
        import warnings
        warnings.warn(f"{type(self)} should not be instantiated. Methods on autograd functions are all static, "
                      "so you should invoke them on the class itself. Instantiating an autograd function will "
                      "raise an error in a future version of PyTorch.", DeprecationWarning, stacklevel=2)

    def __call__(self, *args, **kwargs):
        raise RuntimeError(_LEGACY)

    @staticmethod
    def forward(*args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError("You must implement the jvp function for custom autograd.Function to use it "
                                  "with forward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        return _apply(cls, args, kwargs)


def _apply(cls, args, kwargs):
    ctx = cls._backward_cls()
    is_tensor = tuple(_is_tensor(a) for a in args)
    enabled = getattr(_state, "enabled", True)
    requires = enabled and any(t and a._requires_grad for t, a in zip(is_tensor, args))
    ctx.needs_input_grad = tuple(bool(t and a._requires_grad) for t, a in zip(is_tensor, args))
    custom_setup = cls.setup_context is not Function.setup_context
    _state.enabled = False
    try:
        if custom_setup:
            outputs = cls.forward(*args, **kwargs)
            cls.setup_context(ctx, args, outputs)
        else:
            outputs = cls.forward(ctx, *args, **kwargs)
    finally:
        _state.enabled = enabled
    single = not isinstance(outputs, tuple)
    outs = [outputs] if single else list(outputs)
    dirty = {id(t) for t in ctx.dirty_tensors}
    non_diff = {id(t) for t in ctx.non_differentiable}
    if requires:
        edges, metas = [], []
        for t, a in zip(is_tensor, args):
            if t:
                edges.append(edge_of(a))
                metas.append((a._shape, a.dtype, a._storage.device))
            else:
                edges.append((None, 0))
                metas.append(None)
        ctx.next_functions = tuple(edges)
        ctx.needs = tuple(e[0] is not None for e in edges)
        ctx._input_meta = tuple(metas)
        ctx._num_outputs = len(outs)
    input_ids = {id(a) for t, a in zip(is_tensor, args) if t}
    out_meta = []
    for i, o in enumerate(outs):
        if not _is_tensor(o):
            out_meta.append(None)
            continue
        if id(o) in input_ids and id(o) not in dirty:
            o = outs[i] = o._view_of(o._shape, o._stride, o._offset)    # an input returned as is: a view
        if id(o) in dirty and requires:
            if o._requires_grad and o.grad_fn is None:
                raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
        out_meta.append((o._shape, o.dtype, o._storage.device))
        if requires and id(outputs if single else outputs[i]) not in non_diff and o.dtype.is_floating_point:
            o._requires_grad = True
            o.grad_fn = ctx
            o._output_nr = i
        elif requires and o.grad_fn is None:
            o._requires_grad = False
    ctx._output_meta = tuple(out_meta)
    if ctx.to_save is not None:
        out_ids = {id(o): i for i, o in enumerate(outs) if _is_tensor(o)}
        orig_ids = {id(o): i for i, o in enumerate([outputs] if single else outputs) if _is_tensor(o)}
        saved = []
        for t in ctx.to_save:
            k = out_ids.get(id(t), orig_ids.get(id(t)))
            if t is not None and k is not None and requires:
                saved.append(_save(outs[k]._alias(), True, k))     # no ctx<->output cycle
            else:
                saved.append(_save(t))
        ctx._saved = tuple(saved)
        ctx.to_save = None
    if single:
        return outs[0]
    return tuple(outs)


def _custom_backward(ctx, *grads):
    cls = ctx._forward_cls
    name = type(ctx).__name__
    if ctx.materialize_grads:
        from ..creation import zeros
        grads = tuple(zeros(m[0], dtype=m[1], device=m[2]) if g is None and m is not None else g
                      for g, m in zip(grads, ctx._output_meta))
    res = cls.backward(ctx, *grads)
    if not isinstance(res, tuple):
        res = (res,)
    n = len(ctx.next_functions)
    if len(res) != n:
        if len(res) > n and all(r is None for r in res[n:]):
            res = res[:n]
        else:
            raise RuntimeError(f"function {name} returned an incorrect number of gradients (expected {n}, got "
                               f"{len(res)})")
    for i, (r, m) in enumerate(zip(res, ctx._input_meta)):
        if m is None and r is not None:
            raise RuntimeError(f"function {name} returned a gradient different than None at position {i + 1}, "
                               "but the corresponding forward input was not a Variable")
    return res


def once_differentiable(fn):
    """Run ``backward`` without recording a graph (its gradients cannot be differentiated again)."""
    @functools.wraps(fn)
    def wrapper(ctx, *args):
        prev = getattr(_state, "enabled", True)
        _state.enabled = False
        try:
            return fn(ctx, *args)
        finally:
            _state.enabled = prev
    return wrapper


class InplaceFunction(Function):
    def __init__(self, inplace=False):
        self.inplace = inplace


class NestedIOFunction(Function):
    pass
