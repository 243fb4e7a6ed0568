"""``torch.profiler`` / ``torch.autograd.profiler``: context managers that record op names, call counts and
times. While a profiler is active, numtorch's public functions and Tensor methods run through timing wrappers
(installed on enter, removed on exit), so an inactive profiler costs nothing."""
import enum
import threading
import time
import types

_lock = threading.Lock()
_active = []          # running profilers (innermost last)
_saved = {}           # (owner, name) -> original attribute while patched

_DUNDER = {"add": "add", "radd": "add", "iadd": "add_", "sub": "sub", "rsub": "rsub", "isub": "sub_", "mul": "mul",
           "rmul": "mul", "imul": "mul_", "truediv": "div", "rtruediv": "div", "itruediv": "div_", "matmul": "matmul",
           "rmatmul": "matmul", "pow": "pow", "rpow": "pow", "neg": "neg", "getitem": "index", "setitem": "index_put_",
           "abs": "abs", "eq": "eq", "ne": "ne", "lt": "lt", "le": "le", "gt": "gt", "ge": "ge", "and": "bitwise_and",
           "or": "bitwise_or", "xor": "bitwise_xor", "invert": "bitwise_not", "floordiv": "floor_divide",
           "mod": "remainder"}
_SKIP = {"__init__", "__new__", "__repr__", "__str__", "__format__", "__len__", "__iter__", "__bool__", "__float__",
         "__int__", "__index__", "__hash__", "__getattr__", "__setattr__", "__reduce_ex__", "__deepcopy__",
         "__array__", "__dir__", "__contains__", "__sizeof__", "dim", "size", "numel", "stride", "item", "tolist",
         "is_contiguous", "data_ptr", "element_size", "storage_offset", "ndimension", "nelement", "get_device",
         "type", "is_floating_point", "is_complex", "is_signed", "_make", "_from_buffer", "_view_of", "_alias"}


class ProfilerActivity(enum.Enum):
    CPU = 0
    CUDA = 1
    XPU = 2
    MTIA = 3
    HPU = 4
    PrivateUse1 = 5


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def _aten(name):
    if name.startswith("__") and name.endswith("__"):
        name = _DUNDER.get(name[2:-2], name[2:-2])
    return "aten::" + name


class _Tls(threading.local):
    def __init__(self):
        self.stack = []


_tls = _Tls()


def _record(name, fn):
    def timed(*args, **kwargs):
        if not _active:
            return fn(*args, **kwargs)
        stack = _tls.stack
        stack.append(0.0)
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            total = time.perf_counter() - t0
            child = stack.pop()
            if stack:
                stack[-1] += total
            for p in list(_active):
                p._add(name, total, total - child)
    timed.__name__ = getattr(fn, "__name__", name)
    timed._profiled = fn
    return timed


def _targets():
    import numtorch
    from numtorch.tensor import Tensor
    out = [(Tensor, k, v) for k, v in list(vars(Tensor).items())
           if isinstance(v, types.FunctionType) and k not in _SKIP and (not k.startswith("_") or k.startswith("__"))]
    out += [(numtorch, k, v) for k, v in list(vars(numtorch).items())
            if isinstance(v, types.FunctionType) and not k.startswith("_") and k not in _SKIP]
    import sys
    F = sys.modules.get("numtorch.nn.functional")
    if F is not None:
        out += [(F, k, v) for k, v in list(vars(F).items()) if isinstance(v, types.FunctionType) and not k.startswith("_")]
    return out


def _install():
    for owner, k, v in _targets():
        if getattr(v, "_profiled", None) is None:
            _saved[(owner, k)] = v
            setattr(owner, k, _record(_aten(k), v))


def _uninstall():
    for (owner, k), v in _saved.items():
        setattr(owner, k, v)
    _saved.clear()


class FunctionEventAvg:
    """Aggregated statistics of one op name (times in microseconds, like PyTorch)."""

    def __init__(self, key):
        self.key, self.count, self.cpu_time_total, self.self_cpu_time_total = key, 0, 0.0, 0.0
        self.device_time_total = self.self_device_time_total = 0.0
        self.cpu_memory_usage = self.self_cpu_memory_usage = 0
        self.input_shapes = None

    @property
    def cpu_time(self):
        return self.cpu_time_total / max(self.count, 1)

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total:.3f}us "
                f"cpu_time={self.cpu_time:.3f}us count={self.count}>")


def _fmt_us(us):
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


