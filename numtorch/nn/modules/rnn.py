"""Recurrent layers: RNN, LSTM, GRU (one fused autograd node per layer and direction) and their cells."""
import math
import numbers
import warnings

import numpy as np

from ...tensor import Tensor
from ...autograd.graph import record, needs_grad
from ...autograd.grad_mode import no_grad
from ..parameter import Parameter
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_MODES = {"RNN_TANH": 0, "RNN_RELU": 1, "LSTM": 2, "GRU": 3}


def _nt():
    import numtorch
    return numtorch


def _buf(t):
    """The flat contiguous buffer of a tensor's elements (no copy when already contiguous)."""
    t = t.detach().contiguous()
    return t._storage.data[t._offset:t._offset + t.numel()]


def _wrap(buf, shape, like):
    return Tensor._from_buffer(buf, shape, like.dtype, like.device)


def _layer(mode, x, w_ih, w_hh, b_ih, b_hh, w_hr, h0, c0, bs, reverse):
    """One layer, one direction over x (T, B, I): returns (Y (T, B, P), h_n (B, P), c_n (B, H) or None),
    recorded as one autograd node whose backward runs the fused gate-gradient kernels."""
    from ...kernels import rnn as K
    nt = _nt()
    if x.dtype == nt.float16:
        # float16 is storage only on the CPU: run in float32 (the casts carry the gradients back)
        f = lambda t: None if t is None else t.to(nt.float32)  # noqa: E731
        Y, h, c = _layer(mode, f(x), f(w_ih), f(w_hh), f(b_ih), f(b_hh), f(w_hr), f(h0), f(c0), bs, reverse)
        return Y.to(nt.float16), h.to(nt.float16), None if c is None else c.to(nt.float16)
    T, B, I = x._shape
    G, P = w_hh._shape
    H = G // K.NGATES[mode]
    proj = w_hr is not None
    with no_grad():
        xb = x.transpose(0, 1)
        if B > 1 and T > 1 and xb.is_contiguous():
            # a batch-first input: project it in its own (B, T) row order instead of copying it to (T, B)
            xg = nt.matmul(xb.reshape(B * T, I), w_ih.t())
            xst, xsb = G, T * G
        else:
            xg = nt.matmul(x.reshape(T * B, I), w_ih.t())
            xst, xsb = B * G, G
        # the input bias is added inside the step kernel (in the same order as (x W^T + b) + h W^T)
        bx = None if b_ih is None else _buf(b_ih if mode == 3 else b_ih + b_hh)
        bhh = _buf(b_hh) if (mode == 3 and b_hh is not None) else None
        hs, cs, gs, rs = K.rnn_forward(mode, _buf(xg), _buf(w_hh.t()), bhh, _buf(h0),
                                       _buf(c0) if mode == 2 else None, _buf(w_hr.t()) if proj else None,
                                       bs, T, B, H, P, reverse, bx, xst, xsb)
    last = 0 if reverse else T - 1
    inputs = (x, w_ih, w_hh, b_ih, b_hh, h0, c0 if mode == 2 else None, w_hr)
    grad = needs_grad(*inputs)
    with no_grad():
        # with a backward the output gets its own storage: the backward reads hs, which in-place ops on the
        # output must not touch
        Y = _wrap(hs, (T, B, P), x)
        if grad:
            Y = Y.clone()
        hn = Y[last].clone()
        cn = _wrap(cs, (T, B, H), x)[last].clone() if mode == 2 else None
    if not grad:
        return Y, hn, cn
    xd, wih, whh, hd = x.detach(), w_ih.detach(), w_hh.detach(), h0.detach()
    c0d = c0.detach() if mode == 2 else None
    whr = w_hr.detach() if proj else None

    def backward(node, gY, ghn, gcn=None):
        node.saved_tensors      # raises if an input or the output was modified in place since the forward
        needs = node.needs
        if nt.is_grad_enabled():
            # double backward: differentiate the composite recurrence on the original inputs
            outs = _layer_composite(mode, *inputs, bs, reverse)
            pairs = [(o, g) for o, g in zip(outs, (gY, ghn, gcn)) if o is not None and g is not None]
            want = [t for t in inputs if t is not None and t.requires_grad]
            got = iter(nt.autograd.grad([o for o, _ in pairs], want, [g for _, g in pairs], create_graph=True,
                                        allow_unused=True))
            return tuple(next(got) if (t is not None and t.requires_grad) else None for t in inputs)
        with no_grad():
            gy = _buf(gY) if gY is not None else _zeros_buf(T * B * P, xd)
            # rnn_backward copies the final states' gradients before updating them
            gh = _buf(ghn) if ghn is not None else _zeros_buf(B * P, xd)
            gc = (_buf(gcn) if gcn is not None else _zeros_buf(B * H, xd)) if mode == 2 else None
            dxg, dhg, dh0, dc0, dht = K.rnn_backward(
                mode, gy, gh, gc, _buf(whh), _buf(whr) if proj else None, hs, cs, gs, rs, _buf(hd),
                _buf(c0d) if mode == 2 else None, bs, T, B, H, P, reverse)
            DX = _wrap(dxg, (T * B, G), xd)
            DH = DX if dhg is dxg else _wrap(dhg, (T * B, G), xd)
            dx = nt.matmul(DX, wih).reshape(T, B, I) if needs[0] else None
            dwih = nt.matmul(DX.t(), xd.reshape(T * B, I)) if needs[1] else None
            dwhh = None
            if needs[2]:
                Ys = _wrap(hs, (T, B, P), xd)
                hprev = (nt.cat([Ys[1:], hd.unsqueeze(0)]) if reverse else nt.cat([hd.unsqueeze(0), Ys[:-1]]))
                dwhh = nt.matmul(DH.t(), hprev.reshape(T * B, P))
            dbih = DX.sum(0) if needs[3] else None
            dbhh = None
            if needs[4]:
                dbhh = dbih.clone() if (DH is DX and dbih is not None) else DH.sum(0)
            dwhr = None
            if proj and needs[7]:
                dwhr = nt.matmul(_wrap(dht, (T * B, P), xd).t(), _wrap(rs, (T * B, H), xd))
            dh0t = _wrap(dh0, (B, P), xd) if needs[5] else None
            dc0t = _wrap(dc0, (B, H), xd) if mode == 2 and needs[6] else None
        return dx, dwih, dwhh, dbih, dbhh, dh0t, dc0t, dwhr

    # PyTorch's CPU grad_fn of a layer's output: the oneDNN LSTM node for float32 without projection, else the
    # StackBackward0 of its per-step outputs
    name = "MkldnnRnnLayerBackward0" if (mode == 2 and not proj and x.dtype.itemsize == 4) else "StackBackward0"
    outs = (Y, hn, cn) if mode == 2 else (Y, hn)
    record(name, outs, inputs, backward, save=inputs)
    return Y, hn, cn


