"""PyTorch-exact tensor printing: a port of ``torch/_tensor_str.py`` that works on NumPy arrays.

The Tensor class calls :func:`tensor_repr` for both ``repr`` and ``str``. Every formatting rule
(Formatter modes, summarization, wrapping, suffixes) follows torch; only the data access differs:
values come from ``t._host_values()`` and are formatted as Python scalars (``ndarray.tolist()``),
which is exactly what torch formats (``Tensor.item()`` / ``tolist()``).
"""
import contextlib
import dataclasses
import math

import numpy as np

__all__ = ["set_printoptions", "get_printoptions", "printoptions", "tensor_repr", "PRINT_OPTS"]


@dataclasses.dataclass
class _PrinterOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: "bool | None" = None


PRINT_OPTS = _PrinterOptions()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Set printing options (same arguments, profiles and defaults as ``torch.set_printoptions``).

    As in torch, ``sci_mode`` is always assigned, so omitting it resets it to automatic (None).
    """
    if profile is not None:
        if profile == "default":
            PRINT_OPTS.precision, PRINT_OPTS.threshold = 4, 1000
            PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 3, 80
        elif profile == "short":
            PRINT_OPTS.precision, PRINT_OPTS.threshold = 2, 1000
            PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 2, 80
        elif profile == "full":
            PRINT_OPTS.precision, PRINT_OPTS.threshold = 4, math.inf
            PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 3, 80
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions():
    """Current options as a dict that can be passed back to :func:`set_printoptions`."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Temporarily change the print options (same arguments as :func:`set_printoptions`)."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


def _default_dtype_name():
    """Name of the default float dtype ('float32' or 'float64'); tests may monkeypatch this."""
    try:
        from numtorch.dtypes import get_default_dtype
    except ImportError:  # package still being assembled: torch's default
        return "float32"
    d = get_default_dtype()
    return getattr(d, "name", None) or str(d).rsplit(".", 1)[-1]


def _default_device_type():
    """torch compares with its C++ default device type, which ``set_default_device`` leaves at 'cpu'."""
    return "cpu"


class _Formatter:
    """Chooses int/fixed/sci mode and the common width, as torch's ``_Formatter``.

    torch loops over every value to find the widest string; the width of a formatted number is
    monotone in its magnitude within each sign (also the exponent digits in sci mode), so only the
    extreme values of each sign need formatting, which keeps ``profile='full'`` prints fast.
    """

    def __init__(self, values, floating):
        self.floating_dtype = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if not floating:
            if flat.size:
                cands = (flat.min().item(), flat.max().item())
                self.max_width = max(self.max_width, *(len(f"{v}") for v in cands))
            return
        flat = flat.astype(np.float64)
        nz = flat[np.isfinite(flat) & (flat != 0)]
        if nz.size == 0:  # no valid number: keep int mode, width 1
            return
        absv = np.abs(nz)
        vmin, vmax = float(absv.min()), float(absv.max())
        self.int_mode = bool(np.all(nz == np.ceil(nz)))
        if PRINT_OPTS.sci_mode is None:
            # Python float division returns inf rather than raising on overflow.
            self.sci_mode = vmax / vmin > 1000.0 or vmax > 1.0e8 or vmin < 1.0e-4
        else:
            self.sci_mode = PRINT_OPTS.sci_mode
        pos, neg = nz[nz > 0], nz[nz < 0]
        cands = [float(f(s)) for s in (pos, neg) if s.size for f in (np.min, np.max)]
        p = PRINT_OPTS.precision
        if self.sci_mode:
            widths = [len(f"{v:.{p}e}") for v in cands]
        elif self.int_mode:
            # the appended '.' marks the tensor as floating
            widths = [len(f"{v:.0f}") + 1 for v in cands]
        else:
            widths = [len(f"{v:.{p}f}") for v in cands]
        self.max_width = max(self.max_width, *widths)

    def width(self):
        return self.max_width

    def format(self, value):
        if self.floating_dtype:
            if self.sci_mode:
                ret = f"{value:{self.max_width}.{PRINT_OPTS.precision}e}"
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = f"{value:.{PRINT_OPTS.precision}f}"
        else:
            ret = f"{value}"
        return (self.max_width - len(ret)) * " " + ret