class EventList(list):
    """The aggregated events; ``table()`` prints PyTorch's layout."""

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75, max_name_column_width=55,
              header=None, top_level_events_only=False, **kw):
        rows = list(self)
        key = {"cpu_time_total": "cpu_time_total", "self_cpu_time_total": "self_cpu_time_total",
               "cpu_time": "cpu_time", "count": "count", "self_cpu_time": "self_cpu_time_total"}.get(sort_by)
        if key is not None:
            rows.sort(key=lambda e: getattr(e, key), reverse=True)
        if row_limit is not None and row_limit >= 0:
            rows = rows[:row_limit]
        total_self = sum(e.self_cpu_time_total for e in self) or 1e-12
        w = max([len("Name")] + [len(e.key) for e in rows])
        w = min(w, max_name_column_width)
        cols = ["Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "# of Calls"]
        sep = "-" * w + "  " + "  ".join("-" * 12 for _ in cols) + "  "
        lines = [sep, "Name".rjust(w) + "  " + "  ".join(c.rjust(12) for c in cols) + "  ", sep]
        for e in rows:
            vals = [f"{100 * e.self_cpu_time_total / total_self:.2f}%", _fmt_us(e.self_cpu_time_total),
                    f"{100 * e.cpu_time_total / total_self:.2f}%", _fmt_us(e.cpu_time_total), _fmt_us(e.cpu_time),
                    str(e.count)]
            lines.append(e.key[:w].rjust(w) + "  " + "  ".join(v.rjust(12) for v in vals) + "  ")
        lines.append(sep)
        lines.append(f"Self CPU time total: {_fmt_us(sum(e.self_cpu_time_total for e in self))}")
        return (header + "\n" if header else "") + "\n".join(lines) + "\n"

    def total_average(self):
        t = FunctionEventAvg("Total")
        for e in self:
            t.count += e.count
            t.cpu_time_total += e.cpu_time_total
            t.self_cpu_time_total += e.self_cpu_time_total
        return t

    def __str__(self):
        return self.table()


class profile:
    """Records every numtorch op called inside the ``with`` block (names, counts, self/total CPU time)."""

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None, record_shapes=False,
                 profile_memory=False, with_stack=False, with_flops=False, with_modules=False,
                 experimental_config=None, execution_trace_observer=None, acc_events=False, use_cuda=None,
                 enabled=True, **kwargs):
        self.enabled = enabled
        self.activities = activities
        self.schedule, self.on_trace_ready = schedule, on_trace_ready
        self.record_shapes = record_shapes
        self._stats = {}
        self._events = []
        self.step_num = 0

    def _add(self, name, total, self_time):
        s = self._stats.get(name)
        if s is None:
            s = self._stats[name] = FunctionEventAvg(name)
        s.count += 1
        s.cpu_time_total += total * 1e6
        s.self_cpu_time_total += self_time * 1e6
        self._events.append((name, total))

    def start(self):
        if not self.enabled:
            return self
        with _lock:
            if not _active:
                _install()
            _active.append(self)
        return self

    def stop(self):
        with _lock:
            if self in _active:
                _active.remove(self)
                if not _active:
                    _uninstall()
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def step(self):
        self.step_num += 1

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0, **kw):
        return EventList(self._stats.values())

    def events(self):
        return self.key_averages()

    function_events = property(events)

    def table(self, *args, **kwargs):
        return self.key_averages().table(*args, **kwargs)

    def export_chrome_trace(self, path):
        import json
        t, events = 0.0, []
        for name, total in self._events:
            events.append({"name": name, "ph": "X", "ts": t, "dur": total * 1e6, "pid": 0, "tid": 0, "cat": "cpu_op"})
            t += total * 1e6
        with open(path, "w") as f:
            json.dump({"traceEvents": events}, f)

    def __str__(self):
        return self.table()


class record_function:
    """A named region: its time is recorded under ``name`` by any active profiler."""

    def __init__(self, name, args=None):
        self.name = name

    def __enter__(self):
        if _active:
            _tls.stack.append(0.0)
            self._t0 = time.perf_counter()
        else:
            self._t0 = None
        return self

    def __exit__(self, *exc):
        if self._t0 is not None:
            total = time.perf_counter() - self._t0
            child = _tls.stack.pop() if _tls.stack else 0.0
            if _tls.stack:
                _tls.stack[-1] += total
            for p in list(_active):
                p._add(self.name, total, total - child)
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def run(*a, **k):
            with record_function(self.name):
                return fn(*a, **k)
        return run


def schedule(*, wait, warmup, active, repeat=0, skip_first=0, skip_first_wait=0):
    def fn(step):
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        cycle = wait + warmup + active
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        m = step % cycle
        return ProfilerAction.NONE if m < wait else ProfilerAction.WARMUP if m < wait + warmup else \
            ProfilerAction.RECORD_AND_SAVE if m == cycle - 1 else ProfilerAction.RECORD
    return fn


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False):
    import os

    def handler(prof):
        os.makedirs(dir_name, exist_ok=True)
        prof.export_chrome_trace(os.path.join(dir_name, f"{worker_name or 'worker'}.{prof.step_num}.pt.trace.json"))
    return handler
