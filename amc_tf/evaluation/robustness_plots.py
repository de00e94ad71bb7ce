"""Figures of a :class:`~amc_tf.evaluation.robustness.RobustnessReport` (matplotlib, Agg).

* accuracy vs PNR of the native curves, one colour per attack, the noise controls grey, the
  worst case black and the clean accuracy dotted — the layout of Sadeghi & Larsson's and
  Flowers et al.'s figures; L∞ curves are marked "(L∞)" and the axis names the report's L∞
  convention (energy-matched ε/√(2L) or the paper's same ε); every curve here is on the same
  ``n`` examples (survivors sweep: cumulative cascade curves);
* ART vs native, one panel per comparison, both curves and the clean accuracy on the *same*
  examples (ART's subset, its size in the legend), so no curve is compared with one on other data;
* the worst-case cascade: worst-case accuracy and how many examples each attack broke first;
* accuracy vs SNR at the breakdown PNR;
* seconds per curve, native beside ART (the first panel of the ART-vs-native figure).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from amc_tf.attacks import CONTROLS, NATIVE_COUNTERPART  # noqa: E402
from amc_tf.evaluation.robustness_report import RobustnessReport  # noqa: E402


def _colours(report: RobustnessReport) -> dict[str, tuple]:
    names = [c.attack for c in report.curves if c.library == "native" and c.attack not in CONTROLS]
    cmap = plt.get_cmap("tab10")
    colours = {name: cmap(i % 10) for i, name in enumerate(names)}
    for c in report.curves:
        if c.library == "art":
            colours.setdefault(NATIVE_COUNTERPART.get(c.attack, c.attack), cmap(len(colours) % 10))
    return colours


def pnr_axis_label(report: RobustnessReport) -> str:
    """The PNR axis label, naming the report's L∞ convention."""
    return f"PNR (dB); L∞ attacks: {report.linf_label}"


def plot_pnr_curves(report: RobustnessReport, title: str | None = None):
    """Accuracy vs PNR for every curve (native solid, ART dashed). Returns the Figure."""
    colours = _colours(report)
    fig, ax = plt.subplots(figsize=(7.2, 4.8))
    for c in report.curves:
        if c.library != "native":
            continue  # ART runs on a subset: its curves are in plot_art_comparisons, beside ours on it
        if c.attack in CONTROLS:
            style = {"color": "0.55", "ls": ":", "marker": "x"}
        else:
            style = {"color": colours[c.attack], "ls": "-", "marker": "o"}
        label = c.attack + (" (after the cascade so far)" if c.cumulative else "")
        label += " (L∞)" if c.settings.get("norm") == "linf" else ""
        ax.plot(c.pnr_db, c.accuracy, ms=3, lw=1.4, label=label, **style)
    if report.cascade_order:
        ax.plot(report.pnr_db, report.worst_case, color="black", lw=2.4, label="worst case")
    ax.axhline(report.clean_accuracy, color="black", ls=":", lw=1, label=f"clean ({report.clean_accuracy:.3f})")
    ax.set_xlabel(pnr_axis_label(report))
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    ax.grid(True, alpha=0.3)
    mode = ", survivors sweep" if report.sweep == "survivors" else ""
    ax.set_title(title or f"{report.model}: accuracy vs PNR at SNR {report.snr_db} dB (n={report.n_examples}{mode})")
    ax.legend(fontsize=7, ncol=2, loc="lower left")
    fig.tight_layout()
    return fig


