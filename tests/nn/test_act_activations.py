"""Activations (modules and nn.functional), from one table: values against NumPy and PyTorch on several
layouts, grad_fn names, float64 finite-difference gradients of the fused backward kernels, double backward
through the composite formulas, in-place variants, reprs and errors, CUDA parity under the simulator."""
import math
import warnings

import numpy as np
import pytest

import numtorch as nt
import numtorch.nn as nn
import numtorch.nn.functional as F
from _fd import check_grad
from _twin import twin, twin_raises

_erf = np.vectorize(math.erf, otypes=[float])


def _sig(x):
    return 1 / (1 + np.exp(-x))


def _sp(x):
    return np.log1p(np.exp(x))


SELU_A, SELU_S = 1.6732632423543772, 1.0507009873554805
# name -> (call(F, x), NumPy reference(x), in-place call or None)
ACTS = {
    "gelu": (lambda F, x: F.gelu(x), lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))), None),
    "gelu_tanh": (lambda F, x: F.gelu(x, approximate="tanh"),
                  lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))), None),
    "silu": (lambda F, x: F.silu(x), lambda x: x * _sig(x), lambda F, x: F.silu(x, inplace=True)),
    "mish": (lambda F, x: F.mish(x), lambda x: x * np.tanh(_sp(x)), lambda F, x: F.mish(x, inplace=True)),
    "elu": (lambda F, x: F.elu(x, 0.7), lambda x: np.where(x > 0, x, 0.7 * np.expm1(x)),
            lambda F, x: F.elu_(x, 0.7)),
    "celu": (lambda F, x: F.celu(x, 1.5), lambda x: np.where(x > 0, x, 1.5 * np.expm1(x / 1.5)),
             lambda F, x: F.celu(x, 1.5, inplace=True)),
    "selu": (lambda F, x: F.selu(x), lambda x: SELU_S * np.where(x > 0, x, SELU_A * np.expm1(x)),
             lambda F, x: F.selu(x, inplace=True)),
    "leaky_relu": (lambda F, x: F.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x),
                   lambda F, x: F.leaky_relu_(x, 0.2)),
    "hardtanh": (lambda F, x: F.hardtanh(x, -1.5, 0.8), lambda x: np.clip(x, -1.5, 0.8),
                 lambda F, x: F.hardtanh_(x, -1.5, 0.8)),
    "relu6": (lambda F, x: F.relu6(x * 4), lambda x: np.clip(x * 4, 0, 6), None),
    "hardswish": (lambda F, x: F.hardswish(x * 2), lambda x: 2 * x * np.clip(2 * x + 3, 0, 6) / 6,
                  lambda F, x: F.hardswish(x, inplace=True)),
    "hardsigmoid": (lambda F, x: F.hardsigmoid(x * 2), lambda x: np.clip(2 * x + 3, 0, 6) / 6,
                    lambda F, x: F.hardsigmoid(x, inplace=True)),
    "hardshrink": (lambda F, x: F.hardshrink(x, 0.6), lambda x: np.where(np.abs(x) <= 0.6, 0, x), None),
    "softshrink": (lambda F, x: F.softshrink(x, 0.6),
                   lambda x: np.where(x > 0.6, x - 0.6, np.where(x < -0.6, x + 0.6, 0)), None),
    "softplus": (lambda F, x: F.softplus(x, 2.0, 3.0), lambda x: np.where(2 * x > 3, x, _sp(2 * x) / 2), None),
    "logsigmoid": (lambda F, x: F.logsigmoid(x), lambda x: -_sp(-x), None),
    "threshold": (lambda F, x: F.threshold(x, 0.3, -2.0), lambda x: np.where(x <= 0.3, -2.0, x),
                  lambda F, x: F.threshold_(x, 0.3, -2.0)),
    "relu": (lambda F, x: F.relu(x), lambda x: np.maximum(x, 0), lambda F, x: F.relu_(x)),
    "softsign": (lambda F, x: F.softsign(x), lambda x: x / (1 + np.abs(x)), None),
    "tanhshrink": (lambda F, x: F.tanhshrink(x), lambda x: x - np.tanh(x), None),
    "rrelu_eval": (lambda F, x: F.rrelu(x, 0.1, 0.3), lambda x: np.where(x >= 0, x, 0.2 * x),
                   lambda F, x: F.rrelu_(x, 0.1, 0.3)),
    "glu": (lambda F, x: F.glu(x, 0), lambda x: x[:len(x) // 2] * _sig(x[len(x) // 2:]), None),
}
NAMES = sorted(ACTS)
SPECIALS = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-4, -1e-4, 30.0, -30.0, 100.0, -100.0])


