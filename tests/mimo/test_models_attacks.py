"""M1/M2, training, the cell-based attacks, adversarial training, transfer and the sum-SE view."""

from __future__ import annotations

import numpy as np
import pytest

from amc_tf.config.base import validate_config
from amc_tf.config.mimo import MimoAdversarialConfig, MimoAttackConfig, MimoTrainConfig
from amc_tf.errors import AttackError, ConfigError, ModelError
from amc_tf.mimo.adversarial import adversarial_train
from amc_tf.mimo.cell_attacks import (
    CellFGSM,
    CellMIFGSM,
    CellPGDM,
    CellRandomSign,
    attack_success,
    build_cell_attack,
    predicted_total,
)
from amc_tf.mimo.model_sets import ModelKey, load_models, save_models
from amc_tf.mimo.robustness import attack_sweep, craft
from amc_tf.mimo.sumse import rescale_to_optimal_total
from amc_tf.mimo.transfer import transfer_matrix
from amc_tf.models.mimo_dnn import build_power_model
from amc_tf.runtime import keras


def test_parameter_counts_match_the_seed_tables():
    zeros, ones = [0.0] * 40, [1.0] * 40
    m1, m2 = build_power_model("M1", zeros, ones), build_power_model("M2", zeros, ones)
    assert m1.count_params() == 6_981
    assert m2.count_params() == 202_373
    assert [l.units for l in m1.layers if isinstance(l, keras.layers.Dense)] == [64, 32, 32, 32, 5]
    assert [l.units for l in m2.layers if isinstance(l, keras.layers.Dense)] == [512, 256, 128, 128, 5]
    out = m1(np.random.default_rng(0).uniform(0, 500, (4, 40)).astype("float32")).numpy()
    assert out.shape == (4, 6)
    np.testing.assert_allclose(out[:, 5], out[:, :5].sum(axis=1), rtol=1e-5)
    with pytest.raises(ConfigError, match="unknown power-allocation architecture"):
        build_power_model("M3", zeros, ones)
    # the original MR network's dB-scaled coordinates: same parameters, finite even at x <= 0
    db = build_power_model("M1", zeros, ones, input_transform="db")
    assert db.count_params() == 6_981
    assert np.isfinite(db(np.full((2, 40), -0.2, dtype="float32")).numpy()).all()
    with pytest.raises(ConfigError, match="input_transform"):
        build_power_model("M1", zeros, ones, input_transform="log")


def test_trained_model_predicts_feasible_powers_and_round_trips(trained_m1, power_data, tmp_path):
    model, history = trained_m1
    d = power_data
    x_test, y_test = d["x"][d["test"]], d["y"][d["test"]]
    assert history["best_val_loss"] < 0.9 * history["val_loss"][0]  # it learned something
    totals = predicted_total(model, x_test)
    assert np.mean(totals <= d["pmax"]) > 0.8  # clean predictions are (mostly) feasible
    rel = np.mean(((y_test - model(x_test).numpy()) / y_test) ** 2)
    assert rel == pytest.approx(history["best_val_loss"], rel=0.5)
    save_models({ModelKey.parse("M1-MR-cell0"): model}, tmp_path / "set")
    loaded = load_models(tmp_path / "set")[ModelKey.parse("M1-MR-cell0")]
    np.testing.assert_allclose(loaded(x_test[:8]).numpy(), model(x_test[:8]).numpy(), rtol=1e-6)
    with pytest.raises(ModelError):
        ModelKey.parse("M1-cell0")


def test_attacks_respect_the_budget_and_raise_the_total(trained_m1, power_data):
    model, _ = trained_m1
    x = power_data["x"][power_data["test"]][:100]
    clean = predicted_total(model, x).mean()
    for attack in (
        CellFGSM(model, eps=0.3),
        CellPGDM(model, eps=0.3),
        CellMIFGSM(model, eps=0.3),
        CellRandomSign(model, eps=0.3),
    ):
        x_adv = attack.generate(x)
        assert x_adv.dtype == np.float32 and np.isfinite(x_adv).all()
        assert np.abs(x_adv - x).max() <= 0.3 + 1e-4
        if attack.uses_gradients:
            assert predicted_total(model, x_adv).mean() > clean
    pgd = predicted_total(model, CellPGDM(model, eps=0.3).generate(x)).mean()
    fgsm = predicted_total(model, CellFGSM(model, eps=0.3).generate(x)).mean()
    assert pgd >= fgsm - 1e-3  # the iterative attack is at least as strong on average


