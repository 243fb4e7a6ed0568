"""nn.Module / Parameter / Buffer: registration and its errors, traversal orders, state_dict round trips and
load errors (nothing copied on failure), hooks (order, kwargs, prepend, always_call, full backward), modes,
conversions, reprs, deepcopy/pickle."""
import copy
import pickle
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import numtorch as nt
from numtorch.nn.modules import module as M
from _twin import twin_raises

nn = nt.nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.seq = nn.Sequential(nn.Linear(4, 4), nn.Sequential(nn.Linear(4, 2), nn.Identity()))
        self.register_buffer("run", nt.zeros(2))
        self.register_buffer("tmp", nt.ones(1), persistent=False)
        self.ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.Identity()])
        self.shared = self.fc1

    def forward(self, x):
        return self.seq(self.fc1(x))


NET_REPR = """Net(
  (fc1): Linear(in_features=3, out_features=4, bias=True)
  (seq): Sequential(
    (0): Linear(in_features=4, out_features=4, bias=True)
    (1): Sequential(
      (0): Linear(in_features=4, out_features=2, bias=True)
      (1): Identity()
    )
  )
  (ml): ModuleList(
    (0-2): 3 x Linear(in_features=2, out_features=2, bias=True)
    (3): Identity()
  )
  (shared): Linear(in_features=3, out_features=4, bias=True)
)"""


def test_repr_nested():
    assert repr(Net()) == NET_REPR


def test_traversal_orders():
    m = Net()
    assert [n for n, _ in m.named_parameters()] == [
        "fc1.weight", "fc1.bias", "seq.0.weight", "seq.0.bias", "seq.1.0.weight", "seq.1.0.bias", "ml.0.weight",
        "ml.0.bias", "ml.1.weight", "ml.1.bias", "ml.2.weight", "ml.2.bias"]
    assert [n for n, _ in m.named_parameters(remove_duplicate=False)][-2:] == ["shared.weight", "shared.bias"]
    assert [n for n, _ in m.named_parameters(prefix="pre", recurse=False)] == []
    assert [n for n, _ in m.fc1.named_parameters(prefix="pre")] == ["pre.weight", "pre.bias"]
    assert [n for n, _ in m.named_buffers()] == ["run", "tmp"]
    assert [n for n, _ in m.named_modules()] == [
        "", "fc1", "seq", "seq.0", "seq.1", "seq.1.0", "seq.1.1", "ml", "ml.0", "ml.1", "ml.2", "ml.3"]
    assert [n for n, _ in m.named_modules(remove_duplicate=False)][-1] == "shared"
    assert [n for n, _ in m.named_children()] == ["fc1", "seq", "ml"]
    assert len(list(m.parameters())) == 12 and len(list(m.buffers())) == 2 and len(list(m.modules())) == 12
    visited = []
    m.apply(lambda mod: visited.append(type(mod).__name__))
    assert visited[:5] == ["Linear", "Linear", "Linear", "Identity", "Sequential"] and visited[-1] == "Net"


