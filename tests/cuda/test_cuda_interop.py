"""DLPack and __cuda_array_interface__ interop: NumPy, PyTorch (when importable) and CUDA tensors."""
import gc
import subprocess
import sys

import numpy as np
import pytest

cuda = pytest.importorskip("numtorch.kernels.cuda")   # skips if numba.cuda unusable

from numba import cuda as nc  # noqa: E402

import numtorch as nt  # noqa: E402
from numtorch import dlpack as ndl  # noqa: E402

DTYPES = [(nt.bool, np.bool_), (nt.uint8, np.uint8), (nt.int8, np.int8), (nt.int16, np.int16),
          (nt.int32, np.int32), (nt.int64, np.int64), (nt.float16, np.float16), (nt.float32, np.float32),
          (nt.float64, np.float64)]
VALUES = [0, 1, 5, 2, 0, 7]


@pytest.fixture
def gpu(monkeypatch):
    monkeypatch.setenv("NUMTORCH_CUDASIM", "1")
    if not nt.cuda.is_available():
        pytest.skip("no CUDA device or simulator")


def _grid(dtype=nt.float32):
    return nt.arange(12, dtype=dtype).reshape(3, 4)


# ----------------------------------------------------------------------------- CPU, NumPy
def test_import_does_not_load_numba_cuda():
    code = "import sys, numtorch; assert 'numba.cuda' not in sys.modules; numtorch.from_dlpack"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_dlpack_device_cpu():
    dev = _grid().__dlpack_device__()
    assert dev == (1, 0) and dev[0] is ndl.DLDeviceType.kDLCPU
    assert repr(dev) == "(<DLDeviceType.kDLCPU: 1>, 0)"


def test_numpy_from_numtorch_shares_memory():
    t = _grid()
    a = np.from_dlpack(t)
    assert a.flags.writeable and a.dtype == np.float32
    np.testing.assert_array_equal(a, np.arange(12, dtype=np.float32).reshape(3, 4))
    a[0, 1] = 99
    assert t[0, 1].item() == 99
    t[2, 3] = -1
    assert a[2, 3] == -1


@pytest.mark.parametrize("view", [lambda t: t[1:, ::2], lambda t: t.t(), lambda t: t[2], lambda t: t[1:, 1:3],
                                  lambda t: t[:, 1:2].expand(3, 5)])
def test_numpy_from_numtorch_views(view):
    t = _grid(nt.float64)
    v = view(t)
    a = np.from_dlpack(v)
    assert a.shape == tuple(v.shape)
    assert a.strides == tuple(s * 8 for s in v.stride())
    np.testing.assert_array_equal(a, np.asarray(v.contiguous().tolist()))
    if all(s for s in v.stride()):
        a[...] = -7
        assert (v == -7).all().item() and t.sum().item() != 66


@pytest.mark.parametrize("dt,npdt", DTYPES)
def test_round_trip_every_dtype(dt, npdt):
    t = nt.tensor(VALUES, dtype=dt)
    a = np.from_dlpack(t)
    assert a.dtype == npdt
    np.testing.assert_array_equal(a, np.array(VALUES).astype(npdt))
    back = nt.from_dlpack(a)
    assert back.dtype is dt and back.tolist() == t.tolist()
    back[1] = 0
    assert t[1].item() == 0
    c = nt.from_dlpack(nt.dlpack.to_dlpack(t[1:]))       # raw capsule, offset view
    assert c.dtype is dt and c.tolist() == t[1:].tolist()


def test_zero_dim_and_empty():
    t = nt.tensor(3.5)
    a = np.from_dlpack(t)
    assert a.shape == () and a[()] == 3.5
    back = nt.from_dlpack(np.array(2, dtype=np.int32))
    assert back.shape == () and back.dtype is nt.int32 and back.item() == 2
    e = nt.from_dlpack(np.empty((0, 3), np.float32))
    assert e.shape == (0, 3)
    assert np.from_dlpack(nt.zeros(0, 2)).shape == (0, 2)


def test_numtorch_from_numpy_shares_memory():
    x = np.arange(24, dtype=np.float32).reshape(4, 6)
    t = nt.from_dlpack(x)
    t[0, 0] = 50
    assert x[0, 0] == 50
    v = x[1::2, 2:5]
    tv = nt.from_dlpack(v)
    assert tv.shape == (2, 3) and tv.stride() == (12, 1)
    assert tv.tolist() == v.tolist()
    tv.fill_(-3)
    assert (x[1::2, 2:5] == -3).all() and x[0, 2] == 2
    tt = nt.from_dlpack(x.T)
    assert tt.stride() == (1, 6) and tt.tolist() == x.T.tolist()
    ro = np.arange(3.0)
    ro.flags.writeable = False
    r = nt.from_dlpack(ro)                                        # PyTorch ignores the read-only flag too
    r[0] = 5
    assert ro[0] == 5


