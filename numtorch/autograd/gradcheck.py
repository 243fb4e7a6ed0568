"""``gradcheck`` / ``gradgradcheck``: compare autograd's Jacobians with central finite differences.

Like PyTorch, these are designed for float64 inputs: other floating inputs that require grad trigger a
UserWarning, and float32 checks usually fail at the default tolerances (eps=1e-6, atol=1e-5, rtol=1e-3)."""
import warnings

import numpy as np


class GradcheckError(RuntimeError):
    """Raised by gradcheck/gradgradcheck when ``raise_exception=True`` and a check fails."""


def _is_tensor(x):
    return hasattr(x, "_vc") and hasattr(x, "grad_fn")


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs(func, inputs):
    out = func(*inputs)
    return tuple(o for o in _as_tuple(out) if _is_tensor(o))


def _np64(t):
    return t.detach().double()._host_values().astype(np.float64, copy=False)


def _numerical(func, inputs, idx, eps):
    """Jacobians d outputs / d inputs[i] for i in idx: one (n_in, n_out) array per (input, output)."""
    from .. import tensor as _tensor
    # Evaluated with grad mode on (gradgradcheck's function differentiates inside).
    outs = _outputs(func, inputs)
    sizes = [o.numel() for o in outs]
    jac = {}
    for i in idx:
        x = inputs[i]
        base = x.detach()._host_values().copy()
        flat = base.reshape(-1)
        n = flat.size
        js = [np.zeros((n, m)) for m in sizes]
        for k in range(n):
            vals = []
            for d in (eps, -eps):
                pert = flat.copy()
                pert[k] = pert[k] + d
                xs = list(inputs)
                xs[i] = _tensor(pert.reshape(base.shape), dtype=x.dtype, device=x.device, requires_grad=True)
                vals.append([_np64(o).reshape(-1) for o in _outputs(func, xs)])
            for j in range(len(outs)):
                js[j][k] = (vals[0][j] - vals[1][j]) / (2 * eps)
        for j in range(len(outs)):
            jac[(i, j)] = js[j]
    return outs, jac


def _analytical(func, inputs, idx):
    from ..creation import zeros_like
    from .engine import grad as _grad
    outs = _outputs(func, inputs)
    diff_inputs = [inputs[i] for i in idx]
    jac = {}
    for j, o in enumerate(outs):
        m = o.numel()
        cols = {i: np.zeros((inputs[i].numel(), m)) for i in idx}
        if o._requires_grad and o.dtype.is_floating_point:
            for k in range(m):
                go = zeros_like(o)
                go.view(-1).select(0, k).fill_(1)  # one-hot grad_output
                gs = _grad((o,), diff_inputs, (go,), retain_graph=True, allow_unused=True)
                for i, g in zip(idx, gs):
                    if g is not None:
                        cols[i][:, k] = _np64(g).reshape(-1)
        for i in idx:
            jac[(i, j)] = cols[i]
    return outs, jac


def _fmt(a, like):
    from .. import tensor as _tensor
    return repr(_tensor(a, dtype=like.dtype))


def _fail(msg, raise_exception):
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradcheck(func, inputs, *, eps=1e-06, atol=1e-05, rtol=0.001, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True, fast_mode=False,
              masked=None):
    """Check the gradients of ``func`` at ``inputs`` against finite differences (float64 inputs)."""
    inputs = _as_tuple(inputs)
    idx = [i for i, x in enumerate(inputs) if _is_tensor(x) and x._requires_grad]
    if not idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of them "
                         "have requires_grad=True.")
    for i in idx:
        if inputs[i].dtype.name != "float64":
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point or complex. "
                          "This check will likely fail if all the inputs are not of double precision floating "
                          "point or complex. ", UserWarning, stacklevel=2)
    if not check_backward_ad:
        return True
    outs, num = _numerical(func, inputs, idx, eps)
    aouts, ana = _analytical(func, inputs, idx)
    for j, o in enumerate(aouts):
        if not (o._requires_grad and o.dtype.is_floating_point):
            for i in idx:
                if not np.allclose(num[(i, j)], 0, rtol=rtol, atol=atol):
                    return _fail("Numerical gradient for function expected to be zero", raise_exception)
            continue
        for i in idx:
            n, a = num[(i, j)], ana[(i, j)]
            if not np.allclose(a, n, rtol=rtol, atol=atol, equal_nan=True):
                return _fail(f"Jacobian mismatch for output {j} with respect to input {i},\n"
                             f"numerical:{_fmt(n, o)}\nanalytical:{_fmt(a, o)}\n", raise_exception)
    if nondet_tol == 0.0:
        _, ana2 = _analytical(func, inputs, idx)
        for key, a in ana.items():
            if not np.array_equal(a, ana2[key], equal_nan=True):
                return _fail("Backward is not reentrant, i.e., running backward with same input and grad_output "
                             "multiple times gives different values, although analytical gradient matches "
                             f"numerical gradient.The tolerance for nondeterminism was {nondet_tol}.",
                             raise_exception)
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-06, atol=1e-05, rtol=0.001,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False, masked=False):
    """Check second derivatives: gradcheck of ``inputs, grad_outputs -> grad(func(inputs), inputs)``."""
    from .. import random as _rnd
    from .engine import grad as _grad
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        outs = _outputs(func, inputs)
        grad_outputs = tuple((_rnd.rand(o._shape, dtype=o.dtype, device=o.device) * 2 - 1).requires_grad_()
                             for o in outs if o._requires_grad and o.dtype.is_floating_point)
    grad_outputs = _as_tuple(grad_outputs)
    n_out = len(grad_outputs)

    def new_func(*args):
        ins, gos = args[:-n_out], args[-n_out:]
        outs = tuple(o for o in _outputs(func, ins) if o._requires_grad and o.dtype.is_floating_point)
        diff = tuple(x for x in ins if _is_tensor(x) and x._requires_grad)
        gs = _grad(outs, diff, gos, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(new_func, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol)
