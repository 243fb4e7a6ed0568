"""ChannelShuffle module."""
from .._functional import vision as _F
from .module import Module

__all__ = ["ChannelShuffle"]


class ChannelShuffle(Module):
    """Interleave the channels of ``groups`` groups: (N, g*k, ...) viewed (N, g, k, ...) -> (N, k, g, ...)."""
    __constants__ = ["groups"]

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return _F.channel_shuffle(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"
