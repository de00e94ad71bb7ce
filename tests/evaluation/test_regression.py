"""The nightly's judgement: a fall below the baseline, a rise on the same model version (weaker
attacks), ours weaker than ART, a suite changed under its version — each a finding that names the
curve and PNR; an unchanged result passes; the report and figure name what regressed."""

from __future__ import annotations

import dataclasses

from amc_tf.config.nightly import NightlyConfig, Tolerances
from amc_tf.evaluation.regression import SuiteResult, Verdict, compare, regression_figure, regression_markdown

GRID = [-20.0, -10.0, 0.0]


def _result(version=1, digest="d1", pgd=(0.8, 0.5, 0.2), art_pgd=(0.8, 0.52, 0.25)) -> SuiteResult:
    return SuiteResult(
        model="m",
        version=version,
        suite_version="1",
        suite_digest=digest,
        n_examples=256,
        clean_accuracy=0.9,
        pnr_db=GRID,
        curves={"fgsm": [0.85, 0.6, 0.3], "pgd_l2": list(pgd)},
        worst_case=[min(a, b) for a, b in zip([0.85, 0.6, 0.3], pgd)],
        art={"pgd_l2": {"native": "pgd_l2", "pnr_db": GRID, "art": list(art_pgd), "ours": list(pgd), "n": 256}},
    )


def test_an_unchanged_result_passes():
    assert compare(_result(), _result(), Tolerances()) == []
    assert compare(_result(), None, Tolerances()) == []  # the first nightly: ART only


def test_a_fall_below_the_baseline_names_curve_and_pnr():
    tonight = _result(version=2, pgd=(0.8, 0.3, 0.2))
    findings = compare(tonight, _result(), Tolerances(robust_accuracy=0.05))
    assert {(f.check, f.curve, f.pnr_db) for f in findings} == {
        ("baseline", "pgd_l2", -10.0),
        ("baseline", "worst_case", -10.0),
    }
    assert "pgd_l2 at -10 dB PNR" in findings[0].sentence() or "pgd_l2 at -10 dB PNR" in findings[1].sentence()
    # within tolerance: no finding
    assert compare(tonight, _result(), Tolerances(robust_accuracy=0.25)) == []


def test_a_rise_on_the_same_version_is_a_weaker_attack_but_not_on_a_new_version():
    stronger_model = _result(pgd=(0.8, 0.55, 0.2), art_pgd=(0.8, 0.6, 0.25))
    same = compare(stronger_model, _result(), Tolerances())
    assert {(f.check, f.curve, f.pnr_db) for f in same} == {
        ("attack_strength", "pgd_l2", -10.0),
        ("attack_strength", "worst_case", -10.0),
    }
    assert compare(dataclasses.replace(stronger_model, version=2), _result(), Tolerances()) == []


def test_ours_weaker_than_art_is_a_finding():
    findings = compare(_result(art_pgd=(0.8, 0.4, 0.2)), None, Tolerances(art_margin=0.02))
    assert [(f.check, f.curve, f.pnr_db) for f in findings] == [("art", "pgd_l2", -10.0)]
    assert "ART's pgd_l2" in findings[0].sentence()


def test_a_suite_changed_under_the_same_version_is_refused():
    findings = compare(_result(digest="d2"), _result(), Tolerances())
    assert [f.check for f in findings] == ["suite"] and "bump suite_version" in findings[0].sentence()


def test_suite_digest_follows_the_suite_not_the_models_or_tolerances():
    base = NightlyConfig(models=["a"])
    assert base.suite_digest() == NightlyConfig(models=["b"], tolerances={"robust_accuracy": 0.1}).suite_digest()
    assert base.suite_digest() != NightlyConfig(models=["a"], robustness={"n_examples": 64}).suite_digest()
    assert base.suite_digest() != NightlyConfig(models=["a"], seed=1).suite_digest()


def test_json_round_trip_and_report(tmp_path):
    tonight = _result(version=2, pgd=(0.8, 0.3, 0.2))
    assert SuiteResult.from_json(tonight.to_json()) == tonight
    findings = compare(tonight, _result(), Tolerances())
    verdicts = [Verdict(tonight, _result(), "abc", findings), Verdict(_result(), None, None, [])]
    text = regression_markdown(verdicts, suite_version="1", alias="candidate")
    assert "**FAILED**: 1 of 2 models pass" in text and "pgd_l2 at -10 dB PNR" in text and "(-0.200)" in text
    fig = regression_figure(verdicts)
    fig.savefig(tmp_path / "r.png")
    assert (tmp_path / "r.png").stat().st_size > 10_000