def _layer_composite(mode, x, w_ih, w_hh, b_ih, b_hh, h0, c0, w_hr, bs, reverse):
    """The same recurrence as differentiable tensor ops (used for double backward)."""
    nt = _nt()
    T, B = x.shape[0], x.shape[1]
    G = w_hh.shape[0]
    H = G // (4 if mode == 2 else (3 if mode == 3 else 1))
    h, c = h0, c0
    ys = [None] * T
    for s in range(T):
        t = T - 1 - s if reverse else s
        gi = x[t].matmul(w_ih.t())
        gh = h.matmul(w_hh.t())
        if b_ih is not None:
            gi = gi + b_ih
            gh = gh + b_hh
        if mode <= 1:
            hn = (gi + gh).tanh() if mode == 0 else (gi + gh).relu()
        elif mode == 2:
            i, f, g, o = (gi + gh).chunk(4, 1)
            cn = f.sigmoid() * c + i.sigmoid() * g.tanh()
            hn = o.sigmoid() * cn.tanh()
            if w_hr is not None:
                hn = hn.matmul(w_hr.t())
        else:
            r = (gi[:, :H] + gh[:, :H]).sigmoid()
            z = (gi[:, H:2 * H] + gh[:, H:2 * H]).sigmoid()
            n = (gi[:, 2 * H:] + r * gh[:, 2 * H:]).tanh()
            hn = (1 - z) * n + z * h
        nb = int(bs[t])
        if nb < B:
            keep = nt.tensor((np.arange(B) < nb).astype(np.float64), dtype=x.dtype, device=x.device).unsqueeze(1)
            hn = keep * hn + (1 - keep) * h
            if mode == 2:
                cn = keep * cn + (1 - keep) * c
        h = hn
        if mode == 2:
            c = cn
        ys[t] = h
    return nt.stack(ys), h, c


def _zeros_buf(n, like):
    return _buf(_nt().zeros(n, dtype=like.dtype, device=like.device))


def _dropout(x, p, training):
    try:
        from ..functional import dropout
        return dropout(x, p, training)
    except ImportError:
        nt = _nt()
        mask = (nt.rand(x.shape, dtype=x.dtype, device=x.device) >= p).to(x.dtype) / (1 - p)
        return x * mask


