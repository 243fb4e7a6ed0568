"""CUDA twins of kernels.batchnorm. Per-channel statistics and backward reductions run one block per channel
(threads stride over the channel's N*L elements, float64 partials combined through a shared-memory tree);
the two apply kernels run a thread per element. Per-channel host vectors (float64 statistics, scale/shift)
are copied to the device and the statistics copied back, as the CPU entry points fill host arrays."""
from numba import cuda, float64

from . import SIM, _sm_count, block_threads, launch

_SH = 256


@cuda.jit(device=True)
def _bsum(sh, s):
    tid = cuda.threadIdx.x
    sh[tid] = s
    cuda.syncthreads()
    step = cuda.blockDim.x // 2
    while step > 0:
        if tid < step:
            sh[tid] += sh[tid + step]
        cuda.syncthreads()
        step //= 2
    r = sh[0]
    cuda.syncthreads()
    return r


@cuda.jit
def _k_stats(x, N, C, L, mean, var):
    sh = cuda.shared.array(_SH, float64)
    tid = cuda.threadIdx.x
    nt = cuda.blockDim.x
    c = cuda.blockIdx.x
    M = N * L
    while c < C:
        s = 0.0
        for j in range(tid, M, nt):
            n = j // L
            s += x[(n * C + c) * L + j - n * L]
        m = _bsum(sh, s) / M
        q = 0.0
        for j in range(tid, M, nt):
            n = j // L
            d = x[(n * C + c) * L + j - n * L] - m
            q += d * d
        v = _bsum(sh, q) / M
        if tid == 0:
            mean[c] = m
            var[c] = v
        c += cuda.gridDim.x


@cuda.jit
def _k_bwd_reduce(g, x, N, C, L, mean, sg, sgx):
    sh = cuda.shared.array(_SH, float64)
    tid = cuda.threadIdx.x
    nt = cuda.blockDim.x
    c = cuda.blockIdx.x
    M = N * L
    while c < C:
        m = mean[c]
        a = 0.0
        b = 0.0
        for j in range(tid, M, nt):
            n = j // L
            e = (n * C + c) * L + j - n * L
            a += g[e]
            b += g[e] * (x[e] - m)
        a = _bsum(sh, a)
        b = _bsum(sh, b)
        if tid == 0:
            sg[c] = a
            sgx[c] = b
        c += cuda.gridDim.x


def _grid(C):
    return max(1, min(int(C), 2 if SIM else 16 * _sm_count())), block_threads()


def stats(x, N, C, L, mean, var):
    dm = cuda.device_array(C, dtype=mean.dtype)
    dv = cuda.device_array(C, dtype=var.dtype)
    b, t = _grid(C)
    _k_stats[b, t](x, N, C, L, dm, dv)
    mean[:] = dm.copy_to_host()
    var[:] = dv.copy_to_host()


def backward_reduce(g, x, N, C, L, mean, sg, sgx):
    dsg = cuda.device_array(C, dtype=sg.dtype)
    dsgx = cuda.device_array(C, dtype=sgx.dtype)
    b, t = _grid(C)
    _k_bwd_reduce[b, t](g, x, N, C, L, cuda.to_device(mean), dsg, dsgx)
    sg[:] = dsg.copy_to_host()
    sgx[:] = dsgx.copy_to_host()


@cuda.jit
def _k_affine(x, scale, shift, y, C, L, total):
    i = cuda.grid(1)
    while i < total:
        c = (i // L) % C
        y[i] = x[i] * scale[c] + shift[c]
        i += cuda.gridDim.x * cuda.blockDim.x


@cuda.jit
def _k_affine2(g, x, a, b, k, out, C, L, total):
    i = cuda.grid(1)
    while i < total:
        c = (i // L) % C
        out[i] = g[i] * a[c] + x[i] * b[c] + k[c]
        i += cuda.gridDim.x * cuda.blockDim.x


def _dev(v):
    return v if hasattr(v, "copy_to_host") else cuda.to_device(v)


def affine(x, scale, shift, y, N, C, L):
    total = int(N * C * L)
    if total:
        bl, t = launch(total)
        _k_affine[bl, t](x, _dev(scale), _dev(shift), y, C, L, total)


def affine2(g, x, a, b, k, out, N, C, L):
    total = int(N * C * L)
    if total:
        bl, t = launch(total)
        _k_affine2[bl, t](g, x, _dev(a), _dev(b), _dev(k), out, C, L, total)
