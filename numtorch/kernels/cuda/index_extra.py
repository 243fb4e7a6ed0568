"""CUDA twins of index_extra.py: (P, B, Q) advanced gather/scatter, mask compaction and AdvPlan.

Element (p, b, q) of an indexing result lives at ``poffs[p] + boffs[b] + Q(q)`` (see the CPU
module); here one thread handles one element. Host offset arrays (a CUDA tensor indexed by a list)
are copied over. Plain assignment keeps the CPU's "last duplicate wins": a device hash table keyed
by target offset keeps the largest b of each key, and only that b writes. Accumulation is an
atomic add (float32/64, 32/64-bit ints) or, for 8/16-bit ints, one thread per (p, q) walking every
b in order; bool accumulates as logical or (racing stores all write true).
"""
import numpy as np
from numba import cuda

from . import as_device, dev_ints, empty, launch
from .copy import _bits
from .masked import _dev, acc_index_k, bcast_strides, block_offs_k, compact
from .. import index_extra as _cpu
from ..copy import _numel

_ATOMIC = {np.dtype(t) for t in (np.float32, np.float64, np.int32, np.int64, np.uint32, np.uint64)}
_HASH_EMPTY = -1            # offsets are never negative


def _q(qoffs):
    """(device qoffs or a dummy, whether there are any)."""
    has = qoffs is not None and qoffs.size > 0
    return (_dev(qoffs) if has else dev_ints(())), has


# ----------------------------------------------------------------------------- gather
@cuda.jit(device=True)
def _target(poffs, boffs, qoffs, hasq, nq, qs, i):
    """(offset, b) of element i of the P*B*Q result."""
    nb = boffs.size
    r = i // nq
    j = i - r * nq
    p = r // nb
    b = r - p * nb
    o = poffs[p] + boffs[b]
    o += qoffs[j] if hasq else j * qs
    return o, b


@cuda.jit(cache=True)
def _ag_k(x, poffs, boffs, qoffs, hasq, nq, qs, out, n):
    i = cuda.grid(1)
    s = cuda.gridsize(1)
    while i < n:
        o, _ = _target(poffs, boffs, qoffs, hasq, nq, qs, i)
        out[i] = x[o]
        i += s


def adv_gather(buf, poffs, boffs, post, out):
    """out (flat, contiguous P*B*Q) = buf[poffs[p] + boffs[b] + Q(q)]; post = (nq, qs, qoffs)."""
    nq, qs, qoffs = post
    rows = poffs.size * boffs.size
    if rows == 0 or nq == 0:
        return out
    q, hasq = _q(qoffs)
    n = rows * int(nq)
    _ag_k[launch(n)](_bits(buf), _dev(poffs), _dev(boffs), q, hasq, int(nq), int(qs), _bits(out), n)
    return out


# ----------------------------------------------------------------------------- scatter
@cuda.jit(device=True)
def _slot(k, cap):
    lo = np.uint64(k & 0xFFFFFFFF)
    hi = np.uint64((k >> 32) & 0xFFFFFFFF)
    h = (lo * np.uint64(2654435761)) ^ (hi * np.uint64(2246822519))
    h ^= h >> np.uint64(29)
    return np.int64(h % np.uint64(cap))


@cuda.jit(cache=True)
def _fill2_k(a, b, v, n):
    i = cuda.grid(1)
    s = cuda.gridsize(1)
    while i < n:
        a[i] = v
        b[i] = v
        i += s


@cuda.jit(cache=True)
def _hash_insert_k(keys, last, offs, n, cap):
    i = cuda.grid(1)
    s = cuda.gridsize(1)
    while i < n:
        k = np.int64(offs[i])
        h = _slot(k, cap)
        while True:
            old = cuda.atomic.cas(keys, h, _HASH_EMPTY, k)
            if old == _HASH_EMPTY or old == k:
                cuda.atomic.max(last, h, np.int64(i))
                break
            h += 1
            if h == cap:
                h = 0
        i += s


@cuda.jit(cache=True)
def _hash_mark_k(keys, last, offs, n, cap, win):
    i = cuda.grid(1)
    s = cuda.gridsize(1)
    while i < n:
        k = np.int64(offs[i])
        h = _slot(k, cap)
        while keys[h] != k:
            h += 1
            if h == cap:
                h = 0
        win[i] = 1 if last[h] == i else 0
        i += s