def test_registration_errors():
    m = Net()
    cases = [
        (lambda: setattr(m.fc1, "weight", nt.zeros(4, 3)), TypeError,
         "cannot assign 'torch.FloatTensor' as parameter 'weight' (torch.nn.Parameter or None expected)"),
        (lambda: setattr(m, "seq", nt.zeros(4, 3)), TypeError,
         "cannot assign 'torch.FloatTensor' as child module 'seq' (torch.nn.Module or None expected)"),
        (lambda: setattr(m, "run", 3), TypeError,
         "cannot assign 'int' as buffer 'run' (torch.nn.Buffer, torch.Tensor or None expected)"),
        (lambda: m.register_buffer("a.b", nt.zeros(1)), KeyError, 'buffer name can\'t contain "."'),
        (lambda: m.register_parameter("fc1", None), KeyError, "attribute 'fc1' already exists"),
        (lambda: m.register_buffer("x", 5), TypeError,
         "cannot assign 'int' object to buffer 'x' (torch Tensor or None required)"),
        (lambda: m.add_module("x", 5), TypeError, "int is not a Module subclass"),
        (lambda: m.add_module("a.b", nn.Identity()), KeyError, 'module name can\'t contain ".", got: a.b'),
        (lambda: m.register_parameter("", None), KeyError, 'parameter name can\'t be empty string ""'),
        (lambda: m.register_parameter("z", nt.zeros(1)), TypeError,
         "cannot assign 'torch.FloatTensor' object to parameter 'z' (torch.nn.Parameter or None required)"),
        (lambda: m.get_submodule("seq.1.3"), AttributeError, "Sequential has no attribute `3`"),
        (lambda: m.get_submodule("fc1.weight"), AttributeError, "`weight` is not an nn.Module"),
        (lambda: m.get_parameter("seq.0.nope"), AttributeError, "Linear has no attribute `nope`"),
        (lambda: m.get_buffer("fc1.weight"), AttributeError, "`weight` is not a buffer"),
        (lambda: m.nope, AttributeError, "'Net' object has no attribute 'nope'"),
        (lambda: m.train(1), ValueError, "training mode is expected to be boolean"),
        (lambda: nn.Module(3), TypeError, "Module.__init__() takes 1 positional argument but 2 were given"),
        (lambda: nn.Module(a=1), TypeError, "Module.__init__() got an unexpected keyword argument 'a'"),
        (lambda: nn.Module()(1), NotImplementedError, 'Module [Module] is missing the required "forward" function'),
        (lambda: m.to(nt.int64), TypeError,
         "nn.Module.to only accepts floating point or complex dtypes, but got desired dtype=torch.int64"),
    ]
    for fn, exc, msg in cases:
        with pytest.raises(exc) as info:
            fn()
        got = info.value.args[0] if exc is KeyError else str(info.value)
        assert got == msg
    assert m.get_submodule("seq.1.0") is m.seq[1][0]
    assert m.get_parameter("seq.1.0.bias") is m.seq[1][0].bias and m.get_buffer("run") is m.run
    with pytest.raises(ValueError, match="Cannot assign non-leaf Tensor to parameter 'w'"):
        x = nt.ones(2, requires_grad=True) * 2
        pp = nn.Parameter(nt.ones(2))
        pp.grad_fn = x.grad_fn
        m.register_parameter("w", pp)


def test_attribute_reassignment_and_deletion():
    lin = nn.Linear(1, 1)
    del lin.bias
    assert list(lin._parameters) == ["weight"]
    lin.bias = None
    assert list(lin._parameters) == ["weight"] and lin.bias is None     # a plain attribute now, as in PyTorch
    lin.foo = nn.Identity()
    lin.foo = None
    assert list(lin._modules) == ["foo"]
    lin.register_buffer("buf", None)
    assert list(lin.state_dict()) == ["weight"]
    lin.buf = nt.ones(2)
    assert "buf" in lin.state_dict()
    m = nn.Module()
    m.x = nn.Parameter(nt.ones(1))
    with pytest.raises(TypeError) as info:
        m.x = nn.Identity()
    assert str(info.value) == ("cannot assign 'torch.nn.modules.linear.Identity' as parameter 'x' "
                               "(torch.nn.Parameter or None expected)")
    del m.x
    m.x = nn.Identity()
    assert "x" in m._modules and "x" not in m._parameters
    assert "x" in dir(m) and "training" in dir(m) and "T_destination" in dir(m)


def test_state_dict_and_load():
    m = Net()
    sd = m.state_dict()
    assert isinstance(sd, OrderedDict) and list(sd) == [
        "run", "fc1.weight", "fc1.bias", "seq.0.weight", "seq.0.bias", "seq.1.0.weight", "seq.1.0.bias",
        "ml.0.weight", "ml.0.bias", "ml.1.weight", "ml.1.bias", "ml.2.weight", "ml.2.bias", "shared.weight",
        "shared.bias"]
    assert dict(sd._metadata) == {"": {"version": 1}, "fc1": {"version": 1}, "seq": {"version": 1},
                                  "seq.0": {"version": 1}, "seq.1": {"version": 1}, "seq.1.0": {"version": 1},
                                  "seq.1.1": {"version": 1}, "ml": {"version": 1}, "ml.0": {"version": 1},
                                  "ml.1": {"version": 1}, "ml.2": {"version": 1}, "ml.3": {"version": 1},
                                  "shared": {"version": 1}}
    assert list(m.state_dict(prefix="a."))[0] == "a.run"
    assert not sd["fc1.weight"].requires_grad and m.state_dict(keep_vars=True)["fc1.weight"].requires_grad
    m2 = Net()
    res = m2.load_state_dict(sd)
    assert repr(res) == "<All keys matched successfully>" and res.missing_keys == [] and res.unexpected_keys == []
    np.testing.assert_array_equal(m2.fc1.weight.detach().numpy(), m.fc1.weight.detach().numpy())

    m3 = Net()
    before = {k: v.clone() for k, v in m3.state_dict().items()}
    bad = OrderedDict(sd)
    del bad["fc1.bias"]
    bad["extra"] = nt.zeros(1)
    bad["seq.0.weight"] = nt.zeros(3, 3)
    with pytest.raises(RuntimeError) as info:
        m3.load_state_dict(bad)
    assert str(info.value) == (
        'Error(s) in loading state_dict for Net:\n\tMissing key(s) in state_dict: "fc1.bias". \n\t'
        'Unexpected key(s) in state_dict: "extra". \n\tsize mismatch for seq.0.weight: copying a param with shape '
        'torch.Size([3, 3]) from checkpoint, the shape in current model is torch.Size([4, 4]).')
    with pytest.raises(RuntimeError, match="size mismatch for seq.0.weight"):
        m3.load_state_dict(bad, strict=False)
    # nothing was copied by the failing loads (PyTorch would have copied fc1.weight already)
    for k, v in m3.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k].numpy())
    del bad["seq.0.weight"]
    r = m3.load_state_dict(bad, strict=False)
    assert repr(r) == "_IncompatibleKeys(missing_keys=['fc1.bias', 'seq.0.weight'], unexpected_keys=['extra'])"
    np.testing.assert_array_equal(m3.fc1.weight.detach().numpy(), m.fc1.weight.detach().numpy())
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like, got <class 'list'>."):
        m3.load_state_dict([])
    nl = nn.Linear(2, 2)
    nl.load_state_dict({"weight": nt.ones(2, 2), "bias": nt.zeros(2)}, assign=True)
    assert type(nl.weight) is nn.Parameter and nl.weight.requires_grad
    np.testing.assert_array_equal(nl.weight.detach().numpy(), np.ones((2, 2)))


