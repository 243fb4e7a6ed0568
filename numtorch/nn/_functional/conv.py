"""conv1d/2d/3d and conv_transpose1d/2d/3d: im2col (compiled) + BLAS GEMM (NumPy matmul, tiled over the batch),
a direct compiled kernel for depthwise convolutions, plain GEMM for 1x1 stride-1 convolutions. Fast paths for
stride-1 2-d convolutions: Winograd F(2x2, 3x3) for 3x3 layers with enough channels and work (forward, input
and weight gradients), per-tap strided GEMMs for weight gradients, and im2col on the padded-width grid (long
contiguous copies) for the other kernel shapes. Batch tiles are shared by plain worker threads (see _split).

Every spatial rank runs as 3-d (1-d: D=H=1; 2-d: D=1), so one set of kernels serves all. One autograd node
(ConvolutionBackward0) per call; its first-order backward runs the same kernels (the input gradient of a
convolution is a transposed convolution and vice versa); under create_graph it is rebuilt from
differentiable conv/conv_transpose calls so double backward works."""
import numpy as np

from ... import dtypes as _dt
from ...autograd.graph import needs_grad, record
from ...kernels import blas_threads as _blas
from ...kernels import conv as _kc
from ...tensor import Tensor

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]

_TILE_BYTES = 8 << 20   # column buffer per batch tile of small samples (stays in the last-level cache)
_SAMPLE_BYTES = 1 << 20  # one sample's columns at least this large: one sample per tile, GEMM straight into y[n]


def _is_grad_enabled():
    import numtorch
    return numtorch.is_grad_enabled()


def _ntuple(v, n, name):
    if isinstance(v, (list, tuple)):
        v = tuple(int(a) for a in v)
        if len(v) == 1 and n > 1:
            return v * n
        if len(v) != n:
            raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} values to match the "
                               f"convolution dimensions, but got {name}={list(v)}")
        return v
    return (int(v),) * n


