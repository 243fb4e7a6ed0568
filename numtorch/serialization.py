"""``torch.save`` / ``torch.load`` in PyTorch's own file format, without PyTorch.

A checkpoint is an uncompressed zip whose records sit under ``archive/``: ``data.pkl`` (the object,
pickled with tensors as ``torch._utils._rebuild_tensor_v2`` calls over persistent storage ids),
``data/<key>`` (one raw little-endian record per storage, 64-byte aligned), ``version``, ``byteorder``,
``.format_version``, ``.storage_alignment`` and ``.data/serialization_id``. numtorch writes PyTorch's
global names as plain names (it never imports torch) and maps them back to its own rebuilders on load.
``weights_only=True`` (the default, as in PyTorch 2.6+) loads through an Unpickler whose ``find_class``
only resolves an allow-list, so a malicious checkpoint cannot run code.
"""
import builtins
import collections
import contextlib
import io
import os
import pickle
import re
import struct
import sys
import zipfile
import zlib

import numpy as np

from . import dtypes as _dt, _utils as _nu
from .device import device as _device, CPU
from .shape import Size
from .storage import Storage
from .tensor import Tensor

__all__ = ["save", "load", "add_safe_globals", "safe_globals", "get_safe_globals", "clear_safe_globals",
           "DEFAULT_PROTOCOL", "get_unsafe_globals_in_checkpoint", "get_crc32_options", "set_crc32_options"]

DEFAULT_PROTOCOL = 2
MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
_ALIGN = 64
_MAX_VERSION = 10   # highest archive/version PyTorch 2.13 reads

UNSAFE_MESSAGE = (
    "In PyTorch 2.6, we changed the default value of the `weights_only` argument in `torch.load` "
    "from `False` to `True`. Re-running `torch.load` with `weights_only` set to `False` will likely succeed, "
    "but it can result in arbitrary code execution. Do it only if you got the file from a trusted source.")
DOCS_MESSAGE = ("\n\nCheck the documentation of torch.load to learn more about types accepted by default with "
                "weights_only https://pytorch.org/docs/stable/generated/torch.load.html.")
_BLOCKED_MODULES = ("sys", "os", "posix", "nt")    # PyTorch's list: refused even when allow-listed

# dtype <-> PyTorch's legacy storage class names ('torch', 'FloatStorage')
_STORAGE_NAME = {d: d.legacy.replace("Tensor", "Storage") for d in _dt.ALL_DTYPES}
_STORAGE_DTYPE = {v: k for k, v in _STORAGE_NAME.items()}


# ---------------------------------------------------------------------------------------------------
# Save
class _TorchGlobal:
    """A PyTorch global written by name (``torch._utils._rebuild_tensor_v2``) without importing torch."""
    __slots__ = ("module", "name")

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):      # pickle insists on a callable; never called here
        raise TypeError(f"{self.module}.{self.name} is a name for PyTorch, not callable in numtorch")


_G_REBUILD_V2 = _TorchGlobal("torch._utils", "_rebuild_tensor_v2")
_G_REBUILD_PARAM = _TorchGlobal("torch._utils", "_rebuild_parameter")
_G_SIZE = _TorchGlobal("torch", "Size")
_G_DEVICE = _TorchGlobal("torch", "device")
_G_STORAGE = {d: _TorchGlobal("torch", n) for d, n in _STORAGE_NAME.items()}


class _StorageRef:
    """What a tensor's storage pickles as: a persistent id naming its record."""
    __slots__ = ("key", "storage", "dtype")

    def __init__(self, key, storage, dtype):
        self.key, self.storage, self.dtype = key, storage, dtype


