import numpy as np
import pytest

import numtorch as nt


@pytest.fixture(autouse=True)
def _on_each_device(device):
    """Every case runs with factories on the CPU and on CUDA (see the ``device`` fixture)."""


def a34():
    return nt.arange(12.0).reshape(3, 4)


def test_view_shares_storage_and_infers():
    x = nt.tensor([1, 2, 3, 4, 5, 6, 7, 8])
    y = x.view(4, 2)
    x[0] = 7
    assert y[0, 0].item() == 7
    assert x.view(-1, 4).shape == (2, 4)
    assert y.data_ptr() == x.data_ptr()
    c = x.clone().view(4, 2)
    x[0] = 20
    assert c[0, 0].item() == 7


def test_view_errors():
    x = a34()
    with pytest.raises(RuntimeError, match="view size is not compatible with input tensor's size and stride"):
        x.t().view(-1)
    with pytest.raises(RuntimeError, match="only one dimension can be inferred"):
        x.view(-1, -1)
    with pytest.raises(RuntimeError, match=r"shape '\[5, -1\]' is invalid for input of size 12"):
        x.view(5, -1)
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        nt.ones(2, 1).expand(2, 3).view(-1)


def test_reshape_copies_only_when_needed():
    x = a34()
    assert x.reshape(4, 3).data_ptr() == x.data_ptr()
    r = x.t().reshape(-1)
    np.testing.assert_array_equal(r.cpu().numpy(), np.arange(12.0).reshape(3, 4).T.reshape(-1))
    assert r.data_ptr() != x.data_ptr()


def test_permute_transpose_t():
    x = nt.arange(24).reshape(2, 3, 4)
    n = np.arange(24).reshape(2, 3, 4)
    np.testing.assert_array_equal(x.permute(2, 0, 1).cpu().numpy(), n.transpose(2, 0, 1))
    np.testing.assert_array_equal(x.transpose(0, 2).cpu().numpy(), n.swapaxes(0, 2))
    assert not x.transpose(0, 2).is_contiguous()
    np.testing.assert_array_equal(a34().t().cpu().numpy(), np.arange(12.0).reshape(3, 4).T)
    np.testing.assert_array_equal(x.mT.cpu().numpy(), n.swapaxes(-1, -2))
    np.testing.assert_array_equal(x.T.cpu().numpy(), n.T)
    np.testing.assert_array_equal(x.movedim(0, -1).cpu().numpy(), np.moveaxis(n, 0, -1))
    with pytest.raises(RuntimeError, match=r"t\(\) expects a tensor with <= 2 dimensions"):
        x.t()


def test_squeeze_unsqueeze_flatten():
    x = nt.tensor([[[1, 2], [3, 4]]])
    assert x.squeeze().shape == (2, 2) and x.squeeze(0).shape == (2, 2) and x.squeeze(1).shape == (1, 2, 2)
    assert nt.zeros(1, 2, 1).squeeze((0, 2)).shape == (2,)
    assert x.unsqueeze(0).shape == (1, 1, 2, 2) and x.unsqueeze(-1).shape == (1, 2, 2, 1)
    assert nt.zeros(2, 3, 4).flatten(1).shape == (2, 12) and nt.tensor(3).flatten().shape == (1,)
    assert nt.zeros(2, 12).unflatten(1, (3, -1)).shape == (2, 3, 4)
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-3, 2\], but got 3\)"):
        x.squeeze(3)


def test_expand_stride0_and_errors():
    x = nt.tensor([[1], [2]])
    e = x.expand(2, 3)
    assert e.stride() == (1, 0) and e.tolist() == [[1, 1, 1], [2, 2, 2]]
    assert x.expand(4, -1, 3).stride() == (0, 1, 0)
    with pytest.raises(RuntimeError, match=r"The expanded size of the tensor \(3\) must match the existing size \(2\) at "
                                           r"non-singleton dimension 1.  Target sizes: \[2, 3\].  Tensor sizes: \[1, 2\]"):
        nt.ones(1, 2).expand(2, 3)
    a, b = nt.broadcast_tensors(nt.ones(3, 1), nt.ones(4))
    assert a.shape == b.shape == (3, 4)
    assert nt.broadcast_shapes((5, 1, 4, 1), (3, 1, 1)) == (5, 3, 4, 1)
    with pytest.raises(RuntimeError, match="unsupported operation: more than one element"):
        e.add_(1)


@pytest.mark.parametrize("n,chunks,sizes", [(17, 4, [5, 5, 5, 2]), (6, 4, [2, 2, 2]), (5, 4, [2, 2, 1]),
                                             (2, 5, [1, 1]), (0, 3, [0, 0, 0])])
def test_chunk_sizes(n, chunks, sizes):
    assert [c.shape[0] for c in nt.zeros(n, 3).chunk(chunks)] == sizes