def _fmt(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _compute_np(t):
    """Contiguous NumPy array of t in its compute dtype (float16 -> float32, ints -> float64)."""
    a = t._np()
    cd = t.dtype.compute if t.dtype.is_floating_point else np.float64
    return np.ascontiguousarray(a, dtype=cd)


def _geom(N, C, sp, k, s, p, d, o, wide=True, xst=None):
    """The int64 geometry array of numtorch.kernels.conv (3-d spatial tuples); wide: the (C*K, N*L) layout;
    xst: element strides (n, c, d, h, w) of the input im2col reads (None: contiguous)."""
    L = o[0] * o[1] * o[2]
    K = k[0] * k[1] * k[2]
    ns, rs = (L, N * L) if wide else (C * K * L, L)
    if xst is None:
        xst = _kc.contiguous_strides5(C, *sp)
    return np.array([N, C, *sp, *k, *s, *p, *d, *o, ns, rs, *xst], dtype=np.int64)


class _Src:
    """An input as the kernels read it: flat buffer, element offset, 5-d element strides, 5-d shape.
    Float32/float64 CPU tensors are read in place whatever their layout (channels-last included)."""
    __slots__ = ("buf", "off", "st", "shape")

    def __init__(self, t, nd):
        shape = tuple(t.shape[:2]) + (1,) * (3 - nd) + tuple(t.shape[2:])
        cd = t.dtype.compute if t.dtype.is_floating_point else np.float64
        if t._storage.data.dtype == cd and t._storage.device.type == "cpu":
            st = tuple(t._stride)
            self.buf, self.off = t._storage.data, t._offset
            self.st = st[:2] + (0,) * (3 - nd) + st[2:]
        else:
            self.buf = np.ascontiguousarray(t._np(), dtype=cd).reshape(-1)
            self.off = 0
            self.st = _kc.contiguous_strides5(*shape[1:])
        self.shape = shape

    def array(self):
        """A contiguous (N, C, D, H, W) array (a copy only when the layout is not already that)."""
        it = self.buf.itemsize
        v = np.ndarray(self.shape, self.buf.dtype, self.buf, self.off * it, tuple(s * it for s in self.st))
        return np.ascontiguousarray(v)

    def sample_offset(self, n):
        return self.off + n * self.st[0]


def _pad3(t, fill):
    return (fill,) * (3 - len(t)) + tuple(t)


# -- NumPy-level cores (contiguous compute-dtype arrays, 3 spatial dims) -----------------------------------
# A batch tile's columns form one wide (C*K, nb*L) matrix, so each group is ONE GEMM per tile: for small
# samples one (O, CK) x (CK, nb*L) product beats nb thin ones. Large samples run one at a time: their columns
# then stay in the last-level cache between im2col and the GEMM (measured 1.3-1.5x faster on 56x56/32x32
# ResNet layers than one wide product), and the GEMM writes y[n] directly (no transposing copy).
def _tile(N, rows, L, itemsize):
    per = max(1, rows * L * itemsize)
    if per >= _SAMPLE_BYTES:
        return 1
    return max(1, min(N, _TILE_BYTES // per))


def _fwd_size(sp, k, s, p, d):
    return tuple((sp[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(3))


def _is_pointwise(k, s, p):
    return k == (1, 1, 1) and s == (1, 1, 1) and p == (0, 0, 0)


# Winograd F(2x2, 3x3) for 3x3 stride-1 undilated 2-d convolutions with groups=1 and enough work: 16 GEMMs
# of (O, C) x (C, tiles) do 4/9 of im2col+GEMM's multiplications (measured ~1.6x faster on 56x56/32x32
# ResNet layers). Small channel counts keep im2col: their GEMMs are too thin and the transforms dominate.
_WG_MIN_MACS = 1 << 24
_WG_MIN_CH = 16
_WG_MIN_TILES = 128
_WG_BYTES = 2 << 20     # transformed input per batch tile (stays in cache for the 16 GEMMs)
_WG_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])


def _finite(a):
    """No inf/NaN in ``a`` (its sum is finite; finite values whose sum overflows only cost the fast
    paths). Winograd's tile transforms and the padded-width weight gradients combine values with zero
    weights, and NaN * 0 is NaN: a non-finite value would reach outputs that PyTorch keeps finite."""
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(np.add.reduce(a, axis=None)))


def _winograd_ok(N, C, O, sp, k, s, p, d, groups):
    if not (groups == 1 and tuple(k) == (1, 3, 3) and tuple(s) == (1, 1, 1) and tuple(d) == (1, 1, 1)
            and sp[0] == 1 and p[0] == 0 and C >= _WG_MIN_CH and O >= _WG_MIN_CH):
        return False
    oH, oW = sp[1] + 2 * p[1] - 2, sp[2] + 2 * p[2] - 2
    # few tiles (a small batch of 7x7 maps): the weight transform and thin GEMMs cost more than they save
    return (oH >= 1 and oW >= 1 and N * O * C * 9 * oH * oW >= _WG_MIN_MACS
            and N * ((oH + 1) // 2) * ((oW + 1) // 2) >= _WG_MIN_TILES)


def _winograd_fwd(x, w, b, pH, pW):
    """y = conv2d(x, w, padding=(pH, pW)) + b for contiguous x (N, C, 1, H, W), w (O, C, 1, 3, 3)."""
    N, C, _, H, W = x.shape
    O = w.shape[0]
    dt = x.dtype
    oH, oW = H + 2 * pH - 2, W + 2 * pW - 2
    th, tw = (oH + 1) // 2, (oW + 1) // 2
    T = th * tw
    # U[a, b, o, c] = (G w[o, c] G^T)[a, b] in float64 (G's halves are exact); two tensordots (one GEMM each,
    # not O*C tiny stacked products)
    t = np.tensordot(w.reshape(O, C, 3, 3).astype(np.float64), _WG_G, axes=([3], [1]))     # (O, C, 3, 4)
    U = np.tensordot(_WG_G, t, axes=([1], [2]))                                             # (4, O, C, 4)
    U = np.ascontiguousarray(U.transpose(0, 3, 1, 2), dtype=dt).reshape(16, O, C)
    y = np.empty((N, O, 1, oH, oW), dtype=dt)
    yf = y.reshape(-1)
    xf = x.reshape(-1)
    nb = max(1, min(N, _WG_BYTES // (16 * C * T * dt.itemsize)))
    bb = None if b is None else np.ascontiguousarray(b, dtype=dt)
    nb, tiles, nw = _plan(N, nb, N * O * C * 16 * T)

    def run(i, tl, par):
        V = np.empty(16 * C * nb * T, dtype=dt)
        Mb = np.empty(16 * O * nb * T, dtype=dt)
        for n0 in tl:
            m = min(nb, N - n0)
            g = np.array([C, H, W, pH, pW, m, th, tw, O, oH, oW], dtype=np.int64)
            V3 = V[:16 * C * m * T].reshape(16, C, m * T)
            M3 = Mb[:16 * O * m * T].reshape(16, O, m * T)
            _kc.winograd_input(xf, n0 * C * H * W, V3.reshape(-1), g, par)
            if par:
                _blas.for_macs(O * C * m * T)
            for e in range(16):
                np.matmul(U[e], V3[e], out=M3[e])
            _kc.winograd_output(M3.reshape(-1), yf, n0 * O * oH * oW, bb, g, par)

    _split(run, tiles, nw)
    return y


def _winograd_wgrad(x, gy, pH, pW):
    """gw (O, C, 1, 3, 3) of a 3x3 stride-1 conv2d by Winograd F(2x2, 3x3): with V_t = B^T d_t B (the forward's
    input transform) and Ug_t = A gy_t A^T, gw = G^T (sum_t Ug_t (.) V_t) G, the sum over tiles being 16 GEMMs
    (O, tiles) x (tiles, C) — the adjoint of the forward, 4/9 of im2col's multiplications."""
    N, C, _, H, W = x.shape
    O, _, oH, oW = gy.shape[1:]
    dt = x.dtype
    th, tw = (oH + 1) // 2, (oW + 1) // 2
    T = th * tw
    xf = x.reshape(-1)
    gf = gy.reshape(-1)
    nb = max(1, min(N, _WG_BYTES // (16 * C * T * dt.itemsize)))
    nb, tiles, nw = _plan(N, nb, N * O * C * 16 * T)
    accs = [np.zeros((16, O, C), dtype=dt) for _ in range(nw)]

    def run(i, tl, par):
        V = np.empty(16 * C * nb * T, dtype=dt)
        Ug = np.empty(16 * O * nb * T, dtype=dt)
        tmp = np.empty((O, C), dtype=dt)
        a = accs[i]
        for n0 in tl:
            m = min(nb, N - n0)
            g = np.array([C, H, W, pH, pW, m, th, tw, O, oH, oW], dtype=np.int64)
            V3 = V[:16 * C * m * T].reshape(16, C, m * T)
            U3 = Ug[:16 * O * m * T].reshape(16, O, m * T)
            _kc.winograd_input(xf, n0 * C * H * W, V3.reshape(-1), g, par)
            _kc.winograd_grad_output(gf, n0 * O * oH * oW, U3.reshape(-1), g, par)
            if par:
                _blas.for_macs(O * C * m * T)
            for e in range(16):
                np.matmul(U3[e], V3[e].T, out=tmp)
                a[e] += tmp

    _split(run, tiles, nw)
    acc = accs[0]
    for a in accs[1:]:
        acc += a
    # gw[o, c] = G^T M[o, c] G in float64
    Mm = acc.astype(np.float64).reshape(4, 4, O, C)
    t = np.tensordot(_WG_G, Mm, axes=([0], [0]))                   # (3, 4, O, C)
    gw = np.tensordot(t, _WG_G, axes=([1], [0]))                   # (3, O, C, 3)
    return np.ascontiguousarray(gw.transpose(1, 2, 0, 3), dtype=dt).reshape(O, C, 1, 3, 3)


# Weight gradient of stride-1 convolutions without im2col: on the padded input, the window of tap (kh, kw) over
# all outputs is ONE strided slice when outputs are indexed on the padded-width grid (row pitch Wp), so
# gw[:, :, kh, kw] = gy_p (O, L') x slice^T (L', C) where gy_p is gy widened to pitch Wp with zero columns.
# kH*kW GEMMs per batch tile read x in place of a K-times-larger column buffer: measured 1.2-2.5x faster than
# im2col + GEMM up to 64->64 channels (LeNet's 1->6 and 6->16 5x5 layers, 16/32/64-wide 3x3 layers that
# Winograd does not take). Values in the pitch's extra columns meet gy's zeros.
_SHIFT_BYTES = 1 << 20  # padded input + widened gy per batch tile: re-read once per tap, so kept in L2
_SHIFT_MIN_MACS = 1 << 16
_SHIFT_MAX_CO = 128 * 128


def _shift_wgrad_ok(N, C, O, sp, k, s, p, groups, L):
    # many channels: the kH*kW products of (C, O) outputs lose to one GEMM over pitch-grid or plain columns
    return (groups == 1 and tuple(s) == (1, 1, 1) and sp[0] == 1 and k[0] == 1 and p[0] == 0
            and C * O <= _SHIFT_MAX_CO and N * O * C * k[1] * k[2] * L >= _SHIFT_MIN_MACS)


def _shift_wgrad(xa, gy, k, p, d):
    """gw (O, C, 1, kH, kW) of a stride-1 2-d convolution: xa (N, C, 1, H, W), gy (N, O, 1, oH, oW) arrays."""
    N, C, _, H, W = xa.shape
    O, _, oH, oW = gy.shape[1:]
    kH, kW = k[1], k[2]
    pH, pW, dH, dW = p[1], p[2], d[1], d[2]
    dt = xa.dtype
    Hp, Wp = H + 2 * pH, W + 2 * pW
    S = Hp * Wp
    last = (kH - 1) * dH * Wp + (kW - 1) * dW       # the furthest tap's offset: slices run this far past m*S
    m = max(1, min(N, _SHIFT_BYTES // ((C + O) * S * dt.itemsize)))
    m, tiles, nw = _plan(N, m, N * C * O * kH * kW * oH * oW)
    accs = [np.zeros((kH, kW, C, O), dtype=dt) for _ in range(nw)]

    def run(i, tl, par):
        xp = np.zeros((C, m * S + last), dtype=dt)
        xp4 = xp[:, :m * S].reshape(C, m, Hp, Wp)
        gp = np.zeros((O, m, S), dtype=dt)
        gp4 = gp.reshape(O, m, Hp, Wp)
        accT = accs[i]
        tmp = np.empty((C, O), dtype=dt)
        for n0 in tl:
            mm = min(m, N - n0)
            xp4[:, :mm, pH:pH + H, pW:pW + W] = xa[n0:n0 + mm, :, 0].transpose(1, 0, 2, 3)
            gp4[:, :mm, :oH, :oW] = gy[n0:n0 + mm, :, 0].transpose(1, 0, 2, 3)
            g2 = gp[:, :mm].reshape(O, mm * S)
            if par:
                _blas.for_macs(C * O * mm * S)
            for kh in range(kH):
                for kw in range(kW):
                    off = kh * dH * Wp + kw * dW
                    np.matmul(xp[:, off:off + mm * S], g2.T, out=tmp)
                    accT[kh, kw] += tmp

    _split(run, tiles, nw)
    acc = accs[0]
    for a in accs[1:]:
        acc += a
    return np.ascontiguousarray(acc.transpose(3, 2, 0, 1)).reshape(O, C, 1, kH, kW)


# -- batch tiles over threads: on a few cores, OpenBLAS's and Numba's thread pools handing the cores back and
# forth around every small GEMM/kernel (each spins while the other runs) cost more than the work; splitting the
# tiles over plain threads that run single-threaded GEMMs and serial GIL-free kernels keeps one level of
# parallelism.
_POOL = []


_SPLIT_MIN_MACS = 1 << 20  # below this one caller thread does everything (a pool hand-off costs ~0.1 ms)


def _workers(ntiles):
    from ...kernels import nthreads
    return max(1, min(ntiles, nthreads()))


def _plan(N, nb, macs):
    """(tile size, tile starts, workers) for N samples in tiles of at most nb: at least one tile per worker
    when the work is worth splitting."""
    if macs >= _SPLIT_MIN_MACS and N > 1:
        from ...kernels import nthreads
        nb = max(1, min(nb, -(-N // nthreads())))
        tiles = list(range(0, N, nb))
        return nb, tiles, _workers(len(tiles))
    return nb, list(range(0, N, nb)), 1


def _split(run, tiles, nw):
    """run(i, share_i, par) for nw contiguous shares of tiles (i < nw), nw - 1 of them on pool threads;
    par=True (one share: the parallel kernels and BLAS's own threads) when nw == 1."""
    if nw <= 1:
        run(0, tiles, True)
        return
    import os
    if not _POOL or _POOL[0][0] != os.getpid():      # a forked child inherits the pool but not its threads
        from concurrent.futures import ThreadPoolExecutor
        _POOL[:] = [(os.getpid(), ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2),  # started on demand
                                                     thread_name_prefix="numtorch-conv"))]
    _blas.for_macs(0)                   # one BLAS thread per worker
    per = -(-len(tiles) // nw)
    shares = [tiles[i:i + per] for i in range(0, len(tiles), per)]
    futs = [_POOL[0][1].submit(run, i, sh, False) for i, sh in enumerate(shares) if i]
    try:
        run(0, shares[0], False)
    finally:
        for f in futs:
            f.result()


# Stride-1 2-d convolutions that Winograd does not take (other kernel sizes, dilation, groups, few channels):
# im2col on the padded-width grid. With outputs indexed at row pitch Wp = W + 2pW, the column row of tap
# (c, kh, kw) is ONE contiguous run of the padded input, so the column buffer is filled by large strided
# copies instead of a short copy per output row (LeNet's 24- and 8-wide rows made im2col cost more than the
# GEMM); the GEMM then does Wp/oW more columns and the extra output columns are dropped.
_PITCH_MIN_MACS = 1 << 18
_PITCH_MAX_WASTE = 600
_PITCH_MIN_CH = 8         # input gradient: fewer input channels make the flipped convolution's GEMM too thin


def _pitch_ok(N, C, O, sp, k, s, p, groups, L, d=(1, 1, 1)):
    # the (kW-1)*dW extra columns per output row cost O GEMM multiply-adds each: with many output channels
    # and small maps that outweighs what the long copies save
    return (tuple(s) == (1, 1, 1) and sp[0] == 1 and k[0] == 1 and p[0] == 0
            and O * (k[2] - 1) * d[2] <= _PITCH_MAX_WASTE
            and N * O * (C // groups) * k[1] * k[2] * L >= _PITCH_MIN_MACS)


def _pitch_cols(xa, n0, m, xp, cbuf, k2, p, d):
    """(C, kH, kW, m, oH*Wp) pitch-grid columns of samples n0..n0+m of xa (N, C, 1, H, W), built in cbuf via
    the zero-padded copy xp (at least m*C*Hp*Wp + the furthest tap's offset long; its borders stay zero)."""
    _, C, _, H, W = xa.shape
    kH, kW = k2
    pH, pW, dH, dW = p[1], p[2], d[1], d[2]
    Hp, Wp = H + 2 * pH, W + 2 * pW
    S = Hp * Wp
    Lp = (Hp - (kH - 1) * dH) * Wp
    it = xa.dtype.itemsize
    xp[:m * C * S].reshape(m, C, Hp, Wp)[:, :, pH:pH + H, pW:pW + W] = xa[n0:n0 + m, :, 0]
    win = np.lib.stride_tricks.as_strided(xp, (C, kH, kW, m, Lp), (S * it, dH * Wp * it, dW * it, C * S * it, it),
                                          writeable=False)
    cols = cbuf[:C * kH * kW * m * Lp].reshape(C, kH, kW, m, Lp)
    np.copyto(cols, win)
    return cols


def _pitch_wgrad(xa, gy, k, p, d, groups):
    """gw (O, C/g, 1, kH, kW) of a stride-1 2-d convolution from pitch-grid columns: one GEMM per tile and
    group against gy widened to pitch Wp (zeros in the extra columns)."""
    N, C, _, H, W = xa.shape
    O, _, oH, oW = gy.shape[1:]
    kH, kW = k[1], k[2]
    pH, pW, dH, dW = p[1], p[2], d[1], d[2]
    dt = xa.dtype
    Hp, Wp = H + 2 * pH, W + 2 * pW
    S = Hp * Wp
    Lp = oH * Wp
    Cg, Og = C // groups, O // groups
    CK = Cg * kH * kW
    last = (kH - 1) * dH * Wp + (kW - 1) * dW
    nb = max(1, min(N, _TILE_BYTES // max(1, C * kH * kW * Lp * dt.itemsize)))
    nb, tiles, nw = _plan(N, nb, N * O * CK * Lp)
    accs = [np.zeros((groups, Og, CK), dtype=dt) for _ in range(nw)]

    def run(i, tl, par):
        xp = np.zeros(nb * C * S + last, dtype=dt)
        cbuf = np.empty(C * kH * kW * nb * Lp, dtype=dt)
        gp = np.zeros((O, nb, oH, Wp), dtype=dt)
        a = accs[i]
        for n0 in tl:
            m = min(nb, N - n0)
            cols = _pitch_cols(xa, n0, m, xp, cbuf, (kH, kW), p, d)
            c3 = cols.reshape(groups, CK, m * Lp)
            g = gp[:, :m] if m < nb else gp
            g[:, :, :, :oW] = gy[n0:n0 + m, :, 0].transpose(1, 0, 2, 3)
            g3 = np.ascontiguousarray(g).reshape(groups, Og, m * Lp)
            if par:
                _blas.for_macs(Og * CK * m * Lp)
            for gi in range(groups):
                a[gi] += g3[gi] @ c3[gi].T

    _split(run, tiles, nw)
    acc = accs[0]
    for a in accs[1:]:
        acc += a
    return acc.reshape(O, Cg, 1, kH, kW)


def _pitch_fwd(xa, w, b, p, d, groups):
    """y = conv2d(xa, w, stride 1, padding p, dilation d, groups) + b: xa (N, C, 1, H, W), w (O, C/g, 1, kH, kW)
    contiguous arrays; returns (N, O, 1, oH, oW)."""
    N, C, _, H, W = xa.shape
    O, Cg = w.shape[:2]
    kH, kW = w.shape[3:]
    pH, pW, dH, dW = p[1], p[2], d[1], d[2]
    dt = xa.dtype
    Hp, Wp = H + 2 * pH, W + 2 * pW
    oH, oW = Hp - (kH - 1) * dH, Wp - (kW - 1) * dW
    S = Hp * Wp
    Lp = oH * Wp
    Og = O // groups
    CK = Cg * kH * kW
    last = (kH - 1) * dH * Wp + (kW - 1) * dW       # the furthest tap runs this far past a plane
    nb = max(1, min(N, _TILE_BYTES // max(1, C * kH * kW * Lp * dt.itemsize)))
    nb, tiles, nw = _plan(N, nb, N * O * CK * Lp)
    w2 = w.reshape(groups, Og, CK)
    y = np.empty((N, O, 1, oH, oW), dtype=dt)

    def run(i, tl, par):
        xp = np.zeros(nb * C * S + last, dtype=dt)
        cbuf = np.empty(C * kH * kW * nb * Lp, dtype=dt)
        obuf = np.empty(O * nb * Lp, dtype=dt)
        for n0 in tl:
            m = min(nb, N - n0)
            cols = _pitch_cols(xa, n0, m, xp, cbuf, (kH, kW), p, d)
            c3 = cols.reshape(groups, CK, m * Lp)
            o3 = obuf[:O * m * Lp].reshape(groups, Og, m * Lp)
            if par:
                _blas.for_macs(Og * CK * m * Lp)
            for gi in range(groups):
                np.matmul(w2[gi], c3[gi], out=o3[gi])
            res = o3.reshape(O, m, oH, Wp)[:, :, :, :oW].transpose(1, 0, 2, 3)
            if b is not None:
                np.add(res, b.reshape(1, O, 1, 1), out=y[n0:n0 + m, :, 0])
            else:
                y[n0:n0 + m, :, 0] = res

    _split(run, tiles, nw)
    return y


def _src_of(x):
    if isinstance(x, _Src):
        return x
    src = _Src.__new__(_Src)
    src.buf, src.off, src.shape = np.ascontiguousarray(x).reshape(-1), 0, x.shape
    src.st = _kc.contiguous_strides5(*x.shape[1:])
    return src


def conv_fwd_np(x, w, b, s, p, d, groups):
    """y = conv(x, w) + b for x (N, C, D, H, W) (an array or a strided _Src), w (O, C/g, kD, kH, kW);
    returns (N, O, oD, oH, oW)."""
    x = _src_of(x)
    N, C = x.shape[:2]
    sp = x.shape[2:]
    O = w.shape[0]
    k = w.shape[2:]
    o = tuple((sp[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(3))
    L = o[0] * o[1] * o[2]
    K = k[0] * k[1] * k[2]
    Cg, Og = C // groups, O // groups
    dt = x.buf.dtype
    y = np.empty((N, O, L), dtype=dt)
    if groups == C and O == C and groups > 1:
        g = _geom(N, C, sp, k, s, p, d, o, wide=False)
        _kc.depthwise(x.array().reshape(-1), w.reshape(-1), None if b is None else b, y.reshape(-1), g)
        return y.reshape((N, O) + o)
    if _winograd_ok(N, C, O, sp, k, s, p, d, groups) and _finite(x.array()):
        return _winograd_fwd(x.array(), w, b, p[1], p[2])
    if not _is_pointwise(k, s, p) and _pitch_ok(N, C, O, sp, k, s, p, groups, L, d):
        return _pitch_fwd(x.array(), w, b, p, d, groups)
    w2 = w.reshape(groups, Og, Cg * K)
    if _is_pointwise(k, s, p):
        _blas.for_macs(N * O * Cg * L)
        np.matmul(w2, x.array().reshape(N, groups, Cg, L), out=y.reshape(N, groups, Og, L))
    else:
        nb, tiles, nw = _plan(N, _tile(N, C * K, L, dt.itemsize), N * O * Cg * K * L)

        def run(i, tl, par):
            cols = np.empty(C * K * nb * L, dtype=dt)
            yw = np.empty(O * nb * L if nb > 1 else 0, dtype=dt)
            for n0 in tl:
                m = min(nb, N - n0)
                c = cols[:C * K * m * L]
                _kc.im2col(x.buf, x.sample_offset(n0), c, _geom(m, C, sp, k, s, p, d, o, xst=x.st), par)
                t = y[n0].reshape(groups, Og, L) if m == 1 else yw[:O * m * L].reshape(groups, Og, m * L)
                c3 = c.reshape(groups, Cg * K, m * L)
                if par:
                    _blas.for_macs(Og * Cg * K * m * L)
                for gi in range(groups):        # 2-D GEMMs: NumPy's stacked matmul can miss BLAS
                    np.matmul(w2[gi], c3[gi], out=t[gi])
                if m > 1:
                    y[n0:n0 + m] = t.reshape(O, m, L).transpose(1, 0, 2)

        _split(run, tiles, nw)
    if b is not None:
        y += b.reshape(1, O, 1)
    return y.reshape((N, O) + o)


def conv_bwd_input_np(gy, w, xsp, s, p, d, groups):
    """The adjoint of conv_fwd_np in x: gy (N, O, oD, oH, oW) -> (N, C, *xsp). Also conv_transpose's forward."""
    N, O = gy.shape[:2]
    o = gy.shape[2:]
    L = o[0] * o[1] * o[2]
    k = w.shape[2:]
    K = k[0] * k[1] * k[2]
    Cg = w.shape[1]
    C = Cg * groups
    Og = O // groups
    if groups == C and O == C and groups > 1 and _fwd_size(xsp, k, s, p, d) == tuple(o):
        gx = np.zeros((N, C) + tuple(xsp), dtype=gy.dtype)
        _kc.depthwise_backward_input(np.ascontiguousarray(gy).reshape(-1), w.reshape(-1), gx.reshape(-1),
                                     _geom(N, C, xsp, k, s, p, d, o, wide=False))
        return gx
    if (p[1] <= 2 and p[2] <= 2 and _winograd_ok(N, O, C, tuple(o), k, s, (p[0], 2 - p[1], 2 - p[2]), d, groups)
            and _fwd_size(xsp, k, s, p, d) == tuple(o) and _finite(gy)):
        # the input gradient of a 3x3 stride-1 convolution is one with flipped, transposed taps and padding 2-p
        wf = np.ascontiguousarray(w[:, :, :, ::-1, ::-1].transpose(1, 0, 2, 3, 4))
        return _winograd_fwd(np.ascontiguousarray(gy), wf, None, 2 - p[1], 2 - p[2])
    pf = tuple((k[i] - 1) * d[i] - p[i] for i in range(3))
    if (not _is_pointwise(k, s, p) and min(pf) >= 0 and _fwd_size(xsp, k, s, p, d) == tuple(o)
            and C >= _PITCH_MIN_CH and _pitch_ok(N, O, C, tuple(xsp), k, s, pf, groups, L, d)):
        # stride 1: the input gradient is the stride-1 convolution of gy (padding (k-1)d - p) with the
        # flipped taps, in-channel and out-channel swapped within each group
        wf = w.reshape((groups, Og, Cg) + tuple(k)).transpose(0, 2, 1, 3, 4, 5)[..., ::-1, ::-1]
        wf = np.ascontiguousarray(wf).reshape((C, Og) + tuple(k))
        return _pitch_fwd(np.ascontiguousarray(gy), wf, None, pf, d, groups)
    w2t = w.reshape(groups, Og, Cg * K).transpose(0, 2, 1)
    if _is_pointwise(k, s, p) and tuple(o) == tuple(xsp):
        gx = np.empty((N, groups, Cg, L), dtype=gy.dtype)
        _blas.for_macs(N * O * Cg * L)
        np.matmul(w2t, gy.reshape(N, groups, Og, L), out=gx)
        return gx.reshape((N, C) + tuple(xsp))
    gx = np.zeros((N, C) + tuple(xsp), dtype=gy.dtype)
    gxf = gx.reshape(-1)
    gy3 = gy.reshape(N, O, L)
    plane = C * xsp[0] * xsp[1] * xsp[2]
    nb, tiles, nw = _plan(N, _tile(N, C * K, L, gy.itemsize), N * O * Cg * K * L)
    if nb == 1:
        gy3 = np.ascontiguousarray(gy3)

    def run(i, tl, par):
        cols = np.empty(C * K * nb * L, dtype=gy.dtype)
        gw_ = np.empty(O * nb * L if nb > 1 else 0, dtype=gy.dtype)
        for n0 in tl:
            m = min(nb, N - n0)
            if m == 1 and nb == 1:
                gyw = gy3[n0]
            else:
                gyw = gw_[:O * m * L].reshape(O, m, L)
                gyw[...] = gy3[n0:n0 + m].transpose(1, 0, 2)
            c = cols[:C * K * m * L]
            g3 = gyw.reshape(groups, Og, m * L)
            c3 = c.reshape(groups, Cg * K, m * L)
            if par:
                _blas.for_macs(Og * Cg * K * m * L)
            for gi in range(groups):
                np.matmul(w2t[gi], g3[gi], out=c3[gi])
            _kc.col2im(c, gxf, n0 * plane, _geom(m, C, xsp, k, s, p, d, o), par)

    _split(run, tiles, nw)
    return gx


def conv_bwd_weight_np(x, gy, k, s, p, d, groups):
    """d(sum gy*conv(x, w))/dw: x (N, C, *sp) (an array or a strided _Src), gy (N, O, *o) -> (O, C/g, *k)."""
    x = _src_of(x)
    N, C = x.shape[:2]
    sp = x.shape[2:]
    O = gy.shape[1]
    o = gy.shape[2:]
    L = o[0] * o[1] * o[2]
    K = k[0] * k[1] * k[2]
    Cg, Og = C // groups, O // groups
    dt = x.buf.dtype
    if groups == C and O == C and groups > 1:
        gw = np.empty(C * K, dtype=dt)
        _kc.depthwise_backward_weight(x.array().reshape(-1), np.ascontiguousarray(gy).reshape(-1), gw,
                                      _geom(N, C, sp, k, s, p, d, o, wide=False))
        return gw.reshape((O, Cg) + tuple(k))
    fin = None
    if _winograd_ok(N, C, O, sp, k, s, p, d, groups):
        fin = _finite(x.array())
        if fin:
            return _winograd_wgrad(x.array(), np.ascontiguousarray(gy), p[1], p[2])
    if _shift_wgrad_ok(N, C, O, sp, k, s, p, groups, L) and (fin if fin is not None else _finite(x.array())):
        return _shift_wgrad(x.array(), np.ascontiguousarray(gy), k, p, d)
    if not _is_pointwise(k, s, p) and _pitch_ok(N, C, O, sp, k, s, p, groups, L, d) \
            and (fin if fin is not None else _finite(x.array())):
        return _pitch_wgrad(x.array(), np.ascontiguousarray(gy), k, p, d, groups)
    acc = np.zeros((groups, Og, Cg * K), dtype=dt)
    gy3 = gy.reshape(N, O, L)
    if _is_pointwise(k, s, p):
        xa = x.array()
        _blas.for_macs(N * O * Cg * L)
        acc += np.matmul(gy.reshape(N, groups, Og, L), xa.reshape(N, groups, Cg, L).transpose(0, 1, 3, 2)).sum(0)
        return acc.reshape((O, Cg) + tuple(k))
    nb, tiles, nw = _plan(N, _tile(N, C * K, L, dt.itemsize), N * O * Cg * K * L)
    if nb == 1:
        gy3 = np.ascontiguousarray(gy3)
    accs = [acc] + [np.zeros_like(acc) for _ in range(nw - 1)]

    def run(i, tl, par):
        cols = np.empty(C * K * nb * L, dtype=dt)
        gw_ = np.empty(O * nb * L if nb > 1 else 0, dtype=dt)
        a = accs[i]
        for n0 in tl:
            m = min(nb, N - n0)
            c = cols[:C * K * m * L]
            _kc.im2col(x.buf, x.sample_offset(n0), c, _geom(m, C, sp, k, s, p, d, o, xst=x.st), par)
            if m == 1 and nb == 1:
                gyw = gy3[n0]
            else:
                gyw = gw_[:O * m * L].reshape(O, m, L)
                gyw[...] = gy3[n0:n0 + m].transpose(1, 0, 2)
            g3 = gyw.reshape(groups, Og, m * L)
            c3 = c.reshape(groups, Cg * K, m * L)
            if par:
                _blas.for_macs(Og * Cg * K * m * L)
            for gi in range(groups):            # 2-D: a stacked matmul with a transposed operand skips BLAS
                a[gi] += g3[gi] @ c3[gi].T

    _split(run, tiles, nw)
    for a in accs[1:]:
        acc += a
    return acc.reshape((O, Cg) + tuple(k))


# -- device path: im2col/col2im kernels (CUDA twins) + numtorch's device matmul, whole batch at once --------
def _dev_flat(t):
    from .pooling import _np_in
    return _np_in(t)


def _dev_cd(t):
    return _dt.float64 if t.dtype == _dt.float64 else _dt.float32


def _dev_cols(x, k3, s3, p3, d3, o3):
    """Wide (C*K, N*L) device column matrix of a batched device tensor x (as a Tensor)."""
    from ...storage import empty_buffer
    N, C = x.shape[:2]
    sp3 = (1,) * (5 - x.ndim) + tuple(x.shape[2:])
    K = k3[0] * k3[1] * k3[2]
    L = o3[0] * o3[1] * o3[2]
    cd = _dev_cd(x)
    cols = empty_buffer(C * K * N * L, cd.np, x.device)
    _kc.im2col(_dev_flat(x), 0, cols, _geom(N, C, sp3, k3, s3, p3, d3, o3))
    return Tensor._from_buffer(cols, (C * K, N * L), cd, x.device)


def conv_fwd_dev(x, w, b, s3, p3, d3, groups):
    """conv(x, w) + b on device tensors (no autograd); x (N, C, *sp) batched."""
    import numtorch
    nd = x.ndim - 2
    N, C = x.shape[:2]
    O = w.shape[0]
    k3 = _pad3(tuple(w.shape[2:]), 1)
    sp3 = _pad3(tuple(x.shape[2:]), 1)
    o3 = _fwd_size(sp3, k3, s3, p3, d3)
    L = o3[0] * o3[1] * o3[2]
    Cg, Og = C // groups, O // groups
    cd = _dev_cd(x)
    with numtorch.no_grad():
        cols = _dev_cols(x, k3, s3, p3, d3, o3).view(groups, -1, N * L)
        y = w.detach().to(cd).reshape(groups, Og, -1).matmul(cols)          # (g, Og, N*L)
        y = y.reshape(O, N, L).permute(1, 0, 2)
        if b is not None:
            y = y + b.detach().to(cd).view(1, O, 1)
        return y.reshape((N, O) + o3[3 - nd:]).contiguous().to(x.dtype)


def conv_bwd_input_dev(gy, w, xshape, s3, p3, d3, groups):
    """The input gradient of conv_fwd_dev for output gradient gy; also conv_transpose's forward."""
    import numtorch
    from ...storage import empty_buffer
    from .pooling import _zeros
    N, O = gy.shape[:2]
    L = int(np.prod(gy.shape[2:]))
    k3 = _pad3(tuple(w.shape[2:]), 1)
    Cg = w.shape[1]
    C = Cg * groups
    Og = O // groups
    xsp3 = _pad3(tuple(xshape[2:]), 1)
    o3 = _pad3(tuple(gy.shape[2:]), 1)
    cd = _dev_cd(gy)
    with numtorch.no_grad():
        gyw = gy.detach().to(cd).reshape(N, O, L).permute(1, 0, 2).reshape(groups, Og, N * L)
        dcols = w.detach().to(cd).reshape(groups, Og, -1).transpose(1, 2).matmul(gyw).contiguous()
        gx = _zeros(N * C * xsp3[0] * xsp3[1] * xsp3[2], cd.np, gy)
        _kc.col2im(_dev_flat(dcols), gx, 0, _geom(N, C, xsp3, k3, s3, p3, d3, o3))
        return Tensor._from_buffer(gx, tuple(xshape), cd, gy.device).to(gy.dtype)


def conv_bwd_weight_dev(x, gy, wshape, s3, p3, d3, groups):
    """The weight gradient (O, C/g, *k) of conv_fwd_dev."""
    import numtorch
    N, C = x.shape[:2]
    O = gy.shape[1]
    L = int(np.prod(gy.shape[2:]))
    k3 = _pad3(tuple(wshape[2:]), 1)
    o3 = _pad3(tuple(gy.shape[2:]), 1)
    Og = O // groups
    cd = _dev_cd(x)
    with numtorch.no_grad():
        cols = _dev_cols(x, k3, s3, p3, d3, o3).view(groups, -1, N * L)
        gyw = gy.detach().to(cd).reshape(N, O, L).permute(1, 0, 2).reshape(groups, Og, N * L)
        return gyw.matmul(cols.transpose(1, 2)).reshape(tuple(wshape)).to(x.dtype)


# -- argument handling ----------------------------------------------------------------------------------------
def _check_common(name, nd, input, weight, bias, stride, padding, dilation, groups, transposed):
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, but got input "
                           f"of size: {_fmt(input.shape)}")
    if weight.ndim != nd + 2:
        raise RuntimeError(f"weight should have at least three dimensions" if weight.ndim < 3 else
                           f"Expected {nd + 2}-dimensional input for {nd + 2}-dimensional weight {_fmt(weight.shape)}, "
                           f"but got {input.ndim}-dimensional input of size {_fmt(input.shape)} instead")
    if input.dtype != weight.dtype:
        raise RuntimeError(f"expected scalar type {input.dtype.short} but found {weight.dtype.short}")
    if input.device != weight.device:
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                           f"{weight.device} and {input.device}!")
    s = _ntuple(stride, nd, "stride")
    d = _ntuple(dilation, nd, "dilation")
    if any(v <= 0 for v in s):
        raise RuntimeError("non-positive stride is not supported")
    if any(v <= 0 for v in d):
        raise RuntimeError(f"dilation should be greater than zero, but got {list(d)}")
    groups = int(groups)
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    return s, d, groups


def _to5(a, nd):
    """NumPy (N, C, *sp) -> (N, C, D, H, W)."""
    return a.reshape(a.shape[:2] + (1,) * (3 - nd) + a.shape[2:])


def _out_tensor(arr, shape, dtype, device):
    if arr.dtype != dtype.np:
        arr = arr.astype(dtype.np)
    return Tensor._from_buffer(np.ascontiguousarray(arr).reshape(-1), tuple(shape), dtype, device)


def _convolution(name, nd, input, weight, bias, stride, padding, dilation, groups):
    input_t, weight_t = input, weight
    s, d, groups = _check_common(name, nd, input, weight, bias, stride, padding, dilation, groups, False)
    if input.ndim == nd + 1:
        return _convolution(name, nd, input.unsqueeze(0), weight, bias, s, padding, d, groups).squeeze(0)
    x, unb = input, False
    N, C = x.shape[:2]
    sp = tuple(x.shape[2:])
    O = weight.shape[0]
    k = tuple(weight.shape[2:])
    if O % groups != 0:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                           f"but got weight of size [{_fmt(weight.shape)}] instead")
    if C != weight.shape[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {_fmt(weight.shape)}, expected "
                           f"input{_fmt(x.shape)} to have {weight.shape[1] * groups} channels, but got {C} channels "
                           "instead")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != O):
        raise RuntimeError(f"Given weight of size {_fmt(weight.shape)}, expected bias to be 1-dimensional with {O} "
                           f"elements, but got bias of size {_fmt(bias.shape)} instead")
    if isinstance(padding, str):
        if padding == "valid":
            pl = pr = (0,) * nd
        elif padding == "same":
            if any(v != 1 for v in s):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            tot = [d[i] * (k[i] - 1) for i in range(nd)]
            pl = tuple(t // 2 for t in tot)
            pr = tuple(t - t // 2 for t in tot)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        if pl != pr:
            # asymmetric 'same' padding: pad the extra element on the right (as torch does), then convolve
            from .padding import pad as _pad
            extra = []
            for i in reversed(range(nd)):
                extra += [0, pr[i] - pl[i]]
            out = _convolution(name, nd, _pad(input, extra), weight, bias, s, pl, d, groups)
            return out
        p = pl
    else:
        p = _ntuple(padding, nd, "padding")
        if any(v < 0 for v in p):
            raise RuntimeError("negative padding is not supported")
    padded = tuple(sp[i] + 2 * p[i] for i in range(nd))
    eff = tuple(d[i] * (k[i] - 1) + 1 for i in range(nd))
    if any(padded[i] < eff[i] for i in range(nd)):
        raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, eff))}). Kernel size can't be greater than actual input size")
    if not (input.dtype.is_floating_point or input.dtype in (_dt.int64, _dt.int32, _dt.int16, _dt.int8, _dt.uint8)):
        raise RuntimeError(f'"slow_conv2d_cpu" not implemented for \'{input.dtype.short}\'')
    s3, p3, d3 = _pad3(s, 1), _pad3(p, 0), _pad3(d, 1)
    if input.device.type != "cpu":
        res = conv_fwd_dev(x, weight, bias, s3, p3, d3, groups)
    else:
        xa = _Src(x, nd)
        wa = _to5(_compute_np(weight), nd)
        ba = None if bias is None else _compute_np(bias)
        y = conv_fwd_np(xa, wa, ba, s3, p3, d3, groups)
        oshape = (N, O) + y.shape[5 - nd:]
        res = _out_tensor(y, oshape[1:] if unb else oshape, input.dtype, input.device)
    if needs_grad(input) or needs_grad(weight) or (bias is not None and needs_grad(bias)):
        geom = (s, p, d, groups, nd, unb)
        record("ConvolutionBackward0", res, (input_t, weight_t, bias),
               lambda node, g: _conv_backward(node, g, geom), save=(input_t, weight_t))
    return res


def _conv_backward(node, g, geom):
    s, p, d, groups, nd, unb = geom
    x, w = node.saved_tensors
    needs = node.next_functions
    want_b = len(needs) > 2 and needs[2][0] is not None
    if _is_grad_enabled():
        return _conv_backward_composite(x, w, g, s, p, d, groups, nd, unb, want_b)
    if x.device.type != "cpu":
        s3, p3, d3 = _pad3(s, 1), _pad3(p, 0), _pad3(d, 1)
        gx = conv_bwd_input_dev(g, w, tuple(x.shape), s3, p3, d3, groups) if needs[0][0] is not None else None
        gw = conv_bwd_weight_dev(x, g, tuple(w.shape), s3, p3, d3, groups) if needs[1][0] is not None else None
        gb = g.sum([0] + list(range(2, 2 + nd))) if want_b else None
        return gx, gw, gb
    ga = _compute_np(g)
    if unb:
        ga = ga[None]
    ga5 = _to5(ga, nd)
    xa5 = _Src(x, nd)
    wa5 = _to5(_compute_np(w), nd)
    s3, p3, d3 = _pad3(s, 1), _pad3(p, 0), _pad3(d, 1)
    gx = gw = gb = None
    if needs[0][0] is not None:
        gx = conv_bwd_input_np(ga5, wa5, xa5.shape[2:], s3, p3, d3, groups)
        gx = _out_tensor(gx, x.shape, x.dtype, x.device)
    if needs[1][0] is not None:
        gw = conv_bwd_weight_np(xa5, ga5, wa5.shape[2:], s3, p3, d3, groups)
        gw = _out_tensor(gw, w.shape, w.dtype, w.device)
    if want_b:
        gb = ga.reshape(ga.shape[0], ga.shape[1], int(np.prod(ga.shape[2:]))).sum((0, 2))
        gb = _out_tensor(gb, (w.shape[0],), w.dtype, w.device)
    return gx, gw, gb


def _wgrad_composite(x, gy, k, s, p, d, groups, nd):
    """Weight gradient from differentiable convolutions: (C_gy, C_x/groups, *k)."""
    Cx = x.shape[1]
    Cy = gy.shape[1]
    outs = []
    for gi in range(groups):
        xs = x.narrow(1, gi * (Cx // groups), Cx // groups).transpose(0, 1)
        gs = gy.narrow(1, gi * (Cy // groups), Cy // groups).transpose(0, 1)
        r = _convolution(f"conv{nd}d", nd, xs, gs, None, d, p, s, 1)   # stride<->dilation swap
        for i in range(nd):
            r = r.narrow(2 + i, 0, k[i])
        outs.append(r.transpose(0, 1))
    import numtorch
    return outs[0] if groups == 1 else numtorch.cat(outs, 0)


def _conv_backward_composite(x, w, g, s, p, d, groups, nd, unb, want_b):
    if unb:
        x, g = x.unsqueeze(0), g.unsqueeze(0)
    xsp = x.shape[2:]
    osz = g.shape[2:]
    op = tuple(xsp[i] + 2 * p[i] - d[i] * (w.shape[2 + i] - 1) - 1 - (osz[i] - 1) * s[i] for i in range(nd))
    gx = _conv_transpose(f"conv_transpose{nd}d", nd, g, w, None, s, p, op, groups, d, check_op=False)
    gw = _wgrad_composite(x, g, w.shape[2:], s, p, d, groups, nd)
    gb = g.sum([0] + list(range(2, 2 + nd))) if want_b else None
    if unb:
        gx = gx.squeeze(0)
    return gx, gw, gb


def _conv_transpose(name, nd, input, weight, bias, stride, padding, output_padding, groups, dilation,
                    output_size=None, check_op=True):
    s, d, groups = _check_common(name, nd, input, weight, bias, stride, padding, dilation, groups, True)
    p = _ntuple(padding, nd, "padding")
    op = _ntuple(output_padding, nd, "output_padding")
    if any(v < 0 for v in p):
        raise RuntimeError("negative padding is not supported")
    if input.ndim == nd + 1:
        return _conv_transpose(name, nd, input.unsqueeze(0), weight, bias, s, p, op, groups, d, output_size,
                               check_op).squeeze(0)
    x, unb = input, False
    N, Cin = x.shape[:2]
    sp = tuple(x.shape[2:])
    k = tuple(weight.shape[2:])
    if weight.shape[0] != Cin:
        raise RuntimeError(f"Given transposed=1, weight of size {_fmt(weight.shape)}, expected input{_fmt(x.shape)} to "
                           f"have {weight.shape[0]} channels, but got {Cin} channels instead")
    if Cin % groups != 0:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                           f"but got weight of size [{_fmt(weight.shape)}] instead")
    O = weight.shape[1] * groups
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != O):
        raise RuntimeError(f"Given transposed=1, weight of size {_fmt(weight.shape)}, expected bias to be "
                           f"1-dimensional with {O} elements, but got bias of size {_fmt(bias.shape)} instead")
    if output_size is not None:
        osz = list(output_size)[-nd:]
        base = [(sp[i] - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + 1 for i in range(nd)]
        for i in range(nd):
            if not base[i] <= osz[i] < base[i] + s[i]:
                raise ValueError(f"requested an output size of {osz}, but valid sizes range from {base} to "
                                 f"{[b + s[i] - 1 for i, b in enumerate(base)]} (for an input of {list(sp)})")
        op = tuple(osz[i] - base[i] for i in range(nd))
    elif check_op and any(op[i] >= s[i] and op[i] >= d[i] for i in range(nd)):
        if nd == 2:
            raise RuntimeError(f"output padding must be smaller than either stride or dilation, but got "
                               f"output_padding_height: {op[0]} output_padding_width: {op[1]} stride_height: {s[0]} "
                               f"stride_width: {s[1]} dilation_height: {d[0]} dilation_width: {d[1]}")
        raise RuntimeError("output padding must be smaller than either stride or dilation")
    osp = tuple((sp[i] - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + op[i] + 1 for i in range(nd))
    if any(v <= 0 for v in osp):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, sp))}). Calculated output size per "
                           f"channel: ({' x '.join(map(str, osp))}). Output size is too small")
    s3, p3, d3 = _pad3(s, 1), _pad3(p, 0), _pad3(d, 1)
    oshape = (N, O) + osp
    if input.device.type != "cpu":
        res = conv_bwd_input_dev(x, weight, oshape, s3, p3, d3, groups)
        if bias is not None:
            import numtorch
            with numtorch.no_grad():
                res = res + bias.detach().view((1, O) + (1,) * nd)
    else:
        xa = _to5(_compute_np(x), nd)
        wa = _to5(_compute_np(weight), nd)
        y = conv_bwd_input_np(xa, wa, _pad3(osp, 1), s3, p3, d3, groups)
        if bias is not None:
            y += _compute_np(bias).reshape(1, O, 1, 1, 1)
        res = _out_tensor(y, oshape[1:] if unb else oshape, input.dtype, input.device)
    if needs_grad(input) or needs_grad(weight) or (bias is not None and needs_grad(bias)):
        geom = (s, p, d, groups, nd, unb)
        record("ConvolutionBackward0", res, (input, weight, bias),
               lambda node, g: _convT_backward(node, g, geom), save=(input, weight))
    return res


def _convT_backward(node, g, geom):
    s, p, d, groups, nd, unb = geom
    x, w = node.saved_tensors
    needs = node.next_functions
    want_b = len(needs) > 2 and needs[2][0] is not None
    if _is_grad_enabled():
        xb, gb_ = (x.unsqueeze(0), g.unsqueeze(0)) if unb else (x, g)
        gx = _convolution(f"conv{nd}d", nd, gb_, w, None, s, p, d, groups)
        gw = _wgrad_composite(gb_, xb, w.shape[2:], s, p, d, groups, nd)
        gb = gb_.sum([0] + list(range(2, 2 + nd))) if want_b else None
        return (gx.squeeze(0) if unb else gx), gw, gb
    if x.device.type != "cpu":
        s3, p3, d3 = _pad3(s, 1), _pad3(p, 0), _pad3(d, 1)
        gx = conv_fwd_dev(g, w, None, s3, p3, d3, groups) if needs[0][0] is not None else None
        gw = conv_bwd_weight_dev(g, x, tuple(w.shape), s3, p3, d3, groups) if needs[1][0] is not None else None
        gb = g.sum([0] + list(range(2, 2 + nd))) if want_b else None
        return gx, gw, gb
    ga = _compute_np(g)
    xa = _compute_np(x)
    if unb:
        ga, xa = ga[None], xa[None]
    ga5, xa5 = _to5(ga, nd), _to5(xa, nd)
    wa5 = _to5(_compute_np(w), nd)
    s3, p3, d3 = _pad3(s, 1), _pad3(p, 0), _pad3(d, 1)
    gx = gw = gb = None
    if needs[0][0] is not None:
        gx = conv_fwd_np(ga5, wa5, None, s3, p3, d3, groups)
        gx = _out_tensor(gx, x.shape, x.dtype, x.device)
    if needs[1][0] is not None:
        # y = convT(x, w) means x-gradient flows as conv(gy, w): dw[cin, o, k] = conv weight-grad(input=gy, gy=x)
        gw = conv_bwd_weight_np(ga5, xa5, wa5.shape[2:], s3, p3, d3, groups)
        gw = _out_tensor(gw, w.shape, w.dtype, w.device)
    if want_b:
        gb = ga.reshape(ga.shape[0], ga.shape[1], int(np.prod(ga.shape[2:]))).sum((0, 2))
        gb = _out_tensor(gb, (ga.shape[1],), w.dtype, w.device)
    return gx, gw, gb


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _convolution("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _convolution("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _convolution("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def _torch_convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
    """``torch.convolution``: the generic entry behind every conv / conv_transpose."""
    nd = weight.ndim - 2
    if transposed:
        return _conv_transpose(f"conv_transpose{nd}d", nd, input, weight, bias, stride, padding, output_padding,
                               groups, dilation)
    return _convolution(f"conv{nd}d", nd, input, weight, bias, stride, padding, dilation, groups)


# torch.<name> forms (numtorch/__init__.py looks names up here)
TOPLEVEL = {"conv1d": conv1d, "conv2d": conv2d, "conv3d": conv3d, "conv_transpose1d": conv_transpose1d,
            "conv_transpose2d": conv_transpose2d, "conv_transpose3d": conv_transpose3d,
            "convolution": _torch_convolution}
