"""Certified accuracy vs PNR beside empirical robust-accuracy curves (matplotlib, Agg).

The certified curve is a guarantee (no attack within that PNR can do worse, with probability
≥ 1 − alpha per example, for the *smoothed* classifier); empirical curves are upper bounds on the
true robust accuracy of whatever classifier they were measured on. Plotting them on one PNR axis
shows the gap between what is proven and what attacks achieve.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from amc_tf.defenses.smoothing_result import CertificationResult
from amc_tf.io import atomic_path


def plot_certified(
    result: CertificationResult,
    pnr_db_grid: Sequence[float],
    empirical: Mapping[str, Sequence[float]] | None,
    path: str | Path,
) -> Path:
    """Write a PNG of certified accuracy vs PNR, with empirical robust-accuracy curves beside it.

    Args:
        result: The certification (:func:`amc_tf.defenses.smoothing.certify`).
        pnr_db_grid: PNR values (dB) of the x-axis; every empirical curve is given on this grid.
        empirical: ``{label: accuracy per PNR of the grid}`` (e.g. PGD on the base and on the
            smoothed-trained model); None or empty for the certified curve alone.
        path: Destination ``.png``, written atomically.

    Returns:
        ``path``.

    Raises:
        ValueError: an empirical curve's length differs from the grid's.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = [float(p) for p in pnr_db_grid]
    for label, curve in (empirical or {}).items():
        if len(curve) != len(grid):
            raise ValueError(f"empirical curve {label!r} has {len(curve)} points, the PNR grid {len(grid)}")
    fig, ax = plt.subplots(figsize=(7.2, 4.8))
    try:
        cmap = plt.get_cmap("tab10")
        for i, (label, curve) in enumerate((empirical or {}).items()):
            ax.plot(grid, list(curve), color=cmap(i % 10), marker="o", ms=3, lw=1.4, label=f"{label} (empirical)")
        ax.plot(
            grid,
            result.certified_accuracy(grid),
            color="black",
            lw=2.4,
            drawstyle="steps-post",
            label=f"certified (σ={result.sigma:.3g}, n={result.n:,}, α={result.alpha:g})",
        )
        ax.axhline(
            result.smoothed_accuracy,
            color="black",
            ls=":",
            lw=1,
            label=f"smoothed, clean ({result.smoothed_accuracy:.3f}; abstained {result.abstain_rate:.3f})",
        )
        ax.set_xlabel("PNR (dB)")
        ax.set_ylabel("accuracy")
        ax.set_ylim(0, 1.02)
        ax.grid(True, alpha=0.3)
        ax.set_title(f"certified vs empirical robust accuracy (n={result.n_examples} windows)")
        ax.legend(fontsize=7, loc="lower left")
        fig.tight_layout()
        path = Path(path)
        with atomic_path(path, suffix=".png") as tmp:
            fig.savefig(tmp, dpi=120, format="png")
    finally:
        plt.close(fig)
    return path


__all__ = ["plot_certified"]
