"""Tests for numtorch._printing and numtorch.return_types.

The expected strings below were generated from PyTorch 2.x (``repr`` of the same data built with
``torch.from_numpy``) and pasted as literals, so these tests run without torch; a torch-only
randomized comparison at the end checks many more shapes, dtypes and options.
"""
# flake8: noqa: E501
import math
import pickle

import numpy as np
import pytest

import numtorch._printing as P
from numtorch import return_types as RT

inf, nan = np.inf, np.nan
f32, f64, f16 = np.float32, np.float64, np.float16


class FakeDtype:
    def __init__(self, name):
        self.name = name
        self.is_floating_point = name.startswith(("float", "bfloat"))

    def __str__(self):
        return "torch." + self.name


class FakeDevice:
    def __init__(self, spec="cpu"):
        self.type, _, idx = spec.partition(":")
        self.index = int(idx) if idx else None

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"


class FakeGradFn:
    def __init__(self, name):
        self._name = name

    def name(self):
        return self._name


class FakeTensor:
    """Only the attributes tensor_repr may use."""

    def __init__(self, values, device="cpu", grad_fn=None, requires_grad=False, dtype=None):
        self._values = np.asarray(values)
        self.dtype = FakeDtype(dtype or self._values.dtype.name)
        self.device = FakeDevice(device)
        self.grad_fn = FakeGradFn(grad_fn) if grad_fn else None
        self.requires_grad = requires_grad or grad_fn is not None
        self.shape = self._values.shape

    def _host_values(self):
        return self._values

    def __repr__(self):
        return P.tensor_repr(self)


F = FakeTensor
_DEFAULT = ["float32"]


@pytest.fixture(autouse=True)
def _defaults(monkeypatch):
    _DEFAULT[0] = "float32"
    monkeypatch.setattr(P, "_default_dtype_name", lambda: _DEFAULT[0])
    monkeypatch.setattr(P, "_default_device_type", lambda: "cpu")
    P.set_printoptions(profile="default")
    yield
    P.set_printoptions(profile="default")


