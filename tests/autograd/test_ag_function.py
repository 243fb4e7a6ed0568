"""Custom autograd.Function, gradcheck/gradgradcheck, autograd.functional."""
import re
import warnings

import numpy as np
import pytest

import numtorch as nt
from numtorch.autograd import Function, gradcheck, gradgradcheck
from numtorch.autograd.function import once_differentiable
from numtorch.autograd.functional import hessian, hvp, jacobian, jvp, vhp, vjp
from numtorch.autograd.gradcheck import GradcheckError


def vals(t):
    return t.detach().numpy()


def d64(*v, rg=True):
    return nt.tensor(list(v), dtype=nt.float64, requires_grad=rg)


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        r = x.exp()
        ctx.save_for_backward(r)
        return r

    @staticmethod
    def backward(ctx, g):
        (r,) = ctx.saved_tensors
        return g * r


class MulConst(Function):
    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return x * k

    @staticmethod
    def backward(ctx, g):
        assert ctx.needs_input_grad == (True, False)
        return g * ctx.k, None


def test_function_basics():
    x = nt.tensor([0.0, 1.0], requires_grad=True)
    y = Exp.apply(x)
    assert y.grad_fn.name() == "ExpBackward" and type(y.grad_fn).__name__ == "ExpBackward"
    assert repr(y) == "tensor([1.0000, 2.7183], grad_fn=<ExpBackward>)"
    assert repr(y.grad_fn).startswith("<torch.autograd.function.ExpBackward object at 0x")
    assert y.grad_fn.next_functions[0][0].variable is x
    y.sum().backward()
    np.testing.assert_allclose(vals(x.grad), np.exp([0.0, 1.0]), rtol=1e-6)
    z = MulConst.apply(x, 3.0)
    assert z.grad_fn.k == 3.0 and z.grad_fn.next_functions[1] == (None, 0)
    x.grad = None
    z.sum().backward()
    np.testing.assert_allclose(vals(x.grad), [3.0, 3.0])
    with nt.no_grad():
        w = Exp.apply(x)
    assert w.grad_fn is None and not w.requires_grad
    c = Exp.apply(nt.ones(2))
    assert c.grad_fn is None


def test_function_double_backward_and_gradchecks():
    x = d64(0.3, -0.7)
    assert gradcheck(Exp.apply, (x,))
    assert gradgradcheck(Exp.apply, (x,))
    (g,) = nt.autograd.grad(Exp.apply(x).sum(), x, create_graph=True)
    (g2,) = nt.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(vals(g2), np.exp([0.3, -0.7]))


