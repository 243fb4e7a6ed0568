"""The convolution fast paths: Winograd F(2x2, 3x3) (forward and input gradient), per-sample and partial
batch tiles, and padding zeros that never depend on what an uninitialised buffer held."""
import numpy as np
import pytest

import numtorch as nt
import numtorch.nn.functional as F
from _fd import check_grad
from _twin import twin
from numtorch.kernels import conv as kc
from numtorch.nn._functional import conv as fconv

RNG = np.random.default_rng(3)


def ref_conv2d(x, w, b, p):
    """Stride-1 undilated conv2d in float64 (sliding windows)."""
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    win = np.lib.stride_tricks.sliding_window_view(xp, w.shape[2:], axis=(2, 3))
    y = np.einsum("ncijkl,ockl->noij", win, w.astype(np.float64))
    return y if b is None else y + b.reshape(1, -1, 1, 1)


@pytest.fixture
def winograd(monkeypatch):
    """Route every eligible 3x3 stride-1 convolution (tiny ones included) through Winograd."""
    monkeypatch.setattr(fconv, "_WG_MIN_MACS", 0)
    monkeypatch.setattr(fconv, "_WG_MIN_CH", 1)
    monkeypatch.setattr(fconv, "_WG_MIN_TILES", 0)
    monkeypatch.setattr(fconv, "_SHIFT_MIN_MACS", 0)
    monkeypatch.setattr(fconv, "_PITCH_MIN_CH", 1)
    calls = []
    orig, orig_w = fconv._winograd_fwd, fconv._winograd_wgrad

    def spy(*a):
        calls.append(a[0].shape)
        return orig(*a)

    def spy_w(*a):
        calls.append("wgrad")
        return orig_w(*a)
    monkeypatch.setattr(fconv, "_winograd_fwd", spy)
    monkeypatch.setattr(fconv, "_winograd_wgrad", spy_w)
    return calls


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("shape,pad", [((2, 3, 5, 7, 4), (1, 1)), ((3, 2, 6, 6, 5), (0, 2)), ((1, 4, 2, 3, 3), (2, 0))])
def test_winograd_forward_and_backward_match_reference(winograd, dt, shape, pad):
    N, C, H, W, O = shape
    x, w, b = RNG.standard_normal((N, C, H, W)), RNG.standard_normal((O, C, 3, 3)), RNG.standard_normal(O)
    tol = 1e-5 if dt == np.float32 else 1e-12
    xt = nt.tensor(x.astype(dt), requires_grad=True)
    wt = nt.tensor(w.astype(dt), requires_grad=True)
    y = F.conv2d(xt, wt, nt.tensor(b.astype(dt)), padding=pad)
    assert y.dtype == xt.dtype
    ref = ref_conv2d(x.astype(dt), w.astype(dt), b.astype(dt), pad)
    np.testing.assert_allclose(y.detach().numpy(), ref, rtol=tol, atol=tol * 10)
    gy = RNG.standard_normal(ref.shape)
    y.backward(nt.tensor(gy.astype(dt)))
    # input gradient: the full correlation of gy with the flipped taps
    gx_ref = ref_conv2d(gy, w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3), None, (2 - pad[0], 2 - pad[1]))
    np.testing.assert_allclose(xt.grad.numpy(), gx_ref, rtol=tol, atol=tol * 10)
    assert len(winograd) == 3 and "wgrad" in winograd    # forward, input and weight gradients: Winograd
    # weight gradient: gw[o, c] = correlation of x[:, c] with gy[:, o]
    xp = np.pad(x.astype(dt), ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    gw_ref = ref_conv2d(xp.transpose(1, 0, 2, 3), gy.astype(dt).transpose(1, 0, 2, 3), None, (0, 0)).transpose(1, 0, 2, 3)
    np.testing.assert_allclose(wt.grad.numpy(), gw_ref, rtol=tol, atol=tol * 10)


@pytest.mark.parametrize("k,pad,dil", [((3, 3), (1, 1), (1, 1)), ((2, 3), (0, 2), (2, 1)), ((1, 4), (1, 0), (1, 1))])
def test_shifted_weight_gradient(monkeypatch, k, pad, dil):
    monkeypatch.setattr(fconv, "_SHIFT_MIN_MACS", 0)
    x = RNG.standard_normal((5, 3, 6, 7))
    oh = 6 + 2 * pad[0] - dil[0] * (k[0] - 1)
    ow = 7 + 2 * pad[1] - dil[1] * (k[1] - 1)
    gy = RNG.standard_normal((5, 4, oh, ow))
    args = ((1,) + k, (1, 1, 1), (0,) + pad, (1,) + dil, 1)
    assert fconv._shift_wgrad_ok(5, 3, 4, (1, 6, 7), (1,) + k, (1, 1, 1), (0,) + pad, 1, oh * ow)
    got = fconv.conv_bwd_weight_np(x[:, :, None], gy[:, :, None], *args)
    monkeypatch.setattr(fconv, "_SHIFT_BYTES", 1)           # one sample per tile
    got1 = fconv.conv_bwd_weight_np(x[:, :, None], gy[:, :, None], *args)
    monkeypatch.setattr(fconv, "_SHIFT_BYTES", 2 * 7 * 8 * (6 + 2 * pad[0]) * (7 + 2 * pad[1]))   # 2 + 2 + 1
    got2 = fconv.conv_bwd_weight_np(x[:, :, None], gy[:, :, None], *args)
    monkeypatch.setattr(fconv, "_SHIFT_MIN_MACS", 1 << 62)
    monkeypatch.setattr(fconv, "_PITCH_MIN_MACS", 1 << 62)
    ref = fconv.conv_bwd_weight_np(x[:, :, None], gy[:, :, None], *args)   # im2col
    monkeypatch.setattr(fconv, "_PITCH_MIN_MACS", 0)
    monkeypatch.setattr(fconv, "_TILE_BYTES", 3000)          # pitch-grid columns, partial tiles
    got3 = fconv.conv_bwd_weight_np(x[:, :, None], gy[:, :, None], *args)
    for g in (got, got1, got2, got3):
        assert g.shape == (4, 3, 1) + k
        np.testing.assert_allclose(g, ref, rtol=1e-12, atol=1e-12)


def test_winograd_gradcheck_float64(winograd):
    x = nt.tensor(RNG.standard_normal((1, 2, 3, 4)), requires_grad=True)
    w = nt.tensor(RNG.standard_normal((2, 2, 3, 3)), requires_grad=True)
    b = nt.tensor(RNG.standard_normal(2), requires_grad=True)
    check_grad(lambda x, w, b: F.conv2d(x, w, b, padding=1), x, w, b)
    assert winograd


def test_winograd_matches_torch(winograd):
    x = RNG.standard_normal((2, 3, 6, 5)).astype(np.float32)
    w = RNG.standard_normal((4, 3, 3, 3)).astype(np.float32)

    def case(T):
        xt = T.tensor(x, requires_grad=True)
        y = T.nn.functional.conv2d(xt, T.tensor(w), padding=1)
        y.sum().backward()
        return y, xt.grad
    twin(case)


def test_winograd_eligibility():
    ok = fconv._winograd_ok
    big = (16, 64, 64, (1, 32, 32), (1, 3, 3), (1, 1, 1), (0, 1, 1), (1, 1, 1), 1)
    assert ok(*big)
    assert not ok(*big[:4], (1, 3, 3), (1, 2, 2), *big[6:])               # strided
    assert not ok(*big[:6], (0, 1, 1), (1, 2, 2), 1)                       # dilated
    assert not ok(*big[:8], 2)                                             # grouped
    assert not ok(*big[:4], (1, 5, 5), *big[5:])                           # 5x5
    assert not ok(1, 64, 64, (1, 4, 4), (1, 3, 3), (1, 1, 1), (0, 1, 1), (1, 1, 1), 1)  # too little work
    assert not ok(2, 512, 512, (1, 7, 7), (1, 3, 3), (1, 1, 1), (0, 1, 1), (1, 1, 1), 1)  # too few tiles
    sh = fconv._shift_wgrad_ok
    assert sh(16, 64, 64, (1, 32, 32), (1, 3, 3), (1, 1, 1), (0, 1, 1), 1, 32 * 32)
    assert sh(64, 1, 6, (1, 28, 28), (1, 5, 5), (1, 1, 1), (0, 0, 0), 1, 24 * 24)              # LeNet
    assert not sh(2, 512, 512, (1, 7, 7), (1, 3, 3), (1, 1, 1), (0, 1, 1), 1, 7 * 7)          # wide
    assert not fconv._pitch_ok(2, 512, 512, (1, 7, 7), (1, 3, 3), (1, 1, 1), (0, 1, 1), 1, 7 * 7)
    assert fconv._pitch_ok(64, 6, 16, (1, 12, 12), (1, 5, 5), (1, 1, 1), (0, 0, 0), 1, 8 * 8)
    assert not sh(16, 64, 64, (1, 32, 32), (1, 3, 3), (1, 2, 2), (0, 1, 1), 1, 16 * 16)       # strided


@pytest.mark.parametrize("sample_bytes,tile_bytes", [(1, 1 << 20), (1 << 30, 7000)])
def test_batch_tiles_agree(monkeypatch, sample_bytes, tile_bytes):
    """One sample per tile (GEMM straight into y[n]) and partial multi-sample tiles give the same values."""
    x = RNG.standard_normal((5, 3, 6, 5))
    w = RNG.standard_normal((4, 3, 2, 3))
    gy = RNG.standard_normal((5, 4, 7, 3))
    args = ((1, 1, 1), (0, 1, 0), (1, 1, 1), 1)
    x5, w5, gy5 = x[:, :, None], w[:, :, None], gy[:, :, None]
    ref = (fconv.conv_fwd_np(x5, w5, None, *args), fconv.conv_bwd_input_np(gy5, w5, (1, 6, 5), *args),
           fconv.conv_bwd_weight_np(x5, gy5, (1, 2, 3), *args))
    monkeypatch.setattr(fconv, "_SAMPLE_BYTES", sample_bytes)
    monkeypatch.setattr(fconv, "_TILE_BYTES", tile_bytes)
    assert fconv._tile(5, 18, 21, 8) == (1 if sample_bytes == 1 else 2)   # 2 + 2 + 1 samples
    got = (fconv.conv_fwd_np(x5, w5, None, *args), fconv.conv_bwd_input_np(gy5, w5, (1, 6, 5), *args),
           fconv.conv_bwd_weight_np(x5, gy5, (1, 2, 3), *args))
    for a, b in zip(ref, got):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got[0][:, :, 0], ref_conv2d(x, w, None, (1, 0)), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_padding_zeros_ignore_buffer_garbage(dt):
    """Kernels must write real zeros into padding even when the output buffer starts as NaN."""
    x = RNG.standard_normal(2 * 3 * 4).astype(dt)
    o = (1, 4, 3)
    p = fconv._geom(1, 2, (1, 3, 4), (1, 3, 3), (1, 1, 1), (0, 1, 0), (1, 1, 1), o)
    cols = np.full(2 * 9 * 12, np.nan, dt)
    kc.im2col(x, 0, cols, p)
    assert not np.isnan(cols).any() and (cols == 0).sum() > 0
    g = np.array([2, 3, 4, 1, 1, 1, 2, 3, 2, 3, 4], np.int64)     # C H W pH pW m th tw O oH oW
    V = np.full(16 * 2 * 6, np.nan, dt)
    kc.winograd_input(x, 0, V, g)
    assert not np.isnan(V).any()
    y = np.full(2 * 12, np.nan, dt)
    kc.winograd_output(RNG.standard_normal(16 * 2 * 6).astype(dt), y, 0, None, g)
    assert not np.isnan(y).any()
    yd = np.full(2 * 12, np.nan, dt)
    kc.depthwise(x, RNG.standard_normal(18).astype(dt), None, yd, fconv._geom(1, 2, (1, 3, 4), (1, 3, 3), (1, 1, 1),
                                                                               (0, 1, 1), (1, 1, 1), (1, 3, 4),
                                                                               wide=False))
    assert not np.isnan(yd).any()


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_tiles_split_over_threads(winograd, monkeypatch, workers):
    """Batch tiles shared by worker threads (serial kernels, one BLAS thread each) give the same values."""
    import numtorch.kernels
    monkeypatch.setattr(fconv, "_WG_BYTES", 1)
    monkeypatch.setattr(fconv, "_SHIFT_BYTES", 1)
    monkeypatch.setattr(fconv, "_SPLIT_MIN_MACS", 0)
    monkeypatch.setattr(numtorch.kernels, "nthreads", lambda: workers)
    assert fconv._plan(5, 4, 1) == ((4, [0, 4], 1) if workers == 1 else (3, [0, 3], 2) if workers == 2
                                    else (2, [0, 2, 4], 3))
    x = RNG.standard_normal((5, 3, 6, 7))
    w = RNG.standard_normal((4, 3, 3, 3))
    b = RNG.standard_normal(4)
    xt, wt = nt.tensor(x, requires_grad=True), nt.tensor(w, requires_grad=True)
    y = F.conv2d(xt, wt, nt.tensor(b), padding=1)
    np.testing.assert_allclose(y.detach().numpy(), ref_conv2d(x, w, b, (1, 1)), rtol=1e-12, atol=1e-12)
    gy = RNG.standard_normal(y.shape)
    y.backward(nt.tensor(gy))
    gx_ref = ref_conv2d(gy, w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3), None, (1, 1))
    gw_ref = ref_conv2d(np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))).transpose(1, 0, 2, 3),
                        gy.transpose(1, 0, 2, 3), None, (0, 0)).transpose(1, 0, 2, 3)
    np.testing.assert_allclose(xt.grad.numpy(), gx_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(wt.grad.numpy(), gw_ref, rtol=1e-12, atol=1e-12)
    assert len(winograd) == 3


@pytest.mark.parametrize("workers", [1, 2])
def test_im2col_tiles_split_over_threads(monkeypatch, workers):
    """The im2col / col2im path (5x5, stride 2, groups 2) with its tiles shared by worker threads."""
    import numtorch.kernels
    x = RNG.standard_normal((5, 4, 9, 8))
    w = RNG.standard_normal((6, 2, 5, 5))
    gy = RNG.standard_normal((5, 6, 4, 3))

    def run():
        xt, wt = nt.tensor(x, requires_grad=True), nt.tensor(w, requires_grad=True)
        y = F.conv2d(xt, wt, None, stride=2, padding=1, groups=2)
        y.backward(nt.tensor(gy))
        return y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()
    ref = run()
    monkeypatch.setattr(fconv, "_SPLIT_MIN_MACS", 0)
    monkeypatch.setattr(fconv, "_TILE_BYTES", 1)
    monkeypatch.setattr(numtorch.kernels, "nthreads", lambda: workers)
    for a, b in zip(ref, run()):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("k,pad,dil,groups", [((5, 5), (0, 0), (1, 1), 1), ((3, 2), (2, 1), (2, 3), 2),
                                              ((1, 3), (0, 1), (1, 1), 1)])
def test_pitch_forward_matches_im2col(monkeypatch, dt, k, pad, dil, groups):
    """Stride-1 forward on the padded-width grid (bias, groups, dilation, partial tiles over threads)."""
    import numtorch.kernels
    x = RNG.standard_normal((5, 4, 9, 8)).astype(dt)
    w = RNG.standard_normal((6, 4 // groups) + k).astype(dt)
    b = RNG.standard_normal(6).astype(dt)
    args = ((1, 1, 1), (0,) + pad, (1,) + dil, groups)
    monkeypatch.setattr(fconv, "_PITCH_MIN_MACS", 1 << 62)
    ref = fconv.conv_fwd_np(x[:, :, None], w[:, :, None], b, *args)
    monkeypatch.setattr(fconv, "_PITCH_MIN_MACS", 0)
    calls = []
    orig = fconv._pitch_fwd
    monkeypatch.setattr(fconv, "_pitch_fwd", lambda *a: calls.append(1) or orig(*a))
    got = fconv.conv_fwd_np(x[:, :, None], w[:, :, None], b, *args)
    monkeypatch.setattr(fconv, "_TILE_BYTES", 1)             # one sample per tile, 2 worker threads
    monkeypatch.setattr(fconv, "_SPLIT_MIN_MACS", 0)
    monkeypatch.setattr(numtorch.kernels, "nthreads", lambda: 2)
    got2 = fconv.conv_fwd_np(x[:, :, None], w[:, :, None], b, *args)
    assert len(calls) == 2 and got.dtype == dt and got.shape == ref.shape
    tol = 1e-5 if dt == np.float32 else 1e-12
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol)
    np.testing.assert_allclose(got2, ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("k,pad,dil,groups", [((5, 5), (0, 0), (1, 1), 1), ((3, 2), (2, 1), (2, 3), 2),
                                              ((2, 3), (1, 1), (1, 1), 2)])
def test_pitch_input_gradient_matches_col2im(monkeypatch, k, pad, dil, groups):
    x = RNG.standard_normal((3, 4, 9, 8))
    w = RNG.standard_normal((6, 4 // groups) + k)
    o = (1, 9 + 2 * pad[0] - dil[0] * (k[0] - 1), 8 + 2 * pad[1] - dil[1] * (k[1] - 1))
    gy = RNG.standard_normal((3, 6) + o)
    args = ((1,) + k, (1, 1, 1), (0,) + pad, (1,) + dil, groups)
    monkeypatch.setattr(fconv, "_PITCH_MIN_MACS", 1 << 62)
    ref = fconv.conv_bwd_input_np(gy, w[:, :, None], (1, 9, 8), *args[1:])
    monkeypatch.setattr(fconv, "_PITCH_MIN_MACS", 0)
    monkeypatch.setattr(fconv, "_PITCH_MIN_CH", 1)
    calls = []
    orig = fconv._pitch_fwd
    monkeypatch.setattr(fconv, "_pitch_fwd", lambda *a: calls.append(1) or orig(*a))
    got = fconv.conv_bwd_input_np(gy, w[:, :, None], (1, 9, 8), *args[1:])
    assert calls and got.shape == ref.shape == (3, 4, 1, 9, 8)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)
    # and against the definition: <conv(x, w), gy> == <x, gx>
    y = fconv.conv_fwd_np(x[:, :, None], w[:, :, None], None, *args[1:])
    assert abs(float((y * gy).sum()) - float((x[:, :, None] * got).sum())) < 1e-9 * max(1.0, float(abs(y * gy).sum()))


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_max_pool_2x2_fast_path_matches_generic(dt):
    """The 2x2 / stride-2 kernel keeps the generic kernel's values, argmax, tie and NaN rules (odd sizes drop
    the last row/column)."""
    from numtorch.kernels import pooling as kp
    x = RNG.integers(-3, 3, (3, 2, 7, 9)).astype(dt)          # many ties
    x[0, 0, 1, 1] = np.nan
    x[1, 1, 2, 2] = x[1, 1, 3, 3] = np.nan
    p = np.array([6, 1, 7, 9, 1, 2, 2, 1, 2, 2, 0, 0, 0, 1, 1, 1, 1, 3, 4, 0, 0], np.int64)
    assert kp._is_max2(p)
    y1, i1 = np.zeros(6 * 12, dt), np.zeros(6 * 12, np.int64)
    y2, i2 = np.zeros(6 * 12, dt), np.zeros(6 * 12, np.int64)
    kp._max_planes(x.reshape(-1), y1, i1, p, 0, 6)
    kp.max_pool(x.reshape(-1), y2, i2, p)
    np.testing.assert_array_equal(i2, i1)
    np.testing.assert_array_equal(y2, y1)

    def case(T):
        return T.nn.functional.max_pool2d(T.tensor(x), 2, return_indices=True)
    twin(case)


@pytest.mark.parametrize("k,pad,dil", [((3, 3), (1, 1), (1, 1)), ((3, 2), (0, 2), (2, 1)), ((5, 5), (2, 2), (1, 1))])
def test_depthwise_pitch_matches_row_kernel(k, pad, dil):
    """Stride-1 depthwise forward / input gradient on the padded-width grid: bitwise the row kernel's values."""
    N, C, H, W = 2, 3, 7, 6
    o = fconv._fwd_size((1, H, W), (1,) + k, (1, 1, 1), (0,) + pad, (1,) + dil)
    g = fconv._geom(N, C, (1, H, W), (1,) + k, (1, 1, 1), (0,) + pad, (1,) + dil, o, wide=False)
    assert kc._dw_pitch_ok(g)
    x = RNG.standard_normal(N * C * H * W)
    w = RNG.standard_normal(C * k[0] * k[1])
    b = RNG.standard_normal(C)
    y1, y2 = np.full(N * C * o[1] * o[2], np.nan), np.full(N * C * o[1] * o[2], np.nan)
    kc._dw_planes(x, w, b, True, y1, g, 0, N * C)
    kc.depthwise(x, w, b, y2, g)
    np.testing.assert_array_equal(y2, y1)
    gy = RNG.standard_normal(N * C * o[1] * o[2])
    gx1, gx2 = np.zeros(N * C * H * W), np.zeros(N * C * H * W)
    kc._dw_bwd_in_planes(gy, w, gx1, g, 0, N * C)
    kc.depthwise_backward_input(gy, w, gx2, g)
    np.testing.assert_allclose(gx2, gx1, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("pad", [(1, 1), (0, 0)])
def test_non_finite_inputs_stay_where_a_direct_convolution_puts_them(winograd, monkeypatch, pad):
    # Winograd tiles and the padded-width weight gradients multiply values by zero weights (NaN * 0 = NaN):
    # with an inf/NaN in the input they step aside, so NaN lands exactly where the sliding window puts it.
    monkeypatch.setattr(fconv, "_PITCH_MIN_MACS", 0)
    x = RNG.standard_normal((2, 3, 7, 8))
    w = RNG.standard_normal((4, 3, 3, 3))
    x[0, 1, 0, 0], x[1, 2, 6, 7] = np.nan, np.inf
    xt, wt = nt.tensor(x, requires_grad=True), nt.tensor(w, requires_grad=True)
    y = F.conv2d(xt, wt, padding=pad)
    y.backward(nt.ones(y.shape, dtype=nt.float64))
    ref = ref_conv2d(x, w, None, pad)
    np.testing.assert_array_equal(np.isnan(y.detach().numpy()), np.isnan(ref))
    gw = np.einsum("ncijkl->ckl", np.lib.stride_tricks.sliding_window_view(
        np.pad(x, ((0, 0), (0, 0), (pad[0],) * 2, (pad[1],) * 2)), (3, 3), axis=(2, 3)))   # ones as gy
    np.testing.assert_array_equal(np.isnan(wt.grad.numpy()), np.isnan(np.broadcast_to(gw, (4, 3, 3, 3))))
    assert "wgrad" not in winograd
