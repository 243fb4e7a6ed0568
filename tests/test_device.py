"""Device objects and CUDA requests where no GPU is offered (the CPU build behaviour the tutorials show)."""
import pickle

import pytest

import numtorch as nt


def test_device_parsing_and_equality():
    assert str(nt.device("cuda:1")) == "cuda:1" and nt.device("cuda", 0) == nt.device("cuda:0")
    assert repr(nt.device(type="cuda", index=0)) == "device(type='cuda', index=0)"
    assert repr(nt.device("cpu")) == "device(type='cpu')" and nt.device(nt.device("cpu")).type == "cpu"
    assert pickle.loads(pickle.dumps(nt.device("cuda:0"))) == nt.device("cuda:0")
    assert nt.device("cpu") != "cpu"
    with pytest.raises(RuntimeError, match="Invalid device string"):
        nt.device("cuda:x")
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda"):
        nt.device("gpu")


def test_cuda_requests_without_a_gpu(monkeypatch):
    monkeypatch.delenv("NUMTORCH_CUDASIM", raising=False)
    nt.cuda._AVAILABLE.clear()
    assert nt.cuda.is_available() is False and nt.cuda.device_count() == 0
    assert nt.cuda.memory_allocated() == 0
    x = nt.tensor([[1, 2], [3, 4]])
    assert not x.is_cuda and str(x.device) == "cpu" and x.get_device() == -1
    for f in (x.cuda, lambda: x.to("cuda"), lambda: nt.zeros(2, device="cuda"),
              lambda: nt.tensor([1.0], device="cuda:0"), lambda: nt.ones_like(x, device="cuda"),
              nt.cuda.current_device):
        with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled") as ei:
            f()
        assert isinstance(ei.value, RuntimeError)       # also a clear RuntimeError, never a Numba error
        assert type(ei.value).__name__ == "AssertionError"
    assert x.cpu() is x and x.to("cpu") is x


def test_import_does_not_load_numba_cuda():
    import subprocess
    import sys
    code = "import sys, numtorch; numtorch.ones(2) + 1; print('numba.cuda' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr[-2000:]