def _winners(offs):
    """uint8 flags: 1 where offs[i] does not occur again later in offs."""
    n = offs.size
    cap = 2 * n + 1
    keys, last = empty(cap, np.int64), empty(cap, np.int64)
    _fill2_k[launch(cap)](keys, last, _HASH_EMPTY, cap)
    _hash_insert_k[launch(n)](keys, last, offs, n, cap)
    win = empty(n, np.uint8)
    _hash_mark_k[launch(n)](keys, last, offs, n, cap, win)
    return win


@cuda.jit(cache=True)
def _as_put_k(a, poffs, boffs, qoffs, hasq, nq, qs, v, vstep, win, dedupe, orop, n):
    # assignment (only the last occurrence of a duplicated boffs writes) or logical or (bool bits)
    i = cuda.grid(1)
    s = cuda.gridsize(1)
    while i < n:
        o, b = _target(poffs, boffs, qoffs, hasq, nq, qs, i)
        x = v[i * vstep]
        if orop:
            if x != 0:
                a[o] = x
        elif not dedupe or win[b] != 0:
            a[o] = x
        i += s


@cuda.jit(cache=True)
def _as_add_k(a, poffs, boffs, qoffs, hasq, nq, qs, v, vstep, n):
    i = cuda.grid(1)
    s = cuda.gridsize(1)
    while i < n:
        o, b = _target(poffs, boffs, qoffs, hasq, nq, qs, i)
        cuda.atomic.add(a, o, v[i * vstep])
        i += s


@cuda.jit(cache=True)
def _as_add_rows_k(a, poffs, boffs, qoffs, hasq, nq, qs, v, vstep, npq):
    # no atomics for 8/16-bit ints: one thread per (p, q), b in order (distinct (p, q) never collide)
    nb = boffs.size
    t = cuda.grid(1)
    s = cuda.gridsize(1)
    while t < npq:
        p = t // nq
        j = t - p * nq
        base = poffs[p] + (qoffs[j] if hasq else j * qs)
        for b in range(nb):
            a[base + boffs[b]] += v[((p * nb + b) * nq + j) * vstep]
        t += s


def adv_scatter(buf, poffs, boffs, post, vals, accumulate=False):
    """buf[poffs[p] + boffs[b] + Q(q)] (+)= vals; vals has buf's dtype, 1 or P*B*Q elements (C order).

    bool buffers accumulate as logical or; float16 must be handled by the caller (cast to float32).
    """
    nq, qs, qoffs = post
    nq, qs = int(nq), int(qs)
    n = poffs.size * boffs.size * nq
    if n == 0:
        return
    vals = as_device(vals) if isinstance(vals, np.ndarray) and vals.size <= 1 else _dev(vals)
    vstep = int(vals.size > 1)
    p, b = _dev(poffs), _dev(boffs)
    q, hasq = _q(qoffs)
    if not accumulate:
        dedupe = b.size > 1
        win = _winners(b) if dedupe else dev_ints(()).view(np.uint8)
        _as_put_k[launch(n)](_bits(buf), p, b, q, hasq, nq, qs, _bits(vals), vstep, win, dedupe, False, n)
    elif buf.dtype == np.bool_:
        _as_put_k[launch(n)](buf.view(np.uint8), p, b, q, hasq, nq, qs, vals.view(np.uint8), vstep,
                             dev_ints(()).view(np.uint8), False, True, n)
    elif buf.dtype in _ATOMIC:
        _as_add_k[launch(n)](buf, p, b, q, hasq, nq, qs, vals, vstep, n)
    else:
        npq = p.size * nq
        _as_add_rows_k[launch(npq)](buf, p, b, q, hasq, nq, qs, vals, vstep, npq)


# ----------------------------------------------------------------------------- mask compaction
def mask_select(x, mask):
    """x[mask] for flat contiguous, same-size buffers (mask bool) -> new 1-D device array."""
    return compact(x, mask)


def mask_positions(mask):
    """Flat int64 positions of the True elements of a flat contiguous bool buffer (device array)."""
    return compact(None, mask, positions=True)


# ----------------------------------------------------------------------------- offset bookkeeping
def block_offsets(shape, strides, base=0):
    """Row-major element offsets (int64, flat device array) of a strided block; [base] for an empty shape."""
    shape, strides = [int(n) for n in shape], [int(s) for s in strides]
    n = _numel(shape)
    out = empty(n, np.int64)
    if n:
        block_offs_k[launch(n)](out, n, dev_ints(shape + strides), len(shape), int(base))
    return out