def test_state_dict_extension_points():
    class Counted(nn.Linear):
        """Like BatchNorm's num_batches_tracked: a default filled in by _load_from_state_dict."""
        def __init__(self):
            super().__init__(1, 1)
            self.register_buffer("count", nt.tensor(0))

        def _load_from_state_dict(self, state_dict, prefix, *args):
            state_dict.setdefault(prefix + "count", nt.tensor(7))
            super()._load_from_state_dict(state_dict, prefix, *args)

        def get_extra_state(self):
            return {"note": 1}

        def set_extra_state(self, state):
            self.note = state

    c = Counted()
    sd = c.state_dict()
    assert list(sd) == ["weight", "bias", "count", "_extra_state"] and sd["_extra_state"] == {"note": 1}
    del sd["count"]
    c.load_state_dict(sd)
    assert int(c.count) == 7 and c.note == {"note": 1}


def test_state_dict_hooks():
    log = []
    lin = nn.Linear(1, 1)
    lin.register_state_dict_pre_hook(lambda m, prefix, keep_vars: log.append(("pre", prefix, keep_vars)))
    lin.register_state_dict_post_hook(lambda m, sd, prefix, meta: log.append(("post", list(sd), prefix, meta)))
    seq = nn.Sequential(lin)
    sd = seq.state_dict()
    assert log == [("pre", "0.", False), ("post", ["0.weight", "0.bias"], "0.", {"version": 1})]
    lin.register_load_state_dict_pre_hook(
        lambda m, sd_, prefix, meta, strict, mk, uk, em: log.append(("lpre", type(m).__name__, prefix, list(sd_))))
    lin.register_load_state_dict_post_hook(lambda m, ik: log.append(("lpost", ik.missing_keys, ik.unexpected_keys)))
    log.clear()
    assert repr(seq.load_state_dict(sd)) == "<All keys matched successfully>"
    assert log == [("lpre", "Linear", "0.", ["0.weight", "0.bias"]), ("lpost", [], [])]

    def forgive(m, ik):
        ik.missing_keys.clear()
    seq.register_load_state_dict_post_hook(forgive)
    part = dict(sd)
    del part["0.bias"]
    assert repr(seq.load_state_dict(part)) == "<All keys matched successfully>"


def test_forward_hooks():
    lin = nn.Linear(2, 2)
    with nt.no_grad():
        lin.weight.copy_(nt.tensor([[1., 2.], [3., 4.]]))
        lin.bias.copy_(nt.tensor([0.5, -0.5]))
    log = []
    hs = [lin.register_forward_pre_hook(lambda m, a: log.append("pre1")),
          lin.register_forward_pre_hook(lambda m, a: log.append("pre0"), prepend=True),
          lin.register_forward_pre_hook(lambda m, a, k: log.append(("prekw", sorted(k))), with_kwargs=True),
          lin.register_forward_hook(lambda m, a, o: log.append(("fwd", tuple(o.shape)))),
          lin.register_forward_hook(lambda m, a, k, o: o * 2, with_kwargs=True)]
    x = nt.tensor([[1., 1.]])
    y = lin(x)
    assert log == ["pre0", "pre1", ("prekw", []), ("fwd", (1, 2))]
    assert y.tolist() == [[7.0, 13.0]] and type(y.grad_fn).__name__ == "MulBackward0"
    for h in hs:
        h.remove()
    log.clear()
    assert lin(x).tolist() == [[3.5, 6.5]] and log == []
    with lin.register_forward_pre_hook(lambda m, a: (a[0] + 1,)):
        assert lin(x).tolist() == [[6.5, 13.5]]
    with lin.register_forward_pre_hook(lambda m, a: a[0] * 0):
        assert lin(x).tolist() == [[0.5, -0.5]]
    with lin.register_forward_pre_hook(lambda m, a, k: 5, with_kwargs=True):
        with pytest.raises(RuntimeError, match=r"forward pre-hook must return None or a tuple of \(new_args, "
                                               r"new_kwargs\), but got 5."):
            lin(x)

    class K(nn.Module):
        def forward(self, x, scale=1.0):
            return x * scale
    k = K()
    k.register_forward_pre_hook(lambda m, a, kw: (a, {"scale": 3.0}), with_kwargs=True)
    assert k(nt.ones(1), scale=2.0).tolist() == [3.0]

    class Bad(nn.Module):
        def forward(self, x):
            raise ValueError("boom")
    b = Bad()
    calls = []
    b.register_forward_hook(lambda m, a, o: calls.append(("always", o)), always_call=True)
    b.register_forward_hook(lambda m, a, o: calls.append("never"))
    with pytest.raises(ValueError, match="boom"):
        b(x)
    assert calls == [("always", None)]
    g = M.register_module_forward_hook(lambda m, a, o: log.append(("global", type(m).__name__)))
    try:
        nn.Sequential(nn.Identity())(x)
    finally:
        g.remove()
    assert log[-2:] == [("global", "Identity"), ("global", "Sequential")]


def test_full_backward_hooks():
    bl = []
    lin = nn.Linear(2, 2)
    with nt.no_grad():
        lin.weight.copy_(nt.tensor([[1., 2.], [3., 4.]]))
        lin.bias.zero_()

    def show(gs):
        return [None if g is None else g.tolist() for g in gs]
    hb = lin.register_full_backward_hook(lambda m, gi, go: bl.append(("bw", show(gi), show(go))))
    hp = lin.register_full_backward_pre_hook(lambda m, go: bl.append("bwpre"))
    xi = nt.tensor([[1., -1.]], requires_grad=True)
    o = lin(xi)
    assert type(o.grad_fn).__name__ == "BackwardHookFunctionBackward"
    o.sum().backward()
    assert bl == ["bwpre", ("bw", [[[4.0, 6.0]]], [[[1.0, 1.0]]])] and xi.grad.tolist() == [[4.0, 6.0]]
    bl.clear()
    with pytest.warns(UserWarning, match="Full backward hook is firing when gradients are computed with respect "
                                         "to module outputs since no inputs require gradients"):
        lin(nt.tensor([[1., -1.]])).sum().backward()
    assert bl == ["bwpre", ("bw", [None], [[[1.0, 1.0]]])]
    hb.remove()
    hp.remove()
    with lin.register_full_backward_hook(lambda m, gi, go: (gi[0] * 10,)):
        xi = nt.tensor([[1., -1.]], requires_grad=True)
        lin(xi).sum().backward()
    assert xi.grad.tolist() == [[40.0, 60.0]]
    lin.zero_grad()
    with lin.register_full_backward_pre_hook(lambda m, go: (go[0] * 3,)):
        xi = nt.tensor([[1., -1.]], requires_grad=True)
        lin(xi).sum().backward()
    assert xi.grad.tolist() == [[12.0, 18.0]] and lin.weight.grad.tolist() == [[3.0, -3.0], [3.0, -3.0]]
    with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full backward hooks"):
        lin.register_backward_hook(lambda *a: None)


def test_modes_and_grads():
    m = Net()
    m.eval()
    assert not m.training and not m.seq[1][0].training
    m.train()
    assert m.seq[1][1].training
    lin = nn.Linear(2, 3)
    lin.requires_grad_(False)
    assert not lin.weight.requires_grad
    lin.requires_grad_()
    lin(nt.ones(1, 2)).sum().backward()
    lin.zero_grad(set_to_none=False)
    assert lin.weight.grad.abs().sum().item() == 0.0
    lin.zero_grad()
    assert lin.weight.grad is None


def test_conversions_keep_parameter_identity():
    lin = nn.Linear(2, 3).double()
    assert lin.weight.dtype is nt.float64 and type(lin.weight) is nn.Parameter
    w = lin.weight
    lin.float()
    assert lin.weight is w and w.dtype is nt.float32
    lin.to(nt.float64)
    assert lin.weight.dtype is nt.float64
    lin.to("cpu", nt.float32)
    assert lin.weight.dtype is nt.float32 and lin.weight.device.type == "cpu"
    lin.half()
    assert lin.weight is w and w.dtype is nt.float16
    lin.to(nt.zeros(1, dtype=nt.float64))
    assert lin.weight.dtype is nt.float64
    lin.register_buffer("steps", nt.tensor(3))
    lin.float()
    assert lin.steps.dtype is nt.int64          # integer buffers keep their dtype
    lin(nt.ones(1, 2)).sum().backward()
    lin.double()
    assert lin.weight.grad.dtype is nt.float64
    lin.type(nt.float32)
    assert lin.weight.dtype is nt.float32


def test_copy_and_pickle():
    m = Net()
    mm = copy.deepcopy(m)
    assert mm.fc1 is mm.shared and type(mm.fc1.weight) is nn.Parameter and mm.fc1.weight is not m.fc1.weight
    np.testing.assert_array_equal(mm.fc1.weight.detach().numpy(), m.fc1.weight.detach().numpy())
    sq = nn.Sequential(nn.Linear(2, 2), nn.Flatten())
    pk = pickle.loads(pickle.dumps(sq))
    assert repr(pk) == repr(sq) and list(pk.state_dict()) == ["0.weight", "0.bias"]
    np.testing.assert_array_equal(pk[0].weight.detach().numpy(), sq[0].weight.detach().numpy())
    st = nn.Linear(1, 1).__dict__.copy()
    del st["_forward_pre_hooks"]
    n = nn.Linear.__new__(nn.Linear)
    n.__setstate__(st)
    assert isinstance(n._forward_pre_hooks, OrderedDict)


def test_parameter_and_buffer():
    p = nn.Parameter(nt.ones(2))
    assert repr(p) == "Parameter containing:\ntensor([1., 1.], requires_grad=True)"
    assert str(type(p)) == "<class 'torch.nn.parameter.Parameter'>"
    assert repr(nn.Parameter(nt.ones(2), requires_grad=False)) == "Parameter containing:\ntensor([1., 1.])"
    assert type(nn.Parameter(p)) is nn.Parameter and nn.Parameter().shape == (0,)
    assert isinstance(p, nt.Tensor) and type(p * 2) is nt.Tensor and p.is_leaf
    q = copy.deepcopy(p)
    assert type(q) is nn.Parameter and q.requires_grad and q is not p
    r = pickle.loads(pickle.dumps(p))
    assert type(r) is nn.Parameter and r.tolist() == [1.0, 1.0]
    p.data = nt.zeros(3)
    assert p.shape == (3,) and p.requires_grad
    twin_raises(lambda T: T.nn.Parameter(T.ones(2, dtype=T.long)), RuntimeError,
                "Only Tensors of floating point and complex dtype can require gradients")
    assert not nn.Parameter(nt.ones(2, dtype=nt.long), requires_grad=False).requires_grad
    nl = nt.ones(2, requires_grad=True) * 2
    assert nn.Parameter(nl).grad_fn is None
    b = nn.Buffer(nt.ones(2))
    assert type(b) is nt.Tensor and b.persistent and isinstance(b, nn.Buffer) and not isinstance(nt.ones(1), nn.Buffer)
    mb = nn.Module()
    mb.x = b
    mb.y = nn.Buffer(nt.ones(1), persistent=False)
    assert list(mb._buffers) == ["x", "y"] and mb._non_persistent_buffers_set == {"y"}
    assert list(mb.state_dict()) == ["x"]


def test_call_goes_straight_to_forward_without_hooks():
    calls = []

    class Spy(nn.Module):
        def forward(self, x):
            calls.append(x)
            return x
    s = Spy()
    assert s(3) == 3 and calls == [3]
    assert nn.Identity()(5) == 5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.Sequential(nn.Linear(2, 2))(nt.ones(1, 2))


def test_str_of_parameter_is_its_repr():
    import numtorch as nt
    p = nt.nn.Parameter(nt.ones(2))
    assert str(p) == repr(p) == "Parameter containing:\ntensor([1., 1.], requires_grad=True)"
