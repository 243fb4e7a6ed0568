"""Every autograd error/warning text, hard-coded (PyTorch 2.x wording) and, when torch is importable,
compared with torch's own message."""
import re
import warnings

import pytest

import numtorch as nt

SECOND = ("Trying to backward through the graph a second time (or directly access saved tensors after they have "
          "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
          "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or "
          "if you need to access saved tensors after calling backward.")
HINT = ("Hint: enable anomaly detection to find the operation that failed to compute its gradient, with "
        "torch.autograd.set_detect_anomaly(True, check_nan=False).")


def version_msg(shape, which, version=1, expected=0, legacy="FloatTensor"):
    part = f", which is {which}," if which else ""
    return ("one of the variables needed for gradient computation has been modified by an inplace operation: "
            f"[torch.{legacy} [{shape}]]{part} is at version {version}; expected version {expected} instead. "
            + HINT)


# Each case: (name, code run with `T` bound to the module, exception type, exact message).
CASES = [
    ("implicit_nonscalar", "(T.ones(2, requires_grad=True) * 2).backward()", RuntimeError,
     "grad can be implicitly created only for scalar outputs"),
    ("shape_mismatch", "(T.ones(2, requires_grad=True) * 2).backward(T.ones(3))", RuntimeError,
     "Mismatch in shape: grad_output[0] has a shape of torch.Size([3]) and output[0] has a shape of "
     "torch.Size([2])."),
    ("no_grad_fn", "T.ones(2).sum().backward()", RuntimeError,
     "element 0 of tensors does not require grad and does not have a grad_fn"),
    ("no_grad_fn_1", "T.autograd.backward([(T.ones(1, requires_grad=True) * 2).sum(), T.ones(1).sum()])",
     RuntimeError, "element 1 of tensors does not require grad and does not have a grad_fn"),
    ("second_backward", "x = T.ones(2, requires_grad=True); z = (x * x).sum(); z.backward(); z.backward()",
     RuntimeError, SECOND),
    ("saved_output_modified", "x = T.ones(2, requires_grad=True); y = x.exp(); y.add_(1); y.sum().backward()",
     RuntimeError, version_msg("2", "output 0 of Exp")),
    ("saved_output_modified_2d",
     "x = T.ones(2, 3, requires_grad=True); y = x.sigmoid(); y.mul_(2); y.sum().backward()",
     RuntimeError, version_msg("2, 3", "output 0 of Sigmoid")),
    ("saved_input_modified", "x = T.ones(2, requires_grad=True); y = x * 2; z = y * y; y.add_(1); "
                             "z.sum().backward()", RuntimeError, version_msg("2", "output 0 of Add")),
    ("saved_leaf_modified", "x = T.ones(2, requires_grad=True); z = x * x\nwith T.no_grad(): x.add_(1)\n"
                            "z.sum().backward()", RuntimeError, version_msg("2", None)),
    ("saved_0d_prod1", "x = T.ones(3, requires_grad=True); p = x.prod(0); p.mul_(2); p.backward()", RuntimeError,
     version_msg("", "output 0 of Prod1")),
    ("saved_via_view", "x = T.ones(3, requires_grad=True); y = x.exp(); y.narrow(0, 0, 2).mul_(2); "
                       "y.sum().backward()", RuntimeError, version_msg("3", "output 0 of Exp")),
    ("copyslices_owner", "x = T.ones(3, requires_grad=True); y = x * 1; z = y.sin(); "
                         "y.select(0, 0).fill_(1); z.sum().backward()",
     RuntimeError, version_msg("3", "output 0 of torch::autograd::CopySlices")),
    ("double_version", "x = T.ones(2, dtype=T.float64, requires_grad=True); y = x.exp(); y.add_(1); y.add_(1); "
                       "y.sum().backward()", RuntimeError,
     version_msg("2", "output 0 of Exp", version=2, legacy="DoubleTensor")),
    ("leaf_inplace", "T.ones(2, requires_grad=True).add_(1)", RuntimeError,
     "a leaf Variable that requires grad is being used in an in-place operation."),
    ("leaf_view_inplace", "T.ones(2, requires_grad=True).narrow(0, 0, 1).add_(1)", RuntimeError,
     "a view of a leaf Variable that requires grad is being used in an in-place operation."),
    ("numpy_leaf", "T.ones(2, requires_grad=True).numpy()", RuntimeError,
     "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."),
    ("numpy_nonleaf", "(T.ones(2, requires_grad=True) * 2).numpy()", RuntimeError,
     "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."),
    ("int_requires_grad_ctor", "T.ones(2, dtype=T.int64, requires_grad=True)", RuntimeError,
     "Only Tensors of floating point and complex dtype can require gradients"),
    ("int_requires_grad_", "T.ones(2, dtype=T.int64).requires_grad_()", RuntimeError,
     "only Tensors of floating point dtype can require gradients"),
    ("nonleaf_requires_grad_false", "(T.ones(2, requires_grad=True) * 2).requires_grad_(False)", RuntimeError,
     "you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a "
     "subgraph that doesn't require differentiation use var_no_grad = var.detach()."),
    ("hook_no_grad", "T.ones(2).register_hook(lambda g: g)", RuntimeError,
     "cannot register a hook on a tensor that doesn't require gradient"),
    ("retain_no_grad", "T.ones(2).retain_grad()", RuntimeError,
     "can't retain_grad on Tensor that has requires_grad=False"),
    ("grad_input_no_grad", "T.autograd.grad((T.ones(2, requires_grad=True) * 2).sum(), T.ones(2))", RuntimeError,
     "One of the differentiated Tensors does not require grad"),
    ("grad_unused", "a = T.ones(2, requires_grad=True); b = T.ones(2, requires_grad=True); "
                    "T.autograd.grad((a * 2).sum(), [a, b])", RuntimeError,
     "The differentiated Tensor at index 1 appears to not have been used in the graph. Set allow_unused=True if "
     "this is the desired behavior."),
    ("inputs_empty", "(T.ones(2, requires_grad=True) * 2).sum().backward(inputs=[])", RuntimeError,
     "`inputs` argument to `backward()` cannot be empty."),
    ("grad_count", "x = T.ones(2, requires_grad=True); T.autograd.backward([x * 2, x * 3], [T.ones(2)])",
     RuntimeError, "got 2 tensors and 1 gradients"),
    ("grad_count_grad", "x = T.ones(2, requires_grad=True); T.autograd.grad([(x * 2).sum(), x.sum()], x, "
                        "[T.ones(())])", RuntimeError, "got 2 tensors and 1 gradients"),
    ("node_hook_count", "x = T.ones(2, requires_grad=True); y = x * 2; "
                        "y.grad_fn.register_hook(lambda gi, go: (gi[0],)); y.sum().backward()", RuntimeError,
     "hook '<lambda>' has returned an incorrect number of values (got 1, but expected 2)"),
]


