"""Adversarial training: frozen layers and pruned weights hold, budgets are met, AT beats clean training."""

from __future__ import annotations

import numpy as np
import pytest

from amc_tf.attacks.budgets import Budget, Norm
from amc_tf.attacks.registry import build_attack
from amc_tf.config.defense import AdversarialTrainingConfig
from amc_tf.defenses.adversarial_model import AdversarialTrainer
from amc_tf.defenses.adversarial_steps import online_attack, radius
from amc_tf.defenses.adversarial_training import adversarial_train, online_epoch_throughput, prepare
from amc_tf.errors import ConfigError
from amc_tf.models.loading import load_model
from amc_tf.prune.apply import copy_model
from amc_tf.runtime import keras, set_seed, tf
from amc_tf.training.fit import fit_classifier

FAST = {"epochs": 2, "batch_size": 64, "patience": 0, "verbose": 0}


def _config(**kw) -> AdversarialTrainingConfig:
    kw.setdefault("train", FAST)
    kw.setdefault("freeze", [])
    return AdversarialTrainingConfig(**kw)


def _conv_names(model) -> list[str]:
    return [layer.name for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]


@pytest.fixture(scope="module")
def small(tiny_data):
    """300 training windows (all SNRs)."""
    return tiny_data.subset(slice(0, 300))


@pytest.mark.parametrize("mode", ["online", "offline"])
def test_frozen_layers_do_not_change_and_the_others_do(tiny_model, small, mode):
    first, second = _conv_names(tiny_model)
    result = adversarial_train(tiny_model, small, None, _config(mode=mode, freeze=[first]), seed=0)
    for layer in tiny_model.layers:
        before, after = layer.get_weights(), result.model.get_layer(layer.name).get_weights()
        same = all(np.array_equal(a, b) for a, b in zip(before, after))
        assert same == (layer.name == first or not before), layer.name
    assert result.frozen_layers == [first]
    assert result.frozen_params == sum(w.size for w in tiny_model.get_layer(first).get_weights())
    assert result.trainable_params == tiny_model.count_params() - result.frozen_params
    assert result.model.get_layer(first).trainable  # the returned model has its original flags


def test_unknown_freeze_layer_is_a_config_error(tiny_model, small):
    with pytest.raises(ConfigError, match="has no layer"):
        adversarial_train(tiny_model, small, None, _config(freeze=["dense1"]), seed=0)


@pytest.mark.parametrize("mode", ["online", "offline"])
def test_pruned_weights_stay_zero(tiny_model, small, mode):
    pruned = copy_model(tiny_model)
    layer = pruned.get_layer(_conv_names(pruned)[1])
    kernel, bias = layer.get_weights()
    kernel[np.abs(kernel) < np.quantile(np.abs(kernel), 0.7)] = 0.0
    layer.set_weights([kernel, bias])
    result = adversarial_train(pruned, small, None, _config(mode=mode), seed=0)
    after = result.model.get_layer(layer.name).get_weights()[0]
    assert np.array_equal(after == 0, kernel == 0)
    assert not np.array_equal(after, kernel)  # the surviving weights were trained
    report = result.sparsity[layer.name]
    assert report["kept"] and report["before"] == report["after"] == pytest.approx(np.mean(kernel == 0))


def _trainer(model, attack: dict, budget: dict) -> AdversarialTrainer:
    config = _config(mode="online", mix=[{"attack": attack, "fraction": 1.0}], budget=budget)
    clf, masks = prepare(model, config)
    return AdversarialTrainer(clf, [(online_attack(config.mix[0].attack), 1.0)], config.budget, masks=masks)


@pytest.mark.parametrize(
    ("attack", "budget", "norm"),
    [
        ("fgm", {"pnr_db": -10.0}, Norm.L2),
        ("fgsm", {"pnr_db": -10.0}, Norm.LINF),
        ({"name": "pgd_linf", "steps": 5}, {"pnr_db": -4.0}, Norm.LINF),
        ({"name": "pgd_l2", "steps": 5, "step_fraction": 0.5}, {"pnr_db": 0.0}, Norm.L2),
        ("fgm", {"pnr_db": -10.0, "linf_convention": "same_eps"}, Norm.L2),
        ("fgsm", {"pnr_db": -10.0, "linf_convention": "same_eps"}, Norm.LINF),
        ("fgsm", {"eps": 0.002}, Norm.LINF),
    ],
)
def test_online_examples_meet_the_budget(tiny_model, tiny_data, attack, budget, norm):
    data = tiny_data.subset(slice(0, 96))
    trainer = _trainer(tiny_model, attack, budget)
    x, snr = tf.constant(data.x), tf.constant(data.snr.astype(np.float32))
    x_adv, eps = trainer.adversarial_part(x, tf.constant(data.y), snr)
    x_adv, eps = x_adv.numpy(), eps.numpy()
    config_budget = trainer.budget
    if config_budget.eps is None:  # the in-graph radius is budgets.py's
        want = Budget.pnr(config_budget.pnr_db, config_budget.linf_convention).radius(data.x, data.snr, norm)
        np.testing.assert_allclose(eps, want, rtol=1e-6)
    delta = (x_adv - data.x).reshape(len(data), -1).astype(np.float64)
    size = np.linalg.norm(delta, axis=1) if norm is Norm.L2 else np.abs(delta).max(axis=1)
    np.testing.assert_allclose(size, eps, rtol=1e-5)  # on the ball's surface, never outside
    if norm is Norm.L2:
        from amc_tf.attacks.budgets import measured_pnr_db

        np.testing.assert_allclose(measured_pnr_db(data.x, x_adv, data.snr), config_budget.pnr_db, atol=1e-3)


