"""Fetchers: turn a batch of indices into a collated batch (map-style) or pull samples (iterable)."""
import numpy as np

__all__ = ["create_fetcher"]


class _IterableDatasetFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset, self.auto_collation, self.collate_fn, self.drop_last = dataset, auto_collation, collate_fn, \
            drop_last
        self.dataset_iter = iter(dataset)
        self.ended = False

    def fetch(self, possibly_batched_index):
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            for _ in possibly_batched_index:
                try:
                    data.append(next(self.dataset_iter))
                except StopIteration:
                    self.ended = True
                    break
            if len(data) == 0 or (self.drop_last and len(data) < len(possibly_batched_index)):
                raise StopIteration
        else:
            data = next(self.dataset_iter)
        return self.collate_fn(data)


class _MapDatasetFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        from .collate import default_collate
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn
        # Fast path: a TensorDataset (possibly inside Subsets, as random_split makes) batched by
        # default_collate is one index-select per tensor.
        self.tensor_fast = None
        if auto_collation and collate_fn is default_collate:
            self.tensor_fast = _tensor_source(dataset)
        getitems = getattr(dataset, "__getitems__", None)
        self.getitems = getitems if callable(getitems) else None

    def fetch(self, possibly_batched_index):
        if self.tensor_fast is not None:
            tensors, maps = self.tensor_fast
            idx = np.asarray(possibly_batched_index, dtype=np.int64)
            for m in maps:                     # outermost Subset first
                idx = _check_index(idx, len(m))
                idx = m[idx]
            return gather_tensor_batch(tensors, idx)
        if self.auto_collation:
            if self.getitems is not None:
                data = self.getitems(possibly_batched_index.tolist()
                                     if isinstance(possibly_batched_index, np.ndarray) else possibly_batched_index)
            else:
                data = [self.dataset[idx] for idx in (possibly_batched_index.tolist()
                                                      if isinstance(possibly_batched_index, np.ndarray)
                                                      else possibly_batched_index)]
        else:
            data = self.dataset[possibly_batched_index]
        return self.collate_fn(data)


def _tensor_source(dataset):
    """(tensors, [index arrays of the Subsets around them]) when ``dataset`` is a TensorDataset, possibly wrapped
    in plain Subsets, whose tensors need no grad; else None."""
    from ..dataset import Subset, TensorDataset
    maps = []
    while type(dataset) is Subset:
        try:
            maps.append(np.asarray(dataset.indices, dtype=np.int64).reshape(-1))
        except (TypeError, ValueError):
            return None
        dataset = dataset.dataset
    if type(dataset) is not TensorDataset or any(t.requires_grad for t in dataset.tensors):
        return None
    return dataset.tensors, maps


def _check_index(idx, n):
    """Python's sequence-index rules for an index array into ``n`` items (IndexError, negatives wrap)."""
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if lo < -n or hi >= n:
            raise IndexError("list index out of range")
        if lo < 0:
            idx = np.where(idx < 0, idx + n, idx)
    return idx


def gather_tensor_batch(tensors, index):
    """``[t[index] for t in tensors]`` with one compiled index-select each (what default_collate of the
    samples would give: a list of stacked tensors)."""
    from ....creation import from_numpy
    from ....index_ops import index_select
    idx = np.asarray(index, dtype=np.int64)
    if idx.size:
        n = tensors[0].shape[0]
        lo, hi = int(idx.min()), int(idx.max())
        if lo < -n or hi >= n:
            bad = hi if hi >= n else lo
            raise IndexError(f"index {bad} is out of bounds for dimension 0 with size {n}")
        if lo < 0:
            idx = np.where(idx < 0, idx + n, idx)
    it = from_numpy(np.ascontiguousarray(idx))
    out = []
    for t in tensors:
        if t.device.type != "cpu":
            out.append(index_select(t, 0, it.to(t.device)))
        else:
            out.append(index_select(t, 0, it))
    return out


def create_fetcher(kind, dataset, auto_collation, collate_fn, drop_last):
    if kind == "iterable":
        return _IterableDatasetFetcher(dataset, auto_collation, collate_fn, drop_last)
    return _MapDatasetFetcher(dataset, auto_collation, collate_fn, drop_last)