class _TorchPickler(pickle._Pickler):
    """The pure-Python Pickler, so PyTorch's global names can be written without importing them (the C
    Pickler checks every global by importing its module). data.pkl holds only metadata: speed is fine."""
    dispatch = pickle._Pickler.dispatch.copy()

    def __init__(self, file, protocol, legacy=False):
        super().__init__(file, protocol)
        self.storages = {}      # id(Storage) -> _StorageRef, in first-seen order
        self.legacy = legacy

    def _ref(self, t):
        st = t._storage
        ref = self.storages.get(id(st))
        if ref is None:
            ref = self.storages[id(st)] = _StorageRef(str(len(self.storages)), st, t.dtype)
        elif ref.dtype is not t.dtype:
            raise RuntimeError("Cannot save multiple tensors or storages that view the same data as different types")
        return ref

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            from .nn.parameter import Parameter
            plain = obj
            if isinstance(obj, Parameter):
                plain = Tensor._make(obj._storage, obj._shape, obj._stride, obj._offset, obj.dtype, obj._vc)
                return (_G_REBUILD_PARAM, (plain, obj.requires_grad, collections.OrderedDict()))
            return (_G_REBUILD_V2, (self._ref(obj), obj._offset, tuple(obj._shape), tuple(obj._stride),
                                    obj.requires_grad, collections.OrderedDict()))
        if isinstance(obj, _dt.dtype):
            return obj.name          # -> save_global(obj, name): GLOBAL 'torch float32'
        if isinstance(obj, Size):
            return (_G_SIZE, (tuple(obj),))
        if isinstance(obj, _device):
            return (_G_DEVICE, (obj.type,) if obj.index is None else (obj.type, obj.index))
        return NotImplemented

    def persistent_id(self, obj):
        if obj.__class__ is _StorageRef:
            st = obj.storage
            loc = "cpu" if st.device.type == "cpu" else str(st.device)
            pid = ("storage", _G_STORAGE[obj.dtype], obj.key, loc, len(st))
            return pid + (None,) if self.legacy else pid
        return None

    def save_global(self, obj, name=None):
        if obj.__class__ is _TorchGlobal:
            module, name = obj.module, obj.name
        elif isinstance(obj, _dt.dtype):
            module, name = "torch", obj.name
        else:
            return super().save_global(obj, name)
        if self.proto >= 4:
            self.save(module)
            self.save(name)
            self.write(pickle.STACK_GLOBAL)
        else:
            self.write(pickle.GLOBAL + module.encode("utf-8") + b"\n" + name.encode("utf-8") + b"\n")
        self.memoize(obj)

    dispatch[_TorchGlobal] = save_global


class _FastTorchPickler(pickle.Pickler):
    """The C Pickler writing numtorch stand-ins (``numtorch._utils``) that ``_torch_globals`` renames to
    PyTorch's names afterwards; used for protocols < 4, whose GLOBAL records are plain text lines."""

    def __init__(self, file, protocol, legacy=False):
        super().__init__(file, protocol)
        self.storages = {}
        self.legacy = legacy

    _ref = _TorchPickler._ref

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            from .nn.parameter import Parameter
            if isinstance(obj, Parameter):
                plain = Tensor._make(obj._storage, obj._shape, obj._stride, obj._offset, obj.dtype, obj._vc)
                return (_nu._rebuild_parameter, (plain, obj.requires_grad, collections.OrderedDict()))
            return (_nu._rebuild_tensor_v2, (self._ref(obj), obj._offset, tuple(obj._shape), tuple(obj._stride),
                                             obj.requires_grad, collections.OrderedDict()))
        if isinstance(obj, _dt.dtype):
            return obj.name          # GLOBAL numtorch.dtypes <name>, renamed to torch <name>
        if isinstance(obj, Size):
            return (Size, (tuple(obj),))
        if isinstance(obj, _device):
            return (_device, (obj.type,) if obj.index is None else (obj.type, obj.index))
        return NotImplemented

    def persistent_id(self, obj):
        if obj.__class__ is _StorageRef:
            st = obj.storage
            loc = "cpu" if st.device.type == "cpu" else str(st.device)
            pid = ("storage", _nu.STORAGE_CLASSES[obj.dtype], obj.key, loc, len(st))
            return pid + (None,) if self.legacy else pid
        return None


_GLOBAL_RE = re.compile(rb"c(numtorch\._utils|numtorch\.dtypes|numtorch\.shape|numtorch\.device)\n([A-Za-z_0-9]+)\n")
_DTYPE_NAMES = {d.name.encode() for d in _dt.ALL_DTYPES}


def _rename(m):
    mod, name = m.group(1), m.group(2)
    if mod == b"numtorch._utils":
        new = b"torch._utils" if name.startswith(b"_rebuild") else b"torch" if name.endswith(b"Storage") else None
    elif mod == b"numtorch.dtypes":
        new = b"torch" if name in _DTYPE_NAMES else None
    elif mod == b"numtorch.shape":
        new = b"torch" if name == b"Size" else None
    else:
        new = b"torch" if name == b"device" else None
    return m.group(0) if new is None else b"c" + new + b"\n" + name + b"\n"


def _dump(obj, protocol, legacy=False):
    """(pickle bytes with PyTorch's global names, the storages met in first-seen order)."""
    buf = io.BytesIO()
    if protocol < 4:
        p = _FastTorchPickler(buf, protocol, legacy)
        p.dump(obj)
        return _GLOBAL_RE.sub(_rename, buf.getvalue()), p.storages
    p = _TorchPickler(buf, protocol, legacy)
    p.dump(obj)
    return buf.getvalue(), p.storages


def _host_bytes(st):
    """A storage's bytes as a little-endian host array (one copy from a device)."""
    data = st.data
    if not isinstance(data, np.ndarray):
        data = data.copy_to_host()
    if data.dtype.byteorder == ">" or (data.dtype.byteorder == "=" and sys.byteorder == "big"):
        data = data.byteswap()
    return np.ascontiguousarray(data).view(np.uint8)


