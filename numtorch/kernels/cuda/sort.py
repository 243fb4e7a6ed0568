"""CUDA twins of ``kernels.sort``: sort, argsort, topk, kthvalue, median, nanmedian, mode, unique and
unique_consecutive, with the CPU's arguments and results (device arrays in place of NumPy ones).

Every op starts from one per-row order of (key, index) pairs: keys are the CPU's order-preserving
unsigned keys (NaN the largest, -0.0 == 0.0, descending = keys XOR all-ones), and since indices are
distinct, (key, index) is a strict total order whose sorted form is exactly the CPU's stable order.
Segments of up to ``CAP`` elements are bitonic-sorted in shared memory (one block per segment, padded
with keys above every real key); longer rows are then merged in global memory, one launch per
doubling of the run width, each element placing itself by a binary search in the partner run.
``topk`` with k <= ``SELECT_K`` skips the sort: k block-reduction passes per row, each picking the
smallest (key, index) strictly above the previous pick.
"""
import numpy as np
from numba import cuda, int64, uint64

from numtorch.kernels.cuda import SIM, block_threads, empty, launch
from numtorch.kernels.sort import _prep

# Shared-memory segment (power of two) of the bitonic sort. The simulator's smaller one keeps the
# merge passes testable at simulator sizes, at the GPU's ratio of two pairs a thread per stage.
CAP = 128 if SIM else 1024
MAX_THREADS = 256                 # >= block_threads(): size of the per-thread shared arrays
_SCAN_PER = 4 if SIM else 16      # items per thread of a scan block
SELECT_K = 16                     # topk with k up to this selects (k passes over the row), no sort
_SELECT_ROWS = 64                   # ... unless fewer rows than this are each longer than _SELECT_N
_SELECT_N = 1 << 16
_PAD = np.uint64((1 << 64) - 1)   # pad key: with its index beyond the row, it sorts after every key
_U0 = np.uint64(0)


def _blocks(items):
    """Grid of a one-block-per-item kernel (the kernels stride over the rest)."""
    return max(1, min(int(items), 2 if SIM else 8192))


# ----------------------------------------------------------------------------- device functions
@cuda.jit(device=True)
def _key(v, mode, top, absinf, allones, inv):
    """radix._key: order-preserving uint64 key (mode 0 unsigned, 1 signed, 2 float bits)."""
    u = np.uint64(v)
    if mode == 2:
        a = u & (allones ^ top)
        if a > absinf:
            u = allones                   # NaN of either sign: the one largest key
        elif a == np.uint64(0):
            u = top                       # -0.0 == +0.0
        elif (u & top) != np.uint64(0):
            u = u ^ allones
        else:
            u = u | top
    elif mode == 1:
        u = u ^ top
    return u ^ inv


@cuda.jit(device=True)
def _imin(a, b):
    return a if a < b else b  # (builtin min failed an offline compile_ptx check of these kernels)


@cuda.jit(device=True)
def _less(ka, ia, kb, ib):
    return ka < kb or (ka == kb and ia < ib)


