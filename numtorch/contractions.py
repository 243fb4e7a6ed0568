"""Contractions: tensordot, inner and einsum, built on the products of linalg_ops.py (which re-exports them).

tensordot permutes and reshapes both operands into one mm; einsum takes diagonals for repeated labels, sums
out labels used once, and contracts operands pairwise with bmm (or a broadcast multiply). Everything runs
through numtorch ops, so autograd (and double backward) comes for free. mm/bmm are called as Tensor methods
(bound from linalg_ops), so this module imports nothing from linalg_ops at load time: no import cycle.
(Not named einsum.py: importing a submodule ``numtorch.einsum`` would shadow the function torch.einsum.)"""
from .shape import numel
from .tensor import Tensor


def _out(res, out, fname):
    if out is None:
        return res
    from .linalg_ops import _out as to_out  # linalg_ops imports this module: import on use
    return to_out(res, out, fname)


def tensordot(a, b, dims=2, out=None):
    """Contract ``dims`` (an int, or two lists of dims) of a and b: permute, reshape, one mm."""
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(da) != len(db):
        raise RuntimeError(f"both dimension lists should have same length")
    if a.dtype is not b.dtype:
        raise RuntimeError("both inputs should have same dtype")
    da, db = [d % max(a.ndim, 1) for d in da], [d % max(b.ndim, 1) for d in db]
    for x, y in zip(da, db):
        if a._shape[x] != b._shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a._shape[x]} in dim {x} "
                               f"and second has size {b._shape[y]} in dim {y}")
    fa = [d for d in range(a.ndim) if d not in da]
    fb = [d for d in range(b.ndim) if d not in db]
    k = numel([a._shape[d] for d in da])
    am = a.permute(fa + da).reshape(numel([a._shape[d] for d in fa]), k)
    bm = b.permute(db + fb).reshape(k, numel([b._shape[d] for d in fb]))
    return _out(am.mm(bm).reshape([a._shape[d] for d in fa] + [b._shape[d] for d in fb]), out, "tensordot")


def inner(input, other, *, out=None):
    """Sum-product over the last dims of input and other (a product when either is 0-d)."""
    if input.ndim == 0 or other.ndim == 0:
        return _out(input * other, out, "inner")
    if input._shape[-1] != other._shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input._shape)} and {list(other._shape)}")
    return _out(tensordot(input, other, ([-1], [-1])), out, "inner")


# -- einsum -----------------------------------------------------------------------------------------
# Labels are letters; ellipsis dims get labels (0, 1, ...) counted from the right so they broadcast.

def _parse_term(term, t, i):
    if "..." in term:
        pre, post = term.split("...", 1)
        ne = t.ndim - len(pre) - len(post)
        if ne < 0 or "." in pre + post:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(pre) + len(post)}) is more "
                               f"than the number of dimensions ({t.ndim}) for operand {i}")
        return list(pre) + [ne - 1 - j for j in range(ne)] + list(post)
    if len(term) != t.ndim:
        raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(term)}) does not match the "
                           f"number of dimensions ({t.ndim}) for operand {i} and no ellipsis was given")
    for c in term:
        if not c.isalpha():
            raise RuntimeError(f"einsum(): invalid subscript given at index {term.index(c)} in the equation string, "
                               "subscripts must be in [a-zA-Z]")
    return list(term)


def _diagonals(t, labels):
    """Take the diagonal for each label repeated within one operand."""
    while len(set(labels)) != len(labels):
        a = next(k for k, l in enumerate(labels) if labels.index(l) != k)
        f = labels.index(labels[a])
        t = t.diagonal(0, f, a)
        labels = [l for k, l in enumerate(labels) if k not in (f, a)] + [labels[a]]
    return t, labels


def _sum_out(t, labels, keep):
    dims = [k for k, l in enumerate(labels) if l not in keep]
    if not dims:
        return t, labels
    return t.sum(dims), [l for l in labels if l in keep]


