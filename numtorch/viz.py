"""``make_dot``: torchviz's picture of an autograd graph (grad_fn nodes in grey, leaves that require grad
in lightblue with their shape and parameter name, saved tensors of custom Functions in orange, outputs in
darkolivegreen1, the base of a viewed output in darkolivegreen3).

Returns a ``graphviz.Digraph`` when the ``graphviz`` package is importable; otherwise a small stand-in
with the same ``source``/``body``/``graph_attr`` and a ``render()`` that runs Graphviz's ``dot`` program
(raising an error that names it when it is not installed). The graph walk is iterative, so very deep
graphs do not hit Python's recursion limit."""
import os
import re
import shutil
import subprocess

__all__ = ["make_dot", "Digraph", "GraphvizNotFound"]

_NODE_ATTR = dict(style="filled", shape="box", align="left", fontsize="10", ranksep="0.1", height="0.2",
                  fontname="monospace")
_ID = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*|-?(\.[0-9]+|[0-9]+(\.[0-9]*)?))$")
_HTML = re.compile(r"<.*>$", re.DOTALL)
_KEYWORDS = {"node", "edge", "graph", "digraph", "subgraph", "strict"}
_UNESCAPED_QUOTE = re.compile(r'(?P<bs>(?:\\{2})*)\\?(?P<q>")')


class GraphvizNotFound(RuntimeError):
    """Raised by the stand-in Digraph when Graphviz's ``dot`` executable is not on PATH."""


def _quote(s):
    s = str(s)
    if _HTML.match(s):
        return s
    if not _ID.match(s) or s.lower() in _KEYWORDS:
        return '"' + _UNESCAPED_QUOTE.sub(r'\g<bs>\\\g<q>', s) + '"'
    return s


def _attr_list(label=None, attrs=None):
    items = [f"label={_quote(label)}"] if label is not None else []
    if attrs:
        items += [f"{_quote(k)}={_quote(v)}" for k, v in sorted(attrs.items()) if v is not None]
    return f" [{' '.join(items)}]" if items else ""


class Digraph:
    """The subset of ``graphviz.Digraph`` that make_dot uses, producing the same DOT text."""

    def __init__(self, name=None, comment=None, node_attr=None, graph_attr=None, edge_attr=None, format=None):
        self.name, self.comment, self.format = name, comment, format or "pdf"
        self.node_attr = dict(node_attr or {})
        self.graph_attr = dict(graph_attr or {})
        self.edge_attr = dict(edge_attr or {})
        self.body = []

    def node(self, name, label=None, _attributes=None, **attrs):
        self.body.append(f"\t{_quote(name)}{_attr_list(label, attrs)}\n")

    def edge(self, tail_name, head_name, label=None, _attributes=None, **attrs):
        self.body.append(f"\t{_quote(tail_name)} -> {_quote(head_name)}{_attr_list(label, attrs)}\n")

    def attr(self, kw=None, **attrs):
        target = {"graph": self.graph_attr, "node": self.node_attr, "edge": self.edge_attr}.get(kw)
        if target is None:
            self.body.append(f"\t{_attr_list(None, attrs).strip()}\n")
        else:
            target.update(attrs)

    def __iter__(self):
        if self.comment:
            yield f"// {self.comment}\n"
        yield f"digraph {_quote(self.name) + ' ' if self.name else ''}{{\n"
        for kw, attrs in (("graph", self.graph_attr), ("node", self.node_attr), ("edge", self.edge_attr)):
            if attrs:
                yield f"\t{kw}{_attr_list(None, attrs)}\n"
        yield from self.body
        yield "}\n"

    @property
    def source(self):
        return "".join(self)

    def __str__(self):
        return self.source

    def save(self, filename=None, directory=None):
        path = os.path.join(directory or "", filename or (self.name or "Digraph") + ".gv")
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.source)
        return path

    def pipe(self, format=None, encoding=None):
        out = subprocess.run([_dot(), "-T" + (format or self.format)], input=self.source.encode(),
                             capture_output=True, check=True).stdout
        return out.decode(encoding) if encoding else out

    def render(self, filename=None, directory=None, view=False, cleanup=False, format=None, **kwargs):
        dot = _dot()
        path = self.save(filename, directory)
        fmt = format or self.format
        subprocess.run([dot, "-T" + fmt, "-O", path], check=True, capture_output=True)
        if cleanup:
            os.remove(path)
        return f"{path}.{fmt}"


def _dot():
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizNotFound("failed to execute 'dot', make sure the Graphviz executables are on your "
                               "systems' PATH (install Graphviz, e.g. `apt-get install graphviz`, to render; "
                               "the DOT text is available as `.source`)")
    return exe


def _new_digraph(**kw):
    try:
        import graphviz
    except ImportError:
        return Digraph(**kw)
    return graphviz.Digraph(**kw)


