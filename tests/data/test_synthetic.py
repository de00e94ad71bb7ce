"""The synthetic generator end to end: layout, labels, seeding, normalisation, AM-SSB, config errors."""

from __future__ import annotations

import numpy as np
import pytest

from amc_tf.config.base import validate_config
from amc_tf.config.data import SyntheticConfig
from amc_tf.data.synthetic import generate, synthesize
from amc_tf.errors import ConfigError

RML2016 = ["8PSK", "AM-DSB", "AM-SSB", "BPSK", "CPFSK", "GFSK", "PAM4", "QAM16", "QAM64", "QPSK", "WBFM"]
RML2018 = ["OOK", "4ASK", "8ASK", "BPSK", "QPSK", "8PSK", "16PSK", "32PSK", "16APSK", "32APSK", "64APSK", "128APSK",
           "16QAM", "32QAM", "64QAM", "128QAM", "256QAM", "AM-SSB-WC", "AM-SSB-SC", "AM-DSB-WC", "AM-DSB-SC", "FM",
           "GMSK", "OQPSK"]  # fmt: skip


def _cfg(**kw) -> SyntheticConfig:
    return validate_config(SyntheticConfig, kw)


def test_rml2016_layout_labels_and_manifest():
    cfg = _cfg(windows_per_key=3, snrs=[-20, 0, 18])
    ds = generate(cfg)
    assert ds.classes == tuple(RML2016)
    assert ds.x.shape == (11 * 3 * 3, 2, 128) and ds.x.dtype == np.float32
    assert ds.y.dtype == np.int64 and ds.snr.dtype == np.int32
    np.testing.assert_array_equal(ds.y, np.repeat(np.arange(11), 9))
    np.testing.assert_array_equal(ds.snr[:9], [-20] * 3 + [0] * 3 + [18] * 3)
    assert ds.manifest["source"] == "synthetic"
    assert ds.manifest["generator"] == cfg.model_dump(mode="json")
    assert ds.manifest["config_hash"] == cfg.config_hash() and ds.manifest["seed"] == 0
    full = SyntheticConfig()
    assert full.resolved_snrs == tuple(range(-20, 20, 2)) and full.resolved_window == 128
    assert full.windows_per_key == 1000


def test_rml2018_layout_labels_and_rms_normalisation():
    cfg = _cfg(family="rml2018", windows_per_key=2, snrs=[30], window=256)
    ds = generate(cfg)
    assert ds.classes == tuple(RML2018)
    assert ds.x.shape == (24 * 2, 2, 256)
    power = np.mean(ds.x[:, 0].astype(np.float64) ** 2 + ds.x[:, 1].astype(np.float64) ** 2, axis=1)
    np.testing.assert_allclose(power, 1.0, rtol=1e-5)
    full = SyntheticConfig(family="rml2018")
    assert full.resolved_snrs == tuple(range(-20, 32, 2)) and full.resolved_window == 1024


def test_l1_normalisation():
    ds = generate(_cfg(windows_per_key=4, snrs=[-10, 10]))
    l1 = np.sum(np.hypot(ds.x[:, 0].astype(np.float64), ds.x[:, 1].astype(np.float64)), axis=1)
    np.testing.assert_allclose(l1, 1.0, rtol=1e-5)


def test_subset_keeps_family_label_order():
    ds = generate(_cfg(classes=["WBFM", "BPSK", "8PSK"], windows_per_key=2, snrs=[0]))
    assert ds.classes == ("8PSK", "BPSK", "WBFM")
    ds18 = generate(_cfg(family="rml2018", classes=["GMSK", "OOK"], windows_per_key=1, snrs=[0], window=64))
    assert ds18.classes == ("OOK", "GMSK")


def test_same_seed_byte_identical_other_seed_differs():
    kw = dict(windows_per_key=5, snrs=[0, 10], classes=["QPSK", "WBFM", "AM-DSB", "GFSK"])
    a, b = generate(_cfg(**kw)), generate(_cfg(**kw))
    assert a.x.tobytes() == b.x.tobytes() and a.fingerprint() == b.fingerprint()
    c = generate(_cfg(seed=1, **kw))
    assert not np.array_equal(a.x, c.x)
    # Threads do not change the result.
    d = generate(_cfg(**kw), workers=1)
    assert a.x.tobytes() == d.x.tobytes()