class _ZipWriter:
    """A minimal stored (uncompressed) zip writer aligning every record's data to 64 bytes, as PyTorch's
    PyTorchStreamWriter does; sizes and CRCs are known before each header, so no seeking is needed."""

    def __init__(self, f):
        self.f = f
        self.pos = 0
        self.entries = []

    def _w(self, b):
        self.f.write(b)
        self.pos += len(b) if not isinstance(b, np.ndarray) else b.nbytes

    def add(self, name, data, crc=None):
        name_b = name.encode("utf-8")
        buf = memoryview(data).cast("B") if not isinstance(data, (bytes, bytearray)) else data
        size = len(buf)
        crc = (zlib.crc32(buf) if crc is None else crc if isinstance(crc, int) else crc.result()) & 0xFFFFFFFF
        z64 = size >= 0xFFFFFFFF
        extra = struct.pack("<HHQQ", 1, 16, size, size) if z64 else b""
        base = self.pos + 30 + len(name_b) + len(extra) + 4
        pad = (-base) % _ALIGN
        extra += struct.pack("<HH", 0x4246, pad) + b"Z" * pad      # 'FB' padding field, as PyTorch writes
        s32 = 0xFFFFFFFF if z64 else size
        offset = self.pos
        self._w(struct.pack("<IHHHHHIIIHH", 0x04034B50, 45 if z64 else 20, 0, 0, 0, 0x21, crc, s32, s32,
                            len(name_b), len(extra)) + name_b + extra)
        self._w(buf)
        self.entries.append((name_b, crc, size, offset))

    def finish(self):
        cd_start = self.pos
        parts = []
        for name_b, crc, size, offset in self.entries:
            z64 = size >= 0xFFFFFFFF or offset >= 0xFFFFFFFF
            extra = b""
            if z64:
                vals = ([size, size] if size >= 0xFFFFFFFF else []) + ([offset] if offset >= 0xFFFFFFFF else [])
                extra = struct.pack("<HH", 1, 8 * len(vals)) + struct.pack(f"<{len(vals)}Q", *vals)
            s32 = min(size, 0xFFFFFFFF)
            parts.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45 if z64 else 20, 45 if z64 else 20, 0, 0,
                                     0, 0x21, crc, s32, s32, len(name_b), len(extra), 0, 0, 0, 0,
                                     min(offset, 0xFFFFFFFF)) + name_b + extra)
        cd = b"".join(parts)
        self._w(cd)
        n, cd_size = len(self.entries), len(cd)
        if n >= 0xFFFF or cd_start >= 0xFFFFFFFF or cd_size >= 0xFFFFFFFF:
            z64_pos = self.pos
            self._w(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, n, n, cd_size, cd_start))
            self._w(struct.pack("<IIQI", 0x07064B50, 0, z64_pos, 1))
        self._w(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(n, 0xFFFF), min(n, 0xFFFF),
                            min(cd_size, 0xFFFFFFFF), min(cd_start, 0xFFFFFFFF), 0))


@contextlib.contextmanager
def _open_write(f):
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            yield fh
    else:
        if not hasattr(f, "write"):
            raise AttributeError(f"'{type(f).__name__}' object has no attribute 'write'")
        yield f


