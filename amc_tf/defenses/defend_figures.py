"""Figures of the ``defend`` pipeline, after the AMC compression paper's Figs. 2–4 (matplotlib, Agg).

* Fig. 2 — accuracy vs PNR, one panel per attack, f_S / f_D / f_P before (solid) and after
  (dashed) adversarial training;
* Fig. 3 — the gain of f_D^adv and f_P^adv over f_S^adv under PGD and FGM, in points, with the
  paper's ≈ +20 pt (PGD, 0 dB) and ≈ +12 pt (FGM, mean) marked;
* Fig. 4 — adversarial-training recipes (attack mixes) on f_S, accuracy vs PNR under PGD;
* certified accuracy vs PNR beside the empirical PGD / FGM curves of the same model
  (:func:`amc_tf.defenses.smoothing_plot.plot_certified`).

Each function returns ``{artifact file name: Figure}`` (or writes a PNG) for the flow to log.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from amc_tf.attacks import CONTROLS  # noqa: E402
from amc_tf.config.defend import DefendReportConfig  # noqa: E402
from amc_tf.defenses.defend_table import PAPER_FGM_GAIN_PT, PAPER_PGD_GAIN_PT, gain_pt  # noqa: E402
from amc_tf.defenses.smoothing_plot import plot_certified  # noqa: E402
from amc_tf.evaluation.robustness_plots import pnr_axis_label  # noqa: E402
from amc_tf.evaluation.robustness_report import RobustnessReport  # noqa: E402

_COLOURS = {"f_S": "tab:blue", "f_D": "tab:orange", "f_P": "tab:green"}


def _attacks(report: RobustnessReport) -> list[str]:
    return [c.attack for c in report.curves if c.library == "native" and c.attack not in CONTROLS]


def _axis(ax, report: RobustnessReport, ylabel: str = "accuracy") -> None:
    ax.set_xlabel(pnr_axis_label(report), fontsize=7)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)


def fig2_before_after(reports: dict[str, RobustnessReport]):
    """Fig. 2: accuracy vs PNR per attack, the three sources before and after AT. Returns the Figure."""
    base = reports["f_S"]
    attacks = _attacks(base)
    cols = min(3, len(attacks))
    rows = math.ceil(len(attacks) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.4 * cols, 3.6 * rows), squeeze=False)
    for ax, attack in zip(axes.flat, attacks):
        for source, colour in _COLOURS.items():
            for role, style in ((source, "-"), (f"{source}_adv", "--")):
                curve = reports[role].curve(attack)
                label = role.replace("_adv", "^adv")
                ax.plot(curve.pnr_db, curve.accuracy, color=colour, ls=style, marker="o", ms=2.5, lw=1.3, label=label)
        ax.set_title(attack)
        ax.set_ylim(0, 1.02)
        _axis(ax, base)
    for ax in list(axes.flat)[len(attacks) :]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7, ncol=2, loc="lower left")
    fig.suptitle(f"accuracy vs PNR at SNR {base.snr_db} dB, before (solid) and after (dashed) adversarial training")
    fig.tight_layout()
    return fig


def fig3_gain(reports: dict[str, RobustnessReport], settings: DefendReportConfig):
    """Fig. 3: f_D^adv and f_P^adv minus f_S^adv under PGD and FGM (points). Returns the Figure."""
    base = reports["f_S_adv"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.9))
    for ax, attack, paper in ((axes[0], settings.pgd_attack, "pgd"), (axes[1], settings.fgm_attack, "fgm")):
        for model in ("f_D_adv", "f_P_adv"):
            gain = gain_pt(reports, model, attack)
            colour = _COLOURS[model.removesuffix("_adv")]
            ax.plot(base.pnr_db, gain, color=colour, marker="o", ms=3, label=f"{model} − f_S_adv (ours)")
        if paper == "pgd":
            ax.plot([settings.pgd_pnr_db], [PAPER_PGD_GAIN_PT], "k*", ms=10, label=f"paper ≈ +{PAPER_PGD_GAIN_PT:g} pt")
        else:
            ax.axhline(PAPER_FGM_GAIN_PT, color="black", ls=":", label=f"paper ≈ +{PAPER_FGM_GAIN_PT:g} pt (mean)")
        ax.axhline(0, color="0.5", lw=0.8)
        ax.set_title(f"gain over f_S^adv under {attack}")
        _axis(ax, base, "accuracy gain (points)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def fig4_methods(
    reports: dict[str, RobustnessReport], methods: dict[str, RobustnessReport], reference: str, attack: str
):
    """Fig. 4: accuracy vs PNR under ``attack`` of f_S trained with each recipe. Returns the Figure."""
    base = reports["f_S"]
    fig, ax = plt.subplots(figsize=(7.2, 4.8))
    curve = base.curve(attack)
    ax.plot(curve.pnr_db, curve.accuracy, color="0.4", ls=":", marker="x", ms=3, label="f_S (no AT)")
    curve = reports["f_S_adv"].curve(attack)
    ax.plot(curve.pnr_db, curve.accuracy, color="black", lw=2.2, marker="o", ms=3, label=f"{reference} (reference)")
    cmap = plt.get_cmap("tab10")
    for i, (name, report) in enumerate(methods.items()):
        curve = report.curve(attack)
        ax.plot(curve.pnr_db, curve.accuracy, color=cmap(i % 10), marker="o", ms=3, lw=1.3, label=name)
    ax.set_ylim(0, 1.02)
    _axis(ax, base)
    ax.set_title(f"f_S adversarially trained with different attack mixes, under {attack}")
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig


def defend_figures(
    reports: dict[str, RobustnessReport],
    settings: DefendReportConfig,
    methods: dict[str, RobustnessReport] | None = None,
    reference: str = "adversarial",
) -> dict[str, object]:
    """Figs. 2, 3 and (with ``methods``) 4 as ``{artifact file name: Figure}``."""
    figures = {
        "fig2_accuracy_vs_pnr_before_after.png": fig2_before_after(reports),
        "fig3_gain_over_f_S_adv.png": fig3_gain(reports, settings),
    }
    if methods:
        figures["fig4_at_methods.png"] = fig4_methods(reports, methods, reference, settings.pgd_attack)
    return figures


def certified_figure(
    role: str, result, report: RobustnessReport, settings: DefendReportConfig, folder: str | Path
) -> Path:
    """Certified accuracy of ``role`` vs PNR beside its empirical PGD and FGM curves; the PNG's path."""
    empirical = {
        f"{role} {attack}": report.curve(attack).accuracy for attack in (settings.pgd_attack, settings.fgm_attack)
    }
    return plot_certified(result, report.pnr_db, empirical, Path(folder) / f"certified_{role}.png")


__all__ = ["certified_figure", "defend_figures", "fig2_before_after", "fig3_gain", "fig4_methods"]
