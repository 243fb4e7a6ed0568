"""Grad mode: no_grad / enable_grad / set_grad_enabled / inference_mode as context managers and
decorators (with and without parentheses, generators), thread-locality, concurrent backward."""
import threading

import numpy as np
import pytest

import numtorch as nt
from numtorch.autograd import is_inference_mode_enabled


def test_no_grad_context_results_are_leaves():
    x = nt.ones(2, requires_grad=True)
    with nt.no_grad():
        assert not nt.is_grad_enabled()
        y = x * 2
        s = x.sum()
    assert nt.is_grad_enabled()
    assert y.is_leaf and not y.requires_grad and not s.requires_grad
    with nt.no_grad():
        with nt.enable_grad():
            z = x * 2
        assert not nt.is_grad_enabled()
    assert z.requires_grad


def test_decorators_with_and_without_parentheses():
    @nt.no_grad
    def f():
        return nt.is_grad_enabled()

    @nt.no_grad()
    def g():
        return nt.is_grad_enabled()

    @nt.enable_grad
    def h():
        return nt.is_grad_enabled()

    @nt.inference_mode
    def i():
        return nt.is_grad_enabled(), is_inference_mode_enabled()

    @nt.inference_mode(False)
    def j():
        return nt.is_grad_enabled(), is_inference_mode_enabled()

    @nt.set_grad_enabled(False)
    def k():
        return nt.is_grad_enabled()

    assert nt.is_grad_enabled()          # set_grad_enabled(False) as a decorator restores at once
    assert f() is False and g() is False and i() == (False, True) and j() == (True, False) and k() is False
    with nt.no_grad():
        assert h() is True
    assert f.__name__ == "f"


def test_set_grad_enabled_function_and_context():
    nt.set_grad_enabled(False)
    try:
        assert not nt.is_grad_enabled()
    finally:
        nt.set_grad_enabled(True)
    with nt.set_grad_enabled(False):
        assert not nt.is_grad_enabled()
        with nt.set_grad_enabled(True):
            assert nt.is_grad_enabled()
        assert not nt.is_grad_enabled()
    assert nt.is_grad_enabled()
    assert repr(nt.set_grad_enabled(True)) == "torch.autograd.grad_mode.set_grad_enabled(mode=True)"
    with pytest.raises(TypeError):
        nt.set_grad_enabled()


def test_inference_mode():
    x = nt.ones(2, requires_grad=True)
    with nt.inference_mode():
        assert is_inference_mode_enabled() and not nt.is_grad_enabled()
        y = x * 2
        with nt.inference_mode(False):
            assert nt.is_grad_enabled() and not is_inference_mode_enabled()
    assert not y.requires_grad and not is_inference_mode_enabled()


def test_generator_decorator():
    @nt.no_grad()
    def gen():
        for _ in range(2):
            yield nt.is_grad_enabled()
    it = gen()
    assert next(it) is False
    assert nt.is_grad_enabled()
    assert next(it) is False


def test_exception_restores_mode():
    with pytest.raises(ValueError):
        with nt.no_grad():
            raise ValueError
    assert nt.is_grad_enabled()


def test_grad_mode_is_thread_local():
    seen = {}
    ready, done = threading.Event(), threading.Event()

    def worker():
        seen["start"] = nt.is_grad_enabled()         # new threads start enabled
        with nt.no_grad():
            ready.set()
            done.wait(5)
            seen["inside"] = nt.is_grad_enabled()

    t = threading.Thread(target=worker)
    with nt.no_grad():
        t.start()
        ready.wait(5)
        assert not nt.is_grad_enabled()
    x = nt.ones(2, requires_grad=True)
    assert (x * 2).requires_grad                     # the worker's no_grad does not leak here
    done.set()
    t.join()
    assert seen == {"start": True, "inside": False}


def test_concurrent_backward_in_threads():
    errors, results = [], {}

    def worker(k):
        try:
            for _ in range(20):
                x = nt.tensor([1.0, 2.0, 3.0], dtype=nt.float64, requires_grad=True)
                y = (x * k).sin() * x
                y.sum().backward()
                xv = np.array([1.0, 2.0, 3.0])
                np.testing.assert_allclose(x.grad.numpy(), k * np.cos(k * xv) * xv + np.sin(k * xv), rtol=1e-12)
            results[k] = True
        except Exception as e:       # pragma: no cover - reported below
            errors.append(repr(e))

    ts = [threading.Thread(target=worker, args=(k,)) for k in (1.0, 2.0, 3.0, 4.0)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors and len(results) == 4
