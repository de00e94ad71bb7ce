"""Figures for classifier evaluation: accuracy vs SNR and confusion heat-maps (matplotlib, Agg)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def plot_accuracy_vs_snr(
    curves: Mapping[str, Mapping[int, float]], title: str = "Accuracy vs SNR", ylabel: str = "accuracy"
):
    """One line per model: ``curves[name] = {snr_dB: value}``. Returns the Figure."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for name, curve in curves.items():
        snrs = sorted(curve)
        ax.plot(snrs, [curve[s] for s in snrs], marker="o", ms=3, label=name)
    ax.set_xlabel("SNR (dB)")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.02)
    ax.grid(True, alpha=0.3)
    ax.set_title(title)
    if len(curves) > 1:
        ax.legend()
    fig.tight_layout()
    return fig


def plot_confusion(confusion: Sequence[Sequence[int]], classes: Sequence[str], title: str = "Confusion matrix"):
    """Row-normalised confusion heat-map (rows = true class). Returns the Figure."""
    cm = np.asarray(confusion, dtype=float)
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    n = len(classes)
    size = max(4.5, 0.42 * n + 2)
    fig, ax = plt.subplots(figsize=(size, size * 0.9))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n), labels=classes, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(n), labels=classes, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if n <= 12:
        for i in range(n):
            for j in range(n):
                if norm[i, j] >= 0.01:
                    ax.text(
                        j,
                        i,
                        f"{norm[i, j]:.2f}",
                        ha="center",
                        va="center",
                        fontsize=6,
                        color="white" if norm[i, j] > 0.5 else "black",
                    )
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_training_history(history: Mapping[str, Sequence[float]], title: str = "Training"):
    """Loss and accuracy per epoch (train and validation). Returns the Figure."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.6))
    for key, ax in (("loss", a1), ("accuracy", a2)):
        for prefix, style in (("", "-"), ("val_", "--")):
            vals = history.get(prefix + key)
            if vals:
                ax.plot(range(1, len(vals) + 1), vals, style, label=(prefix or "train_") + key)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig
