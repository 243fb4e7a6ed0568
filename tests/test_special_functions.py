"""Special functions (torch.special and the torch-level ones): values against hand/NumPy/math references (so the
tests mean something without torch) and against PyTorch when importable; dtypes, domains (NaN/inf), errors,
grad_fn names, float64 finite-difference gradients, in-place methods, CUDA parity under the simulator."""
import math

import numpy as np
import pytest

import numtorch as nt
from _fd import check_grad
from _twin import twin, twin_raises

EULER = 0.5772156649015329
SPECIALS = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 1e-10, 30.0, -30.0]
RNG = np.random.default_rng(0)
X = np.concatenate([RNG.uniform(-6, 6, 24), SPECIALS])
NOPOLE = X[(np.abs(X) < 20) & ((X > 0) | (X != np.round(X)))]     # float32 trigamma is noise at the poles
P = np.concatenate([RNG.uniform(0, 1, 24), [0.0, 1.0, 1e-20, 1 - 1e-10, -0.1, 1.1, np.nan]])

# name -> (call(T, x), input values, float32 rtol vs torch); float64 is compared at 1e-12
UNARY = {
    "erfinv": (lambda T, x: T.erfinv(x), np.concatenate([RNG.uniform(-1, 1, 24), [1, -1, 0, 2, np.nan, 1 - 1e-12]]),
               1e-5),
    "lgamma": (lambda T, x: T.lgamma(x), X, 1e-5),
    "digamma": (lambda T, x: T.digamma(x), X, 1e-4),
    "polygamma1": (lambda T, x: T.polygamma(1, x), NOPOLE, 1e-4),
    "polygamma3": (lambda T, x: T.polygamma(3, x), NOPOLE, 1e-4),
    "i0": (lambda T, x: T.i0(x), X, 1e-5),
    "i0e": (lambda T, x: T.special.i0e(x), X, 1e-5),
    "i1": (lambda T, x: T.special.i1(x), X, 1e-5),
    "i1e": (lambda T, x: T.special.i1e(x), X, 1e-5),
    "sinc": (lambda T, x: T.sinc(x), X, 1e-5),
    "deg2rad": (lambda T, x: T.deg2rad(x), X, 1e-6),
    "rad2deg": (lambda T, x: T.rad2deg(x), X, 1e-6),
    "logit": (lambda T, x: T.logit(x), P, 1e-5),
    "logit_eps": (lambda T, x: T.special.logit(x, eps=1e-3), P, 1e-5),
    "erfcx": (lambda T, x: T.special.erfcx(x), X, 1e-4),
    "ndtr": (lambda T, x: T.special.ndtr(x), X, 1e-5),
    "ndtri": (lambda T, x: T.special.ndtri(x), P, 1e-5),
    "log_ndtr": (lambda T, x: T.special.log_ndtr(x), X, 1e-4),
    "entr": (lambda T, x: T.special.entr(x), X, 1e-5),
    "expit": (lambda T, x: T.special.expit(x), X, 1e-6),
    "gammaln": (lambda T, x: T.special.gammaln(x), X, 1e-5),
    "psi": (lambda T, x: T.special.psi(x), X[X > 0], 1e-5),
    "multigammaln": (lambda T, x: T.special.multigammaln(x, 3), np.abs(X[np.isfinite(X)]) + 1.2, 1e-5),
}


def _like(T, arr, dtype):
    return T.tensor(np.asarray(arr, dtype))


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_against_torch(name):
    call, x, rtol32 = UNARY[name]
    twin(lambda T: call(T, _like(T, x, np.float64)), rtol=1e-12, atol=1e-300)
    twin(lambda T: call(T, _like(T, x, np.float32)), rtol=rtol32, atol=1e-30)
    m = np.resize(x, (3, 4))

    def layouts(T):
        t = T.tensor(m)
        return call(T, t.t()), call(T, t[:, ::2]), call(T, t[1, 2]), call(T, t[:0])
    twin(layouts, rtol=1e-12, atol=1e-300)


