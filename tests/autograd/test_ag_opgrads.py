"""Float64 finite-difference gradient checks generated from the op table (each op's ``domain`` gives its
safe input range), plus reductions and views; second derivatives with gradgradcheck; grad_fn names
compared with torch when it is importable."""
import math

import numpy as np
import pytest

import numtorch as nt
from numtorch.autograd import gradcheck, gradgradcheck
from numtorch.optable import OPS

from _fd import check_grad


FRACS = np.array([0.13, 0.37, 0.61, 0.89])          # avoids integers/halves (floor, round, frac, relu, abs)
B_VALS = [1.3, -1.7, 0.9, 2.1]                       # second operands: away from 0 and from a's values


def unary_input(op, shape=(4,)):
    lo, hi = op.domain
    return nt.tensor((lo + (hi - lo) * FRACS).reshape(shape), dtype=nt.float64, requires_grad=True)


UNARY = sorted(n for n, op in OPS.items() if op.arity == 1 and op.backward is not None)
BINARY = sorted(n for n, op in OPS.items() if op.arity == 2 and op.backward is not None)


def binary_inputs(name, broadcast=False):
    a = [0.5, 1.1, 1.7, 2.3] if name == "pow" else list(-3 + 6 * FRACS)
    b = B_VALS
    if broadcast:
        return (nt.tensor(a[:2], dtype=nt.float64).reshape(2, 1).requires_grad_(),
                nt.tensor(b[:3], dtype=nt.float64, requires_grad=True))
    return (nt.tensor(a, dtype=nt.float64, requires_grad=True), nt.tensor(b, dtype=nt.float64, requires_grad=True))


def fn_of(name):
    return getattr(nt, name)


def test_generated_lists_cover_table():
    assert {"exp", "log", "sin", "tanh", "sigmoid", "relu", "abs", "sqrt"} <= set(UNARY)
    assert {"add", "sub", "mul", "div", "pow", "maximum", "atan2"} <= set(BINARY)


@pytest.mark.parametrize("name", UNARY)
def test_unary_gradcheck(name, device):
    # ``device``: runs on the CPU and on CUDA (factories default to it)
    x = unary_input(OPS[name])
    assert gradcheck(fn_of(name), (x,))
    assert getattr(x * 1, name)().grad_fn.name() == OPS[name].grad_fn


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("broadcast", [False, True], ids=["same", "bcast"])
def test_binary_gradcheck(name, broadcast, device):
    # ``device``: runs on the CPU and on CUDA (factories default to it)
    a, b = binary_inputs(name, broadcast)
    assert gradcheck(fn_of(name), (a, b))


@pytest.mark.parametrize("name", ["add", "mul", "div", "pow"])
def test_binary_against_independent_fd(name, device):
    # ``device``: runs on the CPU and on CUDA (factories default to it)
    a, b = binary_inputs(name)
    check_grad(fn_of(name), a, b)


SPECIAL = {
    "pow_scalar": (lambda x: x ** 2.5, (0.1, 3.0), "PowBackward0"),
    "pow_int": (lambda x: x ** 3, (-3.0, 3.0), "PowBackward0"),
    "rpow": (lambda x: 2.0 ** x, (-3.0, 3.0), "PowBackward2"),
    "rsub": (lambda x: 1.5 - x, (-3.0, 3.0), "RsubBackward1"),
    "rsub_fn": (lambda x: nt.rsub(x, 2.0, alpha=3), (-3.0, 3.0), "RsubBackward1"),
    "clamp": (lambda x: x.clamp(-1.0, 1.0), (-3.0, 3.0), "ClampBackward1"),
    "round": (lambda x: x.round(), (-3.0, 3.0), "RoundBackward0"),
    "add_alpha": (lambda x: nt.add(x, x * x, alpha=2), (-3.0, 3.0), "AddBackward0"),
    "sub_scalar": (lambda x: x - 1.5, (-3.0, 3.0), "SubBackward0"),
    "rdiv": (lambda x: 2.0 / x, (0.5, 3.0), "MulBackward0"),
    "neg_op": (lambda x: -x, (-3.0, 3.0), "NegBackward0"),
}


@pytest.mark.parametrize("name", sorted(SPECIAL))
def test_special_gradcheck(name, device):
    # ``device``: runs on the CPU and on CUDA (factories default to it)
    f, (lo, hi), _ = SPECIAL[name]
    x = nt.tensor(lo + (hi - lo) * FRACS, dtype=nt.float64, requires_grad=True)
    assert gradcheck(f, (x,))


SECOND_UNARY = [n for n in UNARY if n not in ("floor", "ceil", "trunc", "round", "sign", "sgn")]


