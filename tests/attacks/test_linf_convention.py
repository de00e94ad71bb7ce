"""The two L∞ budget conventions: energy-matched ε/√(2L) (default) and the AMC paper's same ε.

Units (design D4): PNR in dB, SNR labels in dB (linear inside the formula),
``eps = sqrt(PNR_lin · ||x||² / (SNR_lin + 1))`` per example, input units.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from amc_tf.attacks import build_attack
from amc_tf.attacks.budgets import Budget, LinfConvention, Norm, audit, measured_pnr_db
from amc_tf.config.attack import RobustnessConfig
from amc_tf.config.base import validate_config
from amc_tf.errors import AttackError, ConfigError


def _eps_from_pnr(x: np.ndarray, snr_db: np.ndarray, pnr_db: float) -> np.ndarray:
    """The L2 radius of design D4, written out independently of the budgets module."""
    energy = (x.astype(np.float64) ** 2).sum(axis=(1, 2))
    return np.sqrt(10 ** (pnr_db / 10) * energy / (10 ** (snr_db / 10) + 1))


def test_same_eps_uses_the_pnr_radius_as_the_linf_radius(snr10):
    x, snr = snr10.x[:16], snr10.snr[:16]
    eps = _eps_from_pnr(x, snr, -10.0)
    same = Budget.pnr(-10.0, "same_eps")
    np.testing.assert_allclose(same.radius(x, snr, Norm.LINF), eps, rtol=1e-6)
    np.testing.assert_allclose(same.radius(x, snr, Norm.L2), eps, rtol=1e-6)  # L2 attacks do not change
    matched = Budget.pnr(-10.0)
    assert matched.linf is LinfConvention.ENERGY_MATCHED
    np.testing.assert_allclose(matched.radius(x, snr, Norm.LINF), eps / math.sqrt(2 * x.shape[2]), rtol=1e-6)


@pytest.mark.parametrize("name", ["fgsm", "pgd_linf", "noise_sign"])
def test_paper_convention_fgsm_has_linf_eps_and_the_implied_pnr(tiny_model, snr10, name):
    """FGSM/PGD-L∞ under ``same_eps``: ‖δ‖∞ = ε from the PNR, and the measured PNR is the nominal
    one plus 10·log10(2L) dB (the energy of a ±ε pattern); energy-matched gives the nominal PNR."""
    x, y, snr = snr10.x[:32], snr10.y[:32], snr10.snr[:32]
    window = x.shape[2]
    eps = _eps_from_pnr(x, snr, -10.0)
    offset = 10 * math.log10(2 * window)
    assert LinfConvention.SAME_EPS.full_sign_offset_db(window) == pytest.approx(offset)
    assert LinfConvention.ENERGY_MATCHED.full_sign_offset_db(window) == 0.0
    for convention, radius, pnr in (
        ("same_eps", eps, -10.0 + offset),
        ("energy_matched", eps / math.sqrt(2 * window), -10.0),
    ):
        attack = build_attack(name, tiny_model, budget=Budget.pnr(-10.0, convention), batch_size=32)
        x_adv = attack.generate(x, y, snr=snr)
        delta = (x_adv.astype(np.float64) - x).reshape(len(x), -1)
        if name != "pgd_linf":  # one full-sign step: every element sits on the radius
            np.testing.assert_allclose(np.abs(delta).max(axis=1), radius, rtol=1e-4)
            np.testing.assert_allclose(measured_pnr_db(x, x_adv, snr), pnr, atol=0.01)
        else:  # projected: within the radius and reaching it
            assert np.all(np.abs(delta).max(axis=1) <= radius * (1 + 1e-4))
            np.testing.assert_allclose(np.abs(delta).max(axis=1), radius, rtol=1e-3)
        assert audit(x, x_adv, attack.resolve_radius(x, snr), Norm.LINF, snr).ok


def test_paper_convention_attacks_harder_at_the_same_nominal_pnr(tiny_model, snr10):
    x, y, snr = snr10.x[:64], snr10.y[:64], snr10.snr[:64]
    acc = {}
    for convention in ("energy_matched", "same_eps"):
        attack = build_attack("fgsm", tiny_model, budget=Budget.pnr(-14.0, convention), batch_size=64)
        acc[convention] = float(np.mean(tiny_model.predict(attack.generate(x, y, snr=snr), verbose=0).argmax(1) == y))
    assert acc["same_eps"] < acc["energy_matched"]


def test_convention_is_validated_and_named():
    with pytest.raises(AttackError, match="linf convention"):
        Budget.pnr(-10.0, "cube")
    assert "same_eps" in str(Budget.pnr(-10.0, "same_eps"))
    assert str(Budget.pnr(-10.0)) == "-10 dB PNR"
    assert "√(2L)" in LinfConvention.ENERGY_MATCHED.label and "paper" in LinfConvention.SAME_EPS.label
    absolute = Budget.absolute(0.1)  # already a radius in the attack's norm: no convention applies
    assert absolute.radius(np.zeros((2, 2, 8), np.float32), None, Norm.LINF).tolist() == pytest.approx([0.1, 0.1])


def test_robustness_config_option():
    assert RobustnessConfig().linf_convention is LinfConvention.ENERGY_MATCHED
    assert validate_config(RobustnessConfig, {"linf_convention": "same_eps"}).linf_convention is LinfConvention.SAME_EPS
    with pytest.raises(ConfigError, match="linf_convention"):
        validate_config(RobustnessConfig, {"linf_convention": "paper"})