def test_key_windows_do_not_depend_on_other_keys():
    both = generate(_cfg(windows_per_key=3, snrs=[0, 10], classes=["QPSK", "CPFSK"]))
    alone = generate(_cfg(windows_per_key=3, snrs=[10], classes=["CPFSK"]))
    assert both.classes == ("CPFSK", "QPSK")
    np.testing.assert_array_equal(both.x[(both.y == 0) & (both.snr == 10)], alone.x)


def test_am_ssb_faithful_is_noise_only_real_carries_signal():
    faithful = _cfg(classes=["AM-SSB"], snrs=[18])
    syn = synthesize(faithful, "AM-SSB", 18, 16, 0)
    assert np.all(syn.signal == 0)
    # Pure noise at the unit reference power: power 10^(-18/10) in both conventions' sense.
    assert np.mean(np.abs(syn.noise) ** 2) == pytest.approx(10 ** (-1.8), rel=0.05)
    real = _cfg(classes=["AM-SSB"], snrs=[18], am_ssb="real")
    syn_real = synthesize(real, "AM-SSB", 18, 64, 0)
    active = np.mean(np.abs(syn_real.signal) ** 2, axis=1) > 0.1
    assert active.mean() > 0.5
    # Generated windows: faithful is white (flat spectrum), real has its power in the audio band.
    for cfg, flat in ((faithful, True), (real, False)):
        ds = generate(cfg.model_copy(update={"windows_per_key": 64}))
        z = ds.x[:, 0] + 1j * ds.x[:, 1]
        spectrum = np.mean(np.abs(np.fft.fft(z, axis=1)) ** 2, axis=0)
        band = spectrum[np.r_[0:4, -3:0]].sum() / spectrum.sum()  # |f| < ~5 kHz of 200 kHz
        assert (band < 0.15) if flat else (band > 0.8)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"classes": ["QPSK", "FOO"]}, "unknown class name"),
        ({"family": "rml2018", "classes": ["QAM16"]}, "16QAM"),
        ({"snrs": [0, 3]}, "[3] not on the rml2016 grid"),
        ({"snrs": [20]}, "[20] not on the rml2016 grid"),
        ({"windows_per_key": 0}, "windows_per_key"),
        ({"windowz": 128}, "unknown field"),
        ({"channel": {"rician": 4}}, "channel.rician"),
        ({"am_ssb": "fake"}, "am_ssb"),
        ({"snr_convention": "nominal"}, "snr_convention"),
        ({"family": "rml2017"}, "family"),
        ({"channel": {"delays": [0.0, 1.0], "gains": [1.0]}}, "same length"),
        ({"channel": {"doppler_hz": 500.0}}, "block-static"),
        ({"channel": {"sro_max_hz": 5000.0}}, "drift a whole sample"),
    ],
)
def test_bad_config_raises_config_error(data, message):
    with pytest.raises(ConfigError) as err:
        validate_config(SyntheticConfig, data)
    assert message in str(err.value)


def test_rml2018_accepts_its_grid():
    cfg = _cfg(family="rml2018", snrs=[30, -20], classes=["FM", "OQPSK"])
    assert cfg.resolved_snrs == (-20, 30) and cfg.resolved_classes == ("FM", "OQPSK")


def test_progress_lines(capsys):
    generate(_cfg(windows_per_key=1, snrs=[0], classes=["BPSK", "QPSK"]), progress=True)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and "BPSK" in lines[0] and "2/2 windows" in lines[1]


@pytest.mark.slow
def test_full_rml2016_set():
    ds = generate(SyntheticConfig())
    assert ds.x.shape == (220_000, 2, 128)
    assert np.bincount(ds.y).tolist() == [20_000] * 11
    assert sorted(np.unique(ds.snr).tolist()) == list(range(-20, 20, 2))
    assert np.isfinite(ds.x).all()