def _contract(a, la, b, lb, keep):
    """Product of two labelled operands summed over shared labels not in ``keep``."""
    a, la = _sum_out(a, la, set(lb) | keep)
    b, lb = _sum_out(b, lb, set(la) | keep)
    shared = [l for l in la if l in lb]
    for l in [l for l in shared if l not in keep]:    # a size-1 contracted dim broadcasts: sum the other side
        sa, sb = a._shape[la.index(l)], b._shape[lb.index(l)]
        if sa != sb:
            big, lbig, small, lsmall = (a, la, b, lb) if sa > sb else (b, lb, a, la)
            big, small = big.sum(lbig.index(l)), small.squeeze(lsmall.index(l))
            lbig, lsmall = [x for x in lbig if x != l], [x for x in lsmall if x != l]
            (a, la, b, lb) = (big, lbig, small, lsmall) if sa > sb else (small, lsmall, big, lbig)
    batch = [l for l in la if l in lb and l in keep]
    contr = [l for l in la if l in lb and l not in keep]
    left, right = [l for l in la if l not in lb], [l for l in lb if l not in la]
    size = {l: max(a._shape[la.index(l)], b._shape[lb.index(l)]) for l in batch}
    size.update({l: a._shape[la.index(l)] for l in left + contr})
    size.update({l: b._shape[lb.index(l)] for l in right})
    bs, ls, rs, cs = ([size[l] for l in g] for g in (batch, left, right, contr))
    a = a.permute([la.index(l) for l in batch + left + contr]).expand(bs + ls + cs)
    b = b.permute([lb.index(l) for l in batch + contr + right]).expand(bs + cs + rs)
    if not contr:
        r = a.reshape(bs + ls + [1] * len(rs)) * b.reshape(bs + [1] * len(ls) + rs)
    else:
        r = a.reshape(numel(bs), numel(ls), numel(cs)).bmm(b.reshape(numel(bs), numel(cs), numel(rs)))
        r = r.reshape(bs + ls + rs)
    return r, batch + left + right


def einsum(equation, *operands):
    """Einstein summation via diagonal/sum/permute/bmm/mul of numtorch ops (autograd for free)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) > len(operands):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    labels = [_parse_term(term, t, i) for i, (term, t) in enumerate(zip(terms, operands))]
    sizes = {}
    for i, (ls, t) in enumerate(zip(labels, operands)):
        for l, n in zip(ls, t._shape):
            m = t._shape[ls.index(l)]
            if m != n:
                raise RuntimeError(f"einsum(): subscript {l} is repeated for operand {i} but the sizes don't match, "
                                   f"{n} != {m}")
            seen = sizes.get(l, 1)
            if n != seen and n != 1 and seen != 1:
                raise RuntimeError(f"einsum(): subscript {l} has size {n} for operand {i} which does not broadcast "
                                   f"with previously seen size {seen}")
            sizes[l] = max(n, seen) if n != 0 and seen != 0 else 0
    n_ell = max([l + 1 for ls in labels for l in ls if isinstance(l, int)], default=0)
    if arrow:
        pre, ell, post = rhs.partition("...")
        out = list(pre) + (list(range(n_ell - 1, -1, -1)) if ell else []) + list(post)
        for l in out:
            if out.count(l) > 1:
                raise RuntimeError(f"einsum(): output subscript {l} appears more than once in the output")
            if not isinstance(l, int) and l not in sizes:
                raise RuntimeError(f"einsum(): output subscript {l} does not appear in the equation for any input "
                                   "operand")
    else:
        flat = [l for ls in labels for l in ls if not isinstance(l, int)]
        out = list(range(n_ell - 1, -1, -1)) + sorted(l for l in set(flat) if flat.count(l) == 1)
    ops = [_diagonals(t, ls) for t, ls in zip(operands, labels)]
    cur, lc = ops[0]
    rest = [set(ls) for _, ls in ops[1:]]
    for j, (t, ls) in enumerate(ops[1:]):
        keep = set(out).union(*rest[j + 1:])
        cur, lc = _contract(cur, lc, t, ls, keep)
    n_before = cur.ndim
    cur, lc = _sum_out(cur, lc, set(out))
    order = [lc.index(l) for l in out]
    if order == sorted(order) and (len(ops) > 1 or cur.ndim < n_before):
        return cur      # PyTorch skips an identity permute after a contraction or a sum
    return cur.permute(order)
