"""Everyday surface from issue 10: Tensor extras, creation/numeric helpers, top-level in-place forms, runtime
knobs, backends/accelerator flags, profiler, RNG state."""
import warnings

import numpy as np
import pytest

import numtorch as nt
from _twin import twin, twin_raises


def test_tensor_extras():
    def case(T):
        x = T.arange(6.).reshape(2, 3)
        y = T.zeros(3, 3)
        y.fill_diagonal_(5)
        w = T.zeros(4, 2).fill_diagonal_(1, wrap=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ir = x.index_reduce(0, T.tensor([0, 0]), T.ones(2, 3) * 2, "prod")
            im = x.index_reduce(0, T.tensor([0, 0]), T.ones(2, 3) * 2, "mean", include_self=False)
        return (x.unfold(1, 2, 1), T.arange(7.).unfold(0, 3, 2), x.sum_to_size(1, 3), x.renorm(2, 0, 1.0), y, w,
                x.new([1, 2]), x.new(2, 3).shape, x.new().shape, ir, im, x.dim_order(), x.t().dim_order(),
                x.is_shared(), x.is_pinned(), x.output_nr, x.is_conj(), x.is_neg())
    twin(case)
    x = nt.arange(6.).reshape(2, 3)
    assert x.real is x and x.resolve_conj() is x and x.positive() is x
    assert x.unfold(1, 2, 1).stride() == (3, 1, 1)
    with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is available."):
        x.pin_memory()
    with pytest.warns(UserWarning, match="TypedStorage is deprecated"):
        s = x.storage()
    assert s.size() == 6 and x.untyped_storage().nbytes() == 24 and s.data_ptr() == x.data_ptr()
    x.apply_(lambda v: v * 2)
    assert x.tolist() == [[0, 2, 4], [6, 8, 10]]
    x.map_(nt.ones(3), lambda a, b: a + b)
    assert x.tolist() == [[1, 3, 5], [7, 9, 11]]


def test_unfold_gradient_and_share_memory():
    x = nt.arange(6., dtype=nt.float64).requires_grad_()
    assert nt.autograd.gradcheck(lambda t: t.unfold(0, 3, 2), (x,))
    z = nt.arange(4.)
    v = z[1:]
    z.share_memory_()
    v[0] = 9
    assert z.is_shared() and z.tolist() == [0, 9, 2, 3]


def test_creation_extras():
    def case(T):
        x = T.tensor([[0., 1, 2], [2, 1, 0.5]])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = T.range(1, 2, 0.25)
        return (T.hann_window(5), T.hann_window(5, periodic=False), T.kaiser_window(4), T.bartlett_window(5),
                T.hamming_window(4), T.combinations(T.tensor([1, 2, 3])),
                T.combinations(T.tensor([1, 2, 3]), 2, True), T.cov(x), T.corrcoef(x), T.cov(x[0]),
                T.cov(x, fweights=T.tensor([1, 2, 1]), aweights=T.tensor([.5, 1., 2.])),
                T.unravel_index(T.tensor([4, 1]), (2, 3)),
                tuple(T.histogram(T.tensor([1., 2, 1, 4]), bins=4, range=(0., 4.))),
                tuple(T.histogram(T.tensor([1., 2, 1, 4]), bins=T.tensor([0., 1.5, 5.]))),
                T.cumulative_trapezoid(T.tensor([1., 2, 3])), T.trapz(T.tensor([1., 2, 3])),
                T.diagflat(T.tensor([1, 2])), T.scalar_tensor(3), T.isin(T.tensor([1, 2, 3]), T.tensor([2, 5])), r,
                T.empty_strided((2, 3), (1, 2)).stride(),
                T.frombuffer(bytearray(b"\x01\x00\x00\x00\x02\x00\x00\x00"), dtype=T.int32),
                T.is_same_size(T.ones(2), T.ones(2)), T.is_signed(T.ones(2)))
    twin(case, atol=1e-6)
    with pytest.warns(UserWarning, match="torch.range is deprecated"):
        assert nt.range(0, 3).tolist() == [0., 1., 2., 3.]
    a = nt.arange(3.)
    assert nt.asarray(a) is a and nt.asarray(np.array([1, 2])).dtype is nt.int64


def test_top_level_inplace_forms():
    x = nt.tensor([0.0, 1.0])
    assert nt.exp_(x) is x and x.tolist() == [1.0, float(np.float32(np.e))]
    nt.zero_(x)
    assert x.tolist() == [0.0, 0.0]
    nt.fill_(x, 2.0)
    nt.sqrt_(x)
    assert np.allclose(x.numpy(), np.sqrt(2))
    assert nt.detach(x.requires_grad_()).requires_grad is False
    assert not hasattr(nt, "not_a_torch_function_")


def test_runtime_and_flags():
    n = nt.get_num_threads()
    nt.set_num_threads(1)
    assert nt.get_num_threads() == 1
    nt.set_num_threads(n)
    nt.use_deterministic_algorithms(True)
    assert nt.are_deterministic_algorithms_enabled()
    nt.use_deterministic_algorithms(False)
    nt.set_float32_matmul_precision("high")
    assert nt.get_float32_matmul_precision() == "high"
    nt.set_float32_matmul_precision("highest")
    nt.backends.cudnn.benchmark = True
    assert nt.backends.cudnn.benchmark and not nt.backends.mps.is_available()
    nt.backends.cudnn.benchmark = False
    nt.backends.cuda.matmul.allow_tf32 = False
    assert nt.accelerator.is_available() is False and nt.accelerator.current_accelerator() is None
    assert nt.accelerator.device_count() == 0
    twin_raises(lambda T: T.accelerator.current_device_index(), RuntimeError, "Cannot access accelerator device")


def test_profiler_records_ops():
    from numtorch.profiler import ProfilerActivity, profile, record_function
    x = nt.randn(8, 8, requires_grad=True)
    add = nt.Tensor.__add__
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        with record_function("step"):
            for _ in range(3):
                (x @ x + 1).relu().sum().backward()
    stats = {e.key: e for e in prof.key_averages()}
    assert stats["aten::matmul"].count == 3 and stats["aten::relu"].count == 3 and stats["step"].count == 1
    assert stats["step"].cpu_time_total >= stats["aten::matmul"].cpu_time_total
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=5)
    assert "Self CPU %" in table and "# of Calls" in table and "Self CPU time total:" in table
    assert nt.Tensor.__add__ is add                    # wrappers removed on exit
    with nt.autograd.profiler.profile() as p2:
        x + 1
    assert [e.key for e in p2.key_averages()] == ["aten::add"]


