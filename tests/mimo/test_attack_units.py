"""Cell attacks in normalised units, inside the data domain, and adversarial training (issue 12)."""

from __future__ import annotations

import numpy as np
import pytest

from amc_tf.config.base import validate_config
from amc_tf.config.mimo import MimoAdversarialConfig, MimoAttackConfig, MimoPipelineConfig, MimoTrainConfig
from amc_tf.errors import AttackError, ConfigError, ModelError
from amc_tf.mimo.adversarial import adversarial_train
from amc_tf.mimo.attack_space import InputSpace, cell_bounds
from amc_tf.mimo.cell_attacks import CellFGSM, CellMIFGSM, CellPGDM, CellRandomSign, predicted_total
from amc_tf.mimo.robustness import attack_sweep
from amc_tf.models.mimo_dnn import build_power_model
from amc_tf.runtime import keras


def _standardize(model) -> tuple[np.ndarray, np.ndarray]:
    layer = model.get_layer("standardize")
    return np.asarray(layer.mean), np.asarray(layer.std)


def test_fgsm_in_normalized_units_moves_each_coordinate_by_eps_times_its_std(trained_m1, power_data):
    model, _ = trained_m1
    x = power_data["x"][power_data["test"]][:64]
    _, std = _standardize(model)
    eps = 0.1
    x_adv = CellFGSM(model, eps=eps, unit="normalized").generate(x)
    moved = np.abs(x_adv.astype(np.float64) - x)
    grad = CellFGSM(model, eps=eps).gradient(x)
    nonzero = grad != 0
    # the measured displacement is exactly eps·std per feature (float32 rounding at ~500 m)
    np.testing.assert_allclose(moved[nonzero], np.broadcast_to(eps * std, x.shape)[nonzero], atol=2e-4)
    # in metres that is ~7 m per coordinate in 250 m cells (std ≈ 250/√12), far beyond 0.5 m
    assert 6 < float(np.mean(eps * std)) < 9
    # iterative attacks stay in the same ball, in every feature
    for attack in (CellPGDM(model, eps=eps, unit="normalized"), CellMIFGSM(model, eps=eps, unit="normalized")):
        assert (np.abs(attack.generate(x).astype(np.float64) - x) <= eps * std + 2e-4).all()


def test_db_model_ball_lives_in_db_z_space():
    rng = np.random.default_rng(0)
    x = rng.uniform(40, 460, (32, 40)).astype(np.float32)
    db = 10 * np.log10(x.astype(np.float64))
    model = build_power_model("M1", db.mean(axis=0), db.std(axis=0), input_transform="db", seed=3)
    space = InputSpace.of(model, "normalized")
    assert space.db
    eps = 0.2
    x_adv = CellRandomSign(model, eps=eps, unit="normalized", seed=1).generate(x)
    z_moved = np.abs(space.encode(x_adv).astype(np.float64) - space.encode(x))
    np.testing.assert_allclose(z_moved, eps, rtol=1e-3)
    # a dB ball is multiplicative in metres: the displacement grows with the coordinate
    ratio = np.abs(x_adv / x - 1)
    np.testing.assert_allclose(ratio, np.abs(10 ** (np.sign(x_adv - x) * eps * db.std(axis=0) / 10) - 1), rtol=1e-3)
    np.testing.assert_allclose(space.decode(space.encode(x)), x, rtol=1e-5)


def test_adversarial_positions_stay_inside_their_cells(trained_m1, power_data, tiny_system):
    model, _ = trained_m1
    x = power_data["x"][power_data["test"]][:80]
    lo, hi = cell_bounds(tiny_system)
    assert lo.shape == (40,) and (x >= lo).all() and (x <= hi).all()
    for cls in (CellFGSM, CellPGDM, CellMIFGSM, CellRandomSign):
        for unit, eps in (("metres", 200.0), ("normalized", 3.0)):
            kwargs = {"step": eps / 10, "iterations": 12} if cls is CellPGDM else {}
            x_adv = cls(model, eps=eps, unit=unit, bounds=(lo, hi), **kwargs).generate(x)
            assert (x_adv >= lo - 1e-3).all() and (x_adv <= hi + 1e-3).all(), (cls.__name__, unit)
            if cls is CellRandomSign:  # without the box a 200 m step leaves a 250 m cell
                free = cls(model, eps=eps, unit=unit).generate(x)
                assert ((free < lo) | (free > hi)).any()
    with pytest.raises(AttackError, match="bounds"):
        CellFGSM(model, eps=0.1, bounds=(hi, lo))


def test_sweep_reports_the_unit_and_the_displacement_in_metres(trained_m1, power_data):
    model, _ = trained_m1
    x = power_data["x"][power_data["test"]][:60]
    pmax = float(np.median(predicted_total(model, x)))
    settings = MimoAttackConfig(eps_unit="normalized", pgd_iters=5, pgd_step_m=0.05)
    sweep = attack_sweep({0: model}, x, ("FGSM", "RANDOM"), (0.1, 0.3), pmax, settings)
    assert sweep.eps_unit == "normalized"
    _, std = _standardize(model)
    np.testing.assert_allclose(sweep.displacement_m["RANDOM"], [0.1 * std.mean(), 0.3 * std.mean()], rtol=1e-3)
    assert sweep.to_json()["displacement_m"]["FGSM"][1] > sweep.to_json()["displacement_m"]["FGSM"][0] > 1.0
    with pytest.raises(ModelError, match="Standardize"):
        plain = keras.Sequential([keras.Input((40,)), keras.layers.Dense(6)])
        CellFGSM(plain, eps=0.1, unit="normalized")
    with pytest.raises(AttackError, match="unknown eps unit"):
        CellFGSM(model, eps=0.1, unit="feet")