@pytest.mark.parametrize("name", SECOND_UNARY)
def test_unary_gradgradcheck(name):
    assert gradgradcheck(fn_of(name), (unary_input(OPS[name], (2,)) if False else
                                       nt.tensor((OPS[name].domain[0] + (OPS[name].domain[1] - OPS[name].domain[0])
                                                  * FRACS[1:3]), dtype=nt.float64, requires_grad=True),))


@pytest.mark.parametrize("name", BINARY)
def test_binary_gradgradcheck(name):
    a, b = binary_inputs(name)
    assert gradgradcheck(fn_of(name), (a.detach()[:2].requires_grad_(), b.detach()[:2].requires_grad_()))


# -- reductions ------------------------------------------------------------------------------------

X23 = [[0.31, -1.2, 0.87], [1.53, -0.44, 2.1]]
X232 = np.array([0.31, -1.2, 0.87, 1.53, -0.44, 2.1, 0.66, -0.93, 1.27, -1.71, 0.52, 1.08]).reshape(2, 3, 2)

REDUCTIONS = {
    "sum": (lambda x: x.sum(), "SumBackward0"),
    "sum_dim": (lambda x: x.sum(1), "SumBackward1"),
    "sum_dims_keep": (lambda x: x.sum((0, 2), keepdim=True), "SumBackward1"),
    "mean": (lambda x: x.mean(), "MeanBackward0"),
    "mean_dim_keep": (lambda x: x.mean(-1, keepdim=True), "MeanBackward1"),
    "prod": (lambda x: x.prod(), "ProdBackward0"),
    "prod_dim": (lambda x: x.prod(1), "ProdBackward1"),
    "prod_dim_keep": (lambda x: x.prod(2, keepdim=True), "ProdBackward1"),
    "max": (lambda x: x.max(), "MaxBackward1"),
    "max_dim": (lambda x: x.max(1).values, "MaxBackward0"),
    "max_dim_keep": (lambda x: x.max(1, keepdim=True)[0], "MaxBackward0"),
    "min_dim": (lambda x: x.min(0).values, "MinBackward0"),
    "min": (lambda x: x.min(), "MinBackward1"),
    "amax": (lambda x: x.amax((0, 1)), "AmaxBackward0"),
    "amin_keep": (lambda x: x.amin(1, keepdim=True), "AminBackward0"),
    "var": (lambda x: x.var(), "VarBackward0"),
    "var_dim": (lambda x: x.var(1), "VarBackward0"),
    "var_c0": (lambda x: x.var(1, correction=0, keepdim=True), "VarBackward0"),
    "std": (lambda x: x.std(), "StdBackward0"),
    "std_dim_keep": (lambda x: x.std(0, keepdim=True), "StdBackward0"),
    "norm": (lambda x: x.norm(), "LinalgVectorNormBackward0"),
    "norm_dim": (lambda x: x.norm(dim=1), "LinalgVectorNormBackward0"),
    "norm_p1": (lambda x: x.norm(p=1), "LinalgVectorNormBackward0"),
    "norm_inf": (lambda x: x.norm(p=math.inf), "LinalgVectorNormBackward0"),
    "logsumexp": (lambda x: x.logsumexp(1), "LogsumexpBackward0"),
    "logsumexp_dims": (lambda x: x.logsumexp((0, 1), keepdim=True), "LogsumexpBackward0"),
    "softmax": (lambda x: x.softmax(1), "SoftmaxBackward0"),
    "softmax0": (lambda x: x.softmax(0), "SoftmaxBackward0"),
    "log_softmax": (lambda x: x.log_softmax(-1), "LogSoftmaxBackward0"),
    "cumsum": (lambda x: x.cumsum(0), "CumsumBackward0"),
    "cumsum1": (lambda x: x.cumsum(1), "CumsumBackward0"),
    "cumprod": (lambda x: x.cumprod(1), "CumprodBackward0"),
    "cumprod0": (lambda x: x.cumprod(0), "CumprodBackward0"),
}


def x232():
    return nt.tensor(X232, dtype=nt.float64, requires_grad=True)




@pytest.mark.parametrize("name", [n
                                  for n in sorted(REDUCTIONS)])
def test_reduction_gradcheck(name):
    assert gradcheck(REDUCTIONS[name][0], (x232(),))


@pytest.mark.parametrize("name", ["sum_dim", "mean", "prod_dim", "var_dim", "std", "logsumexp", "softmax",
                                  "log_softmax", "cumsum", "cumprod", "norm"])
def test_reduction_gradgradcheck(name):
    x = nt.tensor(X23, dtype=nt.float64, requires_grad=True)
    f = REDUCTIONS[name][0]
    assert gradgradcheck(lambda t: f(t.unsqueeze(-1).expand(2, 3, 2) * nt.tensor([1.0, 0.5], dtype=nt.float64)),
                         (x,))


def test_max_ties_split_evenly():
    x = nt.tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5]


# -- views -------------------------------------------------------------------------------------------

