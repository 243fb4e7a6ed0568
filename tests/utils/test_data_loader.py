"""utils.data.DataLoader: single-process orderings (vs torch), the TensorDataset fast path, argument errors,
and real worker processes (ordering, get_worker_info, seeds, exceptions with tracebacks, shutdown)."""
import gc
import os
import time

import numpy as np
import pytest

import numtorch
from numtorch.utils.data import (DataLoader, Dataset, IterableDataset, TensorDataset, get_worker_info,
                                 default_collate)
from _twin import twin, twin_raises


def _data(T):
    return T.utils.data


def _xy(T, n=10):
    return _data(T).TensorDataset(T.tensor(np.arange(2 * n, dtype=np.float32).reshape(n, 2)),
                                  T.tensor(np.arange(n)))


def test_sequential_batches_match_torch():
    def case(T):
        D = _data(T)
        out = [list(D.DataLoader(_xy(T), batch_size=4)), list(D.DataLoader(_xy(T), batch_size=4, drop_last=True)),
               len(D.DataLoader(_xy(T), batch_size=4)), len(D.DataLoader(_xy(T), batch_size=4, drop_last=True)),
               list(D.DataLoader(_xy(T, 3), batch_size=None)),
               list(D.DataLoader(range(5), batch_size=2)),
               list(D.DataLoader([{"a": i, "s": str(i)} for i in range(3)], batch_size=2))]
        return out
    r = twin(case)
    assert [b[1].tolist() for b in r[0]] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert r[2] == 3 and r[3] == 2 and r[4][2][1].item() == 2 and r[6][1]["s"] == ["2"]


def test_fast_path_matches_per_sample_path():
    ds = _xy(numtorch, 37)
    g1 = numtorch.Generator().manual_seed(11)
    g2 = numtorch.Generator().manual_seed(11)
    fast = list(DataLoader(ds, batch_size=8, shuffle=True, generator=g1))
    slow = list(DataLoader(ds, batch_size=8, shuffle=True, generator=g2, collate_fn=lambda b: default_collate(b)))
    assert len(fast) == len(slow) == 5
    for (fx, fy), (sx, sy) in zip(fast, slow):
        np.testing.assert_array_equal(fx.numpy(), sx.numpy())
        np.testing.assert_array_equal(fy.numpy(), sy.numpy())
        np.testing.assert_array_equal(fx.numpy()[:, 0], 2 * fy.numpy())
    ys = np.concatenate([b[1].numpy() for b in fast])
    assert sorted(ys.tolist()) == list(range(37)) and ys.tolist() != list(range(37))


def test_getitems_and_custom_sampler():
    class Batchy(Dataset):
        calls = []

        def __len__(self):
            return 6

        def __getitem__(self, i):
            raise AssertionError("per-sample path used")

        def __getitems__(self, idx):
            Batchy.calls.append(list(idx))
            return [i * 10 for i in idx]

    out = list(DataLoader(Batchy(), batch_size=4, sampler=[5, 4, 3, 2, 1, 0]))
    assert [b.tolist() for b in out] == [[50, 40, 30, 20], [10, 0]] and Batchy.calls == [[5, 4, 3, 2], [1, 0]]
    bs = list(DataLoader(range(6), batch_sampler=[[0, 5], [1]]))
    assert [b.tolist() for b in bs] == [[0, 5], [1]]


