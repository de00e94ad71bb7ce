"""SNR is right: measured SNR against the label, the RadioML convention, and BPSK/QPSK SER vs theory."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import erfc

from amc_tf.config.base import validate_config
from amc_tf.config.data import SyntheticConfig
from amc_tf.data.modulators import rrc_taps
from amc_tf.data.synthetic import RRC_ROLLOFF, RRC_SPAN, block_seed, synthesize

SIGNAL_CLASSES = ["8PSK", "AM-DSB", "BPSK", "CPFSK", "GFSK", "PAM4", "QAM16", "QAM64", "QPSK", "WBFM"]


def _q(x: np.ndarray) -> np.ndarray:
    return 0.5 * erfc(x / np.sqrt(2))


@pytest.mark.parametrize("name", SIGNAL_CLASSES)
def test_measured_snr_matches_label_from_0_to_18_db(name):
    cfg = SyntheticConfig(classes=[name])
    for snr in range(0, 20, 2):
        syn = synthesize(cfg, name, snr, 24, block_seed(cfg, name, snr, 0))
        signal = np.sum(np.abs(syn.signal) ** 2)
        noise = np.sum(np.abs(syn.noise) ** 2)
        assert 10 * np.log10(signal / noise) == pytest.approx(snr, abs=0.5), (name, snr)


def test_measured_snr_with_real_am_ssb_and_rml2018_classes():
    cfg = SyntheticConfig(am_ssb="real")
    syn = synthesize(cfg, "AM-SSB", 6, 48, 1)
    assert 10 * np.log10(np.sum(np.abs(syn.signal) ** 2) / np.sum(np.abs(syn.noise) ** 2)) == pytest.approx(6, abs=0.5)
    cfg18 = SyntheticConfig(family="rml2018", window=256)
    for name in ("OOK", "128APSK", "AM-SSB-WC", "AM-DSB-SC", "FM", "GMSK", "OQPSK"):
        syn = synthesize(cfg18, name, 24, 16, 2)
        measured = 10 * np.log10(np.sum(np.abs(syn.signal) ** 2) / np.sum(np.abs(syn.noise) ** 2))
        assert measured == pytest.approx(24, abs=0.5), name


def test_radioml_convention_uses_the_original_noise_amplitude():
    cfg = SyntheticConfig(snr_convention="radioml")
    for snr in (-10, 0, 10):
        syn = synthesize(cfg, "QPSK", snr, 64, 3)
        amplitude = 10 ** (-snr / 10)  # per-component noise std of the original generator
        assert np.std(syn.noise.real) == pytest.approx(amplitude, rel=0.05)
        assert np.std(syn.noise.imag) == pytest.approx(amplitude, rel=0.05)
    # Unit transmit power: through an AWGN-only channel the signal has power 1.
    awgn = SyntheticConfig(snr_convention="radioml", channel={"awgn_only": True})
    for name in ("BPSK", "QAM64", "GFSK", "WBFM"):
        syn = synthesize(awgn, name, 0, 64, 4)
        assert np.mean(np.abs(syn.signal) ** 2) == pytest.approx(1.0, rel=0.05), name
    # The faithful AM-SSB class is the same noise with no signal.
    syn = synthesize(cfg, "AM-SSB", 0, 16, 5)
    assert np.all(syn.signal == 0) and np.std(syn.noise.real) == pytest.approx(1.0, rel=0.1)


@pytest.mark.parametrize("name, snr", [("BPSK", -10), ("BPSK", -6), ("QPSK", -10), ("QPSK", -6)])
def test_symbol_error_rate_matches_theory_in_awgn_only_mode(name, snr):
    """Matched filter + symbol-spaced sampling + nearest point; theory with Es/N0 = sps * SNR."""
    sps, window, n_windows = 8, 1024, 40
    cfg = validate_config(
        SyntheticConfig, {"classes": [name], "snrs": [snr], "window": window, "channel": {"awgn_only": True}}
    )
    syn = synthesize(cfg, name, snr, n_windows, block_seed(cfg, name, snr, 0))
    h = rrc_taps(sps, RRC_ROLLOFF, RRC_SPAN)
    delay = (len(h) - 1) // 2
    points = cfg.spec.modulation(name).constellation()
    errors = total = 0
    theory = []
    for b in range(n_windows):
        y = np.convolve(syn.signal[b] + syn.noise[b], h[::-1]) / sps  # matched filter, unit gain
        peak = np.arange(syn.symbols.shape[1]) * sps + delay - syn.starts[b]  # symbol peaks in window
        inside = (peak >= delay) & (peak < window - delay)
        decided = points[np.argmin(np.abs(y[peak[inside] + delay][:, None] - points[None, :]), axis=1)]
        errors += np.count_nonzero(~np.isclose(decided, syn.symbols[b, inside]))
        total += np.count_nonzero(inside)
        es_n0 = sps / syn.noise_power[b]  # unit-energy symbols; noise power is per sample
        q = _q(np.sqrt(2 * es_n0)) if name == "BPSK" else _q(np.sqrt(es_n0))
        theory.append(q if name == "BPSK" else 2 * q - q * q)
    p = float(np.mean(theory))
    sigma = np.sqrt(p * (1 - p) / total)
    assert total > 4000
    assert errors / total == pytest.approx(p, abs=4 * sigma + 0.002)