def test_rng_state_round_trips():
    nt.manual_seed(0)
    nt.rand(2)
    with nt.random.fork_rng():
        nt.rand(5)
    after = nt.rand(2).tolist()
    nt.manual_seed(0)
    nt.rand(2)
    assert nt.rand(2).tolist() == after
    s = nt.get_rng_state()
    a = nt.randn(3).tolist()
    nt.set_rng_state(s)
    assert nt.randn(3).tolist() == a
    g = nt.Generator()
    st = g.get_state()
    b = nt.rand(3, generator=g).tolist()
    g.set_state(st)
    assert nt.rand(3, generator=g).tolist() == b
    assert nt.random.initial_seed() == nt.initial_seed()


def test_fft_raises_for_complex_and_helpers_work():
    with pytest.raises(NotImplementedError, match="complex"):
        nt.fft.rfft(nt.ones(4))

    def case(T):
        import importlib
        F = importlib.import_module(T.__name__ + ".fft")
        return (F.fftfreq(5), F.fftfreq(4, 0.5), F.rfftfreq(5), F.fftshift(T.arange(5)), F.ifftshift(T.arange(6)),
                F.fftshift(T.arange(6).reshape(2, 3), dim=1))
    out = twin(case)
    np.testing.assert_allclose(out[0].numpy(), [0.0, 0.2, 0.4, -0.4, -0.2], rtol=1e-6)
