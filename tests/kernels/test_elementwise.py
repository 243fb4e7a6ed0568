"""numtorch.kernels.elementwise against NumPy references (and torch when installed).

Compiled specializations are kept few: every op runs once in float64 (float32 for a subset), int ops
in int64 (int32 for a few), logical/bitwise ops in bool; layouts reuse already-compiled kernels.
"""
import math

import numpy as np
import pytest

from numtorch.kernels import _gen
from numtorch.kernels import elementwise as ew
from numtorch.kernels.scalar_ops import OPS

RNG = np.random.default_rng(0)
NAN, INF = np.nan, np.inf
SPECIAL = [NAN, INF, -INF, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -2.5, 1e-30, 1e30, 7.0, -7.0]
I64 = np.iinfo(np.int64)


# ----------------------------------------------------------------------------- layout helpers
def desc(v, buf):
    """(offset, strides) in elements of NumPy view ``v`` into the flat buffer ``buf``."""
    it = buf.itemsize
    off = (v.__array_interface__['data'][0] - buf.__array_interface__['data'][0]) // it
    return off, tuple(s // it for s in v.strides)


def lay(x, layout):
    """(buf, off, strides) holding the N-d array ``x`` in ``layout``."""
    x = np.asarray(x)
    if layout == 'contig' or x.ndim == 0:
        buf = x.reshape(-1).copy()
        return buf, 0, tuple(s // max(x.itemsize, 1) for s in np.empty(x.shape, x.dtype).strides)
    if layout == 'transposed':
        buf = np.ascontiguousarray(x.T).reshape(-1)
        return (buf,) + desc(buf.reshape(x.T.shape).T, buf)
    if layout == 'step':
        big = np.zeros(tuple(2 * s + 1 for s in x.shape), x.dtype)
        v = big[tuple(slice(1, None, 2) for _ in x.shape)]
        v[...] = x
        buf = big.reshape(-1)
        return (buf,) + desc(v, buf)
    if layout == 'flip':
        buf = np.ascontiguousarray(x[::-1]).reshape(-1)
        return (buf,) + desc(buf.reshape(x.shape)[::-1], buf)
    raise ValueError(layout)


def bcast(x, shape):
    """(buf, off, strides) for ``x`` broadcast to ``shape`` with stride-0 dims."""
    x = np.asarray(x)
    buf = x.reshape(-1).copy()
    v = np.broadcast_to(buf.reshape(x.shape), shape)
    return (buf,) + desc(v, buf)


def view(buf, off, strides, shape):
    it = buf.itemsize
    return np.lib.stride_tricks.as_strided(buf[off:], shape, [s * it for s in strides])


def out_for(shape, dtype, layout='contig'):
    n = int(np.prod(shape))
    return lay(np.zeros(shape, dtype), layout) if n else (np.zeros(1, dtype), 0, (1,) * len(shape))


def run(op, ins, out_dtype, p=(), out_layout='contig', layouts=None):
    """Apply ``op`` to N-d arrays ``ins`` (each laid out per ``layouts``); return the N-d result."""
    shape = np.broadcast_shapes(*[np.shape(x) for x in ins])
    operands = []
    for i, x in enumerate(ins):
        L = (layouts or ['contig'] * len(ins))[i]
        operands += bcast(x, shape) if (L == 'bcast' or np.shape(x) != shape) else lay(x, L)
    o = out_for(shape, out_dtype, out_layout)
    fn = {1: ew.unary, 2: ew.binary, 3: ew.ternary}[len(ins)]
    fn(op, *operands, *o, shape, *p)
    return view(*o, shape).copy()


def check(got, ref, dtype=np.float64, rtol=None):
    ref = np.asarray(ref)
    assert got.shape == ref.shape
    if got.dtype.kind == 'f':
        rtol = rtol or (2e-6 if dtype == np.float32 else 1e-13)
        np.testing.assert_allclose(got, ref.astype(got.dtype), rtol=rtol, atol=1e-300, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, ref)


def fvals(lo=-3.0, hi=3.0, n=40, dtype=np.float64):
    with np.errstate(all='ignore'):
        return np.concatenate([RNG.uniform(lo, hi, n), SPECIAL]).astype(dtype)


# ----------------------------------------------------------------------------- float references
def _sign(x):
    return np.where(np.isnan(x), 0.0, np.sign(x))


verf, verfc = np.vectorize(math.erf, otypes=[float]), np.vectorize(math.erfc, otypes=[float])
UNARY_F = {  # op -> (reference, input domain)
    'copy': (lambda x: x, None), 'neg': (np.negative, None), 'abs': (np.abs, None),
    'sign': (_sign, None), 'exp': (np.exp, None), 'exp2': (np.exp2, None), 'expm1': (np.expm1, None),
    'log': (np.log, (0.01, 9)), 'log2': (np.log2, (0.01, 9)), 'log10': (np.log10, (0.01, 9)),
    'log1p': (np.log1p, (-0.9, 9)), 'sqrt': (np.sqrt, (0, 9)), 'rsqrt': (lambda x: 1 / np.sqrt(x), (0.01, 9)),
    'square': (np.square, None), 'reciprocal': (lambda x: 1 / x, None), 'sin': (np.sin, None),
    'cos': (np.cos, None), 'tan': (np.tan, (-1.5, 1.5)), 'asin': (np.arcsin, (-1, 1)),
    'acos': (np.arccos, (-1, 1)), 'atan': (np.arctan, None), 'sinh': (np.sinh, None),
    'cosh': (np.cosh, None), 'tanh': (np.tanh, None), 'asinh': (np.arcsinh, None),
    'acosh': (np.arccosh, (1, 9)), 'atanh': (np.arctanh, (-0.99, 0.99)),
    'sigmoid': (lambda x: 1 / (1 + np.exp(-x)), (-20, 20)), 'relu': (lambda x: np.where(x < 0, 0, x), None),
    'erf': (verf, None), 'erfc': (verfc, None), 'floor': (np.floor, None), 'ceil': (np.ceil, None),
    'round': (np.round, (-5, 5)), 'trunc': (np.trunc, None), 'frac': (lambda x: x - np.trunc(x), None),
    'isnan': (np.isnan, None), 'isinf': (np.isinf, None), 'isfinite': (np.isfinite, None),
    'isposinf': (np.isposinf, None), 'isneginf': (np.isneginf, None), 'signbit': (np.signbit, None), 'logical_not': (np.logical_not, None),
}
F32_SUBSET = ['exp', 'log', 'sigmoid', 'tanh', 'rsqrt', 'erf', 'round']


@pytest.mark.parametrize('op', sorted(UNARY_F))
def test_unary_float64(op):
    ref, dom = UNARY_F[op]
    x = fvals(*(dom or (-3, 3)))
    with np.errstate(all='ignore'):
        want = ref(x)
    out_dt = np.bool_ if OPS[op][2] == 'bool' else np.float64
    check(run(op, [x], out_dt), want)


@pytest.mark.parametrize('op', F32_SUBSET)
def test_unary_float32(op):
    ref, dom = UNARY_F[op]
    x = fvals(*(dom or (-3, 3)), n=300, dtype=np.float32)
    with np.errstate(all='ignore'):
        want = ref(x.astype(np.float64))
    got = run(op, [x], np.float32)
    assert got.dtype == np.float32
    check(got, want, np.float32)


def _ulps(got, ref64):
    with np.errstate(all='ignore'):
        ref = ref64.astype(np.float32)
    ok = np.isfinite(ref)
    return np.abs(got[ok].view(np.int32).astype(np.int64) - ref[ok].view(np.int32).astype(np.int64)).max()


@pytest.mark.parametrize('op,ref,x', [
    ('exp', np.exp, np.linspace(-110, 95, 60001)),          # < PAR_MIN: no parallel compile
    ('log', np.log, np.exp(np.linspace(-103, 88.7, 60001))),
    ('tanh', np.tanh, np.concatenate([np.linspace(-12, 12, 60001), np.exp(np.linspace(-90, 0, 1000))])),
    ('sigmoid', lambda v: 1 / (1 + np.exp(-v)), np.linspace(-88, 30, 60001)),   # exp(88.8) = inf, as torch
    ('erf', verf, np.concatenate([np.linspace(-6, 6, 60001), np.exp(np.linspace(-80, 1, 1000))])),
])
def test_float32_fast_math_accuracy(op, ref, x):
    """float32 exp/log/tanh/sigmoid/erf are vectorised polynomials: within 3 ulp, specials exact."""
    extra = [88.72283, 88.7229, -87.33, -103.97, -104.5, 1e-40, 1e-45] if op != 'sigmoid' else []
    x = np.concatenate([x, SPECIAL, extra]).astype(np.float32)
    with np.errstate(all='ignore'):
        want = ref(x.astype(np.float64))
    got = run(op, [x], np.float32)
    assert _ulps(got, want) <= 3
    with np.errstate(all='ignore'):
        want32 = want.astype(np.float32)
    special = ~np.isfinite(want32) | (want32 == 0) | ~np.isfinite(x)
    check(got[special], want32[special], np.float32)


@pytest.mark.parametrize('op,p,ref', [
    ('clamp', (-1.0, 2.0), lambda x: np.minimum(np.maximum(x, -1.0), 2.0)),
    ('clamp', (2.0, -1.0), lambda x: np.where(np.isnan(x), x, -1.0)),            # min > max -> max
    ('clamp', (NAN, 2.0), lambda x: np.full_like(x, NAN)),
    ('clamp_min', (0.5,), lambda x: np.maximum(x, 0.5)),
    ('clamp_max', (0.5,), lambda x: np.minimum(x, 0.5)),
    ('nan_to_num', (1.0, 9.0, -9.0), lambda x: np.nan_to_num(x, nan=1.0, posinf=9.0, neginf=-9.0)),
    ('round', (1,), lambda x: np.round(x, 1)),
    ('round', (-1,), lambda x: np.round(x, -1)),
    ('fill', (3.5,), lambda x: np.full_like(x, 3.5)),
    ('rpow_scalar', (2.0,), lambda x: np.power(2.0, x)),
    ('rpow_scalar', (-0.5,), lambda x: np.power(-0.5, x)),
] + [('pow_scalar', (e,), r) for e, r in [
    (2, np.square), (3, lambda x: x * x * x), (0.5, np.sqrt), (-0.5, lambda x: 1 / np.sqrt(x)),
    (-1, lambda x: 1 / x), (-2, lambda x: 1 / (x * x)), (1, lambda x: x), (0, np.ones_like),
    (2.5, lambda x: np.power(x, 2.5)), (-1.5, lambda x: np.power(x, -1.5))]])
def test_unary_params_float64(op, p, ref):
    x = fvals(-12, 12)
    with np.errstate(all='ignore'):
        check(run(op, [x], np.float64, p), ref(x))


def _xlogy(a, b):
    with np.errstate(all='ignore'):
        return np.where(np.isnan(b), NAN, np.where(a == 0, 0.0, a * np.log(b)))


BINARY_F = {
    'add': lambda a, b: a + b, 'sub': lambda a, b: a - b, 'rsub': lambda a, b: b - a,
    'mul': np.multiply, 'div': np.divide, 'div_trunc': lambda a, b: np.trunc(a / b),
    'div_floor': np.floor_divide, 'remainder': np.remainder, 'fmod': np.fmod, 'pow': np.power,
    'maximum': np.maximum, 'minimum': np.minimum, 'fmax': np.fmax, 'fmin': np.fmin,
    'atan2': np.arctan2, 'hypot': np.hypot, 'copysign': np.copysign, 'xlogy': _xlogy,
    'eq': np.equal, 'ne': np.not_equal, 'lt': np.less, 'le': np.less_equal, 'gt': np.greater,
    'ge': np.greater_equal, 'logical_and': np.logical_and, 'logical_or': np.logical_or,
    'logical_xor': np.logical_xor,
}


def pairs(dtype=np.float64, n=30):
    s = np.array(SPECIAL)
    a = np.concatenate([RNG.uniform(-9, 9, n), np.repeat(s, len(s))])
    b = np.concatenate([RNG.uniform(-9, 9, n), np.tile(s, len(s))])
    return a.astype(dtype), b.astype(dtype)


@pytest.mark.parametrize('op', sorted(BINARY_F))
def test_binary_float64(op):
    a, b = pairs()
    with np.errstate(all='ignore'):
        want = BINARY_F[op](a, b)
    out_dt = np.bool_ if OPS[op][2] == 'bool' else np.float64
    check(run(op, [a, b], out_dt), want)


@pytest.mark.parametrize('op', ['add', 'div', 'div_floor', 'lt'])
def test_binary_float32(op):
    a, b = pairs(np.float32)
    with np.errstate(all='ignore'):
        want = BINARY_F[op](a, b)
    got = run(op, [a, b], np.bool_ if op == 'lt' else np.float32)
    check(got, want, np.float32)


def test_alpha():
    a, b = pairs()
    with np.errstate(all='ignore'):
        refs = [('add', a + 2.5 * b), ('sub', a - 2.5 * b), ('rsub', b - 2.5 * a)]
    for op, ref in refs:
        check(run(op, [a, b], np.float64, (2.5,)), ref)
    i, j = np.arange(-5, 5), np.arange(10)
    check(run('add', [i, j], np.int64, (3,)), i + 3 * j)


def test_ternary_float64():
    a, b = pairs(n=50)
    c = np.resize(np.array([0.25, 0.7, -0.3, 1.0, 0.0, 2.0, NAN, 1e-3]), a.shape)
    cond = RNG.random(a.shape) > 0.5
    with np.errstate(all='ignore'):
        check(run('where', [cond, a, b], np.float64), np.where(cond, a, b))
        lerp = np.where(np.abs(c) < 0.5, a + c * (b - a), b - (b - a) * (1 - c))
        check(run('lerp', [a, b, c], np.float64), lerp)
        check(run('addcmul', [a, b, c], np.float64, (0.5,)), a + 0.5 * b * c)
        check(run('addcdiv', [a, b, c], np.float64, (2.0,)), a + 2.0 * b / c)
        lo, hi = np.minimum(b, c), np.maximum(b, c)
        check(run('clamp_tensor', [a, lo, hi], np.float64), np.minimum(np.maximum(a, lo), hi))
        check(run('clamp_tensor', [a, hi, lo], np.float64), np.minimum(np.maximum(a, hi), lo))


BACKWARD = {  # op -> (reference(g, x), saved value from x, parameters)
    'relu_backward': (lambda g, y: np.where(y <= 0, 0, g), np.maximum, ()),
    'threshold_backward': (lambda g, x: np.where(x <= 0.5, 0, g), None, (0.5,)),
    'sigmoid_backward': (lambda g, y: g * (1 - y) * y, lambda x: 1 / (1 + np.exp(-x)), ()),
    'tanh_backward': (lambda g, y: g * (1 - y * y), np.tanh, ()),
    'exp_backward': (lambda g, y: g * y, np.exp, ()),
    'log_backward': (lambda g, x: g / x, None, ()),
    'log1p_backward': (lambda g, x: g / (1 + x), None, ()),
    'sqrt_backward': (lambda g, y: g / (2 * y), lambda x: np.sqrt(np.abs(x)), ()),
    'rsqrt_backward': (lambda g, x: -0.5 * g * np.abs(x) ** -1.5, np.abs, ()),
    'reciprocal_backward': (lambda g, y: -g * y * y, lambda x: 1 / x, ()),
    'abs_backward': (lambda g, x: g * np.sign(x), None, ()),
    'sin_backward': (lambda g, x: g * np.cos(x), None, ()),
    'cos_backward': (lambda g, x: -g * np.sin(x), None, ()),
    'clamp_backward': (lambda g, x: np.where((x >= -1) & (x <= 0.5), g, 0), None, (-1.0, 0.5)),
    'pow_scalar_backward': (lambda g, x: g * 2.5 * np.abs(x) ** 1.5, np.abs, (2.5,)),
}


@pytest.mark.parametrize('op', sorted(BACKWARD))
def test_backward_float64(op):
    ref, saved, p = BACKWARD[op]
    x = np.concatenate([RNG.uniform(-3, 3, 40), [0.0, 0.5, -1.0, 1.0]])
    if op == 'relu_backward':
        saved = lambda v: np.maximum(v, 0)  # noqa: E731
    g = RNG.uniform(-2, 2, x.shape)
    with np.errstate(all='ignore'):
        y = x if saved is None else saved(x)
        want = ref(g, y)
    check(run(op, [g, y], np.float64, p), want, rtol=1e-12)


def test_backward_special_and_ternary():
    g, x = RNG.uniform(-2, 2, 30), RNG.uniform(-3, 3, 30)
    for n in (2.0, 3.0, 0.5, -1.0, -0.5, 1.0):
        check(run('pow_scalar_backward', [g, np.abs(x)], np.float64, (n,)), g * n * np.abs(x) ** (n - 1))
    check(run('pow_scalar_backward', [g, x], np.float64, (0.0,)), np.zeros_like(g))
    y = RNG.uniform(-3, 3, 30)
    r2 = x * x + y * y
    check(run('atan2_backward_self', [g, x, y], np.float64), g * y / r2, rtol=1e-12)
    check(run('atan2_backward_other', [g, x, y], np.float64), -g * x / r2, rtol=1e-12)
    h = np.hypot(x, y)
    check(run('hypot_backward', [g, x, h], np.float64), g * x / h, rtol=1e-12)
    f32 = [v.astype(np.float32) for v in (g, x)]
    got = run('tanh_backward', f32, np.float32)
    assert got.dtype == np.float32
    check(got, f32[0].astype(float) * (1 - f32[1].astype(float) ** 2), np.float32, rtol=1e-5)


# ----------------------------------------------------------------------------- integers and bool
def ivals(dtype=np.int64):
    edge = [0, 1, -1, 2, -2, 7, -7, 3, -3, 100, -100, 2**31 - 1, -2**31, I64.max, I64.min + 1]
    v = np.concatenate([RNG.integers(-50, 50, 20), edge]).astype(np.int64)
    return v.astype(dtype) if dtype == np.int64 else np.clip(v, -1000, 1000).astype(dtype)


def _wrap(v):
    return ((int(v) + 2**63) % 2**64) - 2**63


def _ipow(a, e):
    if e < 0:
        return 1 if a == 1 else ((-1 if e % 2 else 1) if a == -1 else 0)
    return _wrap(pow(int(a), int(e), 2**64))


def _lsh(a, b):
    return 0 if (b < 0 or b > 63) else _wrap(int(a) << int(b))


def _rsh(a, b):
    return int(a) >> (63 if (b < 0 or b > 63) else int(b))


def _cwise(f):
    return lambda a, b: np.array([f(x, y) for x, y in zip(a.tolist(), b.tolist())], np.int64)


def _trunc_div(x, y):
    q = abs(x) // abs(y)
    return q if (x < 0) == (y < 0) else -q


BINARY_I = {
    'add': lambda a, b: a + b, 'sub': lambda a, b: a - b, 'rsub': lambda a, b: b - a,
    'mul': np.multiply, 'div_floor': np.floor_divide, 'remainder': np.remainder, 'fmod': np.fmod,
    'div_trunc': _cwise(_trunc_div), 'pow': _cwise(_ipow),
    'maximum': np.maximum, 'minimum': np.minimum, 'fmax': np.fmax, 'fmin': np.fmin,
    'eq': np.equal, 'ne': np.not_equal, 'lt': np.less, 'le': np.less_equal, 'gt': np.greater,
    'ge': np.greater_equal, 'logical_and': np.logical_and, 'logical_or': np.logical_or,
    'logical_xor': np.logical_xor, 'bitwise_and': np.bitwise_and, 'bitwise_or': np.bitwise_or,
    'bitwise_xor': np.bitwise_xor, 'bitwise_left_shift': _cwise(_lsh), 'bitwise_right_shift': _cwise(_rsh),
}


@pytest.mark.parametrize('op', sorted(BINARY_I))
def test_binary_int64(op):
    v = ivals()
    a, b = np.repeat(v, len(v)), np.tile(v, len(v))
    if op in ('div_floor', 'remainder', 'fmod', 'div_trunc'):
        keep = (b != 0) & ~((a == I64.min) & (b == -1))
        a, b = a[keep], b[keep]
    if op == 'pow':
        b = np.abs(b) % 70 * np.sign(b)
    if op.endswith('shift'):
        b = b % 80 - 8
    with np.errstate(all='ignore'):
        want = BINARY_I[op](a, b)
    out_dt = np.bool_ if OPS[op][2] == 'bool' else np.int64
    check(run(op, [a, b], out_dt), want)


UNARY_I = {
    'copy': lambda x: x, 'neg': np.negative, 'abs': np.abs, 'sign': np.sign, 'square': lambda x: x * x,
    'relu': lambda x: np.maximum(x, 0), 'floor': lambda x: x, 'round': lambda x: x,
    'bitwise_not': np.invert, 'logical_not': np.logical_not, 'isnan': np.isnan,
    'isfinite': np.isfinite,
}


@pytest.mark.parametrize('op', sorted(UNARY_I))
def test_unary_int64(op):
    x = ivals()
    with np.errstate(all='ignore'):
        want = UNARY_I[op](x)
    check(run(op, [x], np.bool_ if OPS[op][2] == 'bool' else np.int64), want)


def test_unary_int64_params():
    x = ivals()
    check(run('clamp', [x], np.int64, (-5, 40)), np.clip(x, -5, 40))
    check(run('clamp_min', [x], np.int64, (3,)), np.maximum(x, 3))
    check(run('clamp_max', [x], np.int64, (3,)), np.minimum(x, 3))
    check(run('fill', [x], np.int64, (7,)), np.full_like(x, 7))
    for e in (0, 1, 2, 3, 5, 13):
        check(run('pow_scalar', [x], np.int64, (e,)), [_ipow(v, e) for v in x.tolist()])
    small = np.arange(-3, 70)
    check(run('rpow_scalar', [small], np.int64, (3,)), [_ipow(3, v) for v in small.tolist()])
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed."):
        run('pow_scalar', [x], np.int64, (-1,))


def test_int32_wraps_and_shifts():
    a = np.array([2**31 - 1, -2**31, 5, -8, 1, 2**30], np.int32)
    b = np.array([1, -1, 3, 31, 32, 2], np.int32)
    check(run('add', [a, b], np.int32), (a.astype(np.int64) + b).astype(np.int32))
    check(run('mul', [a, b], np.int32), (a.astype(np.int64) * b).astype(np.int32))
    # torch: shifts >= the width give 0 (left) / the sign (right)
    check(run('bitwise_left_shift', [a, b], np.int32), [-2, 0, 40, 0, 0, 0])
    check(run('bitwise_right_shift', [a, b], np.int32), [2**30 - 1, -1, 0, -1, 0, 2**28])
    check(run('div_floor', [a, np.array([7, -1, -2, 3, 1, -3], np.int32)], np.int32),
          [306783378, -2**31, -3, -3, 1, -357913942])


def test_uint8_wraps():
    a, b = np.array([200, 3, 0, 255], np.uint8), np.array([100, 5, 1, 255], np.uint8)
    check(run('add', [a, b], np.uint8), (a.astype(int) + b).astype(np.uint8))
    check(run('sub', [a, b], np.uint8), (a.astype(int) - b).astype(np.uint8))
    check(run('neg', [a], np.uint8), (-a.astype(int)).astype(np.uint8))


def test_int64_wraps():
    a = np.array([I64.max, I64.min, I64.max, 3], np.int64)
    b = np.array([1, -1, 2, 40], np.int64)
    check(run('add', [a, b], np.int64), [I64.min, I64.max, I64.min + 1, 43])
    check(run('mul', [a, b], np.int64), [I64.max, I64.min, -2, 120])
    check(run('pow', [a[3:], b[3:]], np.int64), [_wrap(3**40)])
    check(run('neg', [a[:2]], np.int64), [I64.min + 1, I64.min])
    check(run('abs', [a[1:2]], np.int64), [I64.min])
    # INT_MIN // -1 wraps instead of trapping (SIGFPE)
    check(run('div_floor', [a[1:2], b[1:2]], np.int64), [I64.min])
    check(run('remainder', [a[1:2], b[1:2]], np.int64), [0])


@pytest.mark.parametrize('op', ['div_floor', 'div_trunc', 'remainder', 'fmod'])
def test_int_division_by_zero_raises(op):
    a, b = np.arange(6, dtype=np.int64), np.array([1, 2, 0, 3, 4, 5], np.int64)
    with pytest.raises(RuntimeError, match="^ZeroDivisionError$"):
        run(op, [a, b], np.int64)
    with pytest.raises(RuntimeError, match="^ZeroDivisionError$"):   # strided path
        run(op, [a.reshape(2, 3), b.reshape(2, 3)], np.int64, layouts=['transposed', 'step'])
    r = run(op, [a.astype(float), b.astype(float)], np.float64)    # floats: IEEE, no error
    assert np.isnan(r[2]) if op in ('remainder', 'fmod') else r[2] == INF


BOOL_OPS = {
    'eq': np.equal, 'ne': np.not_equal, 'lt': np.less, 'ge': np.greater_equal,
    'logical_and': np.logical_and, 'logical_or': np.logical_or, 'logical_xor': np.logical_xor,
    'bitwise_and': np.bitwise_and, 'bitwise_or': np.bitwise_or, 'bitwise_xor': np.bitwise_xor,
    'maximum': np.logical_or, 'minimum': np.logical_and, 'mul': np.logical_and, 'add': np.logical_or,
}


@pytest.mark.parametrize('op', sorted(BOOL_OPS))
def test_bool_binary(op):
    a, b = np.array([True, True, False, False]), np.array([True, False, True, False])
    check(run(op, [a, b], np.bool_), BOOL_OPS[op](a, b))


def test_bool_unary_where():
    a = np.array([True, False, True])
    check(run('logical_not', [a], np.bool_), ~a)
    check(run('bitwise_not', [a], np.bool_), ~a)
    check(run('copy', [a], np.bool_), a)
    check(run('where', [a, a, ~a], np.bool_), np.ones(3, bool))


# ----------------------------------------------------------------------------- layouts
LAYOUTS = ['contig', 'transposed', 'step', 'flip']


@pytest.mark.parametrize('la', LAYOUTS)
@pytest.mark.parametrize('lb', ['contig', 'transposed', 'step', 'bcast'])
def test_binary_layouts(la, lb):
    a = RNG.standard_normal((5, 7, 3))
    b = RNG.standard_normal((5, 7, 3) if lb != 'bcast' else (7, 1))
    for out_layout in ('contig', 'transposed'):
        got = run('add', [a, b], np.float64, (2.0,), out_layout, [la, lb])
        check(got, a + 2.0 * b)
    check(run('maximum', [b, a], np.float64, (), 'contig', [lb, la]), np.maximum(b, a))


@pytest.mark.parametrize('layout', LAYOUTS)
def test_unary_ternary_layouts(layout):
    x = RNG.standard_normal((4, 6))
    check(run('exp', [x], np.float64, (), layout, [layout]), np.exp(x))
    cond = x > 0
    got = run('where', [cond, x, np.float64(0.5)], np.float64, (), 'contig', [layout, layout, 'bcast'])
    check(got, np.where(cond, x, 0.5))
    y, z = RNG.standard_normal((6,)), RNG.standard_normal((4, 1))
    check(run('addcmul', [x, y, z], np.float64, (0.5,), layout, [layout, 'bcast', 'bcast']), x + 0.5 * y * z)


def test_broadcast_patterns():
    a = RNG.standard_normal((3, 4))
    for b in [np.float64(2.0), RNG.standard_normal((4,)), RNG.standard_normal((3, 1)),
              RNG.standard_normal((1, 1))]:
        check(run('sub', [a, b], np.float64), a - b)
        check(run('sub', [b, a], np.float64), b - a)
        check(run('mul', [b, a], np.float64), b * a)
    i = np.arange(12).reshape(3, 4)
    check(run('div_floor', [i, np.int64(-5)], np.int64), i // -5)
    check(run('div_floor', [np.int64(7), i + 1], np.int64), 7 // (i + 1))


def test_zero_dim_and_empty():
    check(run('add', [np.float64(1.5), np.float64(2.0)], np.float64, (1.0,)), np.float64(3.5))
    check(run('exp', [np.float64(0.0)], np.float64), np.float64(1.0))
    check(run('lt', [np.float64(1.0), np.float64(2.0)], np.bool_), np.bool_(True))
    check(run('where', [np.bool_(False), np.float64(1.0), np.float64(2.0)], np.float64), np.float64(2.0))
    for shape in [(0,), (0, 3), (3, 0, 2)]:
        e = np.zeros(shape)
        check(run('add', [e, e], np.float64), e)
        check(run('exp', [e], np.float64), e)
        check(run('add', [e, np.float64(1.0)], np.float64), e)
    with pytest.raises(RuntimeError):   # still validated when empty
        run('exp', [np.zeros((0,), np.int64)], np.int64)


def test_size_one_dims_any_stride_and_offsets():
    buf = np.arange(20.0)
    out = np.zeros(20)
    # shape (1, 4) with a bogus stride on the size-1 dim; offsets into the buffers
    ew.binary('mul', buf, 3, (99, 1), buf, 10, (7, 2), out, 5, (4, 1), (1, 4))
    np.testing.assert_array_equal(out[5:9], buf[3:7] * buf[10:18:2])
    assert out[4] == 0 and out[9] == 0


def test_lists_accepted():
    x, o = np.arange(6.0), np.zeros(6)
    ew.binary('add', x, 0, [1, 2], x, 0, [3, 1], o, 0, [3, 1], [2, 3])
    np.testing.assert_array_equal(o, (x.reshape(3, 2).T + x.reshape(2, 3)).ravel())
    ew.unary('neg', x, 0, [1], o, 0, [1], [6])
    np.testing.assert_array_equal(o, -x)


# ----------------------------------------------------------------------------- parallel path
def test_parallel_paths():
    n = ew.PAR_MIN * 2 + ew.BLK + 3           # one long row: split into blocks plus a tail
    a = RNG.standard_normal(n).astype(np.float32)
    b = RNG.standard_normal(n).astype(np.float32)
    check(run('add', [a, b], np.float32), a + b, np.float32)
    check(run('add', [a, np.float32(0.5)], np.float32), a + np.float32(0.5), np.float32)
    m = RNG.standard_normal((3, n // 3 + 1)).astype(np.float32)     # few long rows, transposed out
    check(run('add', [m, m[:1]], np.float32, (), 'transposed'), m + m[:1], np.float32)
    check(run('exp', [a], np.float32), np.exp(a.astype(np.float64)), np.float32)
    cond = a > 0
    check(run('where', [cond, a.astype(np.float64), np.float64(0.0)], np.float64), np.where(cond, a, 0.0))
    i = np.arange(n, dtype=np.int64) - n // 2
    d = np.resize(np.array([3, -2, 5], np.int64), n)
    check(run('div_floor', [i, d], np.int64), i // d)
    d[n - 5] = 0
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        run('div_floor', [i, d], np.int64)


# ----------------------------------------------------------------------------- validation
def test_validation_errors():
    f, d, i = np.zeros(4, np.float32), np.zeros(4), np.zeros(4, np.int64)
    with pytest.raises(TypeError):
        ew.binary('add', f, 0, (1,), d, 0, (1,), d, 0, (1,), (4,))
    with pytest.raises(TypeError):
        ew.binary('lt', d, 0, (1,), d, 0, (1,), d, 0, (1,), (4,))
    with pytest.raises(RuntimeError, match='not implemented for'):
        ew.unary('exp', i, 0, (1,), i, 0, (1,), (4,))
    with pytest.raises(ValueError):
        ew.unary('nope', d, 0, (1,), d, 0, (1,), (4,))
    with pytest.raises(IndexError):
        ew.unary('neg', d, 1, (1,), d, 0, (1,), (4,))
    with pytest.raises(IndexError):
        ew.unary('neg', d, 0, (2,), d, 0, (1,), (4,))


def test_generated_file_is_up_to_date():
    with open(_gen.PATH) as fh:
        assert fh.read() == _gen.render(), "run: python -m numtorch.kernels._gen"


def test_every_op_is_tested():
    tested = (set(UNARY_F) | set(BINARY_F) | set(BACKWARD) | {'clamp', 'clamp_min', 'clamp_max',
              'nan_to_num', 'fill', 'pow_scalar', 'rpow_scalar', 'where', 'lerp', 'addcmul', 'addcdiv',
              'clamp_tensor', 'bitwise_not', 'bitwise_and', 'bitwise_or', 'bitwise_xor',
              'bitwise_left_shift', 'bitwise_right_shift', 'atan2_backward_self',
              'atan2_backward_other', 'hypot_backward'})
    # activation and special-function kernels, forward and fused backward: tests/nn/test_act_activations.py
    # (against NumPy and torch, float32/float64) and tests/test_special_functions.py
    tested |= ACT_SPECIAL_TESTED
    assert {op for op in OPS if not op.startswith('_')} <= tested


ACT_SPECIAL_TESTED = {
    'gelu', 'gelu_tanh', 'silu', 'mish', 'elu', 'leaky_relu', 'hardtanh', 'hardswish', 'hardsigmoid', 'hardshrink',
    'softshrink', 'softplus', 'logsigmoid', 'threshold', 'gelu_backward', 'gelu_tanh_backward', 'silu_backward',
    'mish_backward', 'elu_backward', 'leaky_relu_backward', 'hardtanh_backward', 'hardswish_backward',
    'hardsigmoid_backward', 'shrink_backward', 'softplus_backward', 'logsigmoid_backward', 'erfinv', 'lgamma',
    'digamma', 'polygamma', 'i0', 'i0e', 'i1', 'i1e', 'sinc', 'deg2rad', 'rad2deg', 'logit', 'erfcx', 'ndtr',
    'ndtri', 'log_ndtr', 'entr', 'frexp_mantissa', 'frexp_exponent', 'xlog1py', 'heaviside', 'nextafter',
    'logaddexp', 'logaddexp2', 'gcd', 'lcm', 'ldexp', 'zeta'}


# ----------------------------------------------------------------------------- torch semantics
def test_against_torch():
    torch = pytest.importorskip("torch")
    a, b = pairs()
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    for op, tf in [('div_floor', lambda x, y: torch.div(x, y, rounding_mode='floor')),
                   ('div_trunc', lambda x, y: torch.div(x, y, rounding_mode='trunc')),
                   ('remainder', torch.remainder), ('fmod', torch.fmod), ('maximum', torch.maximum),
                   ('fmin', torch.fmin), ('xlogy', torch.xlogy), ('copysign', torch.copysign),
                   ('pow', torch.pow), ('atan2', torch.atan2)]:
        check(run(op, [a, b], np.float64), tf(ta, tb).numpy())
    x = fvals(-12, 12)
    tx = torch.from_numpy(x)
    for op, p, tf in [('sign', (), torch.sign), ('relu', (), torch.relu), ('frac', (), torch.frac),
                      ('round', (2,), lambda t: torch.round(t, decimals=2)),
                      ('round', (-1,), lambda t: torch.round(t, decimals=-1)),
                      ('clamp', (NAN, 1.0), lambda t: torch.clamp(t, NAN, 1.0)),
                      ('clamp', (1.0, -1.0), lambda t: torch.clamp(t, 1.0, -1.0)),
                      ('nan_to_num', (0.0, 5.0, -5.0), lambda t: torch.nan_to_num(t, 0.0, 5.0, -5.0)),
                      ('pow_scalar', (0.5,), lambda t: t ** 0.5), ('pow_scalar', (-0.5,), lambda t: t ** -0.5),
                      ('pow_scalar', (3,), lambda t: t ** 3), ('pow_scalar', (0,), lambda t: t ** 0)]:
        check(run(op, [x], np.float64, p), tf(tx).numpy())
    c = np.resize(np.array([0.25, 0.7, -0.3, 1.0, NAN]), a.shape)
    check(run('lerp', [a, b, c], np.float64), torch.lerp(ta, tb, torch.from_numpy(c)).numpy())
    v = ivals()
    i, j = np.repeat(v, len(v)), np.tile(v, len(v))
    keep = (j != 0) & (i != I64.min)
    i, j = i[keep], j[keep]
    ti, tj = torch.from_numpy(i), torch.from_numpy(j)
    for op, tf in [('div_floor', lambda x, y: torch.div(x, y, rounding_mode='floor')),
                   ('div_trunc', lambda x, y: torch.div(x, y, rounding_mode='trunc')),
                   ('remainder', torch.remainder), ('fmod', torch.fmod)]:
        check(run(op, [i, j], np.int64), tf(ti, tj).numpy())
    s = j % 80 - 8
    ts = torch.from_numpy(s)
    check(run('bitwise_left_shift', [i, s], np.int64), torch.bitwise_left_shift(ti, ts).numpy())
    check(run('bitwise_right_shift', [i, s], np.int64), torch.bitwise_right_shift(ti, ts).numpy())
    e = np.abs(j) % 70 * np.sign(j)
    check(run('pow', [i, e], np.int64), torch.pow(ti, torch.from_numpy(e)).numpy())

