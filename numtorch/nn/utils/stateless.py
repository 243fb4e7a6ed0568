"""``functional_call``: run a module with some parameters/buffers temporarily replaced by given tensors
(gradients flow to the given tensors). ``numtorch.func.functional_call`` is the same call."""
import contextlib
import warnings

__all__ = ["functional_call"]


def _untie_named_tensors_map(module, given):
    """Extend ``given`` to every name tied to (the same tensor as) a given name."""
    names_of = {}
    for name, t in module._named_members(lambda m: list(m._parameters.items()) + list(m._buffers.items()),
                                         remove_duplicate=False):
        names_of.setdefault(id(t), []).append(name)
    tensor_of = {}
    for name, t in module._named_members(lambda m: list(m._parameters.items()) + list(m._buffers.items()),
                                         remove_duplicate=False):
        tensor_of[name] = t
    out = dict(given)
    for name in given:
        t = tensor_of.get(name)
        if t is None:
            continue
        tied = names_of[id(t)]
        if len(tied) > 1:
            passed = [n for n in tied if n in given]
            if len({id(given[n]) for n in passed}) != 1:
                raise ValueError(f"functional_call got multiple values for keys {sorted(passed)}, which are tied. "
                                 "Consider using tie_weights=False")
            for n in tied:
                out.setdefault(n, given[name])
    return out


def _swap(module, name, value):
    """Put ``value`` at dotted ``name`` (bypassing Parameter checks); return the previous value and where."""
    path, _, leaf = name.rpartition(".")
    mod = module.get_submodule(path)
    for store in ("_parameters", "_buffers"):
        d = mod.__dict__[store]
        if leaf in d:
            old = d[leaf]
            d[leaf] = value
            return (mod, store, leaf, old)
    old = mod.__dict__.get(leaf, _MISSING)
    object.__setattr__(mod, leaf, value)
    return (mod, None, leaf, old)


_MISSING = object()


@contextlib.contextmanager
def _reparametrize_module(module, parameters_and_buffers, tie_weights=False, strict=False, stack_weights=False):
    given = _untie_named_tensors_map(module, parameters_and_buffers) if tie_weights else parameters_and_buffers
    if strict:
        names = {n for n, _ in module._named_members(
            lambda m: list(m._parameters.items()) + list(m._buffers.items()), remove_duplicate=False)}
        missing = sorted(names - set(given))
        unexpected = sorted(set(given) - names)
        errs = []
        if unexpected:
            errs.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
        if missing:
            errs.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
        if errs:
            raise RuntimeError("Error(s) in reparametrizing for {}:\n\t{}".format(module._get_name(),
                                                                                   "\n\t".join(errs)))
    undo = []
    try:
        for name, value in given.items():
            undo.append(_swap(module, name, value))
        yield
    finally:
        for mod, store, leaf, old in reversed(undo):
            if store is not None:
                mod.__dict__[store][leaf] = old
            elif old is _MISSING:
                mod.__dict__.pop(leaf, None)
            else:
                object.__setattr__(mod, leaf, old)


def _functional_call(module, parameters_and_buffers, args=None, kwargs=None, *, tie_weights=True, strict=False):
    if kwargs is None:
        kwargs = {}
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrize_module(module, parameters_and_buffers, tie_weights=tie_weights, strict=strict):
        return module(*args, **kwargs)


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """Deprecated form of ``torch.func.functional_call``."""
    warnings.warn("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and will be removed "
                  "in a future version of PyTorch. Please use `torch.func.functional_call` instead which is a "
                  "drop-in replacement.", FutureWarning, stacklevel=2)
    return _functional_call(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict)
