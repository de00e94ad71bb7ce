"""The batched max-product solver: KKT conditions, agreement with cvxpy's GP, SE, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from amc_tf.config.base import validate_config
from amc_tf.config.mimo import MimoSystemConfig
from amc_tf.errors import ConfigError
from amc_tf.mimo import channels, gains, geometry, power
from amc_tf.mimo.reference import max_product_power_gp

SYS = validate_config(MimoSystemConfig, {"antennas": 16})


@pytest.fixture(scope="module")
def terms():
    rows, _ = channels.correlation_rows(geometry.drop_ues(SYS, 24, np.random.default_rng(11)), SYS)
    g = gains.mr_closed_form(rows, SYS)
    return g.a, g.b


def test_solution_meets_the_kkt_conditions(terms):
    a, b = terms
    rho = power.max_product_power(a, b, SYS.pmax_mw)
    assert rho.shape == a.shape and (rho > 0).all()
    kkt = power.kkt_residuals(a, b, rho, SYS.pmax_mw)
    assert kkt["infeasibility"].max() == 0.0
    assert kkt["stationarity"].max() < 1e-4  # g_u is O(1): 1 − (interference share)
    assert kkt["slackness"].max() < 1e-6  # λ_j (Pmax − Σ_k ρ_jk), the barrier's duality gap
    # at least one cell spends the whole budget (scaling all powers up raises every SINR) …
    assert (rho.sum(axis=2).max(axis=1) > SYS.pmax_mw * (1 - 1e-6)).all()
    # … but the optimum need not use all of it everywhere
    assert (rho.sum(axis=2) < 0.99 * SYS.pmax_mw).any()


def test_solution_matches_cvxpy_geometric_program(terms):
    a, b = terms
    rho = power.max_product_power(a[:3], b[:3], SYS.pmax_mw)
    ours = power.log_product_sinr(a[:3], b[:3], rho)
    ref = np.array(
        [
            power.log_product_sinr(a[i : i + 1], b[i : i + 1], max_product_power_gp(a[i], b[i], SYS.pmax_mw)[None])[0]
            for i in range(3)
        ]
    )
    # relative gap of the SINR product: |Π ours / Π cvxpy − 1| = |exp(Δ log) − 1|
    assert np.abs(np.expm1(ours - ref)).max() < 1e-4
    assert (ours >= ref - 1e-6).all()  # never worse than the reference beyond its own tolerance


def test_no_local_improvement_exists(terms):
    a, b = terms
    rho = power.max_product_power(a[:4], b[:4], SYS.pmax_mw)
    best = power.log_product_sinr(a[:4], b[:4], rho)
    rng = np.random.default_rng(0)
    for _ in range(20):
        trial = rho * np.exp(0.05 * rng.standard_normal(rho.shape))
        trial *= np.minimum(1.0, SYS.pmax_mw / trial.sum(axis=2, keepdims=True))  # keep it feasible
        assert (power.log_product_sinr(a[:4], b[:4], trial) <= best + 1e-7).all()


def test_spectral_efficiency_formula():
    a = np.array([[[10.0, 20.0]]])
    b = np.zeros((1, 1, 2, 1, 2))
    b[0, 0, 1, 0, 0] = 0.5  # UE 1's precoder leaks into UE 0
    rho = np.array([[[1.0, 2.0]]])
    sinr = power.sinr(a, b, rho)
    np.testing.assert_allclose(sinr, [[[10.0 / (0.5 * 2 + 1), 40.0]]])
    se = power.spectral_efficiency(a, b, rho, tau_c=200, tau_p=5)
    np.testing.assert_allclose(se, 195 / 200 * np.log2(1 + sinr))


def test_bad_inputs_are_refused(terms):
    a, b = terms
    bad = a.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ConfigError, match="finite"):
        power.max_product_power(bad, b, 500.0)
    with pytest.raises(ConfigError, match="shape"):
        power.max_product_power(a, b[:, :2], 500.0)
    with pytest.raises(ConfigError, match="pmax"):
        power.max_product_power(a, b, -1.0)
    with pytest.raises(ConfigError, match="> 0"):
        power.max_product_power(-a, b, 500.0)
