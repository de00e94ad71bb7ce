"""Configs of the run-time rejectors (design D10; references §7.2) and of the adaptive attacks on them.

* :class:`NeuralRejectionConfig`: Melis et al.'s neural rejection, one-vs-all RBF SVMs on the last
  feature layer of a classifier (:mod:`amc_tf.defenses.rejection`).
* :class:`AutoencoderConfig`: the auto-encoder detector of the two-fold defence
  (:mod:`amc_tf.defenses.autoencoder`).
* :class:`AdaptiveAttackConfig`: the adaptive PGD-L2 (declared TF-free in
  :mod:`amc_tf.attacks.adaptive_settings`, re-exported here).

``reject_rate`` is the fraction of *clean validation* windows each rejector rejects (10 %, the
setting of Sotgiu et al. 2020). Validate YAML values with :func:`amc_tf.config.base.validate_config`
(a :class:`~amc_tf.errors.ConfigError` naming the field).
"""

from __future__ import annotations

from pydantic import Field

from amc_tf.attacks.adaptive_settings import AdaptiveAttackConfig
from amc_tf.config.base import Frozen


class NeuralRejectionConfig(Frozen):
    """One-vs-all RBF SVMs on a classifier's features, with a reject threshold.

    Attributes:
        layer: Name of the feature layer (its output is the representation). None = the input of
            the final logits Dense layer.
        gamma: RBF kernel width ``exp(-gamma ||a - b||^2)`` (feature units^-2).
        C: SVM soft-margin penalty.
        standardise: Z-score each feature (training mean and std) before the SVMs. Off by
            default: the raw features are what the classifier's head sees, and gamma is set for them.
        max_train: Cap on SVM training windows, drawn stratified by class (SVC training is O(n^2)).
        reject_rate: Fraction of clean validation windows rejected; sets the threshold S_0.
    """

    layer: str | None = Field(default=None, min_length=1)
    gamma: float = Field(default=0.01, gt=0, allow_inf_nan=False)
    C: float = Field(default=1.0, gt=0, allow_inf_nan=False)
    standardise: bool = False
    max_train: int = Field(default=2000, ge=2)
    reject_rate: float = Field(default=0.10, ge=0, lt=1)


class AutoencoderConfig(Frozen):
    """The convolutional auto-encoder detector (architecture in :mod:`amc_tf.defenses.autoencoder`).

    Attributes:
        filters: Channels of the encoder's two Conv1D layers (the second is the bottleneck at
            half the time resolution); the decoder mirrors them.
        kernel_size: Conv1D kernel length (samples).
        epochs, learning_rate, batch_size: Adam training on clean windows (MSE).
        reject_rate: Fraction of clean validation windows rejected; sets the MSE threshold.
    """

    filters: tuple[int, int] = (16, 8)
    kernel_size: int = Field(default=5, ge=1, le=63)
    epochs: int = Field(default=20, ge=1, le=10_000)
    learning_rate: float = Field(default=1e-3, gt=0, le=1)
    batch_size: int = Field(default=128, ge=1)
    reject_rate: float = Field(default=0.10, ge=0, lt=1)

    def model_post_init(self, __context) -> None:
        if min(self.filters) < 1:
            raise ValueError(f"filters must be positive channel counts, got {list(self.filters)}")


__all__ = ["AdaptiveAttackConfig", "AutoencoderConfig", "NeuralRejectionConfig"]