def save(obj, f, pickle_module=pickle, pickle_protocol=DEFAULT_PROTOCOL, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Save ``obj`` to a path or binary file object in PyTorch's format (``torch.load`` reads it)."""
    with _open_write(f) as fh:
        if not _use_new_zipfile_serialization:
            return _legacy_save(obj, fh, pickle_protocol)
        data, storages = _dump(obj, pickle_protocol)
        records = [("archive/data.pkl", data), ("archive/.format_version", b"1"),
                   ("archive/.storage_alignment", b"64")]
        if not _disable_byteorder_record:
            records.append(("archive/byteorder", b"little"))
        records += [(f"archive/data/{ref.key}", _host_bytes(ref.storage)) for ref in storages.values()]
        records += [("archive/version", b"3\n"), ("archive/.data/serialization_id",
                                                  str(int.from_bytes(os.urandom(16), "little")).zfill(40)[:40].encode())]
        presized = _presize(fh, records)
        crcs = _crc_jobs(records) if _COMPUTE_CRC32 else [0] * len(records)
        zw = _ZipWriter(fh)
        for (name, rec), crc in zip(records, crcs):
            zw.add(name, rec, crc)
        zw.finish()
        if presized:
            fh.truncate()


_COMPUTE_CRC32 = True


def get_crc32_options():
    """Whether ``save`` computes the CRC-32 of each record (PyTorch's reader does not check them)."""
    return _COMPUTE_CRC32


def set_crc32_options(compute_crc32):
    """Turn CRC-32 computation in ``save`` on or off (off writes 0, as PyTorch does)."""
    global _COMPUTE_CRC32
    _COMPUTE_CRC32 = bool(compute_crc32)


_CRC_POOL = None
_CRC_MIN = 1 << 20


def _crc_jobs(records):
    """CRC-32s of the large records computed on a small thread pool (zlib releases the GIL), so checksums of
    later records overlap the writing of earlier ones; None entries are computed inline by the writer."""
    global _CRC_POOL
    big = [i for i, (_, r) in enumerate(records) if not isinstance(r, (bytes, bytearray)) and r.nbytes >= _CRC_MIN]
    out = [None] * len(records)
    if len(big) < 2 or (os.cpu_count() or 1) < 2:
        return out
    if _CRC_POOL is None:
        from concurrent.futures import ThreadPoolExecutor
        _CRC_POOL = ThreadPoolExecutor(max_workers=min(4, os.cpu_count()), thread_name_prefix="numtorch-crc")
    for i in big:
        out[i] = _CRC_POOL.submit(zlib.crc32, records[i][1])
    return out


def _presize(fh, records):
    """Grow an in-memory file once to an upper bound of the archive's size: BytesIO otherwise reallocates
    (and copies) itself every ~12% of growth. The caller truncates to the real end afterwards."""
    if not isinstance(fh, io.BytesIO):
        return False
    start = fh.tell()
    if fh.seek(0, 2) != start:         # not writing at the end: leave the file alone
        fh.seek(start)
        return False
    bound = 98 + sum(2 * len(n) + 200 + (len(r) if isinstance(r, (bytes, bytearray)) else r.nbytes)
                     for n, r in records)
    fh.seek(start + bound - 1)
    fh.write(b"\0")
    fh.seek(start)
    return True


def _legacy_save(obj, fh, protocol):
    for x in (MAGIC_NUMBER, PROTOCOL_VERSION,
              {"protocol_version": PROTOCOL_VERSION, "little_endian": sys.byteorder == "little",
               "type_sizes": {"short": 2, "int": 4, "long": 4}}):
        pickle.dump(x, fh, protocol=protocol)
    data, storages = _dump(obj, protocol, legacy=True)
    fh.write(data)
    keys = [r.key for r in storages.values()]
    pickle.dump(keys, fh, protocol=protocol)
    for ref in storages.values():
        fh.write(struct.pack("<q", len(ref.storage)))
        fh.write(_host_bytes(ref.storage))


# ---------------------------------------------------------------------------------------------------
# Safe globals
_user_globals = []


def add_safe_globals(safe_globals):
    """Mark classes/functions (or ``(obj, "module.name")`` pairs) as loadable with ``weights_only=True``."""
    _user_globals.extend(safe_globals)


def get_safe_globals():
    return list(_user_globals)


def clear_safe_globals():
    _user_globals.clear()


class safe_globals:
    """Context manager adding ``safe_globals`` for ``weights_only`` loads inside its block."""

    def __init__(self, safe_globals):
        self.safe_globals = list(safe_globals)

    def __enter__(self):
        _user_globals.extend(self.safe_globals)

    def __exit__(self, *exc):
        for g in self.safe_globals:
            _user_globals.remove(g)


def _user_allowed():
    out = {}
    for g in _user_globals:
        if isinstance(g, tuple):
            out[g[1]] = g[0]
        else:
            out[f"{g.__module__}.{g.__qualname__}"] = g
    return out


# ---------------------------------------------------------------------------------------------------
# Load: rebuilders for PyTorch's names
class _StorageType:
    """Stands for ``torch.FloatStorage`` & co. while loading (only its dtype matters)."""

    def __init__(self, dtype):
        self.dtype = dtype

    def __call__(self, *args, **kwargs):
        raise pickle.UnpicklingError("Storage constructors are not loadable")


_UNTYPED = _StorageType(_dt.uint8)


class _LoadedStorage:
    """A storage read from a record: raw bytes, cached typed views (views of one storage share data)."""
    __slots__ = ("raw", "location", "typed", "loader")

    def __init__(self, raw, location, loader):
        self.raw, self.location, self.typed, self.loader = raw, location, {}, loader

    def as_dtype(self, dtype):
        st = self.typed.get(dtype)
        if st is None:
            raw = self.raw
            if raw.nbytes % dtype.itemsize:
                raise RuntimeError(f"storage of {raw.nbytes} bytes is not a multiple of {dtype.name}'s itemsize")
            arr = raw.view(dtype.np)
            if sys.byteorder == "big":
                arr = arr.byteswap()
            st = self.typed[dtype] = self.loader.place(Storage(arr, CPU), self.location)
        return st


def _check_bounds(n, size, stride, offset, itemsize):
    if any((not isinstance(s, int)) or s < 0 for s in size) or any((not isinstance(s, int)) or s < 0 for s in stride) \
            or not isinstance(offset, int) or offset < 0 or len(size) != len(stride):
        raise RuntimeError(f"invalid tensor metadata in checkpoint: size {list(size)}, stride {list(stride)}, "
                           f"storage offset {offset}")
    need = 0 if 0 in size else offset + 1 + builtins.sum((s - 1) * st for s, st in zip(size, stride))
    if need > n:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, and "
                           f"itemsize {itemsize} requiring a storage size of {need * itemsize} are out of bounds for "
                           f"storage of size {n * itemsize}")


