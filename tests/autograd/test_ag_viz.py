"""numtorch.viz.make_dot: the same DOT text as torchviz (ids normalized), the graphviz-free stand-in and
its render() error, and deep graphs without recursion."""
import re
import sys

import pytest

import numtorch as nt
from numtorch import viz
from numtorch.autograd import Function


def norm(src):
    ids = {}
    return re.sub(r"\b\d{6,}\b", lambda m: "N%d" % ids.setdefault(m.group(0), len(ids)), src)


class Sq(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return 2 * a * g


def graphs():
    w = nt.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = nt.tensor([0.5, -0.5], requires_grad=True)
    x = nt.ones(3, 2)
    y = ((x * w.sum(0) + b).tanh() ** 2).mean()
    return [(y, {"w": w, "b": b}), ((w * 2).t(), None), (Sq.apply(b).sum(), None)]


# What torchviz's make_dot (szagoruyko/pytorchviz) gives for the same graphs in PyTorch (ids normalized).
EXPECTED = [
'digraph {\n\tgraph [size="12,12"]\n\tnode [align=left fontname=monospace fontsize=10 height=0.2 ranksep=0.1 shape=box style=filled]\n\tN0 [label="\n ()" fillcolor=darkolivegreen1]\n\tN1 [label=MeanBackward0]\n\tN2 -> N1\n\tN2 [label=PowBackward0]\n\tN3 -> N2\n\tN3 [label=TanhBackward0]\n\tN4 -> N3\n\tN4 [label=AddBackward0]\n\tN5 -> N4\n\tN5 [label=MulBackward0]\n\tN6 -> N5\n\tN6 [label=SumBackward1]\n\tN7 -> N6\n\tN8 [label="w\n (2, 2)" fillcolor=lightblue]\n\tN8 -> N7\n\tN7 [label=AccumulateGrad]\n\tN9 -> N4\n\tN10 [label="b\n (2)" fillcolor=lightblue]\n\tN10 -> N9\n\tN9 [label=AccumulateGrad]\n\tN1 -> N0\n}\n',
'digraph {\n\tgraph [size="12,12"]\n\tnode [align=left fontname=monospace fontsize=10 height=0.2 ranksep=0.1 shape=box style=filled]\n\tN0 [label="\n (2, 2)" fillcolor=darkolivegreen1]\n\tN1 [label=TBackward0]\n\tN2 -> N1\n\tN2 [label=MulBackward0]\n\tN3 -> N2\n\tN4 [label="\n (2, 2)" fillcolor=lightblue]\n\tN4 -> N3\n\tN3 [label=AccumulateGrad]\n\tN1 -> N0\n\tN5 [label="\n (2, 2)" fillcolor=darkolivegreen3]\n\tN2 -> N5\n\tN5 -> N0 [style=dotted]\n}\n',
'digraph {\n\tgraph [size="12,12"]\n\tnode [align=left fontname=monospace fontsize=10 height=0.2 ranksep=0.1 shape=box style=filled]\n\tN0 [label="\n ()" fillcolor=darkolivegreen1]\n\tN1 [label=SumBackward0]\n\tN2 -> N1\n\tN2 [label=SqBackward]\n\tN3 -> N2\n\tN4 [label="\n (2)" fillcolor=lightblue]\n\tN4 -> N3\n\tN3 [label=AccumulateGrad]\n\tN4 -> N2 [dir=none]\n\tN4 [label="\n (2)" fillcolor=orange]\n\tN1 -> N0\n}\n'
]


def test_make_dot_matches_torchviz_text():
    for (out, params), expected in zip(graphs(), EXPECTED):
        assert norm(viz.make_dot(out, params=params).source) == expected


def test_make_dot_standin_without_graphviz(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)       # makes `import graphviz` fail
    for (out, params), expected in zip(graphs(), EXPECTED):
        dot = viz.make_dot(out, params=params)
        assert isinstance(dot, viz.Digraph)
        assert norm(dot.source) == expected
    monkeypatch.setenv("PATH", "")
    with pytest.raises(viz.GraphvizNotFound, match="dot"):
        dot.render("graph")


def test_make_dot_returns_graphviz_digraph_when_available():
    graphviz = pytest.importorskip("graphviz")
    out, params = graphs()[0]
    assert isinstance(viz.make_dot(out, params=params), graphviz.Digraph)


def test_make_dot_tuple_and_attrs():
    x = nt.ones(2, requires_grad=True)
    a, b = x * 2, x.exp()
    src = viz.make_dot((a, b), show_attrs=True, show_saved=True).source
    assert src.count("darkolivegreen1") == 2 and src.count("lightblue") == 1
    assert "MulBackward0" in src and "ExpBackward0" in src and "result: [saved tensor]" in src
    assert "fillcolor=orange" in src


def test_make_dot_deep_graph_is_iterative():
    x = nt.ones(1, requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0
    src = viz.make_dot(y).source
    assert src.count("MulBackward0") == 3000
    assert nt.viz is viz


def test_quoting_like_graphviz():
    d = viz.Digraph()
    d.node("a b", 'say "hi"', color="red")
    d.edge("1", "node")
    assert d.source == 'digraph {\n\t"a b" [label="say \\"hi\\"" color=red]\n\t1 -> "node"\n}\n'
