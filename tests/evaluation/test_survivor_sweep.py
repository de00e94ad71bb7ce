"""Survivors sweep (robust accuracy only): monotone, never weaker than full, within every budget,
attacks only survivors, fewer gradients; ART comparisons on the same examples as ours."""

from __future__ import annotations

import numpy as np
import pytest

from amc_tf.attacks import build_attack
from amc_tf.attacks.budgets import measured_pnr_db
from amc_tf.attacks.compiled import logits_fn
from amc_tf.config.attack import RobustnessConfig, SweepMode
from amc_tf.config.base import validate_config
from amc_tf.evaluation.robustness import evaluate_robustness
from amc_tf.evaluation.robustness_survivors import survivor_sweep
from amc_tf.evaluation.robustness_sweep import attack_factory
from amc_tf.models.inference import predict_classes

GRID = [-15.0, -10.0, -5.0, 0.0]
CASCADE = ["fgsm", {"name": "pgd_l2", "steps": 3, "random_start": False}, "deepfool"]
BASE = {
    "attacks": [*CASCADE, "noise_gaussian"],
    "pnr_db": GRID,
    "n_examples": 48,
    "batch_size": 48,
    "art_baselines": [],
    "breakdown_pnr_db": None,
}


@pytest.fixture(scope="module")
def reports(tiny_model, tiny_data):
    full = validate_config(
        RobustnessConfig,
        {**BASE, "art_baselines": ["fgsm", "deepfool"], "art_max_examples": 12, "art_max_examples_deepfool": 4},
    )
    survivors = validate_config(RobustnessConfig, {**BASE, "sweep": "survivors"})
    return (
        evaluate_robustness(tiny_model, tiny_data, full, progress=False),
        evaluate_robustness(tiny_model, tiny_data, survivors, progress=False),
    )


def test_default_sweep_is_full():
    assert RobustnessConfig().sweep is SweepMode.FULL


def test_survivors_monotone_never_weaker_and_cheaper(reports):
    full, surv = reports
    assert surv.sweep == "survivors" and full.sweep == "full"
    assert surv.clean_accuracy == full.clean_accuracy and surv.cascade_order == full.cascade_order
    worst = np.array(surv.worst_case)
    assert np.all(np.diff(worst) <= 0)
    assert np.all(worst <= np.array(full.worst_case) + 1.0 / surv.n_examples)
    for name in surv.cascade_order:  # cumulative curves, each monotone
        assert surv.curve(name).cumulative and np.all(np.diff(surv.curve(name).accuracy) <= 0)
    assert surv.curve("noise_gaussian").attacked is None  # the control runs in full
    assert surv.gradients > 0 and full.gradients > 0
    assert surv.gradients < full.gradients
    assert surv.audit_ok and all(
        a["pnr_db_max"] is None or a["pnr_db_max"] <= a["pnr_db"] + 1e-3
        for name in surv.cascade_order
        for a in surv.curve(name).audit
    )
    broken = [sum(b.values()) for b in surv.broken_by]
    assert broken == [round((surv.clean_accuracy - w) * surv.n_examples) for w in surv.worst_case]


def test_art_comparison_on_the_same_examples(reports):
    full, _ = reports
    for cmp in full.comparisons:
        art = full.curve(cmp.art, "art")
        assert art.n_examples == cmp.n_examples and cmp.n_examples < full.n_examples
        assert art.clean_accuracy == cmp.clean_accuracy is not None
    fgsm = next(c for c in full.comparisons if c.art == "fgsm")
    assert fgsm.n_examples == 12 and next(c for c in full.comparisons if c.art == "deepfool").n_examples == 4


def test_cascade_attacks_only_survivors_within_every_budget(tiny_model, snr10):
    x, y, snr = snr10.x[:40], snr10.y[:40], snr10.snr[:40]
    logits = logits_fn(tiny_model)

    def predict(a):
        return predict_classes(logits, a, 64)

    calls: dict[str, list[np.ndarray]] = {}

    def counting(name, **settings):
        make = attack_factory(build_attack, name, tiny_model, batch_size=64, seed=0, **settings)

        def build(budget):
            attack = make(budget)
            inner = attack.generate

            def generate(xs, ys=None, *, snr=None):
                calls.setdefault(name, []).append(xs.copy())
                return inner(xs, ys, snr=snr)

            attack.generate = generate
            return attack

        return build

    makes = {
        "fgsm": counting("fgsm"),
        "pgd_linf": counting("pgd_linf", steps=3, random_start=False),
        "deepfool": counting("deepfool"),
    }
    clean = predict(x) == y
    out = survivor_sweep(makes, predict, x, y, snr, GRID, {k: None for k in makes}, clean)
    previous = clean
    for i, pnr in enumerate(GRID):
        for name in makes:
            assert out.attacked[name][i] == int(previous.sum())
            if name != "deepfool":  # one generate call per PNR, on exactly the survivors
                assert np.array_equal(calls[name][i], x[previous])
            previous = out.alive[name][pnr]
        # every adversarial input, carried-forward ones included, within this point's budget
        changed = np.any(out.adversarial[pnr] != x, axis=(1, 2))
        assert np.all(measured_pnr_db(x[changed], out.adversarial[pnr][changed], snr[changed]) <= pnr + 1e-3)
    # DeepFool runs unbounded once per example that ever reached it
    reached = np.concatenate(calls["deepfool"])
    assert reached.shape[0] == out.attacked["deepfool"][0] and len(calls["deepfool"]) <= len(GRID)
    assert out.gradients["fgsm"] == sum(out.attacked["fgsm"])
    assert out.gradients["pgd_linf"] == 3 * sum(out.attacked["pgd_linf"])