def test_pnr_range_is_drawn_per_example_within_it(tiny_model, tiny_data):
    data = tiny_data.subset(slice(0, 128))
    trainer = _trainer(tiny_model, "fgm", {"pnr_db_range": [-20.0, 0.0]})
    x_adv, eps = trainer.adversarial_part(
        tf.constant(data.x), tf.constant(data.y), tf.constant(data.snr.astype(np.float32))
    )
    from amc_tf.attacks.budgets import measured_pnr_db

    pnr = measured_pnr_db(data.x, x_adv.numpy(), data.snr)
    assert pnr.min() >= -20.0 - 1e-3 and pnr.max() <= 1e-3 and pnr.std() > 3.0
    assert np.all(np.diff(radius(trainer.budget, data.x, data.snr, pnr.astype(np.float32), Norm.L2)) != 0)


def test_result_audit_reports_exact_fgsm_and_pgd_budgets(tiny_model, small):
    result = adversarial_train(tiny_model, small, None, _config(mode="online"), seed=0)
    for key, report in result.audit.items():
        assert report["ok"] and report["n_over"] == 0, key
        assert report["norm_ratio_min"] == pytest.approx(1.0, abs=1e-5), key  # ||delta||_inf = radius
    assert result.audit["1:fgsm"]["pnr_gap_db_max"] < 1e-3
    assert result.crafted == {"0:pgd_linf": 2 * 150, "1:fgsm": 2 * 150}  # 2 epochs, batch split 50/50


def test_offline_split_and_rounds(tiny_model, small, tmp_path, capsys):
    config = _config(mode="offline", rounds=2, adversarial_fraction=0.5, pgd_steps=[1, 2], train={**FAST, "epochs": 1})
    result = adversarial_train(tiny_model, small, None, config, seed=0, checkpoint_dir=tmp_path)
    assert [r["crafted"] for r in result.rounds] == [{"0:pgd_linf": 75, "1:fgsm": 75}] * 2  # N1 = N2 = N/2
    assert result.crafted == {"0:pgd_linf": 150, "1:fgsm": 150}
    assert result.epochs == 2 and [r["train_windows"] for r in result.rounds] == [450, 450]
    assert all(report["ok"] for report in result.audit.values())
    again = adversarial_train(tiny_model, small, None, config, seed=0, checkpoint_dir=tmp_path)  # resumes
    assert "reusing the crafted windows" in capsys.readouterr().err
    assert all(np.array_equal(a, b) for a, b in zip(result.model.get_weights(), again.model.get_weights()))


def test_trained_model_saves_and_loads_through_the_safe_loader(tiny_model, small, tmp_path):
    result = adversarial_train(tiny_model, small, None, _config(mode="online", train={**FAST, "epochs": 1}), seed=0)
    result.model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(small.x[:8], verbose=0), result.model.predict(small.x[:8], verbose=0))
    assert result.to_json()["mode"] == "online" and result.metrics()["samples_per_s"] > 0


def test_online_epoch_throughput(tiny_model, small):
    config = _config(mix=[{"attack": {"name": "pgd_l2", "steps": 3}, "fraction": 1.0}], pgd_steps=[2])
    out = online_epoch_throughput(tiny_model, small.x, small.y, small.snr, config, seed=0)
    assert out["samples_per_s"] > 0 and out["n"] == len(small)


def test_online_at_beats_standard_training_under_pgd(tiny, tiny_model, tiny_data):
    """Same start, recipe, seed and budget (PNR 0 dB): PGD-L∞ accuracy on held-out 10 dB windows.
    Measured over seeds 0, 1, 2: AT 20-23 %, clean fine-tuning 1-5 % (margin >= 15 points)."""
    test = tiny.make_dataset(50, snrs=(10,), seed=99)
    train = {**FAST, "epochs": 4, "learning_rate": 3e-3}
    pgd = {"name": "pgd_linf", "steps": 3, "step_fraction": 0.5}
    config = _config(mode="online", budget={"pnr_db": 0.0}, mix=[{"attack": pgd, "fraction": 1.0}], train=train)
    robust_model = adversarial_train(tiny_model, tiny_data, None, config, seed=0).model
    set_seed(0)
    standard = copy_model(tiny_model)
    fit_classifier(standard, tiny_data, None, config.train)

    def robust(model) -> float:
        attack = build_attack("pgd_linf", model, budget=Budget.pnr(0.0), steps=10, seed=0)
        return tiny.accuracy(model, attack.generate(test.x, test.y, snr=test.snr), test.y)

    assert robust(robust_model) >= robust(standard) + 0.10
