"""CUDA twins of ``kernels.attention``: ``sdpa_forward``, ``sdpa_backward`` (same arguments, device arrays).

Memory stays O(T * d): the forward runs a thread per query row with an online softmax over the keys
(running max and sum, the output row rescaled in place) and stores one logsumexp per row; the backward
recomputes probabilities from it, a thread per key row accumulating dK/dV and a thread per query row
accumulating dQ. Masks are additive float buffers read through per-batch offsets and (i, j) strides."""
import math

from numba import cuda

from . import empty, launch, dev_ints


@cuda.jit(device=True, inline=True)
def _score(q, k, n, i, j, E, scale, m, noffs, ms1, ms2, has_mask):
    acc = 0.0
    for e in range(E):
        acc += q[n, i, e] * k[n, j, e]
    x = acc * scale
    if has_mask:
        x += m[noffs[n] + i * ms1 + j * ms2]
    return x


@cuda.jit(cache=True)
def _fwd(q, k, v, out, lse, scale, m, noffs, ms1, ms2, has_mask, causal):
    N, L, E = q.shape
    S = k.shape[1]
    Ev = v.shape[2]
    start = cuda.grid(1)
    for r in range(start, N * L, cuda.gridsize(1)):
        n = r // L
        i = r - n * L
        lim = min(S, i + 1) if causal else S
        for c in range(Ev):
            out[n, i, c] = 0
        mx = -math.inf
        tot = 0.0
        for j in range(lim):
            x = _score(q, k, n, i, j, E, scale, m, noffs, ms1, ms2, has_mask)
            if x == -math.inf:
                continue
            if x > mx:
                # rescale the running sum and output to the new maximum
                f = math.exp(mx - x) if mx != -math.inf else 0.0
                tot *= f
                for c in range(Ev):
                    out[n, i, c] *= f
                mx = x
            p = math.exp(x - mx)
            tot += p
            for c in range(Ev):
                out[n, i, c] += p * v[n, j, c]
        if tot == 0.0:
            lse[r] = math.inf
        else:
            inv = 1.0 / tot
            for c in range(Ev):
                out[n, i, c] *= inv
            lse[r] = mx + math.log(tot)


@cuda.jit(cache=True)
def _rowdot(do, o, dvec):
    N, L, Ev = do.shape
    start = cuda.grid(1)
    for r in range(start, N * L, cuda.gridsize(1)):
        n = r // L
        i = r - n * L
        acc = 0.0
        for c in range(Ev):
            acc += do[n, i, c] * o[n, i, c]
        dvec[r] = acc


@cuda.jit(cache=True)
def _bwd_kv(q, k, v, do, lse, dvec, dk, dv, scale, m, noffs, ms1, ms2, has_mask, causal):
    N, L, E = q.shape
    S = k.shape[1]
    Ev = v.shape[2]
    start = cuda.grid(1)
    for r in range(start, N * S, cuda.gridsize(1)):
        n = r // S
        j = r - n * S
        for e in range(E):
            dk[n, j, e] = 0
        for c in range(Ev):
            dv[n, j, c] = 0
        i0 = j if causal else 0
        for i in range(i0, L):
            x = _score(q, k, n, i, j, E, scale, m, noffs, ms1, ms2, has_mask)
            p = math.exp(x - lse[n * L + i])
            dp = 0.0
            for c in range(Ev):
                dv[n, j, c] += p * do[n, i, c]
                dp += do[n, i, c] * v[n, j, c]
            ds = p * (dp - dvec[n * L + i]) * scale
            for e in range(E):
                dk[n, j, e] += ds * q[n, i, e]


@cuda.jit(cache=True)
def _bwd_q(q, k, v, do, lse, dvec, dq, scale, m, noffs, ms1, ms2, has_mask, causal):
    N, L, E = q.shape
    S = k.shape[1]
    Ev = v.shape[2]
    start = cuda.grid(1)
    for r in range(start, N * L, cuda.gridsize(1)):
        n = r // L
        i = r - n * L
        for e in range(E):
            dq[n, i, e] = 0
        lim = min(S, i + 1) if causal else S
        for j in range(lim):
            x = _score(q, k, n, i, j, E, scale, m, noffs, ms1, ms2, has_mask)
            p = math.exp(x - lse[r])
            dp = 0.0
            for c in range(Ev):
                dp += do[n, i, c] * v[n, j, c]
            ds = p * (dp - dvec[r]) * scale
            for e in range(E):
                dq[n, i, e] += ds * k[n, j, e]


def _mask(mask, dt):
    if mask is None:
        return empty(1, dt), dev_ints((0,)), 0, 0, False
    m, noffs, ms1, ms2 = mask
    return m, dev_ints(noffs), ms1, ms2, True


def sdpa_forward(q, k, v, mask, causal, scale):
    N, L, E = q.shape
    Ev = v.shape[2]
    out = empty(max(N * L * Ev, 1), q.dtype)[:N * L * Ev].reshape(N, L, Ev)
    lse = empty(max(N * L, 1), q.dtype)
    m, noffs, ms1, ms2, has = _mask(mask, q.dtype)
    if N * L:
        _fwd[launch(N * L)](q, k, v, out, lse, scale, m, noffs, ms1, ms2, has, causal)
    return out, lse


def sdpa_backward(do, q, k, v, out, lse, mask, causal, scale):
    N, L, E = q.shape
    S, Ev = k.shape[1], v.shape[2]
    dq = empty(max(N * L * E, 1), q.dtype)[:N * L * E].reshape(N, L, E)
    dk = empty(max(N * S * E, 1), q.dtype)[:N * S * E].reshape(N, S, E)
    dv = empty(max(N * S * Ev, 1), q.dtype)[:N * S * Ev].reshape(N, S, Ev)
    dvec = empty(max(N * L, 1), q.dtype)
    m, noffs, ms1, ms2, has = _mask(mask, q.dtype)
    if N * L:
        _rowdot[launch(N * L)](do, out, dvec)
        _bwd_q[launch(N * L)](q, k, v, do, lse, dvec, dq, scale, m, noffs, ms1, ms2, has, causal)
    if N * S:
        _bwd_kv[launch(N * S)](q, k, v, do, lse, dvec, dk, dv, scale, m, noffs, ms1, ms2, has, causal)
    return dq, dk, dv