def test_split_tensor_split_unbind():
    x = nt.zeros(17, 4)
    assert [s.shape[0] for s in x.split(5)] == [5, 5, 5, 2]
    assert [s.shape[0] for s in x.split([3, 14])] == [3, 14]
    with pytest.raises(RuntimeError, match="split_with_sizes expects split_sizes to sum exactly to 17"):
        x.split([3, 4])
    assert [s.shape[0] for s in x.tensor_split(4)] == [5, 4, 4, 4]
    assert [s.shape[0] for s in x.tensor_split([2, 5])] == [2, 3, 12]
    with pytest.raises(RuntimeError, match="chunk expects `chunks` to be greater than 0, got: 0"):
        x.chunk(0)
    rows = nt.arange(6).reshape(3, 2).unbind()
    assert [r.tolist() for r in rows] == [[0, 1], [2, 3], [4, 5]]
    c = x.chunk(4)[1]
    c.fill_(1)
    assert x[5:10].sum().item() == 20


def test_narrow_select_diagonal_as_strided():
    x = a34()
    n = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(x.narrow(1, 1, 2).cpu().numpy(), n[:, 1:3])
    np.testing.assert_array_equal(x.select(1, -1).cpu().numpy(), n[:, -1])
    np.testing.assert_array_equal(x.diagonal().cpu().numpy(), np.diagonal(n))
    np.testing.assert_array_equal(x.diagonal(1).cpu().numpy(), np.diagonal(n, 1))
    np.testing.assert_array_equal(x.diagonal(-1).cpu().numpy(), np.diagonal(n, -1))
    np.testing.assert_array_equal(x.as_strided((2, 2), (1, 4)).cpu().numpy(), np.array([[0, 4], [1, 5.0]]))
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        x.select(0, 3)


def test_detach_contiguous_clone():
    x = a34()
    d = x.detach()
    d[0, 0] = 5
    assert x[0, 0].item() == 5 and d._version == x._version
    t = x.t()
    c = t.contiguous()
    assert c.is_contiguous() and c.stride() == (3, 1) and x.contiguous() is x
    np.testing.assert_array_equal(c.cpu().numpy(), t.cpu().numpy())


@pytest.mark.cpu_only
def test_metadata():
    x = nt.zeros(2, 3)
    assert isinstance(x.shape, tuple) and repr(x.shape) == "torch.Size([2, 3])" and x.size(-1) == 3
    assert x.dim() == 2 and x.ndim == 2 and x.numel() == 6 and x.stride() == (3, 1) and x.storage_offset() == 0
    assert repr(x.device) == "device(type='cpu')" and str(x.device) == "cpu" and not x.is_cuda
    assert x.device != "cpu" and x.device.type == "cpu"
    assert x[1].storage_offset() == 3 and len(x) == 2 and x.element_size() == 4
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(nt.tensor(1.0))
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value is ambiguous"):
        bool(nt.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted to Scalar"):
        nt.tensor([1, 2]).item()
    assert float(nt.tensor([2.5])) == 2.5 and int(nt.tensor(3)) == 3
    assert [int(v) for v in nt.tensor([4, 5])] == [4, 5]
    assert np.asarray(nt.tensor([1.0, 2.0])).dtype == np.float32
    assert nt.tensor([1.7, -1.7]).type(nt.int).tolist() == [1, -1]
    assert nt.tensor([1.0]).type() == "torch.FloatTensor"


@pytest.mark.cpu_only
def test_to_and_casts():
    x = nt.tensor([1.5, -2.5])
    assert x.to(nt.float32) is x and x.to("cpu") is x
    assert x.to(nt.float64).dtype is nt.float64 and x.double().dtype is nt.float64
    assert x.int().tolist() == [1, -2] and x.bool().tolist() == [True, True]
    assert x.to("cpu", nt.float64).dtype is nt.float64 and x.to(nt.zeros(1, dtype=nt.int64)).dtype is nt.int64
    assert x.half().dtype is nt.float16 and x.half().float().tolist() == [1.5, -2.5]
    h = nt.tensor([1, 2]).copy_(nt.tensor([3.7, 4.2]))
    assert h.tolist() == [3, 4]


def test_views_matches_torch_grad_fns():
    torch = pytest.importorskip("torch")
    for fn in (lambda x: x.view(12), lambda x: x.t(), lambda x: x.T, lambda x: x.unsqueeze(0),
               lambda x: x.expand(2, 3, 4), lambda x: x[0], lambda x: x[0:1], lambda x: x.squeeze(),
               lambda x: x.chunk(2)[0], lambda x: x.split([1, 2])[0], lambda x: x.unbind()[1],
               lambda x: x.permute(1, 0), lambda x: x.transpose(0, 1), lambda x: x.narrow(0, 0, 1),
               lambda x: x.diagonal(), lambda x: x.flatten(), lambda x: x.t().reshape(-1)):
        a = fn(nt.ones(3, 4, requires_grad=True)).grad_fn.name()
        b = fn(torch.ones(3, 4, requires_grad=True)).grad_fn.name()
        assert a == b
