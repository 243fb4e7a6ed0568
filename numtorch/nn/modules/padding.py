"""Padding modules: Constant/Zero/Reflection/Replication/Circular Pad1d/2d/3d (thin wrappers of F.pad)."""
from .._functional.padding import pad as _pad
from .module import Module

__all__ = ["ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
           "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d"]


def _ntuple(v, n):
    if isinstance(v, (list, tuple)):
        return tuple(v)
    return (v,) * n


class _PadNd(Module):
    _nd = 1
    _mode = "constant"

    def __init__(self, padding):
        super().__init__()
        self.padding = _ntuple(padding, 2 * self._nd)

    def forward(self, input):
        return _pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return _pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class _CircularPadNd(_PadNd):
    _mode = "circular"

    def forward(self, input):
        if input.dim() not in (self._nd + 1, self._nd + 2):
            raise ValueError(f"expected {self._nd + 1}D or {self._nd + 2}D input (got {input.dim()}D input)")
        return _pad(input, self.padding, "circular")


def _make(name, base, nd, doc, mode=None):
    attrs = {"_nd": nd, "__doc__": doc}
    if mode:
        attrs["_mode"] = mode
    return type(name, (base,), attrs)


ConstantPad1d = _make("ConstantPad1d", _ConstantPadNd, 1, "Pads the last dim with a constant value.")
ConstantPad2d = _make("ConstantPad2d", _ConstantPadNd, 2, "Pads the last 2 dims with a constant value.")
ConstantPad3d = _make("ConstantPad3d", _ConstantPadNd, 3, "Pads the last 3 dims with a constant value.")


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


ZeroPad1d = type("ZeroPad1d", (_ZeroPadNd, ConstantPad1d), {"__doc__": "Pads the last dim with zeros."})
ZeroPad2d = type("ZeroPad2d", (_ZeroPadNd, ConstantPad2d), {"__doc__": "Pads the last 2 dims with zeros."})
ZeroPad3d = type("ZeroPad3d", (_ZeroPadNd, ConstantPad3d), {"__doc__": "Pads the last 3 dims with zeros."})
ReflectionPad1d = _make("ReflectionPad1d", _PadNd, 1, "Reflects the last dim at its borders.", "reflect")
ReflectionPad2d = _make("ReflectionPad2d", _PadNd, 2, "Reflects the last 2 dims at their borders.", "reflect")
ReflectionPad3d = _make("ReflectionPad3d", _PadNd, 3, "Reflects the last 3 dims at their borders.", "reflect")
ReplicationPad1d = _make("ReplicationPad1d", _PadNd, 1, "Repeats the border values of the last dim.", "replicate")
ReplicationPad2d = _make("ReplicationPad2d", _PadNd, 2, "Repeats the border values of the last 2 dims.", "replicate")
ReplicationPad3d = _make("ReplicationPad3d", _PadNd, 3, "Repeats the border values of the last 3 dims.", "replicate")
CircularPad1d = _make("CircularPad1d", _CircularPadNd, 1, "Wraps the last dim around.")
CircularPad2d = _make("CircularPad2d", _CircularPadNd, 2, "Wraps the last 2 dims around.")
CircularPad3d = _make("CircularPad3d", _CircularPadNd, 3, "Wraps the last 3 dims around.")
for _c in (ConstantPad1d, ConstantPad2d, ConstantPad3d, ZeroPad1d, ZeroPad2d, ZeroPad3d, ReflectionPad1d,
           ReflectionPad2d, ReflectionPad3d, ReplicationPad1d, ReplicationPad2d, ReplicationPad3d, CircularPad1d,
           CircularPad2d, CircularPad3d):
    _c.__module__ = __name__