def _rebuild_tensor(storage, storage_offset, size, stride, dtype=None):
    if isinstance(storage, _LoadedStorage):
        st = storage.as_dtype(dtype or _dt.uint8)
    elif isinstance(storage, tuple):          # (_LoadedStorage, dtype) from a typed persistent id
        st = storage[0].as_dtype(dtype or storage[1])
    else:
        raise pickle.UnpicklingError(f"expected a storage, got {type(storage).__name__}")
    dt = _dt.from_numpy_dtype(st.data.dtype)
    size, stride = tuple(size), tuple(stride)
    _check_bounds(len(st), size, stride, storage_offset, dt.itemsize)
    return Tensor._make(st, size, stride, storage_offset, dt)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None):
    t = _rebuild_tensor(storage, storage_offset, size, stride)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype, metadata=None):
    t = _rebuild_tensor(storage[0] if isinstance(storage, tuple) else storage, storage_offset, size, stride, dtype)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_parameter(data, requires_grad, backward_hooks=None):
    from .nn.parameter import Parameter
    return Parameter(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    p = _rebuild_parameter(data, requires_grad)
    if isinstance(state, dict):
        for k, v in state.items():
            setattr(p, k, v)
    return p


def _rebuild_from_type_v2(func, new_type, args, state):
    return func(*args)


def _get_layout(name):
    return "torch.strided"


def _encode(s, enc="latin1"):
    import _codecs
    return _codecs.encode(s, enc)


def _torch_names():
    names = {
        "torch._utils._rebuild_tensor": _rebuild_tensor,
        "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
        "torch._utils._rebuild_tensor_v3": _rebuild_tensor_v3,
        "torch._utils._rebuild_parameter": _rebuild_parameter,
        "torch._utils._rebuild_parameter_with_state": _rebuild_parameter_with_state,
        "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
        "torch.serialization._get_layout": _get_layout,
        "torch.Size": Size,
        "torch.device": _device,
        "torch.storage.UntypedStorage": _UNTYPED,
        "torch.UntypedStorage": _UNTYPED,
    }
    for d in _dt.ALL_DTYPES:
        names[f"torch.{d.name}"] = d
        names[f"torch.{_STORAGE_NAME[d]}"] = _StorageType(d)
    for alias, d in (("float", _dt.float32), ("double", _dt.float64), ("half", _dt.float16), ("long", _dt.int64),
                     ("int", _dt.int32), ("short", _dt.int16)):
        names[f"torch.{alias}"] = d
    return names


_TORCH_NAMES = _torch_names()


def _safe_builtins():
    from .nn.parameter import Parameter
    return {
        "collections.OrderedDict": collections.OrderedDict,
        "collections.Counter": collections.Counter,
        "torch.nn.parameter.Parameter": Parameter,
        "torch.Tensor": Tensor,
        "_codecs.encode": _encode,
        "builtins.bytearray": bytearray,
        "builtins.set": set,
        "builtins.frozenset": frozenset,
        "builtins.complex": complex,
        "builtins.slice": slice,
        "builtins.range": range,
        # numtorch's own picklers (plain pickle of numtorch objects)
        "numtorch.dtypes._by_name": _dt._by_name,
        "numtorch.device.device": _device,
        "numtorch.shape.Size": Size,
    }


def _wo_error(message):
    if "was not an allowed global by default" in message:
        text = ("Weights only load failed. This file can still be loaded, to do so you have two options, "
                "\033[1mdo those steps only if you trust the source of the checkpoint\033[0m. "
                f"\n\t(1) {UNSAFE_MESSAGE}\n\t(2) Alternatively, to load with `weights_only=True` please check "
                "the recommended steps in the following error message.\n\tWeightsUnpickler error: " + message)
    else:
        text = f"Weights only load failed. {UNSAFE_MESSAGE}\n"
        if "is blocked" not in message:
            text += ("Please file an issue with the following so that we can make `weights_only=True` compatible "
                     "with your use case: WeightsUnpickler error: ")
        text += "\n\n" + message
    return pickle.UnpicklingError(text + DOCS_MESSAGE)


class _WeightsOnlyError(Exception):
    pass


def _make_unpickler(fh, weights_only, persistent_load, pickle_module, encoding="utf-8"):
    base = pickle.Unpickler if (pickle_module is None or weights_only) else pickle_module.Unpickler

    class _Unpickler(base):
        def find_class(self, module, name):
            import _compat_pickle
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            module = _compat_pickle.IMPORT_MAPPING.get(module, module)
            full = f"{module}.{name}"
            if weights_only and module in _BLOCKED_MODULES:       # never loadable, even if allow-listed
                raise _WeightsOnlyError(f"Trying to load unsupported GLOBAL {full} whose module {module} is blocked.")
            if full in _TORCH_NAMES:
                return _TORCH_NAMES[full]
            if weights_only:
                safe = _safe_builtins()
                if full in safe:
                    return safe[full]
                user = _user_allowed()
                if full in user:
                    return user[full]
                if full.startswith("builtins."):
                    full = full[len("builtins."):]
                raise _WeightsOnlyError(
                    f"Unsupported global: GLOBAL {full} was not an allowed global by default. Please use "
                    f"`torch.serialization.add_safe_globals([{full}])` or the "
                    f"`torch.serialization.safe_globals([{full}])` context manager to allowlist this global if "
                    "you trust this class/function.")
            if module == "torch" or module.startswith("torch."):
                import importlib
                try:
                    return getattr(importlib.import_module("num" + module), name)
                except (ImportError, AttributeError):      # never fall back to importing PyTorch itself
                    raise pickle.UnpicklingError(f"numtorch has no equivalent of {full}") from None
            return super().find_class(module, name)

        def persistent_load(self, pid):
            return persistent_load(pid)

    return _Unpickler(fh, encoding=encoding)


def _run_unpickler(fh, weights_only, persistent_load, pickle_module, encoding="utf-8"):
    up = _make_unpickler(fh, weights_only, persistent_load, pickle_module, encoding)
    if not weights_only:
        return up.load()
    try:
        return up.load()
    except _WeightsOnlyError as e:
        raise _wo_error(str(e)) from None
    except (pickle.UnpicklingError, EOFError, TypeError, ValueError, KeyError, AttributeError, IndexError) as e:
        raise _wo_error(str(e) or type(e).__name__) from None


# ---------------------------------------------------------------------------------------------------
# Load: locations
class _Loader:
    def __init__(self, map_location):
        self.map_location = map_location

    def place(self, st, location):
        ml = self.map_location
        if callable(ml) and not isinstance(ml, (str, _device)):
            res = ml(st, location)
            if res is not None:
                return res if isinstance(res, Storage) else getattr(res, "_storage", res)
            ml = None
        if isinstance(ml, dict):
            ml = ml.get(location, location)
        target = location if ml is None else ml
        dev = _device(target) if not isinstance(target, _device) else target
        if dev.type == "cpu":
            return st
        if dev.type != "cuda":
            raise RuntimeError(f"don't know how to restore data location of {location}")
        from . import cuda as _cuda
        if not _cuda.is_available():
            raise RuntimeError(
                "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False. If you "
                "are running on a CPU-only machine, please use torch.load with map_location=torch.device('cpu') to "
                "map your storages to the CPU.")
        from ._buffers import on
        from .device import as_device
        d = as_device(dev)
        return Storage(on(st.data, d), d)


def _stream_error(msg):
    return RuntimeError(f"PytorchStreamReader failed {msg}")


def _is_zip(fh):
    pos = fh.tell()
    head = fh.read(4)
    fh.seek(pos)
    return head == b"PK\x03\x04" or head == b"PK\x05\x06"


class _ZipReader:
    """Reads records straight from their offsets (PyTorch's reader does not check CRCs either)."""

    def __init__(self, fh, mm=None):
        self.fh, self.mm = fh, mm
        try:
            self.zf = zipfile.ZipFile(fh)
        except zipfile.BadZipFile:
            raise _stream_error("reading zip archive: failed finding central directory") from None
        except (OSError, ValueError, struct.error, EOFError):
            raise _stream_error("reading zip archive: failed finding central directory") from None
        names = self.zf.namelist()
        pkl = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
        if not pkl:
            raise _stream_error("locating file data.pkl: file not found")
        self.prefix = pkl[0][: -len("data.pkl")]
        self.infos = {i.filename: i for i in self.zf.infolist()}

    def _info(self, name):
        info = self.infos.get(self.prefix + name)
        if info is None:
            raise _stream_error(f"locating file {name}: file not found")
        return info

    def has(self, name):
        return (self.prefix + name) in self.infos

    def _data_offset(self, info, name):
        fh = self.fh
        fh.seek(info.header_offset)
        head = fh.read(30)
        if len(head) != 30 or head[:4] != b"PK\x03\x04":
            raise _stream_error(f"reading file {name}: invalid header or archive is corrupted")
        nlen, elen = struct.unpack("<HH", head[26:30])
        if info.compress_type != zipfile.ZIP_STORED:
            raise _stream_error(f"reading file {name}: compressed records are not supported")
        return info.header_offset + 30 + nlen + elen

    def read(self, name, np_out=False):
        info = self._info(name)
        off = self._data_offset(info, name)
        size = info.file_size
        if self.mm is not None and np_out:
            if off + size > len(self.mm):
                raise _stream_error(f"reading file {name}: invalid header or archive is corrupted")
            return self.mm[off: off + size].view(np.ndarray)   # numtorch kernels take plain ndarrays
        self.fh.seek(off)
        if np_out:
            out = np.empty(size, np.uint8)
            n = self.fh.readinto(memoryview(out)) if hasattr(self.fh, "readinto") else None
            if n is None:
                b = self.fh.read(size)
                n = len(b)
                out[:n] = np.frombuffer(b, np.uint8)
            if n != size:
                raise _stream_error(f"reading file {name}: invalid header or archive is corrupted")
            return out
        b = self.fh.read(size)
        if len(b) != size:
            raise _stream_error(f"reading file {name}: invalid header or archive is corrupted")
        return b


def _load_zip(fh, map_location, pickle_module, weights_only, mm, encoding):
    zr = _ZipReader(fh, mm)
    if zr.has("version"):
        try:
            version = int(zr.read("version").strip() or b"0")
        except ValueError:
            raise _stream_error("reading file version: invalid version record") from None
        if version > _MAX_VERSION:
            raise RuntimeError(f"[enforce fail at inline_container.cc:230] . Attempted to read a PyTorch file "
                               f"with version {version}, but the maximum supported version for reading is "
                               f"{_MAX_VERSION}. The version of your PyTorch installation may be too old, please "
                               "upgrade PyTorch to latest version to mitigate this issue.")
    if zr.has("byteorder"):
        bo = zr.read("byteorder")
        if bo not in (b"little", b"big"):
            raise ValueError("Unknown endianness type: " + bo.decode("latin1"))
        if bo == b"big":
            raise RuntimeError("big-endian checkpoints are not supported")
    loader = _Loader(map_location)
    storages = {}

    def persistent_load(pid):
        if not isinstance(pid, tuple) or len(pid) < 5 or pid[0] not in ("storage", b"storage"):
            raise pickle.UnpicklingError(f"Unknown saved id type: {pid!r}")
        stype, key, location, numel = pid[1:5]
        if not isinstance(stype, _StorageType):
            raise pickle.UnpicklingError(f"unsupported storage type {stype!r}")
        key = key.decode("ascii") if isinstance(key, bytes) else str(key)
        location = location.decode("ascii") if isinstance(location, bytes) else str(location)
        ls = storages.get(key)
        if ls is None:
            raw = zr.read(f"data/{key}", np_out=True)
            if raw.nbytes < numel * stype.dtype.itemsize:
                raise _stream_error(f"reading file data/{key}: record is shorter than its storage")
            ls = storages[key] = _LoadedStorage(raw[: numel * stype.dtype.itemsize], location, loader)
        return (ls, stype.dtype)

    fh_pkl = io.BytesIO(zr.read("data.pkl"))
    return _run_unpickler(fh_pkl, weights_only, persistent_load, pickle_module, encoding)


class _Anything:
    """Stands for every global during the legacy type probe: builds nothing, runs nothing."""

    def __init__(self, *a, **k):
        pass

    def __call__(self, *a, **k):
        return _Anything()

    def __setitem__(self, k, v):
        pass

    def append(self, v):
        pass

    def extend(self, v):
        pass

    def __setstate__(self, state):
        pass


class _Probe(pickle.Unpickler):
    def __init__(self, fh, persistent):
        super().__init__(fh)
        self._persistent = persistent

    def find_class(self, module, name):
        v = _TORCH_NAMES.get(f"{module}.{name}")
        return v if isinstance(v, _StorageType) else _Anything

    def persistent_load(self, pid):
        return self._persistent(pid)


def _load_legacy(fh, map_location, pickle_module, weights_only, encoding):
    """PyTorch < 1.6 files: magic, protocol, sys_info and the object pickled back to back, then the storage
    keys and one ``<int64 numel><bytes>`` record per storage. The object pickle is skipped once to reach
    the records, then unpickled with the storages in hand."""
    import pickletools

    def _plain(f):
        return _run_unpickler(f, weights_only, lambda pid: None, pickle_module, encoding)

    try:
        magic = _plain(fh)
    except pickle.UnpicklingError:
        raise
    except Exception:
        raise RuntimeError("Invalid magic number; corrupt file?") from None
    if magic != MAGIC_NUMBER:
        raise RuntimeError("Invalid magic number; corrupt file?")
    version = _plain(fh)
    if version != PROTOCOL_VERSION:
        raise RuntimeError(f"Invalid protocol version: {version}")
    _plain(fh)   # sys_info
    start = fh.tell()
    try:
        for _ in pickletools.genops(fh):
            pass
    except ValueError as e:
        raise RuntimeError(f"corrupt legacy checkpoint: {e}") from None
    keys = _plain(fh)
    if not isinstance(keys, list):
        raise RuntimeError("corrupt legacy checkpoint: storage key list missing")
    loader = _Loader(map_location)
    storages = {}
    # Storage element sizes come from the pickle: collect them with a first unpickling pass that only records ids.
    types = {}

    def probe(pid):
        if isinstance(pid, tuple) and len(pid) >= 5 and isinstance(pid[1], _StorageType):
            types[str(pid[2])] = pid[1].dtype
        return None

    fh.seek(start)
    try:
        _Probe(fh, probe).load()
    except Exception:
        raise RuntimeError("corrupt legacy checkpoint") from None
    fh.seek(start)
    for _ in pickletools.genops(fh):
        pass
    _plain(fh)        # the key list again
    for key in keys:
        key = str(key)
        head = fh.read(8)
        if len(head) != 8:
            raise RuntimeError("unexpected EOF, expected more bytes. The file might be corrupted.")
        (n,) = struct.unpack("<q", head)
        nbytes = n * types.get(key, _dt.uint8).itemsize
        raw = np.empty(nbytes, np.uint8)
        if fh.readinto(memoryview(raw)) != nbytes:
            raise RuntimeError("unexpected EOF, expected more bytes. The file might be corrupted.")
        storages[key] = raw
    end = fh.tell()

    loaded = {}

    def persistent_load(pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] in ("storage", b"storage")):
            raise pickle.UnpicklingError(f"Unknown saved id type: {pid!r}")
        stype, key, location, numel = pid[1:5]
        view = pid[5] if len(pid) > 5 else None
        key = str(key)
        if key not in storages:
            raise RuntimeError(f"storage record {key} missing from legacy checkpoint")
        ls = loaded.get(key)
        if ls is None:
            ls = loaded[key] = _LoadedStorage(storages[key], str(location), loader)
        if view is not None:
            vkey, off, vsize = view
            vs = loaded.get(str(vkey))
            if vs is None:
                isz = stype.dtype.itemsize
                vs = loaded[str(vkey)] = _LoadedStorage(ls.raw[off * isz:(off + vsize) * isz], str(location), loader)
            return (vs, stype.dtype)
        return (ls, stype.dtype)

    fh.seek(start)
    obj = _run_unpickler(fh, weights_only, persistent_load, pickle_module, encoding)
    fh.seek(end)
    return obj


