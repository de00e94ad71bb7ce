"""Typed results of the classifier stages (frozen; ``.metrics()`` for MLflow, ``.to_json()`` for
artifacts and for the next stage)."""

from __future__ import annotations

import dataclasses
from typing import Any

from amc_tf.evaluation.metrics import ClassifierReport
from amc_tf.export.table import SizeRow
from amc_tf.results import Result, flat_metrics
from amc_tf.training.fit import TrainResult


def snr_key(snr: int) -> str:
    """A metric-name fragment for an SNR in dB (``-10`` → ``m10``)."""
    return str(snr).replace("-", "m")


@dataclasses.dataclass(frozen=True)
class DataResult(Result):
    """The materialised dataset.

    Attributes:
        path: The ``.npz`` it lives in.
        fingerprint: sha256 of its contents (the runs' ``data_fingerprint`` tag).
        cache_hit: True when nothing was generated.
        n_windows, n_classes: Size.
        seconds: Time to generate or read it.
        manifest: Its manifest (generator config, seed, source).
    """

    path: str
    fingerprint: str
    cache_hit: bool
    n_windows: int
    n_classes: int
    seconds: float
    manifest: dict[str, Any]

    def metrics(self) -> dict[str, float]:
        return {"n_windows": self.n_windows, "seconds": self.seconds, "cache_hit": float(self.cache_hit)}

    def tags(self) -> dict[str, str]:
        return {"data_fingerprint": self.fingerprint, "cache_hit": str(self.cache_hit), "data_path": self.path}


@dataclasses.dataclass(frozen=True)
class TrainedModel(Result):
    """A trained model on disk and how its training went.

    Attributes:
        role: What the model is in its pipeline (``model``, ``teacher``, ``f_S``, ``f_D``, ...).
        model_name: The Keras model's name (``vtcnn2``, ...).
        path: The saved ``.keras`` file.
        n_params: Parameter count.
        input_scale: Its in-model input gain (None if the model has none).
        n_train, n_val: Windows trained and validated on.
        fit: The training run (None for models that were not trained here, e.g. Net-Trim's).
        uri: The MLflow model URI once logged.
    """

    role: str
    model_name: str
    path: str
    n_params: int
    input_scale: float | None
    n_train: int
    n_val: int
    fit: TrainResult | None = None
    uri: str | None = None

    def metrics(self) -> dict[str, float]:
        out = {"n_params": float(self.n_params), "n_train": float(self.n_train), "n_val": float(self.n_val)}
        if self.input_scale is not None:
            out["input_scale"] = float(self.input_scale)
        return {**out, **(self.fit.metrics() if self.fit else {})}

    def with_uri(self, uri: str | None) -> TrainedModel:
        return dataclasses.replace(self, uri=uri)


@dataclasses.dataclass(frozen=True)
class Evaluation(Result):
    """Test-split evaluation of one classifier.

    Attributes:
        report: Accuracy overall and per SNR, per-class P/R/F1, confusion matrices.
        headline_snr_min: The headline accuracy is the mean over SNR >= this (dB).
    """

    report: ClassifierReport
    headline_snr_min: int

    @property
    def headline_name(self) -> str:
        return f"test_acc_snr_ge_{snr_key(self.headline_snr_min)}"

    @property
    def headline(self) -> float:
        return self.report.accuracy_above(self.headline_snr_min)

    def metrics(self) -> dict[str, float]:
        return {**self.report.metrics("test_"), self.headline_name: self.headline}

    def to_json(self) -> dict[str, Any]:
        return self.report.to_dict()


@dataclasses.dataclass(frozen=True)
class NetTrimmed(Result):
    """Net-Trim's pruned model and its report (:class:`~amc_tf.prune.apply.NetTrimReport` as a dict)."""

    model: TrainedModel
    report: dict[str, Any]

    def metrics(self) -> dict[str, float]:
        return flat_metrics({k: v for k, v in self.report.items() if not isinstance(v, str)})


@dataclasses.dataclass(frozen=True)
class SizeTable(Result):
    """TFLite size, sparsity, latency and accuracy of the compressed models at one SNR.

    Attributes:
        rows: One row per model (the teacher is left out).
        snr: SNR (dB) of the windows behind accuracy and latency.
        n_windows: How many windows.
        markdown: The table as Markdown.
    """

    rows: list[SizeRow]
    snr: int
    n_windows: int
    markdown: str

    @property
    def gzip_ratio_fP_over_fS(self) -> float | None:  # noqa: N802  (the paper's model names)
        by = {r.model: r for r in self.rows}
        if "f_S" in by and "f_P" in by:
            return by["f_P"].gzip_bytes / by["f_S"].gzip_bytes
        return None

    def metrics(self) -> dict[str, float]:
        out = {f"{r.model}_{k}": float(v) for r in self.rows for k, v in r.to_json().items() if k != "model"}
        if self.gzip_ratio_fP_over_fS is not None:
            out["gzip_ratio_fP_over_fS"] = self.gzip_ratio_fP_over_fS
        return out

    def to_json(self) -> dict[str, Any]:
        out = {"rows": [r.to_json() for r in self.rows], "snr": self.snr, "n_windows": self.n_windows}
        if self.gzip_ratio_fP_over_fS is not None:
            out["gzip_ratio_fP_over_fS"] = self.gzip_ratio_fP_over_fS
        return out


@dataclasses.dataclass(frozen=True)
class ModelComparison(Result):
    """Per-model test reports of the ``compress`` pipeline.

    Attributes:
        reports: ``{role: classification report dict + "confusion_by_snr": {snr: [C, C]}}``.
        headline_snr: SNR (dB) of the headline accuracy.
    """

    reports: dict[str, dict[str, Any]]
    headline_snr: int

    def summary(self) -> dict[str, dict[str, float | None]]:
        """``{role: {"accuracy": ..., "accuracy_<snr>dB": ...}}``."""
        key = f"accuracy_{self.headline_snr}dB"
        return {
            role: {"accuracy": r["accuracy"], key: r["accuracy_by_snr"].get(self.headline_snr)}
            for role, r in self.reports.items()
        }

    def metrics(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for role, r in self.reports.items():
            out[f"{role}_accuracy"] = r["accuracy"]
            out.update({f"{role}_acc_snr_{snr_key(s)}": a for s, a in r["accuracy_by_snr"].items()})
            out.update({f"{role}_f1_snr_{snr_key(s)}": f for s, f in r["f1_by_snr"].items()})
        return out

    def to_json(self) -> dict[str, Any]:
        from amc_tf.results import jsonable

        return jsonable(self.reports)
