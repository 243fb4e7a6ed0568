"""kernels/blas_threads.gemm: a large product split over helper threads equals one np.matmul (to rounding:
OpenBLAS's blocking of a row chunk may order a tail's sums differently), the same bits on every call, from
several threads at once and in a forked child."""
import os
import threading

import numpy as np
import pytest

from numtorch.kernels import blas_threads as bt


@pytest.mark.parametrize("shape", [(1, 3, 2), (7, 5, 3), (640, 128, 160), (1001, 97, 131)])
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_gemm_matches_matmul(shape, dt, monkeypatch):
    monkeypatch.setattr(bt, "SPLIT_MACS", 1000)          # split even these small products
    monkeypatch.setattr(bt, "_SINGLE", True)
    m, k, n = shape
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((m, k)).astype(dt), rng.standard_normal((k, n)).astype(dt)
    out = np.empty((m, n), dt)
    tol = 1e-5 if dt == np.float32 else 1e-12
    assert bt.gemm(a, b, out) is out
    np.testing.assert_allclose(out, a @ b, rtol=tol, atol=tol)
    again = bt.gemm(a, b, np.empty((m, n), dt))
    np.testing.assert_array_equal(out, again)
    bt.gemm(a[:, ::-1], b[::-1], out)                     # strided operands
    np.testing.assert_allclose(out, a[:, ::-1] @ b[::-1], rtol=tol, atol=tol)


def test_batched_gemm(monkeypatch):
    monkeypatch.setattr(bt, "SPLIT_MACS", 1000)
    monkeypatch.setattr(bt, "_SINGLE", True)
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((6, 33, 17)), rng.standard_normal((6, 17, 9))
    out = np.empty((6, 33, 9))
    bt.gemm(a, b, out)
    np.testing.assert_allclose(out, a @ b, rtol=1e-12, atol=1e-12)


def test_gemm_from_threads_and_errors(monkeypatch):
    monkeypatch.setattr(bt, "SPLIT_MACS", 1000)
    monkeypatch.setattr(bt, "_SINGLE", True)
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((300, 40)), rng.standard_normal((40, 50))
    ref, errs = bt.gemm(a, b, np.empty((300, 50))), []

    def run():
        out = np.empty((300, 50))
        for _ in range(20):
            bt.gemm(a, b, out)
            if not np.array_equal(out, ref):
                errs.append("mismatch")
    ts = [threading.Thread(target=run) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errs
    with pytest.raises(ValueError):
        bt.gemm(a, b, np.empty((300, 49)))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_gemm_in_a_forked_child(monkeypatch):
    monkeypatch.setattr(bt, "SPLIT_MACS", 1000)
    monkeypatch.setattr(bt, "_SINGLE", True)
    a, b = np.ones((64, 8)), np.ones((8, 16))
    bt.gemm(a, b, np.empty((64, 16)))                      # the parent's pool exists
    pid = os.fork()
    if pid == 0:
        out = np.empty((64, 16))
        ok = np.array_equal(bt.gemm(a, b, out), np.full((64, 16), 8.0))
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
