"""Robustness evaluation: one call, one typed report; cascade, audit, ART side by side, sanity checks."""

from __future__ import annotations

import json

import pytest

from amc_tf.attacks import ATTACKS
from amc_tf.attacks.checks import sanity_checks
from amc_tf.config.attack import RobustnessConfig
from amc_tf.config.base import validate_config
from amc_tf.errors import ConfigError, DatasetError, ModelError
from amc_tf.evaluation.robustness import RobustnessReport, evaluate_robustness
from amc_tf.evaluation.robustness_plots import report_figures
from amc_tf.runtime import keras, tf

CONFIG = {
    "attacks": [
        "fgm",
        "fgsm",
        {"name": "pgd_l2", "steps": 5},
        {"name": "pgd_linf", "steps": 5},
        "mifgsm",
        "deepfool",
        {"name": "uap_svd", "n_fit": 48, "draws": 2},
        {"name": "uap_iterative", "n_fit": 48},
        "noise_gaussian",
        "noise_sign",
    ],
    "pnr_db": [-12, -6, 0],
    "n_examples": 64,
    "batch_size": 64,
    "art_baselines": ["fgsm", "pgd_l2", "deepfool"],
    "art_max_examples": 32,
    "art_max_examples_deepfool": 4,
    "art_pnr_db": [-6],
    "breakdown_pnr_db": -6,
    "breakdown_n": 32,
}


@pytest.fixture(scope="module")
def report(tiny_model, tiny_data) -> RobustnessReport:
    """The shared tiny model is only read (evaluate_robustness never trains)."""
    weights = [w.copy() for w in tiny_model.get_weights()]
    rep = evaluate_robustness(tiny_model, tiny_data, validate_config(RobustnessConfig, CONFIG), progress=False)
    assert all((a == b).all() for a, b in zip(weights, tiny_model.get_weights()))
    return rep


def test_report_has_every_curve_within_budget(report):
    assert report.n_examples == 64 and report.snr_db == 10 and report.clean_accuracy > 0.9
    natives = {c.attack for c in report.curves if c.library == "native"}
    assert natives == set(ATTACKS)
    assert {c.attack for c in report.curves if c.library == "art"} == {"fgsm", "pgd_l2", "deepfool"}
    assert report.audit_ok and not [w for w in report.warnings if "audit" in w]
    for c in report.curves:
        if c.attack.startswith("uap"):
            continue  # one vector for all: the budget holds for the mean power, not per example
        for a in c.audit:
            if a["pnr_db_max"] is not None:
                assert a["pnr_db_max"] <= a["pnr_db"] + 0.01
    pgd = report.curve("pgd_l2")
    assert pgd.accuracy[0] >= pgd.accuracy[-1] and pgd.accuracy[-1] < 0.3
    assert report.curve("noise_gaussian").accuracy[-1] > pgd.accuracy[-1] + 0.3


def test_worst_case_is_the_cascade(report):
    adversarial = [c for c in report.curves if c.library == "native" and c.attack in report.cascade_order]
    assert "noise_gaussian" not in report.cascade_order
    for i in range(len(report.pnr_db)):
        assert report.worst_case[i] <= min(c.accuracy[i] for c in adversarial) + 1e-12
        broken = sum(report.broken_by[i].values())
        assert report.worst_case[i] == pytest.approx(report.clean_accuracy - broken / report.n_examples)


def test_art_side_by_side_and_per_snr(report):
    by_art = {c.art: c for c in report.comparisons}
    assert by_art["fgsm"].n_examples == 32 and by_art["deepfool"].n_examples == 4
    assert by_art["fgsm"].art_accuracy == by_art["fgsm"].native_accuracy  # same algorithm, same budget
    assert by_art["fgsm"].art_seconds > 0 and by_art["fgsm"].native_seconds > 0
    assert [r.snr_db for r in report.per_snr] == [0, 10, 18]
    assert all(set(r.accuracy) == set(ATTACKS) for r in report.per_snr)
    pgd = next(c for c in report.curves if c.library == "native" and c.attack == "pgd_l2")
    assert pgd.settings["steps"] == 5  # the spec's settings reach the attack


