"""Graph tracking: requires_grad/is_leaf, .grad accumulation, retain_grad, next_functions, hooks,
backward()/autograd.backward/autograd.grad options, double backward."""
import warnings

import numpy as np
import pytest

import numtorch as nt


def vals(t):
    return t.detach().numpy()


def test_leaf_rules():
    x = nt.ones(2, requires_grad=True)
    c = nt.ones(2)
    y = x * 2
    assert x.is_leaf and c.is_leaf and not y.is_leaf
    assert y.requires_grad and not c.requires_grad and (c * 2).is_leaf
    assert x.grad_fn is None and y.grad_fn.name() == "MulBackward0"
    assert repr(y.grad_fn).startswith("<MulBackward0 object at 0x")
    with nt.no_grad():
        z = x * 2
    assert z.is_leaf and not z.requires_grad and z.grad_fn is None
    d = y.detach()
    assert d.is_leaf and not d.requires_grad
    x64 = x.to(nt.float64)
    assert not x64.is_leaf and x64.grad_fn.name() == "ToCopyBackward0"


def test_grad_accumulates_on_leaves():
    x = nt.tensor([1.0, 2.0], requires_grad=True)
    for _ in range(3):
        (x * 3).sum().backward()
    np.testing.assert_allclose(vals(x.grad), [9.0, 9.0])
    assert x.grad.requires_grad is False and x.grad.grad_fn is None
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_allclose(vals(x.grad), [2.0, 4.0])


def test_scalar_leaf_backward_sets_one():
    x = nt.tensor(2.0, requires_grad=True)
    x.backward()
    assert x.grad.item() == 1.0 and x.grad.shape == ()


