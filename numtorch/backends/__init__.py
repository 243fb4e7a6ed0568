"""``torch.backends``: the flags scripts set. numtorch has no cuDNN/MPS/MKL-DNN; its GPU path is Numba CUDA."""
import types


def _gpu():
    from .. import cuda
    return cuda.is_available()


class _Flags(types.ModuleType):
    """A namespace whose flags are plain attributes (``torch.backends.cudnn.benchmark = True``)."""

    def __init__(self, name, **flags):
        super().__init__(f"numtorch.backends.{name}")
        self.__dict__.update(flags)


cudnn = _Flags("cudnn", benchmark=False, deterministic=False, enabled=True, allow_tf32=True,
               benchmark_limit=10, is_available=lambda: False, version=lambda: None)
cuda = _Flags("cuda", is_built=lambda: _gpu(), matmul=_Flags("cuda.matmul", allow_tf32=False,
              allow_fp16_reduced_precision_reduction=True, allow_bf16_reduced_precision_reduction=True),
              flash_sdp_enabled=lambda: False, mem_efficient_sdp_enabled=lambda: False,
              math_sdp_enabled=lambda: True, enable_flash_sdp=lambda b: None, enable_mem_efficient_sdp=lambda b: None,
              enable_math_sdp=lambda b: None, preferred_linalg_library=lambda backend=None: "default")
mps = _Flags("mps", is_available=lambda: False, is_built=lambda: False)
mkldnn = _Flags("mkldnn", is_available=lambda: False, enabled=False)
mkl = _Flags("mkl", is_available=lambda: False)
openmp = _Flags("openmp", is_available=lambda: False)
opt_einsum = _Flags("opt_einsum", is_available=lambda: False, enabled=False, strategy=None)
cpu = _Flags("cpu", get_cpu_capability=lambda: "DEFAULT")