def test_argument_errors_match_torch():
    msgs = [
        (dict(shuffle=True, sampler=[0, 1]), "sampler option is mutually exclusive with shuffle"),
        (dict(batch_size=None, drop_last=True), "batch_size=None option disables auto-batching and is mutually "
                                                "exclusive with drop_last"),
        (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler option is mutually exclusive with batch_size, "
                                                  "shuffle, sampler, and drop_last"),
        (dict(num_workers=-1), "num_workers option should be non-negative; use num_workers=0 to disable "
                               "multiprocessing."),
        (dict(timeout=-1), "timeout option should be non-negative"),
        (dict(prefetch_factor=2), "prefetch_factor option could only be specified in multiprocessing."),
        (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
        (dict(multiprocessing_context="fork"), "multiprocessing_context can only be used with multi-process "
                                               "loading (num_workers > 0), but got num_workers=0"),
    ]
    for kw, msg in msgs:
        twin_raises(lambda T, kw=kw: _data(T).DataLoader(range(4), **kw), ValueError, msg)

    def it(T):
        class It(_data(T).IterableDataset):
            def __iter__(self):
                return iter(range(3))
        return It()

    twin_raises(lambda T: _data(T).DataLoader(it(T), shuffle=True), ValueError,
                "DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle=True")
    dl = DataLoader(range(4))
    with pytest.raises(ValueError, match="batch_size attribute should not be set after DataLoader is initialized"):
        dl.batch_size = 3


def test_pin_memory_warns_and_iterable_len():
    with pytest.warns(UserWarning, match="'pin_memory' argument is set as true but no accelerator is found"):
        b = next(iter(DataLoader(_xy(numtorch), batch_size=2, pin_memory=True)))
    assert b[1].tolist() == [0, 1]

    class It(IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    dl = DataLoader(It(), batch_size=3)
    assert len(dl) == 3 and [b.tolist() for b in dl] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in DataLoader(It(), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]


# -- worker processes ------------------------------------------------------------------------------------
class _Samples(Dataset):
    def __init__(self, n=12, bad=None):
        self.n, self.bad = n, bad

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.bad:
            raise KeyError(f"sample {i} is broken")
        info = get_worker_info()
        return {"x": numtorch.full((300,), float(i)), "i": i, "wid": -1 if info is None else info.id,
                "seed": -1 if info is None else info.seed}


def _shm_files():
    try:
        return [n for n in os.listdir("/dev/shm") if n.startswith(f"numtorch_dl_{os.getpid()}_")]
    except OSError:
        return []


def test_workers_order_info_and_shared_memory():
    dl = DataLoader(_Samples(), batch_size=3, num_workers=2, generator=numtorch.Generator().manual_seed(1))
    batches = list(dl)
    assert [b["i"].tolist() for b in batches] == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]
    assert [b["wid"].tolist() for b in batches] == [[0] * 3, [1] * 3, [0] * 3, [1] * 3]   # round robin
    seeds = {b["wid"][0].item(): b["seed"][0].item() for b in batches}
    assert seeds[1] == seeds[0] + 1                       # base_seed + worker_id
    x = batches[2]["x"]
    assert tuple(x.shape) == (3, 300) and x[:, 0].tolist() == [6., 7., 8.] and x.sum().item() == 300 * 21
    x[0, 0] = 5.                                          # mapped batches are ordinary writable tensors
    assert x[0, 0].item() == 5.
    assert _shm_files() == []                             # files unlinked once mapped
    assert get_worker_info() is None


def test_workers_fast_path_shuffle_persistent_and_init_fn(tmp_path):
    ds = _xy(numtorch, 20)
    marks = tmp_path

    def init_fn(wid):
        open(marks / f"w{wid}", "w").close()

    dl = DataLoader(ds, batch_size=6, shuffle=True, num_workers=2, persistent_workers=True, worker_init_fn=init_fn,
                    generator=numtorch.Generator().manual_seed(4), prefetch_factor=1)
    e1 = [b[1].tolist() for b in dl]
    pids = [w.pid for w in dl._iterator._workers]
    e2 = [b[1].tolist() for b in dl]
    assert [w.pid for w in dl._iterator._workers] == pids            # same workers across epochs
    for ep in (e1, e2):
        assert [len(b) for b in ep] == [6, 6, 6, 2] and sorted(sum(ep, [])) == list(range(20))
    assert e1 != e2 and sorted(os.listdir(marks)) == ["w0", "w1"]
    it = dl._iterator
    del dl
    gc.collect()
    it._shutdown_workers()
    assert all(not w.is_alive() for w in it._workers)


def test_worker_exception_reraised_with_traceback_and_workers_stop():
    it = iter(DataLoader(_Samples(bad=4), batch_size=2, num_workers=2))
    with pytest.raises(KeyError) as ei:
        for _ in it:
            pass
    msg = str(ei.value)
    assert msg.startswith("Caught KeyError in DataLoader worker process 0.\nOriginal Traceback (most recent call "
                          "last):")
    assert "sample 4 is broken" in msg and "__getitem__" in msg
    deadline = time.time() + 5
    while any(w.is_alive() for w in it._workers) and time.time() < deadline:
        time.sleep(0.05)
    assert not any(w.is_alive() for w in it._workers)
    assert _shm_files() == []


def test_iterable_dataset_workers_and_gc_shutdown():
    class It(IterableDataset):
        def __iter__(self):
            info = get_worker_info()
            return iter(range(info.id, 10, info.num_workers))

    assert [b.tolist() for b in DataLoader(It(), batch_size=3, num_workers=2)] == [[0, 2, 4], [1, 3, 5], [6, 8],
                                                                                  [7, 9]]

    class Uneven(IterableDataset):          # worker 0 runs dry first: worker 1 must still be fed (as torch does)
        def __iter__(self):
            return iter(range(2 if get_worker_info().id == 0 else 9))

    got = [b.tolist() for b in DataLoader(Uneven(), batch_size=2, num_workers=2, prefetch_factor=3)]
    assert got == [[0, 1], [0, 1], [2, 3], [4, 5], [6, 7], [8]]
    it = iter(DataLoader(_Samples(n=40), batch_size=2, num_workers=2))
    next(it)
    workers = list(it._workers)
    del it
    gc.collect()
    deadline = time.time() + 5
    while any(w.is_alive() for w in workers) and time.time() < deadline:
        time.sleep(0.05)
    assert not any(w.is_alive() for w in workers)
    assert _shm_files() == []


def test_worker_timeout_and_out_of_order():
    class Slow(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            time.sleep(0.6 if i == 0 else 0.0)
            return i

    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.2 seconds"):
        list(DataLoader(Slow(), batch_size=1, num_workers=1, timeout=0.2))
    got = [b.item() for b in DataLoader(Slow(), batch_size=1, num_workers=2, in_order=False)]
    assert sorted(got) == [0, 1, 2, 3] and got[0] != 0


def test_loader_on_device(device):
    """TensorDataset and default_collate keep tensors on their device (CUDA under the simulator in CI)."""
    x = numtorch.tensor(np.arange(8., dtype=np.float32).reshape(4, 2))
    y = numtorch.tensor(np.arange(4))
    assert x.device.type == device.type
    fast = list(DataLoader(TensorDataset(x, y), batch_size=3))
    stacked = default_collate([x[0], x[3]])
    assert fast[0][0].device.type == device.type and stacked.device.type == device.type
    np.testing.assert_array_equal(fast[0][0].cpu().numpy(), [[0, 1], [2, 3], [4, 5]])
    np.testing.assert_array_equal(fast[1][1].cpu().numpy(), [3])
    np.testing.assert_array_equal(stacked.cpu().numpy(), [[0, 1], [6, 7]])


def test_fast_path_through_random_split_subsets():
    ds = _xy(numtorch, 30)
    train, _ = numtorch.utils.data.random_split(ds, [20, 10], generator=numtorch.Generator().manual_seed(2))
    inner = numtorch.utils.data.Subset(train, list(range(19, -1, -1)))
    got = [b[1].tolist() for b in DataLoader(inner, batch_size=8)]
    assert sum(got, []) == [train.indices[i] for i in range(19, -1, -1)]
    assert [len(b) for b in got] == [8, 8, 4]
    bx = next(iter(DataLoader(train, batch_size=5)))[0]
    np.testing.assert_array_equal(bx.numpy()[:, 0], 2 * np.array(train.indices[:5]))
    with pytest.raises(IndexError):
        next(iter(DataLoader(numtorch.utils.data.Subset(ds, [0, 99]), batch_size=2)))


def test_killed_worker_is_reported():
    class Dies(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            os._exit(3)

    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+.*\) exited unexpectedly"):
        list(DataLoader(Dies(), batch_size=1, num_workers=1))
