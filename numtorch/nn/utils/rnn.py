"""Packed sequences: ``PackedSequence`` and the pad/pack/unpack helpers of ``torch.nn.utils.rnn``.

Packed data is time-major: the rows of step ``t`` are the first ``batch_sizes[t]`` sequences (sorted by
decreasing length). Packing and unpacking are row gathers (one index per row), each the other's backward."""
from collections import namedtuple

import numpy as np

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "pack_sequence", "unpack_sequence"]


def _nt():
    import numtorch
    return numtorch


def _rows(bs):
    """Flat (t * B + b) row of every packed element, in packed order."""
    bs = np.asarray(bs, dtype=np.int64)
    B = int(bs[0]) if bs.size else 0
    return np.concatenate([t * B + np.arange(n, dtype=np.int64) for t, n in enumerate(bs)]) if bs.size else \
        np.zeros(0, np.int64)


def _gather_rows(src, index, n_rows, fill):
    """rows of src (N, *rest) picked by index (-1: ``fill``) -> (n_rows, *rest); no autograd."""
    nt = _nt()
    rest = tuple(src.shape[1:])
    ext = nt.cat([src.detach(), nt.full((1,) + rest, fill, dtype=src.dtype, device=src.device)])
    idx = np.where(index < 0, src.shape[0], index)
    return ext.index_select(0, nt.tensor(idx, dtype=nt.int64, device=src.device))


def _packed_to_padded(data, bs, fill=0.0):
    """Packed rows (N, *rest) -> padded time-major (T, B, *rest); differentiable."""
    nt = _nt()
    from ...autograd.graph import record, needs_grad
    bs = np.asarray(bs, dtype=np.int64)
    T, B = len(bs), int(bs[0])
    rows = _rows(bs)
    inv = np.full(T * B, -1, np.int64)
    inv[rows] = np.arange(rows.size)
    with nt.no_grad():
        out = _gather_rows(data, inv, T * B, fill).reshape((T, B) + tuple(data.shape[1:]))
    if needs_grad(data):
        record("PadPackedSequenceBackward0", out, (data,),
               lambda node, g: (_padded_to_packed(g, bs),))
    return out


def _padded_to_packed(x, bs):
    """Padded time-major (T, B, *rest) -> packed rows (N, *rest); differentiable."""
    nt = _nt()
    from ...autograd.graph import record, needs_grad
    bs = np.asarray(bs, dtype=np.int64)
    T, B = x.shape[0], x.shape[1]
    rest = tuple(x.shape[2:])
    rows = _rows(bs)
    with nt.no_grad():
        flat = x.detach().reshape((T * B,) + rest)
        out = flat.index_select(0, nt.tensor(rows, dtype=nt.int64, device=x.device))
    if needs_grad(x):
        def bw(node, g):
            p = _packed_to_padded(g, bs)
            if p.shape[0] < T:      # total_length > longest sequence
                p = nt.cat([p, nt.zeros((T - p.shape[0],) + tuple(p.shape[1:]), dtype=p.dtype, device=p.device)])
            return (p,)
        record("PackPaddedSequenceBackward0", out, (x,), bw)
    return out


def invert_permutation(permutation):
    if permutation is None:
        return None
    nt = _nt()
    output = nt.empty_like(permutation)
    output.scatter_(0, permutation, nt.arange(0, permutation.numel(), device=permutation.device))
    return output


_PackedSequenceBase = namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


