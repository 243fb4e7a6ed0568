"""Pooling modules: Max/Avg/AdaptiveAvg/AdaptiveMax/LP pools, MaxUnpool (PyTorch's arguments and reprs)."""
from .._functional import pooling as _F
from .module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "AdaptiveAvgPool1d",
           "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d",
           "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "LPPool1d", "LPPool2d", "LPPool3d"]


def _ntuple(v, n):
    if isinstance(v, (list, tuple)):
        return tuple(v)
    return (v,) * n


class _MaxPoolNd(Module):
    __constants__ = ["kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode"]

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input):
        return self._fn(input, self.kernel_size, self.stride, self.padding, self.dilation, ceil_mode=self.ceil_mode,
                        return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """1-d max pooling over (N, C, L) or (C, L)."""
    _fn = staticmethod(_F.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """2-d max pooling over (N, C, H, W) or (C, H, W)."""
    _fn = staticmethod(_F.max_pool2d)


class MaxPool3d(_MaxPoolNd):
    """3-d max pooling over (N, C, D, H, W) or (C, D, H, W)."""
    _fn = staticmethod(_F.max_pool3d)


class _AvgPoolNd(Module):
    __constants__ = ["kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"]

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """1-d average pooling."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        self.kernel_size = _ntuple(kernel_size, 1)
        self.stride = _ntuple(stride if stride is not None else kernel_size, 1)
        self.padding = _ntuple(padding, 1)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):
        return _F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                             self.count_include_pad)


class AvgPool2d(_AvgPoolNd):
    """2-d average pooling."""
    _fn = staticmethod(_F.avg_pool2d)

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        return self._fn(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                        self.divisor_override)


class AvgPool3d(AvgPool2d):
    """3-d average pooling."""
    _fn = staticmethod(_F.avg_pool3d)


class _AdaptiveNd(Module):
    __constants__ = ["output_size"]

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size = output_size
        if self._max:
            self.return_indices = return_indices

    def forward(self, input):
        if self._max:
            return self._fn(input, self.output_size, self.return_indices)
        return self._fn(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


def _adaptive(name, fn, is_max, doc):
    return type(name, (_AdaptiveNd,), {"_fn": staticmethod(fn), "_max": is_max, "__doc__": doc,
                                       "__module__": __name__})


AdaptiveAvgPool1d = _adaptive("AdaptiveAvgPool1d", _F.adaptive_avg_pool1d, False, "1-d adaptive average pooling.")
AdaptiveAvgPool2d = _adaptive("AdaptiveAvgPool2d", _F.adaptive_avg_pool2d, False, "2-d adaptive average pooling.")
AdaptiveAvgPool3d = _adaptive("AdaptiveAvgPool3d", _F.adaptive_avg_pool3d, False, "3-d adaptive average pooling.")
AdaptiveMaxPool1d = _adaptive("AdaptiveMaxPool1d", _F.adaptive_max_pool1d, True, "1-d adaptive max pooling.")
AdaptiveMaxPool2d = _adaptive("AdaptiveMaxPool2d", _F.adaptive_max_pool2d, True, "2-d adaptive max pooling.")
AdaptiveMaxPool3d = _adaptive("AdaptiveMaxPool3d", _F.adaptive_max_pool3d, True, "3-d adaptive max pooling.")


class _MaxUnpoolNd(Module):
    _nd = 2

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        n = self._nd
        self.kernel_size = _ntuple(kernel_size, n)
        self.stride = _ntuple(stride if stride is not None else kernel_size, n)
        self.padding = _ntuple(padding, n)

    def forward(self, input, indices, output_size=None):
        return self._fn(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """Partial inverse of MaxPool1d (non-maximal positions are zero)."""
    _nd = 1
    _fn = staticmethod(_F.max_unpool1d)


class MaxUnpool2d(_MaxUnpoolNd):
    """Partial inverse of MaxPool2d (non-maximal positions are zero)."""
    _nd = 2
    _fn = staticmethod(_F.max_unpool2d)


class MaxUnpool3d(_MaxUnpoolNd):
    """Partial inverse of MaxPool3d (non-maximal positions are zero)."""
    _nd = 3
    _fn = staticmethod(_F.max_unpool3d)


class _LPPoolNd(Module):
    __constants__ = ["norm_type", "kernel_size", "stride", "ceil_mode"]

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def forward(self, input):
        return self._fn(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self):
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """1-d power-average pooling."""
    _fn = staticmethod(_F.lp_pool1d)


class LPPool2d(_LPPoolNd):
    """2-d power-average pooling."""
    _fn = staticmethod(_F.lp_pool2d)


class LPPool3d(_LPPoolNd):
    """3-d power-average pooling."""
    _fn = staticmethod(_F.lp_pool3d)
