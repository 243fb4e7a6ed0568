"""``numtorch.autograd.functional``: jacobian, hessian, vjp, jvp, vhp, hvp (reverse mode, as PyTorch's
default strategies; jvp uses the double-backward trick like PyTorch)."""
from .engine import grad as _grad
from .grad_mode import enable_grad, is_grad_enabled, set_grad_enabled

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _is_tensor(x):
    return hasattr(x, "_vc") and hasattr(x, "grad_fn")


def _as_tuple(inp, arg_name, fn_name):
    is_tuple = isinstance(inp, tuple)
    tup = inp if is_tuple else (inp,)
    for i, el in enumerate(tup):
        if not _is_tensor(el):
            where = f"value at index {i}" if is_tuple else f"given {arg_name}"
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but "
                            f"the {where} has type {type(el)}.")
    return is_tuple, tup


def _tuple_post(res, is_tuple):
    """Undo the tupling: ``is_tuple`` is a bool or a pair (outer, inner) for nested results."""
    if isinstance(is_tuple, tuple):
        if not is_tuple[1]:
            res = tuple(r[0] for r in res)
        if not is_tuple[0]:
            res = res[0]
        return res
    return res if is_tuple else res[0]


def _pre(inputs, create_graph, need_graph):
    return tuple(x.view_as(x) if create_graph and x._requires_grad else x.detach().requires_grad_(need_graph)
                 for x in inputs)


def _post(res, create_graph):
    if _is_tensor(res):
        return res if create_graph else res.detach()
    return tuple(_post(r, create_graph) for r in res)


def _validate_v(v, other, is_other_tuple):
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, other)):
        if a.shape != b.shape:
            prefix = f"Entry {i} in " if is_other_tuple else ""
            raise RuntimeError(f"{prefix}v has invalid size: should be {b.shape} but got {a.shape}.")


def _check_requires_grad(ts, kind, strict):
    if not strict:
        return
    for i, t in enumerate(ts):
        if t is None:
            raise RuntimeError(f"The output of the user-provided function is independent of input {i}. This is "
                               "not allowed in strict mode.")
        if not t._requires_grad:
            if kind == "outputs":
                raise RuntimeError(f"Output {i} of the user-provided function does not require gradients. The "
                                   "outputs must be computed in a differentiable manner from the input when "
                                   "running in strict mode.")
            if kind == "jacobian":
                raise RuntimeError("While computing the hessian, found that the jacobian of the user-provided "
                                   f"function with respect to input {i} is independent of the input. This is not "
                                   "allowed in strict mode. You should ensure that your function is twice "
                                   "differentiable and that the jacobian depends on the inputs (this would be "
                                   "violated by a linear function for example).")
            raise RuntimeError(f"The gradient with respect to input {i} is independent of the inputs of the "
                               "user-provided function. This is not allowed in strict mode.")


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    outs, gos = [], []
    for o, g in zip(outputs, grad_outputs):
        if o is not None and o._requires_grad:
            outs.append(o)
            gos.append(g)
    if not outs:
        return (None,) * len(inputs)
    return _grad(outs, inputs, gos, allow_unused=True, create_graph=create_graph, retain_graph=retain_graph)


