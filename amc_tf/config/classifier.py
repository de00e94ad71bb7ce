"""Configs of the classifier pipelines: ``train_classifier`` (data → train → evaluate) and
``evaluate_robustness`` (a trained classifier against the attack suite)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from amc_tf.config.attack import RobustnessConfig
from amc_tf.config.base import Frozen, PipelineBase
from amc_tf.config.data import DataSpec, SplitConfig, SyntheticConfig
from amc_tf.config.train import ModelConfig, TrainConfig


class EvalConfig(Frozen):
    """Evaluation settings: batch size, the SNR of the focus confusion matrix, and the SNR above
    which the headline accuracy is averaged (the papers quote "SNR >= 0 dB")."""

    batch_size: int = Field(default=1024, ge=1)
    focus_snr: int = 10
    headline_snr_min: int = 0


class TrainClassifierConfig(PipelineBase):
    """The ``train_classifier`` flow: data → train → evaluate, tracked in MLflow."""

    kind: Literal["train_classifier"] = "train_classifier"
    name: str = Field(default="train_classifier", min_length=1)
    data: DataSpec = DataSpec()
    model: ModelConfig = ModelConfig()
    train: TrainConfig = TrainConfig()
    evaluation: EvalConfig = EvalConfig()


def _quickstart_data() -> DataSpec:
    """The dataset and split of ``configs/quickstart.yaml``, so that ``amc-tf attack --model-uri``
    evaluates the quickstart model on its own held-out test split without a config file."""
    return DataSpec(
        synthetic=SyntheticConfig(family="rml2016", windows_per_key=150, seed=2016),
        split=SplitConfig(train=0.6, val=0.1, test=0.3),
    )


class EvaluateRobustnessConfig(PipelineBase):
    """The ``evaluate_robustness`` flow: one trained classifier, one robustness report in MLflow.

    Attributes:
        model_uri: The model: an MLflow model URI (``runs:/<id>/model``, ``models:/<name>@alias``)
            or a bare training run id.
        data: The evaluation data (same spec as the training flow's, so a synthetic dataset is
            regenerated or read from the cache by its config hash).
        split: Which split of ``data`` to evaluate (``all`` = the whole dataset).
        robustness: Attacks, PNR grid, sizes and ART baselines.
    """

    kind: Literal["evaluate_robustness"] = "evaluate_robustness"
    name: str = Field(default="evaluate_robustness", min_length=1)
    model_uri: str | None = Field(default=None, min_length=1)
    data: DataSpec = Field(default_factory=_quickstart_data)
    split: Literal["train", "val", "test", "all"] = "test"
    robustness: RobustnessConfig = RobustnessConfig()

    @model_validator(mode="after")
    def _split_exists(self) -> EvaluateRobustnessConfig:
        if self.split == "val" and self.data.split.val == 0:
            raise ValueError("split 'val' requested but data.split.val is 0")
        return self
