"""dsp.windows and dsp.convert: scipy-identical windows, calibration figures, IQ conversion and its errors."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from dsp.convert import as_raw, convert_window_frames, to_complex64
from dsp.windows import WINDOWS, window_coefficients, window_info

SCIPY_NAMES = {"rect": "boxcar", "hann": "hann", "blackmanharris": "blackmanharris", "flattop": "flattop"}


@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("n", [16, 1000, 1024])
def test_windows_equal_scipy_periodic(name, n):
    np.testing.assert_allclose(window_coefficients(name, n), scipy.signal.get_window(SCIPY_NAMES[name], n), atol=1e-12)


@pytest.mark.parametrize(
    "name,enbw,cg",
    [("rect", 1.0, 1.0), ("hann", 1.5, 0.5), ("blackmanharris", 2.0044, 0.35875), ("flattop", 3.7702, 0.21557895)],
)
def test_window_figures(name, enbw, cg):
    info = window_info(name, 4096)
    assert info.enbw_bins == pytest.approx(enbw, abs=2e-3)
    assert info.coherent_gain == pytest.approx(cg, abs=1e-6)
    assert info.enbw_hz(2.4e6) == pytest.approx(info.enbw_bins * 2.4e6 / 4096)


def test_unknown_window_and_bad_length():
    with pytest.raises(ValueError, match="unknown window 'kaiser'"):
        window_coefficients("kaiser", 8)
    with pytest.raises(ValueError, match="length"):
        window_coefficients("hann", 0)


def test_cu8_full_scale_mapping():
    raw = np.array([0, 255, 127, 128], dtype=np.uint8)
    x = to_complex64(raw, "cu8")
    assert x.dtype == np.complex64 and x.shape == (2,)
    np.testing.assert_allclose(x, [-1 + 1j, (127 - 127.5) / 127.5 + 1j * (128 - 127.5) / 127.5], rtol=1e-6)


@pytest.mark.parametrize(
    "fmt,dtype,scale,zero",
    [("cu8", np.uint8, 127.5, 127.5), ("cs8", np.int8, 128.0, 0.0), ("cs16", np.int16, 32768.0, 0.0),
     ("cf32", np.float32, 1.0, 0.0)],
)
def test_to_complex64_matches_reference(fmt, dtype, scale, zero):
    rng = np.random.default_rng(3)
    if np.dtype(dtype).kind == "f":
        raw = rng.normal(size=200).astype(dtype)
    else:
        info = np.iinfo(dtype)
        raw = rng.integers(info.min, info.max, size=200, endpoint=True).astype(dtype)
    ref = (raw.astype(np.float64) - zero) / scale
    ref = ref[0::2] + 1j * ref[1::2]
    np.testing.assert_allclose(to_complex64(raw, fmt), ref, rtol=1e-6, atol=1e-7)
    # bytes give the same result as the array
    np.testing.assert_array_equal(to_complex64(raw.tobytes(), fmt), to_complex64(raw, fmt))


def test_conversion_errors():
    with pytest.raises(ValueError, match="odd"):
        to_complex64(np.zeros(3, dtype=np.uint8), "cu8")
    with pytest.raises(ValueError, match="truncated cs16 buffer: 5 bytes"):
        to_complex64(b"\x00" * 5, "cs16")
    with pytest.raises(TypeError, match="does not match format cs16"):
        to_complex64(np.zeros(4, dtype=np.uint8), "cs16")
    with pytest.raises(ValueError, match="unknown sample format"):
        to_complex64(np.zeros(4, dtype=np.uint8), "cu12")
    assert to_complex64(b"", "cu8").shape == (0,)
    assert as_raw(bytearray(4), "cu8").shape == (4,)


def test_convert_window_frames_matches_numpy():
    rng = np.random.default_rng(4)
    raw = rng.integers(0, 256, size=2 * 1000, dtype=np.uint8)
    w = window_coefficients("hann", 64)
    frames = convert_window_frames(raw, "cu8", w, 48, remove_dc=True)
    x = to_complex64(raw, "cu8").astype(np.complex128)
    x = x - x.mean()
    n = 1 + (1000 - 64) // 48
    ref = np.stack([x[i * 48 : i * 48 + 64] * w for i in range(n)])
    np.testing.assert_allclose(frames, ref, atol=2e-6)
    with pytest.raises(ValueError, match="fewer than one frame"):
        convert_window_frames(raw[:100], "cu8", w, 32)
