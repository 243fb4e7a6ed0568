"""utils.data: datasets, random_split, samplers, default_collate / default_convert (vs torch where importable)."""
import collections

import numpy as np
import pytest

import numtorch
from _twin import twin, twin_raises


def _data(T):
    return T.utils.data


# -- datasets -------------------------------------------------------------------------------------------
def test_tensor_dataset_and_errors():
    def case(T):
        D = _data(T)
        ds = D.TensorDataset(T.tensor(np.arange(12.).reshape(4, 3)), T.tensor(np.arange(4)))
        x, y = ds[2]
        return [len(ds), x, y, ds[1:3][0]]
    assert twin(case)[0] == 4
    twin_raises(lambda T: _data(T).TensorDataset(T.zeros(3), T.zeros(4)), AssertionError,
                "Size mismatch between tensors")


def test_stack_concat_chain_subset():
    def case(T):
        D = _data(T)
        a = D.TensorDataset(T.tensor(np.arange(5)))
        b = D.TensorDataset(T.tensor(np.arange(10, 13)))
        cat = D.ConcatDataset([a, b])
        cat2 = a + b
        st = D.StackDataset(a, a)
        sd = D.StackDataset(x=a, y=a)
        sub = D.Subset(cat, [7, 0, 5])
        return [len(cat), cat.cumulative_sizes, cat[6][0], cat[-1][0], cat2[5][0], st[3][1][0], sd[2]["y"][0],
                len(sub), sub[0][0], sub[2][0], [s[0] for s in sub.__getitems__([1, 2])],
                [s[1][0] for s in st.__getitems__([0, 4])]]
    r = twin(case)
    assert r[:2] == [8, [5, 8]] and r[2].item() == 11 and r[3].item() == 12 and r[8].item() == 12

    class It(numtorch.utils.data.IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

        def __len__(self):
            return self.n

    ch = numtorch.utils.data.ChainDataset([It(2), It(3)])
    assert list(ch) == [0, 1, 0, 1, 2] and len(ch) == 5 and list(It(2) + It(1)) == [0, 1, 0]
    twin_raises(lambda T: _data(T).StackDataset(), ValueError, "At least one dataset should be passed")
    twin_raises(lambda T: _data(T).StackDataset(range(2), range(3)), ValueError, "Size mismatch between datasets")
    twin_raises(lambda T: _data(T).ConcatDataset([]), AssertionError, "datasets should not be an empty iterable")
    twin_raises(lambda T: _data(T).ConcatDataset([range(3)])[-4], ValueError,
                "absolute value of index should not exceed dataset length")


def test_random_split_lengths_fractions_and_errors():
    D = numtorch.utils.data
    g = numtorch.Generator().manual_seed(3)
    a, b = D.random_split(range(10), [3, 7], generator=g)
    assert len(a) == 3 and len(b) == 7 and sorted(list(a) + list(b)) == list(range(10))
    g2 = numtorch.Generator().manual_seed(3)
    a2, _ = D.random_split(range(10), [3, 7], generator=g2)
    assert list(a2) == list(a)                      # the generator makes the split repeatable
    parts = D.random_split(range(11), [0.3, 0.3, 0.4])
    assert [len(p) for p in parts] == [4, 3, 4]     # floor(3.3)=3, 3, 4 -> remainder 1 to the first
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        D.random_split(range(3), [0.9, 0.1])
    twin_raises(lambda T: _data(T).random_split(range(5), [2, 2]), ValueError,
                "Sum of input lengths does not equal the length of the input dataset!")
    twin_raises(lambda T: _data(T).random_split(range(5), [1.5, -0.5]), ValueError,
                "Fraction at index 0 is not between 0 and 1")


# -- samplers -----------------------------------------------------------------------------------------
def test_sequential_batch_samplers_match_torch():
    def case(T):
        D = _data(T)
        s = D.SequentialSampler(range(7))
        return [list(s), list(D.BatchSampler(s, 3, False)), list(D.BatchSampler(s, 3, True)),
                len(D.BatchSampler(s, 3, False)), len(D.BatchSampler(s, 3, True))]
    assert twin(case)[1] == [[0, 1, 2], [3, 4, 5], [6]]
    twin_raises(lambda T: _data(T).BatchSampler(range(3), 0, False), ValueError,
                "batch_size should be a positive integer value, but got batch_size=0")
    twin_raises(lambda T: _data(T).BatchSampler(range(3), 2, 1), ValueError,
                "drop_last should be a boolean value, but got drop_last=1")


def test_random_samplers_seeded_and_shapes():
    D = numtorch.utils.data
    s = D.RandomSampler(range(10), generator=numtorch.Generator().manual_seed(0))
    o1 = list(s)
    assert sorted(o1) == list(range(10)) and o1 != list(range(10))
    assert list(D.RandomSampler(range(10), generator=numtorch.Generator().manual_seed(0))) == o1
    numtorch.manual_seed(5)
    a = list(D.RandomSampler(range(10)))
    numtorch.manual_seed(5)
    assert list(D.RandomSampler(range(10))) == a                # default stream: manual_seed repeats
    r = list(D.RandomSampler(range(4), replacement=True, num_samples=50))
    assert len(r) == 50 and set(r) <= {0, 1, 2, 3}
    m = list(D.RandomSampler(range(4), num_samples=10))
    assert len(m) == 10 and sorted(m[:4]) == [0, 1, 2, 3] and sorted(m[4:8]) == [0, 1, 2, 3]
    assert sorted(D.SubsetRandomSampler([5, 7, 9])) == [5, 7, 9]
    w = list(D.WeightedRandomSampler([0., 1., 0., 3.], 200))
    assert set(w) == {1, 3} and 100 < w.count(3) < 200
    nr = list(D.WeightedRandomSampler([1., 1., 1., 1.], 4, replacement=False))
    assert sorted(nr) == [0, 1, 2, 3]
    twin_raises(lambda T: _data(T).RandomSampler(range(3), replacement=1), TypeError,
                "replacement should be a boolean value, but got replacement=1")
    twin_raises(lambda T: _data(T).RandomSampler(range(3), num_samples=0), ValueError,
                "num_samples should be a positive integer value, but got num_samples=0")
    twin_raises(lambda T: _data(T).WeightedRandomSampler([[1., 2.]], 2), ValueError,
                "weights should be a 1d sequence but given weights have shape (1, 2)")


def test_distributed_sampler():
    def case(T):
        D = _data(T)
        out = []
        for drop in (False, True):
            for rank in range(3):
                s = D.DistributedSampler(range(10), num_replicas=3, rank=rank, shuffle=False, drop_last=drop)
                out.append((list(s), len(s)))
        return out
    r = twin(case)
    assert r[1] == ([1, 4, 7, 0], 4) and r[3] == ([0, 3, 6], 3)
    D = numtorch.utils.data
    s = D.DistributedSampler(range(10), num_replicas=2, rank=0, seed=1)
    s1 = D.DistributedSampler(range(10), num_replicas=2, rank=1, seed=1)
    e0 = list(s)
    assert sorted(e0 + list(s1)) == list(range(10))        # disjoint shares of one permutation
    s.set_epoch(1)
    assert list(s) != e0 and list(D.DistributedSampler(range(10), num_replicas=2, rank=0, seed=1)) == e0
    assert list(D.DistributedSampler(range(2), num_replicas=5, rank=4, shuffle=False)) == [0]   # padding
    twin_raises(lambda T: _data(T).DistributedSampler(range(4), num_replicas=2, rank=2), ValueError,
                "Invalid rank 2, rank should be in the interval [0, 1]")
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        D.DistributedSampler(range(4))


# -- collation ------------------------------------------------------------------------------------------
Point = collections.namedtuple("Point", ["x", "y"])


def test_default_collate_types():
    def case(T):
        c = _data(T).default_collate
        return [c([T.tensor([1., 2.]), T.tensor([3., 4.])]),
                c([np.array([1, 2], np.int32), np.array([3, 4], np.int32)]),
                c([1, 2]), c([1.5, 2.0]), c([True, False]), c([np.float32(1.5), np.float32(2)]),
                c([np.int16(3), np.int16(4)]), c(["a", "b"]), c([b"a", b"b"]),
                c([{"a": 1, "b": T.tensor(2.)}, {"a": 3, "b": T.tensor(4.)}]),
                c([(1, 2.5), (3, 4.5)]), c([[1, 2], [3, 4]]),
                tuple(c([Point(1, T.tensor(1.)), Point(2, T.tensor(2.))])),
                type(c([Point(1, 2), Point(3, 4)])).__name__]
    r = twin(case)
    assert r[2].dtype is numtorch.int64 and r[3].dtype is numtorch.float64 and r[4].dtype is numtorch.bool
    assert r[1].dtype is numtorch.int32 and r[5].dtype is numtorch.float32 and r[6].dtype is numtorch.int16
    assert r[7] == ["a", "b"] and r[8] == [b"a", b"b"] and r[-1] == "Point"
    np.testing.assert_array_equal(r[0].numpy(), [[1, 2], [3, 4]])
    assert r[11][0].tolist() == [1, 3] and r[11][1].tolist() == [2, 4]


def test_default_collate_errors():
    twin_raises(lambda T: _data(T).default_collate([[1, 2], [3]]), RuntimeError,
                "each element in list of batch should be of equal size")
    twin_raises(lambda T: _data(T).default_collate([object(), object()]), TypeError,
                "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found")
    twin_raises(lambda T: _data(T).default_collate([np.array(["a"]), np.array(["b"])]), TypeError,
                "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found <U1")
    twin_raises(lambda T: _data(T).default_collate([T.zeros(2), T.zeros(3)]), RuntimeError,
                "stack expects each tensor to be equal size")


def test_default_convert():
    def case(T):
        c = _data(T).default_convert
        return [c(np.array([1, 2])), c(3), c((np.float64(1.5), "s")), c({"a": np.zeros(2, np.float32)}),
                c(Point(np.int64(1), 2)), c([np.array([True])])]
    r = twin(case)
    assert r[1] == 3 and r[2][1] == "s" and r[0].dtype is numtorch.int64