def test_adversarial_training_on_the_adversarial_set_in_normalized_units(trained_m1, power_data, tiny_system):
    model, _ = trained_m1
    d = power_data
    x_tr, y_tr, x_va, y_va = d["x"][d["train"]][:300], d["y"][d["train"]][:300], d["x"][d["val"]], d["y"][d["val"]]
    robust, hist = adversarial_train(
        model,
        "M1",
        x_tr,
        y_tr,
        x_va,
        y_va,
        MimoTrainConfig(epochs=3, patience=2, batch_size=64),
        MimoAdversarialConfig(attack="FGSM", eps_m=0.1, mix_clean=False),
        MimoAttackConfig(eps_unit="normalized"),
        bounds=cell_bounds(tiny_system),
    )
    assert (hist["attack"], hist["eps"], hist["eps_unit"], hist["mix_clean"]) == ("FGSM", 0.1, "normalized", False)
    assert hist["objective"] == "regression_loss"  # the default: the sum-SE view's threat
    assert robust is not model and np.isfinite(hist["best_val_loss"])


def test_adversarial_training_objective_is_a_validated_option(trained_m1, power_data):
    model, _ = trained_m1
    d = power_data
    x_tr, y_tr, x_va, y_va = d["x"][d["train"]][:200], d["y"][d["train"]][:200], d["x"][d["val"]], d["y"][d["val"]]
    train = MimoTrainConfig(epochs=1, patience=1, batch_size=64)
    runs = {}
    for objective in ("regression_loss", "total_power"):
        adv = MimoAdversarialConfig(attack="FGSM", eps_m=0.2, objective=objective, mix_clean=False)
        robust, hist = adversarial_train(
            model, "M1", x_tr, y_tr, x_va, y_va, train, adv, MimoAttackConfig(eps_unit="normalized")
        )
        assert hist["objective"] == objective
        runs[objective] = robust.get_weights()
    # the two objectives craft different training sets, hence different weights
    assert any(not np.allclose(u, v) for u, v in zip(runs["regression_loss"], runs["total_power"], strict=True))
    with pytest.raises(ConfigError, match="objective"):
        validate_config(MimoAdversarialConfig, {"objective": "max_power"})


def test_both_objectives_train_on_the_two_crafted_sets_together(trained_m1, power_data, monkeypatch):
    """``objective: both`` = every example crafted once per threat; the model is fitted on the two
    sets with the true powers twice, and early-stops on both crafted validation sets."""
    import amc_tf.mimo.adversarial as adv_mod
    from amc_tf.mimo.cell_attacks import build_cell_attack

    model, _ = trained_m1
    d = power_data
    x_tr, y_tr, x_va, y_va = (
        d["x"][d["train"]][:64],
        d["y"][d["train"]][:64],
        d["x"][d["val"]][:32],
        d["y"][d["val"]][:32],
    )
    seen = {}

    def capture(arch, x_fit, y_fit, x_val, y_val, train, **kw):
        seen.update(x_fit=x_fit, y_fit=y_fit, x_val=x_val, y_val=y_val)
        return model, {"epochs": 0, "best_val_loss": 0.0}

    monkeypatch.setattr(adv_mod, "train_cell_model", capture)
    attack = MimoAttackConfig(eps_unit="normalized")
    adv = validate_config(
        MimoAdversarialConfig, {"attack": "FGSM", "eps_m": 0.2, "objective": "both", "mix_clean": False}
    )
    _, hist = adversarial_train(model, "M1", x_tr, y_tr, x_va, y_va, MimoTrainConfig(epochs=1), adv, attack)
    k = y_tr.shape[1] - 1
    expected = [
        build_cell_attack("FGSM", model, 0.2, attack, objective=o).generate(x_tr, y_tr[:, :k])
        for o in ("total_power", "regression_loss")
    ]
    np.testing.assert_array_equal(seen["x_fit"], np.concatenate(expected))
    np.testing.assert_array_equal(seen["y_fit"], np.concatenate([y_tr, y_tr]))
    assert len(seen["x_val"]) == len(seen["y_val"]) == 2 * len(x_va)
    assert hist["objective"] == "total_power+regression_loss"
    assert not np.array_equal(expected[0], expected[1])


def test_paper_configs_load_with_the_paper_settings():
    from pathlib import Path

    from amc_tf.config.base import load_config

    root = Path(__file__).resolve().parents[2] / "configs"
    for name in ("mimo_paper.yaml", "mimo_paper_reduced.yaml"):
        cfg = load_config(root / name, MimoPipelineConfig)
        assert cfg.system.cell_side_m == 500 and cfg.system.antennas == 100
        assert cfg.gains.mr_method.value == "monte_carlo" and cfg.gains.normalisation.value == "instantaneous"
        assert cfg.attack.eps_unit.value == "normalized" and cfg.attack.clip_to_cells
        assert not cfg.adversarial.mix_clean and cfg.adversarial.eps_m == 0.3
        # adversarial training crafts its examples for both threats, the sum-SE view's among them
        assert cfg.attack.sumse_objective in cfg.adversarial.objectives() and len(cfg.adversarial.objectives()) == 2
        assert cfg.train.transform_for("MR") == "db" and cfg.train.transform_for("MMMSE") == "linear"
    assert MimoTrainConfig().transform_for("MR") == "linear"
    with pytest.raises(ConfigError, match="eps_unit"):
        validate_config(MimoAttackConfig, {"eps_unit": "feet"})
