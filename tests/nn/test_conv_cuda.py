"""CPU/CUDA parity of the conv, pooling, batch-norm and resampling kernels, called at the kernel entry points
(the CPU entry hands device buffers to its CUDA twin). Numba's simulator in CI: tiny sizes."""
import numpy as np
import pytest

from numtorch.kernels import batchnorm as kb
from numtorch.kernels import conv as kc
from numtorch.kernels import pooling as kp
from numtorch.kernels import resample as kr
from numtorch.nn._functional import conv as fconv
from numtorch.nn._functional import pooling as fpool

RNG = np.random.default_rng(7)


@pytest.fixture(scope="module")
def cuda():
    try:
        from numba import cuda as c
        if not c.is_available():
            raise RuntimeError
    except Exception:  # noqa: BLE001
        pytest.skip("numba.cuda is not usable here")
    return c


def _pair(cuda, fn, *arrays):
    """Run fn on host copies and on device copies of ``arrays``; return both sets of arrays afterwards."""
    host = [a.copy() for a in arrays]
    fn(*host)
    dev = [cuda.to_device(a.copy()) for a in arrays]
    fn(*dev)
    return host, [d.copy_to_host() for d in dev]


def _close(a, b, tol=1e-9):
    for x, y in zip(a, b):
        np.testing.assert_allclose(y, x, rtol=tol, atol=tol)


GEOM = dict(N=2, C=3, sp=(1, 5, 4), k=(1, 3, 2), s=(1, 2, 1), p=(0, 1, 1), d=(1, 1, 2))


def _conv_geom(wide):
    g = GEOM
    o = fconv._fwd_size(g["sp"], g["k"], g["s"], g["p"], g["d"])
    return fconv._geom(g["N"], g["C"], g["sp"], g["k"], g["s"], g["p"], g["d"], o, wide=wide), o


@pytest.mark.parametrize("wide", [False, True])
def test_im2col_col2im_parity(cuda, wide):
    p, o = _conv_geom(wide)
    N, C, K, L = 2, 3, 6, o[0] * o[1] * o[2]
    x = RNG.standard_normal(N * C * 20)
    cols = np.zeros(N * C * K * L)
    h, d = _pair(cuda, lambda x, c: kc.im2col(x, 0, c, p), x, cols)
    _close(h, d)
    gx = np.zeros(N * C * 20)
    h, d = _pair(cuda, lambda c, g: kc.col2im(c, g, 0, p), RNG.standard_normal(N * C * K * L), gx)
    _close(h, d)


def test_depthwise_parity(cuda):
    p, o = _conv_geom(False)
    L = o[0] * o[1] * o[2]
    x = RNG.standard_normal(2 * 3 * 20)
    w = RNG.standard_normal(3 * 6)
    b = RNG.standard_normal(3)
    h, d = _pair(cuda, lambda x, w, b, y: kc.depthwise(x, w, b, y, p), x, w, b, np.zeros(2 * 3 * L))
    _close(h, d)
    gy = RNG.standard_normal(2 * 3 * L)
    h, d = _pair(cuda, lambda g, w, gx: kc.depthwise_backward_input(g, w, gx, p), gy, w, np.zeros(120))
    _close(h, d)
    h, d = _pair(cuda, lambda x, g, gw: kc.depthwise_backward_weight(x, g, gw, p), x, gy, np.zeros(18))
    _close(h, d)