def test_from_numtorch_tensor_shares_memory():
    t = _grid()
    u = nt.from_dlpack(t)
    assert u is not t and u.shape == t.shape
    u[0, 0] = 8
    assert t[0, 0].item() == 8


def test_capsules_and_versions():
    t = _grid(nt.int64)
    cap = nt.dlpack.to_dlpack(t)
    assert "dltensor" in repr(cap) and "used" not in repr(cap)
    u = nt.from_dlpack(cap)
    assert '"used_dltensor"' in repr(cap)
    with pytest.raises(RuntimeError, match="consumed only once"):
        nt.from_dlpack(cap)
    vcap = t.__dlpack__(max_version=(1, 0))
    assert '"dltensor_versioned"' in repr(vcap)
    w = nt.from_dlpack(vcap)
    assert '"used_dltensor_versioned"' in repr(vcap)
    w[1, 1] = 0
    assert u[1, 1].item() == 0 and t[1, 1].item() == 0
    assert '"dltensor"' in repr(t.__dlpack__(max_version=(0, 8)))


def test_lifetimes():
    gc.collect()
    live = len(ndl._LIVE)
    t = nt.arange(6, dtype=nt.float64) * 2
    a = np.from_dlpack(t)
    del t
    gc.collect()
    np.testing.assert_array_equal(a, np.arange(6) * 2.0)        # the export keeps the buffer alive
    assert len(ndl._LIVE) == live + 1
    del a
    gc.collect()
    assert len(ndl._LIVE) == live                                 # consumer released it
    cap = _grid().__dlpack__()
    assert len(ndl._LIVE) == live + 1
    del cap                                                       # never consumed: the capsule frees it
    assert len(ndl._LIVE) == live
    x = np.arange(5.0)
    u = nt.from_dlpack(x)
    del x
    gc.collect()
    assert u.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_dlpack_arguments():
    t = _grid()
    a = np.from_dlpack(t, copy=True)
    a[0, 0] = 5
    assert t[0, 0].item() == 0
    b = np.from_dlpack(t, device="cpu")
    b[0, 0] = 6
    assert t[0, 0].item() == 6
    with pytest.raises(AssertionError, match="stream should be None on cpu"):
        t.__dlpack__(stream=3)
    with pytest.raises(TypeError):
        t.__dlpack__(stream="x")
    t.__dlpack__(stream=-1)
    g = nt.ones(3, requires_grad=True)
    with pytest.raises(BufferError, match="require gradient"):
        g.__dlpack__()
    with pytest.raises(BufferError, match="require gradient"):
        nt.from_dlpack(g)
    np.from_dlpack(g.detach())
    with pytest.raises(TypeError):
        nt.from_dlpack([1, 2])


def test_cpu_tensor_has_no_cuda_array_interface():
    t = _grid()
    assert not hasattr(t, "__cuda_array_interface__")
    with pytest.raises(AttributeError, match=r"non-CUDA tensor type: torch\.FloatTensor If CUDA data is required"):
        t.__cuda_array_interface__


# ----------------------------------------------------------------------------- CPU, PyTorch
def test_torch_round_trip():
    torch = pytest.importorskip("torch")
    t = _grid()
    tt = torch.from_dlpack(t)
    assert tt.dtype == torch.float32 and tt.tolist() == t.tolist()
    tt[0, 0] = 11
    assert t[0, 0].item() == 11
    v = torch.from_dlpack(t[1:, ::2])
    assert v.stride() == (4, 2) and v.tolist() == t[1:, ::2].tolist()
    v.zero_()
    assert t[1, 0].item() == 0 and t[1, 1].item() == 5
    src = torch.arange(10, dtype=torch.int32)
    u = nt.from_dlpack(src[2:8:2])
    assert u.dtype is nt.int32 and u.tolist() == [2, 4, 6]
    u[0] = -1
    assert src[2].item() == -1
    w = nt.from_dlpack(torch.utils.dlpack.to_dlpack(src))         # a raw torch capsule
    w[9] = 100
    assert src[9].item() == 100


@pytest.mark.parametrize("dt,npdt", DTYPES)
def test_torch_every_dtype(dt, npdt):
    torch = pytest.importorskip("torch")
    t = nt.tensor(VALUES, dtype=dt)
    tt = torch.from_dlpack(t)
    assert str(tt.dtype) == str(dt) and tt.tolist() == t.tolist()
    back = nt.from_dlpack(tt)
    assert back.dtype is dt and back.tolist() == t.tolist()
    assert nt.from_dlpack(torch.tensor(5, dtype=getattr(torch, dt.name))).shape == ()