def _grid(dtype=np.float32):
    return np.linspace(-3.1, 2.9, 24).reshape(4, 6).astype(dtype)


def _ref(name, x):
    with np.errstate(all="ignore"):
        return ACTS[name][1](np.asarray(x, np.float64))


@pytest.mark.parametrize("name", NAMES)
def test_values_layouts_and_grad_fn(name):
    call = ACTS[name][0]
    arr = _grid()

    def case(T):
        x = T.tensor(arr, requires_grad=True)
        return [call(T.nn.functional, x), call(T.nn.functional, x.t()), call(T.nn.functional, x[1:3, ::2]),
                call(T.nn.functional, x[:0])]
    out = twin(case)
    refs = [arr, arr.T, arr[1:3, ::2], arr[:0]]
    for got, r in zip(out, refs):
        np.testing.assert_allclose(got.detach().numpy(), _ref(name, r), rtol=2e-6, atol=2e-6)
    if name != "glu":
        def zero_d(T):
            return call(T.nn.functional, T.tensor(arr[1, 2], dtype=T.float64))
        np.testing.assert_allclose(twin(zero_d).numpy(), _ref(name, arr[1, 2]), rtol=1e-12)


@pytest.mark.parametrize("name", [n for n in NAMES if n != "glu"])
def test_special_values_float64(name):
    call = ACTS[name][0]
    # tanhshrink cancels at 1e-4: x - tanh(x) keeps tanh's last-bit differences (absolute 1e-20)
    got = twin(lambda T: call(T.nn.functional, T.tensor(SPECIALS, dtype=T.float64)), rtol=1e-12, atol=1e-18)
    ref = _ref(name, SPECIALS)
    finite = np.isfinite(SPECIALS)
    np.testing.assert_allclose(got.numpy()[finite], ref[finite], rtol=1e-12, atol=1e-18)


@pytest.mark.parametrize("name", [n for n in NAMES if n != "glu"])
def test_special_values_float32_against_torch(name):
    # torch's float32 gelu(+-inf) is nan (its vectorised erf): numtorch gives the limit, as float64 does.
    x = SPECIALS[1:] if name == "gelu" else SPECIALS
    x = x[2:] if name == "gelu" else x
    twin(lambda T: ACTS[name][0](T.nn.functional, T.tensor(x.astype(np.float32))), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", NAMES)
def test_gradient_float64(name):
    call = ACTS[name][0]
    arr = np.array([-2.3, -1.1, -0.45, 0.35, 0.9, 2.2])     # away from the kinks of every row
    x = nt.tensor(arr, dtype=nt.float64, requires_grad=True)
    check_grad(lambda t: call(F, t), x)

    def case(T):
        t = T.tensor(arr, dtype=T.float64, requires_grad=True)
        y = call(T.nn.functional, t)
        (g,) = T.autograd.grad(y.sum(), t)
        return g
    twin(case, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "silu", "mish", "elu", "softplus", "logsigmoid", "selu",
                                  "hardswish", "leaky_relu"])
def test_double_backward(name):
    call = ACTS[name][0]
    arr = np.array([-2.3, -1.1, -0.45, 0.35, 0.9, 2.2])

    def case(T):
        t = T.tensor(arr, dtype=T.float64, requires_grad=True)
        (g,) = T.autograd.grad(call(T.nn.functional, t).pow(2).sum(), t, create_graph=True)
        (gg,) = T.autograd.grad(g.sum(), t)
        return g, gg
    twin(case, rtol=1e-9, atol=1e-12, grad_fn=False)   # torch names these nodes <Op>BackwardBackward0


