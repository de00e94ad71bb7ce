"""The hybrid comparison end to end on the tiny problem (five defences, one PNR), the bare
classifier's rejector interface, and the rejection benchmark's JSON at a tiny size."""

from __future__ import annotations

import json

import numpy as np
import pytest

from amc_tf.attacks.adaptive_settings import REJECT, AdaptiveAttackConfig
from amc_tf.benchmarks.rejection import bench_rejection, command
from amc_tf.config.defense import AdversarialTrainingConfig
from amc_tf.config.hardening import CatConfig, LsGnaConfig
from amc_tf.config.rejection import AutoencoderConfig, NeuralRejectionConfig
from amc_tf.defenses.hybrid import DEFENCES, HybridSettings, NoRejection, hybrid_evaluation
from amc_tf.errors import ConfigError
from amc_tf.runtime import tf

FINE = {"epochs": 1, "batch_size": 64, "patience": 0, "verbose": 0}


def test_no_rejection_is_the_classifier(tiny_model, snr10):
    bare = NoRejection(tiny_model)
    pred = bare.predict_with_rejection(snr10.x)
    np.testing.assert_array_equal(pred, np.argmax(tiny_model.predict(snr10.x, verbose=0), axis=1))
    np.testing.assert_allclose(bare.tf_scores(tf.constant(snr10.x[:8])).numpy(), tiny_model(snr10.x[:8]), atol=1e-5)


def test_hybrid_evaluation_reports_five_defences_in_budget(tiny_model, tiny_data):
    train, val = tiny_data.subset(slice(0, 900)), tiny_data.subset(slice(900, 1200))
    test = tiny_data.subset(slice(1200, 1800)).select(snrs=[10]).subset(slice(0, 32))
    settings = HybridSettings(
        cat=CatConfig(train=FINE, steps=3),
        ls_gna=LsGnaConfig(train=FINE),
        adversarial=AdversarialTrainingConfig(train=FINE, freeze=[]),
        rejection=NeuralRejectionConfig(max_train=300),
        autoencoder=AutoencoderConfig(epochs=1, filters=(8, 4)),
        attack=AdaptiveAttackConfig(steps=5),
        pnr_db=(-10.0,),
    )
    out = hybrid_evaluation(tiny_model, train, val, test, settings, seed=0)
    curves = {c.defence: c for c in out.report.curves}
    assert tuple(curves) == DEFENCES
    assert all(c.audit_ok and c.pnr_db == [-10.0] and c.n_examples == 32 for c in curves.values())
    assert curves["cat"].clean_rejected == 0.0 and curves["ls_gna"].clean_rejected == 0.0
    for name in ("htrd", "ls_gna_nr"):  # the thresholds reject 10 % of the clean validation windows
        rate = np.mean(out.defences[name].predict_with_rejection(val.x) == REJECT)
        assert rate == pytest.approx(0.10, abs=1 / len(val.y))
    for name in DEFENCES:
        worst = out.robust_accuracy(name)[0]
        assert worst == curves[name].worst_accuracy[0]
        assert worst <= min(curves[name].adaptive_accuracy + curves[name].non_adaptive_accuracy)
    assert out.defences["htrd"].classifier is out.models["cat"]
    assert out.defences["two_fold"].classifier is out.models["adversarial"]
    assert not np.allclose(out.models["cat"].get_weights()[-1], tiny_model.get_weights()[-1])  # fine-tuned


def test_bench_rejection_writes_the_documented_json(tmp_path):
    data = bench_rejection(n=132, n_val=44, n_test=8, train_epochs=0, finetune_epochs=1, steps=2, batch_size=64)
    assert data["pnr_db"] == -10.0 and set(data["accuracy"]) == set(DEFENCES)
    assert data["svm_max_abs_diff"] < 1e-5 and data["audit_ok"]
    assert data["adaptive_seconds_per_example"] > 0 and 0.0 <= data["clean_rejection_rate"] <= 1.0
    for acc in data["accuracy"].values():
        assert set(acc) == {"adaptive", "non_adaptive", "worst_case"} and all(0.0 <= v <= 1.0 for v in acc.values())
        assert acc["worst_case"] <= min(acc["adaptive"], acc["non_adaptive"])
    with pytest.raises(ConfigError, match="must be >= 1"):
        command(out=tmp_path / "r.json", n=0)
    assert not (tmp_path / "r.json").exists()
    json.dumps(data)
