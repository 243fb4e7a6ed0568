"""Worker processes of a multi-process DataLoader: the loop each worker runs, ``get_worker_info``, the
exception wrapper that carries a worker's traceback to the main process, and the shared-memory transport
(a tensor's bytes go into a /dev/shm file that the main process maps, instead of a pickled copy)."""
import itertools
import mmap
import os
import pickle
import queue
import random
import sys
import traceback

import numpy as np

__all__ = ["WorkerInfo", "get_worker_info", "ExceptionWrapper"]

MP_STATUS_CHECK_INTERVAL = 5.0
_SHM_DIR = "/dev/shm"
_SHM_MIN_BYTES = 4096        # smaller tensors travel inside the pickle
_worker_info = None


class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker: id, num_workers, seed, dataset."""
    __initialized = False

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs.keys())
        self.__initialized = True

    def __setattr__(self, key, val):
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {self.__class__.__name__} objects")
        return super().__setattr__(key, val)

    def __repr__(self):
        items = [f"{k}={getattr(self, k)}" for k in self.__keys]
        return f"{self.__class__.__name__}({', '.join(items)})"


def get_worker_info():
    """Inside a DataLoader worker: its WorkerInfo; in the main process: None."""
    return _worker_info


class KeyErrorMessage(str):
    def __repr__(self):
        return self


class ExceptionWrapper:
    """An exception with its traceback text, picklable across processes."""

    def __init__(self, exc_info=None, where="in background"):
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = KeyErrorMessage(msg)
        elif getattr(self.exc_type, "message", None):
            raise self.exc_type(message=msg)
        try:
            exception = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        raise exception


class _IterableDatasetStopIteration:
    def __init__(self, worker_id):
        self.worker_id = worker_id


# -- shared-memory transport --------------------------------------------------------------------------
def _shm_available():
    return os.path.isdir(_SHM_DIR) and os.access(_SHM_DIR, os.W_OK)


def _rebuild_shared(path, nbytes, np_dtype, dtype_name, shape, stride, requires_grad):
    """Main side: map the worker's file and unlink it at once (the mapping lives as long as the tensor)."""
    from ....tensor import Tensor
    from ....storage import Storage
    from .... import dtypes as _dt
    fd = os.open(path, os.O_RDWR)
    try:
        m = mmap.mmap(fd, nbytes) if nbytes else None
    finally:
        os.close(fd)
        os.unlink(path)
    arr = np.frombuffer(m, dtype=np_dtype) if m is not None else np.empty(0, np_dtype)
    t = Tensor._make(Storage(arr), tuple(shape), tuple(stride), 0, _dt._by_name(dtype_name))
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_plain(arr, dtype_name, shape, stride, requires_grad):
    from ....tensor import Tensor
    from ....storage import Storage
    from .... import dtypes as _dt
    t = Tensor._make(Storage(arr), tuple(shape), tuple(stride), 0, _dt._by_name(dtype_name))
    if requires_grad:
        t.requires_grad_(True)
    return t


class _ShmPickler(pickle.Pickler):
    """Worker side: tensors of a batch become /dev/shm files named ``<prefix><n>``."""

    def __init__(self, f, prefix, counter):
        super().__init__(f, pickle.HIGHEST_PROTOCOL)
        self.prefix, self.counter = prefix, counter

    def reducer_override(self, obj):
        from ....tensor import Tensor
        if not isinstance(obj, Tensor):
            return NotImplemented
        t = obj.detach()
        if t.device.type != "cpu":
            t = t.cpu()
        if not t.is_contiguous():
            t = t.contiguous()
        if t._offset or len(t._storage) != t.numel():
            t = t.clone()
        arr = t._storage.data
        rg = bool(obj.requires_grad and obj.is_leaf)
        if arr.nbytes < _SHM_MIN_BYTES or self.prefix is None:
            return (_rebuild_plain, (arr, t.dtype.name, t._shape, t._stride, rg))
        path = f"{self.prefix}{next(self.counter)}"
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
        try:
            os.ftruncate(fd, arr.nbytes)
            with mmap.mmap(fd, arr.nbytes) as m:
                np.frombuffer(m, dtype=arr.dtype)[:] = arr
                del m
        except BaseException:
            os.close(fd)
            os.unlink(path)
            raise
        os.close(fd)
        return (_rebuild_shared, (path, arr.nbytes, arr.dtype.str, t.dtype.name, t._shape, t._stride, rg))


def _dumps(obj, prefix, counter):
    import io
    buf = io.BytesIO()
    _ShmPickler(buf, prefix, counter).dump(obj)
    return buf.getvalue()


def cleanup_shm(prefix):
    """Unlink every file a loader's workers made but the main process never mapped."""
    if prefix is None:
        return
    d, base = os.path.split(prefix)
    try:
        names = os.listdir(d)
    except OSError:
        return
    for n in names:
        if n.startswith(base):
            try:
                os.unlink(os.path.join(d, n))
            except OSError:
                pass


# -- the worker loop -----------------------------------------------------------------------------------
class _ResumeIteration:
    def __init__(self, epoch, seed=None):
        self.epoch, self.seed = epoch, seed


def _worker_loop(dataset_kind, dataset, index_queue, data_queue, done_event, auto_collation, collate_fn,
                 drop_last, base_seed, init_fn, worker_id, num_workers, shm_prefix, parent_pid):
    global _worker_info
    from .fetch import create_fetcher
    try:
        import numtorch
        seed = base_seed + worker_id
        random.seed(seed)
        numtorch.manual_seed(seed)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        init_exception = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = create_fetcher(dataset_kind, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_exception = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
        counter = itertools.count()
        prefix = None if shm_prefix is None else f"{shm_prefix}w{worker_id}_"
        iteration_end = False
        epoch = 0
        while True:
            try:
                r = index_queue.get(timeout=MP_STATUS_CHECK_INTERVAL)
            except queue.Empty:
                if os.getppid() != parent_pid:        # the main process died: don't linger
                    break
                continue
            if r is None:
                break
            if isinstance(r, _ResumeIteration):
                epoch = r.epoch
                iteration_end = False
                fetcher = create_fetcher(dataset_kind, dataset, auto_collation, collate_fn, drop_last)
                data_queue.put((epoch, r, None))
                continue
            if done_event.is_set() or iteration_end:
                continue
            idx, index = r
            if init_exception is not None:
                data = init_exception
                init_exception = None
            else:
                try:
                    data = fetcher.fetch(index)
                except Exception as e:
                    if isinstance(e, StopIteration) and dataset_kind == "iterable":
                        data = _IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                    else:
                        data = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
            if not isinstance(data, (ExceptionWrapper, _IterableDatasetStopIteration)):
                try:
                    data = _dumps(data, prefix, counter)
                except Exception:
                    data = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
            data_queue.put((epoch, idx, data))
            del data, idx, index, r
    except KeyboardInterrupt:
        pass
    if done_event.is_set():
        data_queue.cancel_join_thread()
        data_queue.close()