@pytest.mark.parametrize("name", [n for n in NAMES if ACTS[n][2] is not None])
def test_inplace(name):
    call, ref, icall = ACTS[name]
    arr = _grid(np.float64)

    def case(T):
        x = T.tensor(arr, requires_grad=True)
        y = x * 1
        v = y._version
        r = icall(T.nn.functional, y)
        assert r is y and y._version > v
        y.sum().backward()
        return y, x.grad
    y, g = twin(case, rtol=1e-12, atol=1e-12)
    if name not in ("hardswish", "hardsigmoid"):
        np.testing.assert_allclose(y.detach().numpy(), _ref(name, arr), rtol=1e-12)


def test_inplace_on_leaf_raises_and_view_history():
    twin_raises(lambda T: T.nn.functional.elu_(T.ones(3, requires_grad=True)), RuntimeError,
                "a leaf Variable that requires grad is being used in an in-place operation.")

    def case(T):
        x = T.tensor(_grid(np.float64), requires_grad=True)
        y = x * 2
        T.nn.functional.leaky_relu_(y[1], 0.1)
        y.sum().backward()
        return y, x.grad
    twin(case)


REPRS = [
    (lambda nn: nn.ReLU(), "ReLU()"), (lambda nn: nn.ReLU(True), "ReLU(inplace=True)"),
    (lambda nn: nn.ReLU6(True), "ReLU6(inplace=True)"), (lambda nn: nn.LeakyReLU(), "LeakyReLU(negative_slope=0.01)"),
    (lambda nn: nn.LeakyReLU(0.2, True), "LeakyReLU(negative_slope=0.2, inplace=True)"),
    (lambda nn: nn.PReLU(3), "PReLU(num_parameters=3)"),
    (lambda nn: nn.RReLU(), "RReLU(lower=0.125, upper=0.3333333333333333)"),
    (lambda nn: nn.ELU(0.5, True), "ELU(alpha=0.5, inplace=True)"), (lambda nn: nn.CELU(), "CELU(alpha=1.0)"),
    (lambda nn: nn.SELU(), "SELU()"), (lambda nn: nn.GELU("tanh"), "GELU(approximate='tanh')"),
    (lambda nn: nn.SiLU(True), "SiLU(inplace=True)"), (lambda nn: nn.Mish(), "Mish()"),
    (lambda nn: nn.Hardtanh(-2, 2, True), "Hardtanh(min_val=-2, max_val=2, inplace=True)"),
    (lambda nn: nn.Hardswish(True), "Hardswish()"), (lambda nn: nn.Hardshrink(), "Hardshrink(0.5)"),
    (lambda nn: nn.Softshrink(0.3), "Softshrink(0.3)"),
    (lambda nn: nn.Softplus(2, 10), "Softplus(beta=2, threshold=10)"),
    (lambda nn: nn.Threshold(0.1, 20, True), "Threshold(threshold=0.1, value=20, inplace=True)"),
    (lambda nn: nn.GLU(), "GLU(dim=-1)"), (lambda nn: nn.Softmax(), "Softmax(dim=None)"),
    (lambda nn: nn.Softmin(dim=0), "Softmin(dim=0)"), (lambda nn: nn.LogSoftmax(dim=-1), "LogSoftmax(dim=-1)"),
    (lambda nn: nn.Softmax2d(), "Softmax2d()"), (lambda nn: nn.Sigmoid(), "Sigmoid()"),
    (lambda nn: nn.Tanhshrink(), "Tanhshrink()"), (lambda nn: nn.LogSigmoid(), "LogSigmoid()"),
    (lambda nn: nn.Sequential(nn.Linear(2, 3), nn.GELU(), nn.Dropout(0.1)) if hasattr(nn, "Sequential") and
     hasattr(nn, "Dropout") else nn.Tanh(), None),
]


