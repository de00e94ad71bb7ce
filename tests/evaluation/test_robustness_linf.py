"""The robustness report under both L∞ conventions: named in the report and the plots, and the
paper's same-ε curves are the energy-matched ones shifted left by exactly 10·log10(2L) dB."""

from __future__ import annotations

import json
import math

import pytest

from amc_tf.config.attack import RobustnessConfig
from amc_tf.evaluation.robustness import evaluate_robustness
from amc_tf.evaluation.robustness_plots import plot_pnr_curves, plot_worst_case, pnr_axis_label


def _config(convention: str, grid: list[float]) -> RobustnessConfig:
    return RobustnessConfig(
        attacks=["fgm", "fgsm", {"name": "pgd_linf", "steps": 3, "random_start": False}],
        art_baselines=["fgsm"],
        art_max_examples=16,
        pnr_db=grid,
        n_examples=48,
        batch_size=48,
        breakdown_pnr_db=None,
        linf_convention=convention,
    )


@pytest.fixture(scope="module")
def reports(tiny_model, tiny_data):
    offset = 10 * math.log10(2 * tiny_data.window)  # 18.06 dB at L = 32
    grid = [-10.0, -4.0]
    matched = evaluate_robustness(tiny_model, tiny_data, _config("energy_matched", grid), progress=False)
    same = evaluate_robustness(
        tiny_model, tiny_data, _config("same_eps", [round(p - offset, 6) for p in grid]), progress=False
    )
    return matched, same, offset


def test_same_eps_curve_is_the_energy_matched_curve_shifted_by_the_offset(reports):
    matched, same, offset = reports
    assert same.linf_offset_db == pytest.approx(offset) and matched.linf_offset_db == 0.0
    for name in ("fgsm", "pgd_linf"):  # deterministic L∞ attacks: equal radii, equal examples
        assert same.curve(name).accuracy == matched.curve(name).accuracy
    assert same.curve("fgsm", "art").accuracy == matched.curve("fgsm", "art").accuracy
    # L2 attacks ignore the convention: 18 dB less PNR is a much weaker FGM
    assert same.curve("fgm").accuracy[0] > matched.curve("fgm").accuracy[0]
    # each same-ε FGSM perturbation really has the nominal PNR + offset
    for a in same.curve("fgsm").audit:
        assert a["ok"] and a["pnr_db_mean"] == pytest.approx(a["pnr_db"] + offset, abs=0.05)


def test_report_and_plots_name_the_convention(reports, tmp_path):
    matched, same, _ = reports
    assert (matched.linf_convention, same.linf_convention) == ("energy_matched", "same_eps")
    loaded = json.loads(same.save(tmp_path / "r.json").read_text())
    assert loaded["linf_convention"] == "same_eps" and "paper" in loaded["linf_label"]
    assert loaded["config"]["linf_convention"] == "same_eps"
    assert "same_eps" in same.curve("fgsm").settings["budget"]
    assert "√(2L)" in pnr_axis_label(matched) and "same ε" in pnr_axis_label(same)
    fig = plot_pnr_curves(same)
    ax = fig.axes[0]
    assert ax.get_xlabel() == pnr_axis_label(same)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "fgsm (L∞)" in labels and "fgm" in labels
    assert plot_worst_case(same).axes[0].get_xlabel() == pnr_axis_label(same)
