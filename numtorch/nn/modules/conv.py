"""Conv1d/2d/3d, ConvTranspose1d/2d/3d and their Lazy variants (PyTorch's parameters, init, reprs)."""
import math

from ..parameter import Parameter
from .. import init
from .._functional import conv as _F
from .module import Module

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
           "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d",
           "LazyConvTranspose3d"]


def _empty(shape, device=None, dtype=None):
    from ...creation import empty
    return empty(shape, device=device, dtype=dtype)


def _ntuple(v, n):
    if isinstance(v, (list, tuple)):
        return tuple(v) if len(v) != 1 else tuple(v) * n
    return (v,) * n


def _reverse_repeat(t, n):
    return [x for x in reversed(t) for _ in range(n)]


class _ConvNd(Module):
    _nd = 2
    _name = "conv2d"

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, transposed,
                 output_padding, groups, bias, padding_mode, device=None, dtype=None):
        super().__init__()
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        valid = {"same", "valid"}
        if isinstance(padding, str):
            if padding not in valid:
                raise ValueError(f"Invalid padding string {padding!r}, should be one of {valid}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        modes = {"zeros", "reflect", "replicate", "circular"}
        if padding_mode not in modes:
            raise ValueError(f"padding_mode must be one of {modes}, but got padding_mode='{padding_mode}'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = transposed
        self.output_padding = output_padding
        self.groups = groups
        self.padding_mode = padding_mode
        if isinstance(padding, str):
            rp = [0, 0] * len(kernel_size)
            if padding == "same":
                for d, k, i in zip(dilation, kernel_size, range(len(kernel_size) - 1, -1, -1)):
                    total = d * (k - 1)
                    rp[2 * i] = total // 2
                    rp[2 * i + 1] = total - total // 2
            self._reversed_padding_repeated_twice = rp
        else:
            self._reversed_padding_repeated_twice = _reverse_repeat(padding, 2)
        self._make_params(bias, device, dtype)

    def _make_params(self, bias, device, dtype):
        if self.transposed:
            shape = (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
        else:
            shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        self.weight = Parameter(_empty(shape, device, dtype))
        if bias:
            self.bias = Parameter(_empty((self.out_channels,), device, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def __setstate__(self, state):
        self.__dict__.update(state)
        if "padding_mode" not in self.__dict__:
            self.padding_mode = "zeros"


class _Conv(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        n = self._nd
        super().__init__(in_channels, out_channels, _ntuple(kernel_size, n), _ntuple(stride, n),
                         padding if isinstance(padding, str) else _ntuple(padding, n), _ntuple(dilation, n),
                         False, _ntuple(0, n), groups, bias, padding_mode, device, dtype)

    def _conv_forward(self, input, weight, bias):
        if self.padding_mode != "zeros":
            from .._functional.padding import pad
            return _F._convolution(self._name, self._nd, pad(input, self._reversed_padding_repeated_twice,
                                                             mode=self.padding_mode),
                                   weight, bias, self.stride, 0, self.dilation, self.groups)
        return _F._convolution(self._name, self._nd, input, weight, bias, self.stride, self.padding,
                               self.dilation, self.groups)

    def forward(self, input):
        p = self._parameters
        return self._conv_forward(input, p["weight"], p["bias"])


class Conv1d(_Conv):
    """1-d convolution over (N, C, L) or (C, L) inputs."""
    _nd, _name = 1, "conv1d"


class Conv2d(_Conv):
    """2-d convolution over (N, C, H, W) or (C, H, W) inputs."""
    _nd, _name = 2, "conv2d"


class Conv3d(_Conv):
    """3-d convolution over (N, C, D, H, W) or (C, D, H, W) inputs."""
    _nd, _name = 3, "conv3d"


class _ConvTranspose(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        n = self._nd
        super().__init__(in_channels, out_channels, _ntuple(kernel_size, n), _ntuple(stride, n),
                         _ntuple(padding, n), _ntuple(dilation, n), True, _ntuple(output_padding, n), groups,
                         bias, padding_mode, device, dtype)

    def _output_padding(self, input, output_size):
        if output_size is None:
            return self.output_padding
        n = self._nd
        out = list(output_size)
        if len(out) == n + 2 or (len(out) == n + 1 and input.ndim == n + 1):
            out = out[-n:]
        if len(out) != n:
            raise ValueError(f"ConvTranspose{n}D: for {input.ndim}D input, output_size must have {n} or {n + 2} "
                             f"elements (got {len(output_size)})")
        sp = input.shape[-n:]
        mins = [(sp[i] - 1) * self.stride[i] - 2 * self.padding[i] + self.dilation[i] * (self.kernel_size[i] - 1) + 1
                for i in range(n)]
        maxs = [mins[i] + self.stride[i] - 1 for i in range(n)]
        for d in range(n):
            if not mins[d] <= out[d] <= maxs[d]:
                raise ValueError(f"requested an output size of {out}, but valid sizes range from {mins} to {maxs} "
                                 f"(for an input of {list(sp)})")
        return tuple(out[d] - mins[d] for d in range(n))

    def forward(self, input, output_size=None):
        op = self._output_padding(input, output_size)
        p = self._parameters
        return _F._conv_transpose(f"conv_transpose{self._nd}d", self._nd, input, p["weight"], p["bias"], self.stride,
                                  self.padding, op, self.groups, self.dilation, check_op=output_size is None)


class ConvTranspose1d(_ConvTranspose):
    """Transposed 1-d convolution (the gradient of Conv1d with respect to its input)."""
    _nd = 1


class ConvTranspose2d(_ConvTranspose):
    """Transposed 2-d convolution (the gradient of Conv2d with respect to its input)."""
    _nd = 2


class ConvTranspose3d(_ConvTranspose):
    """Transposed 3-d convolution (the gradient of Conv3d with respect to its input)."""
    _nd = 3


class _LazyMixin:
    """in_channels is inferred from the first input; the module then becomes its eager class."""

    def reset_parameters(self):
        if self.in_channels != 0:
            super().reset_parameters()

    def has_uninitialized_params(self):
        return self.in_channels == 0

    def initialize_parameters(self, input, *args, **kwargs):
        if self.in_channels != 0:
            return
        from ...autograd.grad_mode import no_grad
        device, dtype, bias = self._factory
        self.in_channels = input.shape[0] if input.ndim == self._nd + 1 else input.shape[1]
        if self.in_channels % self.groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        with no_grad():
            self._make_params(bias, device, dtype)

    def __call__(self, *args, **kwargs):
        if type(self).__name__.startswith("Lazy"):
            self.initialize_parameters(*args, **kwargs)
            del self.__dict__["_factory"]
            self.__class__ = self.cls_to_become
        return Module.__call__(self, *args, **kwargs)


def _lazy_conv(base, doc):
    class _Lazy(_LazyMixin, base):
        cls_to_become = base

        def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                     padding_mode="zeros", device=None, dtype=None):
            Module.__init__(self)
            n = self._nd
            self._factory = (device, dtype, bias)
            self.in_channels = 0
            self.out_channels = out_channels
            self.kernel_size = _ntuple(kernel_size, n)
            self.stride = _ntuple(stride, n)
            self.padding = padding if isinstance(padding, str) else _ntuple(padding, n)
            self.dilation = _ntuple(dilation, n)
            self.transposed = False
            self.output_padding = _ntuple(0, n)
            self.groups = groups
            self.padding_mode = padding_mode
            self._reversed_padding_repeated_twice = (
                _reverse_repeat(self.padding, 2) if not isinstance(padding, str) else
                _same_pad(None, self.kernel_size, self.dilation, padding))
            self.weight = Parameter(_empty((0,), device, dtype))
            if bias:
                self.bias = Parameter(_empty((0,), device, dtype))
            else:
                self.register_parameter("bias", None)
    _Lazy.__doc__ = doc
    return _Lazy


def _lazy_convT(base, doc):
    class _Lazy(_LazyMixin, base):
        cls_to_become = base

        def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True,
                     dilation=1, padding_mode="zeros", device=None, dtype=None):
            Module.__init__(self)
            n = self._nd
            self._factory = (device, dtype, bias)
            self.in_channels = 0
            self.out_channels = out_channels
            self.kernel_size = _ntuple(kernel_size, n)
            self.stride = _ntuple(stride, n)
            self.padding = _ntuple(padding, n)
            self.dilation = _ntuple(dilation, n)
            self.transposed = True
            self.output_padding = _ntuple(output_padding, n)
            self.groups = groups
            self.padding_mode = padding_mode
            self._reversed_padding_repeated_twice = _reverse_repeat(self.padding, 2)
            self.weight = Parameter(_empty((0,), device, dtype))
            if bias:
                self.bias = Parameter(_empty((0,), device, dtype))
            else:
                self.register_parameter("bias", None)
    _Lazy.__doc__ = doc
    return _Lazy


def _same_pad(self, kernel_size, dilation, padding):
    rp = [0, 0] * len(kernel_size)
    if padding == "same":
        for d, k, i in zip(dilation, kernel_size, range(len(kernel_size) - 1, -1, -1)):
            total = d * (k - 1)
            rp[2 * i] = total // 2
            rp[2 * i + 1] = total - total // 2
    return rp


_ConvNd._same_pad = _same_pad

LazyConv1d = _lazy_conv(Conv1d, "Conv1d with in_channels inferred from the first input.")
LazyConv2d = _lazy_conv(Conv2d, "Conv2d with in_channels inferred from the first input.")
LazyConv3d = _lazy_conv(Conv3d, "Conv3d with in_channels inferred from the first input.")
LazyConvTranspose1d = _lazy_convT(ConvTranspose1d, "ConvTranspose1d with in_channels inferred from the first input.")
LazyConvTranspose2d = _lazy_convT(ConvTranspose2d, "ConvTranspose2d with in_channels inferred from the first input.")
LazyConvTranspose3d = _lazy_convT(ConvTranspose3d, "ConvTranspose3d with in_channels inferred from the first input.")
for _c in (LazyConv1d, LazyConv2d, LazyConv3d, LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d):
    _c.__name__ = _c.__qualname__ = "Lazy" + _c.cls_to_become.__name__
