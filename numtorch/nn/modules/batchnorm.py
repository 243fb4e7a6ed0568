"""BatchNorm1d/2d/3d, SyncBatchNorm (one process: plain batch norm) and LazyBatchNorm1d/2d/3d."""
from ..parameter import Parameter
from .. import init
from .._functional import batchnorm as _F
from .module import Module

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "LazyBatchNorm1d", "LazyBatchNorm2d",
           "LazyBatchNorm3d"]


def _zeros(n, device, dtype):
    from ...creation import zeros
    return zeros(n, device=device, dtype=dtype)


def _ones(n, device, dtype):
    from ...creation import ones
    return ones(n, device=device, dtype=dtype)


class _NormBase(Module):
    """Common base of batch and instance norm: affine parameters and running statistics buffers."""
    _version = 2
    __constants__ = ["track_running_stats", "momentum", "eps", "num_features", "affine"]

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        self._make(bias, device, dtype)

    def _make(self, bias, device, dtype):
        from ...creation import empty, tensor
        from ... import dtypes as _dt
        n = self.num_features
        if self.affine:
            self.weight = Parameter(empty(n, device=device, dtype=dtype))
            if bias:
                self.bias = Parameter(empty(n, device=device, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", _zeros(n, device, dtype))
            self.register_buffer("running_var", _ones(n, device, dtype))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=_dt.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input_dim(self, input):
        raise NotImplementedError

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        version = local_metadata.get("version", None)
        if (version is None or version < 2) and self.track_running_stats:
            key = prefix + "num_batches_tracked"
            if key not in state_dict:
                if self.num_batches_tracked is not None:
                    state_dict[key] = self.num_batches_tracked
                else:
                    from ...creation import tensor
                    from ... import dtypes as _dt
                    state_dict[key] = tensor(0, dtype=_dt.int64)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)


class _BatchNorm(_NormBase):
    def forward(self, input):
        self._check_input_dim(input)
        eaf = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            if self.num_batches_tracked is not None:
                self.num_batches_tracked.add_(1)
                eaf = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        bn_training = True if self.training else (self.running_mean is None and self.running_var is None)
        use_stats = not self.training or self.track_running_stats
        return _F.batch_norm(input, self.running_mean if use_stats else None, self.running_var if use_stats else None,
                             self.weight, self.bias, bn_training, eaf, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) inputs."""

    def _check_input_dim(self, input):
        if input.dim() != 2 and input.dim() != 3:
            raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) inputs."""

    def _check_input_dim(self, input):
        if input.dim() != 4:
            raise ValueError(f"expected 4D input (got {input.dim()}D input)")


class BatchNorm3d(_BatchNorm):
    """Batch norm over (N, C, D, H, W) inputs."""

    def _check_input_dim(self, input):
        if input.dim() != 5:
            raise ValueError(f"expected 5D input (got {input.dim()}D input)")


class SyncBatchNorm(_BatchNorm):
    """Batch norm synchronised across processes; in one process it is plain batch norm."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def forward(self, input):
        import sys
        dist = sys.modules.get("numtorch.distributed")
        if not (self.training and dist is not None and dist.is_initialized()
                and dist.get_world_size(self.process_group) > 1):
            return super().forward(input)
        # Statistics over the whole batch across ranks (the gradient is all-reduced the same way).
        self._check_input_dim(input)
        from ...distributed.nn import sync_batch_norm
        momentum = self.momentum
        if self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if momentum is None:
                momentum = 1.0 / float(self.num_batches_tracked)
        track = self.track_running_stats and self.running_mean is not None
        return sync_batch_norm(input, self.weight, self.bias, self.running_mean if track else None,
                               self.running_var if track else None, self.eps, momentum or 0.0, self.process_group)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """Replace every BatchNorm*d in ``module`` by a SyncBatchNorm sharing its parameters and buffers."""
        out = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            out = SyncBatchNorm(module.num_features, module.eps, module.momentum, module.affine,
                                module.track_running_stats, process_group)
            if module.affine:
                from ...autograd.grad_mode import no_grad
                with no_grad():
                    out.weight = module.weight
                    out.bias = module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out


class _LazyBN:
    """num_features is inferred from the first input (dim 1); the module then becomes its eager class."""

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None):
        Module.__init__(self)
        self.num_features = 0
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        self._factory = (device, dtype)
        if affine:
            self.weight = Parameter(_zeros(0, device, dtype))
            self.bias = Parameter(_zeros(0, device, dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        for b in ("running_mean", "running_var", "num_batches_tracked"):
            self.register_buffer(b, None)

    def reset_parameters(self):
        if self.num_features != 0:
            super().reset_parameters()

    def has_uninitialized_params(self):
        return self.num_features == 0

    def _feature_dim(self, input):
        return 1

    def __call__(self, input, *args, **kwargs):
        if self.num_features == 0:
            self._check_input_dim(input)
            self.num_features = input.shape[self._feature_dim(input)]
            device, dtype = self._factory
            from ...autograd.grad_mode import no_grad
            with no_grad():
                self._make(True, device, dtype)
            del self.__dict__["_factory"]
            self.__class__ = self.cls_to_become
        return Module.__call__(self, input, *args, **kwargs)


class LazyBatchNorm1d(_LazyBN, BatchNorm1d):
    """BatchNorm1d with num_features inferred from the first input."""
    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyBN, BatchNorm2d):
    """BatchNorm2d with num_features inferred from the first input."""
    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyBN, BatchNorm3d):
    """BatchNorm3d with num_features inferred from the first input."""
    cls_to_become = BatchNorm3d