CASES = [
    ('f32_integral', lambda: np.array([1., 2., 3.], f32), {}, {},
     'tensor([1., 2., 3.])'),
    ('f32_half', lambda: np.array([0.5, 1.0], f32), {}, {},
     'tensor([0.5000, 1.0000])'),
    ('f32_align', lambda: np.array([1.5, 100.25, -5.0], f32), {}, {},
     'tensor([  1.5000, 100.2500,  -5.0000])'),
    ('f32_tenth', lambda: np.array([0.1, 0.2, 0.3], f32), {}, {},
     'tensor([0.1000, 0.2000, 0.3000])'),
    ('i64_align', lambda: np.array([1, 100, -5]), {}, {},
     'tensor([  1, 100,  -5])'),
    ('bool_1d', lambda: np.array([True, False, True]), {}, {},
     'tensor([ True, False,  True])'),
    ('f32_0d', lambda: np.array(3.5, f32), {}, {},
     'tensor(3.5000)'),
    ('f32_0d_int', lambda: np.array(27., f32), {}, {},
     'tensor(27.)'),
    ('i64_0d', lambda: np.array(7), {}, {},
     'tensor(7)'),
    ('bool_0d', lambda: np.array(True), {}, {},
     'tensor(True)'),
    ('f64_0d', lambda: np.array(2.5, f64), {}, {},
     'tensor(2.5000, dtype=torch.float64)'),
    ('f32_0d_negzero', lambda: np.array(-0.0, f32), {}, {},
     'tensor(-0.)'),
    ('f32_0d_nan', lambda: np.array(nan, f32), {}, {},
     'tensor(nan)'),
    ('f64_1d', lambda: np.array([0.1, 0.2], f64), {}, {},
     'tensor([0.1000, 0.2000], dtype=torch.float64)'),
    ('f16_1d', lambda: np.array([0.1, 1.5, -2.0], f16), {}, {},
     'tensor([ 0.1000,  1.5000, -2.0000], dtype=torch.float16)'),
    ('f16_integral', lambda: np.array([1, 2048, -3], f16), {}, {},
     'tensor([ 1.0000e+00,  2.0480e+03, -3.0000e+00], dtype=torch.float16)'),
    ('i32_1d', lambda: np.array([1, -2, 300], np.int32), {}, {},
     'tensor([  1,  -2, 300], dtype=torch.int32)'),
    ('u8_1d', lambda: np.array([0, 255, 7], np.uint8), {}, {},
     'tensor([  0, 255,   7], dtype=torch.uint8)'),
    ('i8_1d', lambda: np.array([-128, 127, 0], np.int8), {}, {},
     'tensor([-128,  127,    0], dtype=torch.int8)'),
    ('i16_1d', lambda: np.array([-300, 2, 0], np.int16), {}, {},
     'tensor([-300,    2,    0], dtype=torch.int16)'),
    ('i64_large', lambda: np.array([2**62, -5, 3]), {}, {},
     'tensor([4611686018427387904,                  -5,                   3])'),
    ('f32_2d', lambda: (np.arange(6, dtype=f32) / 7).reshape(2, 3), {}, {},
     'tensor([[0.0000, 0.1429, 0.2857],\n        [0.4286, 0.5714, 0.7143]])'),
    ('f32_2d_integral', lambda: np.array([[1., 2.], [3., 4.]], f32), {}, {},
     'tensor([[1., 2.],\n        [3., 4.]])'),
    ('i64_2d_neg', lambda: np.array([[1, -20], [300, 4]]), {}, {},
     'tensor([[  1, -20],\n        [300,   4]])'),
    ('f32_3d', lambda: np.arange(24, dtype=f32).reshape(2, 3, 4), {}, {},
     'tensor([[[ 0.,  1.,  2.,  3.],\n         [ 4.,  5.,  6.,  7.],\n         [ 8.,  9., 10., 11.]],\n\n        [[12., 13., 14., 15.],\n         [16., 17., 18., 19.],\n         [20., 21., 22., 23.]]])'),
    ('f32_4d', lambda: (np.arange(24, dtype=f32) - 10).reshape(2, 2, 2, 3) / 4, {}, {},
     'tensor([[[[-2.5000, -2.2500, -2.0000],\n          [-1.7500, -1.5000, -1.2500]],\n\n         [[-1.0000, -0.7500, -0.5000],\n          [-0.2500,  0.0000,  0.2500]]],\n\n\n        [[[ 0.5000,  0.7500,  1.0000],\n          [ 1.2500,  1.5000,  1.7500]],\n\n         [[ 2.0000,  2.2500,  2.5000],\n          [ 2.7500,  3.0000,  3.2500]]]])'),
    ('bool_3d', lambda: (np.arange(12) % 3 == 0).reshape(2, 2, 3), {}, {},
     'tensor([[[ True, False, False],\n         [ True, False, False]],\n\n        [[ True, False, False],\n         [ True, False, False]]])'),
    ('empty_f32', lambda: np.zeros(0, f32), {}, {},
     'tensor([])'),
    ('empty_i64', lambda: np.zeros(0, np.int64), {}, {},
     'tensor([], dtype=torch.int64)'),
    ('empty_bool', lambda: np.zeros(0, bool), {}, {},
     'tensor([], dtype=torch.bool)'),
    ('empty_0x3', lambda: np.zeros((0, 3), f32), {}, {},
     'tensor([], size=(0, 3))'),
    ('empty_2x0', lambda: np.zeros((2, 0), f32), {}, {},
     'tensor([], size=(2, 0))'),
    ('empty_i32_023', lambda: np.zeros((0, 2, 3), np.int32), {}, {},
     'tensor([], size=(0, 2, 3), dtype=torch.int32)'),
    ('empty_f16', lambda: np.zeros(0, f16), {}, {},
     'tensor([], dtype=torch.float16)'),
    ('empty_f64_2x0', lambda: np.zeros((2, 0), f64), {}, {},
     'tensor([], size=(2, 0), dtype=torch.float64)'),
    ('sci_large', lambda: np.array([1e5, 1.], f32), {}, {},
     'tensor([1.0000e+05, 1.0000e+00])'),
    ('sci_small', lambda: np.array([1e-5, 1.], f32), {}, {},
     'tensor([1.0000e-05, 1.0000e+00])'),
    ('sci_1e-4', lambda: np.array([1e-4, 1.], f32), {}, {},
     'tensor([1.0000e-04, 1.0000e+00])'),
    ('fixed_1e-3', lambda: np.array([1e-3, 0.25], f32), {}, {},
     'tensor([0.0010, 0.2500])'),
    ('sci_1e9', lambda: np.array([1e9, 2e9], f32), {}, {},
     'tensor([1.0000e+09, 2.0000e+09])'),
    ('sci_mixed', lambda: np.array([1e10, 1e-10, -3.], f32), {}, {},
     'tensor([ 1.0000e+10,  1.0000e-10, -3.0000e+00])'),
    ('sci_ratio', lambda: np.array([1.5, 2000.], f32), {}, {},
     'tensor([1.5000e+00, 2.0000e+03])'),
    ('sci_f64_3digit', lambda: np.array([1e300, -1e-300, 1.], f64), {}, {},
     'tensor([ 1.0000e+300, -1.0000e-300,   1.0000e+00], dtype=torch.float64)'),
    ('sci_tiny_zero', lambda: np.array([1e-5, 0.], f32), {}, {},
     'tensor([1.0000e-05, 0.0000e+00])'),
    ('inf_nan_one', lambda: np.array([inf, nan, 1.], f32), {}, {},
     'tensor([inf, nan, 1.])'),
    ('nan_only', lambda: np.array([nan, nan], f32), {}, {},
     'tensor([nan, nan])'),
    ('inf_only', lambda: np.array([inf, -inf], f32), {}, {},
     'tensor([inf, -inf])'),
    ('negzero', lambda: np.array([-0., 0., 1.], f32), {}, {},
     'tensor([-0., 0., 1.])'),
    ('zeros', lambda: np.zeros((2, 2), f32), {}, {},
     'tensor([[0., 0.],\n        [0., 0.]])'),
    ('nan_frac', lambda: np.array([nan, 1.5, -inf, -2.25], f32), {}, {},
     'tensor([    nan,  1.5000,    -inf, -2.2500])'),
    ('wrap_f32', lambda: np.arange(30, dtype=f32) / 7, {}, {},
     'tensor([0.0000, 0.1429, 0.2857, 0.4286, 0.5714, 0.7143, 0.8571, 1.0000, 1.1429,\n        1.2857, 1.4286, 1.5714, 1.7143, 1.8571, 2.0000, 2.1429, 2.2857, 2.4286,\n        2.5714, 2.7143, 2.8571, 3.0000, 3.1429, 3.2857, 3.4286, 3.5714, 3.7143,\n        3.8571, 4.0000, 4.1429])'),
    ('wrap_i64', lambda: np.arange(100) * 37 - 1000, {}, {},
     'tensor([-1000,  -963,  -926,  -889,  -852,  -815,  -778,  -741,  -704,  -667,\n         -630,  -593,  -556,  -519,  -482,  -445,  -408,  -371,  -334,  -297,\n         -260,  -223,  -186,  -149,  -112,   -75,   -38,    -1,    36,    73,\n          110,   147,   184,   221,   258,   295,   332,   369,   406,   443,\n          480,   517,   554,   591,   628,   665,   702,   739,   776,   813,\n          850,   887,   924,   961,   998,  1035,  1072,  1109,  1146,  1183,\n         1220,  1257,  1294,  1331,  1368,  1405,  1442,  1479,  1516,  1553,\n         1590,  1627,  1664,  1701,  1738,  1775,  1812,  1849,  1886,  1923,\n         1960,  1997,  2034,  2071,  2108,  2145,  2182,  2219,  2256,  2293,\n         2330,  2367,  2404,  2441,  2478,  2515,  2552,  2589,  2626,  2663])'),
    ('wrap_2d', lambda: (np.arange(60, dtype=f32) / 3).reshape(3, 20), {}, {},
     'tensor([[ 0.0000,  0.3333,  0.6667,  1.0000,  1.3333,  1.6667,  2.0000,  2.3333,\n          2.6667,  3.0000,  3.3333,  3.6667,  4.0000,  4.3333,  4.6667,  5.0000,\n          5.3333,  5.6667,  6.0000,  6.3333],\n        [ 6.6667,  7.0000,  7.3333,  7.6667,  8.0000,  8.3333,  8.6667,  9.0000,\n          9.3333,  9.6667, 10.0000, 10.3333, 10.6667, 11.0000, 11.3333, 11.6667,\n         12.0000, 12.3333, 12.6667, 13.0000],\n        [13.3333, 13.6667, 14.0000, 14.3333, 14.6667, 15.0000, 15.3333, 15.6667,\n         16.0000, 16.3333, 16.6667, 17.0000, 17.3333, 17.6667, 18.0000, 18.3333,\n         18.6667, 19.0000, 19.3333, 19.6667]])'),
    ('wrap_3d', lambda: (np.arange(48, dtype=f32) * 11).reshape(2, 2, 12), {}, {},
     'tensor([[[  0.,  11.,  22.,  33.,  44.,  55.,  66.,  77.,  88.,  99., 110.,\n          121.],\n         [132., 143., 154., 165., 176., 187., 198., 209., 220., 231., 242.,\n          253.]],\n\n        [[264., 275., 286., 297., 308., 319., 330., 341., 352., 363., 374.,\n          385.],\n         [396., 407., 418., 429., 440., 451., 462., 473., 484., 495., 506.,\n          517.]]])'),
    ('summ_2000', lambda: np.arange(2000, dtype=f32), {}, {},
     'tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n        1.9990e+03])'),
    ('summ_2000_i64', lambda: np.arange(2000) - 1000, {}, {},
     'tensor([-1000,  -999,  -998,  ...,   997,   998,   999])'),
    ('summ_100x100', lambda: (np.arange(10000, dtype=f32) / 7).reshape(100, 100), {}, {},
     'tensor([[0.0000e+00, 1.4286e-01, 2.8571e-01,  ..., 1.3857e+01, 1.4000e+01,\n         1.4143e+01],\n        [1.4286e+01, 1.4429e+01, 1.4571e+01,  ..., 2.8143e+01, 2.8286e+01,\n         2.8429e+01],\n        [2.8571e+01, 2.8714e+01, 2.8857e+01,  ..., 4.2429e+01, 4.2571e+01,\n         4.2714e+01],\n        ...,\n        [1.3857e+03, 1.3859e+03, 1.3860e+03,  ..., 1.3996e+03, 1.3997e+03,\n         1.3999e+03],\n        [1.4000e+03, 1.4001e+03, 1.4003e+03,  ..., 1.4139e+03, 1.4140e+03,\n         1.4141e+03],\n        [1.4143e+03, 1.4144e+03, 1.4146e+03,  ..., 1.4281e+03, 1.4283e+03,\n         1.4284e+03]])'),
    ('summ_10x10x20', lambda: np.arange(2000).reshape(10, 10, 20), {}, {},
     'tensor([[[   0,    1,    2,  ...,   17,   18,   19],\n         [  20,   21,   22,  ...,   37,   38,   39],\n         [  40,   41,   42,  ...,   57,   58,   59],\n         ...,\n         [ 140,  141,  142,  ...,  157,  158,  159],\n         [ 160,  161,  162,  ...,  177,  178,  179],\n         [ 180,  181,  182,  ...,  197,  198,  199]],\n\n        [[ 200,  201,  202,  ...,  217,  218,  219],\n         [ 220,  221,  222,  ...,  237,  238,  239],\n         [ 240,  241,  242,  ...,  257,  258,  259],\n         ...,\n         [ 340,  341,  342,  ...,  357,  358,  359],\n         [ 360,  361,  362,  ...,  377,  378,  379],\n         [ 380,  381,  382,  ...,  397,  398,  399]],\n\n        [[ 400,  401,  402,  ...,  417,  418,  419],\n         [ 420,  421,  422,  ...,  437,  438,  439],\n         [ 440,  441,  442,  ...,  457,  458,  459],\n         ...,\n         [ 540,  541,  542,  ...,  557,  558,  559],\n         [ 560,  561,  562,  ...,  577,  578,  579],\n         [ 580,  581,  582,  ...,  597,  598,  599]],\n\n        ...,\n\n        [[1400, 1401, 1402,  ..., 1417, 1418, 1419],\n         [1420, 1421, 1422,  ..., 1437, 1438, 1439],\n         [1440, 1441, 1442,  ..., 1457, 1458, 1459],\n         ...,\n         [1540, 1541, 1542,  ..., 1557, 1558, 1559],\n         [1560, 1561, 1562,  ..., 1577, 1578, 1579],\n         [1580, 1581, 1582,  ..., 1597, 1598, 1599]],\n\n        [[1600, 1601, 1602,  ..., 1617, 1618, 1619],\n         [1620, 1621, 1622,  ..., 1637, 1638, 1639],\n         [1640, 1641, 1642,  ..., 1657, 1658, 1659],\n         ...,\n         [1740, 1741, 1742,  ..., 1757, 1758, 1759],\n         [1760, 1761, 1762,  ..., 1777, 1778, 1779],\n         [1780, 1781, 1782,  ..., 1797, 1798, 1799]],\n\n        [[1800, 1801, 1802,  ..., 1817, 1818, 1819],\n         [1820, 1821, 1822,  ..., 1837, 1838, 1839],\n         [1840, 1841, 1842,  ..., 1857, 1858, 1859],\n         ...,\n         [1940, 1941, 1942,  ..., 1957, 1958, 1959],\n         [1960, 1961, 1962,  ..., 1977, 1978, 1979],\n         [1980, 1981, 1982,  ..., 1997, 1998, 1999]]])'),
    ('summ_sci', lambda: np.arange(2000, dtype=f32) ** 3, {}, {},
     'tensor([0.0000e+00, 1.0000e+00, 8.0000e+00,  ..., 7.9641e+09, 7.9760e+09,\n        7.9880e+09])'),
    ('summ_bool', lambda: (np.arange(1500) % 2 == 0), {}, {},
     'tensor([ True, False,  True,  ..., False,  True, False])'),
    ('exact_1000', lambda: np.arange(1000) % 10 - 5, {}, {},
     'tensor([-5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,\n         3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,\n         1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2,\n        -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4,\n        -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4,\n        -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,\n         3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,\n         1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2,\n        -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4,\n        -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4,\n        -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,\n         3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,\n         1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2,\n        -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4,\n        -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4,\n        -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,\n         3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,\n         1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2,\n        -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4,\n        -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4,\n        -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,\n         3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,\n         1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2,\n        -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4,\n        -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4,\n        -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,\n         3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,\n         1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2,\n        -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4,\n        -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4,\n        -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,\n         3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,\n         1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2,\n        -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4,\n        -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4,\n        -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,\n         3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,\n         1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2,\n        -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4,\n        -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4,\n        -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,\n         3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,\n         1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2,\n        -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4,\n        -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4,\n        -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,\n         3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,\n         1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2,\n        -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4,\n        -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4,\n        -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,\n         3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,\n         1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2,\n        -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4, -5, -4,\n        -3, -2, -1,  0,  1,  2,  3,  4, -5, -4, -3, -2, -1,  0,  1,  2,  3,  4,\n        -5, -4, -3, -2, -1,  0,  1,  2,  3,  4])'),
    ('exact_1001', lambda: np.arange(1001), {}, {},
     'tensor([   0,    1,    2,  ...,  998,  999, 1000])'),
    ('req_grad', lambda: np.array([1., 2.], f32), {}, {'requires_grad': True},
     'tensor([1., 2.], requires_grad=True)'),
    ('req_grad_f64', lambda: np.array([0.5, 2.], f64), {}, {'requires_grad': True},
     'tensor([0.5000, 2.0000], dtype=torch.float64, requires_grad=True)'),
    ('grad_fn_mul', lambda: np.array([1.5, 2.], f32), {}, {'grad_fn': 'MulBackward0'},
     'tensor([1.5000, 2.0000], grad_fn=<MulBackward0>)'),
    ('grad_fn_0d', lambda: np.array(27., f32), {}, {'grad_fn': 'MeanBackward0'},
     'tensor(27., grad_fn=<MeanBackward0>)'),
    ('grad_fn_f16_2d', lambda: (np.arange(6, dtype=f16) / 8).reshape(2, 3), {}, {'grad_fn': 'MulBackward0'},
     'tensor([[0.0000, 0.1250, 0.2500],\n        [0.3750, 0.5000, 0.6250]], dtype=torch.float16, grad_fn=<MulBackward0>)'),
    ('suffix_wrap', lambda: np.arange(10, dtype=f64) / 3, {}, {'grad_fn': 'MulBackward0'},
     'tensor([0.0000, 0.3333, 0.6667, 1.0000, 1.3333, 1.6667, 2.0000, 2.3333, 2.6667,\n        3.0000], dtype=torch.float64, grad_fn=<MulBackward0>)'),
    ('cuda', lambda: np.array([1., 2.], f32), {}, {'device': 'cuda:0'},
     "tensor([1., 2.], device='cuda:0')"),
    ('cuda_f64_grad', lambda: np.array([1., 2.5], f64), {}, {'device': 'cuda:0', 'requires_grad': True},
     "tensor([1.0000, 2.5000], device='cuda:0', dtype=torch.float64,\n       requires_grad=True)"),
    ('cuda_empty', lambda: np.zeros((0, 2), f32), {}, {'device': 'cuda:0'},
     "tensor([], device='cuda:0', size=(0, 2))"),
    ('default_f64_f64', lambda: np.array([0.1, 0.2], f64), {}, {'default': 'float64'},
     'tensor([0.1000, 0.2000])'),
    ('default_f64_f32', lambda: np.array([0.1, 0.2], f32), {}, {'default': 'float64'},
     'tensor([0.1000, 0.2000], dtype=torch.float32)'),
    ('default_f64_empty32', lambda: np.zeros(0, f32), {}, {'default': 'float64'},
     'tensor([], dtype=torch.float32)'),
    ('default_f64_empty64', lambda: np.zeros(0, f64), {}, {'default': 'float64'},
     'tensor([])'),
    ('prec2', lambda: np.array([0.123, 1.0], f32), {'precision': 2}, {},
     'tensor([0.12, 1.00])'),
    ('prec0', lambda: np.array([0.6, 1.25, 3.], f32), {'precision': 0}, {},
     'tensor([1, 1, 3])'),
    ('prec8_f64', lambda: np.array([1/3, 2.], f64), {'precision': 8}, {},
     'tensor([0.33333333, 2.00000000], dtype=torch.float64)'),
    ('sci_on', lambda: np.array([1.5, 2.], f32), {'sci_mode': True}, {},
     'tensor([1.5000e+00, 2.0000e+00])'),
    ('sci_on_int', lambda: np.array([1., 20.], f32), {'sci_mode': True}, {},
     'tensor([1.0000e+00, 2.0000e+01])'),
    ('sci_off', lambda: np.array([1e-5, 1e5], f32), {'sci_mode': False}, {},
     'tensor([     0.0000, 100000.0000])'),
    ('threshold5', lambda: np.arange(10), {'threshold': 5}, {},
     'tensor([0, 1, 2,  ..., 7, 8, 9])'),
    ('threshold5_edge1', lambda: np.arange(10.).reshape(5, 2).astype(f32), {'threshold': 5, 'edgeitems': 1}, {},
     'tensor([[0., 1.],\n        ...,\n        [8., 9.]])'),
    ('edge0', lambda: np.arange(10, dtype=f32).reshape(2, 5), {'edgeitems': 0}, {},
     'tensor([[0., 1., 2., 3., 4.],\n        [5., 6., 7., 8., 9.]], size=(2, 5))'),
    ('edge0_summ', lambda: np.arange(2000, dtype=f32).reshape(20, 100), {'edgeitems': 0}, {},
     'tensor([...], size=(20, 100))'),
    ('linewidth40', lambda: np.arange(30, dtype=f32) / 7, {'linewidth': 40}, {},
     'tensor([0.0000, 0.1429, 0.2857, 0.4286,\n        0.5714, 0.7143, 0.8571, 1.0000,\n        1.1429, 1.2857, 1.4286, 1.5714,\n        1.7143, 1.8571, 2.0000, 2.1429,\n        2.2857, 2.4286, 2.5714, 2.7143,\n        2.8571, 3.0000, 3.1429, 3.2857,\n        3.4286, 3.5714, 3.7143, 3.8571,\n        4.0000, 4.1429])'),
    ('linewidth200', lambda: (np.arange(60, dtype=f32) / 3).reshape(3, 20), {'linewidth': 200}, {},
     'tensor([[ 0.0000,  0.3333,  0.6667,  1.0000,  1.3333,  1.6667,  2.0000,  2.3333,  2.6667,  3.0000,  3.3333,  3.6667,  4.0000,  4.3333,  4.6667,  5.0000,  5.3333,  5.6667,  6.0000,  6.3333],\n        [ 6.6667,  7.0000,  7.3333,  7.6667,  8.0000,  8.3333,  8.6667,  9.0000,  9.3333,  9.6667, 10.0000, 10.3333, 10.6667, 11.0000, 11.3333, 11.6667, 12.0000, 12.3333, 12.6667, 13.0000],\n        [13.3333, 13.6667, 14.0000, 14.3333, 14.6667, 15.0000, 15.3333, 15.6667, 16.0000, 16.3333, 16.6667, 17.0000, 17.3333, 17.6667, 18.0000, 18.3333, 18.6667, 19.0000, 19.3333, 19.6667]])'),
    ('profile_short', lambda: (np.arange(100, dtype=f32) / 7).reshape(10, 10), {'profile': 'short', 'threshold': 50}, {},
     'tensor([[ 0.00,  0.14,  ...,  1.14,  1.29],\n        [ 1.43,  1.57,  ...,  2.57,  2.71],\n        ...,\n        [11.43, 11.57,  ..., 12.57, 12.71],\n        [12.86, 13.00,  ..., 14.00, 14.14]])'),
    ('profile_full', lambda: np.arange(1200) % 10, {'profile': 'full'}, {},
     'tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3,\n        4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7,\n        8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1,\n        2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5,\n        6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,\n        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3,\n        4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7,\n        8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1,\n        2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5,\n        6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,\n        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3,\n        4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7,\n        8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1,\n        2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5,\n        6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,\n        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3,\n        4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7,\n        8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1,\n        2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5,\n        6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,\n        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3,\n        4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7,\n        8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1,\n        2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5,\n        6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,\n        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3,\n        4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7,\n        8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1,\n        2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5,\n        6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,\n        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3,\n        4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7,\n        8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1,\n        2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5,\n        6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,\n        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3,\n        4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7,\n        8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1,\n        2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5,\n        6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,\n        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3,\n        4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7,\n        8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1,\n        2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5,\n        6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,\n        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3,\n        4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7,\n        8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1,\n        2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5,\n        6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9])'),
]

