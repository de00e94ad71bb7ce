"""Margins to the budget, gradient sizes in metres, and the wide-eps sweep."""

from __future__ import annotations

import numpy as np
import pytest

from amc_tf.config.mimo import MimoAttackConfig
from amc_tf.mimo.cell_attacks import CellFGSM, predicted_total
from amc_tf.mimo.margins import clean_margins, gradient_l1, margin_report, optimal_budget_use
from amc_tf.mimo.robustness import attack_sweep, success_rate


def test_optimal_budget_use_counts_cells_at_pmax():
    power = np.array([[[100.0, 400.0], [50.0, 50.0]], [[250.0, 249.8], [300.0, 150.0]]])  # [N=2, L=2, K=2]
    out = optimal_budget_use(power, 500.0, rtol=1e-3)
    assert out["at_pmax"] == pytest.approx(0.5)  # totals 500, 100, 499.8 (within 0.5 mW), 450
    assert out["total_mw"]["q50"] <= 500.0 and out["slack_mw"]["mean"] == pytest.approx(
        500.0 - (500 + 100 + 499.8 + 450) / 4
    )


def test_gradient_is_per_metre_and_reach_predicts_fgsm(trained_m1, power_data):
    model, _ = trained_m1
    x = power_data["x"][power_data["test"]]
    pmax = float(np.median(predicted_total(model, x)))  # half the pairs feasible, many near the edge
    grad = gradient_l1({0: model}, x)[0]
    assert (grad > 0).all()
    # a 1 cm step along sign(∇) raises the total by ≈ 1 cm × ‖∇‖₁ (mW per metre)
    step = 0.01 * np.sign(CellFGSM(model, eps=0.0).gradient(x))
    rise = (predicted_total(model, x + step) - predicted_total(model, x)) / 0.01
    np.testing.assert_allclose(np.median(rise), np.median(grad), rtol=0.05)
    eps_grid = (0.0, 0.5, 2.0, 8.0)
    report = margin_report({0: model}, x, pmax, eps_grid, true_power=None)
    reach = [report["reach"][str(e)] for e in eps_grid]
    assert reach[0] == 0.0 and reach == sorted(reach) and reach[-1] > 0
    assert report["feasible"] == pytest.approx(np.mean(clean_margins({0: model}, x, pmax) >= 0))
    # the first-order reach is what FGSM achieves on a locally smooth model
    fgsm = success_rate({0: model}, x, {0: CellFGSM(model, eps=2.0).generate(x)}, pmax)["success"]
    assert fgsm == pytest.approx(report["reach"]["2.0"], abs=0.05)


def test_margin_report_measures_the_bias_against_the_optimum(trained_m1, power_data):
    model, _ = trained_m1
    d = power_data
    x, y = d["x"][d["test"]], d["y"][d["test"]]
    true_power = y[:, None, :5].astype(np.float64)  # cell 0 only: [N, 1, K]
    report = margin_report({0: model}, x, d["pmax"], (0.3,), true_power)
    assert report["total_bias_mw"] == pytest.approx(np.mean(predicted_total(model, x) - y[:, 5]), rel=1e-4, abs=1e-3)
    assert set(report["reach_unbiased"]) == {"0.3"}


def test_wide_sweep_scales_the_pgdm_step(trained_m1, power_data):
    model, _ = trained_m1
    x = power_data["x"][power_data["test"]][:150]
    pmax = float(np.quantile(predicted_total(model, x), 0.3))
    settings = MimoAttackConfig(pgd_iters=4, pgd_step_m=0.01)  # never moves more than 4 cm
    eps = (1.0, 4.0)
    paper = attack_sweep({0: model}, x, ("PGDM",), eps, pmax, settings).success["PGDM"]
    scaled = attack_sweep({0: model}, x, ("PGDM",), eps, pmax, settings, scale_pgd_step=True).success["PGDM"]
    assert paper[0] == paper[1]  # capped at 4 × 1 cm: a larger eps changes nothing
    assert scaled[1] > paper[1] and scaled[1] >= scaled[0]


def test_success_counts_feasible_to_infeasible_pairs_over_all_cells_and_setups():
    """The issue's definition: clean Σ ≤ Pmax and adversarial Σ > Pmax; rate = count / (L·N)."""
    from amc_tf.runtime import keras

    inp = keras.Input((2,))
    model = keras.Model(inp, keras.layers.Dense(2, use_bias=False, trainable=False)(inp))
    model.layers[-1].set_weights([np.array([[0.0, 1.0], [1.0, 0.0]], dtype="float32")])  # last output = x[:, 0]
    x = np.array([[400.0, 0.0], [600.0, 0.0], [499.0, 0.0], [500.0, 0.0]], dtype="float32")
    adv = np.array([[501.0, 0.0], [700.0, 0.0], [499.5, 0.0], [500.0, 0.0]], dtype="float32")
    rates = success_rate({0: model, 1: model}, x, {0: adv, 1: x}, 500.0)
    # cell 0: only setup 0 goes from feasible to infeasible (500 itself is feasible); cell 1: none
    assert rates["success"] == pytest.approx(1 / 8)
    assert rates["clean_feasible"] == pytest.approx(6 / 8) and rates["infeasible"] == pytest.approx(3 / 8)