def post_block(shape, strides):
    """(nq, qs, qoffs) for the trailing block, offsets on the device (see the CPU one)."""
    return _cpu.post_block(shape, strides, block_offsets)


# ----------------------------------------------------------------------------- the plan
@cuda.jit(cache=True)
def _wrap_k(src, n, out, bad, size):
    # out = src wrapped by n (int64); bad[0] = smallest position of an index outside [-n, n)
    i = cuda.grid(1)
    s = cuda.gridsize(1)
    while i < size:
        v = np.int64(src[i])
        if v < -n or v >= n:
            cuda.atomic.min(bad, 0, np.int64(i))
        out[i] = v + n if v < 0 else v
        i += s


def _wrap_checked(flat, n, j):
    """Device int64 copy of an index buffer with negatives wrapped; IndexError like the CPU plan."""
    size = flat.size
    out = empty(size, np.int64)
    bad = _dev(np.array([size], np.int64))
    _wrap_k[launch(size)](flat, int(n), out, bad, size)
    pos = int(bad.copy_to_host()[0])
    if pos < size:
        v = int(flat[pos:pos + 1].copy_to_host()[0])
        raise IndexError(f"index {v} is out of bounds for dimension {j} with size {n}")
    return out


class AdvPlan:
    """Device twin of ``index_extra.AdvPlan`` (same checks, messages and interface).

    Index and mask buffers live on the GPU (host ones are copied over); masks become flat positions
    by compaction, int indices are range-checked and wrapped by one kernel, and ``blocks`` builds
    device offset arrays. Groups are (kind, dims, flat int64 device array, shape, result dim).
    """
    __slots__ = ("shape", "dims", "groups", "bshape", "pre", "post")

    def __init__(self, shape, adv):
        self.shape = shape = tuple(shape)
        if any(kind == "bad" for _, kind, _ in adv):
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        groups, shapes, dims, j = [], [], [], 0
        for d, kind, a in adv:
            ash = tuple(np.shape(a))
            if kind == "mask":
                for i in range(len(ash)):
                    if d + i >= len(shape) or ash[i] != shape[d + i]:
                        raise IndexError(f"The shape of the mask {list(ash)} at index {i} does not match the "
                                         f"shape of the indexed tensor {list(shape)} at index {d + i}")
                flat = mask_positions(_dev(a))
                groups.append(("mask", tuple(range(d, d + len(ash))), flat, (flat.size,), j))
                j += len(ash)
            else:
                groups.append(("int", (d,), _dev(a), ash, j))
                j += 1
            shapes.append(groups[-1][3])
            dims.extend(groups[-1][1])
        try:
            self.bshape = tuple(shapes[0] if len(shapes) == 1 else np.broadcast_shapes(*shapes))
        except ValueError:
            raise IndexError("shape mismatch: indexing tensors could not be broadcast together with shapes "
                             + ", ".join(str(list(s)) for s in shapes)) from None
        for i, (kind, gd, a, ash, j) in enumerate(groups):
            if kind == "int" and a.size:
                groups[i] = ("int", gd, _wrap_checked(a, shape[gd[0]], j), ash, j)
        self.groups, self.dims = groups, dims
        rest = [d for d in range(len(shape)) if d not in dims]
        adjacent = dims == list(range(dims[0], dims[0] + len(dims)))
        self.pre = [d for d in rest if d < dims[0]] if adjacent else []
        self.post = [d for d in rest if d not in self.pre]

    def result_shape(self):
        s = self.shape
        return tuple(s[d] for d in self.pre) + self.bshape + tuple(s[d] for d in self.post)

    def blocks(self, strides, offset):
        """(poffs, boffs, post) device arrays for a target with these strides and storage offset."""
        strides = [int(s) for s in strides]
        bshape = list(self.bshape)
        nb, nd = _numel(bshape), len(bshape)
        boffs = empty(nb, np.int64)
        if nb:
            for k, (_, gd, a, ash, _) in enumerate(self.groups):
                g = [self.shape[e] for e in gd] + [strides[e] for e in gd]
                acc_index_k[launch(nb)](boffs, nb, dev_ints(bshape + bcast_strides(ash, bshape)), nd, a,
                                        dev_ints(g), len(gd), 0, k == 0)
        sh = self.shape
        poffs = block_offsets([sh[d] for d in self.pre], [strides[d] for d in self.pre], offset) if self.pre \
            else dev_ints((int(offset),))
        post = post_block([sh[d] for d in self.post], [strides[d] for d in self.post])
        return poffs, boffs, post
