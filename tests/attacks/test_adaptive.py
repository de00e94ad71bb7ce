"""Adaptive attacks through the rejectors on the tiny problem: inside the PNR budget, the objective
is negative exactly on escapes, the adaptive attack is at least as strong as its non-adaptive twin
against neural rejection, the detector-aware attack evades the auto-encoder more often than plain PGD, and the
metric counts rejections as the design says."""

from __future__ import annotations

import numpy as np
import pytest

from amc_tf.attacks.adaptive import DetectorAwarePGD, RejectionPGD, non_adaptive_attack
from amc_tf.attacks.adaptive_settings import REJECT, AdaptiveAttackConfig
from amc_tf.attacks.budgets import Budget, measured_pnr_db
from amc_tf.config.rejection import AutoencoderConfig, NeuralRejectionConfig
from amc_tf.defenses.autoencoder import AutoencoderDetector
from amc_tf.defenses.rejection import NeuralRejection
from amc_tf.errors import AttackError
from amc_tf.evaluation.rejection import RejectionReport, defended_accuracy, evaluate_rejector, rejected_fraction
from amc_tf.runtime import tf

CFG = AdaptiveAttackConfig(steps=20, step_fraction=0.1)


@pytest.fixture(scope="module")
def world(tiny_model, tiny_data):
    train, val = tiny_data.subset(slice(0, 1200)), tiny_data.subset(slice(1200, 1500))
    test = tiny_data.subset(slice(1500, 1800)).select(snrs=[10]).subset(slice(0, 64))
    nr = NeuralRejection(tiny_model, NeuralRejectionConfig(max_train=400)).fit(train.x, train.y, val.x)
    ae = AutoencoderDetector(tiny_model, AutoencoderConfig(epochs=3, filters=(8, 4))).fit(train.x, val.x)
    return nr, ae, test


def test_metric_counts_rejections_as_defended_only_under_attack():
    y = np.array([0, 1, 2, 3])
    pred = np.array([0, REJECT, 1, REJECT])
    assert defended_accuracy(pred, y, clean=True) == 0.25
    assert defended_accuracy(pred, y, clean=False) == 0.75
    assert rejected_fraction(pred) == 0.5
    with pytest.raises(ValueError, match="same shape"):
        defended_accuracy(pred, y[:3], clean=False)


def test_adaptive_attack_stays_in_budget_and_escapes_where_psi_is_negative(world):
    nr, _, test = world
    attack = RejectionPGD(nr, budget=Budget.pnr(-10.0), config=CFG)
    x_adv = attack.generate(test.x, test.y, snr=test.snr)
    assert measured_pnr_db(test.x, x_adv, test.snr).max() <= -10.0 + 1e-3
    psi = attack.objective(tf.constant(x_adv), tf.constant(test.y)).numpy()
    pred = nr.predict_with_rejection(x_adv)
    escaped = (pred != test.y) & (pred != REJECT)
    assert np.all(escaped[psi < -1e-6])  # a negative objective is an escape (misclassified, accepted)
    assert np.all(psi[escaped] <= 1e-4)  # and every escape has a non-positive objective
    assert escaped.sum() > 0


def test_adaptive_attack_breaks_neural_rejection_at_least_as_well_as_its_twin(world):
    """On the tiny problem the rejector rarely fires under attack, so the two are close; the adaptive
    one must not be weaker, and must take the defended accuracy well below the clean one."""
    nr, _, test = world
    budget = Budget.pnr(-10.0)
    x_a = RejectionPGD(nr, budget=budget, config=CFG).generate(test.x, test.y, snr=test.snr)
    x_n = non_adaptive_attack(nr.classifier, budget, CFG).generate(test.x, test.y, snr=test.snr)
    acc_a = defended_accuracy(nr.predict_with_rejection(x_a), test.y, clean=False)
    acc_n = defended_accuracy(nr.predict_with_rejection(x_n), test.y, clean=False)
    clean = defended_accuracy(nr.predict_with_rejection(test.x), test.y, clean=True)
    assert acc_a <= acc_n and acc_a < clean - 0.2