def _is_tensor(x):
    return hasattr(x, "_vc") and hasattr(x, "grad_fn")


def _saved_entries(fn):
    """(name, tensor) of what a built-in node saved: inputs as self/other, outputs as result."""
    saved = getattr(fn, "_saved", None) or ()
    out, n_in = [], 0
    for t, version, nr, is_output in saved:
        if not _is_tensor(t):
            continue
        if is_output:
            out.append(("result" if nr == 0 else f"result{nr}", t))
        else:
            out.append(("self" if n_in == 0 else "other" if n_in == 1 else f"input{n_in}", t))
            n_in += 1
    return out


def _fn_name(fn, show_attrs, max_attr_chars):
    name = type(fn).__name__
    if not show_attrs:
        return name
    attrs = {k: "[saved tensor]" for k, _ in _saved_entries(fn)}
    ctx = getattr(fn, "ctx", None)
    if isinstance(ctx, (int, float, bool, str)) or (isinstance(ctx, tuple) and all(
            isinstance(c, (int, float, bool, str, type(None))) for c in ctx)):
        attrs["ctx"] = str(ctx)
    if not attrs:
        return name
    max_attr_chars = max(max_attr_chars, 3)
    w1 = max(len(k) for k in attrs)
    w2 = min(max(len(str(v)) for v in attrs.values()), max_attr_chars)
    sep = "-" * max(w1 + w2 + 2, len(name))
    fmt = "%-" + str(w1) + "s: %" + str(w2) + "s"

    def trunc(s):
        return s[:w2 - 3] + "..." if len(s) > w2 else s
    return name + "\n" + sep + "\n" + "\n".join(fmt % (k, trunc(str(v))) for k, v in attrs.items())


def make_dot(var, params=None, show_attrs=False, show_saved=False, max_attr_chars=50):
    """Graphviz picture of the graph that produced ``var`` (a tensor or a tuple of tensors).

    ``params``: dict name -> tensor, used to label leaves; ``show_attrs``: list what each node saved;
    ``show_saved``: also draw the tensors saved by built-in nodes."""
    if params is not None:
        assert all(_is_tensor(p) for p in params.values())
        param_map = {id(v): k for k, v in params.items()}
    else:
        param_map = {}
    dot = _new_digraph(node_attr=dict(_NODE_ATTR), graph_attr=dict(size="12,12"))
    seen = set()
    keep = []           # objects whose id() names a node stay alive while drawing

    def sid(obj):
        keep.append(obj)
        return str(id(obj))

    def size_to_str(size):
        return "(" + ", ".join("%d" % v for v in size) + ")"

    def var_name(v, name=None):
        if not name:
            name = param_map.get(id(v), "")
        return "%s\n %s" % (name, size_to_str(v.size()))

    def visit(fn):
        """Emit one node like torchviz's recursive add_nodes; yields each input node to visit next."""
        seen.add(id(fn))
        keep.append(fn)
        if show_saved:
            for attr, t in _saved_entries(fn):
                seen.add(id(t))
                dot.edge(sid(fn), sid(t), dir="none")
                dot.node(sid(t), var_name(t, attr), fillcolor="orange")
        v = getattr(fn, "variable", None)
        if v is not None:
            seen.add(id(v))
            dot.node(sid(v), var_name(v), fillcolor="lightblue")
            dot.edge(sid(v), sid(fn))
        dot.node(sid(fn), _fn_name(fn, show_attrs, max_attr_chars))
        for u, _ in fn.next_functions:
            if u is not None:
                dot.edge(sid(u), sid(fn))
                yield u
        if hasattr(type(fn), "_forward_cls") and fn._saved:       # custom Function: its saved tensors
            for t in fn.saved_tensors:
                if _is_tensor(t):
                    seen.add(id(t))
                    dot.edge(sid(t), sid(fn), dir="none")
                    dot.node(sid(t), var_name(t), fillcolor="orange")

    def add_nodes(root):
        if id(root) in seen:
            return
        stack = [visit(root)]
        while stack:
            try:
                u = next(stack[-1])
            except StopIteration:
                stack.pop()
                continue
            if id(u) not in seen:
                stack.append(visit(u))

    def add_base_tensor(v, color="darkolivegreen1"):
        if id(v) in seen:
            return
        seen.add(id(v))
        dot.node(sid(v), var_name(v), fillcolor=color)
        if v.grad_fn is not None:
            add_nodes(v.grad_fn)
            dot.edge(sid(v.grad_fn), sid(v))
        if getattr(v, "_base", None) is not None:
            add_base_tensor(v._base, color="darkolivegreen3")
            dot.edge(sid(v._base), sid(v), style="dotted")

    for v in (var if isinstance(var, tuple) else (var,)):
        add_base_tensor(v)
    size = max(12, len(dot.body) * 0.15)
    dot.graph_attr.update(size=str(size) + "," + str(size))
    return dot
