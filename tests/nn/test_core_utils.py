"""nn.utils: clip_grad_norm_ (every norm type, vs NumPy), clip_grad_value_, get_total_norm, vector conversion,
parametrize (register/remove/cached), weight_norm and spectral_norm (both styles), orthogonal, functional_call."""
import math
import warnings

import numpy as np
import pytest

import numtorch as nt
import numtorch.func  # noqa: F401
from numtorch.kernels import nnlinear as kn
from _fd import check_grad

nn = nt.nn
U = nn.utils
SHAPES = [(3, 4), (5,), (2, 2, 2)]


def _params(seed, dt=nt.float32):
    rng = np.random.default_rng(seed)
    ps, gs = [], []
    for s in SHAPES:
        p = nn.Parameter(nt.tensor(rng.standard_normal(s), dtype=dt))
        g = rng.standard_normal(s)
        p.grad = nt.tensor(g, dtype=dt)
        ps.append(p)
        gs.append(g)
    return ps, gs


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, 0.5, "inf"])
def test_clip_grad_norm_values(norm_type):
    ps, gs = _params(0)
    flat = np.concatenate([g.ravel() for g in gs])
    p = float(norm_type)
    total = np.abs(flat).max() if p == math.inf else (np.abs(flat) ** p).sum() ** (1 / p)
    tn = U.clip_grad_norm_(ps, 1.0, norm_type=norm_type)
    assert tn.dtype is nt.float32 and tn.shape == () and tn.grad_fn is None
    np.testing.assert_allclose(float(tn), total, rtol=1e-5)
    coef = min(1.0, 1.0 / (total + 1e-6))
    for prm, g in zip(ps, gs):
        np.testing.assert_allclose(prm.grad.numpy(), g * coef, rtol=1e-5, atol=1e-7)


def test_clip_grad_norm_cases():
    ps, gs = _params(1)
    U.clip_grad_norm_(ps, 100.0)                  # norm below max_norm: gradients unchanged
    np.testing.assert_allclose(ps[1].grad.numpy(), gs[1].astype(np.float32))
    ps, gs = _params(2, nt.float64)
    tn = U.get_total_norm([p.grad for p in ps])
    assert tn.dtype is nt.float64
    np.testing.assert_allclose(float(tn), np.sqrt(sum((g ** 2).sum() for g in gs)), rtol=1e-12)
    ps[0].grad[0, 0] = float("nan")
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from `parameters` is "
                                           "non-finite, so it cannot be clipped."):
        U.clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    assert math.isnan(float(U.clip_grad_norm_(ps, 1.0))) and np.isnan(ps[1].grad.numpy()).all()
    ps, _ = _params(3)
    ps[1].grad[0] = float("inf")
    assert float(U.clip_grad_norm_(ps, 1.0, norm_type="inf")) == math.inf
    assert float(U.clip_grad_norm_([], 1.0)) == 0.0 and float(U.get_total_norm([])) == 0.0
    with pytest.warns(UserWarning, match="`parameters` is an empty generator, no gradient clipping will occur."):
        U.clip_grad_norm_((p for p in []), 1.0)
    # single tensor, foreach accepted, a non-contiguous gradient, grads scaled in place (version bumped)
    p = nn.Parameter(nt.zeros(3, 2))
    p.grad = nt.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3)).t()
    g = p.grad
    v0 = g._version
    U.clip_grad_norm_(p, 1.0, foreach=True)
    np.testing.assert_allclose(np.linalg.norm(p.grad.numpy()), 1.0, rtol=1e-5)
    assert p.grad is g and g._version > v0
    # zero-order and negative orders go through the composite path
    ps, gs = _params(4)
    np.testing.assert_allclose(float(U.get_total_norm([q.grad for q in ps], 0)), 3.0)
    with pytest.warns(FutureWarning, match="`torch.nn.utils.clip_grad_norm` is now deprecated"):
        U.clip_grad_norm(ps, 1.0)


def test_grad_norm_kernel_direct():
    rng = np.random.default_rng(5)
    bufs = [rng.standard_normal(n).astype(np.float32) for n in (1, 7, 300)]
    flat = np.concatenate(bufs).astype(np.float64)
    assert kn.grad_norm(bufs, 2.0) == pytest.approx((flat ** 2).sum(), rel=1e-12)
    assert kn.grad_norm(bufs, 1.0) == pytest.approx(np.abs(flat).sum(), rel=1e-12)
    assert kn.grad_norm(bufs, 3.0) == pytest.approx((np.abs(flat) ** 3).sum(), rel=1e-12)
    assert kn.grad_norm(bufs, math.inf) == np.abs(flat).max()
    kn.scale_all(bufs, 0.5)
    np.testing.assert_allclose(np.concatenate(bufs), flat * 0.5, rtol=1e-7)


