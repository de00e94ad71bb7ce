"""Figures of the rejection evaluation (matplotlib, Agg).

* :func:`plot_rejection_curves`: defended accuracy vs PNR, one colour per defence, the adaptive
  attack solid and the non-adaptive one dashed, the clean accuracy (rejections = errors) dotted;
* :func:`plot_feature_pca`: the last feature layer of several models (e.g. CAT vs LS-GNA) in the
  plane of its first two principal components (scikit-learn PCA fitted per model), one colour per
  class, side by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402

from amc_tf.evaluation.rejection import RejectionReport  # noqa: E402
from amc_tf.io import atomic_path  # noqa: E402


def plot_rejection_curves(report: RejectionReport, title: str | None = None):
    """Defended accuracy vs PNR per defence (adaptive solid, non-adaptive dashed). Returns the Figure."""
    fig, ax = plt.subplots(figsize=(7.2, 4.8))
    cmap = plt.get_cmap("tab10")
    for i, c in enumerate(report.curves):
        colour = cmap(i % 10)
        ax.plot(c.pnr_db, c.adaptive_accuracy, color=colour, ls="-", marker="o", ms=3, label=f"{c.defence} (adaptive)")
        ax.plot(
            c.pnr_db, c.non_adaptive_accuracy, color=colour, ls="--", marker="s", ms=3, mfc="none",
            label=f"{c.defence} (non-adaptive)",
        )  # fmt: skip
        ax.axhline(c.clean_accuracy, color=colour, ls=":", lw=1, label=f"{c.defence} clean ({c.clean_accuracy:.3f})")
    ax.set_xlabel("PNR (dB)")
    ax.set_ylabel("accuracy under rejection (rejected adv. = defended)")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title(title or "Run-time rejectors: adaptive vs non-adaptive PGD-L2")
    fig.tight_layout()
    return fig


def plot_feature_pca(panels: Sequence[tuple[str, np.ndarray, np.ndarray]], classes: Sequence[str], seed: int = 0):
    """2-D PCA of feature vectors, one panel per ``(model name, features [N, D], labels [N])``."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 4.2), squeeze=False)
    cmap = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
    for ax, (name, feats, labels) in zip(axes[0], panels):
        pca = PCA(n_components=2, random_state=seed).fit(np.asarray(feats, np.float64))
        plane = pca.transform(np.asarray(feats, np.float64))
        for k, cls in enumerate(classes):
            sel = np.asarray(labels) == k
            ax.scatter(plane[sel, 0], plane[sel, 1], s=4, alpha=0.6, color=cmap(k % cmap.N), label=cls)
        var = pca.explained_variance_ratio_
        ax.set_title(f"{name}: PCA of the last feature layer")
        ax.set_xlabel(f"PC1 ({var[0]:.0%})")
        ax.set_ylabel(f"PC2 ({var[1]:.0%})")
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=7, markerscale=3)
    fig.tight_layout()
    return fig


def save_png(fig, path: str | Path, dpi: int = 120) -> Path:
    """Write ``fig`` as PNG atomically and close it."""
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    plt.close(fig)
    return Path(path)
