"""In-place correctness: history rebasing, CopySlices through views, view grad_fn regeneration,
version counters of detach()/.data, detach_()."""
import numpy as np
import pytest

import numtorch as nt

HAS_SETITEM = hasattr(nt.Tensor, "__setitem__")


def vals(t):
    return t.detach().numpy()


def test_inplace_on_nonleaf_rebases_history():
    x = nt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.clone()
    y.mul_(2)
    assert y.grad_fn.name() == "MulBackward0"
    assert y.grad_fn.next_functions[0][0].name() == "CloneBackward0"
    y.exp_()
    (y * 1).sum().backward()
    np.testing.assert_allclose(vals(x.grad), 2 * np.exp(2 * np.array([1.0, 2.0, 3.0])), rtol=1e-6)


@pytest.mark.parametrize("op,name", [("fill", "CopySlices"), ("mul", "CopySlices")])
def test_copyslices_select(op, name):
    x = nt.ones(3, requires_grad=True)
    y = x.clone()
    v = y.select(0, 0)
    if op == "fill":
        v.fill_(5)
        expect = [0.0, 1.0, 1.0]
        w = nt.ones(3)
    else:
        v.mul_(2)
        w = nt.tensor([1.0, 2.0, 3.0])
        expect = [2.0, 2.0, 3.0]
    assert type(y.grad_fn).__name__ == name and y.grad_fn.name() == "torch::autograd::CopySlices"
    assert y.grad_fn.next_functions[0][0].name() == "CloneBackward0"
    assert v.grad_fn.name() == "AsStridedBackward0"
    assert v.grad_fn.next_functions[0][0] is y.grad_fn
    (y * w).sum().backward()
    np.testing.assert_allclose(vals(x.grad), expect)


def test_copyslices_other_operand_gets_grad():
    x = nt.ones(3, requires_grad=True)
    w = nt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.clone()
    y.narrow(0, 1, 2).mul_(w.narrow(0, 1, 2))
    (y * nt.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(vals(x.grad), [1.0, 4.0, 9.0])
    np.testing.assert_allclose(vals(w.grad), [0.0, 2.0, 3.0])


def test_copy_into_view_of_constant():
    x = nt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = nt.zeros(3)
    y.narrow(0, 1, 2).copy_(x.narrow(0, 1, 2) * 2)
    assert y.requires_grad and y.grad_fn.name() == "torch::autograd::CopySlices"
    assert y.grad_fn.next_functions[0] == (None, 0)
    y.sum().backward()
    np.testing.assert_allclose(vals(x.grad), [0.0, 2.0, 2.0])


def test_copy_and_fill_names():
    x = nt.ones(3, requires_grad=True)
    y = x.clone()
    y.copy_(x * 2)
    assert y.grad_fn.name() == "CopyBackwards"
    assert [f.name() for f, _ in y.grad_fn.next_functions] == ["CloneBackward0", "MulBackward0"]
    y.sum().backward()
    np.testing.assert_allclose(vals(x.grad), [2.0, 2.0, 2.0])
    z = nt.zeros(3)
    z.copy_(x)
    assert z.grad_fn.next_functions[0] == (None, 0)


def test_inplace_on_transposed_view():
    x = nt.arange(6.0).reshape(2, 3).requires_grad_()
    y = x * 1
    t = y.t()
    t.add_(1)
    t.mul_(nt.arange(6.0).reshape(3, 2))
    assert y.grad_fn.name() == "torch::autograd::CopySlices"
    y.sum().backward()
    np.testing.assert_allclose(vals(x.grad), np.arange(6.0).reshape(3, 2).T)


def test_view_regenerated_after_base_modified():
    x = nt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.clone()
    a = y.narrow(0, 0, 2)
    y.select(0, 1).fill_(5)          # overlaps a
    a.sum().backward()
    np.testing.assert_allclose(vals(x.grad), [1.0, 0.0, 0.0])


def test_nested_views_route_to_base():
    x = nt.arange(12.0).reshape(3, 4).requires_grad_()
    y = x * 1
    row = y.select(0, 1)
    row.narrow(0, 1, 2).mul_(10)
    (y * 1).sum().backward()
    g = np.ones((3, 4))
    g[1, 1:3] = 10
    np.testing.assert_allclose(vals(x.grad), g)


def test_noncontiguous_base():
    p = nt.arange(6.0).reshape(2, 3)
    base = p.t().detach()            # a root with transposed strides
    w = nt.tensor([1.0, 2.0], requires_grad=True)
    base.select(0, 1).copy_(w)
    (base * nt.arange(6.0).reshape(3, 2)).sum().backward()
    np.testing.assert_allclose(vals(w.grad), [2.0, 3.0])


def test_saved_tensor_modified_raises():
    x = nt.ones(2, requires_grad=True)
    y = x.exp()
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_detach_shares_version_counter_data_does_not():
    d = nt.ones(2)
    e = d.detach()
    e.add_(1)
    assert d._version == 1 and e._version == 1 and d.tolist() == [2.0, 2.0]
    d2 = nt.ones(2)
    f = d2.data
    f.add_(1)
    assert d2._version == 0 and f._version == 1 and d2.tolist() == [2.0, 2.0]
    # .data changes escape the version check (that is what .data is for)
    x = nt.ones(2, requires_grad=True)
    y = x.exp()
    y.data.add_(1)
    y.sum().backward()
    np.testing.assert_allclose(vals(x.grad), [np.e + 1] * 2, rtol=1e-6)


def test_detach_inplace():
    x = nt.ones(2, requires_grad=True)
    y = x * 2
    y.detach_()
    assert y.is_leaf and not y.requires_grad and y.grad_fn is None


def test_version_counts_inplace_ops():
    t = nt.zeros(3)
    assert t._version == 0
    t.add_(1)
    t.narrow(0, 0, 1).mul_(2)
    assert t._version == 2


@pytest.mark.skipif(not HAS_SETITEM, reason="indexing module not available")
def test_setitem_copyslices():
    x = nt.ones(3, requires_grad=True)
    y = x.clone()
    y[0] = 5
    assert repr(y.grad_fn).startswith("<CopySlices object at")
    y.sum().backward()
    np.testing.assert_allclose(vals(x.grad), [0.0, 1.0, 1.0])
    x2 = nt.ones(3, requires_grad=True)
    y2 = x2.clone()
    y2[0].mul_(2)
    (y2 * nt.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(vals(x2.grad), [2.0, 2.0, 3.0])
    w = nt.tensor([2.0, 3.0], requires_grad=True)
    z = nt.zeros(4)
    z[1:3] = w * w
    z.sum().backward()
    np.testing.assert_allclose(vals(w.grad), [4.0, 6.0])


@pytest.mark.skipif(not HAS_SETITEM, reason="indexing module not available")
def test_setitem_on_leaf_errors():
    x = nt.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad is being used in an "
                                           "in-place operation."):
        x[0] = 1.0


def test_against_torch_inplace_grads():
    torch = pytest.importorskip("torch")

    def scenario(T):
        x = T.tensor([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]], requires_grad=True)
        y = x * 1
        y.t().select(0, 1).mul_(3)
        y.narrow(1, 0, 2).add_(y.narrow(1, 1, 2).detach())
        z = y.sin()
        z.narrow(0, 1, 1).mul_(2)
        (z * z).sum().backward()
        return x.grad.tolist(), type(y.grad_fn).__name__, type(z.grad_fn).__name__
    a, b = scenario(nt), scenario(torch)
    np.testing.assert_allclose(a[0], b[0], rtol=1e-5)
    assert a[1:] == b[1:]