def test_hand_values_and_identities():
    v = lambda f, *a: f(*[nt.tensor(np.asarray(x, np.float64)) for x in a]).numpy()  # noqa: E731
    xs = np.array([0.3, 1.0, 2.5, 7.2, 12.5, -0.4, -3.7])
    np.testing.assert_allclose(v(nt.lgamma, xs), [math.lgamma(t) for t in xs], rtol=1e-14)
    assert np.isinf(v(nt.lgamma, [0.0, -1.0, -2.0])).all()
    dg = v(nt.digamma, [1.0, 0.5, 10.0])
    np.testing.assert_allclose(dg[:2], [-EULER, -EULER - 2 * math.log(2)], rtol=1e-14)
    np.testing.assert_allclose(v(nt.digamma, xs + 1) - v(nt.digamma, xs), 1 / xs, rtol=1e-12)
    assert v(nt.digamma, [0.0])[0] == -np.inf and v(nt.digamma, [-0.0])[0] == np.inf
    assert np.isnan(v(nt.digamma, [-2.0, -np.inf])).all()
    p = lambda n, x: nt.polygamma(n, nt.tensor(np.asarray(x, np.float64))).numpy()  # noqa: E731
    # PyTorch's trigamma (asymptotic series after 6 steps) is good to ~5e-10
    np.testing.assert_allclose(p(1, [1.0, 0.5]), [math.pi ** 2 / 6, math.pi ** 2 / 2], rtol=1e-9)
    np.testing.assert_allclose(p(2, [1.0]), [-2.4041138063191885], rtol=1e-13)
    np.testing.assert_allclose(p(0, xs), v(nt.digamma, xs), rtol=1e-15)
    zeta = nt.special.zeta(nt.tensor([2.0, 4.0, 3.0], dtype=nt.float64), nt.tensor([1.0, 1.0, 2.0])).numpy()
    np.testing.assert_allclose(zeta, [math.pi ** 2 / 6, math.pi ** 4 / 90, 1.2020569031595942 - 1], rtol=1e-14)
    y = np.linspace(-0.999, 0.999, 41)
    np.testing.assert_allclose([math.erf(t) for t in v(nt.erfinv, y)], y, rtol=1e-14, atol=1e-16)
    assert v(nt.erfinv, [1.0, -1.0]).tolist() == [np.inf, -np.inf]
    np.testing.assert_allclose(v(nt.i0, xs), np.i0(xs), rtol=1e-14)
    np.testing.assert_allclose(v(nt.special.i0e, xs), np.i0(xs) * np.exp(-np.abs(xs)), rtol=1e-14)
    i1 = [sum((t / 2) ** (2 * k + 1) / (math.factorial(k) * math.factorial(k + 1)) for k in range(40)) for t in xs]
    np.testing.assert_allclose(v(nt.special.i1, xs), i1, rtol=1e-13)
    np.testing.assert_allclose(v(nt.special.i1e, xs), np.array(i1) * np.exp(-np.abs(xs)), rtol=1e-13)
    np.testing.assert_allclose(v(nt.sinc, xs), np.sinc(xs), rtol=1e-14)
    assert v(nt.sinc, [0.0])[0] == 1.0
    z = np.linspace(-5, 5, 21)
    np.testing.assert_allclose(v(nt.special.ndtri, v(nt.special.ndtr, z)), z, rtol=1e-10, atol=1e-12)
    ndtr = np.array([0.5 * math.erfc(-t / math.sqrt(2)) for t in z])
    np.testing.assert_allclose(v(nt.special.ndtr, z), ndtr, rtol=1e-10)      # (1 + erf) / 2, as PyTorch
    lndtr = [math.log1p(-0.5 * math.erfc(t / math.sqrt(2))) if t > -1 else math.log(0.5 * math.erfc(-t / math.sqrt(2)))
             for t in z]
    np.testing.assert_allclose(v(nt.special.log_ndtr, z), lndtr, rtol=1e-13)
    np.testing.assert_allclose(v(nt.special.log_ndtr, [-40.0]), [-804.6084420137538], rtol=1e-13)
    erfcx = [math.exp(t * t) * math.erfc(t) for t in z]
    np.testing.assert_allclose(v(nt.special.erfcx, z), erfcx, rtol=1e-13)
    np.testing.assert_allclose(v(nt.special.erfcx, [1e10, 30.0]), [1 / (1e10 * math.sqrt(math.pi)),
                                                                  0.018795888861416751], rtol=1e-14)
    np.testing.assert_allclose(v(nt.special.entr, [0.5, 0.0, -1.0, 2.0]), [0.5 * math.log(2), 0, -np.inf,
                                                                         -2 * math.log(2)])
    np.testing.assert_allclose(v(nt.logit, [0.25, 0.5]), [math.log(1 / 3), 0.0], rtol=1e-15)
    np.testing.assert_allclose(v(nt.deg2rad, [180.0, 90.0]), [math.pi, math.pi / 2], rtol=1e-15)
    np.testing.assert_allclose(nt.mvlgamma(nt.tensor([2.5], dtype=nt.float64), 2).numpy(),
                               [math.lgamma(2.5) + math.lgamma(2.0) + 0.5 * math.log(math.pi)], rtol=1e-14)


