"""What adversarial training returns, and the budget audit of the examples it crafted (design D4)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from amc_tf.attacks.budgets import Norm, audit, measured_pnr_db
from amc_tf.results import Result, jsonable
from amc_tf.runtime import keras


def audit_crafted(
    x: np.ndarray,
    x_adv: np.ndarray,
    radius: np.ndarray,
    norm: Norm,
    snr_db: np.ndarray,
    requested_pnr_db: np.ndarray | None,
) -> dict[str, Any]:
    """:func:`amc_tf.attacks.budgets.audit` of crafted examples plus their gap to the requested PNR.

    Args:
        x, x_adv: ``float32 [N, 2, L]`` clean and adversarial windows.
        radius: ``[N]`` radii in ``norm``.
        norm: The attack's norm.
        snr_db: SNR labels (dB) ``[N]``.
        requested_pnr_db: The PNR each example was crafted at (None for an absolute budget).

    Returns:
        The audit's JSON, ``norm_ratio_min`` (smallest ``||δ|| / radius``: 1 when every example
        sits on its ball's surface) and, under a PNR budget, ``pnr_gap_db_max`` (largest
        |measured − requested| PNR over examples whose perturbation is not zero; an L∞ example
        on its surface may sit below the nominal PNR where gradient entries vanish).
    """
    report = audit(x, x_adv, radius, norm, snr_db).to_json()
    delta = (x_adv.astype(np.float64) - x).reshape(len(x), -1)
    size = np.linalg.norm(delta, axis=1) if Norm(norm) is Norm.L2 else np.abs(delta).max(axis=1, initial=0.0)
    positive = radius > 0
    report["norm_ratio_min"] = float((size[positive] / radius[positive]).min()) if positive.any() else None
    report["norm"] = Norm(norm).value
    if requested_pnr_db is not None and len(x):
        measured = measured_pnr_db(x, x_adv, snr_db)
        ok = np.isfinite(measured)
        report["pnr_gap_db_max"] = float(np.abs(measured[ok] - requested_pnr_db[ok]).max()) if ok.any() else None
    return report


def zero_fraction(array: np.ndarray) -> float:
    """Fraction of exact zeros in ``array``."""
    return float(np.mean(np.asarray(array) == 0)) if np.size(array) else 0.0


@dataclass(frozen=True)
class AdversarialTrainingResult(Result):
    """The outcome of :func:`~amc_tf.defenses.adversarial_training.adversarial_train`.

    Attributes:
        model: The trained classifier: a plain copy of the input model (logits, no training
            wrapper, original ``trainable`` flags), savable as ``.keras``.
        mode: ``offline`` or ``online``.
        budget: The training threat, in words.
        history: Per-epoch Keras logs over all epochs (offline: all rounds in order).
        epochs: Epochs trained (offline: over all rounds).
        epoch_seconds: Seconds of each epoch (online: crafting included).
        seconds_per_epoch: Their mean.
        samples_per_s: Training windows per second of epoch time.
        crafting_seconds: Offline: seconds spent crafting (all rounds); online: 0 (inside epochs).
        crafted: Adversarial examples crafted per attack of the mix (keys ``<i>:<name>``).
        rounds: Offline: per round, crafted counts, crafting and training seconds; online: [].
        trainable_params, frozen_params: Parameters the optimizer updated / held by frozen layers.
        frozen_layers: Names of the frozen layers.
        sparsity: Per pruned layer ``{"before": .., "after": .., "kept": bool}`` (zero fraction of
            its kernel; ``kept``: every weight that was zero is still exactly zero).
        audit: Per attack, the budget audit of a sample of its crafted examples (:func:`audit_crafted`).
    """

    model: keras.Model
    mode: str
    budget: str
    history: dict[str, list[float]]
    epochs: int
    epoch_seconds: list[float]
    seconds_per_epoch: float
    samples_per_s: float
    crafting_seconds: float
    crafted: dict[str, int]
    trainable_params: int
    frozen_params: int
    frozen_layers: list[str]
    sparsity: dict[str, dict[str, Any]] = field(default_factory=dict)
    audit: dict[str, dict[str, Any]] = field(default_factory=dict)
    rounds: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Everything but the model (JSON-able)."""
        return {f.name: jsonable(getattr(self, f.name)) for f in fields(self) if f.name != "model"}

    def metrics(self) -> dict[str, float]:
        out = {
            "epochs": float(self.epochs),
            "seconds_per_epoch": self.seconds_per_epoch,
            "samples_per_s": self.samples_per_s,
            "crafting_seconds": self.crafting_seconds,
            "trainable_params": float(self.trainable_params),
            "frozen_params": float(self.frozen_params),
        }
        out.update({f"crafted_{k.replace(':', '_')}": float(v) for k, v in self.crafted.items()})
        for layer, values in self.sparsity.items():
            out[f"sparsity_{layer}_before"] = values["before"]
            out[f"sparsity_{layer}_after"] = values["after"]
        for key, values in self.audit.items():
            out[f"audit_{key.replace(':', '_')}_ok"] = float(bool(values.get("ok")))
        return out


__all__ = ["AdversarialTrainingResult", "audit_crafted", "zero_fraction"]