def test_pooling_parity(cuda):
    P, sp, o = 3, (1, 5, 6), (1, 3, 3)
    x = RNG.standard_normal(P * 30)
    pm = fpool._geom(P, sp, (1, 3, 2), (1, 2, 2), (0, 1, 0), (1, 1, 1), o)
    h, d = _pair(cuda, lambda x, y, i: kp.max_pool(x, y, i, pm), x, np.zeros(P * 9), np.zeros(P * 9, np.int64))
    _close(h, d, 0)
    idx = h[2]
    g = RNG.standard_normal(P * 9)
    h, d = _pair(cuda, lambda g, i, gx: kp.scatter_add_planes(g, i, gx, 9, 30, P), g, idx, np.zeros(P * 30))
    _close(h, d)
    rep = np.repeat(np.arange(3, dtype=np.int64), 3)        # repeated indices: assign keeps the last value
    h, d = _pair(cuda, lambda g, i, gx: kp.scatter_add_planes(g, i, gx, 9, 30, P, assign=True), g,
                 np.tile(rep, P), np.full(P * 30, 7.0))
    _close(h, d)
    assert h[2].reshape(P, 30)[0, :4].tolist() == [g[2], g[5], g[8], 7.0]
    pa = fpool._geom(P, sp, (1, 3, 2), (1, 2, 2), (0, 1, 0), (1, 1, 1), o, 0, 0)
    h, d = _pair(cuda, lambda x, y: kp.avg_pool(x, y, pa), x, np.zeros(P * 9))
    _close(h, d)
    h, d = _pair(cuda, lambda g, gx: kp.avg_pool_backward(g, gx, pa), g, np.zeros(P * 30))
    _close(h, d)
    pad = fpool._geom(P, sp, (1, 1, 1), (1, 1, 1), (0, 0, 0), (1, 1, 1), (1, 4, 4))
    for ismax in (False, True):
        h, d = _pair(cuda, lambda x, y, i: kp.adaptive_pool(x, y, i, pad, ismax), x, np.zeros(P * 16),
                     np.zeros(P * 16, np.int64))
        _close(h, d)
    h, d = _pair(cuda, lambda g, gx: kp.adaptive_avg_backward(g, gx, pad), RNG.standard_normal(P * 16),
                 np.zeros(P * 30))
    _close(h, d)


def test_batchnorm_parity(cuda):
    N, C, L = 2, 3, 5
    x = RNG.standard_normal(N * C * L) + 3
    m_h, v_h = np.empty(C), np.empty(C)
    kb.stats(x, N, C, L, m_h, v_h)
    m_d, v_d = np.empty(C), np.empty(C)
    kb.stats(cuda.to_device(x), N, C, L, m_d, v_d)
    _close([m_h, v_h], [m_d, v_d])
    g = RNG.standard_normal(N * C * L)
    a_h, b_h = np.empty(C), np.empty(C)
    kb.backward_reduce(g, x, N, C, L, m_h, a_h, b_h)
    a_d, b_d = np.empty(C), np.empty(C)
    kb.backward_reduce(cuda.to_device(g), cuda.to_device(x), N, C, L, m_h, a_d, b_d)
    _close([a_h, b_h], [a_d, b_d])
    sc, sh, k3 = RNG.standard_normal(C), RNG.standard_normal(C), RNG.standard_normal(C)
    h, d = _pair(cuda, lambda x, y: kb.affine(x, sc, sh, y, N, C, L), x, np.zeros(N * C * L))
    _close(h, d)
    h, d = _pair(cuda, lambda g, x, y: kb.affine2(g, x, sc, sh, k3, y, N, C, L), g, x, np.zeros(N * C * L))
    _close(h, d)


def test_resample_parity(cuda):
    from numtorch.nn._functional.vision import _taps
    outer, n_in, n_out, inner = 2, 5, 7, 3
    x = RNG.standard_normal(outer * n_in * inner)
    for kind in ("nearest", "linear", "cubic"):
        idx, w, T = _taps(kind, n_in, n_out, False, None, np.float64)
        idx, w = idx.reshape(-1), w.reshape(-1)
        h, d = _pair(cuda, lambda x, y: kr.taps_axis(x, idx, w, T, y, outer, n_in, n_out, inner), x,
                     np.zeros(outer * n_out * inner))
        _close(h, d)
        g = RNG.standard_normal(outer * n_out * inner)
        h, d = _pair(cuda, lambda g, gx: kr.taps_axis_backward(g, idx, w, T, gx, outer, n_in, n_out, inner), g,
                     np.zeros(outer * n_in * inner))
        _close(h, d)
    N, C, H, W, Ho, Wo = 1, 2, 4, 5, 2, 3
    xi = RNG.standard_normal(N * C * H * W)
    grid = RNG.uniform(-1.2, 1.2, N * Ho * Wo * 2)
    for mode in (0, 1):
        for pad in (0, 1, 2):
            h, d = _pair(cuda, lambda x, gr, y: kr.grid_sample_2d(x, gr, y, N, C, H, W, Ho, Wo, mode, pad, False),
                         xi, grid, np.zeros(N * C * Ho * Wo))
            _close(h, d)
            gy = RNG.standard_normal(N * C * Ho * Wo)
            h, d = _pair(cuda, lambda g, x, gr, gx, gg: kr.grid_sample_2d_backward(
                g, x, gr, gx, gg, N, C, H, W, Ho, Wo, mode, pad, True), gy, xi, grid, np.zeros(N * C * H * W),
                np.zeros(N * Ho * Wo * 2))
            _close(h, d)