def test_binary_values():
    a = np.repeat(np.array(SPECIALS + [2.0, -3.0]), 14)
    b = np.tile(np.array(SPECIALS + [2.0, -3.0]), 14)
    ta, tb = nt.tensor(a), nt.tensor(b)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(nt.nextafter(ta, tb).numpy(), np.nextafter(a, b))
        np.testing.assert_allclose(nt.logaddexp(ta, tb).numpy(), np.logaddexp(a, b), rtol=1e-15)
        np.testing.assert_allclose(nt.logaddexp2(ta, tb).numpy(), np.logaddexp2(a, b), rtol=1e-15, atol=1e-16)
        xl = np.where(np.isnan(b), np.nan, np.where(a == 0, 0.0, a * np.log(b)))
        np.testing.assert_allclose(nt.xlogy(ta, tb).numpy(), xl, rtol=1e-15)
        x1 = np.where(np.isnan(b), np.nan, np.where(a == 0, 0.0, a * np.log1p(b)))
        np.testing.assert_allclose(nt.special.xlog1py(ta, tb).numpy(), x1, rtol=1e-15)
        hv = np.where(a == 0, b, (a > 0).astype(float))
        np.testing.assert_array_equal(nt.heaviside(ta, tb).numpy(), hv)
    e = np.array([-3, 0, 2, 10])
    np.testing.assert_array_equal(nt.ldexp(nt.tensor([1.5, 2.0, -3.0, 0.25]), nt.tensor(e)).numpy(),
                                  np.ldexp([1.5, 2.0, -3.0, 0.25], e))
    i, j = RNG.integers(-40, 40, 50), RNG.integers(-40, 40, 50)
    np.testing.assert_array_equal(nt.gcd(nt.tensor(i), nt.tensor(j)).numpy(), np.gcd(i, j))
    np.testing.assert_array_equal(nt.lcm(nt.tensor(i), nt.tensor(j)).numpy(), np.lcm(i, j))
    m, ex = nt.frexp(nt.tensor(X))
    nm, ne = np.frexp(X)
    np.testing.assert_array_equal(m.numpy(), nm)
    assert ex.dtype is nt.int32 and (ex.numpy()[np.isfinite(X)] == ne[np.isfinite(X)]).all()

    def case(T):
        s = np.array(SPECIALS + [2.0, -3.0])
        u, w = T.tensor(np.repeat(s, 14)), T.tensor(np.tile(s, 14))
        return (T.xlogy(u, w), T.special.xlog1py(u, w), T.logaddexp(u, w), T.heaviside(u, w), T.nextafter(u, w),
                T.xlogy(2.0, w), T.special.xlog1py(u, 3.0), T.special.zeta(T.tensor([2.0, 3.5, 1.0, 0.5]),
                                                                          T.tensor([1.0, -1.5, 1.0, 2.0])),
                T.frexp(u), T.gcd(T.tensor([0, -4, 6]), T.tensor([0, 6, -4])), T.lcm(T.tensor([0, -4, 6]),
                                                                                     T.tensor([0, 6, -4])))
    twin(case, rtol=1e-14, atol=1e-300)


