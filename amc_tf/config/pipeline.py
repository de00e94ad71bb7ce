"""Config of the ``train_classifier`` pipeline (data → train → evaluate) and its data section."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from amc_tf.config.base import Frozen
from amc_tf.config.data import SyntheticConfig
from amc_tf.config.tracking import TrackingConfig
from amc_tf.config.train import ModelConfig, TrainConfig


class SplitConfig(Frozen):
    """Stratified (class, SNR) split fractions. ``val = 0`` uses the test set for validation, as
    the VT-CNN2 notebook does (its 50/50 split); give ``val > 0`` for a held-out validation set."""

    train: float = Field(default=0.5, gt=0, lt=1)
    val: float = Field(default=0.0, ge=0, lt=1)
    test: float = Field(default=0.5, gt=0, lt=1)

    @model_validator(mode="after")
    def _sums_to_one(self) -> SplitConfig:
        total = self.train + self.val + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"train + val + test must equal 1, got {total:.6g}")
        return self


class DataSpec(Frozen):
    """Where the data comes from: the synthetic generator (default) or an imported ``.npz``.

    Attributes:
        synthetic: Generator settings (used when ``path`` is None).
        path: A dataset written by ``amc-tf data import`` / ``data generate``.
        classes: Optional subset of class names (``path`` datasets).
        snrs: Optional subset of SNR labels in dB (``path`` datasets).
        split: Split fractions.
        cache_dir: Where generated datasets are cached, keyed by the generator config hash.
    """

    synthetic: SyntheticConfig | None = None
    path: str | None = None
    classes: list[str] | None = None
    snrs: list[int] | None = None
    split: SplitConfig = SplitConfig()
    cache_dir: str = ".cache/datasets"

    @model_validator(mode="after")
    def _one_source(self) -> DataSpec:
        if self.synthetic is not None and self.path is not None:
            raise ValueError("give either data.synthetic or data.path, not both")
        if self.path is None and (self.classes is not None or self.snrs is not None):
            raise ValueError("data.classes / data.snrs select from a file dataset; for synthetic data set them under data.synthetic")
        return self

    def generator(self) -> SyntheticConfig | None:
        """The effective generator config (defaults when neither source is given)."""
        if self.path is not None:
            return None
        return self.synthetic if self.synthetic is not None else SyntheticConfig()


class EvalConfig(Frozen):
    """Evaluation settings: batch size, the SNR of the focus confusion matrix, and the SNR above
    which the headline accuracy is averaged (the papers quote "SNR >= 0 dB")."""

    batch_size: int = Field(default=1024, ge=1)
    focus_snr: int = 10
    headline_snr_min: int = 0


class TrainClassifierConfig(Frozen):
    """The ``train_classifier`` flow: data → train → evaluate, tracked in MLflow."""

    kind: Literal["train_classifier"] = "train_classifier"
    name: str = Field(default="train_classifier", min_length=1)
    seed: int = Field(default=0, ge=0)
    data: DataSpec = DataSpec()
    model: ModelConfig = ModelConfig()
    train: TrainConfig = TrainConfig()
    evaluation: EvalConfig = EvalConfig()
    tracking: TrackingConfig = TrackingConfig()
    output_dir: str = "artifacts"
