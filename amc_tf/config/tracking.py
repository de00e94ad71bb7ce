"""Tracking settings shared by every pipeline config (design D5)."""

from __future__ import annotations

from pydantic import Field

from amc_tf.config.base import Frozen


class TrackingConfig(Frozen):
    """Where and how a flow records itself in MLflow.

    Attributes:
        experiment: MLflow experiment name (None = the pipeline kind).
        uri: Tracking URI. None = ``$MLFLOW_TRACKING_URI`` if set, else the embedded
            ``sqlite:///mlruns/mlflow.db`` store with artifacts under ``./mlruns``.
        register_models: Register the resulting models in the MLflow model registry.
        log_models: Log trained Keras models as MLflow artifacts.
    """

    experiment: str | None = Field(default=None, min_length=1)
    uri: str | None = Field(default=None, min_length=1)
    register_models: bool = True
    log_models: bool = True
