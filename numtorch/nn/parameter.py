"""``nn.Parameter`` (a leaf Tensor subclass that Modules register automatically) and ``nn.Buffer``."""
from ..tensor import Tensor

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer", "is_lazy"]


class Parameter(Tensor):
    """A Tensor that is a module parameter (``requires_grad=True`` by default). It shares ``data``'s
    storage and version counter but none of its history: always a leaf."""
    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        from ..creation import empty
        if data is None:
            data = empty(0)
        t = cls._make(data._storage, data._shape, data._stride, data._offset, data.dtype, data._vc)
        if requires_grad and not (data.dtype.is_floating_point or data.dtype.is_complex):
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t._requires_grad = bool(requires_grad)
        return t

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, proto):
        return (_rebuild_parameter, (self.data, self.requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        res = type(self)(self.data.clone(), self.requires_grad)
        memo[id(self)] = res
        return res


# ``type(p)`` prints like PyTorch's; pickling goes through ``_rebuild_parameter`` (never the class path).
Parameter.__module__ = "torch.nn.parameter"


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)


class _BufferMeta(type):
    # ``isinstance(t, Buffer)`` is true for tensors made by ``Buffer(...)`` (plain Tensors flagged so).
    def __instancecheck__(cls, instance):
        if cls is Buffer:
            return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)
        return super().__instancecheck__(instance)


class Buffer(metaclass=_BufferMeta):
    """Marks a tensor as a module buffer when assigned as an attribute (``persistent`` controls whether
    it goes into ``state_dict``). ``Buffer(t)`` returns a detached plain Tensor, like PyTorch's."""

    def __new__(cls, data=None, *, persistent=True):
        from ..creation import empty
        if data is None:
            data = empty(0)
        t = data.detach()
        t._is_buffer = True
        t.persistent = persistent
        return t



class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet (lazy modules); ``materialize(shape)`` turns it into a
    ``Parameter`` in place. Its placeholder data is empty."""
    __slots__ = ()
    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        from ..creation import empty
        return Parameter.__new__(cls, empty(0, device=device, dtype=dtype), requires_grad)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass

    def materialize(self, shape, device=None, dtype=None):
        """Allocate the data with ``shape`` (uninitialised values) and become a ``Parameter``."""
        from ..creation import empty
        device = self.device if device is None else device
        dtype = self.dtype if dtype is None else dtype
        self.data = empty(tuple(shape), device=device, dtype=dtype)
        self.__class__ = self.cls_to_become

    def __repr__(self):
        return "<UninitializedParameter>"

    def __reduce_ex__(self, proto):
        return (_rebuild_uninitialized, (self.requires_grad,))

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.requires_grad, self.device, self.dtype)
        return memo[id(self)]


def _rebuild_uninitialized(requires_grad):
    return UninitializedParameter(requires_grad)


UninitializedParameter.__module__ = "torch.nn.parameter"


class UninitializedBuffer(Tensor):
    """A buffer whose shape is not known yet; ``materialize(shape)`` turns it into a plain Tensor."""
    __slots__ = ()
    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None):
        from ..creation import empty
        data = empty(0, device=device, dtype=dtype)
        t = cls._make(data._storage, data._shape, data._stride, data._offset, data.dtype, data._vc)
        t._requires_grad = bool(requires_grad)
        return t

    def __init__(self, requires_grad=False, device=None, dtype=None):
        pass

    materialize = UninitializedParameter.materialize

    def __repr__(self):
        return "<UninitializedBuffer>"


def is_lazy(param):
    """Whether ``param`` is an uninitialised parameter or buffer."""
    return isinstance(param, (UninitializedParameter, UninitializedBuffer))


def _register_fast():
    # Parameters take the dispatch fast path like plain tensors (subclasses written by users do not).
    from .. import fastpath
    fastpath._FAST.add(Parameter)


_register_fast()