def test_clip_value_and_with_norm():
    ps, gs = _params(6)
    U.clip_grad_value_(ps, 0.5)
    np.testing.assert_allclose(ps[0].grad.numpy(), np.clip(gs[0], -0.5, 0.5), rtol=1e-6)
    ps, gs = _params(7)
    tn = U.get_total_norm([p.grad for p in ps])
    U.clip_grads_with_norm_(ps, 1.0, tn)
    total = np.sqrt(sum((g ** 2).sum() for g in gs))
    np.testing.assert_allclose(ps[2].grad.numpy(), gs[2] / (total + 1e-6), rtol=1e-5)


def test_parameters_vector_roundtrip():
    ps, _ = _params(8)
    v = U.parameters_to_vector(ps)
    assert v.shape == (25,) and type(v.grad_fn).__name__ == "CatBackward0"
    U.vector_to_parameters(v.detach() * 2, ps)
    assert type(ps[1]) is nn.Parameter and ps[1].shape == (5,)
    np.testing.assert_allclose(ps[1].detach().numpy(), v.detach().numpy()[12:17] * 2)
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        U.vector_to_parameters([1], ps)


class Sym(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(0, 1)


PARAM_REPR = """ParametrizedLinear(
  in_features=3, out_features=3, bias=True
  (parametrizations): ModuleDict(
    (weight): ParametrizationList(
      (0): Sym()
    )
  )
)"""


def test_parametrize_register_remove_cached():
    P = U.parametrize
    lin = nn.Linear(3, 3)
    P.register_parametrization(lin, "weight", Sym())
    assert repr(lin) == PARAM_REPR and type(lin).__name__ == "ParametrizedLinear"
    assert P.is_parametrized(lin) and not P.is_parametrized(lin, "bias")
    assert P.type_before_parametrizations(lin) is nn.Linear
    assert list(lin.state_dict()) == ["bias", "parametrizations.weight.original"]
    W = lin.weight.detach().numpy()
    np.testing.assert_array_equal(W, W.T)
    lin(nt.ones(2, 3)).sum().backward()
    orig = lin.parametrizations.weight.original
    # d/dX of sum over (triu + triu(1)^T) @ ...: each upper entry feeds two weight entries
    assert orig.grad is not None and np.allclose(np.tril(orig.grad.numpy(), -1), 0)
    with P.cached():
        assert lin.weight is lin.weight
    assert lin.weight is not lin.weight
    P.remove_parametrizations(lin, "weight")
    assert type(lin) is nn.Linear and list(lin.state_dict()) == ["bias", "weight"]
    assert type(lin.weight) is nn.Parameter
    np.testing.assert_allclose(lin.weight.detach().numpy(), W)
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        P.remove_parametrizations(lin, "weight")
    with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a parametrized element with "
                                         "name 'nope'"):
        P.register_parametrization(lin, "nope", Sym())

    class Half(nn.Module):
        def forward(self, X):
            return X[:1]
    with pytest.raises(ValueError, match="Registering a parametrization may not change the shape of the tensor"):
        P.register_parametrization(nn.Linear(2, 2), "weight", Half())


