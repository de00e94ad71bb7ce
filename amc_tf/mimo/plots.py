"""Figures of the power-allocation robustness study (matplotlib, Agg); each returns a Figure.

Inputs are the typed results of :mod:`amc_tf.mimo.stages` (:mod:`amc_tf.mimo.stage_results`):
:class:`AttackSweeps` (success rate vs eps), :class:`Margins` (margin histograms),
:class:`TransferResult` (source × target heat-maps) and :class:`SumSE` (CDFs).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from amc_tf.mimo.stage_results import AttackSweeps, Margins, SumSE, TransferResult  # noqa: E402
from amc_tf.mimo.sumse import empirical_cdf  # noqa: E402

_STYLE = {"standard": "-", "adversarial": "--"}


def plot_success_rates(result: AttackSweeps, *, log_eps: bool = False):
    """Success rate vs eps: one panel per (precoder, architecture), one colour per attack,
    solid = standard training, dashed = adversarial training (``log_eps`` for wide grids)."""
    robustness = result.sweeps
    precs = sorted(robustness)
    archs = sorted({a for p in precs for a in robustness[p]})
    fig, axes = plt.subplots(
        len(precs), len(archs), figsize=(4.2 * len(archs), 3.3 * len(precs)), squeeze=False, sharey=True
    )
    colours: dict[str, str] = {}
    markers = "osD^v<>"
    for r, prec in enumerate(precs):
        for c, arch in enumerate(archs):
            ax = axes[r][c]
            for training, sweep in robustness[prec].get(arch, {}).items():
                for attack, rates in sweep.success.items():
                    colour = colours.setdefault(attack, f"C{len(colours)}")
                    marker = markers[list(colours).index(attack) % len(markers)]
                    label = f"{attack} ({training})"
                    # overlapping curves (a locally linear model gives FGSM = PGDM) stay visible
                    ax.plot(
                        sweep.eps_m,
                        rates,
                        _STYLE.get(training, ":"),
                        color=colour,
                        marker=marker,
                        ms=7 - 1.2 * list(colours).index(attack),
                        mfc="none",
                        label=label,
                    )
            ax.set_title(f"{arch}, {prec}")
            if log_eps:
                ax.set_xscale("log")
            units = {sweep.eps_unit for sweep in robustness[prec].get(arch, {}).values()}
            unit = "m" if units == {"metres"} else "/".join(sorted(units))
            ax.set_xlabel(f"eps ({unit}, L∞ on UE positions)")
            ax.grid(True, alpha=0.3)
            if c == 0:
                ax.set_ylabel("success rate")
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def plot_margins(result: Margins):
    """Histograms of the margin to the budget, ``Pmax − Σ_k ρ_jk`` (mW), one panel per
    (architecture, precoder): the optimum's slack and the clean predictions of each training.
    An attack succeeds only on pairs just right of 0 (feasible, and within its reach)."""
    histograms = result.histograms
    keys = list(histograms)
    fig, axes = plt.subplots(1, len(keys), figsize=(4.4 * len(keys), 3.4), squeeze=False, sharey=True)
    for ax, key in zip(axes[0], keys):
        values = histograms[key]
        lo = min(float(np.min(v)) for v in values.values())
        hi = max(float(np.max(v)) for v in values.values())
        bins = np.linspace(lo, max(hi, lo + 1.0), 41)
        for name, v in values.items():
            ax.hist(v, bins=bins, histtype="step", density=True, label=name)
        ax.axvline(0.0, color="k", lw=0.8)
        ax.set_title(key)
        ax.set_xlabel("Pmax − total power (mW); < 0 infeasible")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("density")
    fig.tight_layout()
    return fig


def plot_transfer(result: TransferResult, attack: str = "PGDM"):
    """Source × target success-rate heat-maps at the largest eps, one per precoder (``attack`` if
    it was transferred, else the first attack of the results)."""
    precs = sorted(result.matrices)
    fig, axes = plt.subplots(1, len(precs), figsize=(3.8 * len(precs), 3.4), squeeze=False)
    for ax, prec in zip(axes[0], precs):
        matrix = result.matrices[prec]
        names = matrix.names
        shown = attack if attack in matrix.success else next(iter(matrix.success))
        table = matrix.success[shown]
        grid = np.array([[table[src][dst][-1] for dst in names] for src in names])
        im = ax.imshow(grid, cmap="Reds", vmin=0, vmax=max(1e-9, float(grid.max())))
        for i in range(len(names)):
            for j in range(len(names)):
                ax.text(j, i, f"{grid[i, j]:.2f}", ha="center", va="center", fontsize=9)
        ax.set_xticks(range(len(names)), labels=names)
        ax.set_yticks(range(len(names)), labels=names)
        ax.set_xlabel("target model")
        ax.set_ylabel("crafted on")
        unit = "m" if matrix.eps_unit == "metres" else f" ({matrix.eps_unit})"
        ax.set_title(f"{prec}: {shown}, eps = {matrix.eps_m[-1]:g}{unit}")
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig


def plot_sum_se_cdf(result: SumSE):
    """Empirical CDFs of the network sum SE, one panel per (architecture, precoder)."""
    panels = result.samples
    keys = list(panels)
    fig, axes = plt.subplots(1, len(keys), figsize=(4.6 * len(keys), 3.6), squeeze=False)
    for ax, key in zip(axes[0], keys):
        for name, values in panels[key].items():
            v, p = empirical_cdf(values)
            ax.plot(v, p, label=name)
        ax.set_title(key)
        ax.set_xlabel("sum SE (bit/s/Hz)")
        ax.set_ylabel("CDF")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