RETURN_TYPES = [
    ('topk', lambda: (F(np.array([3., 2.], f32)), F(np.array([0, 2]))),
     'torch.return_types.topk(\nvalues=tensor([3., 2.]),\nindices=tensor([0, 2]))'),
    ('max', lambda: (F(np.arange(12, dtype=f32).reshape(3, 4)), F(np.ones((3, 4), np.int64))),
     'torch.return_types.max(\nvalues=tensor([[ 0.,  1.,  2.,  3.],\n        [ 4.,  5.,  6.,  7.],\n        [ 8.,  9., 10., 11.]]),\nindices=tensor([[1, 1, 1, 1],\n        [1, 1, 1, 1],\n        [1, 1, 1, 1]]))'),
    ('aminmax', lambda: (F(np.array(1.5, f32)), F(np.array(4., f32))),
     'torch.return_types.aminmax(\nmin=tensor(1.5000),\nmax=tensor(4.))'),
    ('sort', lambda: (F(np.array([1, 2, 3])), F(np.array([2, 0, 1]))),
     'torch.return_types.sort(\nvalues=tensor([1, 2, 3]),\nindices=tensor([2, 0, 1]))'),
]


@pytest.mark.parametrize("name,make,opts,kw,expected", CASES, ids=[c[0] for c in CASES])
def test_repr_literal(name, make, opts, kw, expected):
    kw = dict(kw)
    _DEFAULT[0] = kw.pop("default", "float32")
    P.set_printoptions(**opts)
    t = F(make(), **kw)
    assert P.tensor_repr(t) == expected


