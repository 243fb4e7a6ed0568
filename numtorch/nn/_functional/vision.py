"""interpolate / upsample*, pixel_shuffle / pixel_unshuffle, channel_shuffle, unfold / fold, grid_sample,
affine_grid.

Interpolation is separable: each resized axis is one compiled pass (numtorch/kernels/resample.py) with T taps
per output (1 nearest, 2 linear, 4 cubic) whose indices and weights follow PyTorch's formulas (computed in
the op's math type: float32 for float32/float16 inputs). The forward and its adjoint are recorded as a pair
of differentiable ops, so double backward reuses the kernels. unfold/fold reuse the convolution's
im2col/col2im kernels."""
import numpy as np

from ...autograd.graph import needs_grad, record
from ...kernels import conv as _kc
from ...kernels import resample as _kr
from ...tensor import Tensor

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle",
           "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle", "unfold", "fold", "grid_sample",
           "affine_grid"]

_MODES_MSG = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"


from .pooling import _empty, _np_in, _wrap, _zeros  # noqa: E402  (host/device buffer helpers)


# -- tap tables (PyTorch's index / weight formulas) ----------------------------------------------------------
def _scale_value(scale, n_in, n_out, ft):
    if scale is not None and scale > 0:
        return ft(1.0 / scale)
    return ft(n_in) / ft(n_out)


def _area_scale(n_in, n_out, align, scale, ft):
    if align:
        return ft(n_in - 1) / ft(n_out - 1) if n_out > 1 else ft(0)
    return _scale_value(scale, n_in, n_out, ft)


def _taps(mode, n_in, n_out, align, scale, ft):
    """(idx int64 (n_out, T), w (n_out, T) in ft, T) for one axis."""
    j = np.arange(n_out)
    if mode in ("nearest", "nearest-exact"):
        if n_out == n_in:
            idx = j
        elif n_out == 2 * n_in and mode == "nearest":
            idx = j >> 1
        else:
            s = _scale_value(scale, n_in, n_out, np.float32)
            jf = j.astype(np.float32) + (np.float32(0.5) if mode == "nearest-exact" else np.float32(0))
            idx = np.minimum(np.floor(jf * s).astype(np.int64), n_in - 1)
        return idx.reshape(n_out, 1).astype(np.int64), np.ones((n_out, 1), dtype=ft), 1
    s = _area_scale(n_in, n_out, align, scale, ft)
    jf = j.astype(ft)
    if mode == "cubic":
        src = s * jf if align else s * (jf + ft(0.5)) - ft(0.5)
        i0 = np.floor(src)
        t = (src - i0).astype(ft)
        i0 = i0.astype(np.int64)
        A = ft(-0.75)

        def cc1(x):
            return ((A + 2) * x - (A + 3)) * x * x + 1

        def cc2(x):
            return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A
        w = np.stack([cc2(t + 1), cc1(t), cc1(1 - t), cc2(2 - t)], axis=1).astype(ft)
        idx = np.clip(i0[:, None] + np.arange(-1, 3)[None, :], 0, n_in - 1)
        return idx.astype(np.int64), w, 4
    if align:
        src = s * jf
    else:
        src = np.maximum(s * (jf + ft(0.5)) - ft(0.5), ft(0))
    i0 = src.astype(np.int64)
    l1 = (src - i0.astype(ft)).astype(ft)
    i1 = i0 + (i0 < n_in - 1)
    idx = np.stack([i0, i1], axis=1)
    w = np.stack([ft(1) - l1, l1], axis=1).astype(ft)
    return idx.astype(np.int64), w, 2


