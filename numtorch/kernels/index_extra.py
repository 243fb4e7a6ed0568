"""Advanced-indexing kernels over a (P, B, Q) decomposition of the indexing result.

The result of ``x[..., idx, ...]`` is laid out as P (non-indexed dims before the index dims),
B (the broadcast index shape, flattened) and Q (non-indexed dims after). Element (p, b, q) lives
at ``poffs[p] + boffs[b] + Q(q)`` in x's flat buffer, where Q(q) is ``q * qs`` (post dims that
coalesce to one) or ``qoffs[q]``. ``boffs`` is the sum over index arrays of index * stride.
Moves run on the buffers' unsigned-int views (one compile per element width); accumulation
compiles per dtype. Callers validate indices: Numba does not bounds-check.
"""
import numpy as np
from numba import njit, prange

from . import parallel_ok
from ._device import cuda_impl, on_device
from . import index as _index
from .copy import _numel, coalesce
from .index import _bits, _nchunks

PARALLEL = True                  # switch off to force the serial kernels
PAR_MIN = _index.PAR_MIN         # elements; below this the serial kernels win
_JT = 16                         # column block of the strided-row gather


def _par(n):
    return n >= PAR_MIN and PARALLEL and parallel_ok()


# ----------------------------------------------------------------------------- gather
@njit(cache=True, error_model='numpy')
def _ag_rows(x, poffs, boffs, qoffs, nq, qs, out, r0, r1):
    # rows r = p * nb + b, each of nq elements; (p, b) advance incrementally (no division per row)
    nb = boffs.size
    p = r0 // nb
    b = r0 - p * nb
    if nq == 1 and qoffs.size == 0:   # pure gather (e.g. x[:, idx]): a tight loop per p
        r = r0
        while r < r1:
            n = min(nb - b, r1 - r)
            base = poffs[p]
            o = out[r:r + n]
            bo = boffs[b:b + n]
            for j in range(n):
                o[j] = x[np.uint64(base + bo[j])]
            r += n
            b = 0
            p += 1
        return
    if qoffs.size == 0 and qs != 1 and nq >= 2 * _JT and r1 - r0 >= _JT:
        # strided rows (e.g. x.t()[idx]): walk _JT columns of every row at a time, so the source
        # lines of one column block are reused across rows instead of re-read per row
        bases = np.empty(r1 - r0, np.int64)
        for r in range(r0, r1):
            bases[r - r0] = poffs[p] + boffs[b]
            b += 1
            if b == nb:
                b = 0
                p += 1
        for j0 in range(0, nq, _JT):
            j1 = min(j0 + _JT, nq)
            for r in range(r0, r1):
                o = out[r * nq + j0:r * nq + j1]
                base = bases[r - r0] + j0 * qs
                for j in range(j1 - j0):
                    o[j] = x[np.uint64(base + j * qs)]
        return
    for r in range(r0, r1):
        base = poffs[p] + boffs[b]
        o = out[r * nq:(r + 1) * nq]
        if qoffs.size > 0:
            for j in range(nq):
                o[j] = x[np.uint64(base + qoffs[j])]
        elif qs == 1:
            s = x[base:base + nq]
            for j in range(nq):
                o[j] = s[j]
        else:
            for j in range(nq):
                o[j] = x[np.uint64(base + j * qs)]
        b += 1
        if b == nb:
            b = 0
            p += 1


@njit(cache=True, error_model='numpy')
def _ag_ser(x, poffs, boffs, qoffs, nq, qs, out):
    _ag_rows(x, poffs, boffs, qoffs, nq, qs, out, 0, poffs.size * boffs.size)


