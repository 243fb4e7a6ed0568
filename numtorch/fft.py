"""``torch.fft``: transforms return complex tensors, which numtorch does not have yet, so they raise
NotImplementedError (never a wrong real result). The real-valued helpers (frequencies, shifts) work."""
__all__ = ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2", "rfftn", "irfftn",
           "hfft", "ihfft", "hfft2", "ihfft2", "hfftn", "ihfftn", "fftfreq", "rfftfreq", "fftshift", "ifftshift"]


def _complex(name):
    def f(*args, **kwargs):
        raise NotImplementedError(f"torch.fft.{name} needs complex dtypes, which numtorch does not support yet")
    f.__name__ = f.__qualname__ = name
    return f


for _n in __all__[:18]:
    globals()[_n] = _complex(_n)


def _freqs(n, d, rfft, dtype, device, requires_grad):
    from .creation import tensor
    vals = [i for i in range(n // 2 + 1)] if rfft else [i for i in range((n - 1) // 2 + 1)] + \
        [i for i in range(-(n // 2), 0)]
    return tensor([v / (d * n) for v in vals], dtype=dtype, device=device, requires_grad=requires_grad)


def fftfreq(n, d=1.0, *, dtype=None, device=None, requires_grad=False, layout=None):
    return _freqs(n, d, False, dtype, device, requires_grad)


def rfftfreq(n, d=1.0, *, dtype=None, device=None, requires_grad=False, layout=None):
    return _freqs(n, d, True, dtype, device, requires_grad)


def _shift(x, dim, sign):
    dims = tuple(range(x.ndim)) if dim is None else ((dim,) if isinstance(dim, int) else tuple(dim))
    shifts = tuple(x.shape[d] // 2 if sign > 0 else -(x.shape[d] // 2) for d in dims)
    return x.roll(shifts, dims)


def fftshift(input, dim=None):
    return _shift(input, dim, 1)


def ifftshift(input, dim=None):
    return _shift(input, dim, -1)

