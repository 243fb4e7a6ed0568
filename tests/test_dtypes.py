import itertools

import numpy as np
import pytest

import numtorch as nt

ALL = [nt.bool, nt.uint8, nt.int8, nt.int16, nt.int32, nt.int64, nt.float16, nt.float32, nt.float64]


def test_names_and_aliases():
    assert str(nt.float32) == "torch.float32" and repr(nt.int64) == "torch.int64"
    assert nt.float is nt.float32 and nt.double is nt.float64 and nt.half is nt.float16
    assert nt.int is nt.int32 and nt.long is nt.int64 and nt.short is nt.int16
    assert nt.get_default_dtype() is nt.float32


@pytest.mark.parametrize("a,b,expected", [
    (nt.uint8, nt.int8, nt.int16), (nt.int32, nt.int64, nt.int64), (nt.int32, nt.float32, nt.float32),
    (nt.float16, nt.float32, nt.float32), (nt.bool, nt.int8, nt.int8), (nt.bool, nt.float16, nt.float16),
    (nt.int64, nt.float16, nt.float16), (nt.uint8, nt.int64, nt.int64)])
def test_promote_types(a, b, expected):
    assert nt.promote_types(a, b) is expected and nt.promote_types(b, a) is expected


def test_promote_types_matches_torch():
    torch = pytest.importorskip("torch")
    for a, b in itertools.product(ALL, ALL):
        ta, tb = getattr(torch, a.name), getattr(torch, b.name)
        assert str(nt.promote_types(a, b)) == str(torch.promote_types(ta, tb))


@pytest.mark.parametrize("make,expected", [
    (lambda: nt.ones(2, dtype=nt.int32) + 5, nt.int32),
    (lambda: nt.ones(2, dtype=nt.int64) + 1.5, nt.float32),
    (lambda: nt.ones(2, dtype=nt.int32) + nt.tensor(5), nt.int32),
    (lambda: nt.ones(2, dtype=nt.float32) + nt.tensor(5.0, dtype=nt.float64), nt.float32),
    (lambda: nt.ones(2, dtype=nt.int32) + nt.tensor(5.0, dtype=nt.float64), nt.float64),
    (lambda: nt.tensor([True, False]) + 1, nt.int64),
    (lambda: nt.tensor([True, False]) * 1.5, nt.float32),
    (lambda: nt.ones(2, dtype=nt.uint8) + nt.ones(2, dtype=nt.int8), nt.int16),
    (lambda: nt.tensor([1, 2]) / nt.tensor([2, 2]), nt.float32),
    (lambda: nt.tensor([1, 2]) // 2, nt.int64),
    (lambda: nt.tensor([1, 2]) ** 2, nt.int64),
    (lambda: nt.tensor([1, 2]) ** 2.0, nt.float32),
    (lambda: 2 ** nt.tensor([1, 2]), nt.int64),
    (lambda: nt.tensor([1, 2]) < 2, nt.bool),
    (lambda: nt.tensor([1, 2]).exp(), nt.float32),
    (lambda: nt.tensor([1, 2], dtype=nt.int32).abs(), nt.int32),
    (lambda: nt.ones(2, dtype=nt.float16) + 1, nt.float16),
])
def test_result_dtypes(make, expected):
    assert make().dtype is expected


def test_result_type_function():
    assert nt.result_type(nt.tensor([1, 2]), 1.0) is nt.float32
    assert nt.result_type(nt.tensor([1, 2], dtype=nt.int8), 300) is nt.int8


def test_default_dtype_switch():
    nt.set_default_dtype(nt.float64)
    try:
        assert nt.tensor([1.5]).dtype is nt.float64
        assert (nt.tensor([1, 2]) / 2).dtype is nt.float64
        assert repr(nt.tensor([1.5])) == "tensor([1.5000])"
    finally:
        nt.set_default_dtype(nt.float32)
    with pytest.raises(TypeError):
        nt.set_default_dtype(nt.int32)


def test_finfo_iinfo():
    assert nt.finfo(nt.float32).eps == float(np.finfo(np.float32).eps)
    assert nt.finfo().max == float(np.finfo(np.float32).max)
    assert nt.iinfo(nt.int32).max == 2 ** 31 - 1 and nt.iinfo(nt.uint8).min == 0
    with pytest.raises(TypeError):
        nt.finfo(nt.int32)
    with pytest.raises(TypeError):
        nt.iinfo(nt.float32)


def test_is_floating_point():
    assert nt.is_floating_point(nt.ones(1)) and not nt.ones(1, dtype=nt.int64).is_floating_point()
