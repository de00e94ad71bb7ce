"""Adversarial attention distillation: the attention distances, the layer mapping, the trainer's
objectives, and the summary table's directions."""

from __future__ import annotations

import numpy as np
import pytest

from amc_tf.config.defense import MixEntry, TrainingBudget
from amc_tf.config.train import TrainConfig
from amc_tf.defenses.adversarial_model import pack_snr
from amc_tf.defenses.adversarial_steps import online_attack
from amc_tf.defenses.robust_distill import RobustDistiller
from amc_tf.distill.attention import DISTANCES, attention_distance, default_pairs
from amc_tf.errors import ConfigError
from amc_tf.models.mcformer import attention_model
from amc_tf.models.registry import build_model
from amc_tf.prune.apply import copy_model
from amc_tf.runtime import set_seed
from amc_tf.training.fit import fit_classifier

PGD = online_attack(MixEntry(attack={"name": "pgd_linf", "steps": 3}, fraction=1.0).attack)
BUDGET = TrainingBudget(pnr_db=-5)


def _sharp(model, gain: float = 30.0):
    """``model`` with its query and key kernels scaled by ``gain``: attention maps far from uniform
    (an untrained transformer's are nearly uniform, so every distance between two is ~0)."""
    for layer in attention_model(model).layers:
        if layer.name.endswith("_attention"):
            for w in layer.weights:
                if "/query/" in w.name or "/key/" in w.name:
                    w.assign(w * gain)
    return model


def _maps(model, x):
    return [m.numpy() for m in attention_model(model)(x, training=False)[1:]]


@pytest.mark.parametrize("distance", DISTANCES)
def test_attention_loss_is_zero_for_the_teacher_itself_and_grows_with_a_perturbation_of_the_student(distance):
    set_seed(3)
    teacher = _sharp(build_model("mcformer_small", 4, 32, input_scale=50.0, dropout=0.0))
    x = np.random.default_rng(0).normal(size=(8, 2, 32)).astype(np.float32) * 0.01
    t_maps = _maps(teacher, x)
    losses = []
    for scale in (0.0, 0.05, 0.2):
        student = copy_model(teacher)
        g = np.random.default_rng(1)
        student.set_weights([w + scale * g.standard_normal(w.shape).astype(np.float32) for w in student.get_weights()])
        s_maps = _maps(student, x)
        losses.append(sum(float(attention_distance(a, b, distance)) for a, b in zip(t_maps, s_maps)))
    assert losses[0] == pytest.approx(0.0, abs=1e-7)
    assert 0.0 < losses[1] < losses[2]


def test_the_distance_compares_head_averages_so_head_counts_may_differ():
    g = np.random.default_rng(0)
    a = g.random((2, 4, 6, 6)).astype(np.float32)
    a /= a.sum(-1, keepdims=True)
    same_mean = np.repeat(a.mean(axis=1, keepdims=True), 2, axis=1)  # 2 heads, same head mean
    for distance in DISTANCES:
        assert float(attention_distance(a, same_mean, distance)) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ConfigError, match="unknown attention distance"):
        attention_distance(a, a, "cosine")


def test_default_pairs_map_layers_at_the_same_relative_depth():
    assert default_pairs(4, 4) == [(1, 1), (2, 2), (3, 3), (4, 4)]
    assert default_pairs(4, 2) == [(2, 1), (4, 2)]
    assert default_pairs(2, 4) == [(1, 1), (1, 2), (2, 3), (2, 4)]


def test_objectives_are_checked():
    teacher = build_model("mcformer_small", 4, 32)
    student = build_model("mcformer_small", 4, 32)
    with pytest.raises(ConfigError, match="takes no attack mix"):
        RobustDistiller(student, teacher, [(PGD, 1.0)], BUDGET, method="kd")
    with pytest.raises(ConfigError, match="needs an attack mix"):
        RobustDistiller(student, teacher, [], BUDGET, method="attention")
    with pytest.raises(ConfigError, match="out of range"):
        RobustDistiller(student, teacher, [(PGD, 1.0)], BUDGET, pairs=[(5, 1)])
    with pytest.raises(ConfigError, match="number of classes"):
        RobustDistiller(student, build_model("mcformer_small", 5, 32), [(PGD, 1.0)], BUDGET)


def _adversarial_gap(trainer: RobustDistiller, teacher, data) -> float:
    """The attention term between teacher and student on windows crafted against the student."""
    from amc_tf.defenses.adversarial_steps import craft, radius
    from amc_tf.runtime import tf

    x, y, snr = data.x[:96], data.y[:96], data.snr[:96].astype(np.float32)
    eps = radius(BUDGET, tf.constant(x), tf.constant(snr), tf.fill([len(x)], -5.0), PGD.norm)
    x_adv = craft(
        trainer.classifier,
        PGD,
        tf.constant(x),
        tf.constant(y),
        eps,
        n_classes=4,
        steps=3,
        seed=tf.constant([0, 0], tf.int64),
    )
    t_maps = attention_model(teacher)(x_adv, training=False)[1:]
    s_maps = attention_model(trainer.classifier)(x_adv, training=False)[1:]
    return float(trainer.attention_term(t_maps, s_maps))


@pytest.mark.parametrize("method", ["attention", "ard", "kd"])
def test_only_the_attention_objective_pulls_the_students_maps_to_the_teachers_on_adversarial_windows(tiny_data, method):
    set_seed(0)
    teacher = _sharp(build_model("mcformer_small", 4, 32, input_scale=50.0, dropout=0.0))
    set_seed(1)
    student = build_model("mcformer_small", 4, 32, input_scale=50.0, dropout=0.0)
    mix = [] if method == "kd" else [(PGD, 1.0)]
    trainer = RobustDistiller(student, teacher, mix, BUDGET, method=method, beta=10.0, batch_size=64)
    probe = RobustDistiller(student, teacher, [(PGD, 1.0)], BUDGET, method="attention", batch_size=64)
    before = _adversarial_gap(probe, teacher, tiny_data)
    fitted = fit_classifier(
        trainer, pack_snr(tiny_data), None, TrainConfig(learning_rate=1e-2, batch_size=64, epochs=3, patience=0)
    )
    after = _adversarial_gap(probe, teacher, tiny_data)
    assert set(fitted.history) >= {"loss", "kd_loss", "ce_loss", "attention_loss"}
    if method == "attention":
        assert fitted.history["attention_loss"][-1] < fitted.history["attention_loss"][0]
        assert after < 0.5 * before
    else:  # ARD and KD never see the maps: their attention term is not trained (reported as 0)
        assert fitted.history["attention_loss"] == [0.0] * 3
        assert after > 0.5 * before