def plot_worst_case(report: RobustnessReport):
    """Worst-case accuracy and the examples each attack broke first in the cascade. Returns the Figure."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.9))
    a1.plot(report.pnr_db, report.worst_case, color="black", lw=2, marker="o", ms=3, label="worst case")
    a1.axhline(report.clean_accuracy, color="black", ls=":", lw=1, label="clean")
    a1.set_xlabel(pnr_axis_label(report))
    a1.set_ylabel("accuracy")
    a1.set_ylim(0, 1.02)
    a1.grid(True, alpha=0.3)
    a1.legend(fontsize=8)
    a1.set_title("worst case over attacks")
    colours = _colours(report)
    bottom = np.zeros(len(report.pnr_db))
    width = 0.8 * (np.min(np.diff(report.pnr_db)) if len(report.pnr_db) > 1 else 1.0)
    for name in report.cascade_order:
        counts = np.array([b[name] for b in report.broken_by], dtype=float) / max(report.n_examples, 1)
        a2.bar(report.pnr_db, counts, width=width, bottom=bottom, color=colours.get(name), label=name)
        bottom += counts
    a2.set_xlabel("PNR (dB)")
    a2.set_ylabel("fraction of examples broken first by")
    a2.grid(True, alpha=0.3, axis="y")
    a2.legend(fontsize=7)
    a2.set_title(
        "cascade (order: " + " → ".join(report.cascade_order) + ")" if len(report.cascade_order) <= 4 else "cascade"
    )
    fig.tight_layout()
    return fig


def plot_per_snr(report: RobustnessReport):
    """Clean and attacked accuracy vs SNR at the breakdown PNR. Returns the Figure."""
    fig, ax = plt.subplots(figsize=(6.8, 4.4))
    rows = sorted(report.per_snr, key=lambda r: r.snr_db)
    snrs = [r.snr_db for r in rows]
    ax.plot(snrs, [r.clean_accuracy for r in rows], color="black", lw=2, marker="o", ms=3, label="clean")
    colours = _colours(report)
    names = list(rows[0].accuracy) if rows else []
    for name in names:
        style = {"color": "0.55", "ls": ":"} if name in CONTROLS else {"color": colours.get(name), "ls": "-"}
        ax.plot(snrs, [r.accuracy[name] for r in rows], marker=".", label=name, **style)
    ax.set_xlabel("SNR (dB)")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    ax.grid(True, alpha=0.3)
    ax.set_title(
        f"accuracy vs SNR at PNR {report.breakdown_pnr_db:g} dB ({report.linf_label})"
        if report.breakdown_pnr_db is not None
        else "accuracy vs SNR"
    )
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def plot_timing(report: RobustnessReport, ax=None):
    """Seconds of each ART baseline beside its native counterpart on the same examples. Returns the Figure."""
    fig, ax = plt.subplots(figsize=(6.8, 3.8)) if ax is None else (ax.figure, ax)
    labels = [f"{c.art}\n(n={c.n_examples})" for c in report.comparisons]
    pos = np.arange(len(labels))
    ax.bar(pos - 0.2, [c.native_seconds for c in report.comparisons], width=0.4, label="native")
    ax.bar(pos + 0.2, [c.art_seconds for c in report.comparisons], width=0.4, label="ART", hatch="//")
    ax.set_xticks(pos, labels=labels, fontsize=8)
    ax.set_ylabel("seconds (whole PNR sweep)")
    ax.set_yscale("log")
    ax.grid(True, alpha=0.3, axis="y")
    ax.legend()
    ax.set_title("native vs ART, same examples and budgets", fontsize=9)
    fig.tight_layout()
    return fig


def plot_art_comparisons(report: RobustnessReport):
    """Seconds (first panel), then each ART baseline beside its native twin on the same examples
    (one panel each, clean accuracy of those examples dotted). Returns the Figure."""
    comparisons = report.comparisons
    cols = min(3, len(comparisons) + 1)
    rows = -(-(len(comparisons) + 1) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
    plot_timing(report, axes.flat[0])
    colours = _colours(report)
    for ax, cmp in zip(list(axes.flat)[1:], comparisons):
        colour = colours.get(cmp.native)
        ax.plot(cmp.pnr_db, cmp.native_accuracy, color=colour, marker="o", ms=3, label=f"native {cmp.native}")
        ax.plot(
            cmp.pnr_db, cmp.art_accuracy, color=colour, ls="--", marker="s", mfc="none", ms=3, label=f"ART {cmp.art}"
        )
        if cmp.clean_accuracy is not None:
            ax.axhline(cmp.clean_accuracy, color="black", ls=":", lw=1, label=f"clean ({cmp.clean_accuracy:.3f})")
        ax.set_title(f"{cmp.art}: same {cmp.n_examples} examples", fontsize=9)
        ax.set_ylim(0, 1.02)
        ax.grid(True, alpha=0.3)
        ax.set_xlabel("PNR (dB)")
        ax.legend(fontsize=7, loc="lower left")
    for ax in list(axes.flat)[len(comparisons) + 1 :]:
        ax.set_visible(False)
    fig.suptitle(f"native vs ART on the same examples ({report.linf_label})", fontsize=10)
    fig.tight_layout()
    return fig


def report_figures(report: RobustnessReport) -> dict[str, object]:
    """Every figure that applies to ``report``: ``{artifact file name: Figure}``."""
    figs = {"robustness_pnr_curves.png": plot_pnr_curves(report)}
    if report.cascade_order:
        figs["robustness_worst_case.png"] = plot_worst_case(report)
    if report.per_snr:
        figs["robustness_per_snr.png"] = plot_per_snr(report)
    if report.comparisons:
        figs["robustness_timing.png"] = plot_art_comparisons(report)
    return figs