def test_second_backward_on_function_raises():
    x = nt.ones(2, requires_grad=True)
    y = Exp.apply(x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def test_mark_non_differentiable_and_materialize():
    class ArgAndDouble(Function):
        @staticmethod
        def forward(ctx, a):
            i = a.argmax()
            r = a * 2
            ctx.mark_non_differentiable(i)
            return r, i

        @staticmethod
        def backward(ctx, g, gi):
            assert gi is not None and gi.dtype is nt.int64 and gi.item() == 0     # materialized zeros
            return g * 2

    x = nt.tensor([1.0, 3.0], requires_grad=True)
    r, i = ArgAndDouble.apply(x)
    assert r.requires_grad and not i.requires_grad and repr(r.grad_fn).find("ArgAndDoubleBackward") > 0
    r.sum().backward()
    np.testing.assert_allclose(vals(x.grad), [2.0, 2.0])

    seen = []

    class Two(Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.set_materialize_grads(False)
            return a * 1, b * 1

        @staticmethod
        def backward(ctx, g1, g2):
            seen.append(g2)
            return g1, g2

    a, b = Two.apply(x, x)
    a.sum().backward()
    assert seen == [None]


def test_mark_dirty_and_identity_output():
    class Double_(Function):
        @staticmethod
        def forward(ctx, a):
            ctx.mark_dirty(a)
            return a.mul_(2)

        @staticmethod
        def backward(ctx, g):
            return g * 2

    class Ident(Function):
        @staticmethod
        def forward(ctx, a):
            return a

        @staticmethod
        def backward(ctx, g):
            return g

    x = nt.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=re.escape("a leaf Variable that requires grad has been used in an "
                                                     "in-place operation.")):
        Double_.apply(nt.ones(2, requires_grad=True))
    y = x * 1
    o = Double_.apply(y)
    assert o is y and o.grad_fn.name() == "Double_Backward"
    o.sum().backward()
    np.testing.assert_allclose(vals(x.grad), [2.0, 2.0])
    v = Ident.apply(x)
    assert v is not x and v._base is x and v.grad_fn.name() == "IdentBackward" and not v.is_leaf


def test_once_differentiable():
    class Sq(Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a ** 2

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return 2 * a * g

    x = nt.ones(2, requires_grad=True)
    (g,) = nt.autograd.grad(Sq.apply(x).sum(), x, create_graph=True)
    assert g.grad_fn is None and vals(g).tolist() == [2.0, 2.0]


def test_setup_context_style():
    class Cube(Function):
        @staticmethod
        def forward(a):
            return a ** 3

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return 3 * a * a * g

    x = d64(1.5, -2.0)
    assert gradcheck(Cube.apply, (x,))


FN_ERRORS = [
    ("count", "function ABackward returned an incorrect number of gradients (expected 2, got 1)",
     lambda g: g),
    ("notvar", "function ABackward returned a gradient different than None at position 2, but the corresponding "
               "forward input was not a Variable", lambda g: (g, g)),
    ("shape", "Function ABackward returned an invalid gradient at index 0 - got [3] but expected shape compatible "
              "with [2]", lambda g: (nt.ones(3), None)),
]


@pytest.mark.parametrize("name,msg,bw", FN_ERRORS, ids=[e[0] for e in FN_ERRORS])
def test_function_backward_errors(name, msg, bw):
    class A(Function):
        @staticmethod
        def forward(ctx, a, k):
            return a * k

        @staticmethod
        def backward(ctx, g):
            return bw(g)

    x = nt.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        A.apply(x, 2).sum().backward()
    assert str(info.value) == msg


def test_function_misuse_errors():
    class Bad(Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(3)
            return a

    with pytest.raises(TypeError, match="save_for_backward can only save variables, but argument 0 is of type int"):
        Bad.apply(nt.ones(1))
    with pytest.raises(RuntimeError, match="Legacy autograd function with non-static forward method is deprecated"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            MulConst()(nt.ones(1), 2)
    with pytest.raises(NotImplementedError, match="You must implement the forward function for custom "
                                                  "autograd.Function."):
        Function.apply(nt.ones(1))


def test_function_matches_torch_repr():
    torch = pytest.importorskip("torch")

    def run(T):
        class MyFn(T.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2
        return repr(MyFn.apply(T.ones(2, requires_grad=True))), MyFn.apply(T.ones(2, requires_grad=True)).grad_fn.name()
    assert run(nt) == run(torch)


# -- gradcheck -------------------------------------------------------------------------------------

class WrongGrad(Function):
    @staticmethod
    def forward(ctx, a):
        return a * 2

    @staticmethod
    def backward(ctx, g):
        return g * 3


def test_gradcheck_pass_fail_and_message():
    x = d64(0.3, -1.2, 2.0)
    assert gradcheck(nt.sin, (x,)) is True
    assert gradcheck(lambda a: a.sin(), x) is True
    assert gradcheck(lambda a, b: a * b, (x, d64(1.0, 2.0, 3.0)))
    with pytest.raises(GradcheckError) as info:
        gradcheck(WrongGrad.apply, (x,))
    assert isinstance(info.value, RuntimeError)
    assert str(info.value) == (
        "Jacobian mismatch for output 0 with respect to input 0,\n"
        "numerical:tensor([[2.0000, 0.0000, 0.0000],\n        [0.0000, 2.0000, 0.0000],\n"
        "        [0.0000, 0.0000, 2.0000]], dtype=torch.float64)\n"
        "analytical:tensor([[3., 0., 0.],\n        [0., 3., 0.],\n        [0., 0., 3.]], dtype=torch.float64)\n")
    assert gradcheck(WrongGrad.apply, (x,), raise_exception=False) is False
    with pytest.raises(ValueError, match="gradcheck expects at least one input tensor to require gradient, but none "
                                         "of them have requires_grad=True."):
        gradcheck(nt.sin, (d64(1.0, rg=False),))


def test_gradcheck_float32_warns_and_fails():
    x = nt.tensor([0.3, 1.5, 3.0], requires_grad=True)
    with pytest.warns(UserWarning, match="Input #0 requires gradient and is not a double precision floating point "
                                         "or complex. This check will likely fail if all the inputs are not of "
                                         "double precision floating point or complex. "):
        with pytest.raises(GradcheckError, match="Jacobian mismatch for output 0 with respect to input 0"):
            gradcheck(nt.sin, (x,))


def test_gradcheck_signature_defaults():
    import inspect
    sig = inspect.signature(gradcheck)
    assert [sig.parameters[k].default for k in ("eps", "atol", "rtol", "raise_exception")] == \
        [1e-6, 1e-5, 1e-3, True]
    sig2 = inspect.signature(gradgradcheck)
    assert list(sig2.parameters)[:3] == ["func", "inputs", "grad_outputs"]
    assert [sig2.parameters[k].default for k in ("eps", "atol", "rtol", "raise_exception")] == \
        [1e-6, 1e-5, 1e-3, True]
    assert nt.autograd.gradcheck is gradcheck and callable(nt.autograd.gradgradcheck)


def test_gradgradcheck():
    x = d64(0.3, -0.7, 1.1)
    assert gradgradcheck(lambda a: a.exp() * a, (x,))
    assert gradgradcheck(lambda a, b: (a * b).tanh(), (x, d64(0.5, 1.0, -0.2)))

    class BadSecond(Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a ** 2

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return g * 2 * a.detach()

    assert gradcheck(BadSecond.apply, (x,))
    assert gradgradcheck(BadSecond.apply, (x,), raise_exception=False) is False


# -- functional --------------------------------------------------------------------------------------

def test_jacobian_hessian_vjp_jvp_values():
    x = nt.tensor([1.0, 2.0])
    np.testing.assert_allclose(vals(jacobian(lambda a: a ** 2, x)), [[2.0, 0.0], [0.0, 4.0]])
    (jab, jaa), (jsb, jsa) = jacobian(lambda a, b: (a * b, a + b), (x, x))
    np.testing.assert_allclose(vals(jab), np.diag([1.0, 2.0]))
    np.testing.assert_allclose(vals(jsa), np.eye(2))
    np.testing.assert_allclose(vals(hessian(lambda a: (a ** 3).sum(), x)), np.diag([6.0, 12.0]))
    out, v = vjp(lambda a: a ** 2, x, nt.ones(2))
    np.testing.assert_allclose(vals(out), [1.0, 4.0])
    np.testing.assert_allclose(vals(v), [2.0, 4.0])
    out, v = jvp(lambda a: a ** 2, x, nt.tensor([1.0, 0.5]))
    np.testing.assert_allclose(vals(v), [2.0, 2.0])
    out, v = hvp(lambda a: (a ** 3).sum(), x, nt.ones(2))
    assert out.item() == 9.0
    np.testing.assert_allclose(vals(v), [6.0, 12.0])
    out, v = vhp(lambda a: (a ** 3).sum(), x, nt.ones(2))
    np.testing.assert_allclose(vals(v), [6.0, 12.0])
    j = jacobian(lambda a: a ** 2, x, create_graph=True)
    assert j.requires_grad
    h = hessian(lambda a, b: (a * a * b).sum(), (x, x))
    np.testing.assert_allclose(vals(h[0][1]), np.diag([2.0, 4.0]))
    assert not jacobian(lambda a: a.exp(), x).requires_grad


FUNCTIONAL_ERRORS = [
    ("vjp_v", lambda: vjp(lambda a: a ** 2, nt.tensor([1.0, 2.0])), RuntimeError,
     "The vector v can only be None if the user-provided function returns a single Tensor with a single element."),
    ("jvp_v", lambda: jvp(lambda a: a ** 2, nt.tensor([1.0, 2.0])), RuntimeError,
     "The vector v can only be None if the input to the user-provided function is a single Tensor with a single "
     "element."),
    ("list_inputs", lambda: jacobian(lambda a: a, [nt.ones(2)]), TypeError,
     "The inputs given to jacobian must be either a Tensor or a tuple of Tensors but the given inputs has type "
     "<class 'list'>."),
    ("v_size", lambda: vjp(lambda a: a ** 2, nt.tensor([1.0, 2.0]), nt.ones(3)), RuntimeError,
     "v has invalid size: should be torch.Size([2]) but got torch.Size([3])."),
    ("hessian_single", lambda: hessian(lambda a: a ** 2, nt.tensor([1.0, 2.0])), RuntimeError,
     "The Tensor returned by the function given to hessian should contain a single element"),
    ("strict_independent", lambda: jacobian(lambda a, b: a ** 2, (nt.ones(2), nt.ones(2)), strict=True),
     RuntimeError, "Output 0 of the user-provided function is independent of input 1. This is not allowed in "
                   "strict mode."),
    ("strict_no_grad", lambda: jacobian(lambda a: nt.ones(2), nt.ones(2), strict=True), RuntimeError,
     "Output 0 of the user-provided function does not require gradients. The outputs must be computed in a "
     "differentiable manner from the input when running in strict mode."),
]


@pytest.mark.parametrize("name,fn,exc,msg", FUNCTIONAL_ERRORS, ids=[e[0] for e in FUNCTIONAL_ERRORS])
def test_functional_errors(name, fn, exc, msg):
    with pytest.raises(exc) as info:
        fn()
    assert str(info.value) == msg


def test_functional_against_torch():
    torch = pytest.importorskip("torch")

    def run(T):
        F = T.autograd.functional
        x = T.tensor([0.5, -1.0, 2.0], dtype=T.float64)
        f = lambda a: (a.sin() * a).sum()                               # noqa: E731
        g = lambda a, b: (a * b.exp(), (a - b).tanh())                  # noqa: E731
        j = F.jacobian(g, (x, x * 0.5))
        return ([t.tolist() for row in j for t in row], F.hessian(f, x).tolist(),
                [t.tolist() for t in F.vjp(g, (x, x), (T.ones(3, dtype=T.float64), x))[1]],
                F.jvp(f, x, x)[1].tolist())
    a, b = run(nt), run(torch)
    for u, v in zip(a, b):
        np.testing.assert_allclose(np.array(u, dtype=float), np.array(v, dtype=float), rtol=1e-10, atol=1e-12)