def _resample_apply(x, plans, in_shape, out_shape, adjoint, names):
    """Separable resampling of the last len(plans) dims (adjoint: the transpose, out_shape -> in_shape)."""
    cd = x.dtype.compute
    a = _np_in(x)
    nd = len(plans)
    cur = list(out_shape if adjoint else in_shape)
    order = range(nd) if not adjoint else reversed(range(nd))
    for i in order:
        idx, w, T = plans[i]
        d = len(cur) - nd + i
        outer = int(np.prod(cur[:d]))
        inner = int(np.prod(cur[d + 1:]))
        n_in, n_out = in_shape[d], out_shape[d]
        if not adjoint:
            y = _empty(outer * n_out * inner, cd, x)
            _kr.taps_axis(a, idx.reshape(-1), w.reshape(-1).astype(cd), T, y, outer, n_in, n_out, inner)
            cur[d] = n_out
        else:
            y = _zeros(outer * n_in * inner, cd, x)
            _kr.taps_axis_backward(a, idx.reshape(-1), w.reshape(-1).astype(cd), T, y, outer, n_in, n_out, inner)
            cur[d] = n_in
        a = y
    res = _wrap(a, cur, x)
    if needs_grad(x):
        record(names[1] if adjoint else names[0], res, (x,),
               lambda node, g: (_resample_apply(g, plans, in_shape, out_shape, not adjoint, names),))
    return res


_NAMES = {("nearest", 1): "UpsampleNearest1D", ("nearest", 2): "UpsampleNearest2D",
          ("nearest", 3): "UpsampleNearest3D", ("nearest-exact", 1): "UpsampleNearestExact1D",
          ("nearest-exact", 2): "UpsampleNearestExact2D", ("nearest-exact", 3): "UpsampleNearestExact3D",
          ("linear", 1): "UpsampleLinear1D", ("bilinear", 2): "UpsampleBilinear2D",
          ("trilinear", 3): "UpsampleTrilinear3D", ("bicubic", 2): "UpsampleBicubic2D"}


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of an (N, C, *spatial) tensor (PyTorch's F.interpolate)."""
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    dim = input.dim() - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        scale_factors = None
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError("Input and output must have the same number of spatial dimensions, but got input "
                                 f"with spatial dimensions of {list(input.shape[2:])} and output size of {size}. "
                                 "Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size in "
                                 "(o1, o2, ...,oK) format.")
            output_size = [int(s) for s in size]
        else:
            output_size = [int(size)] * dim
    elif scale_factor is not None:
        output_size = None
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError("Input and scale_factor must have the same number of spatial dimensions, but got "
                                 f"input with spatial dimensions of {list(input.shape[2:])} and scale_factor of "
                                 f"shape {scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) "
                                 "format and scale_factor in (s1, s2, ...,sK) format.")
            scale_factors = [float(s) for s in scale_factor]
        else:
            scale_factors = [float(scale_factor)] * dim
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and output_size is None:
        recompute_scale_factor = True
    if recompute_scale_factor:
        output_size = [int(input.shape[i + 2] * scale_factors[i]) for i in range(dim)]
        scale_factors = None
    if antialias:
        if not (mode in ("bilinear", "bicubic", "lanczos") and input.ndim == 4):
            raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a "
                             "4-D tensor as input")
        raise NotImplementedError("numtorch: interpolate(antialias=True) is not implemented yet")
    if input.dim() not in (3, 4, 5) or mode not in ("nearest", "nearest-exact", "linear", "bilinear", "bicubic",
                                                     "trilinear", "area"):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) for "
                                  f"the modes: {_MODES_MSG} (got {mode})")
    want = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}
    if mode in want and input.dim() != want[mode]:
        raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs {want[mode]}D input")
    if output_size is None:
        output_size = [int(input.shape[i + 2] * scale_factors[i]) for i in range(dim)]
    if mode == "area":
        from . import pooling as _P
        return [_P.adaptive_avg_pool1d, _P.adaptive_avg_pool2d, _P.adaptive_avg_pool3d][dim - 1](input, output_size)
    if any(s <= 0 for s in output_size):
        names = "DHW"[3 - dim:]
        ins = ", ".join(f"{n}: {v}" for n, v in zip(names, input.shape[2:]))
        outs = ", ".join(f"{n}: {v}" for n, v in zip(names, output_size))
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input ({ins}) output ({outs})")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f'"upsample_{mode}{dim}d_out_frame" not implemented for \'{input.dtype.short}\'')
    ft = np.float64 if input.dtype.compute == np.float64 else np.float32
    kind = {"bilinear": "linear", "trilinear": "linear", "bicubic": "cubic"}.get(mode, mode)
    plans = []
    for i in range(dim):
        sc = None if scale_factors is None else scale_factors[i]
        plans.append(_taps(kind, input.shape[2 + i], output_size[i], align_corners, sc, ft))
    base = _NAMES[(mode, dim)]
    names = (base + "Backward0", base + "BackwardBackward0")
    return _resample_apply(input, plans, tuple(input.shape), tuple(input.shape[:2]) + tuple(output_size), False,
                           names)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    import warnings
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    import warnings
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    import warnings
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# -- layout ops: one node each, backward = the inverse layout op ------------------------------------------------
def _layout(x, shape_in, perm, shape_out, name, inverse):
    if x._storage.device.type == "cpu":
        a = x._np().reshape(shape_in).transpose(perm)
        res = Tensor._from_buffer(np.ascontiguousarray(a).reshape(-1), tuple(shape_out), x.dtype, x.device)
    else:
        import numtorch
        with numtorch.no_grad():
            res = x.detach().reshape(shape_in).permute(perm).contiguous().view(shape_out)
    if needs_grad(x):
        record(name, res, (x,), lambda node, g: (inverse(g),))
    return res


