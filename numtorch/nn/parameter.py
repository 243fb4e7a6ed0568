"""``nn.Parameter``: a leaf Tensor subclass that Modules register automatically."""
from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that is a module parameter (``requires_grad=True`` by default)."""
    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        from ..creation import empty
        if data is None:
            data = empty(0)
        t = cls._make(data._storage, data._shape, data._stride, data._offset, data.dtype, data._vc)
        if requires_grad and not data.dtype.is_floating_point:
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


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)