VIEWS = {
    "view": (lambda x: x.view(12) * 1, "ViewBackward0"),
    "view2": (lambda x: x.view(3, 4), "ViewBackward0"),
    "reshape": (lambda x: x.reshape(4, 3), "ViewBackward0"),
    "reshape_copy": (lambda x: x.transpose(0, 2).reshape(-1), "UnsafeViewBackward0"),
    "permute": (lambda x: x.permute(2, 0, 1), "PermuteBackward0"),
    "transpose": (lambda x: x.transpose(0, 1), "TransposeBackward0"),
    "t": (lambda x: x.select(2, 0).t(), "TBackward0"),
    "expand": (lambda x: x.select(1, 0).unsqueeze(1).expand(2, 4, 2), "ExpandBackward0"),
    "squeeze": (lambda x: x.narrow(1, 0, 1).squeeze(), "SqueezeBackward0"),
    "squeeze_dim": (lambda x: x.narrow(1, 0, 1).squeeze(1), "SqueezeBackward1"),
    "unsqueeze": (lambda x: x.unsqueeze(0), "UnsqueezeBackward0"),
    "select": (lambda x: x.select(1, 2), "SelectBackward0"),
    "select_neg": (lambda x: x.select(-1, -1), "SelectBackward0"),
    "narrow": (lambda x: x.narrow(1, 1, 2), "SliceBackward0"),
    "split": (lambda x: x.split(1, dim=1), "SplitBackward0"),
    "split_sizes": (lambda x: x.split([1, 2], 1), "SplitWithSizesBackward0"),
    "chunk": (lambda x: x.chunk(2, 1), "SplitBackward0"),
    "unbind": (lambda x: x.unbind(1), "UnbindBackward0"),
    "diagonal": (lambda x: x.select(2, 1).diagonal(), "DiagonalBackward0"),
    "diagonal_off": (lambda x: x.diagonal(offset=1, dim1=1, dim2=2), "DiagonalBackward0"),
    "flatten": (lambda x: x.flatten(1), "ViewBackward0"),
    "movedim": (lambda x: x.movedim(0, 2), "PermuteBackward0"),
}
if hasattr(nt.Tensor, "__getitem__"):
    VIEWS["slice_step"] = (lambda x: x[:, ::2], "SliceBackward0")
    VIEWS["slice_step2"] = (lambda x: x[1:, 1::2, :1], "SliceBackward0")


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_view_gradcheck(name):
    f = VIEWS[name][0]
    assert gradcheck(lambda t: tuple(o * 1 for o in f(t)) if isinstance(f(t), tuple) else f(t) * 1, (x232(),))


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_view_grad_fn_names(name):
    f, expect = VIEWS[name]
    out = f(x232() * 1)
    out = out[0] if isinstance(out, tuple) else out
    fn = out.grad_fn
    if fn.name() == "MulBackward0":
        fn = fn.next_functions[0][0]
    assert fn.name() == expect


# -- names against torch --------------------------------------------------------------------------------

def _torch_name(torch, make, args):
    out = make(torch, *args)
    out = out[0] if isinstance(out, tuple) else out
    return out.grad_fn.name() if out.grad_fn is not None else None


def test_grad_fn_names_match_torch():
    torch = pytest.importorskip("torch")
    cases = []
    for n in UNARY:
        cases.append((n, lambda T, x, n=n: getattr(T, n)(x * 1)))
    for n in BINARY:
        cases.append((n, lambda T, x, n=n: getattr(T, n)(x * 1, x * 2 + 5)))
    for n, (f, _, _) in SPECIAL.items():
        if n not in ("rsub_fn",):
            cases.append((n, lambda T, x, f=f: f(x * 1) if T is nt else _retarget(f, T)(x * 1)))
    for n, (f, _) in REDUCTIONS.items():
        cases.append((n, lambda T, x, f=f: f(x)))
    for n, (f, _) in VIEWS.items():
        cases.append((n, lambda T, x, f=f: f(x)))
    bad = []
    for n, make in cases:
        try:
            a = _torch_name(nt, make, (x232() * 1 + 4,))
        except Exception as e:
            a = type(e).__name__
        b = _torch_name(torch, make, (torch.tensor(X232, dtype=torch.float64, requires_grad=True) * 1 + 4,))
        if a != b:
            bad.append((n, a, b))
    unexpected = [b for b in bad if b[0] not in PENDING_NAME_FIXES]
    assert not unexpected, "\n".join(map(str, unexpected))


# Mismatches outside numtorch/autograd reported to the lead (reductions.py / ops.py); listed so that
# this test still catches every other regression until they are applied.
PENDING_NAME_FIXES = set()


def _retarget(f, T):
    """The SPECIAL lambdas only use operators and methods, except nt.add/nt.rsub."""
    import types
    g = types.FunctionType(f.__code__, dict(f.__globals__, nt=T), f.__name__, f.__defaults__, f.__closure__)
    return g
