"""Typed results of the ``mimo`` pipeline stages (:mod:`amc_tf.mimo.stages`).

Each is a frozen :class:`amc_tf.results.Result`: ``.metrics()`` gives the flat numbers the flow
logs to MLflow (the names the record has always used) and ``.to_json()`` the JSON artifact;
plots (:mod:`amc_tf.mimo.plots`) and the next stage read the fields. Nested results are keyed
``[precoder][arch][training]`` with string keys (``"MR"``, ``"M1"``, ``"standard"``), as in the
artifacts.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import numpy as np

from amc_tf.mimo.sumse import summarise
from amc_tf.mimo.transfer import TransferMatrix
from amc_tf.results import Result, flat_metrics, jsonable

#: ``{precoder: {arch: {training: value}}}``.
Nested = dict[str, dict[str, dict[str, Any]]]


def _leaves(tree: Nested):
    """``(precoder, arch, training, value)`` for every leaf of a nested result."""
    for prec, archs in tree.items():
        for arch, trainings in archs.items():
            for training, value in trainings.items():
                yield prec, arch, training, value


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")


@dataclasses.dataclass(frozen=True)
class SplitData(Result):
    """One generated (or reused) split of the power-allocation dataset.

    Attributes:
        split: ``train`` or ``test``.
        path: Its dataset directory (:mod:`amc_tf.mimo.dataset`).
        n_setups: Number of setups.
        fingerprint: sha256 of its shards.
        cache_hit: The complete dataset was already cached.
        seconds: Wall-clock time of this call.
        setups_per_s: Generation throughput (None on a cache hit).
    """

    split: str
    path: str
    n_setups: int
    fingerprint: str
    cache_hit: bool
    seconds: float
    setups_per_s: float | None = None

    def metrics(self) -> dict[str, float]:
        out = {
            f"{self.split}_setups": float(self.n_setups),
            f"{self.split}_seconds": self.seconds,
            f"{self.split}_cache_hit": float(self.cache_hit),
        }
        if self.setups_per_s:
            out[f"{self.split}_setups_per_s"] = self.setups_per_s
        return out


@dataclasses.dataclass(frozen=True)
class Datasets(Result):
    """The train and test splits of a run."""

    train: SplitData
    test: SplitData

    def metrics(self) -> dict[str, float]:
        return {**self.train.metrics(), **self.test.metrics()}

    def tags(self) -> dict[str, str]:
        """Provenance tags of the data."""
        return {"data_fingerprint": self.train.fingerprint, "test_fingerprint": self.test.fingerprint}


@dataclasses.dataclass(frozen=True)
class ModelSet(Result):
    """A trained (or reused) model set (:mod:`amc_tf.mimo.model_sets`).

    Attributes:
        training: ``standard`` or ``adversarial``.
        path: Its cache directory.
        cache_hit: It was already cached.
        models: Model name → ``{"epochs": n, "best_val_loss" | "best_adv_val_loss": v}``.
        seconds: Training time when it was made.
        n_train, n_val: Training / validation setups (standard sets).
    """

    training: str
    path: str
    cache_hit: bool
    models: dict[str, dict[str, float]]
    seconds: float
    n_train: int | None = None
    n_val: int | None = None

    def metrics(self) -> dict[str, float]:
        """``cache_hit``, ``n_models`` and ``<model>_<epochs|best_...>`` of every model."""
        return {"cache_hit": float(self.cache_hit), "n_models": float(len(self.models)), **flat_metrics(self.models)}


@dataclasses.dataclass(frozen=True)
class AttackSweeps(Result):
    """White-box sweeps ``sweeps[precoder][arch][training]`` (:class:`~amc_tf.mimo.robustness.Sweep`)."""

    sweeps: Nested

    def metrics(self) -> dict[str, float]:
        """``<prec>_<arch>_<training>_clean_feasible`` and ``..._<attack>_success`` at the largest eps."""
        return {
            f"{p}_{a}_{t}_{name}": v for p, a, t, sweep in _leaves(self.sweeps) for name, v in sweep.metrics().items()
        }

    def to_json(self) -> dict[str, Any]:
        return jsonable(self.sweeps)


@dataclasses.dataclass(frozen=True)
class Margins(Result):
    """Why the attacks succeed or not (:mod:`amc_tf.mimo.margins`).

    Attributes:
        optimal: Precoder → the optimum's use of Pmax (:func:`~amc_tf.mimo.margins.optimal_budget_use`).
        margins: ``[precoder][arch][training]`` → :func:`~amc_tf.mimo.margins.margin_report`.
        wide: Sweeps over ``attack.wide_eps_m`` (empty if that grid is empty).
        histograms: ``"<arch>, <precoder>"`` → ``{"optimal" | training: Pmax − total power}``,
            ``float64 [N·L]`` mW (for the plot; not part of the JSON).
    """

    optimal: dict[str, dict[str, Any]]
    margins: Nested
    wide: AttackSweeps
    histograms: dict[str, dict[str, np.ndarray]] = dataclasses.field(default_factory=dict)

    def metrics(self) -> dict[str, float]:
        """The optimum's share of cells at Pmax, and per model set the median margin, the median
        gradient size and the mean bias of the predicted totals."""
        out = {f"{prec}_optimal_at_pmax": v["at_pmax"] for prec, v in self.optimal.items()}
        for prec, arch, training, report in _leaves(self.margins):
            key = f"{prec}_{arch}_{training}"
            out[f"{key}_median_margin_mw"] = report["margin_mw"]["q50"]
            out[f"{key}_grad_l1_median_mw_per_m"] = report["grad_l1_mw_per_m"]["q50"]
            if "total_bias_mw" in report:
                out[f"{key}_total_bias_mw"] = report["total_bias_mw"]
        return out

    def to_json(self) -> dict[str, Any]:
        return {"optimal": jsonable(self.optimal), "margins": jsonable(self.margins), "wide": self.wide.to_json()}


@dataclasses.dataclass(frozen=True)
class TransferResult(Result):
    """M1 ↔ M2 transfer matrices per precoder (:class:`~amc_tf.mimo.transfer.TransferMatrix`)."""

    matrices: dict[str, TransferMatrix]

    def metrics(self) -> dict[str, float]:
        """``<prec>_<attack>_<source>_to_<target>_success`` at the largest eps."""
        return {f"{p}_{k}": v for p, matrix in self.matrices.items() for k, v in matrix.metrics().items()}

    def to_json(self) -> dict[str, Any]:
        return {prec: matrix.to_json() for prec, matrix in self.matrices.items()}


@dataclasses.dataclass(frozen=True)
class SumSE(Result):
    """Sum-SE samples ``samples["<arch>, <precoder>"][condition] = float64 [N]`` bit/s/Hz."""

    samples: dict[str, dict[str, np.ndarray]]

    @property
    def summary(self) -> dict[str, dict[str, dict[str, float]]]:
        """Mean, median and 5th percentile per panel and condition."""
        return {panel: summarise(conditions) for panel, conditions in self.samples.items()}

    def metrics(self) -> dict[str, float]:
        """``sumse_<arch>_<precoder>_<condition>_<mean|median|p05>`` (names reduced to ``[A-Za-z0-9_]``)."""
        return {
            f"sumse_{_slug(panel)}_{_slug(condition)}_{stat}": value
            for panel, conditions in self.summary.items()
            for condition, stats in conditions.items()
            for stat, value in stats.items()
        }

    def to_json(self) -> dict[str, Any]:
        return {"summary": self.summary, "samples": jsonable(self.samples)}
