"""Stateless random fills on the device: Philox4x32-10 of (counter = (group, offset), key = seed).

Each call gets a fresh (seed, offset) from the front end's generator, so no state lives on the
device and equal (seed, offset) pairs give equal values. One Philox call yields four 32-bit
words: four float32 uniforms (24 bits each), two float64 uniforms (53 bits each), two or four
integers. The integer math stays in uint64 without overflow (32 x 32 -> 64-bit products), which
keeps the simulator (NumPy scalars) free of overflow warnings.
"""
import math

import numpy as np
from numba import cuda

from . import check_flag, empty, flag, launch

_PM0 = np.uint64(0xD2511F53)
_PM1 = np.uint64(0xCD9E8D57)
_PW0 = np.uint64(0x9E3779B9)
_PW1 = np.uint64(0xBB67AE85)
_M32 = np.uint64(0xFFFFFFFF)
_S8 = np.uint64(8)
_S11 = np.uint64(11)
_S15 = np.uint64(15)
_S16 = np.uint64(16)
_S21 = np.uint64(21)
_S32 = np.uint64(32)
_H0 = np.uint64(0x7FEB352D)
_H1 = np.uint64(0x846CA68B)
_F24 = np.float32(2.0 ** -24)
_F53 = np.float64(2.0 ** -53)
_ONE32 = np.float32(1)
_ONE64 = np.float64(1)
_M2_32 = np.float32(-2)
_M2_64 = np.float64(-2)
_TAU32 = np.float32(2 * math.pi)
_TAU64 = np.float64(2 * math.pi)
_ROUNDS = 16                      # Feistel rounds of the large-n randperm (8 left a visible bias at n=4)
_SERIAL_PERM = 4096               # randperm up to this n: exact Fisher-Yates in one thread


@cuda.jit(device=True, inline=True)
def _philox(g, seed, off):
    """Four 32-bit words (as uint64) for counter (g, off) under key ``seed``."""
    c0 = g & _M32
    c1 = g >> _S32
    c2 = off & _M32
    c3 = off >> _S32
    k0 = seed & _M32
    k1 = seed >> _S32
    for _ in range(10):
        p0 = _PM0 * c0
        p1 = _PM1 * c2
        c0, c1, c2, c3 = (p1 >> _S32) ^ c1 ^ k0, p1 & _M32, (p0 >> _S32) ^ c3 ^ k1, p0 & _M32
        k0 = (k0 + _PW0) & _M32
        k1 = (k1 + _PW1) & _M32
    return c0, c1, c2, c3


@cuda.jit(device=True, inline=True)
def _u24(r):
    """[0, 1) float32 from 24 bits."""
    return np.float32(r >> _S8) * _F24


@cuda.jit(device=True, inline=True)
def _u53(ra, rb):
    """[0, 1) float64 from 53 bits."""
    return np.float64((ra << _S21) | (rb >> _S11)) * _F53


@cuda.jit(device=True, inline=True)
def _put_uniform(out, i, n, v, lo, hi):
    # a value that rounds up to ``hi`` in the output dtype maps to ``lo`` (torch's CUDA kernel)
    if i < n:
        out[i] = v
        if out[i] == hi:
            out[i] = lo


@cuda.jit(cache=True)
def _uniform_k(out, n, seed, off, lo, span, hi, wide):
    per = 2 if wide else 4
    g = cuda.grid(1)
    s = cuda.gridsize(1)
    while g * per < n:
        r0, r1, r2, r3 = _philox(np.uint64(g), seed, off)
        i = g * per
        if wide:
            _put_uniform(out, i, n, lo + span * _u53(r0, r1), lo, hi)
            _put_uniform(out, i + 1, n, lo + span * _u53(r2, r3), lo, hi)
        else:
            _put_uniform(out, i, n, lo + span * _u24(r0), lo, hi)
            _put_uniform(out, i + 1, n, lo + span * _u24(r1), lo, hi)
            _put_uniform(out, i + 2, n, lo + span * _u24(r2), lo, hi)
            _put_uniform(out, i + 3, n, lo + span * _u24(r3), lo, hi)
        g += s


@cuda.jit(device=True, inline=True)
def _put(out, i, n, v):
    if i < n:
        out[i] = v