def test_weight_norm_both_styles():
    rng = np.random.default_rng(9)
    w0 = rng.standard_normal((3, 4)).astype(np.float32)
    lin = nn.Linear(4, 3)
    with nt.no_grad():
        lin.weight.copy_(nt.tensor(w0))
    U.parametrizations.weight_norm(lin)
    assert list(lin.state_dict()) == ["bias", "parametrizations.weight.original0", "parametrizations.weight.original1"]
    g = lin.parametrizations.weight.original0
    assert g.shape == (3, 1)
    np.testing.assert_allclose(g.detach().numpy()[:, 0], np.linalg.norm(w0, axis=1), rtol=1e-6)
    np.testing.assert_allclose(lin.weight.detach().numpy(), w0, rtol=1e-5, atol=1e-6)
    l1 = nn.Linear(4, 3)
    U.parametrizations.weight_norm(l1, dim=1)
    assert l1.parametrizations.weight.original0.shape == (1, 4)
    l2 = nn.Linear(4, 3)
    U.parametrizations.weight_norm(l2, dim=None)
    assert l2.parametrizations.weight.original0.shape == ()
    # loading an old-style (weight_g / weight_v) checkpoint into the parametrization
    old = nn.Linear(4, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        U.weight_norm(old)
    assert list(old.state_dict()) == ["bias", "weight_g", "weight_v"]
    assert [n for n, _ in old.named_parameters()] == ["bias", "weight_g", "weight_v"]
    assert old(nt.ones(1, 4)).shape == (1, 3)
    lin.load_state_dict(old.state_dict())
    np.testing.assert_allclose(lin.weight.detach().numpy(), old.weight.detach().numpy(), rtol=1e-6)
    U.remove_weight_norm(old)
    assert list(old.state_dict()) == ["bias", "weight"]
    # gradients of the composite g * v / ||v||
    v = nt.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    gg = nt.tensor(rng.standard_normal((3, 1)), requires_grad=True)
    from numtorch.nn.utils.weight_norm import _weight_norm
    check_grad(lambda a, b: _weight_norm(a, b, 0), v, gg)
    check_grad(lambda a, b: _weight_norm(a, b, 1), v, nt.tensor(rng.standard_normal((1, 4)), requires_grad=True))
    check_grad(lambda a, b: _weight_norm(a, b, -1), v, nt.tensor(rng.standard_normal(()), requires_grad=True))
    assert type(_weight_norm(v, gg, 0).grad_fn).__name__ == "WeightNormInterfaceBackward0"
    assert type(_weight_norm(v, gg.sum(), -1).grad_fn).__name__ == "MulBackward0"
    assert nt.autograd.gradgradcheck(lambda a, b: _weight_norm(a, b, 0), (v, gg))
    assert type(lin.weight.grad_fn).__name__ == "WeightNormInterfaceBackward0"


def test_spectral_norm_both_styles():
    rng = np.random.default_rng(10)
    w0 = rng.standard_normal((3, 4)).astype(np.float32)
    lin = nn.Linear(4, 3)
    with nt.no_grad():
        lin.weight.copy_(nt.tensor(w0))
    U.parametrizations.spectral_norm(lin)
    assert list(lin.state_dict()) == ["bias", "parametrizations.weight.original", "parametrizations.weight.0._u",
                                      "parametrizations.weight.0._v"]
    sv = np.linalg.svd(lin.weight.detach().numpy(), compute_uv=False)[0]
    assert abs(sv - 1) < 1e-3
    lin.eval()
    np.testing.assert_array_equal(lin.weight.detach().numpy(), lin.weight.detach().numpy())
    old = nn.Linear(4, 3)
    with nt.no_grad():
        old.weight.copy_(nt.tensor(w0))
    U.spectral_norm(old)
    assert list(old.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    assert [n for n, _ in old.named_parameters()] == ["bias", "weight_orig"]
    for _ in range(30):
        old(nt.ones(1, 4))
    assert abs(np.linalg.svd(old.weight.detach().numpy(), compute_uv=False)[0] - 1) < 1e-3
    assert old.state_dict()._metadata[""] == {"version": 1, "spectral_norm": {"weight.version": 1}}
    U.remove_spectral_norm(old)
    assert list(old.state_dict()) == ["bias", "weight"]


@pytest.mark.parametrize("shape,omap", [((4, 4), None), ((5, 3), None), ((3, 5), None), ((4, 4), "cayley"),
                                        ((5, 3), "householder")])
def test_orthogonal(shape, omap):
    lin = nn.Linear(shape[1], shape[0])
    U.parametrizations.orthogonal(lin, orthogonal_map=omap)
    Q = lin.weight.detach().numpy().astype(np.float64)
    G = Q.T @ Q if shape[0] >= shape[1] else Q @ Q.T
    np.testing.assert_allclose(G, np.eye(min(shape)), atol=1e-5)
    assert list(lin.state_dict()) == ["bias", "parametrizations.weight.original", "parametrizations.weight.0.base"]
    lin(nt.ones(2, shape[1])).sum().backward()
    assert lin.parametrizations.weight.original.grad is not None
    with pytest.raises(ValueError, match='orthogonal_map has to be one of "matrix_exp", "cayley", "householder".'):
        U.parametrizations.orthogonal(nn.Linear(2, 2), orthogonal_map="nope")


def test_functional_call():
    lin = nn.Linear(2, 2)
    new = {"weight": nt.ones(2, 2, requires_grad=True), "bias": nt.zeros(2)}
    y = nt.func.functional_call(lin, new, (nt.tensor([[1., 2.]]),))
    assert y.tolist() == [[3.0, 3.0]]
    y.sum().backward()
    assert new["weight"].grad.tolist() == [[1.0, 2.0], [1.0, 2.0]] and lin.weight.grad is None
    assert type(lin.weight) is nn.Parameter                       # restored
    y = nt.func.functional_call(lin, ({"weight": nt.ones(2, 2)}, {"bias": nt.ones(2)}), nt.tensor([[1., 2.]]))
    assert y.tolist() == [[4.0, 4.0]]
    with pytest.raises(RuntimeError) as info:
        nt.func.functional_call(lin, {"weight": nt.ones(2, 2), "x": nt.ones(1)}, nt.ones(1, 2), strict=True)
    assert str(info.value) == ("Error(s) in reparametrizing for Linear:\n\tUnexpected key(s): 'x'.\n\t"
                               "Missing key(s): 'bias'.")
    with pytest.warns(FutureWarning, match="`torch.nn.utils.stateless.functional_call` is deprecated"):
        y = U.stateless.functional_call(lin, {"bias": nt.ones(2) * 5}, nt.zeros(1, 2))
    assert y.tolist() == [[5.0, 5.0]]

    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 2, bias=False)
            self.b = nn.Linear(2, 2, bias=False)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.b(self.a(x))
    tm = Tied()
    assert nt.func.functional_call(tm, {"a.weight": nt.eye(2) * 2}, nt.ones(1, 2)).tolist() == [[4.0, 4.0]]
    with pytest.raises(ValueError, match=r"functional_call got multiple values for keys \['a.weight', 'b.weight'\], "
                                         "which are tied. Consider using tie_weights=False"):
        nt.func.functional_call(tm, {"a.weight": nt.eye(2) * 2, "b.weight": nt.eye(2)}, nt.ones(1, 2))