def test_nonleaf_grad_warns_and_retain_grad():
    x = nt.ones(2, requires_grad=True)
    y = x * 2
    with pytest.warns(UserWarning, match="The .grad attribute of a Tensor that is not a leaf Tensor is being "
                                         "accessed"):
        assert y.grad is None
    y2 = x * 2
    y2.retain_grad()
    assert y2.retains_grad and not x.retains_grad
    x.retain_grad()                     # no-op on a leaf
    assert not x.retains_grad
    (y2 * 3).sum().backward(retain_graph=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(vals(y2.grad), [3.0, 3.0])
    (y2 * 3).sum().backward()
    np.testing.assert_allclose(vals(y2.grad), [6.0, 6.0])     # retained grads accumulate too
    np.testing.assert_allclose(vals(x.grad), [12.0, 12.0])


def test_next_functions_and_accumulate_grad():
    x = nt.ones(2, requires_grad=True)
    c = nt.ones(2)
    y = x * c
    (acc, nr), (none, nr2) = y.grad_fn.next_functions
    assert type(acc).__name__ == "AccumulateGrad" and nr == 0 and none is None and nr2 == 0
    assert acc.variable is x
    assert acc.name() == "torch::autograd::AccumulateGrad"
    assert repr(acc).startswith("<AccumulateGrad object at 0x")
    assert acc.next_functions == ()
    # one accumulator per leaf while a graph holds it
    assert (x + 1).grad_fn.next_functions[0][0] is acc
    z = y.exp().sum()
    assert z.grad_fn.next_functions[0][0].next_functions[0][0] is y.grad_fn
    assert isinstance(y.grad_fn, nt.autograd.graph.Node)
    assert y.grad_fn.metadata == {}


def test_tensor_hooks_leaf_and_nonleaf():
    x = nt.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    h = x.register_hook(lambda g: seen.append(vals(g).copy()))
    y = x * 2
    y.register_hook(lambda g: g * 10)                   # modifies what flows on
    y.retain_grad()
    y.sum().backward()
    np.testing.assert_allclose(vals(x.grad), [20.0, 20.0])
    np.testing.assert_allclose(vals(y.grad), [10.0, 10.0])    # retain_grad runs after the hooks
    np.testing.assert_allclose(seen[0], [20.0, 20.0])
    h.remove()
    x.grad = None
    (x * 1).sum().backward()
    assert len(seen) == 1
    x.register_hook(lambda g: g + 1)
    x.grad = None
    (x * 1).sum().backward()
    np.testing.assert_allclose(vals(x.grad), [2.0, 2.0])


def test_hook_handle_is_context_manager():
    x = nt.ones(2, requires_grad=True)
    with x.register_hook(lambda g: g * 0):
        (x * 1).sum().backward()
    assert vals(x.grad).sum() == 0
    (x * 1).sum().backward()
    np.testing.assert_allclose(vals(x.grad), [1.0, 1.0])


def test_node_hooks():
    x = nt.ones(2, requires_grad=True)
    y = x * 2
    calls = []
    n = y.grad_fn
    hp = n.register_prehook(lambda go: calls.append(("pre", vals(go[0]).tolist())))
    hh = n.register_hook(lambda gi, go: calls.append(("post", vals(gi[0]).tolist(), gi[1], vals(go[0]).tolist())))
    y.sum().backward(retain_graph=True)
    assert calls == [("pre", [1.0, 1.0]), ("post", [2.0, 2.0], None, [1.0, 1.0])]
    hp.remove()
    hh.remove()
    n.register_prehook(lambda go: (go[0] * 2,))
    n.register_hook(lambda gi, go: (gi[0] * 100, None))
    x.grad = None
    y.sum().backward()
    np.testing.assert_allclose(vals(x.grad), [400.0, 400.0])
    y = x * 2
    y.grad_fn.register_hook(lambda gi, go: (gi[0],))
    with pytest.raises(RuntimeError, match=r"has returned an incorrect number of values \(got 1, but expected 2\)"):
        y.sum().backward()


def test_post_accumulate_grad_hook():
    from numtorch.autograd.engine import register_post_accumulate_grad_hook
    x = nt.ones(2, requires_grad=True)
    got = []
    register_post_accumulate_grad_hook(x, lambda p: got.append(vals(p.grad).tolist()))
    (x * 2).sum().backward()
    (x * 2).sum().backward()
    assert got == [[2.0, 2.0], [4.0, 4.0]]


def test_backward_gradient_argument_and_autograd_backward():
    x = nt.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.backward(nt.tensor([1.0, 0.5]))
    np.testing.assert_allclose(vals(x.grad), [2.0, 2.0])
    x.grad = None
    a, b = x * 2, x * 3
    nt.autograd.backward([a.sum(), b], [None, nt.ones(2)])
    np.testing.assert_allclose(vals(x.grad), [5.0, 5.0])
    x.grad = None
    nt.autograd.backward(x.sum() * 2)
    np.testing.assert_allclose(vals(x.grad), [2.0, 2.0])


def test_backward_inputs():
    x = nt.ones(2, requires_grad=True)
    w = nt.ones(2, requires_grad=True)
    (x * w * 3).sum().backward(inputs=[x])
    np.testing.assert_allclose(vals(x.grad), [3.0, 3.0])
    assert w.grad is None
    y = x * 2
    (y * y).sum().backward(inputs=[y])
    np.testing.assert_allclose(vals(y.grad), [4.0, 4.0])
    np.testing.assert_allclose(vals(x.grad), [3.0, 3.0])     # untouched


def test_retain_graph_and_saved_tensor_release():
    x = nt.tensor([1.0, 2.0], requires_grad=True)
    z = (x * x).sum()
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_allclose(vals(x.grad), [4.0, 8.0])
    x2 = nt.ones(2, requires_grad=True)
    s = (x2 + x2).sum()          # nothing saved: a second backward works
    s.backward()
    s.backward()
    np.testing.assert_allclose(vals(x2.grad), [4.0, 4.0])


def test_backward_from_intermediate_and_diamond():
    x = nt.tensor([1.0, 2.0], requires_grad=True)
    a = x * 3
    b = a.exp()
    c = a.sin()
    (b.sum() + c.sum()).backward(retain_graph=True)
    xv = np.array([1.0, 2.0])
    np.testing.assert_allclose(vals(x.grad), 3 * np.exp(3 * xv) + 3 * np.cos(3 * xv), rtol=1e-5)
    x.grad = None
    a.sum().backward()                   # from an intermediate tensor
    np.testing.assert_allclose(vals(x.grad), [3.0, 3.0])
    x.grad = None
    d = x * 2
    (d * d + d).sum().backward()         # diamond: three uses of d accumulate
    np.testing.assert_allclose(vals(x.grad), 2 * (2 * 2 * xv + 1))


def test_autograd_grad_basic_and_unused():
    x = nt.tensor([1.0, 2.0], requires_grad=True)
    w = nt.tensor([3.0, 4.0], requires_grad=True)
    u = nt.ones(2, requires_grad=True)
    (gx, gw) = nt.autograd.grad((x * w).sum(), [x, w])
    np.testing.assert_allclose(vals(gx), [3.0, 4.0])
    np.testing.assert_allclose(vals(gw), [1.0, 2.0])
    assert x.grad is None and w.grad is None
    gx, gu = nt.autograd.grad((x * 2).sum(), [x, u], allow_unused=True)
    assert gu is None
    gx, gu = nt.autograd.grad((x * 2).sum(), [x, u], materialize_grads=True)
    np.testing.assert_allclose(vals(gu), [0.0, 0.0])
    (g,) = nt.autograd.grad((x * 2).sum(), x)
    assert isinstance(g, nt.Tensor)
    y = x * 2
    (gy,) = nt.autograd.grad((y * y).sum(), y)         # w.r.t. a non-leaf
    np.testing.assert_allclose(vals(gy), [4.0, 8.0])
    g1, g2 = nt.autograd.grad([(x * 2).sum(), (x * 3).sum()], [x, x])
    np.testing.assert_allclose(vals(g1), [5.0, 5.0])


def test_autograd_grad_hooks_and_capture():
    x = nt.ones(2, requires_grad=True)
    x.register_hook(lambda g: g * 10)
    (g,) = nt.autograd.grad((x * 3).sum(), x)
    np.testing.assert_allclose(vals(g), [30.0, 30.0])


def test_double_backward_cube():
    x = nt.tensor(3.0, requires_grad=True)
    (g,) = nt.autograd.grad(x ** 3, x, create_graph=True)
    assert repr(g) == "tensor(27., grad_fn=<MulBackward0>)"
    (g2,) = nt.autograd.grad(g, x)
    assert g2.item() == 18.0
    x.grad = None
    y = x ** 3
    y.backward(create_graph=True)
    assert x.grad.requires_grad
    gg = x.grad
    x.grad = None
    gg.backward()
    assert x.grad.item() == 18.0


def test_double_backward_through_saved_output():
    x = nt.tensor([0.5, -1.0], dtype=nt.float64, requires_grad=True)
    (g,) = nt.autograd.grad(x.exp().sum(), x, create_graph=True)
    (g2,) = nt.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(vals(g2), np.exp([0.5, -1.0]))
    (g,) = nt.autograd.grad(x.tanh().sum(), x, create_graph=True)
    (g2,) = nt.autograd.grad(g.sum(), x)
    t = np.tanh([0.5, -1.0])
    np.testing.assert_allclose(vals(g2), -2 * t * (1 - t * t))


def test_grad_dtype_follows_input_and_broadcast_unreduced():
    x = nt.ones(3, dtype=nt.float64, requires_grad=True)
    w = nt.ones(2, 1, requires_grad=True)
    (x.float() * w).sum().backward()
    assert x.grad.dtype is nt.float64 and w.grad.shape == (2, 1)
    np.testing.assert_allclose(vals(w.grad), [[3.0], [3.0]])
    np.testing.assert_allclose(vals(x.grad), [2.0, 2.0, 2.0])


def test_variable_alias():
    V = nt.autograd.Variable
    t = nt.ones(2)
    v = V(t, requires_grad=True)
    assert v is not t and v.requires_grad and not t.requires_grad and v.data_ptr() == t.data_ptr()
    assert isinstance(t, V) and v.is_leaf
    y = t * 2
    assert V(y) is not y
