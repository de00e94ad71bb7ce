"""Training and model-choice configs for classifiers."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from amc_tf.config.base import Frozen
from amc_tf.models.catalogue import facts


class ModelConfig(Frozen):
    """Which registered model to build (``amc_tf.models.registry.MODELS``) and its keyword params.

    Both are checked when the config loads, against the model catalogue (the builders' names and
    signatures, :mod:`amc_tf.models.catalogue`, no TensorFlow needed), so a typo fails before
    TensorFlow is imported or any data is generated.
    """

    name: str = "vtcnn2"
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _registered(self) -> ModelConfig:
        known = facts(self.name)  # unknown name: ValueError listing the registered models
        bad = sorted(set(self.params) - set(known.params))
        if bad:
            raise ValueError(f"model {self.name!r} has no parameter(s) {bad} to set; it takes {sorted(known.params)}")
        return self


class TrainConfig(Frozen):
    """Keras training recipe (VT-CNN2 notebook defaults, references §2.1).

    Attributes:
        learning_rate: Adam learning rate.
        batch_size: Mini-batch size (1024 in the notebook).
        epochs: Maximum number of epochs.
        patience: Early-stopping patience on the monitored quantity (0 = no early stopping).
        monitor: Quantity watched by early stopping / best-weights selection.
        restore_best_weights: Keep the weights of the best epoch.
        verbose: Keras progress output (0 silent, 1 bar, 2 one line per epoch).
        max_minutes: Optional wall-clock budget; training stops after the first epoch that ends
            past it (the best weights so far are kept). For paper-scale runs on CPU.
    """

    learning_rate: float = Field(default=1e-3, gt=0, le=1)
    batch_size: int = Field(default=1024, ge=1)
    epochs: int = Field(default=100, ge=1)
    patience: int = Field(default=5, ge=0)
    monitor: str = Field(default="val_loss", pattern=r"^val_(loss|accuracy)$")
    restore_best_weights: bool = True
    verbose: int = Field(default=2, ge=0, le=2)
    max_minutes: float | None = Field(default=None, gt=0)


def fine_tuning() -> TrainConfig:
    """The hardening recipes' default fit: Adam 1e-3, batch 256, 10 epochs, last epoch kept."""
    return TrainConfig(learning_rate=1e-3, batch_size=256, epochs=10, patience=0, restore_best_weights=False)


def keep_last_epoch_unless_asked(value: Any) -> Any:
    """A hardening recipe's ``train`` keeps its last epoch unless ``restore_best_weights`` is given.

    Robust training (CAT's growing budgets, fixed-budget AT) raises the *clean* validation loss it
    would be selected on, so best-epoch selection would quietly undo it (CAT's first epoch wins).
    Used as a ``mode="before"`` field validator on ``train``.
    """
    if isinstance(value, dict) and "restore_best_weights" not in value:
        return {**value, "restore_best_weights": False}
    return value