def test_cases_count():
    assert len(CASES) >= 40


@pytest.mark.parametrize("name,make,expected", RETURN_TYPES, ids=[c[0] for c in RETURN_TYPES])
def test_return_types_repr(name, make, expected):
    r = getattr(RT, name)(make())
    assert repr(r) == expected and str(r) == expected


def test_return_types_tuple_behaviour():
    v, i = F(np.array([3., 2.], f32)), F(np.array([0, 2]))
    r = RT.topk((v, i))
    assert isinstance(r, tuple) and len(r) == 2
    assert r.values is v and r.indices is i and r[0] is v and r[-1] is i
    a, b = r
    assert a is v and b is i
    assert RT.topk(v, i) == r and RT.topk(values=v, indices=i) == r
    assert type(r).__name__ == "topk" and r.n_fields == 2 and r.__match_args__ == ("values", "indices")
    mm = RT.aminmax((1, 2))
    assert (mm.min, mm.max) == (1, 2)
    assert pickle.loads(pickle.dumps(RT.sort((1, 2)))) == RT.sort((1, 2))
    assert type(pickle.loads(pickle.dumps(RT.sort((1, 2))))) is RT.sort
    with pytest.raises(TypeError):
        RT.topk((1, 2, 3))
    with pytest.raises(TypeError):
        RT.topk(5)
    with pytest.raises(AttributeError):
        r.values = 1
    for name in ("sort", "max", "min", "kthvalue", "median", "nanmedian", "mode", "cummax", "cummin"):
        assert getattr(RT, name)._fields == ("values", "indices")


