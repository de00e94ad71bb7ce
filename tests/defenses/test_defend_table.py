"""The defend pipeline's paper table, direction checks and figures on hand-made reports (no TF training)."""

from __future__ import annotations

import pytest

from amc_tf.config.defend import ROLES, DefendReportConfig
from amc_tf.defenses.defend_figures import defend_figures
from amc_tf.defenses.defend_table import PAPER_CLEAN_10DB, paper_table
from amc_tf.evaluation.robustness_report import Curve, RobustnessReport

GRID = [-20.0, -10.0, 0.0]


def _report(role: str, clean: float, pgd: list[float], fgm: list[float]) -> RobustnessReport:
    curves = [
        Curve(name, "native", GRID, acc, [0.0] * 3, 0.0, 100, [{}] * 3, {})
        for name, acc in (("fgm", fgm), ("pgd_linf", pgd))
    ]
    return RobustnessReport(
        model=role, classes=["a", "b"], snr_db=10, n_examples=100, clean_accuracy=clean, pnr_db=GRID, curves=curves,
        worst_case=pgd, cascade_order=["fgm", "pgd_linf"], broken_by=[{}] * 3, breakdown_pnr_db=None, per_snr=[],
        comparisons=[], warnings=[], seconds=1.0,
    )  # fmt: skip


@pytest.fixture()
def reports():
    low, high = [0.6, 0.3, 0.1], [0.7, 0.6, 0.4]
    out = {role: _report(role, 0.75, low, low) for role in ("f_S", "f_D", "f_P", "f_S_adv")}
    out.update({role: _report(role, 0.74, high, [0.7, 0.5, 0.3]) for role in ("f_D_adv", "f_P_adv")})
    return out


def test_table_puts_ours_beside_the_paper(reports):
    table = paper_table(reports, DefendReportConfig())
    rows = {(r["quantity"].split(" ")[0], r["model"]): r for r in table.rows}
    assert rows[("clean", "f_D")]["paper"] == PAPER_CLEAN_10DB["f_D"] == 77.97
    assert rows[("clean", "f_S_adv")]["ours"] == pytest.approx(75.0)
    assert rows[("pgd_gain", "f_D_adv")]["ours"] == pytest.approx(30.0)  # 0.4 - 0.1 at 0 dB
    assert rows[("fgm_gain", "f_P_adv")]["ours"] == pytest.approx(100 * (0.5 - 1.0 / 3), abs=1e-9)
    assert table.directions["f_D_adv_ge_f_S_adv_pgd_linf"] and table.directions["at_raises_pgd_linf_f_D"]
    assert table.directions["at_raises_pgd_linf_f_S"]  # equal curves count as "not lower"
    assert "| clean accuracy at 10 dB (%) | f_D | 77.97 | 75.00 |" in table.markdown
    assert table.metrics()["directions_held"] in (0.0, 1.0)


def test_clean_drop_direction_compares_the_three_drops(reports):
    """f_S loses nothing, f_D and f_P lose a point: f_D does not drop least; a rise of f_D does."""
    assert paper_table(reports, DefendReportConfig()).directions["clean_drop_least_f_D"] is False
    reports["f_D_adv"] = _report("f_D_adv", 0.80, [0.7, 0.6, 0.4], [0.7, 0.5, 0.3])
    assert paper_table(reports, DefendReportConfig()).directions["clean_drop_least_f_D"] is True


def test_a_worse_method_fails_its_direction(reports):
    methods = {"fgm_only": _report("m", 0.7, [0.9, 0.9, 0.9], [0.1, 0.1, 0.1])}
    table = paper_table(reports, DefendReportConfig(), methods)
    assert table.directions["reference_ge_fgm_only"] is False


def test_figures_are_made(reports):
    figures = defend_figures(reports, DefendReportConfig(), {"fgm_only": reports["f_S_adv"]})
    assert set(figures) == {
        "fig2_accuracy_vs_pnr_before_after.png",
        "fig3_gain_over_f_S_adv.png",
        "fig4_at_methods.png",
    }
    assert set(ROLES) == set(reports)
