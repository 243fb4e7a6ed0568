"""``torch.special``: special functions as op-table kernels (CPU and CUDA), with PyTorch's dtypes, domains and
grad_fn names."""
from . import pointwise as _pw
from .ops import elementwise as _ew

__all__ = ["expit", "logit", "erf", "erfc", "erfcx", "erfinv", "gammaln", "digamma", "psi", "polygamma",
           "multigammaln", "xlogy", "xlog1py", "log_softmax", "softmax", "logsumexp", "entr", "i0", "i0e", "i1",
           "i1e", "ndtr", "ndtri", "log_ndtr", "sinc", "round", "expm1", "exp2", "log1p", "zeta"]


def _unary(name, kernel=None):
    k = kernel or name

    def f(input, *, out=None):
        return _ew(k, input, out=out)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"``torch.special.{name}``."
    return f


expit = _unary("expit", "sigmoid")
erf = _unary("erf")
erfc = _unary("erfc")
erfcx = _unary("erfcx")
erfinv = _unary("erfinv")
gammaln = _unary("gammaln", "lgamma")
digamma = psi = _unary("digamma")
entr = _unary("entr")
i0 = _unary("i0")
i0e = _unary("i0e")
i1 = _unary("i1")
i1e = _unary("i1e")
ndtr = _unary("ndtr")
ndtri = _unary("ndtri")
log_ndtr = _unary("log_ndtr")
sinc = _unary("sinc")
expm1 = _unary("expm1")
exp2 = _unary("exp2")
log1p = _unary("log1p")
psi.__name__ = "digamma"
xlogy = _pw.xlogy
xlog1py = _pw.xlog1py
polygamma = _pw.polygamma


def logit(input, eps=None, *, out=None):
    return _pw.logit(input, eps, out=out)


def multigammaln(input, p, *, out=None):
    r = _pw.mvlgamma(input, p)
    return r if out is None else out.copy_(r)


def round(input, *, decimals=0, out=None):  # noqa: A001 (PyTorch's name)
    return _pw.round(input, decimals=decimals, out=out)


def zeta(input, other, *, out=None):
    return _ew("zeta", input, other, out=out)


def log_softmax(input, dim, *, dtype=None):
    from . import log_softmax as _ls
    return _ls(input, dim, dtype=dtype)


def softmax(input, dim, *, dtype=None):
    from . import softmax as _sm
    return _sm(input, dim, dtype=dtype)


def logsumexp(input, dim, keepdim=False, *, out=None):
    from . import logsumexp as _lse
    r = _lse(input, dim, keepdim)
    return r if out is None else out.copy_(r)