def test_printoptions_api():
    assert P.get_printoptions() == dict(precision=4, threshold=1000, edgeitems=3, linewidth=80, sci_mode=None)
    P.set_printoptions(precision=2, sci_mode=True)
    assert P.get_printoptions()["precision"] == 2 and P.get_printoptions()["sci_mode"] is True
    P.set_printoptions(precision=3)  # like torch, an omitted sci_mode resets to automatic
    assert P.get_printoptions()["sci_mode"] is None and P.get_printoptions()["precision"] == 3
    P.set_printoptions(profile="short")
    assert P.get_printoptions() == dict(precision=2, threshold=1000, edgeitems=2, linewidth=80, sci_mode=None)
    P.set_printoptions(profile="full")
    assert P.get_printoptions()["threshold"] == math.inf
    P.set_printoptions(profile="default")
    with P.printoptions(precision=2, linewidth=40):
        assert repr(F(np.array([0.123, 1.0], f32))) == "tensor([0.12, 1.00])"
    assert repr(F(np.array([0.123, 1.0], f32))) == "tensor([0.1230, 1.0000])"
    assert P.get_printoptions()["linewidth"] == 80


def test_grad_fn_cpp_name_and_repr_equals_str():
    t = F(np.array([1., 2.], f32), grad_fn="torch::autograd::AccumulateGrad")
    assert repr(t) == "tensor([1., 2.], grad_fn=<AccumulateGrad>)"