# -- front end on CUDA tensors (the ``device`` fixture runs each case on the CPU and on CUDA) -----------------
import warnings  # noqa: E402

import numtorch as nt  # noqa: E402

F = nt.nn.functional
XS = RNG.standard_normal((1, 4, 3, 4))
GS = RNG.uniform(-1, 1, (1, 2, 3, 2))
WS = RNG.standard_normal((4, 2, 3, 2))
BS = RNG.standard_normal(4)

CASES = {
    "conv2d": lambda x, g, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1, groups=2),
    "conv_transpose2d": lambda x, g, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, groups=2),
    "max_pool2d": lambda x, g, w, b: F.max_pool2d(x, 2, 1, 1),
    "avg_pool2d": lambda x, g, w, b: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
    "adaptive": lambda x, g, w, b: F.adaptive_avg_pool2d(x, (2, 3)) + F.adaptive_max_pool2d(x, (2, 3)),
    "batch_norm": lambda x, g, w, b: F.batch_norm(x, None, None, b, b, training=True),
    "interpolate": lambda x, g, w, b: F.interpolate(x, scale_factor=1.5, mode="bilinear"),
    "grid_sample": lambda x, g, w, b: F.grid_sample(x, g, align_corners=False),
    "unfold_pad_shuffle": lambda x, g, w, b: F.unfold(F.pad(x, (1, 1, 0, 1), mode="reflect"), 2).sum()
    + F.pixel_shuffle(x, 2).sum(),
}


def _front(dev, fn):
    ts = [nt.tensor(a, device=dev, requires_grad=True) for a in (XS, GS, WS, BS)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = fn(*ts)
    y.backward(nt.ones_like(y) * 0.5)
    return [y.detach().cpu().numpy()] + [t.grad.cpu().numpy() for t in ts if t.grad is not None]


@pytest.mark.parametrize("name", list(CASES))
def test_front_end_cuda_parity(device, name):
    ref = _front("cpu", CASES[name])
    got = _front(device.type, CASES[name])
    assert len(ref) == len(got)
    _close(ref, got)


def test_winograd_transforms_parity(cuda):
    C, H, W, pH, pW, m, O = 2, 5, 4, 1, 0, 2, 3
    oH, oW = H + 2 * pH - 2, W + 2 * pW - 2
    th, tw = (oH + 1) // 2, (oW + 1) // 2
    g = np.array([C, H, W, pH, pW, m, th, tw, O, oH, oW], np.int64)
    T = th * tw
    x = RNG.standard_normal(m * C * H * W)
    h, d = _pair(cuda, lambda x, v: kc.winograd_input(x, 0, v, g), x, np.zeros(16 * C * m * T))
    _close(h, d)
    M = RNG.standard_normal(16 * O * m * T)
    b = RNG.standard_normal(O)
    h, d = _pair(cuda, lambda M, b, y: kc.winograd_output(M, y, 0, b, g), M, b, np.zeros(m * O * oH * oW))
    _close(h, d)
    gy = RNG.standard_normal(m * O * oH * oW)
    h, d = _pair(cuda, lambda gy, u: kc.winograd_grad_output(gy, 0, u, g), gy, np.zeros(16 * O * m * T))
    _close(h, d)