def run(T, code):
    exec(code, {"T": T})


@pytest.mark.parametrize("name,code,exc,msg", CASES, ids=[c[0] for c in CASES])
def test_message(name, code, exc, msg):
    with pytest.raises(exc) as info:
        run(nt, code)
    assert str(info.value) == msg


@pytest.mark.parametrize("name,code,exc,msg", CASES, ids=[c[0] for c in CASES])
def test_message_matches_torch(name, code, exc, msg):
    torch = pytest.importorskip("torch")
    with pytest.raises(exc) as info:
        run(torch, code)
    assert str(info.value) == msg


def test_nonleaf_grad_warning_text():
    y = nt.ones(2, requires_grad=True) * 2
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        y.grad
    assert w[0].category is UserWarning
    assert str(w[0].message).startswith(
        "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute won't "
        "be populated during autograd.backward(). If you indeed want the .grad field to be populated for a "
        "non-leaf Tensor, use .retain_grad() on the non-leaf Tensor.")


def test_setter_requires_grad_on_nonleaf():
    y = nt.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=re.escape("you can only change requires_grad flags of leaf variables.")):
        y.requires_grad = False
    with pytest.raises(RuntimeError, match=re.escape("you can only change requires_grad flags of leaf variables.")):
        y.requires_grad = True


def test_no_error_when_unsaved_tensor_modified():
    x = nt.ones(2, requires_grad=True)
    y = x * 2
    z = y + y               # add saves nothing
    y.mul_(2)
    z.sum().backward()
    assert x.grad.tolist() == [4.0, 4.0]


def test_leaf_inplace_allowed_under_no_grad():
    x = nt.ones(2, requires_grad=True)
    with nt.no_grad():
        x.add_(1)
        x.narrow(0, 0, 1).mul_(3)
    assert repr(x) == "tensor([6., 2.], requires_grad=True)"
    assert x.is_leaf and x._version == 2