def _permute(hx, perm):
    return hx if perm is None else hx.index_select(1, perm)


class RNNBase(Module):
    """Shared parameters, checks and the layer/direction loop of RNN, LSTM and GRU."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}", stacklevel=2)
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(f"batch_first should be of type bool, got: {type(batch_first).__name__}")
        if not isinstance(input_size, int):
            raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _MODES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        gate_size = {"LSTM": 4, "GRU": 3}.get(mode, 1) * hidden_size
        nt = _nt()
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                real_hidden = proj_size if proj_size > 0 else hidden_size
                layer_input = input_size if layer == 0 else real_hidden * num_directions
                kw = dict(device=device, dtype=dtype)
                params = [Parameter(nt.empty((gate_size, layer_input), **kw)),
                          Parameter(nt.empty((gate_size, real_hidden), **kw))]
                names = ["weight_ih_l{}{}", "weight_hh_l{}{}"]
                if bias:
                    params += [Parameter(nt.empty(gate_size, **kw)), Parameter(nt.empty(gate_size, **kw))]
                    names += ["bias_ih_l{}{}", "bias_hh_l{}{}"]
                if proj_size > 0:
                    params.append(Parameter(nt.empty((proj_size, hidden_size), **kw)))
                    names.append("weight_hr_l{}{}")
                suffix = "_reverse" if direction == 1 else ""
                names = [n.format(layer, suffix) for n in names]
                for n, p in zip(names, params):
                    setattr(self, n, p)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def flatten_parameters(self):
        """No-op: weights are used as they are (PyTorch packs them for cuDNN)."""

    def reset_parameters(self):
        nt = _nt()
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        with nt.no_grad():
            for w in self.parameters():
                w.uniform_(-stdv, stdv)

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    # -- checks ------------------------------------------------------------------------------------------
    def check_input(self, input, batch_sizes):
        w = self._flat_weights[0]
        if input.dtype != w.dtype:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype ({w.dtype}). Convert "
                             f"input: input.to({w.dtype}), or convert model: model.to({input.dtype})")
        expected = 2 if batch_sizes is not None else 3
        if input.dim() != expected:
            raise RuntimeError(f"input must have {expected} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {input.size(-1)}")

    def get_expected_hidden_size(self, input, batch_sizes):
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        nd = 2 if self.bidirectional else 1
        return (self.num_layers * nd, mini_batch, self.proj_size if self.proj_size > 0 else self.hidden_size)

    def get_expected_cell_size(self, input, batch_sizes):
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        nd = 2 if self.bidirectional else 1
        return (self.num_layers * nd, mini_batch, self.hidden_size)

    def check_hidden_size(self, hx, expected, msg="Expected hidden size {}, got {}"):
        if tuple(hx.size()) != tuple(expected):
            raise RuntimeError(msg.format(tuple(expected), list(hx.size())))

    # -- forward -----------------------------------------------------------------------------------------
    def _forward(self, input, hx, cx):
        """Shared body: input/hx/cx already checked; returns (output, h_n, c_n)."""
        from ..utils.rnn import PackedSequence, _packed_to_padded, _padded_to_packed
        mode = _MODES[self.mode]
        packed = isinstance(input, PackedSequence)
        if packed:
            data, batch_sizes = input.data, input.batch_sizes
            bs = np.ascontiguousarray(batch_sizes.cpu().numpy(), dtype=np.int64)
            x = _packed_to_padded(data, bs)
        else:
            x = input.transpose(0, 1) if self.batch_first else input
            bs = np.full(x.shape[0], x.shape[1], dtype=np.int64)
        nd = 2 if self.bidirectional else 1
        hs, cs = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(nd):
                k = layer * nd + d
                names = self._all_weights[k]
                ws = {n.split("_l")[0]: getattr(self, n) for n in names}
                Y, h, c = _layer(mode, x, ws["weight_ih"], ws["weight_hh"], ws.get("bias_ih"), ws.get("bias_hh"),
                                 ws.get("weight_hr"), hx[k], cx[k] if cx is not None else None, bs, d == 1)
                outs.append(Y)
                hs.append(h)
                cs.append(c)
            x = outs[0] if nd == 1 else _nt().cat(outs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = _dropout(x, self.dropout, True)
        nt = _nt()
        h_n = nt.stack(hs, 0)
        c_n = nt.stack(cs, 0) if cx is not None else None
        if packed:
            out = PackedSequence(_padded_to_packed(x, bs), input.batch_sizes, input.sorted_indices,
                                 input.unsorted_indices)
        else:
            out = x.transpose(0, 1) if self.batch_first else x
        return out, h_n, c_n

    def _prepare(self, input, hx, name, lstm=False):
        """Shape handling shared by forward: returns (input, hx, cx, is_batched, sorted_indices)."""
        from ..utils.rnn import PackedSequence
        nt = _nt()
        nd = 2 if self.bidirectional else 1
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        if isinstance(input, PackedSequence):
            data, batch_sizes = input.data, input.batch_sizes
            mb = int(batch_sizes[0])
            is_batched = True
            self.check_input(data, batch_sizes)
            if hx is None:
                h = nt.zeros(self.num_layers * nd, mb, real_hidden, dtype=data.dtype, device=data.device)
                c = nt.zeros(self.num_layers * nd, mb, self.hidden_size, dtype=data.dtype, device=data.device)
            else:
                h, c = (hx if lstm else (hx, None))
                if lstm:
                    self.check_hidden_size(h, self.get_expected_hidden_size(data, batch_sizes),
                                           "Expected hidden[0] size {}, got {}")
                    self.check_hidden_size(c, self.get_expected_cell_size(data, batch_sizes),
                                           "Expected hidden[1] size {}, got {}")
                else:
                    self.check_hidden_size(h, self.get_expected_hidden_size(data, batch_sizes))
                h = _permute(h, input.sorted_indices)
                c = _permute(c, input.sorted_indices) if lstm else None
            return input, h, (c if lstm else None), True
        if input.dim() not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D "
                             + ("tensor instead" if name == "RNN" else "instead"))
        is_batched = input.dim() == 3
        if not is_batched:
            input = input.unsqueeze(0 if self.batch_first else 1)
        if hx is not None:
            if lstm:
                h, c = hx
                if is_batched and (h.dim() != 3 or c.dim() != 3):
                    raise RuntimeError("For batched 3-D input, hx and cx should also be 3-D but got "
                                       f"({h.dim()}-D, {c.dim()}-D) tensors")
                if not is_batched:
                    if h.dim() != 2 or c.dim() != 2:
                        raise RuntimeError("For unbatched 2-D input, hx and cx should also be 2-D but got "
                                           f"({h.dim()}-D, {c.dim()}-D) tensors")
                    h, c = h.unsqueeze(1), c.unsqueeze(1)
            else:
                h, c = hx, None
                if not is_batched:
                    if h.dim() != 2:
                        raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got {h.dim()}-D "
                                           "tensor")
                    h = h.unsqueeze(1)
                elif h.dim() != 3:
                    raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {h.dim()}-D tensor")
        else:
            mb = input.size(0) if self.batch_first else input.size(1)
            h = nt.zeros(self.num_layers * nd, mb, real_hidden, dtype=input.dtype, device=input.device)
            c = nt.zeros(self.num_layers * nd, mb, self.hidden_size, dtype=input.dtype,
                         device=input.device) if lstm else None
        self.check_input(input, None)
        if lstm:
            self.check_hidden_size(h, self.get_expected_hidden_size(input, None), "Expected hidden[0] size {}, got {}")
            self.check_hidden_size(c, self.get_expected_cell_size(input, None), "Expected hidden[1] size {}, got {}")
        else:
            self.check_hidden_size(h, self.get_expected_hidden_size(input, None))
        return input, h, c, is_batched

    def _finish(self, input, out, h, c, is_batched):
        from ..utils.rnn import PackedSequence
        if isinstance(input, PackedSequence):
            h = _permute(h, input.unsorted_indices)
            c = _permute(c, input.unsorted_indices) if c is not None else None
        elif not is_batched:
            out = out.squeeze(0 if self.batch_first else 1)
            h = h.squeeze(1)
            c = c.squeeze(1) if c is not None else None
        return out, h, c


class RNN(RNNBase):
    """Elman RNN with tanh or ReLU nonlinearity."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)

    def forward(self, input, hx=None):
        input, h, _, is_batched = self._prepare(input, hx, "RNN")
        out, h_n, _ = self._forward(input, h, None)
        out, h_n, _ = self._finish(input, out, h_n, None, is_batched)
        return out, h_n


