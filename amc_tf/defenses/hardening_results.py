"""What the hardening recipes (CAT, LS-GNA) return: typed results with ``metrics()`` and ``to_json()``.

The trained classifier is returned next to the result by the entry points (not inside it), so a
result is plain data; CAT's per-example budgets are kept as an array and summarised for JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from amc_tf.defenses.adversarial_results import zero_fraction
from amc_tf.results import Result, jsonable

_KERNELS = ("kernel", "depthwise_kernel")


def _short(name: str) -> str:
    return name.split("/")[-1].split(":")[0]


def training_summary(run: Any, n_windows: int) -> dict[str, Any]:
    """The :class:`HardeningResult` fields of a :class:`~amc_tf.defenses.hardening_model.RecipeRun`."""
    seconds = [float(s) for s in run.fitted.epoch_seconds]
    epochs = run.fitted.epochs_run
    total = float(np.sum(seconds))
    by_name = {w.name: w for w in run.model.trainable_weights}
    sparsity = {}
    for name, mask in run.masks.items():
        if _short(name) in _KERNELS:
            after = by_name[name].numpy()
            sparsity[name.split("/")[0]] = {
                "before": 1.0 - float(mask.mean()),
                "after": zero_fraction(after),
                "kept": bool(np.all(after[mask == 0] == 0)),
            }
    return {
        "history": run.fitted.history,
        "epochs": epochs,
        "epoch_seconds": seconds,
        "seconds_per_epoch": total / epochs if epochs else 0.0,
        "samples_per_s": n_windows * epochs / total if total > 0 else 0.0,
        "trainable_params": run.trainable_params,
        "frozen_params": run.frozen_params,
        "frozen_layers": list(run.frozen_layers),
        "sparsity": sparsity,
    }


@dataclass(frozen=True, kw_only=True)
class HardeningResult(Result):
    """The fit of a hardening recipe.

    Attributes:
        history: Per-epoch Keras logs (``loss``, ``accuracy`` of the batches trained on, the
            recipe's own metrics, ``val_loss``/``val_accuracy`` on clean validation windows).
        epochs: Epochs trained; epoch_seconds: seconds of each; seconds_per_epoch: their mean.
        samples_per_s: Training windows per second of epoch time.
        trainable_params, frozen_params: Parameters the optimizer updated / held by frozen layers.
        frozen_layers: Names of the frozen layers.
        sparsity: Per pruned layer ``{"before", "after", "kept"}`` (zero fraction of its kernel;
            ``kept``: every weight that was zero is still exactly zero).
    """

    history: dict[str, list[float]]
    epochs: int
    epoch_seconds: list[float]
    seconds_per_epoch: float
    samples_per_s: float
    trainable_params: int
    frozen_params: int
    frozen_layers: list[str]
    sparsity: dict[str, dict[str, Any]] = field(default_factory=dict)

    def metrics(self) -> dict[str, float]:
        out = {
            "epochs": float(self.epochs),
            "seconds_per_epoch": self.seconds_per_epoch,
            "samples_per_s": self.samples_per_s,
            "trainable_params": float(self.trainable_params),
            "frozen_params": float(self.frozen_params),
        }
        for key, values in self.history.items():
            if values:
                out[f"final_{key}"] = float(values[-1])
        for layer, values in self.sparsity.items():
            out[f"sparsity_{layer}_after"] = values["after"]
        return out


@dataclass(frozen=True, kw_only=True)
class CatResult(HardeningResult):
    """CAT's fit plus its per-example budgets.

    Attributes:
        pnr_max_db: ε_max as a PNR (dB, with each example's SNR label).
        eps_scale: ``float32 [N]`` final budget of each training window (by position), as a scale
            of its ε_max radius in [0, 1]; its PNR is ``pnr_max_db + 20·log10(scale)`` dB.
    """

    pnr_max_db: float
    eps_scale: np.ndarray

    @property
    def eps_scale_mean(self) -> float:
        """Mean budget scale over the training set (the mean radius in units of ε_max)."""
        return float(np.mean(self.eps_scale)) if self.eps_scale.size else 0.0

    @property
    def at_max_fraction(self) -> float:
        """Fraction of windows whose budget reached ε_max."""
        return float(np.mean(self.eps_scale >= 1.0)) if self.eps_scale.size else 0.0

    def eps_pnr_db(self) -> np.ndarray:
        """Per-example budget as a PNR in dB ``float64 [N]`` (``-inf`` for a zero budget)."""
        with np.errstate(divide="ignore"):
            return self.pnr_max_db + 20.0 * np.log10(self.eps_scale.astype(np.float64))

    def eps_summary(self) -> dict[str, Any]:
        """Mean, quantiles, zero and at-max fractions of the scales, and the PNR of the mean radius."""
        s = self.eps_scale.astype(np.float64)
        mean = self.eps_scale_mean
        return {
            "n": int(s.size),
            "scale_mean": mean,
            "scale_quantiles": {str(q): float(np.quantile(s, q)) for q in (0.1, 0.5, 0.9)} if s.size else {},
            "zero_fraction": float(np.mean(s == 0)) if s.size else 0.0,
            "at_max_fraction": self.at_max_fraction,
            "pnr_db_of_mean_radius": self.pnr_max_db + 20.0 * float(np.log10(mean)) if mean > 0 else None,
        }

    def to_json(self) -> dict[str, Any]:
        """Everything JSON-able: the budget array as its :meth:`eps_summary`."""
        out = {f.name: jsonable(getattr(self, f.name)) for f in fields(self) if f.name != "eps_scale"}
        return {**out, "eps": self.eps_summary()}

    def metrics(self) -> dict[str, float]:
        summary = self.eps_summary()
        out = {**super().metrics(), "eps_scale_mean": summary["scale_mean"], "eps_at_max": summary["at_max_fraction"]}
        if summary["pnr_db_of_mean_radius"] is not None:
            out["eps_pnr_db_of_mean_radius"] = summary["pnr_db_of_mean_radius"]
        return out


@dataclass(frozen=True, kw_only=True)
class LsGnaResult(HardeningResult):
    """LS-GNA's fit plus its settings.

    Attributes:
        smoothing: Label-smoothing factor α.
        noise_pnr_db: ``[lo, hi]`` dB range the per-window noise PNR was drawn from.
    """

    smoothing: float
    noise_pnr_db: tuple[float, float]


__all__ = ["CatResult", "HardeningResult", "LsGnaResult", "training_summary"]
