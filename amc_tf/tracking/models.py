"""Models in MLflow: log a trained tf_keras model, register it with an alias, resolve a URI or a
run id to the model a flow recorded, and load it back (``mlflow.tensorflow``; ``mlflow.keras``
is Keras-3 only)."""

from __future__ import annotations

import re
from typing import Any

from amc_tf.errors import AmcError
from amc_tf.tracking.runs import set_tags
from amc_tf.tracking.store import _mlflow

# Requirements recorded with each logged model. Passing them explicitly avoids ~10 s of
# requirement inference per call (design §4).
MODEL_PIP_REQUIREMENTS = ["tensorflow==2.21.0", "tf-keras==2.21.0", "numpy<2.5"]


def log_keras_model(model: Any, name: str) -> str:
    """Log a tf_keras model with ``mlflow.tensorflow``; return its model URI."""
    import mlflow.tensorflow

    info = mlflow.tensorflow.log_model(model, name=name, pip_requirements=MODEL_PIP_REQUIREMENTS)
    return info.model_uri


def log_model(
    model: Any, artifact: str, tracking: Any, registered_name: str, *, alias: str = "candidate"
) -> str | None:
    """Log ``model`` in the active run as ``artifact`` (if ``tracking.log_models``), tag the run
    with its ``model_uri`` and register it under ``registered_name`` with ``alias`` (if
    ``tracking.register_models``). Returns the model URI, or None when models are not logged."""
    if not tracking.log_models:
        return None
    uri = log_keras_model(model, artifact)
    set_tags({"model_uri": uri})
    if tracking.register_models:
        register_model(uri, registered_name, alias=alias)
    return uri


def register_model(model_uri: str, name: str, alias: str | None = None) -> int:
    """Register ``model_uri`` under ``name`` (optionally with an alias); return the version."""
    mlflow = _mlflow()
    version = mlflow.register_model(model_uri, name)
    if alias:
        from mlflow import MlflowClient

        MlflowClient().set_registered_model_alias(name, alias, version.version)
    return int(version.version)


_RUN_ID = re.compile(r"^[0-9a-f]{32}$")


def resolve_model_uri(uri_or_run_id: str, artifact: str = "model") -> str:
    """Accept a model URI (``runs:/``, ``models:/``, a path) or a bare run id.

    A run id resolves to the model its flow recorded: the run's ``model_uri`` tag (set on the
    parent run of ``train_classifier`` and on every stage that logs a model), else the tag of its
    only child run that has one; a parent with several (the ``compress`` flow's teacher, f_S, ...)
    must be given the child's run id or the model URI. Runs without any fall back to
    ``runs:/<id>/<artifact>``.

    Raises:
        AmcError: several child runs logged a model, so the run id is ambiguous.
    """
    if not _RUN_ID.match(uri_or_run_id):
        return uri_or_run_id
    fallback = f"runs:/{uri_or_run_id}/{artifact}"
    mlflow = _mlflow()
    try:
        run = mlflow.get_run(uri_or_run_id)
    except Exception:  # unknown run: let the loader report the URI it tried
        return fallback
    if run.data.tags.get("model_uri"):
        return run.data.tags["model_uri"]
    children = mlflow.search_runs(
        experiment_ids=[run.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{uri_or_run_id}'",
        output_format="list",
    )
    found = {c.info.run_name: c.data.tags["model_uri"] for c in children if c.data.tags.get("model_uri")}
    if len(found) > 1:
        listing = ", ".join(f"{name}: {uri}" for name, uri in sorted(found.items()))
        raise AmcError(f"run {uri_or_run_id} logged several models ({listing}); pass one of these URIs")
    return next(iter(found.values()), fallback)


def load_keras_model(uri_or_run_id: str, artifact: str = "model") -> Any:
    """Load a tf_keras model logged by :func:`log_keras_model`.

    Raises:
        AmcError: the URI cannot be resolved or holds no Keras model.
    """
    import mlflow.tensorflow

    uri = resolve_model_uri(uri_or_run_id, artifact)
    try:
        return mlflow.tensorflow.load_model(uri)
    except Exception as err:  # MlflowException, OSError, ...
        raise AmcError(f"cannot load a Keras model from {uri!r}: {err}") from None
