"""Modulators, constellations and sources of the synthetic generator: pure-function behaviour."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from amc_tf.data import modulators as m
from amc_tf.data import sources
from amc_tf.data.modulations import FAMILIES, GFSK_INDEX, apsk, ask, pam, psk, qam


def test_interpolate_equals_scipy_upfirdn():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 37)) + 1j * rng.standard_normal((4, 37))
    for taps, up in ((m.rrc_taps(8, 0.35, 11), 8), (rng.standard_normal(10), 3), (np.ones(5), 1)):
        np.testing.assert_allclose(m.interpolate(x, taps, up), signal.upfirdn(taps, x, up=up, axis=1), atol=1e-12)
        want = signal.upfirdn(taps, x.real, up=up, axis=1)
        np.testing.assert_allclose(m.interpolate(x.real, taps, up), want, atol=1e-12)


def test_rrc_is_unit_power_and_nyquist_after_matched_filter():
    sps = 8
    h = m.rrc_taps(sps, 0.35, 11)
    assert len(h) == 11 * sps + 1
    np.testing.assert_allclose(h, h[::-1])
    assert np.sum(h**2) == pytest.approx(sps)
    rc = np.convolve(h, h)
    centre = len(rc) // 2
    isi = rc[centre + sps :: sps] / rc[centre]
    assert np.max(np.abs(isi)) < 5e-3  # raised cosine: zero crossings at symbol spacings (11-symbol truncation)
    with pytest.raises(ValueError, match="rolloff"):
        m.rrc_taps(8, 0.0, 11)


def test_linear_modulation_has_unit_power():
    rng = np.random.default_rng(1)
    points = qam(16)[rng.integers(0, 16, size=(64, 200))]
    x = m.linear(points, m.rrc_taps(8, 0.35, 11), 8)[:, 100:-100]
    assert np.mean(np.abs(x) ** 2) == pytest.approx(1.0, rel=0.03)


@pytest.mark.parametrize("fam", sorted(FAMILIES))
def test_constellations_unit_energy_distinct_points(fam):
    for mod in FAMILIES[fam].classes:
        if mod.constellation is None:
            assert mod.scheme in ("fsk", "fm", "am")
            continue
        pts = mod.constellation()
        assert pts.shape == (mod.order,), mod.name
        assert np.mean(np.abs(pts) ** 2) == pytest.approx(1.0), mod.name
        assert len(np.unique(np.round(pts, 9))) == mod.order, mod.name


def test_constellation_shapes():
    assert np.allclose(psk(2), [1, -1])
    assert np.all(ask(4).real >= 0) and np.allclose(ask(4).imag, 0)  # unipolar ASK
    assert np.allclose(pam(4).real.sum(), 0) and np.allclose(pam(4).imag, 0)  # bipolar PAM
    cross = qam(32)
    levels = np.unique(np.round(np.abs(cross.real) / np.min(np.abs(cross.real)), 6))
    assert list(levels) == [1, 3, 5] and len(cross) == 32  # 6x6 grid minus its 4 corners
    assert len(qam(128)) == 128
    rings = np.unique(np.round(np.abs(apsk((4, 12), (1.0, 2.7))), 9))
    assert rings[1] / rings[0] == pytest.approx(2.7)
    with pytest.raises(ValueError):
        qam(8)


@pytest.mark.parametrize("bt,index", [(None, 0.5), (0.35, GFSK_INDEX), (0.3, 0.5)])
def test_cpm_constant_envelope_and_phase_per_symbol(bt, index):
    sps = 8
    bits = np.ones((2, 40), dtype=np.int64)
    bits[1] = 0
    x = m.cpm(bits, m.gaussian_frequency_pulse(sps, bt), sps, index)
    np.testing.assert_allclose(np.abs(x), 1.0)
    steady = np.angle(x[:, 20 * sps + 1] / x[:, 19 * sps + 1])
    np.testing.assert_allclose(steady, [np.pi * index, -np.pi * index], atol=1e-9)


def test_gfsk_index_matches_gnuradio_sensitivity():
    # gfsk_mod(sensitivity=0.1 rad/sample) at 8 samples/symbol: 0.8 rad per symbol.
    assert np.pi * GFSK_INDEX == pytest.approx(0.1 * 8)


def test_offset_qpsk_delays_q_by_half_a_symbol():
    sym = np.array([[1 + 1j, -1 - 1j, 1 - 1j]]) / np.sqrt(2)
    taps = m.rrc_taps(8, 0.35, 11)
    x = m.offset_linear(sym, taps, 8)
    plain = m.linear(sym, taps, 8)
    np.testing.assert_allclose(x.real, plain.real)
    np.testing.assert_allclose(x.imag[:, 4:], plain.imag[:, :-4])


def test_fm_is_constant_envelope_with_deviation():
    audio = np.full((1, 100), 0.5)
    x = m.fm(audio, 200e3)
    np.testing.assert_allclose(np.abs(x), 1.0)
    freq = np.angle(x[0, 1:] / x[0, :-1]) / (2 * np.pi) * 200e3
    np.testing.assert_allclose(freq, 0.5 * m.FM_DEVIATION_HZ)


def test_am_variants():
    audio = np.zeros((1, 50))
    assert np.allclose(np.abs(m.am(audio, sideband="dsb", carrier=True, level=0.1)), 1 / np.sqrt(1.01))
    assert np.allclose(m.am(audio, sideband="dsb", carrier=False, level=0.1), 0)
    with pytest.raises(ValueError, match="analytic"):
        m.am(audio, sideband="ssb", carrier=False, level=0.1)


def test_speech_like_level_pauses_and_band():
    rng = np.random.default_rng(2)
    a = sources.speech_like(rng, 600, 1024, 200e3)
    assert a.shape == (600, 1024) and a.dtype == np.float64
    power = np.mean(a**2, axis=1)
    silent = power < 1e-3 * sources.SPEECH_LEVEL**2
    assert 0.15 < silent.mean() < 0.35  # pauses: 25 % of excerpts start in one
    active = power[power > 0.1 * sources.SPEECH_LEVEL**2]
    assert np.mean(active) == pytest.approx(sources.SPEECH_LEVEL**2, rel=0.3)
    assert np.abs(a).max() < 1.0
    spectrum = np.mean(np.abs(np.fft.rfft(a, axis=1)) ** 2, axis=0)
    freqs = np.fft.rfftfreq(1024, 1 / 200e3)
    assert spectrum[freqs < 5e3].sum() / spectrum.sum() > 0.99  # audio band


def test_speech_analytic_is_upper_sideband_with_same_audio():
    n = 8192
    real = sources.speech_like(np.random.default_rng(3), 40, n, 200e3)
    analytic = sources.speech_like(np.random.default_rng(3), 40, n, 200e3, analytic=True)
    np.testing.assert_allclose(analytic.real, real, atol=1e-12)
    spec = np.mean(np.abs(np.fft.fft(analytic * np.hanning(n), axis=1)) ** 2, axis=0)
    freqs = np.fft.fftfreq(n, 1 / 200e3)
    assert spec[freqs < 0].sum() / spec[freqs > 0].sum() < 0.01  # > 20 dB sideband rejection


def test_random_symbols_uniform():
    sym = sources.random_symbols(np.random.default_rng(4), 100, 160, 4)
    assert sym.dtype == np.int64 and sym.min() == 0 and sym.max() == 3
    np.testing.assert_allclose(np.bincount(sym.ravel()) / sym.size, 0.25, atol=0.01)
