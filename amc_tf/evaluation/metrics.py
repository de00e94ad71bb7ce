"""Classifier evaluation: overall and per-SNR accuracy, per-class P/R/F1, confusion matrices.

scikit-learn computes precision/recall/F1 and confusion matrices; this module only slices by SNR
and packs the numbers into one JSON-able :class:`ClassifierReport`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from amc_tf.data.dataset import IQDataset
from amc_tf.errors import ConfigError
from amc_tf.models.inference import predict_batched
from amc_tf.runtime import keras


def predict_logits(model: keras.Model, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Logits ``float32 [N, C]`` for ``x`` ``float32 [N, 2, L]``, in inference mode, batched."""
    return predict_batched(model, x, batch_size)


@dataclass
class ClassifierReport:
    """Evaluation of a classifier on one dataset.

    Attributes:
        classes: Class names (index = label).
        n: Number of evaluated windows.
        accuracy: Overall accuracy in [0, 1].
        accuracy_by_snr: ``{snr_dB: accuracy}``.
        per_class: ``{class: {"precision", "recall", "f1", "support"}}`` over all SNRs.
        confusion: ``[C, C]`` counts over all SNRs (rows = true, columns = predicted).
        focus_snr: The SNR (dB) of ``confusion_focus``.
        confusion_focus: ``[C, C]`` counts at ``focus_snr`` (None if absent from the data).
        f1_by_snr: ``{snr_dB: macro F1}``.
    """

    classes: list[str]
    n: int
    accuracy: float
    accuracy_by_snr: dict[int, float]
    per_class: dict[str, dict[str, float]]
    confusion: list[list[int]]
    focus_snr: int | None
    confusion_focus: list[list[int]] | None
    f1_by_snr: dict[int, float]

    def accuracy_above(self, snr_min: int = 0) -> float:
        """Mean of the per-SNR accuracies for SNR >= ``snr_min`` (the papers' "SNR >= 0 dB" figure)."""
        vals = [a for s, a in self.accuracy_by_snr.items() if s >= snr_min]
        return float(np.mean(vals)) if vals else float("nan")

    def to_dict(self) -> dict:
        return asdict(self)

    def metrics(self, prefix: str = "") -> dict[str, float]:
        """Flat scalar metrics for MLflow."""
        out = {f"{prefix}accuracy": self.accuracy}
        for snr, acc in self.accuracy_by_snr.items():
            out[f"{prefix}acc_snr_{snr}".replace("-", "m")] = acc
        for name, stats in self.per_class.items():
            out[f"{prefix}f1_{name}"] = stats["f1"]
        return out


def evaluate_predictions(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    snr: np.ndarray,
    classes: list[str] | tuple[str, ...],
    focus_snr: int | None = 10,
) -> ClassifierReport:
    """Build a :class:`ClassifierReport` from labels and predictions (all ``[N]`` integer arrays)."""
    if not (len(y_true) == len(y_pred) == len(snr)):
        raise ConfigError("y_true, y_pred and snr must have the same length")
    labels = np.arange(len(classes))
    acc_by_snr: dict[int, float] = {}
    f1_by_snr: dict[int, float] = {}
    for s in sorted(int(v) for v in np.unique(snr)):
        m = snr == s
        acc_by_snr[s] = float(np.mean(y_true[m] == y_pred[m]))
        f1_by_snr[s] = float(
            precision_recall_fscore_support(y_true[m], y_pred[m], labels=labels, average="macro", zero_division=0)[2]
        )
    p, r, f, sup = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    per_class = {
        c: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(sup[i])}
        for i, c in enumerate(classes)
    }
    cm = confusion_matrix(y_true, y_pred, labels=labels)
    focus = None
    if focus_snr is not None and np.any(snr == focus_snr):
        m = snr == focus_snr
        focus = confusion_matrix(y_true[m], y_pred[m], labels=labels).tolist()
    return ClassifierReport(
        classes=list(classes),
        n=int(len(y_true)),
        accuracy=float(np.mean(y_true == y_pred)) if len(y_true) else float("nan"),
        accuracy_by_snr=acc_by_snr,
        per_class=per_class,
        confusion=cm.tolist(),
        focus_snr=focus_snr,
        confusion_focus=focus,
        f1_by_snr=f1_by_snr,
    )


def evaluate_classifier(
    model: keras.Model, ds: IQDataset, *, batch_size: int = 1024, focus_snr: int | None = 10
) -> ClassifierReport:
    """Predict ``ds`` with ``model`` and report (see :class:`ClassifierReport`)."""
    logits = predict_logits(model, ds.x, batch_size)
    return evaluate_predictions(ds.y, logits.argmax(axis=1), ds.snr, ds.classes, focus_snr)
