"""PyTorch's keyword aliases, declared once: NumPy's ``axis=``/``keepdims=`` for ``dim=``/``keepdim=``, and
``input=``/``other=`` for the operands of functions whose parameters have other names here."""
import functools
import types


def _renames(fn, method):
    # Parameter names from the code object (inspect.signature costs ~50 us a function at import).
    f = getattr(fn, "__wrapped__", fn)
    code = getattr(f, "__code__", None)
    if code is None:
        return None
    n_pos = code.co_argcount
    names = set(code.co_varnames[:n_pos + code.co_kwonlyargcount])
    pos = code.co_varnames[:n_pos]
    ren = {}
    if "dim" in names:
        ren["axis"] = "dim"
    if "keepdim" in names:
        ren["keepdims"] = "keepdim"
    if not method and pos and pos[0] in ("x", "t", "a"):
        ren["input"] = pos[0]
    if len(pos) > 1 and pos[1] in ("y", "b"):
        ren["other"] = pos[1]
    return ren


def aliased(fn, method=False):
    """``fn`` accepting PyTorch's aliases (no cost when called without keywords)."""
    if not isinstance(fn, types.FunctionType) or getattr(fn, "_aliased", False):
        return fn
    ren = _renames(fn, method)
    if not ren:
        return fn

    @functools.wraps(fn)
    def call(*args, **kw):
        if kw:
            for k in kw.keys() & ren.keys():
                kw[ren[k]] = kw.pop(k)
        return fn(*args, **kw)
    call._aliased = True
    return call


def alias_namespace(ns, names=None, method=False):
    """Wrap the plain functions of a namespace dict (or class) in place."""
    if isinstance(ns, dict):
        for k in list(ns if names is None else names):
            v = ns.get(k)
            if isinstance(v, types.FunctionType) and not k.startswith("_"):
                ns[k] = aliased(v, method)
    else:
        for k in list(vars(ns)):
            v = vars(ns)[k]
            if isinstance(v, types.FunctionType) and not k.startswith("_"):
                setattr(ns, k, aliased(v, True))