def test_float16_overflowing_values():
    # float16 arrays are formatted from their exact values (max finite 65504)
    t = F(np.array([65504., -65504., inf], f16))
    assert repr(t) == "tensor([ 65504., -65504.,     inf], dtype=torch.float16)"


def test_large_full_print_is_fast():
    import time
    P.set_printoptions(profile="full")
    t0 = time.perf_counter()
    s = repr(F(np.arange(200_000, dtype=f32) / 7))
    assert time.perf_counter() - t0 < 5 and s.count("\n") > 10_000


# ---------------------------------------------------------------- randomized comparison with torch
_DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]


def _random_array(rng, dtype):
    nd = int(rng.integers(0, 5))
    shape = tuple(int(s) for s in rng.integers(0, 6 if nd > 2 else 30, size=nd))
    if rng.random() < 0.05:
        shape = (int(rng.integers(990, 1500)),)
    kind = int(rng.integers(0, 6))
    x = np.array(rng.standard_normal(shape))
    if kind == 1:
        x = np.round(x * 1000)
    elif kind == 2:
        x = x * 10.0 ** int(rng.integers(-12, 12))
    elif kind == 3:
        x = np.exp(rng.uniform(-30, 30, size=shape)) * rng.choice([-1, 1], size=shape)
    elif kind == 4:
        m = rng.random(shape)
        x[m < 0.2] = nan
        x[(m > 0.2) & (m < 0.35)] = inf
        x[(m > 0.35) & (m < 0.45)] = -inf
        x[(m > 0.45) & (m < 0.55)] = -0.0
    elif kind == 5:
        x = np.round(x, int(rng.integers(0, 4)))
    x = np.array(x)
    if dtype == "bool":
        return np.array(x > 0)
    if dtype.startswith("float"):
        with np.errstate(all="ignore"):
            return np.array(x.astype(dtype))
    info = np.iinfo(dtype)
    return np.array(np.clip(np.nan_to_num(x * 100, posinf=0, neginf=0), info.min, info.max).astype(dtype))


