"""Data-pipeline rows: a DataLoader epoch over a TensorDataset (0 workers), a 2-worker epoch over a dataset
whose ``__getitem__`` costs 50 us, and save+load of a 24x512x512 float32 state dict to memory.

Each row builds its loader / state dict per library in ``prep``; the timed call runs a whole epoch (or a
save followed by a load) and returns a small checksum that every library must agree on."""
import io
import time

import numpy as np

from .rows import Row, register

N_ROWS, N_FEAT, BATCH = 20000, 784, 64
SLOW_N, SLOW_US = 2000, 50
SD_N, SD_SHAPE = 24, (512, 512)


# -- DataLoader epoch, TensorDataset, shuffle, 0 workers ---------------------------------------------
def _epoch_inputs(n, dt, rng):
    return (rng.standard_normal((N_ROWS, N_FEAT), dtype=np.float32), rng.integers(0, 10, N_ROWS).astype(np.int64))


def _epoch_prep(lib, m, inputs):
    x, y = inputs
    if lib == "numpy":
        return (x, y)
    D = m.utils.data
    ds = D.TensorDataset(m.from_numpy(x), m.from_numpy(y))
    return (D.DataLoader(ds, batch_size=BATCH, shuffle=True),)


def _epoch(m, loader):
    rows = batches = 0
    for xb, yb in loader:
        rows += xb.shape[0]
        batches += 1
    return np.array([rows, batches], np.int64)


def _epoch_np(m, x, y):
    perm = np.random.default_rng().permutation(len(x))
    rows = batches = 0
    for i in range(0, len(x), BATCH):
        idx = perm[i:i + BATCH]
        xb, yb = x[idx], y[idx]
        rows += xb.shape[0]
        batches += 1
    return np.array([rows, batches], np.int64)


register(Row("dataloader_epoch", "data", f"DataLoader epoch: TensorDataset {N_ROWS}x{N_FEAT} f32, batch {BATCH}, "
             "shuffle, 0 workers", _epoch_inputs, {"*": _epoch, "numpy": _epoch_np}, sizes=(N_ROWS * N_FEAT,),
             fixed=True, prep=_epoch_prep, shape=lambda x, y: f"{N_ROWS}x{N_FEAT}", on_cuda=False,
             needs=("utils",)))


# -- 2 workers, 50 us per sample ---------------------------------------------------------------------
class SlowDataset:
    """Library-neutral map-style dataset: each sample busy-waits 50 us, then returns (array, label)."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        end = time.perf_counter() + SLOW_US * 1e-6
        while time.perf_counter() < end:
            pass
        return np.full(16, i, np.float32), i


def _slow_inputs(n, dt, rng):
    return (np.arange(SLOW_N, dtype=np.int64),)


def _slow_prep(lib, m, inputs):
    if lib == "numpy":
        return inputs
    return (m.utils.data.DataLoader(SlowDataset(SLOW_N), batch_size=BATCH, num_workers=2),)


def _slow_np(m, idx):
    ds = SlowDataset(SLOW_N)
    rows = batches = 0
    for i in range(0, SLOW_N, BATCH):
        samples = [ds[j] for j in idx[i:i + BATCH]]
        xb = np.stack([s[0] for s in samples])
        rows += xb.shape[0]
        batches += 1
    return np.array([rows, batches], np.int64)


register(Row("dataloader_workers", "data", f"DataLoader epoch, 2 workers, {SLOW_N} samples of {SLOW_US} us each, "
             f"batch {BATCH} (NumPy column: serial)", _slow_inputs, {"*": _epoch, "numpy": _slow_np},
             sizes=(SLOW_N,), fixed=True, prep=_slow_prep, shape=lambda idx: f"{SLOW_N}x{SLOW_US}us", on_cuda=False,
             needs=("utils",)))


# -- save + load of a state dict to memory -------------------------------------------------------------
def _sd_inputs(n, dt, rng):
    return tuple(rng.standard_normal(SD_SHAPE, dtype=np.float32) for _ in range(SD_N))


def _sd_prep(lib, m, inputs):
    if lib == "numpy":
        return inputs
    from collections import OrderedDict
    return (OrderedDict((f"layer{i}.weight", m.from_numpy(a)) for i, a in enumerate(inputs)),)


def _save_load(m, sd):
    b = io.BytesIO()
    m.save(sd, b)
    b.seek(0)
    out = m.load(b)
    return out[f"layer{SD_N - 1}.weight"]


def _save_load_np(m, *arrays):
    b = io.BytesIO()
    np.savez(b, *arrays)
    b.seek(0)
    z = np.load(b)
    return z[f"arr_{SD_N - 1}"]


register(Row("save_load_state_dict", "data", f"save + load of a {SD_N}x{SD_SHAPE[0]}x{SD_SHAPE[1]} f32 state dict "
             "to io.BytesIO (NumPy column: savez/load)", _sd_inputs, {"*": _save_load, "numpy": _save_load_np},
             sizes=(SD_N * SD_SHAPE[0] * SD_SHAPE[1],), fixed=True, prep=_sd_prep,
             shape=lambda *a: f"{SD_N}x{SD_SHAPE[0]}x{SD_SHAPE[1]}", on_cuda=False, needs=("save", "load")))
