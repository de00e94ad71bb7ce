"""Figures of the classifier stages' results, as ``{artifact file name: matplotlib figure}``."""

from __future__ import annotations

from typing import Any

from amc_tf.classifier.results import Evaluation, ModelComparison
from amc_tf.evaluation.plots import plot_accuracy_vs_snr, plot_confusion, plot_training_history


def training_figures(history: dict[str, list[float]], title: str) -> dict[str, Any]:
    """The loss/accuracy curves of one training run."""
    return {"training_history.png": plot_training_history(history, title)}


def evaluation_figures(model_name: str, evaluation: Evaluation) -> dict[str, Any]:
    """Accuracy vs SNR, the confusion over all SNRs and at the focus SNR."""
    report = evaluation.report
    figures = {
        "accuracy_vs_snr.png": plot_accuracy_vs_snr({model_name: report.accuracy_by_snr}, "Test accuracy vs SNR"),
        "confusion_all.png": plot_confusion(report.confusion, report.classes, "Confusion (all SNRs)"),
    }
    if report.confusion_focus is not None:
        figures[f"confusion_{report.focus_snr}dB.png"] = plot_confusion(
            report.confusion_focus, report.classes, f"Confusion at {report.focus_snr} dB"
        )
    return figures


def comparison_figures(comparison: ModelComparison, classes: list[str]) -> dict[str, Any]:
    """Per-model confusion matrices at each chosen SNR, accuracy and macro-F1 vs SNR of all models."""
    reports = comparison.reports
    figures = {
        f"confusion_{role}_{snr}dB.png": plot_confusion(cm, classes, f"{role} at {snr} dB")
        for role, report in reports.items()
        for snr, cm in report["confusion_by_snr"].items()
    }
    figures["accuracy_vs_snr.png"] = plot_accuracy_vs_snr(
        {role: r["accuracy_by_snr"] for role, r in reports.items()}, "Accuracy vs SNR"
    )
    figures["f1_vs_snr.png"] = plot_accuracy_vs_snr(
        {role: r["f1_by_snr"] for role, r in reports.items()}, "Macro F1 vs SNR", ylabel="macro F1"
    )
    return figures
