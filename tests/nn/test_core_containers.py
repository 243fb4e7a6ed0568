"""Sequential / ModuleList / ModuleDict / ParameterList / ParameterDict / Flatten / Unflatten: PyTorch's
indexing, mutation, operators and exact reprs."""
from collections import OrderedDict

import numpy as np
import pytest

import numtorch as nt

nn = nt.nn
LIN2 = "Linear(in_features=2, out_features=2, bias=True)"


def test_sequential_indexing_and_mutation():
    a, b, c = nn.Linear(2, 2), nn.Identity(), nn.Linear(2, 3)
    s = nn.Sequential(a, b, c)
    assert len(s) == 3 and s[0] is a and s[-1] is c and list(s) == [a, b, c]
    assert repr(s[1:]) == "Sequential(\n  (1): Identity()\n  (2): Linear(in_features=2, out_features=3, bias=True)\n)"
    with pytest.raises(IndexError, match="index 5 is out of range"):
        s[5]
    s[1] = nn.Flatten()
    assert type(s[1]) is nn.Flatten
    s2 = nn.Sequential(nn.Identity(), nn.Linear(1, 1))
    s2.append(nn.Identity())
    s2.insert(0, nn.Flatten())
    assert repr(s2) == ("Sequential(\n  (0): Flatten(start_dim=1, end_dim=-1)\n  (1): Identity()\n"
                        "  (2): Linear(in_features=1, out_features=1, bias=True)\n  (3): Identity()\n)")
    del s2[1]
    assert list(s2._modules) == ["0", "1", "2"] and type(s2[1]) is nn.Linear
    assert type(s2.pop(0)) is nn.Flatten and len(s2) == 2
    with pytest.raises(IndexError, match="Index out of range: 7"):
        s2.insert(7, nn.Identity())
    s2.extend([nn.Identity()])
    assert len(s2) == 3
    od = nn.Sequential(OrderedDict([("a", nn.Identity()), ("b", nn.Linear(1, 1))]))
    assert repr(od) == "Sequential(\n  (a): Identity()\n  (b): Linear(in_features=1, out_features=1, bias=True)\n)"
    assert od.b is od[1]
    x = nt.tensor(np.arange(4.0, dtype=np.float32).reshape(2, 2))
    np.testing.assert_allclose(nn.Sequential(a)(x).detach().numpy(),
                               x.numpy() @ a.weight.detach().numpy().T + a.bias.detach().numpy(), rtol=1e-6)
    assert "0" not in dir(s) and "append" in dir(s)


def test_sequential_operators():
    i1, i2 = nn.Identity(), nn.Linear(1, 1)
    s = nn.Sequential(i1) + nn.Sequential(i2)
    assert list(s) == [i1, i2]
    assert list(nn.Sequential(i1, i2) * 2) == [i1, i2, i1, i2] and list(2 * nn.Sequential(i1)) == [i1, i1]
    s *= 2
    assert list(s) == [i1, i2, i1, i2]
    s += nn.Sequential(i1)
    assert len(s) == 5
    with pytest.raises(ValueError, match="add operator supports only objects of Sequential class, but "
                                         "<class 'int'> is given."):
        nn.Sequential() + 3
    with pytest.raises(ValueError, match="Non-positive multiplication factor 0 for"):
        nn.Sequential(i1) * 0
    with pytest.raises(TypeError, match="unsupported operand type"):
        nn.Sequential(i1) * 1.5


def test_module_list():
    ml = nn.ModuleList([nn.Linear(2, 2)] * 3 + [nn.Identity(), nn.Identity(), nn.Linear(1, 1)])
    assert repr(ml) == ("ModuleList(\n  (0-2): 3 x " + LIN2 + "\n  (3-4): 2 x Identity()\n"
                        "  (5): Linear(in_features=1, out_features=1, bias=True)\n)")
    assert repr(nn.ModuleList()) == "ModuleList()"
    nested = nn.ModuleList([nn.Sequential(nn.Linear(2, 2)), nn.Sequential(nn.Linear(2, 2))])
    assert repr(nested) == "ModuleList(\n  (0-1): 2 x Sequential(\n    (0): " + LIN2 + "\n  )\n)"
    # a repeated module is one parameter set
    assert len(list(ml.parameters())) == 4 and len(ml) == 6
    assert type(ml[1:3]) is nn.ModuleList and len(ml[1:3]) == 2
    ml.append(nn.Flatten())
    ml.insert(0, nn.Identity())
    assert type(ml[0]) is nn.Identity and type(ml[-1]) is nn.Flatten and len(ml) == 8
    del ml[0]
    assert list(ml._modules) == [str(i) for i in range(7)]
    ml += [nn.Identity()]
    assert len(ml) == 8 and len(ml + nn.ModuleList([nn.Identity()])) == 9
    assert type(ml.pop(-1)) is nn.Identity and len(ml) == 7
    with pytest.raises(IndexError, match="index 10 is out of range"):
        ml[10]
    with pytest.raises(TypeError, match="ModuleList.extend should be called with an iterable, but got Identity"):
        ml.extend(nn.Identity())


def test_module_dict():
    md = nn.ModuleDict({"b": nn.Identity(), "a": nn.Linear(1, 2)})
    assert repr(md) == ("ModuleDict(\n  (b): Identity()\n  (a): Linear(in_features=1, out_features=2, bias=True)\n)")
    assert list(md.keys()) == ["b", "a"] and "a" in md and len(md) == 2 and list(md) == ["b", "a"]
    md.update([("c", nn.Flatten())])
    md["d"] = nn.Identity()
    assert list(md) == ["b", "a", "c", "d"]
    assert type(md.pop("c")) is nn.Flatten and "c" not in md
    with pytest.raises(ValueError, match="ModuleDict update sequence element #0 has length 1; 2 is required"):
        md.update([("x",)])
    md.clear()
    assert len(md) == 0


def test_parameter_list_and_dict():
    pl = nn.ParameterList([nn.Parameter(nt.zeros(2, 3)), nt.ones(2), "str"])
    assert repr(pl) == ("ParameterList(\n    (0): Parameter containing: [torch.float32 of size 2x3]\n"
                        "    (1): Parameter containing: [torch.float32 of size 2]\n    (2): Object of type: str\n)")
    assert [n for n, _ in pl.named_parameters()] == ["0", "1"] and type(pl[1]) is nn.Parameter
    assert pl[2] == "str" and len(pl) == 3 and len(pl[:2]) == 2
    pl.append(nt.ones(1))
    assert len(list(pl.parameters())) == 3
    with pytest.raises(RuntimeError, match="ParameterList should not be called."):
        pl()
    pd = nn.ParameterDict({"w": nn.Parameter(nt.zeros(2)), "a": nt.ones(1, 2)})
    assert repr(pd) == ("ParameterDict(\n    (a): Parameter containing: [torch.FloatTensor of size 1x2]\n"
                        "    (w): Parameter containing: [torch.FloatTensor of size 2]\n)")
    assert list(pd.keys()) == ["a", "w"] and type(pd["a"]) is nn.Parameter
    pd2 = pd | nn.ParameterDict({"z": nt.ones(1)})
    assert list(pd2) == ["a", "w", "z"] and list(pd) == ["a", "w"]
    assert pd.get("nope", 3) == 3 and "w" in pd
    assert pd.pop("w").shape == (2,) and list(pd) == ["a"]
    with pytest.raises(TypeError, match="Index given to ParameterDict cannot be used as a key as it is not a string"):
        pd[1] = nt.ones(1)


def test_flatten_unflatten():
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert repr(nn.Unflatten(1, (2, 3))) == "Unflatten(dim=1, unflattened_size=(2, 3))"
    assert nn.Flatten()(nt.zeros(2, 3, 4)).shape == (2, 12)
    assert nn.Flatten(0, 1)(nt.zeros(2, 3, 4)).shape == (6, 4)
    assert nn.Unflatten(1, (2, 3))(nt.zeros(4, 6)).shape == (4, 2, 3)
    with pytest.raises(TypeError, match="unflattened_size must be tuple of ints, but found element of type float "
                                        "at pos 1"):
        nn.Unflatten(1, (2, 3.0))
    with pytest.raises(TypeError, match="unflattened_size must be a tuple of ints, but found type int"):
        nn.Unflatten(1, 3)
