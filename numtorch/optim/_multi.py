"""Address tables for the multi-tensor kernels (numtorch/kernels/optim.py).

A row per parameter: element addresses of the parameter, its gradient and its state tensors, then
the element count and an "initialise state" flag. Addresses of parameters and state tensors are
cached per optimizer (checked against the tensor's storage buffer, offset and strides on every use, so
a ``p.data = ...`` reassignment or a loaded state dict is picked up; weak references, so nothing is
kept alive); gradients are new tensors after every ``zero_grad()``, so theirs are read each step.
"""
import weakref

import numpy as np

from numtorch.dlpack import _buffer_ptr
from numtorch.kernels.optim import buffer_address

_FUSABLE = ("float32", "float64")
_DEVICES = ("cpu", "cuda")


def addresses(p, g, states, cache):
    """Element addresses ``[p, g, *states]`` (0 for a None state) when the kernel path can take this
    parameter, else None. The kernel path needs float32/float64, contiguous tensors, and gradient and
    state of the same dtype on the same device (CPU, or one CUDA device: the table holds its pointers)."""
    dt = p.dtype
    dev = p._storage.device
    if dt.name not in _FUSABLE or dev.type not in _DEVICES:
        return None
    gdev = g._storage.device
    if g.dtype is not dt or (gdev is not dev and gdev != dev):
        return None
    pa = cache.addr(p)
    if pa < 0 or ((g._shape != p._shape or g._stride != p._stride) and not g.is_contiguous()):
        return None
    gb = g._storage.data
    out = [pa, (buffer_address(gb) if gb.__class__ is np.ndarray else _buffer_ptr(gb)) + g._offset * dt.itemsize]
    for s in states:
        if s is None:
            out.append(0)
            continue
        sdev = s._storage.device
        a = cache.addr(s)
        if s.dtype is not dt or (sdev is not dev and sdev != dev) or a < 0:
            return None
        out.append(a)
    return out


class AddressCache:
    """id(tensor) -> (weakref to the tensor, weakref to its storage buffer, offset, strides, address or -1
    if not contiguous). An entry is used only while the same tensor still has that buffer, offset and
    strides object; weak references, so a replaced state tensor or a reassigned ``p.data`` is freed
    as usual (dead entries are dropped when the dict outgrows its limit)."""
    __slots__ = ("d", "limit")

    def __init__(self):
        self.d = {}
        self.limit = 1024

    def addr(self, t):
        c = self.d.get(id(t))
        buf = t._storage.data
        if c is not None and c[0]() is t and c[1]() is buf and c[2] == t._offset and c[3] is t._stride:
            return c[4]
        if t.is_contiguous():
            base = buffer_address(buf) if buf.__class__ is np.ndarray else _buffer_ptr(buf)
            a = base + t._offset * t.dtype.itemsize
        else:
            a = -1
        if len(self.d) > self.limit:
            self.d = {k: v for k, v in self.d.items() if v[0]() is not None}
            if len(self.d) > self.limit:
                self.d.clear()
        try:
            self.d[id(t)] = (weakref.ref(t), weakref.ref(buf), t._offset, t._stride, a)
        except TypeError:           # a buffer type without weak references: no caching
            pass
        return a

    def grow(self, n):
        self.limit = max(self.limit, 4 * n)


def table(rows):
    return np.array(rows, dtype=np.int64).reshape(len(rows), -1)