def test_success_grows_with_eps_and_random_signs_are_weaker(trained_m1, power_data):
    model, _ = trained_m1
    x = power_data["x"][power_data["test"]]
    # a budget at the median clean prediction leaves half the pairs feasible but near the edge,
    # so the attack strength shows at small eps even for this small model
    pmax = float(np.median(predicted_total(model, x)))
    # (the paper's PGDM moves at most Q·α = 0.4 m, so the growth is shown with steps eps/I)
    sweep = attack_sweep({0: model}, x, ("MIFGSM", "PGDM", "RANDOM"), (0.0, 0.5, 2.0, 8.0), pmax)
    mi, pgd, rnd = sweep.success["MIFGSM"], sweep.success["PGDM"], sweep.success["RANDOM"]
    assert mi[0] == pgd[0] == 0.0
    assert mi[1] <= mi[2] <= mi[3] and mi[3] > mi[1] > 0
    assert pgd[1] > 0
    assert all(r <= m for r, m in zip(rnd, mi)) and rnd[3] < mi[3] and rnd[1] < pgd[1]
    assert 0.45 < sweep.clean_feasible < 0.55
    assert attack_success(model, x, x, pmax).sum() == 0


def test_bad_attack_arguments_are_refused(trained_m1):
    model, _ = trained_m1
    with pytest.raises(AttackError, match="eps"):
        CellFGSM(model, eps=-0.1)
    with pytest.raises(AttackError, match="eps"):
        CellPGDM(model, eps=float("nan"))
    with pytest.raises(AttackError, match="unknown cell attack"):
        build_cell_attack("CW", model, 0.1)
    with pytest.raises(AttackError, match="non-finite"):
        CellFGSM(model, eps=0.1).generate(np.full((2, 40), np.inf, dtype=np.float32))
    with pytest.raises(AttackError, match="shape"):
        CellFGSM(model, eps=0.1).generate(np.zeros((2, 39), dtype=np.float32))
    classifier = keras.Sequential([keras.Input((2, 16)), keras.layers.Flatten(), keras.layers.Dense(4)])
    with pytest.raises(ModelError, match="regressor"):
        CellFGSM(classifier, eps=0.1)
    with pytest.raises(ConfigError, match="eps_m"):
        validate_config(MimoAttackConfig, {"eps_m": [0.1, -0.2]})


def test_adversarial_training_and_transfer(trained_m1, power_data):
    model, _ = trained_m1
    d = power_data
    x_tr, y_tr, x_va, y_va = d["x"][d["train"]][:400], d["y"][d["train"]][:400], d["x"][d["val"]], d["y"][d["val"]]
    train = MimoTrainConfig(epochs=6, patience=3, batch_size=64)
    robust, hist = adversarial_train(
        model,
        "M1",
        x_tr,
        y_tr,
        x_va,
        y_va,
        train,
        MimoAdversarialConfig(eps_m=2.0),
        MimoAttackConfig(pgd_iters=5, pgd_step_m=0.5),
    )
    assert hist["epochs"] <= 6 and np.isfinite(hist["best_val_loss"])
    assert robust is not model and robust.count_params() == model.count_params()
    x = d["x"][d["test"]][:120]
    pmax = float(np.median(predicted_total(model, x)))
    result = transfer_matrix({"std": {0: model}, "adv": {0: robust}}, x, ("FGSM",), (1.0,), pmax)
    table = result.success["FGSM"]
    assert result.names == ("adv", "std")
    # the diagonal is the white-box rate
    white = craft({0: model}, x, "FGSM", 1.0)
    from amc_tf.mimo.robustness import success_rate

    assert table["std"]["std"][0] == pytest.approx(success_rate({0: model}, x, white, pmax)["success"])
    # every cell of the matrix counts successes over the same 120 setups of one cell
    assert all(abs(table[s][t][0] * 120 - round(table[s][t][0] * 120)) < 1e-9 for s in table for t in table[s])


def test_eq14_rescales_each_cell_to_the_optimal_total_up_or_down():
    rho = np.array([[[300.0, 300.0, -2.0], [100.0, 50.0, 25.0], [0.0, 0.0, 0.0]]])
    optimal = np.array([[[200.0, 200.0, 100.0], [150.0, 150.0, 150.0], [10.0, 20.0, 30.0]]])
    out = rescale_to_optimal_total(rho, optimal)
    # cell 0 is scaled down (600 → 500), cell 1 up (175 → 450), cell 2 (all zero) split equally
    np.testing.assert_allclose(out.sum(axis=2), optimal.sum(axis=2))
    assert (out >= 0).all() and out[0, 0, 2] == 0.0
    np.testing.assert_allclose(out[0, 0, :2], [250.0, 250.0])
    np.testing.assert_allclose(out[0, 1] / out[0, 1].sum(), rho[0, 1] / rho[0, 1].sum())
    np.testing.assert_allclose(out[0, 2], [20.0, 20.0, 20.0])
    with pytest.raises(AttackError, match="shape"):
        rescale_to_optimal_total(rho, optimal[:, :2])
