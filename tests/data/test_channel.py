"""Channel impairments: SRO interpolation, CFO, Rician fading statistics, fractional delays, AWGN."""

from __future__ import annotations

import numpy as np
import pytest

from amc_tf.config.data import ChannelConfig
from amc_tf.data import channel as ch


def _tone(freq: float, n: int, offset: float = 0.0) -> np.ndarray:
    return np.exp(2j * np.pi * freq * (np.arange(n) + offset))


def test_fractional_read_exact_at_zero_drift_and_accurate_off_grid():
    rng = np.random.default_rng(0)
    stream = rng.standard_normal((3, 60)) + 1j * rng.standard_normal((3, 60))
    starts = np.array([5, 7, 9])
    got = ch.fractional_read(stream, starts, np.zeros((3, 20)))
    np.testing.assert_array_equal(got, ch.rows(stream, starts, 20))
    # A slow tone (0.02 cycles/sample) read at fractional positions matches the tone itself.
    tone = _tone(0.02, 80)[None, :].repeat(2, axis=0)
    drift = np.linspace(-0.9, 0.9, 30)[None, :].repeat(2, axis=0)
    got = ch.fractional_read(tone, np.array([10, 20]), drift)
    want = np.exp(2j * np.pi * 0.02 * (np.array([[10], [20]]) + np.arange(30) + drift))
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_bounded_walk_respects_bound_and_spread():
    rng = np.random.default_rng(1)
    walk = ch.bounded_walk(rng, 2000, 100, 0.5, 3.0, 0)
    assert walk.shape == (2000, 100) and np.abs(walk).max() <= 3.0
    free = ch.bounded_walk(rng, 4000, 16, 0.01, 1e9, 40_000)
    assert np.std(free[:, 0]) == pytest.approx(0.01 * np.sqrt(40_000), rel=0.05)


def test_rotate_applies_frequency_offset():
    x = np.ones((1, 50), dtype=np.complex128)
    y = ch.rotate(x, np.full((1, 50), 1000.0), 200e3)
    step = np.angle(y[0, 1:] / y[0, :-1])
    np.testing.assert_allclose(step, 2 * np.pi * 1000 / 200e3)


def test_rician_gains_power_and_k_factor():
    rng = np.random.default_rng(2)
    gains = np.array([1.0, 0.8, 0.3])
    h = ch.rician_gains(rng, 40_000, gains, 4.0)
    np.testing.assert_allclose(np.mean(np.abs(h) ** 2, axis=0), gains**2, rtol=0.03)
    # Rician K: |h|^2 has variance (2K + 1) / (K + 1)^2 * mean^2 (vs 1 * mean^2 for Rayleigh).
    p = np.abs(h[:, 0]) ** 2
    assert np.var(p) / np.mean(p) ** 2 == pytest.approx(9 / 25, rel=0.08)


def test_fractional_delay_filters():
    f = ch.fractional_delay_filters(np.array([0.0, 0.9, 1.7]), 8)
    assert f.shape == (3, 8)
    np.testing.assert_allclose(f[0], np.eye(8)[3], atol=1e-15)  # delay 0: impulse at tap 3
    np.testing.assert_allclose(f.sum(axis=1), 1.0)
    # Phase of a slow tone through each filter gives the delay (3 = centre tap).
    freq = 0.01
    response = f @ np.exp(-2j * np.pi * freq * np.arange(8))
    delay = -np.angle(response) / (2 * np.pi * freq) - 3
    np.testing.assert_allclose(delay, [0.0, 0.9, 1.7], atol=1e-3)


def test_fir_valid_matches_numpy_convolve():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 30)) + 1j * rng.standard_normal((2, 30))
    taps = rng.standard_normal((2, 5)) + 1j * rng.standard_normal((2, 5))
    got = ch.fir_valid(x, taps)
    for b in range(2):
        np.testing.assert_allclose(got[b], np.convolve(x[b], taps[b], mode="valid"))


def test_awgn_power():
    noise = ch.awgn(np.random.default_rng(4), (4, 20_000), np.array([[1.0], [0.1], [2.0], [0.5]]))
    np.testing.assert_allclose(np.mean(np.abs(noise) ** 2, axis=1), [1.0, 0.1, 2.0, 0.5], rtol=0.04)
    np.testing.assert_allclose(np.mean(noise.real**2, axis=1) / np.mean(noise.imag**2, axis=1), 1.0, rtol=0.05)


def test_impair_awgn_only_is_a_plain_window():
    rng = np.random.default_rng(5)
    stream = rng.standard_normal((3, 100)) + 1j * rng.standard_normal((3, 100))
    starts = np.array([20, 21, 30])
    got = ch.impair(rng, stream, starts, 16, ChannelConfig(awgn_only=True), 200e3)
    np.testing.assert_array_equal(got, ch.rows(stream, starts, 16))


def test_impair_full_channel_power_gain_and_determinism():
    stream = np.ones((4000, 60), dtype=np.complex128)
    starts = np.full(4000, 20)
    cfg = ChannelConfig()
    a = ch.impair(np.random.default_rng(6), stream, starts, 16, cfg, 200e3)
    b = ch.impair(np.random.default_rng(6), stream, starts, 16, cfg, 200e3)
    np.testing.assert_array_equal(a, b)
    # Mean power gain of the un-normalised 3-path profile: 1 + 0.8^2 + 0.3^2 = 1.73 (flat input).
    assert np.mean(np.abs(a) ** 2) == pytest.approx(1.73, rel=0.05)
    off = ChannelConfig(fading=False, sample_rate_offset=False, carrier_offset=False)
    np.testing.assert_array_equal(ch.impair(np.random.default_rng(6), stream, starts, 16, off, 200e3), stream[:, :16])