def test_dtypes_and_errors():
    def case(T):
        i = T.tensor([1, 2, 3])
        return (T.lgamma(i), T.erfinv(i * 0), T.logit(i, 0.1), T.special.i1(i), T.special.entr(i),
                T.special.multigammaln(T.tensor([3.0]), 2), T.polygamma(1, i), T.positive(i),
                T.float_power(i, 2), T.special.erfcx(i), T.special.ndtri(i * 0))
    twin(case)
    twin_raises(lambda T: T.polygamma(-1, T.ones(2)), RuntimeError, "polygamma(n, x) does not support negative n.")
    twin_raises(lambda T: T.mvlgamma(T.ones(2), 0), RuntimeError, "p has to be greater than or equal to 1")
    twin_raises(lambda T: T.frexp(T.tensor([1])), RuntimeError, "torch.frexp() only supports floating-point dtypes")
    twin_raises(lambda T: T.heaviside(T.ones(1), T.ones(1, dtype=T.int64)), RuntimeError,
                "heaviside is not yet implemented for tensors with different dtypes.")
    twin_raises(lambda T: T.positive(T.tensor([True])), RuntimeError,
                "The `+` operator, on a bool tensor is not supported.")
    twin_raises(lambda T: T.gcd(T.ones(2), T.ones(2)), NotImplementedError, "\"gcd_cpu\" not implemented for 'Float'")
    twin_raises(lambda T: T.logaddexp(T.ones(2, dtype=T.int64), T.ones(2, dtype=T.int64)), NotImplementedError,
                "\"logaddexp_cpu\" not implemented for 'Long'")
    twin_raises(lambda T: T.ones(2).float_power_(2), RuntimeError,
                "the base given to float_power_ has dtype Float but the operation's result requires dtype Double")
    twin_raises(lambda T: T.tensor([1, 2]).lgamma_(), RuntimeError,
                "result type Float can't be cast to the desired output type Long")


GRADS = {  # name -> (function of float64 tensors, inputs), checked by finite differences and against torch
    "erfinv": (lambda T, x: T.erfinv(x), [[-0.8, -0.3, 0.1, 0.6]]),
    "lgamma": (lambda T, x: T.lgamma(x), [[0.3, 1.7, 4.2, -0.6]]),
    "digamma": (lambda T, x: T.digamma(x), [[0.3, 1.7, 4.2, -0.6]]),
    "polygamma": (lambda T, x: T.polygamma(2, x), [[0.3, 1.7, 4.2, -0.6]]),
    "mvlgamma": (lambda T, x: T.mvlgamma(x, 3), [[1.3, 1.7, 4.2, 2.6]]),
    "i0": (lambda T, x: T.i0(x), [[-2.3, -0.4, 0.7, 9.1]]),
    "i0e": (lambda T, x: T.special.i0e(x), [[-2.3, -0.4, 0.7, 9.1]]),
    "i1": (lambda T, x: T.special.i1(x), [[-2.3, -0.4, 0.7, 9.1]]),
    "i1e": (lambda T, x: T.special.i1e(x), [[-2.3, -0.4, 0.7, 9.1]]),
    "sinc": (lambda T, x: T.sinc(x), [[-2.3, -0.4, 0.7, 1.6]]),
    "deg2rad": (lambda T, x: T.deg2rad(x), [[-2.3, -0.4, 0.7, 1.6]]),
    "rad2deg": (lambda T, x: T.rad2deg(x), [[-2.3, -0.4, 0.7, 1.6]]),
    "logit": (lambda T, x: T.logit(x), [[0.2, 0.45, 0.7, 0.9]]),
    "logit_eps": (lambda T, x: T.logit(x, 0.25), [[0.2, 0.45, 0.7, 0.9]]),
    "erfcx": (lambda T, x: T.special.erfcx(x), [[-2.3, -0.4, 0.7, 30.0]]),
    "ndtr": (lambda T, x: T.special.ndtr(x), [[-2.3, -0.4, 0.7, 1.6]]),
    "ndtri": (lambda T, x: T.special.ndtri(x), [[0.05, 0.3, 0.7, 0.99]]),
    "log_ndtr": (lambda T, x: T.special.log_ndtr(x), [[-12.0, -0.4, 0.7, 1.6]]),
    "entr": (lambda T, x: T.special.entr(x), [[0.05, 0.3, 0.7, 2.5]]),
    "xlogy": (lambda T, x, y: T.xlogy(x, y), [[-2.3, 0.4, 0.7, 1.6], [0.3, 1.2, 2.5, 0.9]]),
    "xlog1py": (lambda T, x, y: T.special.xlog1py(x, y), [[-2.3, 0.4, 0.7, 1.6], [0.3, 1.2, 2.5, -0.5]]),
    "logaddexp": (lambda T, x, y: T.logaddexp(x, y), [[-2.3, 0.4, 0.7, 1.6], [0.3, 1.2, 2.5, -0.5]]),
    "logaddexp2": (lambda T, x, y: T.logaddexp2(x, y), [[-2.3, 0.4, 0.7, 1.6], [0.3, 1.2, 2.5, -0.5]]),
    "ldexp": (lambda T, x, y: T.ldexp(x, y), [[-2.3, 0.4, 0.7, 1.6], [0.3, 1.2, 2.5, -0.5]]),
    "zeta": (lambda T, y: T.special.zeta(T.tensor([2.3, 3.4, 1.7, 5.6], dtype=T.float64), y), [[0.3, 1.2, 2.5, 4.5]]),
    "frexp": (lambda T, x: T.frexp(x)[0], [[-2.3, 0.4, 0.7, 1.6]]),
}