def pixel_shuffle(input, upscale_factor):
    r = int(upscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.ndim} dimension(s)")
    c, h, w = input.shape[-3:]
    if c % (r * r) != 0:
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    lead = tuple(input.shape[:-3])
    nl = len(lead)
    oc = c // (r * r)
    perm = tuple(range(nl)) + tuple(nl + p for p in (0, 3, 1, 4, 2))
    return _layout(input, lead + (oc, r, r, h, w), perm, lead + (oc, h * r, w * r), "PixelShuffleBackward0",
                   lambda g: pixel_unshuffle(g, r))


def pixel_unshuffle(input, downscale_factor):
    r = int(downscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.ndim} dimension(s)")
    c, h, w = input.shape[-3:]
    if h % r != 0:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by downscale_factor, but "
                           f"input.size(-2)={h} is not divisible by {r}")
    if w % r != 0:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by downscale_factor, but "
                           f"input.size(-1)={w} is not divisible by {r}")
    lead = tuple(input.shape[:-3])
    nl = len(lead)
    perm = tuple(range(nl)) + tuple(nl + p for p in (0, 2, 4, 1, 3))
    return _layout(input, lead + (c, h // r, r, w // r, r), perm, lead + (c * r * r, h // r, w // r),
                   "PixelUnshuffleBackward0", lambda g: pixel_shuffle(g, r))


def channel_shuffle(input, groups):
    g_ = int(groups)
    if input.ndim < 3:
        raise RuntimeError(f"channel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.ndim} dimension(s)")
    if g_ <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{g_}")
    c = input.shape[1]
    if c % g_ != 0:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {g_} groups.")
    n = input.shape[0]
    rest = tuple(input.shape[2:])
    perm = (0, 2, 1) + tuple(range(3, 3 + len(rest)))
    return _layout(input, (n, g_, c // g_) + rest, perm, tuple(input.shape), "ChannelShuffleBackward0",
                   lambda g: channel_shuffle(g, c // g_))


native_channel_shuffle = channel_shuffle


# -- unfold / fold (im2col / col2im) -----------------------------------------------------------------------------
def _pair(v):
    return tuple(v) if isinstance(v, (list, tuple)) else (v, v)


def _geom(N, C, sp, k, s, p, d, o):
    """numtorch.kernels.conv geometry of a per-sample (N, C*K, L) column block."""
    L = o[0] * o[1]
    H, W = sp
    return np.array([N, C, 1, *sp, 1, *k, 1, *s, 0, *p, 1, *d, 1, *o, C * k[0] * k[1] * L, L,
                     C * H * W, H * W, 0, W, 1], dtype=np.int64)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding (C*kh*kw)-column patches of a (N, C, H, W) or (C, H, W) input."""
    k, d, p, s = _pair(kernel_size), _pair(dilation), _pair(padding), _pair(stride)
    if input.ndim not in (3, 4):
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but "
                           f"got:{list(input.shape)}")
    if input.ndim == 3:
        return unfold(input.unsqueeze(0), k, d, p, s).squeeze(0)
    N, C, H, W = input.shape
    o = tuple((input.shape[2 + i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2))
    if o[0] < 1 or o[1] < 1:
        raise RuntimeError(f"Given input with spatial size ({H}, {W}), kernel_size=({k[0]}, {k[1]}), "
                           f"dilation=({d[0]}, {d[1]}), padding=({p[0]}, {p[1]}), calculated shape of the array of "
                           f"sliding blocks as ({o[0]}, {o[1]}), but its components must be at least one.")
    cols = _empty(N * C * k[0] * k[1] * o[0] * o[1], input.dtype.compute, input)
    _kc.im2col(_np_in(input), 0, cols, _geom(N, C, (H, W), k, s, p, d, o))
    res = _wrap(cols, (N, C * k[0] * k[1], o[0] * o[1]), input)
    if needs_grad(input):
        record("Im2ColBackward0", res, (input,), lambda node, g: (fold(g, (H, W), k, d, p, s),))
    return res


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum (N, C*kh*kw, L) columns back into an (N, C, H, W) image (the adjoint of unfold)."""
    osz, k, d, p, s = _pair(output_size), _pair(kernel_size), _pair(dilation), _pair(padding), _pair(stride)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, but "
                           f"got:{list(input.shape)}")
    if input.ndim == 2:
        return fold(input.unsqueeze(0), osz, k, d, p, s).squeeze(0)
    N, CK, L = input.shape
    if CK % (k[0] * k[1]) != 0:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
                           f"got input.size(1)={CK} and kernel_size=({k[0]}, {k[1]}).")
    C = CK // (k[0] * k[1])
    o = tuple((osz[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2))
    if o[0] * o[1] != L:
        raise RuntimeError(f"Given output_size=({osz[0]}, {osz[1]}), kernel_size=({k[0]}, {k[1]}), "
                           f"dilation=({d[0]}, {d[1]}), padding=({p[0]}, {p[1]}), stride=({s[0]}, {s[1]}), expected "
                           f"size of input's dimension 2 to match the calculated number of sliding blocks "
                           f"{o[0]} * {o[1]} = {o[0] * o[1]}, but got input.size(2)={L}.")
    img = _zeros(N * C * osz[0] * osz[1], input.dtype.compute, input)
    _kc.col2im(_np_in(input), img, 0, _geom(N, C, osz, k, s, p, d, o))
    res = _wrap(img, (N, C) + tuple(osz), input)
    if needs_grad(input):
        record("Col2ImBackward0", res, (input,), lambda node, g: (unfold(g, k, d, p, s),))
    return res


# -- grid_sample / affine_grid ---------------------------------------------------------------------------------
def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample a (N, C, H, W) input at normalised (x, y) grid points (N, Ho, Wo, 2); bilinear or nearest."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but "
                         f"got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        import warnings
        warnings.warn("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
                      "Please specify align_corners=True if the old behavior is desired. See the documentation of "
                      "grid_sample for details.", stacklevel=2)
        align_corners = False
    if mode == "bicubic":
        raise NotImplementedError("numtorch: grid_sample(mode='bicubic') is not implemented yet")
    if input.ndim != 4:
        raise NotImplementedError("numtorch: grid_sample supports 4-D inputs (2-d sampling) only so far")
    if grid.ndim != 4 or grid.shape[-1] != 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size 2 in last dimension, but got grid with sizes "
                           f"{list(grid.shape)}")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got input with "
                           f"sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have same dtype, but input has "
                           f"{input.dtype} and grid has {grid.dtype}")
    N, C, H, W = input.shape
    Ho, Wo = grid.shape[1], grid.shape[2]
    m = 0 if mode == "bilinear" else 1
    pm = {"zeros": 0, "border": 1, "reflection": 2}[padding_mode]
    cd = input.dtype.compute
    y = _empty(N * C * Ho * Wo, cd, input)
    _kr.grid_sample_2d(_np_in(input), _np_in(grid), y, N, C, H, W, Ho, Wo, m, pm, bool(align_corners))
    res = _wrap(y, (N, C, Ho, Wo), input)
    if needs_grad(input) or needs_grad(grid):
        def bw(node, g):
            x_t, grid_t = node.saved_tensors
            gx = _zeros(N * C * H * W, cd, x_t)
            gg = _empty(N * Ho * Wo * 2, cd, x_t)
            _kr.grid_sample_2d_backward(_np_in(g), _np_in(x_t), _np_in(grid_t), gx, gg, N, C, H, W, Ho, Wo, m, pm,
                                        bool(align_corners))
            return _wrap(gx, (N, C, H, W), x_t), _wrap(gg, (N, Ho, Wo, 2), grid_t)
        record("GridSampler2DBackward0", res, (input, grid), bw, save=(input, grid))
    return res


def _base_coords(n, align, dt):
    import numtorch
    if n <= 1:
        return numtorch.zeros(n, dtype=dt)
    r = numtorch.linspace(-1, 1, n, dtype=dt)
    return r if align else r * ((n - 1) / n)


def affine_grid(theta, size, align_corners=None):
    """Sampling grid (N, H, W, 2) (or (N, D, H, W, 3)) of the affine maps theta (N, 2, 3) / (N, 3, 4)."""
    import numtorch
    if align_corners is None:
        import warnings
        warnings.warn("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
                      "Please specify align_corners=True if the old behavior is desired. See the documentation of "
                      "grid_sample for details.", stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = list(size)
    if len(size) == 4:
        if theta.dim() != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {tuple(size)}. Got "
                             f"{theta.shape}.")
        N, C, H, W = size
        dt = theta.dtype
        xs = _base_coords(W, align_corners, dt)
        ys = _base_coords(H, align_corners, dt)
        base = numtorch.stack([xs.view(1, W).expand(H, W), ys.view(H, 1).expand(H, W),
                               numtorch.ones(H, W, dtype=dt)], -1)          # (H, W, 3)
        grid = base.view(1, H * W, 3).matmul(theta.transpose(1, 2))         # (N, H*W, 2)
        out = grid.view(N, H, W, 2)
    elif len(size) == 5:
        if theta.dim() != 3 or theta.shape[-2] != 3 or theta.shape[-1] != 4:
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {tuple(size)}. Got "
                             f"{theta.shape}.")
        N, C, D, H, W = size
        dt = theta.dtype
        xs = _base_coords(W, align_corners, dt).view(1, 1, W).expand(D, H, W)
        ys = _base_coords(H, align_corners, dt).view(1, H, 1).expand(D, H, W)
        zs = _base_coords(D, align_corners, dt).view(D, 1, 1).expand(D, H, W)
        base = numtorch.stack([xs, ys, zs, numtorch.ones(D, H, W, dtype=dt)], -1)
        out = base.view(1, D * H * W, 4).matmul(theta.transpose(1, 2)).view(N, D, H, W, 3)
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if needs_grad(theta):
        # one node named as torch's, wrapping the composite's own graph
        inner = out

        def bw(node, g):
            return numtorch.autograd.grad(inner, theta, g, retain_graph=True, create_graph=numtorch.is_grad_enabled())
        res = inner.detach()
        record("AffineGridGeneratorBackward0", res, (theta,), bw)
        return res
    return out


# torch.<name> forms (numtorch/__init__.py looks names up here)
TOPLEVEL = {"pixel_shuffle": pixel_shuffle, "pixel_unshuffle": pixel_unshuffle, "channel_shuffle": channel_shuffle,
            "native_channel_shuffle": channel_shuffle}
