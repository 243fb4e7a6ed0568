"""Named tuple results of multi-output ops, printed like ``torch.return_types``.

Like torch's structseqs, each type is a real ``tuple`` subclass with named field properties,
``n_fields`` and ``__match_args__``; it is built from one sequence (``topk((values, indices))``)
and, for convenience, also from positional or keyword fields (``topk(values, indices)``).
``var_mean``/``std_mean`` return plain tuples in torch, so they have no type here.
"""
import operator

_FIELDS = {
    "topk": ("values", "indices"),
    "sort": ("values", "indices"),
    "max": ("values", "indices"),
    "min": ("values", "indices"),
    "kthvalue": ("values", "indices"),
    "median": ("values", "indices"),
    "nanmedian": ("values", "indices"),
    "mode": ("values", "indices"),
    "cummax": ("values", "indices"),
    "cummin": ("values", "indices"),
    "aminmax": ("min", "max"),
    "frexp": ("mantissa", "exponent"),
    "histogram": ("hist", "bin_edges"),
    "slogdet": ("sign", "logabsdet"),
    "linalg_slogdet": ("sign", "logabsdet"),
    "qr": ("Q", "R"),
    "linalg_qr": ("Q", "R"),
    "svd": ("U", "S", "V"),
    "linalg_svd": ("U", "S", "Vh"),
    "linalg_eigh": ("eigenvalues", "eigenvectors"),
    "linalg_eig": ("eigenvalues", "eigenvectors"),
    "linalg_inv_ex": ("inverse", "info"),
    "linalg_cholesky_ex": ("L", "info"),
    "linalg_lu_factor": ("LU", "pivots"),
    "linalg_lu": ("P", "L", "U"),
    "lu_unpack": ("P", "L", "U"),
    "triangular_solve": ("solution", "cloned_coefficient"),
}

__all__ = sorted(_FIELDS)


class _StructSeq(tuple):
    __slots__ = ()
    _fields = ()
    n_fields = n_sequence_fields = 0
    n_unnamed_fields = 0

    def __new__(cls, *args, **kwargs):
        n, qual = cls.n_fields, f"torch.return_types.{cls.__name__}"
        if kwargs:
            if args or set(kwargs) != set(cls._fields):
                raise TypeError(f"{qual}() takes fields {cls._fields}")
            seq = tuple(kwargs[f] for f in cls._fields)
        elif len(args) == 1:
            try:
                seq = tuple(args[0])
            except TypeError:
                raise TypeError("constructor requires a sequence") from None
        elif len(args) == n:
            seq = args
        else:
            raise TypeError(f"{qual}() takes a {n}-sequence ({len(args)}-sequence given)")
        if len(seq) != n:
            raise TypeError(f"{qual}() takes a {n}-sequence ({len(seq)}-sequence given)")
        return tuple.__new__(cls, seq)

    def __repr__(self):
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(self._fields, self))
        return f"torch.return_types.{type(self).__name__}(\n{body})"

    __str__ = __repr__

    def __reduce__(self):
        return (type(self), (tuple(self),))


def _make(name, fields):
    ns = {"__slots__": (), "_fields": fields, "__match_args__": fields,
          "n_fields": len(fields), "n_sequence_fields": len(fields),
          "__module__": __name__, "__qualname__": name}
    for i, f in enumerate(fields):
        ns[f] = property(operator.itemgetter(i), doc=f"Alias for field number {i}")
    return type(name, (_StructSeq,), ns)


for _name, _fields in _FIELDS.items():
    globals()[_name] = _make(_name, _fields)
del _name, _fields