# ----------------------------------------------------------------------------- CUDA
def test_cuda_dlpack_device(gpu):
    c = nt.tensor([1.0, 2.0], device="cuda")
    dev = c.__dlpack_device__()
    assert dev == (2, 0) and dev[0] is ndl.DLDeviceType.kDLCUDA


def test_cuda_array_interface_fields(gpu):
    c = nt.arange(12, dtype=nt.float32, device="cuda").reshape(3, 4)
    cai = c.__cuda_array_interface__
    assert cai["version"] == 3 and cai["stream"] is None
    assert cai["shape"] == (3, 4) and cai["typestr"] == "<f4" and cai["strides"] is None
    ptr, ro = cai["data"]
    assert ro is False and ptr != 0
    v = c.t()
    assert v.__cuda_array_interface__["strides"] == (4, 16)
    o = c[1:, 2:]
    oc = o.__cuda_array_interface__
    assert oc["data"][0] == ptr + 6 * 4 and oc["strides"] == (16, 4) and oc["shape"] == (2, 2)
    assert nt.zeros(0, device="cuda").__cuda_array_interface__["data"][0] == 0
    for dt, npdt in DTYPES:
        assert nt.zeros(2, dtype=dt, device="cuda").__cuda_array_interface__["typestr"] == np.dtype(npdt).str
    with pytest.raises(RuntimeError, match="requires grad"):
        nt.ones(2, device="cuda", requires_grad=True).__cuda_array_interface__


def _with_cai(arr):
    """``arr`` if it exposes __cuda_array_interface__ (a GPU), else the simulator's host-pointer stand-in."""
    if hasattr(arr, "__cuda_array_interface__"):
        return arr

    class Exposed:
        __cuda_array_interface__ = {"shape": arr.shape, "strides": None, "typestr": arr.dtype.str,
                                    "data": (arr._ary.ctypes.data, False), "version": 3, "stream": None}
        keep = arr
    return Exposed()


@pytest.mark.parametrize("make", [lambda a: nt.from_dlpack(a), lambda a: nt.as_tensor(_with_cai(a)),
                                  lambda a: nt.from_dlpack(_with_cai(a))])
def test_cuda_from_device_array_shares_memory(gpu, make):
    arr = nc.to_device(np.arange(6, dtype=np.int32))
    t = make(arr)
    assert t.is_cuda and t.dtype is nt.int32 and t.shape == (6,)
    assert t.cpu().tolist() == list(range(6))
    t[0] = 40
    assert arr.copy_to_host()[0] == 40
    arr.copy_to_device(np.full(6, 3, np.int32))
    assert t.cpu().tolist() == [3] * 6


def test_cuda_capsule_round_trip(gpu):
    c = nt.arange(12, dtype=nt.float64, device="cuda").reshape(3, 4)
    for cap in (c.__dlpack__(), c.__dlpack__(max_version=(1, 0)), nt.dlpack.to_dlpack(c)):
        u = nt.from_dlpack(cap)
        assert u.is_cuda and u.shape == (3, 4) and u.cpu().tolist() == c.cpu().tolist()
        assert "used_" in repr(cap)
    u[0, 0] = -9
    assert c[0, 0].item() == -9
    v = nt.from_dlpack(c[:, 1::2].__dlpack__())
    assert v.is_cuda and v.stride() == (4, 2) and v.cpu().tolist() == c[:, 1::2].cpu().tolist()
    v[2, 1] = 77
    assert c[2, 3].item() == 77
    w = nt.from_dlpack(c)                                         # through __cuda_array_interface__
    w[1, 1] = 5
    assert c[1, 1].item() == 5


@pytest.mark.parametrize("dt,npdt", [DTYPES[0], DTYPES[5], DTYPES[6], DTYPES[7]])
def test_cuda_capsule_dtypes(gpu, dt, npdt):
    c = nt.tensor(VALUES, dtype=dt, device="cuda")
    u = nt.from_dlpack(c.__dlpack__())
    assert u.is_cuda and u.dtype is dt and u.cpu().tolist() == c.cpu().tolist()
    z = nt.from_dlpack(nt.tensor(1, dtype=dt, device="cuda").__dlpack__())
    assert z.shape == () and z.is_cuda


def test_cuda_export_to_cpu_copy(gpu):
    c = nt.tensor([1.0, 2.0, 3.0], device="cuda")
    a = np.from_dlpack(c, device="cpu")                           # dl_device=(1, 0): a host copy
    np.testing.assert_array_equal(a, [1.0, 2.0, 3.0])
    a[0] = 10
    assert c[0].item() == 1.0
    with pytest.raises(BufferError):
        c.__dlpack__(dl_device=(1, 0), copy=False)
    with pytest.raises(BufferError, match="per-thread"):
        c.__dlpack__(stream=2)
    c.__dlpack__(stream=1)