@cuda.jit(cache=True)
def _normal_k(out, n, seed, off, mean, std, wide):
    # Box-Muller: u1 in (0, 1] keeps log finite
    per = 2 if wide else 4
    g = cuda.grid(1)
    s = cuda.gridsize(1)
    while g * per < n:
        r0, r1, r2, r3 = _philox(np.uint64(g), seed, off)
        i = g * per
        if wide:
            rad = math.sqrt(_M2_64 * math.log(_u53(r0, r1) + _F53))
            th = _TAU64 * _u53(r2, r3)
            _put(out, i, n, mean + std * (rad * math.cos(th)))
            _put(out, i + 1, n, mean + std * (rad * math.sin(th)))
        else:
            rad_a = math.sqrt(_M2_32 * math.log(_u24(r0) + _F24))
            th_a = _TAU32 * _u24(r1)
            rad_b = math.sqrt(_M2_32 * math.log(_u24(r2) + _F24))
            th_b = _TAU32 * _u24(r3)
            _put(out, i, n, mean + std * (rad_a * math.cos(th_a)))
            _put(out, i + 1, n, mean + std * (rad_a * math.sin(th_a)))
            _put(out, i + 2, n, mean + std * (rad_b * math.cos(th_b)))
            _put(out, i + 3, n, mean + std * (rad_b * math.sin(th_b)))
        g += s


@cuda.jit(cache=True)
def _randint_k(out, n, seed, off, low, span, wide):
    # modulo of 32 (span < 2**32) or 64 random bits: bias at most span / 2**32, like torch
    per = 2 if wide else 4
    g = cuda.grid(1)
    s = cuda.gridsize(1)
    while g * per < n:
        r0, r1, r2, r3 = _philox(np.uint64(g), seed, off)
        i = g * per
        if wide:
            _put(out, i, n, low + np.int64(((r0 << _S32) | r1) % span))
            _put(out, i + 1, n, low + np.int64(((r2 << _S32) | r3) % span))
        else:
            _put(out, i, n, low + np.int64(r0 % span))
            _put(out, i + 1, n, low + np.int64(r1 % span))
            _put(out, i + 2, n, low + np.int64(r2 % span))
            _put(out, i + 3, n, low + np.int64(r3 % span))
        g += s


@cuda.jit(cache=True)
def _bernoulli_k(out, n, seed, off, p):
    g = cuda.grid(1)
    s = cuda.gridsize(1)
    while g * 2 < n:
        r0, r1, r2, r3 = _philox(np.uint64(g), seed, off)
        i = g * 2
        _put(out, i, n, _u53(r0, r1) < p)
        _put(out, i + 1, n, _u53(r2, r3) < p)
        g += s


@cuda.jit(cache=True)
def _bernoulli_arr_k(out, n, seed, off, p, bad):
    g = cuda.grid(1)
    s = cuda.gridsize(1)
    while g * 2 < n:
        r0, r1, r2, r3 = _philox(np.uint64(g), seed, off)
        i = g * 2
        for lane in range(2):
            if i + lane < n:
                q = np.float64(p[i + lane])
                if q < 0 or q > 1:
                    bad[0] = 1
                out[i + lane] = (_u53(r0, r1) if lane == 0 else _u53(r2, r3)) < q
        g += s


@cuda.jit(cache=True)
def _exponential_k(out, n, seed, off, scale):
    # -log(u) with u in (0, 1]: finite and >= 0
    g = cuda.grid(1)
    s = cuda.gridsize(1)
    while g * 2 < n:
        r0, r1, r2, r3 = _philox(np.uint64(g), seed, off)
        i = g * 2
        _put(out, i, n, -scale * math.log(_u53(r0, r1) + _F53))
        _put(out, i + 1, n, -scale * math.log(_u53(r2, r3) + _F53))
        g += s


@cuda.jit(cache=True)
def _perm_serial_k(out, n, seed, off):
    # Fisher-Yates in a single thread: exact for the small n where a bias would be visible
    if cuda.grid(1) != 0:
        return
    for i in range(n):
        out[i] = i
    for i in range(n - 1, 0, -1):
        r0, r1, r2, r3 = _philox(np.uint64(i), seed, off)
        j = np.int64(((r0 << _S32) | r1) % np.uint64(i + 1))
        t = out[i]
        out[i] = out[j]
        out[j] = t


@cuda.jit(device=True, inline=True)
def _mix32(x):
    # lowbias32 (C. Wellons): a 32-bit avalanche hash; the products stay below 2**64
    x ^= x >> _S16
    x = (x * _H0) & _M32
    x ^= x >> _S15
    x = (x * _H1) & _M32
    x ^= x >> _S16
    return x