def test_retain_grad_and_hooks_follow_inplace():
    x = nt.ones(2, requires_grad=True)
    y = x * 2
    y.retain_grad()
    seen = []
    y.register_hook(lambda g: seen.append(g.tolist()))
    y.mul_(3)
    (y * 5).sum().backward()
    assert y.grad.tolist() == [5.0, 5.0] and x.grad.tolist() == [30.0, 30.0]
    assert seen == [[15.0, 15.0]]          # the hook stays on the pre-in-place value, like PyTorch
    x = nt.ones(3, requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.narrow(0, 0, 2).mul_(3)
    (y * 5).sum().backward()
    assert y.grad.tolist() == [5.0, 5.0, 5.0] and x.grad.tolist() == [30.0, 30.0, 10.0]


def test_record_fill_helper_names():
    from numtorch.autograd.inplace import record_fill
    x = nt.ones(3, requires_grad=True)
    v = nt.tensor(2.0, requires_grad=True)
    c = x.clone()
    record_fill(c, "FillBackward3", v)
    assert c.grad_fn.name() == "FillBackward3" and c.grad_fn.next_functions[1][0].variable is v
    (c * nt.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0] and v.grad.item() == 6.0
    z = x.clone()
    record_fill(z, "ZeroBackward0")
    assert z.grad_fn.name() == "ZeroBackward0" and len(z.grad_fn.next_functions) == 1


def test_copyslices_second_backward_fails_like_torch():
    x = nt.ones(3, requires_grad=True)
    for op in ("mul", "add"):
        y = x.clone()
        v = y.narrow(0, 0, 2)
        v.mul_(nt.ones(2, requires_grad=True)) if op == "mul" else v.add_(1)
        s = y.sum()
        s.backward()
        with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
            s.backward()
    y = x.clone()
    y.narrow(0, 0, 2).add_(1)
    s = y.sum()
    s.backward(retain_graph=True)
    s.backward()