class LSTM(RNNBase):
    """Long short-term memory (gate order i, f, g, o), optional projection of h (``proj_size``)."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def forward(self, input, hx=None):
        input, h, c, is_batched = self._prepare(input, hx, "LSTM", lstm=True)
        out, h_n, c_n = self._forward(input, h, c)
        out, h_n, c_n = self._finish(input, out, h_n, c_n, is_batched)
        return out, (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit (gate order r, z, n; n = tanh(W_in x + b_in + r * (W_hn h + b_hn)))."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input, hx=None):
        input, h, _, is_batched = self._prepare(input, hx, "GRU")
        out, h_n, _ = self._forward(input, h, None)
        out, h_n, _ = self._finish(input, out, h_n, None, is_batched)
        return out, h_n


# -- cells: composite tensor ops (PyTorch's CPU cells are too; double backward comes for free) ------------

class RNNCellBase(Module):
    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        nt = _nt()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        kw = dict(device=device, dtype=dtype)
        self.weight_ih = Parameter(nt.empty((num_chunks * hidden_size, input_size), **kw))
        self.weight_hh = Parameter(nt.empty((num_chunks * hidden_size, hidden_size), **kw))
        if bias:
            self.bias_ih = Parameter(nt.empty(num_chunks * hidden_size, **kw))
            self.bias_hh = Parameter(nt.empty(num_chunks * hidden_size, **kw))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self):
        nt = _nt()
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        with nt.no_grad():
            for w in self.parameters():
                w.uniform_(-stdv, stdv)

    def _lin(self, x, w, b):
        y = x.matmul(w.t())
        return y if b is None else y + b

    def _prep(self, name, input, hx):
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        if hx is not None and not isinstance(hx, tuple) and hx.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected hidden to be 1D or 2D, got {hx.dim()}D instead")
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
        if input.size(1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} expected {self.input_size}")
        return input, is_batched

    def _check_h(self, input, h, i=""):
        if h.size(0) != input.size(0):
            raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden{i} batch size {h.size(0)}")
        if h.size(1) != self.hidden_size:
            raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got {h.size(1)}, expected "
                               f"{self.hidden_size}")


class RNNCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        input, is_batched = self._prep("RNNCell", input, hx)
        nt = _nt()
        if hx is None:
            hx = nt.zeros(input.size(0), self.hidden_size, dtype=input.dtype, device=input.device)
        elif not is_batched:
            hx = hx.unsqueeze(0)
        self._check_h(input, hx)
        pre = self._lin(input, self.weight_ih, self.bias_ih) + self._lin(hx, self.weight_hh, self.bias_hh)
        if self.nonlinearity == "tanh":
            h = pre.tanh()
        elif self.nonlinearity == "relu":
            h = pre.relu()
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return h if is_batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        if input.dim() not in (1, 2):
            raise ValueError(f"LSTMCell: Expected input to be 1D or 2D, got {input.dim()}D instead")
        if hx is not None:
            for idx, value in enumerate(hx):
                if value.dim() not in (1, 2):
                    raise ValueError(f"LSTMCell: Expected hx[{idx}] to be 1D or 2D, got {value.dim()}D instead")
        input, is_batched = self._prep("LSTMCell", input, None)
        nt = _nt()
        if hx is None:
            z = nt.zeros(input.size(0), self.hidden_size, dtype=input.dtype, device=input.device)
            hx = (z, z)
        elif not is_batched:
            hx = (hx[0].unsqueeze(0), hx[1].unsqueeze(0))
        h, c = hx
        self._check_h(input, h, "[0]")
        self._check_h(input, c, "[1]")
        gates = self._lin(input, self.weight_ih, self.bias_ih) + self._lin(h, self.weight_hh, self.bias_hh)
        i, f, g, o = gates.chunk(4, 1)
        c2 = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h2 = o.sigmoid() * c2.tanh()
        return (h2, c2) if is_batched else (h2.squeeze(0), c2.squeeze(0))


class GRUCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        input, is_batched = self._prep("GRUCell", input, hx)
        nt = _nt()
        if hx is None:
            hx = nt.zeros(input.size(0), self.hidden_size, dtype=input.dtype, device=input.device)
        elif not is_batched:
            hx = hx.unsqueeze(0)
        self._check_h(input, hx)
        xr, xz, xn = self._lin(input, self.weight_ih, self.bias_ih).chunk(3, 1)
        hr, hz, hn = self._lin(hx, self.weight_hh, self.bias_hh).chunk(3, 1)
        r = (xr + hr).sigmoid()
        z = (xz + hz).sigmoid()
        n = (xn + r * hn).tanh()
        return ((1 - z) * n + z * hx) if is_batched else ((1 - z) * n + z * hx).squeeze(0)