@pytest.mark.parametrize("make,text", REPRS)
def test_module_repr(make, text):
    if text is not None:
        assert repr(make(nn)) == text
    twin(lambda T: repr(make(T.nn)))


def test_modules_match_functional_and_state():
    arr = _grid(np.float64)       # float64: reuses the gradient tests' kernels (cold compiles cost CI time)

    def case(T):
        x = T.tensor(arr, requires_grad=True)
        p = T.nn.PReLU(6, init=0.1, dtype=T.float64)
        q = T.nn.PReLU(dtype=T.float64)
        outs = [m(x) for m in (T.nn.ReLU(), T.nn.ReLU6(), T.nn.ELU(), T.nn.CELU(0.5), T.nn.SELU(), T.nn.GELU(),
                               T.nn.SiLU(), T.nn.Mish(), T.nn.Hardtanh(), T.nn.Hardswish(), T.nn.Hardsigmoid(),
                               T.nn.Hardshrink(), T.nn.Softshrink(), T.nn.Softplus(), T.nn.Softsign(),
                               T.nn.LogSigmoid(), T.nn.Tanhshrink(), T.nn.Threshold(0.1, 2.0), T.nn.GLU(),
                               T.nn.LeakyReLU(), p, q, T.nn.Sigmoid(), T.nn.Tanh())]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outs += [T.nn.Softmax(1)(x), T.nn.Softmin(0)(x), T.nn.LogSoftmax(-1)(x), T.nn.Softmax2d()(x[None])]
        sum(o.sum() for o in outs).backward()
        return outs, x.grad, p.weight.grad, q.weight.grad, list(p.state_dict().keys()), p.weight.shape
    twin(case, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "silu", "softplus"])
def test_float32_fused_backward(name):
    """The float32 backward kernels (vectorised exp/erf/tanh polynomials) against torch and float64."""
    arr = np.concatenate([np.linspace(-6, 6, 37), [0.0, 30.0, -30.0]]).astype(np.float32)

    def case(T):
        x = T.tensor(arr, requires_grad=True)
        (g,) = T.autograd.grad(ACTS[name][0](T.nn.functional, x), x, T.ones_like(x))
        return g
    g = twin(case, rtol=1e-5, atol=1e-6)       # torch's float32 tanh saturates early (gelu_tanh tail: 0)
    x64 = nt.tensor(arr.astype(np.float64), requires_grad=True)
    (g64,) = nt.autograd.grad(ACTS[name][0](F, x64), x64, nt.ones_like(x64))
    np.testing.assert_allclose(g.numpy(), g64.numpy(), rtol=1e-5, atol=1e-6)


def test_prelu_channels_and_rrelu_training():
    rng = np.random.default_rng(0)
    arr = rng.standard_normal((2, 3, 4))
    w = np.array([0.1, 0.2, 0.3])

    def case(T):
        x = T.tensor(arr, requires_grad=True)
        wt = T.tensor(w, requires_grad=True)
        y = T.nn.functional.prelu(x, wt)
        y.pow(2).sum().backward()
        return y, x.grad, wt.grad
    y, gx, gw = twin(case, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(y.detach().numpy(), np.where(arr > 0, arr, w[:, None] * arr))
    check_grad(lambda a, b: F.prelu(a, b), nt.tensor(arr, requires_grad=True), nt.tensor(w, requires_grad=True))
    x = nt.tensor(arr.reshape(-1), requires_grad=True)
    m = nn.RReLU(0.1, 0.3)
    y = m(x)
    assert y.grad_fn.name() == "RreluWithNoiseBackward0"
    neg = arr.reshape(-1) < 0
    slope = y.detach().numpy()[neg] / arr.reshape(-1)[neg]
    assert ((slope >= 0.1) & (slope <= 0.3)).all() and len(np.unique(slope)) > 1
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy()[neg], slope)
    m.eval()
    np.testing.assert_allclose(m(x).detach().numpy(), np.where(arr.reshape(-1) >= 0, 1, 0.2) * arr.reshape(-1))