def _vector_str(a, indent, summarize, formatter):
    # length includes spaces and comma between elements
    element_length = formatter.width() + 2
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / element_length))
    e = PRINT_OPTS.edgeitems
    fmt = formatter.format
    if summarize and not e:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * e:
        data = ([fmt(v) for v in a[:e].tolist()] + [" ..."]
                + [fmt(v) for v in a[-e:].tolist()])
    else:
        data = [fmt(v) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str_with_formatter(a, indent, summarize, formatter):
    dim = a.ndim
    if dim == 0:
        return formatter.format(a.item())
    if dim == 1:
        return _vector_str(a, indent, summarize, formatter)
    e = PRINT_OPTS.edgeitems
    n = a.shape[0]
    if summarize and n > 2 * e:
        slices = ([_tensor_str_with_formatter(a[i], indent + 1, summarize, formatter)
                   for i in range(e)] + ["..."]
                  + [_tensor_str_with_formatter(a[i], indent + 1, summarize, formatter)
                     for i in range(n - e, n)])
    else:
        slices = [_tensor_str_with_formatter(a[i], indent + 1, summarize, formatter)
                  for i in range(n)]
    return "[" + ("," + "\n" * (dim - 1) + " " * (indent + 1)).join(slices) + "]"


def _summarized_data(a):
    """The values a summarized print shows (torch's ``get_summarized_data``)."""
    e = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return a
    n = a.shape[0]
    if a.ndim == 1:
        # a[-0:] is the whole array, as in torch, so edgeitems=0 sees every value here
        return np.concatenate((a[:e], a[-e:])) if n > 2 * e else a
    if not e:
        return np.empty([0] * a.ndim, dtype=a.dtype)
    rows = list(range(e)) + list(range(n - e, n)) if n > 2 * e else range(n)
    return np.stack([_summarized_data(a[i]) for i in rows])


def _tensor_str(a, indent, floating):
    if a.size == 0:
        return "[]"
    summarize = a.size > PRINT_OPTS.threshold
    formatter = _Formatter(_summarized_data(a) if summarize else a, floating)
    return _tensor_str_with_formatter(a, indent, summarize, formatter)


def _add_suffixes(tensor_str, suffixes, indent, force_newline):
    parts = [tensor_str]
    # torch's arithmetic (off by two for single-line strings), kept for identical wrapping
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        if force_newline or last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
            force_newline = False
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def _grad_fn_name(grad_fn):
    name = getattr(grad_fn, "name", None)
    name = name() if callable(name) else type(grad_fn).__name__
    return name.rsplit("::", 1)[-1]


def tensor_repr(t):
    """``repr(t)`` / ``str(t)`` exactly as PyTorch prints a plain strided tensor."""
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    device = t.device
    if device.type != _default_device_type() or (
            device.type == "cuda" and (getattr(device, "index", None) or 0) != 0):
        suffixes.append("device='" + str(device) + "'")

    dtype = t.dtype
    name = dtype.name
    default = _default_dtype_name()
    default_complex = "complex128" if default == "float64" else "complex64"
    has_default_dtype = name in (default, default_complex, "int64", "bool")
    shape = tuple(int(s) for s in t.shape)
    a = np.asarray(t._host_values()).reshape(shape)
    if a.size == 0:
        # Explicitly print the shape if it is not (0,), to match NumPy
        if len(shape) != 1:
            suffixes.append("size=" + str(shape))
        # no elements to infer an int64 dtype from, so only the default float dtype is implied
        if name != default:
            suffixes.append("dtype=" + str(dtype))
        tensor_str = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append("size=" + str(shape))
        if not has_default_dtype:
            suffixes.append("dtype=" + str(dtype))
        tensor_str = _tensor_str(a, indent, bool(dtype.is_floating_point))

    grad_fn = getattr(t, "grad_fn", None)
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{_grad_fn_name(grad_fn)}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + tensor_str, suffixes, indent, force_newline=False)