def test_art_baselines_run_with_their_twins_settings(report):
    by_art = {c.art: c for c in report.comparisons}
    assert by_art["pgd_l2"].native == "pgd_l2" and by_art["deepfool"].native == "deepfool"
    art_pgd = next(c for c in report.curves if c.library == "art" and c.attack == "pgd_l2")
    # like for like: the twin's steps, without random start (ART cannot draw one in per-example balls)
    assert art_pgd.settings["steps"] == 5 and art_pgd.settings["random_start"] is False
    assert art_pgd.settings["restarts"] == 1


def test_report_serialises_and_plots(report, tmp_path):
    path = report.save(tmp_path / "robustness.json")
    loaded = json.loads(path.read_text())
    assert loaded["audit_ok"] is True and len(loaded["curves"]) == len(report.curves)
    metrics = report.metrics()
    assert "native.pgd_linf.acc.pnr-6" in metrics and "worst_case.acc.pnr0" in metrics and "speedup.fgsm" in metrics
    figs = report_figures(report)
    assert set(figs) == {
        "robustness_pnr_curves.png",
        "robustness_worst_case.png",
        "robustness_per_snr.png",
        "robustness_timing.png",
    }
    for name, fig in figs.items():
        fig.savefig(tmp_path / name)
        assert (tmp_path / name).stat().st_size > 5000


def test_bad_inputs_are_refused(tiny, tiny_data, tiny_model):
    ds, model = tiny_data, tiny_model
    cfg = RobustnessConfig(attacks=["fgsm"], art_baselines=[], pnr_db=[0], breakdown_pnr_db=None, n_examples=8)
    with pytest.raises(DatasetError, match="no example at SNR"):
        evaluate_robustness(model, ds, cfg.model_copy(update={"snr_db": 7}))
    with pytest.raises(DatasetError, match="does not match"):
        evaluate_robustness(tiny.build_tiny_model(n_classes=3), ds, cfg)
    inp = keras.Input((2, 32))
    probs = keras.Model(inp, keras.layers.Dense(4, activation="softmax")(keras.layers.Flatten()(inp)))
    with pytest.raises(ModelError, match="probabilities"):
        evaluate_robustness(probs, ds, cfg)
    for bad in (
        {"pnr_db": []},
        {"pnr_db": [float("nan")]},
        {"attacks": ["fgsm", "fgsm"]},
        {"attacks": ["cw"]},
        {"art_baselines": ["mifgsm"]},
        {"art_pnr_db": [5]},
        {"n_examples": 0},
        {"attacks": [{"name": "pgd_l2", "restarts": 2, "random_start": False}]},
        {"settings": {"pgd": {"steps": 5}}},
        {"pgd_steps": 3},
    ):
        with pytest.raises(ConfigError):
            validate_config(RobustnessConfig, bad)


def test_sanity_checks_warn_about_probabilities_and_vanishing_gradients(tiny_data):
    ds = tiny_data
    x, y = ds.x[:32], ds.y[:32]
    inp = keras.Input((2, 32))
    hidden_softmax = keras.Model(
        inp, keras.layers.Lambda(tf.nn.softmax)(keras.layers.Dense(4)(keras.layers.Flatten()(inp)))
    )
    assert any("probabilities" in n for n in sanity_checks(hidden_softmax, x, y, 4, 32))
    flat = keras.Model(inp, keras.layers.Dense(4, kernel_initializer="zeros")(keras.layers.Flatten()(inp)))
    assert any("vanishes" in n for n in sanity_checks(flat, x, y, 4, 32))
    cfg = RobustnessConfig(attacks=["fgsm"], art_baselines=[], pnr_db=[0], breakdown_pnr_db=None, n_examples=16)
    with pytest.warns(UserWarning, match="vanishes"):
        rep = evaluate_robustness(flat, ds, cfg, progress=False)
    assert any("vanishes" in w for w in rep.warnings)
