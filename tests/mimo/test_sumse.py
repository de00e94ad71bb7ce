"""The sum-SE view's attack objective and power budget (issue 12: the direction of the sum-SE figure)."""

from __future__ import annotations

import numpy as np
import pytest

from amc_tf.config.mimo import AttackObjective, MimoAttackConfig
from amc_tf.errors import AttackError
from amc_tf.mimo.cell_attacks import CellFGSM, CellPGDM, build_cell_attack, predict_powers, predicted_total
from amc_tf.mimo.sumse import enforce_budget


def _squared_error(model, x, target):
    return float(((predict_powers(model, x)[:, :-1] - target) ** 2).sum(axis=1).mean())


def test_regression_loss_objective_raises_the_error_to_the_optimal_powers(trained_m1, power_data):
    model, _ = trained_m1
    test = power_data["test"][:100]
    x, target = power_data["x"][test], power_data["y"][test][:, :-1]
    clean = _squared_error(model, x, target)
    for cls in (CellFGSM, CellPGDM):
        attack = cls(model, eps=0.3, objective="regression_loss")
        x_adv = attack.generate(x, target)
        assert np.abs(x_adv - x).max() <= 0.3 + 1e-4
        assert _squared_error(model, x_adv, target) > clean
    # the total-power objective is a different direction: it raises the predicted total
    total = CellFGSM(model, eps=0.3, objective=AttackObjective.TOTAL_POWER).generate(x)
    regression = CellFGSM(model, eps=0.3, objective=AttackObjective.REGRESSION_LOSS).generate(x, target)
    assert not np.allclose(total, regression)
    assert predicted_total(model, total).mean() > predicted_total(model, x).mean()
    built = build_cell_attack("FGSM", model, 0.3, MimoAttackConfig(), objective="regression_loss")
    np.testing.assert_array_equal(built.generate(x, target), regression)


def test_regression_loss_objective_needs_the_optimal_powers(trained_m1, power_data):
    model, _ = trained_m1
    x = power_data["x"][power_data["test"][:4]]
    attack = CellFGSM(model, eps=0.1, objective="regression_loss")
    with pytest.raises(AttackError, match="optimal powers"):
        attack.generate(x)
    with pytest.raises(AttackError, match="optimal powers"):
        attack.generate(x, np.zeros((4, 3), dtype=np.float32))
    with pytest.raises(AttackError, match="unknown attack objective"):
        CellFGSM(model, eps=0.1, objective="sum_se")


def test_enforce_budget_scales_only_the_cells_above_pmax():
    rho = np.array([[[300.0, 300.0, -2.0], [100.0, 50.0, 25.0]]])
    out = enforce_budget(rho, 500.0)
    np.testing.assert_allclose(out[0, 0], [250.0, 250.0, 0.0])  # 600 mW → 500 mW, shares kept
    np.testing.assert_allclose(out[0, 1], rho[0, 1])  # under budget: unchanged
    assert (out.sum(axis=-1) <= 500.0 + 1e-9).all()
