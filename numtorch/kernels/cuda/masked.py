"""CUDA twins of masked.py: masked fill/select/scatter, nonzero, take and the offset kernels.

Data-dependent sizes (select, nonzero, mask positions) go through an ordered stream compaction:
one block per contiguous chunk counts its flags, one block scans the chunk counts, the total
crosses to the host once (to size the output), then every chunk walks its range in tiles of one
element per thread, placing each hit at chunk start + a block-wide prefix sum of the flags. The
output is therefore in row-major order, like the CPU. An element is a hit when its bits under a
mask are nonzero (floats drop the sign bit: -0.0 == 0), so one compile serves each element width.
"""
import numpy as np
from numba import cuda

from . import SIM, as_device, block_threads, dev_ints, empty, launch
from .copy import _UINT, _bits, as_dtype
from ..copy import _coalesce2, _ints, _numel, _scalar_src, coalesce

_SH = 256                 # shared scan buffer of the compaction kernels (>= block_threads())
_SIM_CHUNKS = 3           # several chunks under the simulator, so the multi-block path runs
_SIM_SCAN_THREADS = 8     # every syncthreads is slow in the simulator: few threads per block there


def _dev(a):
    """A flat device array of ``a``'s elements (host arrays and sequences are copied over)."""
    if hasattr(a, "copy_to_host"):
        return a if a.ndim == 1 else a.reshape(a.size)
    h = np.ascontiguousarray(a).reshape(-1)
    d = empty(h.size, h.dtype)
    if h.size:
        d.copy_to_device(h)
    return d


# ----------------------------------------------------------------------------- device helpers
@cuda.jit(device=True)
def _strided(i, meta, nd):
    """Offset of row-major element ``i`` of shape meta[:nd] under strides meta[nd:2 nd]."""
    o = 0
    for d in range(nd - 1, -1, -1):
        n = meta[d]
        o += (i % n) * meta[nd + d]
        i //= n
    return o


@cuda.jit(device=True)
def _scan(sh, tid, nt):
    """Inclusive prefix sum of sh[:nt] in place; every thread of the block must call it."""
    d = 1
    while d < nt:
        v = sh[tid - d] if tid >= d else 0
        cuda.syncthreads()
        sh[tid] += v
        cuda.syncthreads()
        d *= 2


# ----------------------------------------------------------------------------- compaction
@cuda.jit(cache=True)
def _count_k(f, fo, meta, nd, m, z, n, counts):
    sh = cuda.shared.array(_SH, np.int64)
    tid, nt = cuda.threadIdx.x, cuda.blockDim.x
    nch = counts.size
    c = cuda.blockIdx.x
    while c < nch:
        hi = (c + 1) * n // nch
        k = 0
        i = c * n // nch + tid
        while i < hi:
            if (f[fo + _strided(i, meta, nd)] & m) != z:
                k += 1
            i += nt
        sh[tid] = k
        cuda.syncthreads()
        _scan(sh, tid, nt)
        if tid == 0:
            counts[c] = sh[nt - 1]
        cuda.syncthreads()
        c += cuda.gridDim.x


@cuda.jit(cache=True)
def _starts_k(counts, starts):
    # one block: exclusive scan of the chunk counts; starts[nch] = total
    sh = cuda.shared.array(_SH, np.int64)
    tid, nt = cuda.threadIdx.x, cuda.blockDim.x
    nch = counts.size
    run = 0
    base = 0
    while base < nch:
        i = base + tid
        v = counts[i] if i < nch else 0
        sh[tid] = v
        cuda.syncthreads()
        _scan(sh, tid, nt)
        if i < nch:
            starts[i] = run + sh[tid] - v
        run += sh[nt - 1]
        cuda.syncthreads()
        base += nt
    if tid == 0:
        starts[nch] = run


@cuda.jit(cache=True)
def _write_k(f, fo, meta, nd, m, z, n, starts, mode, a, b):
    # mode 0 (select): b[pos] = a[i]; 1 (scatter): a[i] = b[pos]; 2: coordinates of i into b[pos, :]
    sh = cuda.shared.array(_SH, np.int64)
    tid, nt = cuda.threadIdx.x, cuda.blockDim.x
    nch = starts.size - 1
    c = cuda.blockIdx.x
    while c < nch:
        base = c * n // nch
        hi = (c + 1) * n // nch
        run = starts[c]
        while base < hi:
            i = base + tid
            hit = 0
            if i < hi and (f[fo + _strided(i, meta, nd)] & m) != z:
                hit = 1
            sh[tid] = hit
            cuda.syncthreads()
            _scan(sh, tid, nt)
            if hit:
                pos = run + sh[tid] - 1
                if mode == 0:
                    b[pos] = a[i]
                elif mode == 1:
                    a[i] = b[pos]
                else:
                    r = i
                    for d in range(nd - 1, -1, -1):
                        b[pos * nd + d] = r % meta[d]
                        r //= meta[d]
            run += sh[nt - 1]
            cuda.syncthreads()
            base += nt
        c += cuda.gridDim.x