@pytest.mark.parametrize("name", sorted(GRADS))
def test_gradients(name):
    fn, vals = GRADS[name]
    check_grad(lambda *xs: fn(nt, *xs), *[nt.tensor(v, dtype=nt.float64, requires_grad=True) for v in vals])

    def case(T):
        xs = [T.tensor(v, dtype=T.float64, requires_grad=True) for v in vals]
        y = fn(T, *xs)
        gs = T.autograd.grad(y.sum(), xs, allow_unused=True)
        return (y,) + tuple(g for g in gs if g is not None)
    twin(case, rtol=1e-10, atol=1e-12)


def test_double_backward():
    def case(T):
        x = T.tensor([0.3, 1.7, 4.2], dtype=T.float64, requires_grad=True)
        (g,) = T.autograd.grad((T.lgamma(x) + T.special.i0e(x) + T.erfinv(x / 5)).sum(), x, create_graph=True)
        (gg,) = T.autograd.grad(g.sum(), x)
        return g, gg
    twin(case, rtol=1e-10, grad_fn=False)


def test_inplace_methods():
    def case(T):
        x = T.tensor([0.2, 0.45, 0.7], dtype=T.float64)
        a, b, c, d, e = x.clone(), x.clone(), x.clone(), x.clone(), x.clone()
        a.erfinv_(), b.lgamma_(), c.logit_(0.3), d.polygamma_(1), e.xlogy_(x + 1)
        f = x.clone().float_power_(2)
        return a, b, c, d, e, f, x.polygamma(2), x.mvlgamma(1), x.logit(0.3), x.clone().digamma_(), \
            x.clone().i0_(), x.clone().sinc_(), x.clone().deg2rad_(), x.clone().ldexp_(T.tensor([1.0, 2.0, 3.0]))
    twin(case, rtol=1e-13)
    y = nt.tensor([0.2, 0.7], requires_grad=True) * 1
    y.erfinv_()
    assert y.grad_fn.name() == "ErfinvBackward0" and y._version == 1


SPECIAL_ONLY = {  # kernels not in the op-table's generic rows (those get CUDA parity in tests/cuda)
    "i0e": lambda x: nt.special.i0e(x), "i1": lambda x: nt.special.i1(x), "i1e": lambda x: nt.special.i1e(x),
    "erfcx": lambda x: nt.special.erfcx(x), "ndtr": lambda x: nt.special.ndtr(x),
    "ndtri": lambda x: nt.special.ndtri(x.sigmoid()), "log_ndtr": lambda x: nt.special.log_ndtr(x),
    "entr": lambda x: nt.special.entr(x), "logit": lambda x: nt.logit(x.sigmoid(), 0.2),
    "polygamma": lambda x: nt.polygamma(2, x), "xlog1py": lambda x: nt.special.xlog1py(x, x.exp()),
    "xlogy": lambda x: nt.xlogy(x, x.exp()), "zeta": lambda x: nt.special.zeta(x.detach() + 3, x.exp()),
    "frexp": lambda x: nt.frexp(x)[0] * nt.frexp(x)[1], "erfinv": lambda x: nt.erfinv(x.tanh()),
}


@pytest.mark.parametrize("device", ["cuda"], indirect=True)
def test_cuda_parity(device):
    arr = np.array([[-2.3, -0.45, 0.0], [0.35, 0.9, 2.2]])
    for name, f in SPECIAL_ONLY.items():
        res = []
        for dev in ("cpu", "cuda"):
            x = nt.tensor(arr, device=dev, requires_grad=True)
            y = f(x)
            y.backward(nt.ones_like(y))
            res.append((y, x.grad))
        assert res[1][0].device.type == "cuda"
        for c, g in zip(*res):
            np.testing.assert_allclose(g.detach().cpu().numpy(), c.detach().numpy(), rtol=1e-12, atol=1e-14,
                                       err_msg=name)