def test_random_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1234)
    opts_choices = [{}, {"precision": 2}, {"precision": 6}, {"sci_mode": True}, {"sci_mode": False},
                    {"linewidth": 37}, {"linewidth": 150}, {"threshold": 20, "edgeitems": 2},
                    {"threshold": 10, "edgeitems": 0}, {"profile": "short"}]
    try:
        for _ in range(400):
            dtype = _DTYPES[int(rng.integers(len(_DTYPES)))]
            arr = _random_array(rng, dtype)
            opts = opts_choices[int(rng.integers(len(opts_choices)))]
            default = "float64" if rng.random() < 0.1 else "float32"
            torch.set_default_dtype(getattr(torch, default))
            _DEFAULT[0] = default
            torch.set_printoptions(profile="default")
            torch.set_printoptions(**opts)
            P.set_printoptions(profile="default")
            P.set_printoptions(**opts)
            t = torch.from_numpy(arr)
            kw = {}
            if dtype.startswith("float") and rng.random() < 0.3:
                t = t.clone().requires_grad_()
                kw["requires_grad"] = True
                if rng.random() < 0.5:
                    t = t * 1
                    kw["grad_fn"] = "MulBackward0"
            assert P.tensor_repr(F(arr, **kw)) == repr(t), (arr.dtype, arr.shape, opts)
    finally:
        torch.set_printoptions(profile="default")
        torch.set_default_dtype(torch.float32)