def _fill_zeros(grads, refs, strict, create_graph, what):
    from ..creation import zeros_like
    res = []
    for i, (g, r) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(f"The {what} of the user-provided function is independent of input {i}. This "
                                   "is not allowed in strict mode.")
            g = zeros_like(r)
        res.append(g)
    return tuple(res)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J)."""
    with enable_grad():
        is_in, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _pre(inputs, create_graph, True)
        is_out, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", "vjp")
        _check_requires_grad(outputs, "outputs", strict)
        if v is not None:
            _, v = _as_tuple(v, "v", "vjp")
            v = _pre(v, create_graph, False)
            _validate_v(v, outputs, is_out)
        elif len(outputs) != 1 or outputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function returns a single "
                               "Tensor with a single element.")
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        res = _fill_zeros(_autograd_grad(outputs, inputs, v, create_graph), inputs, strict, create_graph, "output")
    return _tuple_post(_post(outputs, create_graph), is_out), _tuple_post(_post(res, create_graph), is_in)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v), by differentiating the (linear) vjp with respect to its cotangent."""
    from ..creation import zeros_like
    with enable_grad():
        is_in, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _pre(inputs, create_graph, True)
        if v is not None:
            _, v = _as_tuple(v, "v", "jvp")
            v = _pre(v, create_graph, False)
            _validate_v(v, inputs, is_in)
        elif len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided function is a "
                               "single Tensor with a single element.")
        is_out, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", "jvp")
        _check_requires_grad(outputs, "outputs", strict)
        gos = tuple(zeros_like(o).requires_grad_(True) for o in outputs)
        gin = _autograd_grad(outputs, inputs, gos, create_graph=True)
        _check_requires_grad(gin, "grad_inputs", strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        res = _fill_zeros(_autograd_grad(gin, gos, v, create_graph), outputs, strict, create_graph, "output")
    return _tuple_post(_post(outputs, create_graph), is_out), _tuple_post(_post(res, create_graph), is_out)


def _stack_rows(rows, shape):
    """Stack equally shaped gradients along a new leading dim, keeping the graph (create_graph)."""
    from .. import ops as _ops
    try:
        from .. import stack
        return stack(rows, 0).reshape(shape)
    except (ImportError, AttributeError):
        pass
    flat = [r.reshape(1, -1) for r in rows]
    n = len(flat)
    from ..creation import zeros
    out = None
    for k, r in enumerate(flat):
        e = zeros(n, 1, dtype=r.dtype)
        e.view(-1).select(0, k).fill_(1)
        term = e * r
        out = term if out is None else _ops.elementwise("add", out, term)
    return out.reshape(shape)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """d func(inputs) / d inputs, shaped ``output.shape + input.shape`` (tuples nest as in PyTorch)."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
                         'function has more outputs than inputs, "forward-mode" tends to be more performant. '
                         'Otherwise, prefer to use "reverse-mode".')
    from ..creation import zeros_like
    with enable_grad():
        is_in, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _pre(inputs, create_graph, True)
        is_out, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", "jacobian")
        _check_requires_grad(outputs, "outputs", strict)
        jac = []
        for i, out in enumerate(outputs):
            rows = [[] for _ in inputs]
            flat = out.reshape(-1)
            for j in range(out.numel()):
                vj = _autograd_grad((flat.select(0, j),), inputs, retain_graph=True, create_graph=create_graph)
                for k, (g, inp) in enumerate(zip(vj, inputs)):
                    if g is None:
                        if strict:
                            raise RuntimeError(f"Output {i} of the user-provided function is independent of input "
                                               f"{k}. This is not allowed in strict mode.")
                        g = zeros_like(inp)
                    elif strict and create_graph and not g._requires_grad:
                        raise RuntimeError(f"The jacobian of the user-provided function is independent of input {i}."
                                           " This is not allowed in strict mode when create_graph=True.")
                    rows[k].append(g)
            jac.append(tuple(_stack_rows(r, tuple(out.shape) + tuple(inp.shape)) if r else
                             zeros_like(inp).reshape(tuple(out.shape) + tuple(inp.shape))
                             for r, inp in zip(rows, inputs)))
        return _tuple_post(_post(tuple(jac), create_graph), (is_out, is_in))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """Second derivatives of a scalar function, shaped ``input.shape + input.shape``."""
    is_in, inputs = _as_tuple(inputs, "inputs", "hessian")

    def single(*inp):
        out = func(*inp)
        is_t, t_out = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(t_out, "outputs", strict)
        if is_t or not _is_tensor(out):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should contain a single "
                               "element")
        return out.squeeze()

    def jac_func(*inp):
        j = jacobian(single, inp, create_graph=True)
        _check_requires_grad(j, "jacobian", strict)
        return j

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize)
    return _tuple_post(res, (is_in, is_in))


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) for a scalar function."""
    with enable_grad():
        is_in, inputs = _as_tuple(inputs, "inputs", "vhp")
        inputs = _pre(inputs, create_graph, True)
        if v is not None:
            _, v = _as_tuple(v, "v", "vhp")
            v = _pre(v, create_graph, False)
            _validate_v(v, inputs, is_in)
        elif len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided function is a "
                               "single Tensor with a single element.")
        is_out, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", "vhp")
        _check_requires_grad(outputs, "outputs", strict)
        if is_out or not _is_tensor(outputs[0]):
            raise RuntimeError("The function given to vhp should return a single Tensor")
        if outputs[0].numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to vhp should contain a single element")
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        res = _fill_zeros(_autograd_grad(jac, inputs, v, create_graph), inputs, strict, create_graph, "jacobian")
    return _tuple_post(_post(outputs, create_graph), is_out), _tuple_post(_post(res, create_graph), is_in)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v); the Hessian of a twice-differentiable function is symmetric, so H v = v^T H."""
    return vhp(func, inputs, v, create_graph, strict)