@pytest.mark.parametrize("objective", ["alternate", "joint"])
def test_detector_aware_attack_evades_the_autoencoder_more_than_plain_pgd(world, objective):
    _, ae, test = world
    budget = Budget.pnr(-10.0)
    cfg = CFG.model_copy(update={"detector_objective": objective})
    attack = DetectorAwarePGD(ae, budget=budget, config=cfg)
    x_a = attack.generate(test.x, test.y, snr=test.snr)
    x_n = non_adaptive_attack(ae.classifier, budget, cfg).generate(test.x, test.y, snr=test.snr)
    assert measured_pnr_db(test.x, x_a, test.snr).max() <= -10.0 + 1e-3
    pred = ae.predict_with_rejection(x_a)
    acc_a = defended_accuracy(pred, test.y, clean=False)
    acc_n = defended_accuracy(ae.predict_with_rejection(x_n), test.y, clean=False)
    assert acc_a <= acc_n
    psi = attack.objective(tf.constant(x_a), tf.constant(test.y)).numpy()
    escaped = (pred != test.y) & (pred != REJECT)
    assert np.array_equal(psi < 0, escaped) and escaped.sum() > 0  # negative exactly on escapes


def test_evaluate_rejector_reports_both_attacks_with_an_audit(world, tmp_path):
    nr, _, test = world
    curve = evaluate_rejector(nr, test.x[:16], test.y[:16], test.snr[:16], [-20.0, -10.0], CFG, name="nr")
    assert curve.pnr_db == [-20.0, -10.0] and curve.n_examples == 16 and curve.audit_ok
    assert curve.attack == "adaptive_rejection_pgd" and curve.non_adaptive
    assert all(0.0 <= a <= 1.0 for a in curve.adaptive_accuracy + curve.non_adaptive_accuracy)
    assert curve.adaptive_accuracy[1] <= curve.adaptive_accuracy[0] + 1 / 16  # stronger budget, no better
    report = RejectionReport([curve])
    assert report.save(tmp_path / "r.json").exists()
    assert report.metrics()["nr.adaptive.acc.pnr-10"] == curve.adaptive_accuracy[1]
    assert list(curve.adaptive_variants) == ["adaptive"]  # a scored rejector has one adaptive attack
    pairs = zip(curve.worst_accuracy, curve.adaptive_accuracy, curve.non_adaptive_accuracy)
    assert all(w <= min(a, n) for w, a, n in pairs)


def test_a_detector_meets_both_objectives_and_the_worst_case_is_per_window(world):
    """The auto-encoder is attacked with the alternate and the joint objective; a window counts as
    defended by the adaptive attack only if both fail on it, and in the worst case only if every
    attack fails: so the headline is at most each variant and the non-adaptive curve."""
    _, ae, test = world
    x, y, snr = test.x[:32], test.y[:32], test.snr[:32]
    curve = evaluate_rejector(ae, x, y, snr, [-10.0], CFG, name="ae")
    assert set(curve.adaptive_variants) == {"alternate", "joint"} and curve.audit_ok
    budget = Budget.pnr(-10.0)
    ok = {}
    for objective in ("alternate", "joint"):
        cfg = CFG.model_copy(update={"detector_objective": objective})
        pred = ae.predict_with_rejection(DetectorAwarePGD(ae, budget=budget, config=cfg).generate(x, y, snr=snr))
        ok[objective] = (pred == y) | (pred == REJECT)
        assert curve.adaptive_variants[objective] == [float(np.mean(ok[objective]))]
    assert curve.adaptive_accuracy == [float(np.mean(ok["alternate"] & ok["joint"]))]
    assert curve.worst_accuracy[0] <= min(curve.adaptive_accuracy[0], curve.non_adaptive_accuracy[0])
    assert RejectionReport([curve]).metrics()["ae.worst.acc.pnr-10"] == curve.worst_accuracy[0]


def test_attacks_refuse_bad_input(world):
    nr, _, test = world
    with pytest.raises(AttackError, match="budget"):
        RejectionPGD(nr, budget=-10.0)
    attack = RejectionPGD(nr, budget=Budget.pnr(-10.0), config=CFG)
    with pytest.raises(AttackError, match="SNR label"):
        attack.generate(test.x[:2], test.y[:2])
    with pytest.raises(AttackError, match=r"\[N, 2, L\]"):
        attack.generate(test.x[:2, 0], test.y[:2], snr=test.snr[:2])
    with pytest.raises(AttackError, match="class indices"):
        attack.generate(test.x[:2], np.array([0, 9]), snr=test.snr[:2])
    unfitted = NeuralRejection(nr.classifier)
    with pytest.raises(AttackError, match="fitted defence"):
        RejectionPGD(unfitted, budget=Budget.pnr(-10.0))
