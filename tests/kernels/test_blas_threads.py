"""kernels/blas_threads: large products fall back to one OpenBLAS thread for a while after a threaded one
ran slower than the single-threaded rate predicts (a busy machine), then try threads again."""
import time

import pytest

from numtorch.kernels import blas_threads as bt


def test_backoff_after_a_slow_threaded_product(monkeypatch):
    bt.for_macs(0)
    if not bt._state["set"]:
        pytest.skip("OpenBLAS is not managed here")
    monkeypatch.setattr(bt, "_state", dict(bt._state, rate1=0.0, until=0.0, default=max(2, bt._state["default"])))
    monkeypatch.setattr(bt, "BACKOFF_S", 0.2)
    big = bt.SMALL_MACS * 4
    assert bt.for_macs(1 << 10) == 1                      # small products: one thread
    assert bt.for_macs(big) == 1                          # the first large one calibrates
    bt.observe(big, 1e-3, 1)                              # single-threaded: 16.8 GMAC/s
    threads = bt.for_macs(big)
    assert threads == bt._state["default"] > 1
    bt.observe(big, 4e-3, threads)                        # threaded and slower, but not SLOWER times: keep
    assert bt.for_macs(big) == threads
    bt.observe(big, 1e-3 * (bt.SLOWER + 1), threads)      # far slower than one thread predicts: back off
    assert bt.for_macs(big) == 1
    bt.observe(1 << 10, 10.0, threads)                    # tiny products never count
    time.sleep(0.25)
    assert bt.for_macs(big) == threads                    # threads again after the back-off
    bt.observe(big, 0.5e-3, threads)                      # threads paid off: no back-off
    assert bt.for_macs(big) == threads
    bt.for_macs(0)