@cuda.jit(device=True)
def _bitonic(sk, si, m, tid, nt):
    """Ascending (key, index) sort of the power-of-two prefix sk/si[:m] by the whole block."""
    half = m // 2
    size = 2
    while size <= m:
        stride = size // 2
        while stride > 0:
            t = tid
            while t < half:
                i = 2 * stride * (t // stride) + t % stride
                j = i + stride
                up = (i & size) == 0
                ki, kj, ii, ij = sk[i], sk[j], si[i], si[j]
                if _less(kj, ij, ki, ii) == up:
                    sk[i], sk[j], si[i], si[j] = kj, ki, ij, ii
                t += nt
            cuda.syncthreads()
            stride //= 2
        size *= 2


@cuda.jit(device=True)
def _lower_pair(kk, ki, lo, hi, key, idx):
    """First position in the sorted kk/ki[lo:hi] whose (key, index) is not below (key, idx)."""
    while lo < hi:
        mid = (lo + hi) // 2
        if _less(kk[mid], ki[mid], key, idx):
            lo = mid + 1
        else:
            hi = mid
    return lo


@cuda.jit(device=True)
def _lower_key(kk, lo, hi, key):
    while lo < hi:
        mid = (lo + hi) // 2
        if kk[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo


# ----------------------------------------------------------------------------- kernels
@cuda.jit(cache=True)
def _segment_sort(x, rows, n, seg, mode, top, absinf, allones, inv, pad, kk, ki):
    """Sort each row's segments of ``seg`` (<= CAP) elements: sorted keys / row indices into kk/ki."""
    sk = cuda.shared.array(CAP, uint64)
    si = cuda.shared.array(CAP, int64)
    tid, nt = cuda.threadIdx.x, cuda.blockDim.x
    nseg = (n + seg - 1) // seg
    b = cuda.blockIdx.x
    while b < rows * nseg:
        r = b // nseg
        c0 = (b - r * nseg) * seg
        ln = _imin(seg, n - c0)
        m = 1
        while m < ln:
            m *= 2
        base = r * n + c0
        t = tid
        while t < m:
            sk[t] = _key(x[base + t], mode, top, absinf, allones, inv) if t < ln else pad
            si[t] = c0 + t
            t += nt
        cuda.syncthreads()
        _bitonic(sk, si, m, tid, nt)
        t = tid
        while t < ln:
            kk[base + t] = sk[t]
            ki[base + t] = si[t]
            t += nt
        cuda.syncthreads()
        b += cuda.gridDim.x


@cuda.jit(cache=True)
def _merge(ak, ai, bk, bi, total, n, w):
    """Merge adjacent sorted runs of width w within each row: element -> its rank in the pair."""
    e, s = cuda.grid(1), cuda.gridsize(1)
    while e < total:
        r = e // n
        base = r * n
        p = e - base
        run = p // w
        p0 = (run // 2) * 2 * w
        if run % 2 == 0:
            own, o0, o1 = p0, _imin(p0 + w, n), _imin(p0 + 2 * w, n)
        else:
            own, o0, o1 = p0 + w, p0, p0 + w
        key, idx = ak[e], ai[e]
        c = _lower_pair(ak, ai, base + o0, base + o1, key, idx) - (base + o0)
        d = base + p0 + (p - own) + c
        bk[d] = key
        bi[d] = idx
        e += s


@cuda.jit(cache=True)
def _gather(x, ki, rows, n, k, ov, oi, vals):
    """First k of each sorted row: indices, and values when ``vals``."""
    e, s = cuda.grid(1), cuda.gridsize(1)
    while e < rows * k:
        r = e // k
        i = ki[r * n + e - r * k]
        oi[e] = i
        if vals:
            ov[e] = x[r * n + i]
        e += s


@cuda.jit(cache=True)
def _topk_select(x, rows, n, k, mode, top, absinf, allones, inv, pad, ov, oi):
    """Per row, pass j: the smallest (key ^ inv, index) strictly above pass j-1's pick, found by a
    block reduction, is output j: the row is read k times and never sorted."""
    bk = cuda.shared.array(MAX_THREADS, uint64)
    bi = cuda.shared.array(MAX_THREADS, int64)
    tid, nt = cuda.threadIdx.x, cuda.blockDim.x
    h0 = 1
    while h0 < nt:
        h0 *= 2
    h0 //= 2
    r = cuda.blockIdx.x
    while r < rows:
        base = r * n
        pk, pi = _U0, np.int64(-1)        # below every (key, index >= 0)
        for j in range(k):
            ck, ci = pad, n               # above every real pair; k <= n leaves a real one
            t = tid
            while t < n:
                kt = _key(x[base + t], mode, top, absinf, allones, inv)
                if _less(pk, pi, kt, t) and _less(kt, t, ck, ci):
                    ck, ci = kt, t
                t += nt
            bk[tid], bi[tid] = ck, ci
            cuda.syncthreads()
            h = h0
            while h > 0:
                if tid < h and tid + h < nt:
                    ok, oj = bk[tid + h], bi[tid + h]
                    if _less(ok, oj, bk[tid], bi[tid]):
                        bk[tid], bi[tid] = ok, oj
                cuda.syncthreads()
                h //= 2
            pk, pi = bk[0], bi[0]
            if tid == 0:
                oi[r * k + j] = pi
                ov[r * k + j] = x[base + pi]
            cuda.syncthreads()            # everyone has read bk[0] before the next pass writes it
        r += cuda.gridDim.x


@cuda.jit(cache=True)
def _select(x, kk, ki, rows, n, k0, nanmode, mode, allones, ov, oi):
    """Rank k0 of each sorted row; nanmode 1 (median): a row with NaN gives its first NaN; 2
    (nanmedian): lower median of the non-NaN values, an all-NaN row its first NaN."""
    r, s = cuda.grid(1), cuda.gridsize(1)
    while r < rows:
        base = r * n
        pos = k0
        if mode == 2 and nanmode != 0:
            first = _lower_key(kk, base, base + n, allones) - base   # NaNs sort last, by index
            nnan = n - first
            if nnan > 0:
                if nanmode == 1:
                    pos = first
                elif nnan == n:
                    pos = 0
                else:
                    pos = (n - nnan - 1) // 2
        i = ki[base + pos]
        oi[r] = i
        ov[r] = x[base + i]
        r += s


@cuda.jit(cache=True)
def _mode(x, kk, ki, rows, n, mode, allones, ov, oi):
    """Per row: the first longest run of equal keys (NaNs distinct), at its last element, which
    holds the highest index of that value."""
    bl = cuda.shared.array(MAX_THREADS, int64)
    bj = cuda.shared.array(MAX_THREADS, int64)
    tid, nt = cuda.threadIdx.x, cuda.blockDim.x
    r = cuda.blockIdx.x
    while r < rows:
        base = r * n
        blen, best = np.int64(0), n
        j = tid
        while j < n:
            kj = kk[base + j]
            nan = mode == 2 and kj == allones
            if nan or j == n - 1 or kk[base + j + 1] != kj:
                ln = 1 if nan else j + 1 - (_lower_key(kk, base, base + j, kj) - base)
                if ln > blen:  # j grows: strict keeps the smallest value among equal runs
                    blen, best = ln, j
            j += nt
        bl[tid], bj[tid] = blen, best
        cuda.syncthreads()
        h = 1
        while h < nt:
            h *= 2
        h //= 2
        while h > 0:
            if tid < h and tid + h < nt:
                ol, oj = bl[tid + h], bj[tid + h]
                if ol > bl[tid] or (ol == bl[tid] and oj < bj[tid]):
                    bl[tid], bj[tid] = ol, oj
            cuda.syncthreads()
            h //= 2
        if tid == 0:
            i = ki[base + bj[0]]
            oi[r] = i
            ov[r] = x[base + i]
        cuda.syncthreads()
        r += cuda.gridDim.x


@cuda.jit(cache=True)
def _keys_in_order(x, n, mode, top, absinf, allones, kk, ki):
    j, s = cuda.grid(1), cuda.gridsize(1)
    while j < n:
        kk[j] = _key(x[j], mode, top, absinf, allones, np.uint64(0))
        ki[j] = j
        j += s


@cuda.jit(cache=True)
def _group_starts(kk, n, mode, allones, g):
    """g[j] = 1 where a group starts: a new key, or any NaN (every NaN is its own value)."""
    j, s = cuda.grid(1), cuda.gridsize(1)
    while j < n:
        kj = kk[j]
        g[j] = 1 if j == 0 or kj != kk[j - 1] or (mode == 2 and kj == allones) else 0
        j += s


@cuda.jit(cache=True)
def _scatter_groups(x, ki, g, n, vals, inverse, starts):
    """From the inclusive group count g: group values (first member), inverse, group starts."""
    j, s = cuda.grid(1), cuda.gridsize(1)
    while j < n:
        gj = g[j] - 1
        i = ki[j]
        inverse[i] = gj
        if j == 0 or g[j - 1] != g[j]:
            vals[gj] = x[i]
            starts[gj] = j
        if j == n - 1:
            starts[gj + 1] = n
        j += s


@cuda.jit(cache=True)
def _diff(starts, ng, counts):
    j, s = cuda.grid(1), cuda.gridsize(1)
    while j < ng:
        counts[j] = starts[j + 1] - starts[j]
        j += s


@cuda.jit(cache=True)
def _scan_blocks(a, n, per, sums):
    """Inclusive scan of each chunk of nt * per items in place; chunk totals into sums."""
    tot = cuda.shared.array(MAX_THREADS, int64)
    tid, nt = cuda.threadIdx.x, cuda.blockDim.x
    chunk = nt * per
    nb = (n + chunk - 1) // chunk
    b = cuda.blockIdx.x
    while b < nb:
        t0 = b * chunk + tid * per
        t1 = _imin(t0 + per, n)
        acc = np.int64(0)
        for j in range(t0, t1):
            acc += a[j]
        tot[tid] = acc
        cuda.syncthreads()
        off = 1
        while off < nt:
            v = tot[tid - off] if tid >= off else np.int64(0)
            cuda.syncthreads()
            tot[tid] += v
            cuda.syncthreads()
            off *= 2
        run = tot[tid] - acc
        for j in range(t0, t1):
            run += a[j]
            a[j] = run
        if tid == nt - 1:
            sums[b] = tot[tid]
        cuda.syncthreads()
        b += cuda.gridDim.x


@cuda.jit(cache=True)
def _scan_add(a, n, chunk, sums):
    j, s = cuda.grid(1), cuda.gridsize(1)
    while j < n:
        b = j // chunk
        if b > 0:
            a[j] += sums[b - 1]
        j += s


# ----------------------------------------------------------------------------- host helpers
def _scan(a, n):
    """Inclusive prefix sum of the int64 device array a[:n], in place."""
    nt = block_threads(MAX_THREADS)
    chunk = nt * _SCAN_PER
    nb = -(-n // chunk)
    sums = empty(nb, np.int64)
    _scan_blocks[_blocks(nb), nt](a, n, _SCAN_PER, sums)
    if nb > 1:
        _scan(sums, nb)
        _scan_add[launch(n)](a, n, chunk, sums)


def _sorted(xu, rows, n, prm, inv):
    """Per-row ascending (key ^ inv, index) order of the (rows, n) buffer: (keys, row indices)."""
    mode, top, absinf, allones = prm
    total = rows * n
    kk, ki = empty(total, np.uint64), empty(total, np.int64)
    seg = min(n, CAP)
    nseg = -(-n // seg)
    _segment_sort[_blocks(rows * nseg), block_threads(MAX_THREADS)](
        xu, rows, n, seg, mode, top, absinf, allones, inv, _PAD, kk, ki)
    if seg < n:
        bk, bi = empty(total, np.uint64), empty(total, np.int64)
        w = seg
        while w < n:
            _merge[launch(total)](kk, ki, bk, bi, total, n, w)
            kk, bk, ki, bi = bk, kk, bi, ki
            w *= 2
    return kk, ki


def _sort(x, rows, n, k, descending, ov, oi, vals):
    if rows and k:
        xu, prm = _prep(x)
        inv = prm[3] if descending else _U0
        _, ki = _sorted(xu, rows, n, prm, inv)
        _gather[launch(rows * k)](xu, ki, rows, n, k, ov.view(xu.dtype) if vals else xu, oi, vals)


def _kth(x, rows, n, k0, nanmode, ov, oi):
    if rows and n:
        xu, prm = _prep(x)
        kk, ki = _sorted(xu, rows, n, prm, _U0)
        _select[launch(rows)](xu, kk, ki, rows, n, k0, nanmode, prm[0], prm[3], ov.view(xu.dtype), oi)


# ----------------------------------------------------------------------------- entry points
def sort(x, rows, n, descending, stable, out_values, out_indices):
    """Sort rows (NaN largest, ties by index: stable both ways, so `stable` changes nothing)."""
    _sort(x, rows, n, n, descending, out_values, out_indices, True)


def argsort(x, rows, n, descending, stable, out_indices):
    """Indices of `sort` only."""
    _sort(x, rows, n, n, descending, None, out_indices, False)


def topk(x, rows, n, k, largest, sorted, out_values, out_indices):
    """k largest/smallest per row into (rows, k), best first, ties by lowest index, NaN largest;
    always sorted (as the CPU, also for sorted=False). The caller validates 0 <= k <= n."""
    if k > SELECT_K or (rows < _SELECT_ROWS and n > _SELECT_N):
        # A few very long rows would leave all but a few SMs idle in the one-block-per-row selection.
        return _sort(x, rows, n, k, largest, out_values, out_indices, True)
    if rows and k:
        xu, (mode, top, absinf, allones) = _prep(x)
        nt = 32                                     # no more threads than a short row can use
        while nt < n and nt < block_threads(MAX_THREADS):
            nt *= 2
        _topk_select[_blocks(rows), min(nt, block_threads(MAX_THREADS))](
            xu, rows, n, k, mode, top, absinf, allones, allones if largest else _U0, _PAD,
            out_values.view(xu.dtype), out_indices)


def kthvalue(x, rows, n, k, out_values, out_indices):
    """k-th smallest (1-based) per row into (rows,) outputs; ties: the k-th in stable order."""
    _kth(x, rows, n, k - 1, 0, out_values, out_indices)


def median(x, rows, n, out_values, out_indices):
    """Lower median per row; a row with NaN gives its first NaN."""
    _kth(x, rows, n, (n - 1) // 2, 1, out_values, out_indices)


def nanmedian(x, rows, n, out_values, out_indices):
    """Lower median of the non-NaN values per row; an all-NaN row gives its first NaN."""
    _kth(x, rows, n, (n - 1) // 2, 2, out_values, out_indices)


def mode(x, rows, n, out_values, out_indices):
    """Most frequent value per row, smallest on ties, index of its last occurrence; NaNs distinct."""
    if rows and n:
        xu, prm = _prep(x)
        kk, ki = _sorted(xu, rows, n, prm, _U0)
        _mode[_blocks(rows), block_threads(MAX_THREADS)](xu, kk, ki, rows, n, prm[0], prm[3],
                                                          out_values.view(xu.dtype), out_indices)


def unique(x_flat, consecutive=False):
    """(values, inverse, counts) device arrays as torch.unique(sorted=True, return_inverse=True,
    return_counts=True), or torch.unique_consecutive when `consecutive`; -0.0 == 0.0, NaNs distinct.
    The number of groups costs one device-to-host copy."""
    x_flat = x_flat.reshape(-1)
    xu, prm = _prep(x_flat)
    n = x_flat.size
    if n == 0:
        return empty(0, x_flat.dtype), empty(0, np.int64), empty(0, np.int64)
    mode_, top, absinf, allones = prm
    if consecutive:
        kk, ki = empty(n, np.uint64), empty(n, np.int64)
        _keys_in_order[launch(n)](xu, n, mode_, top, absinf, allones, kk, ki)
    else:
        kk, ki = _sorted(xu, 1, n, prm, _U0)
    g = empty(n, np.int64)
    _group_starts[launch(n)](kk, n, mode_, allones, g)
    _scan(g, n)
    ng = int(g[n - 1:n].copy_to_host()[0])
    vals, inverse = empty(ng, x_flat.dtype), empty(n, np.int64)
    counts, starts = empty(ng, np.int64), empty(ng + 1, np.int64)
    _scatter_groups[launch(n)](xu, ki, g, n, vals.view(xu.dtype), inverse, starts)
    _diff[launch(ng)](starts, ng, counts)
    return vals, inverse, counts


def unique_consecutive(x_flat):
    """Runs of equal values (NaNs distinct): (values, inverse, counts) device arrays."""
    return unique(x_flat, True)
