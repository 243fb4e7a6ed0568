"""``DistributedSampler``: each of ``num_replicas`` ranks gets an equal, disjoint share of the indices
(padded by repetition unless ``drop_last``), reshuffled per ``set_epoch``."""
import math

import numpy as np

from .sampler import Sampler

__all__ = ["DistributedSampler"]


def _dist_query(what):
    """World size / rank from numtorch.distributed when a process group is initialized; else PyTorch's error."""
    try:
        from ... import distributed as dist
    except ImportError:
        dist = None
    if dist is not None and getattr(dist, "is_available", lambda: False)() and \
            getattr(dist, "is_initialized", lambda: False)():
        return getattr(dist, what)()
    raise ValueError("Default process group has not been initialized, please make sure to call init_process_group.")


class DistributedSampler(Sampler):
    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None:
            num_replicas = _dist_query("get_world_size")
        if rank is None:
            rank = _dist_query("get_rank")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        if self.drop_last and len(self.dataset) % self.num_replicas != 0:
            self.num_samples = math.ceil((len(self.dataset) - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(len(self.dataset) / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def _index_array(self):
        n = len(self.dataset)
        if self.shuffle:
            from ...random import Generator
            indices = Generator().manual_seed(self.seed + self.epoch)._rng.permutation(n).astype(np.int64)
        else:
            indices = np.arange(n, dtype=np.int64)
        if not self.drop_last:
            pad = self.total_size - len(indices)
            if pad > 0:
                indices = np.concatenate([indices, np.resize(indices, pad)]) if len(indices) else indices
        else:
            indices = indices[: self.total_size]
        if len(indices) != self.total_size:
            raise AssertionError(f"Number of indices ({len(indices)}) does not match total_size ({self.total_size})")
        indices = indices[self.rank: self.total_size: self.num_replicas]
        if len(indices) != self.num_samples:
            raise AssertionError(f"Number of subsampled indices ({len(indices)}) does not match num_samples "
                                 f"({self.num_samples})")
        return indices

    def __iter__(self):
        return iter(self._index_array().tolist())

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Reshuffle differently on the next pass (all replicas must pass the same epoch)."""
        self.epoch = epoch
