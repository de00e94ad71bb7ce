"""Budgets in wireless units (design D4): formulas, exactness, validation, audit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from amc_tf.attacks.budgets import Budget, BudgetKind, Norm, audit, measured_pnr_db, project
from amc_tf.errors import AttackError


def _x(n=5, window=16, seed=0):
    return (np.random.default_rng(seed).standard_normal((n, 2, window)) * 0.01).astype(np.float32)


def test_pnr_radius_follows_the_papers_formula():
    x = _x()
    snr = np.array([0, 5, 10, 15, 20])
    eps = Budget.pnr(-6.0).radius(x, snr, Norm.L2)
    energy = (x.astype(np.float64) ** 2).sum(axis=(1, 2))
    expected = np.sqrt(10 ** (-0.6) * energy / (10 ** (snr / 10) + 1))
    np.testing.assert_allclose(eps, expected, rtol=1e-6)
    # ... and the PNR of a perturbation with that norm is the request
    delta = np.random.default_rng(1).standard_normal(x.shape)
    delta *= (eps / np.linalg.norm(delta.reshape(5, -1), axis=1))[:, None, None]
    np.testing.assert_allclose(measured_pnr_db(x, x + delta.astype(np.float32), snr), -6.0, atol=0.01)


def test_linf_radius_carries_the_same_energy_as_l2():
    x = _x(window=32)
    l2 = Budget.pnr(-10).radius(x, 10, Norm.L2)
    linf = Budget.pnr(-10).radius(x, 10, Norm.LINF)
    np.testing.assert_allclose(linf, l2 / math.sqrt(2 * 32), rtol=1e-6)
    sign_energy = 2 * 32 * linf.astype(np.float64) ** 2
    np.testing.assert_allclose(sign_energy, l2.astype(np.float64) ** 2, rtol=1e-5)


def test_psr_is_pnr_over_snr():
    x = _x()
    for snr in (0, 10, 18):
        np.testing.assert_allclose(
            Budget.psr(-10 - snr).radius(x, snr, Norm.L2), Budget.pnr(-10).radius(x, snr, Norm.L2), rtol=1e-5
        )


def test_absolute_budget_is_the_radius_in_the_attack_norm():
    x = _x()
    assert np.all(Budget.absolute(0.003).radius(x, None, Norm.LINF) == np.float32(0.003))
    assert not Budget.absolute(0.1).needs_snr and Budget.pnr(0).needs_snr


def test_universal_radius_uses_mean_norm_squared():
    x = _x(n=8)
    sig_pow = np.mean(np.linalg.norm(x.reshape(8, -1).astype(np.float64), axis=1)) ** 2
    assert Budget.pnr(-10).universal_radius(x, 10) == pytest.approx(math.sqrt(0.1 * sig_pow / 11), rel=1e-9)
    with pytest.raises(AttackError, match="one SNR"):
        Budget.pnr(-10).universal_radius(x, np.array([0, 10] * 4))


@pytest.mark.parametrize(
    "make",
    [
        lambda: Budget.absolute(-0.1),
        lambda: Budget.pnr(float("nan")),
        lambda: Budget.psr(float("inf")),
        lambda: Budget.pnr("loud"),
        lambda: Budget("decibels", 3.0),
    ],
)
def test_bad_budgets_are_refused(make):
    with pytest.raises(AttackError):
        make()


def test_missing_or_malformed_snr_is_refused():
    x = _x()
    with pytest.raises(AttackError, match="SNR"):
        Budget.pnr(-10).radius(x, None, Norm.L2)
    with pytest.raises(AttackError, match="shape"):
        Budget.pnr(-10).radius(x, np.zeros(3), Norm.L2)
    assert Budget("pnr_db", 1).kind is BudgetKind.PNR_DB


def test_projection_and_audit():
    x = _x()
    r = np.full(5, 0.01, np.float32)
    big = np.ones_like(x)
    for norm in Norm:
        p = project(big, r, norm)
        rep = audit(x, x + p, r, norm, snr_db=10)
        assert rep.ok and rep.max_ratio == pytest.approx(1.0, rel=1e-5)
    bad = x + big * 0.5
    bad[0, 0, 0] = np.nan
    rep = audit(x, bad, r, Norm.L2)
    assert rep.n_nan == 1 and rep.n_over == 4 and not rep.ok