def _flags(buf):
    """(bits view, mask, zero): an element counts when ``bits & mask != zero`` (floats: -0.0 == 0)."""
    it = buf.dtype.itemsize
    u = _UINT[it]
    return _bits(buf), u((1 << (8 * it - (buf.dtype.kind == 'f'))) - 1), u(0)


def _threads():
    return min(block_threads(), _SIM_SCAN_THREADS) if SIM else block_threads()


def _chunks(n):
    if SIM:
        return max(1, min(_SIM_CHUNKS, -(-n // _threads())))
    return launch(n, _threads())[0]


class _Compaction:
    """Flags of a strided view, counted and scanned on the device; ``total`` is a host int."""

    def __init__(self, buf, off, shape, strides):
        self.f, self.m, self.z = _flags(buf)
        self.off, self.nd, self.n = int(off), len(shape), _numel(shape)
        self.meta = dev_ints(list(shape) + list(strides))
        nch = _chunks(self.n)
        counts, self.starts = empty(nch, np.int64), empty(nch + 1, np.int64)
        _count_k[nch, _threads()](self.f, self.off, self.meta, self.nd, self.m, self.z, self.n, counts)
        _starts_k[1, _threads()](counts, self.starts)
        self.total = int(self.starts[nch:].copy_to_host()[0])

    def write(self, mode, a, b):
        _write_k[self.starts.size - 1, _threads()](self.f, self.off, self.meta, self.nd, self.m, self.z,
                                                         self.n, self.starts, mode, a, b)


def compact(x, mask, positions=False):
    """x[mask] (or the flat positions of mask's hits) for flat contiguous buffers -> new device array."""
    n = mask.size
    dtype = np.int64 if positions else x.dtype
    if n == 0:
        return empty(0, dtype)
    c = _Compaction(_dev(mask), 0, [n], [1])
    out = empty(c.total, dtype)
    if c.total:
        if positions:
            c.write(2, dev_ints(()), out)
        else:
            c.write(0, _bits(x), _bits(out))
    return out


# ----------------------------------------------------------------------------- masked ops
@cuda.jit(cache=True)
def _mfill_k(a, ao, m, mo, meta, nd, v, n):
    i = cuda.grid(1)
    s = cuda.gridsize(1)
    while i < n:
        r = i
        oa = ao
        om = mo
        for d in range(nd - 1, -1, -1):
            k = meta[d]
            c = r % k
            r //= k
            oa += c * meta[nd + d]
            om += c * meta[2 * nd + d]
        if m[om]:
            a[oa] = v
        i += s


def masked_fill(self_buf, off, strides, shape, mask, mask_off, mask_strides, value):
    """In place: self[mask] = value (mask bool, broadcast through zero strides)."""
    shape, ast, mst = _coalesce2(_ints(shape), _ints(strides), _ints(mask_strides))
    if 0 in shape:
        return
    shape, ast, mst = (shape, ast, mst) if shape else ([1], [0], [0])
    v = _bits(_scalar_src(value, self_buf.dtype))[0]
    n = _numel(shape)
    _mfill_k[launch(n)](_bits(self_buf), int(off), _dev(mask), int(mask_off), dev_ints(shape + ast + mst),
                        len(shape), v, n)


def masked_select(x, mask):
    """x[mask] for contiguous, same-size 1-D buffers (mask bool) -> new 1-D device array."""
    if x.size == 0:
        return empty(0, x.dtype)
    return compact(x, mask)


def masked_scatter(self_buf, mask, src):
    """In place: self[mask] = src[:mask.sum()] (contiguous, same size; src flat, self's dtype)."""
    if self_buf.size == 0:
        return
    c = _Compaction(_dev(mask), 0, [mask.size], [1])
    if src.size < c.total:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    if not c.total:
        return
    src = as_dtype(_dev(src)[:c.total], 0, [1], [c.total], self_buf.dtype)[0]
    c.write(1, _bits(self_buf), _bits(src))


# ----------------------------------------------------------------------------- nonzero
def nonzero(x, x_off, x_strides, shape):
    """Row-major coordinates of nonzero elements as an int64 device array of shape (nnz, ndim)."""
    shape, xs = _ints(shape), _ints(x_strides)
    nd = len(shape)
    if nd == 0:
        return empty(0, np.int64).reshape(int(x[int(x_off):int(x_off) + 1].copy_to_host()[0] != 0), 0)
    if _numel(shape) == 0:
        return empty(0, np.int64).reshape(0, nd)
    c = _Compaction(x, x_off, shape, xs)
    out = empty(c.total * nd, np.int64)
    if c.total:
        c.write(2, dev_ints(()), out)
    return out.reshape(c.total, nd)


# ----------------------------------------------------------------------------- take / offsets
@cuda.jit(cache=True)
def _take_k(x, xo, meta, nd, numel, idx, out, n):
    i = cuda.grid(1)
    s = cuda.gridsize(1)
    while i < n:
        v = np.int64(idx[i])
        if v < 0:
            v += numel
        out[i] = x[xo + _strided(v, meta, nd)]
        i += s


def take(x, x_off, x_strides, shape, flat_idx):
    """torch.take: x's row-major flattening indexed by flat_idx (negatives wrap) -> 1-D device array."""
    shape, xs = _ints(shape), _ints(x_strides)
    numel = _numel(shape)
    out = empty(flat_idx.size, x.dtype)
    if flat_idx.size == 0:
        return out
    shape, (xs,) = coalesce(shape, xs)
    shape, xs = (shape, xs) if shape else ([1], [0])
    n = flat_idx.size
    _take_k[launch(n)](_bits(x), int(x_off), dev_ints(shape + xs), len(shape), numel, _dev(flat_idx), _bits(out),
                       n)
    return out


@cuda.jit(cache=True)
def _gofs_k(buf, offs, out, n):
    i = cuda.grid(1)
    s = cuda.gridsize(1)
    while i < n:
        out[i] = buf[offs[i]]
        i += s


def gather_offsets(buf, offsets):
    """buf[offsets] for an int offset array (any shape) -> new device array of offsets' shape."""
    shape = tuple(np.shape(offsets))
    offs = _dev(offsets)
    out = empty(offs.size, buf.dtype)
    if offs.size:
        _gofs_k[launch(offs.size)](_bits(buf), offs, _bits(out), offs.size)
    return out.reshape(shape)


def scatter_offsets(buf, offsets, values, accumulate=False):
    """buf[offsets] = values (in order: last duplicate wins) or += with ``accumulate`` (index_put_).

    values: scalar, 1-element, or as many elements as offsets; cast to buf's dtype like copy_.
    """
    from .index_extra import adv_scatter
    offs = _dev(offsets)
    if offs.size == 0:
        return
    if isinstance(values, np.ndarray) or hasattr(values, "copy_to_host"):
        vals = _dev(values)
        vals = as_dtype(vals, 0, [1], [vals.size], buf.dtype)[0]
    else:
        vals = as_device(_scalar_src(values, buf.dtype))
    if vals.size not in (1, offs.size):
        raise ValueError("shape mismatch: value has %d elements, index selects %d" % (vals.size, offs.size))
    adv_scatter(buf, dev_ints((0,)), offs, (1, 1, np.empty(0, np.int64)), vals, accumulate)


@cuda.jit(cache=True)
def block_offs_k(out, n, meta, nd, base):
    """out[i] = base + offset of row-major element i of shape meta[:nd], strides meta[nd:2 nd]."""
    i = cuda.grid(1)
    s = cuda.gridsize(1)
    while i < n:
        out[i] = base + _strided(i, meta, nd)
        i += s


@cuda.jit(cache=True)
def acc_index_k(out, n, meta, nd, a, g, ng, wrap, init):
    """out[i] (+)= offset of index a[<coords of i, meta[nd:2 nd]>] (shape meta[:nd]).

    The index (negatives + ``wrap`` when wrap > 0) is unravelled over g[:ng] with strides g[ng:]
    (ng == 1: index * g[1]), which is how a flat mask position addresses its masked dims.
    """
    i = cuda.grid(1)
    s = cuda.gridsize(1)
    while i < n:
        v = np.int64(a[_strided(i, meta, nd)])
        if v < 0 and wrap > 0:
            v += wrap
        if ng == 1:
            o = v * g[1]
        else:
            o = _strided(v, g, ng)
        if init:
            out[i] = o
        else:
            out[i] += o
        i += s


def bcast_strides(shape, target):
    """Element strides of a C-contiguous array of ``shape`` broadcast to ``target`` (0 where repeated)."""
    st, acc = [], 1
    for n in reversed(shape):
        st.append(0 if n == 1 else acc)
        acc *= int(n)
    return [0] * (len(target) - len(shape)) + st[::-1]


def index_offsets(base, indices, strides, sizes=None, pre=((), ()), post=((), ())):
    """Element offsets for advanced indexing: base + sum_k idx_k * strides[k] (idx broadcast).

    ``sizes`` wraps negative indices per index array (validate first). pre/post = (shape, strides)
    of sliced dims before/after the broadcast index dims -> int64 device array of shape
    pre_shape + broadcast(idx) + post_shape.
    """
    shapes = [tuple(np.shape(i)) for i in indices]
    bshape = tuple(np.broadcast_shapes(*shapes)) if shapes else ()
    (psh, pst), (qsh, qst) = pre, post
    psh, pst, qsh, qst = _ints(psh), _ints(pst), _ints(qsh), _ints(qst)
    full = psh + list(bshape) + qsh
    nd, n = len(full), _numel(full)
    out = empty(n, np.int64)
    if n:
        meta = dev_ints(full + pst + [0] * len(bshape) + qst)
        block_offs_k[launch(n)](out, n, meta, nd, int(base))
        for k, (idx, shp) in enumerate(zip(indices, shapes)):
            wrap = int(sizes[k]) if sizes is not None and sizes[k] is not None else 0
            ast = [0] * len(psh) + bcast_strides(shp, bshape) + [0] * len(qsh)
            acc_index_k[launch(n)](out, n, dev_ints(full + ast), nd, _dev(idx), dev_ints((1, int(strides[k]))), 1,
                                   wrap, False)
    return out.reshape(tuple(full))