def test_errors():
    twin_raises(lambda T: T.nn.functional.gelu(T.ones(2), approximate="x"), RuntimeError,
                "approximate argument must be either none or tanh.")
    twin_raises(lambda T: T.nn.functional.gelu(T.ones(2, dtype=T.int64)), NotImplementedError,
                "\"GeluKernelImpl\" not implemented for 'Long'")
    twin_raises(lambda T: T.nn.functional.silu(T.ones(2, dtype=T.int64)), NotImplementedError,
                "\"silu_cpu\" not implemented for 'Long'")
    twin_raises(lambda T: T.nn.functional.hardtanh(T.ones(2), 2.0, 1.0), ValueError,
                "min_val cannot be greater than max_val")
    twin_raises(lambda T: T.nn.functional.glu(T.ones(3, 3), 1), RuntimeError,
                "Halving dimension must be even, but dimension 1 is size 3")
    twin_raises(lambda T: T.nn.functional.rrelu(T.ones(3), 0.5, 0.1, training=True), RuntimeError,
                "Lower bound should be less than or equal to the upper bound")
    twin_raises(lambda T: T.nn.functional.prelu(T.ones(2, 3), T.ones(2)), RuntimeError,
                "Mismatch of parameter numbers and input channel size. Found parameter numbers = 2 and channel "
                "size = 3.")
    twin_raises(lambda T: T.nn.functional.softshrink(T.ones(2), -1.0), RuntimeError,
                "lambda must be in range [0, 3.40282e+38] for input dtype Float, but found -1")
    twin_raises(lambda T: T.nn.functional.prelu(T.ones(2, 3, dtype=T.float64), T.ones(3)), RuntimeError,
                "prelu: Type promoting not supported. Got Double and Float")
    twin_raises(lambda T: T.nn.Softmax2d()(T.ones(2)), ValueError, "Softmax2d: expected input to be 3D or 4D")
    # int inputs where PyTorch has integer kernels
    assert F.relu6(nt.tensor([-3, 2, 9])).tolist() == [0, 2, 6]
    assert F.threshold(nt.tensor([1, 2, 3]), 1, 7).tolist() == [7, 2, 3]


def test_softmin_implicit_dim_warns():
    x = nt.tensor(_grid())
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin has been deprecated"):
        y = F.softmin(x)
    e = np.exp(-_grid().astype(np.float64))
    np.testing.assert_allclose(y.numpy(), e / e.sum(1, keepdims=True), rtol=1e-6)


def test_half_inputs_compute_in_float32():
    x = nt.tensor(_grid(), dtype=nt.float16)
    y = F.gelu(x)
    assert y.dtype is nt.float16
    np.testing.assert_allclose(y.numpy().astype(np.float64), _ref("gelu", _grid().astype(np.float16)),
                               rtol=2e-3, atol=2e-3)


CUDA_ROWS = ["gelu", "gelu_tanh", "silu", "mish", "elu", "leaky_relu", "hardtanh", "hardswish", "hardsigmoid",
             "hardshrink", "softshrink", "softplus", "logsigmoid", "threshold"]


@pytest.mark.parametrize("device", ["cuda"], indirect=True)
def test_cuda_parity(device):
    """Every new kernel, forward and fused backward, on the device (simulator in CI) matches the CPU."""
    arr = np.array([[-2.3, -0.45, 0.0], [0.35, 0.9, 2.2]])
    for name in CUDA_ROWS:
        call = ACTS[name][0]
        res = {}
        for dev in ("cpu", "cuda"):
            x = nt.tensor(arr, device=dev, requires_grad=True)
            y = call(F, x)
            y.backward(nt.ones_like(y))
            res[dev] = (y, x.grad)
        for c, g in zip(*res.values()):
            assert g.device.type == "cuda"
            np.testing.assert_allclose(g.detach().cpu().numpy(), c.detach().numpy(), rtol=1e-12, atol=1e-14,
                                       err_msg=name)
        assert res["cuda"][0].grad_fn.name() == res["cpu"][0].grad_fn.name()