@njit(cache=True, error_model='numpy', parallel=True)
def _ag_par(x, poffs, boffs, qoffs, nq, qs, out, nch):
    rows = poffs.size * boffs.size
    for c in prange(nch):
        c = np.int64(c)
        _ag_rows(x, poffs, boffs, qoffs, nq, qs, out, c * rows // nch, (c + 1) * rows // nch)


def adv_gather(buf, poffs, boffs, post, out):
    """out (flat, contiguous P*B*Q) = buf[poffs[p] + boffs[b] + Q(q)]; post = (nq, qs, qoffs)."""
    if on_device(buf):
        return cuda_impl("index_extra").adv_gather(buf, poffs, boffs, post, out)
    nq, qs, qoffs = post
    rows = poffs.size * boffs.size
    if rows == 0 or nq == 0:
        return out
    args = (_bits(buf), poffs, boffs, qoffs, int(nq), int(qs), _bits(out))
    if _par(rows * nq) and rows > 1:
        _ag_par(*args, _nchunks(rows))
    else:
        _ag_ser(*args)
    return out


# ----------------------------------------------------------------------------- scatter
@njit(cache=True, error_model='numpy', inline='always')
def _put1(a, k, s, mode):
    # mode 0: assign (in order: the last duplicate wins), 1: add, 2: logical or (bool as uint8)
    if mode == 0:
        a[k] = s
    elif mode == 1:
        a[k] += s
    elif s != 0:
        a[k] = s


@njit(cache=True, error_model='numpy')
def _as_block(a, poffs, boffs, qoffs, nq, qs, v, vstep, mode, p0, p1, q0, q1):
    nb = boffs.size
    for p in range(p0, p1):
        pb = poffs[p]
        for b in range(nb):
            base = pb + boffs[b]
            r = (p * nb + b) * nq
            if qoffs.size > 0:
                for j in range(q0, q1):
                    _put1(a, np.uint64(base + qoffs[j]), v[np.uint64((r + j) * vstep)], mode)
            else:
                for j in range(q0, q1):
                    _put1(a, np.uint64(base + j * qs), v[np.uint64((r + j) * vstep)], mode)


@njit(cache=True, error_model='numpy')
def _as_ser(a, poffs, boffs, qoffs, nq, qs, v, vstep, mode):
    _as_block(a, poffs, boffs, qoffs, nq, qs, v, vstep, mode, 0, poffs.size, 0, nq)


@njit(cache=True, error_model='numpy', parallel=True)
def _as_par(a, poffs, boffs, qoffs, nq, qs, v, vstep, mode, by_p, nch):
    # Race-free: chunks differ in p (distinct pre offsets) or in q (distinct post offsets);
    # b is never split, so repeated indices accumulate within one thread.
    np_ = poffs.size
    for c in prange(nch):
        c = np.int64(c)
        if by_p:
            _as_block(a, poffs, boffs, qoffs, nq, qs, v, vstep, mode, c * np_ // nch, (c + 1) * np_ // nch, 0, nq)
        else:
            _as_block(a, poffs, boffs, qoffs, nq, qs, v, vstep, mode, 0, np_, c * nq // nch, (c + 1) * nq // nch)


def adv_scatter(buf, poffs, boffs, post, vals, accumulate=False):
    """buf[poffs[p] + boffs[b] + Q(q)] (+)= vals; vals has buf's dtype, 1 or P*B*Q elements (C order).

    bool buffers accumulate as logical or; float16 must be handled by the caller (cast to float32).
    """
    if on_device(buf):
        return cuda_impl("index_extra").adv_scatter(buf, poffs, boffs, post, vals, accumulate)
    nq, qs, qoffs = post
    n = poffs.size * boffs.size * nq
    if n == 0:
        return
    vstep = int(vals.size > 1)
    if not accumulate:
        a, v, mode = _bits(buf), _bits(vals), 0
    elif buf.dtype == np.bool_:
        a, v, mode = buf.view(np.uint8), vals.view(np.uint8), 2
    else:
        a, v, mode = buf, vals, 1
    args = (a, poffs, boffs, qoffs, int(nq), int(qs), v, vstep, mode)
    if _par(n) and poffs.size >= 4:
        _as_par(*args, True, _nchunks(poffs.size))
    elif _par(n) and nq >= 256:
        _as_par(*args, False, _nchunks(nq // 64))
    else:
        _as_ser(*args)


# ----------------------------------------------------------------------------- mask compaction
# Branch-free compaction: write every element and advance the output cursor by the mask bit
# (a data-dependent branch mispredicts on random masks: 12x slower measured here). A chunk stops
# as soon as its cursor reaches its end, so it never writes past its own output range.
@njit(cache=True, error_model='numpy')
def _mcount_rng(m, lo, hi):
    k = 0
    mm = m[lo:hi]
    for i in range(hi - lo):
        k += mm[i]
    return k


@njit(cache=True, error_model='numpy')
def _mcompact_rng(x, m, out, lo, hi, k, end, pos):
    if k == end:
        return
    mm = m[lo:hi]
    xx = x[lo:hi] if not pos else x
    for j in range(hi - lo):
        if pos:
            out[k] = lo + j
        else:
            out[k] = xx[j]
        k += mm[j]
        if k == end:
            return


@njit(cache=True, error_model='numpy')
def _mcompact_ser(x, m, out, pos):
    _mcompact_rng(x, m, out, 0, m.size, 0, out.size, pos)


@njit(cache=True, error_model='numpy', parallel=True)
def _mcompact_par(x, m, out, pos, nch):
    n = m.size
    starts = np.zeros(nch + 1, np.int64)
    for c in prange(nch):
        c = np.int64(c)
        starts[c + 1] = _mcount_rng(m, c * n // nch, (c + 1) * n // nch)
    for c in range(nch):
        starts[c + 1] += starts[c]
    for c in prange(nch):
        c = np.int64(c)
        _mcompact_rng(x, m, out, c * n // nch, (c + 1) * n // nch, starts[c], starts[c + 1], pos)


@njit(cache=True, error_model='numpy')
def _mcount_ser(m):
    return _mcount_rng(m, 0, m.size)


@njit(cache=True, error_model='numpy', parallel=True)
def _mcount_par(m, nch):
    n = m.size
    tot = 0
    for c in prange(nch):
        c = np.int64(c)
        tot += _mcount_rng(m, c * n // nch, (c + 1) * n // nch)
    return tot


def _compact(x, mask, out_dtype, pos):
    n = mask.size
    par = _par(n)
    nch = _nchunks(n // 4096) if par else 1
    total = int(_mcount_par(mask, nch) if par else _mcount_ser(mask))
    out = np.empty(total, out_dtype)
    if total:
        if par:
            _mcompact_par(x, mask, out, pos, nch)
        else:
            _mcompact_ser(x, mask, out, pos)
    return out


def mask_select(x, mask):
    """x[mask] for flat contiguous, same-size buffers (mask bool) -> new 1-D array."""
    if on_device(x):
        return cuda_impl("index_extra").mask_select(x, mask)
    out = _compact(_bits(x), mask, _bits(x[:0]).dtype, False)
    return out.view(x.dtype)


def mask_positions(mask):
    """Flat int64 positions of the True elements of a flat contiguous bool buffer."""
    if on_device(mask):
        return cuda_impl("index_extra").mask_positions(mask)
    return _compact(np.empty(0, np.int64), mask, np.int64, True)


# ----------------------------------------------------------------------------- offset bookkeeping
def block_offsets(shape, strides, base=0):
    """Row-major element offsets (int64, flat) of a strided block; [base] for an empty shape."""
    off = np.full(1, int(base), np.int64)
    for n, st in zip(shape, strides):
        off = (off[:, None] + np.arange(int(n), dtype=np.int64) * int(st)).ravel()
    return off


def post_block(shape, strides, offsets=block_offsets):
    """(nq, qs, qoffs) for the trailing block: arithmetic when its dims coalesce to one, else the
    element offsets from ``offsets`` (the CUDA twin passes its device version)."""
    sh, (st,) = coalesce([int(n) for n in shape], [int(s) for s in strides])
    nq = _numel([int(n) for n in shape])
    if len(sh) <= 1:
        return nq, (st[0] if st else 1), np.empty(0, np.int64)
    return nq, 0, offsets(sh, st)


# ----------------------------------------------------------------------------- the plan
def _range(flat, n, j):
    ok, bad = _index.check_range(flat, n, allow_negative=True)
    if not ok:
        raise IndexError(f"index {bad} is out of bounds for dimension {j} with size {n}")


class AdvPlan:
    """Advanced indexing of an array of ``shape`` by ``adv`` = [(dim, 'int' | 'mask' | 'bad', array)].

    Validates like PyTorch (index dtypes, mask shapes, broadcasting, bounds; IndexError), expands
    masks to flat nonzero positions, wraps negative indices. The result is P + B + Q: with adjacent
    index dims, P/Q are the dims before/after them; otherwise P is empty and B comes first.
    """
    __slots__ = ("shape", "dims", "groups", "bshape", "pre", "post")

    def __new__(cls, shape, adv):
        if any(on_device(a) for _, _, a in adv):   # device index buffers: the CUDA twin (not a subclass)
            return cuda_impl("index_extra").AdvPlan(shape, adv)
        return object.__new__(cls)

    def __init__(self, shape, adv):
        self.shape = shape = tuple(shape)
        if any(kind == "bad" for _, kind, _ in adv):
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        groups, shapes, dims, j = [], [], [], 0
        for d, kind, a in adv:
            if kind == "mask":
                for i in range(a.ndim):
                    if d + i >= len(shape) or a.shape[i] != shape[d + i]:
                        raise IndexError(f"The shape of the mask {list(a.shape)} at index {i} does not match the "
                                         f"shape of the indexed tensor {list(shape)} at index {d + i}")
                flat = mask_positions(np.ascontiguousarray(a).reshape(-1))
                groups.append(("mask", tuple(range(d, d + a.ndim)), flat, j))
                j += a.ndim
            else:
                groups.append(("int", (d,), a, j))
                j += 1
            shapes.append(groups[-1][2].shape)
            dims.extend(groups[-1][1])
        try:
            self.bshape = tuple(shapes[0] if len(shapes) == 1 else np.broadcast_shapes(*shapes))
        except ValueError:
            raise IndexError("shape mismatch: indexing tensors could not be broadcast together with shapes "
                             + ", ".join(str(list(s)) for s in shapes)) from None
        for i, (kind, gd, a, j) in enumerate(groups):
            if kind == "int":
                n = shape[gd[0]]
                flat = np.ascontiguousarray(a, dtype=np.int64).reshape(-1)
                if flat.size:
                    _range(flat, n, j)
                    flat = _index.wrap_negative(flat, n)
                groups[i] = ("int", gd, flat.reshape(a.shape), j)
        self.groups, self.dims = groups, dims
        rest = [d for d in range(len(shape)) if d not in dims]
        adjacent = dims == list(range(dims[0], dims[0] + len(dims)))
        self.pre = [d for d in rest if d < dims[0]] if adjacent else []
        self.post = [d for d in rest if d not in self.pre]

    def result_shape(self):
        s = self.shape
        return tuple(s[d] for d in self.pre) + self.bshape + tuple(s[d] for d in self.post)

    def _group_offsets(self, kind, gd, a, st):
        if kind == "int":
            return a * st[gd[0]]
        unit, acc = 0, None
        for d in reversed(gd):   # masked dims mergeable in the target: flat position * innermost stride
            if self.shape[d] == 1:
                continue
            if acc is None:
                unit, acc = st[d], st[d] * self.shape[d]
            elif st[d] != acc:
                coords = np.unravel_index(a, [self.shape[e] for e in gd])
                return sum(c * st[e] for c, e in zip(coords, gd))
            else:
                acc *= self.shape[d]
        return a * unit

    def blocks(self, strides, offset):
        """(poffs, boffs, post) for a target with these strides and storage offset."""
        total = None
        for kind, gd, a, _ in self.groups:
            o = self._group_offsets(kind, gd, a, strides)
            total = o if total is None else total + o
        if total.shape != self.bshape:
            total = np.broadcast_to(total, self.bshape)
        boffs = np.ascontiguousarray(total, dtype=np.int64).reshape(-1)
        sh = self.shape
        poffs = block_offsets([sh[d] for d in self.pre], [strides[d] for d in self.pre], offset) if self.pre \
            else np.full(1, offset, np.int64)
        post = post_block([sh[d] for d in self.post], [strides[d] for d in self.post])
        return poffs, boffs, post