class PackedSequence(_PackedSequenceBase):
    """Holds the data and list of ``batch_sizes`` of a packed sequence (PyTorch's namedtuple layout)."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is not None:
            if batch_sizes.device.type != "cpu":
                raise ValueError("batch_sizes should always be on CPU. Instances of PackedSequence should never be "
                                 "created manually. They should be instantiated by functions like pack_sequence "
                                 "and pack_padded_sequences in nn.utils.rnn. "
                                 "https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence")
            return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)
        data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def _map(self, fn):
        data = fn(self.data)
        if data is self.data:
            return self
        dev = data.device
        si = self.sorted_indices.to(dev) if self.sorted_indices is not None else None
        ui = self.unsorted_indices.to(dev) if self.unsorted_indices is not None else None
        return type(self)(data, self.batch_sizes, si, ui)

    def to(self, *args, **kwargs):
        return self._map(lambda d: d.to(*args, **kwargs))

    def cuda(self, *args, **kwargs):
        return self._map(lambda d: d.cuda(*args, **kwargs))

    def cpu(self, *args, **kwargs):
        return self._map(lambda d: d.cpu(*args, **kwargs))

    def double(self):
        return self.to(dtype=_nt().float64)

    def float(self):
        return self.to(dtype=_nt().float32)

    def half(self):
        return self.to(dtype=_nt().float16)

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def is_pinned(self):
        return False


def _lengths_np(lengths):
    nt = _nt()
    if isinstance(lengths, nt.Tensor):
        return np.asarray(lengths.cpu().numpy() if not lengths.requires_grad else lengths.detach().cpu().numpy(),
                          dtype=np.int64).reshape(-1)
    return np.asarray(lengths, dtype=np.int64).reshape(-1)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Packs a padded batch of variable-length sequences."""
    nt = _nt()
    ln = _lengths_np(lengths)
    if enforce_sorted:
        if ln.size > 1 and np.any(ln[:-1] < ln[1:]):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                               "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence "
                               "to sidestep this requirement if you do not need ONNX exportability.")
        sorted_indices = None
    else:
        order = np.argsort(-ln, kind="stable")
        ln = ln[order]
        sorted_indices = nt.tensor(order, dtype=nt.int64, device=input.device)
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    if batch_first:
        input = input.transpose(0, 1)
    B = input.shape[1]
    if ln.size != B:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {ln.size} "
                           f"(batch_size={B})")
    if ln.size and ln.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' that "
                           "is <= 0")
    if ln.size and ln.max() > input.shape[0]:
        raise RuntimeError(f"Expected sequence length to be at most {input.shape[0]}, but got {int(ln.max())}")
    T = int(ln[0]) if ln.size else 0
    bs = np.array([(ln > t).sum() for t in range(T)], dtype=np.int64)
    data = _padded_to_packed(input[:T] if T != input.shape[0] else input, bs)
    return PackedSequence(data, nt.tensor(bs, dtype=nt.int64, device="cpu"), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Inverse of pack_padded_sequence: (padded, lengths)."""
    nt = _nt()
    bs = _lengths_np(sequence.batch_sizes)
    T = bs.size
    if total_length is not None:
        if total_length < T:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {T}")
    out = _packed_to_padded(sequence.data, bs, padding_value)
    if total_length is not None and total_length > T:
        pad = nt.full((total_length - T,) + tuple(out.shape[1:]), padding_value, dtype=out.dtype,
                      device=out.device)
        out = nt.cat([out, pad])
    B = int(bs[0])
    lengths = np.array([(bs > b).sum() for b in range(B)], dtype=np.int64)
    ui = sequence.unsorted_indices
    if batch_first:
        out = out.transpose(0, 1)
    if ui is not None:
        out = out.index_select(0 if batch_first else 1, ui)
        lengths = lengths[_lengths_np(ui)]
    return out, nt.tensor(lengths, dtype=nt.int64, device="cpu")


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stacks variable-length tensors (L_i, *) into (T, B, *) or (B, T, *), padding with ``padding_value``."""
    nt = _nt()
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if isinstance(sequences, nt.Tensor):
        sequences = sequences.unbind(0)
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    T = max(s.shape[0] for s in sequences)
    rest = tuple(sequences[0].shape[1:])
    rows = []
    for s in sequences:
        n = T - s.shape[0]
        if n:
            pad = nt.full((n,) + rest, padding_value, dtype=s.dtype, device=s.device)
            s = nt.cat([s, pad] if padding_side == "right" else [pad, s])
        rows.append(s)
    return nt.stack(rows, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Splits a padded batch back into a list of variable-length tensors."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    ln = _lengths_np(lengths)
    return [padded_sequences[i][:int(n)] for i, n in enumerate(ln)]


def pack_sequence(sequences, enforce_sorted=True):
    """Packs a list of variable-length tensors."""
    lengths = [s.size(0) for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """Unpacks a PackedSequence into a list of variable-length tensors."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