@cuda.jit(device=True, inline=True)
def _feistel(x, keys, half, hmask):
    left = x >> half
    right = x & hmask
    for rd in range(_ROUNDS):
        t = right
        right = left ^ (_mix32(right ^ keys[rd]) & hmask)
        left = t
    return (left << half) | right


@cuda.jit(cache=True)
def _perm_feistel_k(out, n, keys, half, hmask):
    # a keyed bijection of [0, 4**half) restricted to [0, n) by cycle walking
    nu = np.uint64(n)
    i = cuda.grid(1)
    s = cuda.gridsize(1)
    while i < n:
        x = _feistel(np.uint64(i), keys, half, hmask)
        while x >= nu:
            x = _feistel(x, keys, half, hmask)
        out[i] = np.int64(x)
        i += s


def _u64(v):
    return np.uint64(int(v) & 0xFFFFFFFFFFFFFFFF)


def _groups(n, per):
    return launch(-(-int(n) // per))


def _wide(out):
    return out.dtype.itemsize >= 8


def uniform_(out, n, seed, offset, lo, hi):
    """Fill ``out[:n]`` (float32/float64) with U[lo, hi)."""
    if n <= 0:
        return out
    t = out.dtype.type
    wide = _wide(out)
    _uniform_k[_groups(n, 2 if wide else 4)](out, np.int64(n), _u64(seed), _u64(offset), t(lo), t(hi - lo),
                                             t(hi), wide)
    return out


def normal_(out, n, seed, offset, mean, std):
    """Fill ``out[:n]`` (float32/float64) with N(mean, std**2)."""
    if n <= 0:
        return out
    t = out.dtype.type
    wide = _wide(out)
    _normal_k[_groups(n, 2 if wide else 4)](out, np.int64(n), _u64(seed), _u64(offset), t(mean), t(std), wide)
    return out


def randint_(out, n, seed, offset, low, high):
    """Fill ``out[:n]`` (any real dtype) with integers in [low, high) (caller checks low < high)."""
    if n <= 0:
        return out
    span = int(high) - int(low)
    wide = span > 0xFFFFFFFF
    _randint_k[_groups(n, 2 if wide else 4)](out, np.int64(n), _u64(seed), _u64(offset), np.int64(low),
                                             _u64(span), wide)
    return out


def bernoulli_(out, n, seed, offset, p):
    """Fill ``out[:n]`` with 1 where a uniform draw is < p (a Python scalar, or a device buffer of n
    probabilities; a probability outside [0, 1] raises RuntimeError like the CPU path)."""
    if n <= 0:
        return out
    if hasattr(p, "copy_to_host"):
        bad = flag()
        _bernoulli_arr_k[_groups(n, 2)](out, np.int64(n), _u64(seed), _u64(offset), p, bad)
        check_flag(bad, RuntimeError, "Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    else:
        _bernoulli_k[_groups(n, 2)](out, np.int64(n), _u64(seed), _u64(offset), np.float64(p))
    return out


def exponential_(out, n, seed, offset, lambd):
    """Fill ``out[:n]`` with Exp(lambd) samples."""
    if n <= 0:
        return out
    _exponential_k[_groups(n, 2)](out, np.int64(n), _u64(seed), _u64(offset), np.float64(1.0 / lambd))
    return out


def _splitmix(state, count):
    """``count`` 64-bit SplitMix64 outputs from ``state`` (host side, Python ints)."""
    res = []
    for _ in range(count):
        state = (state + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        res.append(z ^ (z >> 31))
    return res


def randperm(out, n, seed, offset):
    """A random permutation of ``range(n)`` into ``out[:n]``: Fisher-Yates for small n, else a keyed
    Feistel bijection (16 rounds of a 32-bit hash) with cycle walking, which needs no sort."""
    n = int(n)
    if n <= 0:
        return out
    if n <= _SERIAL_PERM:
        _perm_serial_k[1, 1](out, np.int64(n), _u64(seed), _u64(offset))
        return out
    half = max(1, ((n - 1).bit_length() + 1) // 2)
    if 4 ** half == n:
        half += 1         # the whole domain would make only even permutations reachable
    keys = empty(_ROUNDS, np.uint64)
    keys.copy_to_device(np.array([k & 0xFFFFFFFF for k in _splitmix(int(seed) ^ int(offset) * 0xD1B54A32D192ED03,
                                                                    _ROUNDS)], np.uint64))
    _perm_feistel_k[launch(n)](out, np.int64(n), keys, np.uint64(half), np.uint64((1 << half) - 1))
    return out
