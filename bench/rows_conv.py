"""Convolution-family rows: conv2d forward, depthwise conv, a LeNet training step, a ResNet basic block
forward+backward, max-pool and batch_norm2d forward+backward.

Conv rows report GFLOP/s (2*N*O*C/g*kh*kw*oh*ow). Their NumPy column is im2col (sliding_window_view) + one
BLAS GEMM of the same FLOPs: the reference for the values and a practical BLAS-peak yardstick. The step rows
have no NumPy column (no autograd).
"""
import numpy as np

from .rows import Row, data, register

TINY_CONV = (1, 4, 8, 8, 4)     # --quick on small machines / the CUDA simulator


def _float(dt):
    return dt if np.issubdtype(dt, np.floating) else np.dtype(np.float32)


def _conv(lib, m, device):
    return (lambda a: m.from_numpy(a)) if device is None else (lambda a: device.convert(lib, m, (a,))[0])


def _no_numpy(m, *args):
    raise NotImplementedError("no NumPy column (no autograd)")


def _np_conv2d(x, w, pad, groups=1):
    """im2col + GEMM reference (stride 1)."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))      # n, c, oh, ow, kh, kw
    oh, ow = win.shape[2], win.shape[3]
    if groups == 1:
        cols = win.transpose(1, 4, 5, 0, 2, 3).reshape(c * kh * kw, n * oh * ow)
        y = w.reshape(o, -1) @ cols
        return y.reshape(o, n, oh, ow).transpose(1, 0, 2, 3)
    # depthwise: one filter per channel
    return np.einsum("ncijkl,ckl->ncij", win, w[:, 0], optimize=True)


def _conv_flops(x, w, groups=1):
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    return 2 * n * o * cg * kh * kw * h * wd


# -- conv2d forward 8x64x56x56, 3x3 ---------------------------------------------------------------------------
def _c2_inputs(n, dt, rng):
    dt = _float(dt)
    N, C, H, W, O = (8, 64, 56, 56, 64) if n >= 8 * 64 * 56 * 56 else TINY_CONV
    return data(rng, (N, C, H, W), dt), (data(rng, (O, C, 3, 3), np.float64) / np.sqrt(C * 9)).astype(dt)


register(Row("conv2d_fwd", "conv", "conv2d forward 3x3 pad 1, 8x64x56x56 -> 64 channels",
             _c2_inputs, {"*": lambda m, x, w: m.nn.functional.conv2d(x, w, padding=1),
                          "numpy": lambda m, x, w: _np_conv2d(x, w, 1)},
             sizes=(8 * 64 * 56 * 56,), fixed=True, float_only=True, rtol=1e-3, atol=1e-3,
             shape=lambda x, w: "x".join(map(str, x.shape)), work=lambda x, w: (_conv_flops(x, w), "flop"),
             needs=("nn",), on_cuda=False))


# -- depthwise 3x3 16x128x56x56 ---------------------------------------------------------------------------------
def _dw_inputs(n, dt, rng):
    dt = _float(dt)
    N, C, H, W = (16, 128, 56, 56) if n >= 16 * 128 * 56 * 56 else (1, 4, 8, 8)
    return data(rng, (N, C, H, W), dt), (data(rng, (C, 1, 3, 3), np.float64) / 3).astype(dt)


register(Row("conv2d_depthwise", "conv", "depthwise conv2d 3x3 pad 1 (groups=C), 16x128x56x56",
             _dw_inputs, {"*": lambda m, x, w: m.nn.functional.conv2d(x, w, padding=1, groups=x.shape[1]),
                          "numpy": lambda m, x, w: _np_conv2d(x, w, 1, groups=x.shape[1])},
             sizes=(16 * 128 * 56 * 56,), fixed=True, float_only=True, rtol=1e-3, atol=1e-3,
             shape=lambda x, w: "x".join(map(str, x.shape)), work=lambda x, w: (_conv_flops(x, w), "flop"),
             needs=("nn",), on_cuda=False))


# -- LeNet training step ----------------------------------------------------------------------------------------
def _lenet_inputs(n, dt, rng):
    dt = _float(dt)
    B = 64 if n >= 64 * 28 * 28 else 4
    shapes = [(6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,), (120, 256), (120,), (84, 120), (84,), (10, 84), (10,)]
    params = [(data(rng, s, np.float64) * 0.1).astype(dt) for s in shapes]
    return (data(rng, (B, 1, 28, 28), dt), rng.integers(0, 10, B)) + tuple(params)


def _lenet_prep(lib, m, inputs, device=None):
    if lib == "numpy":
        return inputs
    conv = _conv(lib, m, device)
    x, y, *params = inputs
    return (conv(x), conv(y)) + tuple(conv(p.copy()).requires_grad_() for p in params)


def _lenet_step(m, x, y, c1w, c1b, c2w, c2b, f1w, f1b, f2w, f2b, f3w, f3b):
    F = m.nn.functional
    h = F.max_pool2d(F.relu(F.conv2d(x, c1w, c1b)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, c2w, c2b)), 2)
    h = h.reshape(h.shape[0], -1)
    h = F.relu(F.linear(h, f1w, f1b))
    h = F.relu(F.linear(h, f2w, f2b))
    loss = F.cross_entropy(F.linear(h, f3w, f3b), y)
    loss.backward()
    with m.no_grad():
        for p in (c1w, c1b, c2w, c2b, f1w, f1b, f2w, f2b, f3w, f3b):
            p -= 0.01 * p.grad
            p.grad = None
    return loss.detach()


register(Row("lenet_step", "conv", "LeNet step, batch 64x1x28x28: conv-relu-pool x2, 3 Linear, CE, backward, SGD",
             _lenet_inputs, {"*": _lenet_step, "numpy": _no_numpy}, sizes=(64 * 28 * 28,), fixed=True,
             float_only=True, prep=_lenet_prep, shape=lambda x, *a: f"b{x.shape[0]}", rtol=1e-3, atol=1e-4,
             needs=("nn",), on_cuda=False))


# -- ResNet basic block fwd+bwd 16x64x32x32 ---------------------------------------------------------------------
def _rb_inputs(n, dt, rng):
    dt = _float(dt)
    N, C, H = (16, 64, 32) if n >= 16 * 64 * 32 * 32 else (2, 4, 8)
    w1 = (data(rng, (C, C, 3, 3), np.float64) / np.sqrt(9 * C)).astype(dt)
    w2 = (data(rng, (C, C, 3, 3), np.float64) / np.sqrt(9 * C)).astype(dt)
    return data(rng, (N, C, H, H), dt), w1, np.ones(C, dt), np.zeros(C, dt), w2, np.ones(C, dt), np.zeros(C, dt)


def _rb_prep(lib, m, inputs, device=None):
    if lib == "numpy":
        return inputs
    conv = _conv(lib, m, device)
    return tuple(conv(a.copy()).requires_grad_() for a in inputs)


def _rb_step(m, x, w1, g1, b1, w2, g2, b2):
    F = m.nn.functional
    h = F.relu(F.batch_norm(F.conv2d(x, w1, padding=1), None, None, g1, b1, training=True))
    h = F.batch_norm(F.conv2d(h, w2, padding=1), None, None, g2, b2, training=True)
    out = F.relu(h + x)
    out.sum().backward()
    grads = x.grad
    for p in (x, w1, g1, b1, w2, g2, b2):
        p.grad = None
    return grads


register(Row("resnet_block_fb", "conv", "ResNet basic block (conv-bn-relu-conv-bn + identity) fwd+bwd, 16x64x32x32",
             _rb_inputs, {"*": _rb_step, "numpy": _no_numpy}, sizes=(16 * 64 * 32 * 32,), fixed=True,
             float_only=True, prep=_rb_prep, shape=lambda x, *a: "x".join(map(str, x.shape)),
             work=lambda x, w1, *a: (3 * 2 * _conv_flops(x, w1), "flop"), rtol=1e-3, atol=1e-3, needs=("nn",),
             on_cuda=False))


# -- max-pool 2x2 and batch_norm2d fwd+bwd 32x64x56x56 -------------------------------------------------------
def _big_inputs(n, dt, rng):
    dt = _float(dt)
    shape = (32, 64, 56, 56) if n >= 32 * 64 * 56 * 56 else (2, 4, 8, 8)
    return (data(rng, shape, dt),)


def _np_maxpool(m, x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max((3, 5))


register(Row("max_pool2d", "conv", "max_pool2d 2x2 stride 2, 32x64x56x56", _big_inputs,
             {"*": lambda m, x: m.nn.functional.max_pool2d(x, 2), "numpy": _np_maxpool},
             sizes=(32 * 64 * 56 * 56,), fixed=True, float_only=True, shape=lambda x: "x".join(map(str, x.shape)),
             work=lambda x: (x.size, "elem"), needs=("nn",), on_cuda=False))


def _bn_prep(lib, m, inputs, device=None):
    if lib == "numpy":
        return inputs
    conv = _conv(lib, m, device)
    (x,) = inputs
    c = x.shape[1]
    return (conv(x).requires_grad_(), conv(np.ones(c, x.dtype)).requires_grad_(),
            conv(np.zeros(c, x.dtype)).requires_grad_(), conv(np.linspace(-1, 1, x.size // c, dtype=x.dtype)
                                                              .reshape(x.shape[0], 1, *x.shape[2:])
                                                              .repeat(c, 1)))


def _bn_step(m, x, w, b, g):
    y = m.nn.functional.batch_norm(x, None, None, w, b, training=True)
    return m.autograd.grad(y, (x, w, b), g)[0]


def _bn_np(m, x):
    c = x.shape[1]
    g = np.linspace(-1, 1, x.size // c, dtype=x.dtype).reshape(x.shape[0], 1, *x.shape[2:]).repeat(c, 1)
    x64 = x.astype(np.float64)
    mu = x64.mean((0, 2, 3), keepdims=True)
    rs = 1 / np.sqrt(x64.var((0, 2, 3), keepdims=True) + 1e-5)
    xh = (x64 - mu) * rs
    dx = rs * (g - g.mean((0, 2, 3), keepdims=True) - xh * (g * xh).mean((0, 2, 3), keepdims=True))
    return dx.astype(x.dtype)


register(Row("batch_norm2d_fb", "conv", "batch_norm2d (training) fwd + autograd.grad (x, w, b), 32x64x56x56",
             _big_inputs, {"*": _bn_step, "numpy": _bn_np}, sizes=(32 * 64 * 56 * 56,), fixed=True,
             float_only=True, prep=_bn_prep, shape=lambda x: "x".join(map(str, x.shape)), rtol=1e-3, atol=1e-4,
             work=lambda x: (x.size, "elem"), needs=("nn",), on_cuda=False))