@contextlib.contextmanager
def _open_read(f):
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            yield fh
    else:
        if not hasattr(f, "read"):
            raise AttributeError(f"'{type(f).__name__}' object has no attribute 'read'")
        yield f


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Load an object saved by ``torch.save`` or ``numtorch.save`` (PyTorch need not be installed)."""
    if weights_only is None:
        weights_only = pickle_module is None
    if weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    if mmap and not isinstance(f, (str, os.PathLike)):
        raise ValueError("f must be a file path in order to use the mmap argument")
    encoding = pickle_load_args.get("encoding", "utf-8")
    if isinstance(map_location, str) or isinstance(map_location, _device):
        _device(map_location)          # validates the string
    with _open_read(f) as fh:
        if _is_zip(fh):
            mm = np.memmap(f, dtype=np.uint8, mode="c") if mmap else None
            return _load_zip(fh, map_location, pickle_module, weights_only, mm, encoding)
        if mmap:
            raise RuntimeError("mmap can only be used with files saved with `torch.save(_use_new_zipfile_"
                               "serialization=True), please torch.save your checkpoint with this option in order "
                               "to use mmap.")
        head = fh.read(1)
        fh.seek(fh.tell() - len(head))
        if not head:
            raise EOFError("Ran out of input")
        if head != b"\x80":
            if weights_only:
                raise _wo_error(f"Unsupported operand {head[0]}")
            raise pickle.UnpicklingError(f"invalid load key, '{head.decode('latin1')}'.")
        return _load_legacy(fh, map_location, pickle_module, weights_only, encoding)


def get_unsafe_globals_in_checkpoint(f):
    """Globals in ``f``'s data.pkl that ``weights_only=True`` would refuse."""
    import _compat_pickle
    import pickletools
    with _open_read(f) as fh:
        data = _ZipReader(fh).read("data.pkl")
    safe = set(_TORCH_NAMES) | set(_safe_builtins()) | set(_user_allowed())
    out, strings = [], []
    for op, arg, _ in pickletools.genops(data):
        if op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
            strings.append(arg)
        if op.name == "GLOBAL":
            full = arg.replace(" ", ".")
        elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
            full = f"{strings[-2]}.{strings[-1]}"
        else:
            continue
        mod, _, nm = full.rpartition(".")
        if (mod, nm) in _compat_pickle.NAME_MAPPING:
            full = ".".join(_compat_pickle.NAME_MAPPING[(mod, nm)])
        elif mod in _compat_pickle.IMPORT_MAPPING:
            full = f"{_compat_pickle.IMPORT_MAPPING[mod]}.{nm}"
        if full not in safe and full not in out:
            out.append(full)
    return out
