"""``torch.autograd.profiler``: the legacy profiler API over ``numtorch.profiler``."""
import contextlib

from ..profiler import EventList, FunctionEventAvg, profile as _profile, record_function  # noqa: F401


class profile(_profile):
    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False, with_flops=False,
                 profile_memory=False, with_stack=False, with_modules=False, use_kineto=False, use_cpu=True,
                 experimental_config=None, acc_events=False, custom_trace_id_callback=None):
        super().__init__(enabled=enabled, record_shapes=record_shapes)


@contextlib.contextmanager
def emit_nvtx(enabled=True, record_shapes=False):
    yield


@contextlib.contextmanager
def emit_itt(enabled=True, record_shapes=False):
    yield
