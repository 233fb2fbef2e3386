"""Compiled inner loops of the simulator (numba, ``cache=True``). Each kernel ADDS one signal into ``out``.

Conventions: ``out`` is a complex64 array of shape (n,); phases are in cycles (turns); a carrier is
``cycles0 + cps * i`` at sample ``i`` (cps = offset frequency / sample rate, cycles per sample). Complex
exponentials use a 4096-entry table with linear interpolation (:func:`expj_table`), whose error is below
-120 dBc, about 3x faster than ``cos``/``sin`` per sample.

The message of FM, AM and 4FSK is a cubic B-spline through "knots" a_i spaced 1/r apart (r knots/s): the
instantaneous frequency (FM, Hz) or the audio (AM, unitless) is f(t) = sum_i a_i B3(t*r - i), B3 the uniform
cubic B-spline on [0, 4). FM needs the integral, which is exact and local: with u = t*r, j = floor(u), s = u - j,

    phase(t) [cycles] = (1/r) * (P[j-3] + a[j-3](23/24 + c3(s)) + a[j-2](12/24 + c2(s)) + a[j-1](1/24 + c1(s))
                                 + a[j] c0(s))

where P[k] = sum_{i<k} a_i and c0..c3 are the partial integrals of the four B-spline pieces. Knots come in
zero-sum groups, so P restarts at 0 at each group start and any sample time can be generated on its own.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

TABLE_BITS = 12
TABLE_SIZE = 1 << TABLE_BITS


def expj_table() -> np.ndarray:
    """cos and sin of 2*pi*k/TABLE_SIZE for k = 0..TABLE_SIZE (one extra row for interpolation): shape
    (TABLE_SIZE + 1, 2) float64, column 0 the real part, column 1 the imaginary part."""
    angle = 2 * np.pi * np.arange(TABLE_SIZE + 1) / TABLE_SIZE
    return np.ascontiguousarray(np.stack([np.cos(angle), np.sin(angle)], axis=1))


@njit(cache=True, inline="always")
def _expj(cycles, tab):
    c = cycles - math.floor(cycles)
    x = c * 4096.0
    j = int(x)
    if j >= 4096:  # c == 1.0 - eps rounding
        j = 4095
    s = x - j
    re = tab[j, 0] + (tab[j + 1, 0] - tab[j, 0]) * s
    im = tab[j, 1] + (tab[j + 1, 1] - tab[j, 1]) * s
    return complex(re, im)


@njit(cache=True, inline="always")
def _splitmix64(x):
    x = (x + np.uint64(0x9E3779B97F4A7C15)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    z = x
    z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def hash_bit(key, a, b):
    """A reproducible pseudo-random bit from a 64-bit key and two indices (used for OOK data bits)."""
    h = _splitmix64(np.uint64(key) ^ _splitmix64(np.uint64(a) * np.uint64(0x100000001B3) + np.uint64(b)))
    return int(h >> np.uint64(63))


@njit(cache=True)
def add_tone(out, amp, cycles0, cps, env, tab):
    """out[i] += amp * env[i] * exp(2j*pi*(cycles0 + cps*i)); ``env`` of shape (0,) means all ones."""
    n = out.shape[0]
    use_env = env.shape[0] == n
    for i in range(n):
        v = amp * _expj(cycles0 + cps * i, tab)
        if use_env:
            v = v * env[i]
        out[i] += v


@njit(cache=True)
def add_fm(out, amp, cycles0, cps, knots, prefix, u0, du, inv_r, pilot_beta_cyc, pilot_c0, pilot_cps, env, tab):
    """Add a constant-envelope FM signal whose instantaneous frequency is the knot spline (see module doc).

    knots, prefix: (m,) float64 knot values a (Hz) and group prefix sums P, index 0 = knot k0;
    u0: knot coordinate of sample 0 relative to k0 (u0 >= 3); du = r / sample_rate; inv_r = 1/r (s);
    pilot: an extra phase term pilot_beta_cyc * sin(2*pi*(pilot_c0 + pilot_cps*i)) (cycles), beta 0 = none.
    Within one knot interval the phase is a quartic in s = u - j, whose coefficients are computed once per
    interval (the expansion of the formula in the module docstring) and evaluated by Horner's rule.
    """
    n = out.shape[0]
    use_env = env.shape[0] == n
    j_cur = -1
    k0 = k1 = k2 = k3 = k4 = 0.0
    for i in range(n):
        u = u0 + du * i
        j = int(math.floor(u))
        if j != j_cur:
            j_cur = j
            a3 = knots[j - 3]
            a2 = knots[j - 2]
            a1 = knots[j - 1]
            a0 = knots[j]
            k0 = prefix[j - 3] + a3 * (23.0 / 24.0) + a2 * 0.5 + a1 * (1.0 / 24.0)
            k1 = a3 * (4.0 / 24.0) + a2 * (4.0 / 6.0) + a1 * (1.0 / 6.0)
            k2 = a3 * (-6.0 / 24.0) + a1 * (1.5 / 6.0)
            k3 = a3 * (4.0 / 24.0) + a2 * (-2.0 / 6.0) + a1 * (1.0 / 6.0)
            k4 = a3 * (-1.0 / 24.0) + a2 * (0.75 / 6.0) + a1 * (-0.75 / 6.0) + a0 * (1.0 / 24.0)
        s = u - j
        acc = (((k4 * s + k3) * s + k2) * s + k1) * s + k0
        ph = cycles0 + cps * i + acc * inv_r
        if pilot_beta_cyc != 0.0:
            ph += pilot_beta_cyc * _expj(pilot_c0 + pilot_cps * i, tab).imag
        v = amp * _expj(ph, tab)
        if use_env:
            v = v * env[i]
        out[i] += v


def add_fm_reference(knots, prefix, u):
    """Plain-numpy FM phase (cycles x r) at knot coordinates ``u`` (array): the module-docstring formula."""
    j = np.floor(u).astype(np.int64)
    s = u - j
    c0 = s**4 / 24.0
    c1 = (s + 1.5 * s**2 + s**3 - 0.75 * s**4) / 6.0
    c2 = (4.0 * s - 2.0 * s**3 + 0.75 * s**4) / 6.0
    c3 = (1.0 - (1.0 - s) ** 4) / 24.0
    return (prefix[j - 3] + knots[j - 3] * (23.0 / 24.0 + c3) + knots[j - 2] * (0.5 + c2)
            + knots[j - 1] * (1.0 / 24.0 + c1) + knots[j] * c0)


@njit(cache=True)
def add_am(out, amp, depth, cycles0, cps, knots, u0, du, env, tab):
    """Add AM: amp * max(0, 1 + depth * audio(t)) * carrier, audio = the knot spline (unitless)."""
    n = out.shape[0]
    use_env = env.shape[0] == n
    for i in range(n):
        u = u0 + du * i
        j = int(math.floor(u))
        s = u - j
        s2 = s * s
        s3 = s2 * s
        om = 1.0 - s
        b0 = s3 / 6.0
        b1 = (1.0 + 3.0 * s + 3.0 * s2 - 3.0 * s3) / 6.0
        b2 = (4.0 - 6.0 * s2 + 3.0 * s3) / 6.0
        b3 = om * om * om / 6.0
        audio = knots[j - 3] * b3 + knots[j - 2] * b2 + knots[j - 1] * b1 + knots[j] * b0
        e = 1.0 + depth * audio
        if e < 0.0:
            e = 0.0
        v = (amp * e) * _expj(cycles0 + cps * i, tab)
        if use_env:
            v = v * env[i]
        out[i] += v


@njit(cache=True)
def add_ook(out, amp, cycles0, cps, tau0, dt, bit_rate, ramp_s, key, burst_index, tab):
    """Add one OOK burst: pulse-width code, bit period 1/bit_rate, a '1' keyed for 3/4 of it, a '0' for 1/4,
    edges ramped over ``ramp_s`` (raised cosine). tau0: burst time (s) of sample 0; dt = 1/sample_rate."""
    n = out.shape[0]
    tb = 1.0 / bit_rate
    for i in range(n):
        tau = tau0 + dt * i
        if tau < 0.0:
            continue
        k = int(tau * bit_rate)
        pos = tau - k * tb
        width = 0.75 * tb if hash_bit(key, burst_index, k) else 0.25 * tb
        if pos >= width + ramp_s:
            continue
        g = 1.0
        if pos < ramp_s:
            g = 0.5 - 0.5 * math.cos(math.pi * pos / ramp_s)
        elif pos > width:
            g = 0.5 + 0.5 * math.cos(math.pi * (pos - width) / ramp_s)
        out[i] += (amp * g) * _expj(cycles0 + cps * i, tab)


@njit(cache=True)
def add_table_signal(out, amp, cycles0, cps, table, sym_len, n0, sym_ids, env, tab):
    """Add a signal built from pre-computed symbols: sample i is table[sym_ids[(n0+i)//sym_len - first],
    (n0+i) % sym_len] (``first`` = n0 // sym_len), mixed to the offset carrier. Used for the OFDM block."""
    n = out.shape[0]
    use_env = env.shape[0] == n
    first = n0 // sym_len
    for i in range(n):
        m = n0 + i
        row = sym_ids[m // sym_len - first]
        v = table[row, m % sym_len] * amp * _expj(cycles0 + cps * i, tab)
        if use_env:
            v = v * env[i]
        out[i] += v


@njit(cache=True)
def gate_envelope(n, dt, starts_s, ends_s, ramp_s):
    """On/off envelope (float32, shape (n,)) of key-down intervals [starts_s[k], ends_s[k]) given in seconds
    after sample 0, with raised-cosine ramps of ``ramp_s`` centred on each edge."""
    env = np.zeros(n, np.float32)
    half = 0.5 * ramp_s
    for k in range(starts_s.shape[0]):
        a = starts_s[k]
        b = ends_s[k]
        i0 = max(0, int(math.floor((a - half) / dt)))
        i1 = min(n, int(math.ceil((b + half) / dt)) + 1)
        for i in range(i0, i1):
            t = i * dt
            g = 1.0
            if ramp_s > 0.0:
                if t < a + half:
                    x = (t - (a - half)) / ramp_s
                    g = 0.0 if x <= 0.0 else 0.5 - 0.5 * math.cos(math.pi * x)
                elif t > b - half:
                    x = ((b + half) - t) / ramp_s
                    g = 0.0 if x <= 0.0 else 0.5 - 0.5 * math.cos(math.pi * x)
            elif t < a or t >= b:
                g = 0.0
            if g > env[i]:
                env[i] = g
    return env


@njit(cache=True)
def finish_cu8(sig, noise_tab, noise_offsets, noise_scale, chunk, nu_re, nu_im, dc_re, dc_im, out):
    """The dongle's back end, fused in one pass, writing interleaved cu8 into ``out`` (2n,).

    z = sig + noise_scale * noise;  z += nu * conj(z) (IQ imbalance image);  z += dc;
    byte = clip(floor(127.5 * z + 128), 0, 255) per component.
    The noise comes from a unit-power table read in ``chunk``-sample pieces at the given offsets.
    """
    n = sig.shape[0]
    n_chunks = (n + chunk - 1) // chunk
    for c in range(n_chunks):
        base = noise_offsets[c]
        i0 = c * chunk
        m = min(chunk, n - i0)
        for r in range(m):
            i = i0 + r
            tn = noise_tab[base + r]
            zr = sig[i].real + noise_scale * tn.real
            zi = sig[i].imag + noise_scale * tn.imag
            # nu * conj(z) = (nu_re + j nu_im)(zr - j zi)
            yr = zr + nu_re * zr + nu_im * zi + dc_re
            yi = zi + nu_im * zr - nu_re * zi + dc_im
            # floor and clip in one: values are clamped to [0, 255.5] first, where int() truncation is floor
            br = min(max(127.5 * yr + 128.0, 0.0), 255.5)
            bi = min(max(127.5 * yi + 128.0, 0.0), 255.5)
            out[2 * i] = np.uint8(int(br))
            out[2 * i + 1] = np.uint8(int(bi))
