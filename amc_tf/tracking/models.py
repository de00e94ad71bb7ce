"""Models in MLflow: log a trained tf_keras model with the sha256 of its archive, register it with
an alias, resolve a URI or a run id to the model a flow recorded, and load it back through the one
safe loader (:mod:`amc_tf.models.loading`, design D9). Logging uses ``mlflow.tensorflow``
(``mlflow.keras`` is Keras-3 only); loading never uses an MLflow loader."""

from __future__ import annotations

import re
import tempfile
import threading
from pathlib import Path
from typing import Any
from unittest import mock

from amc_tf.errors import AmcError, ModelError
from amc_tf.tracking.runs import set_tags
from amc_tf.tracking.store import _mlflow

# Requirements recorded with each logged model. Passing them explicitly avoids ~10 s of
# requirement inference per call (design §4).
MODEL_PIP_REQUIREMENTS = ["tensorflow==2.21.0", "tf-keras==2.21.0", "numpy<2.5"]
#: Tag of a logged model holding the sha256 of its ``data/model.keras`` (kept in the tracking
#: store, apart from the artifacts it vouches for).
SHA256_TAG = "amc_tf.keras_sha256"
_NO_PICKLES = threading.Lock()


def log_keras_model(model: Any, name: str) -> str:
    """Log a tf_keras model with ``mlflow.tensorflow``, tag it with the sha256 of its archive and
    return its model URI.

    ``mlflow.tensorflow`` pickles Keras' global custom-object registry beside the archive; the
    safe loader refuses pickles and finds the project's classes itself, so that pickle is not
    written. The logged folder is checked as the loader will check it.

    Raises:
        ModelError: the logged folder would not pass :func:`amc_tf.models.loading.load_model`.
    """
    import mlflow.tensorflow

    with _NO_PICKLES, mock.patch.object(mlflow.tensorflow, "get_global_custom_objects", lambda: None):
        info = mlflow.tensorflow.log_model(model, name=name, pip_requirements=MODEL_PIP_REQUIREMENTS)
    with tempfile.TemporaryDirectory(prefix="amc-tf-logged-") as tmp:
        local = mlflow.artifacts.download_artifacts(info.model_uri, dst_path=tmp)
        from amc_tf.models import loading

        digest = loading.archive_sha256(local)
    mlflow.set_logged_model_tags(info.model_id, {SHA256_TAG: digest})
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
_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:/")


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
    """Load a tf_keras model logged by :func:`log_keras_model`, or a local model file or folder,
    through :func:`amc_tf.models.loading.load_model` (uncompiled).

    A model URI (``runs:/``, ``models:/`` by id, version or alias) or a run id is resolved to its
    logged model; its artifacts are downloaded and the archive must match the sha256 recorded at
    logging. A local path (a ``.keras`` file or an MLflow model folder) has no record to check.

    Raises:
        ModelError: the model is refused by the loader, has no recorded sha256, or its archive
            no longer matches it.
        AmcError: the URI cannot be resolved or downloaded.
    """
    from amc_tf.models import loading  # TensorFlow: only once the URI is known to point at a model

    uri, model_id, recorded = _locate(uri_or_run_id, artifact)
    if model_id is None:
        return loading.load_model(Path(uri))
    mlflow = _mlflow()
    try:
        with tempfile.TemporaryDirectory(prefix="amc-tf-download-") as tmp:
            folder = mlflow.artifacts.download_artifacts(f"models:/{model_id}", dst_path=tmp)
            return loading.load_model(folder, expected_sha256=recorded)
    except AmcError:
        raise
    except Exception as err:  # MlflowException, OSError, ...
        raise AmcError(f"cannot load a Keras model from {uri!r}: {err}") from None


def check_model_uri(uri_or_run_id: str, artifact: str = "model", *, tracking_uri: str | None = None) -> str:
    """What :func:`load_keras_model` checks before it downloads or imports anything, in seconds.

    A local path must exist (checked without MLflow). Otherwise, with ``tracking_uri`` a local
    SQLite store, the store file must exist (a fresh store holds no run; checked without importing
    MLflow); then the URI or run id is resolved and must point at a logged model that carries a
    recorded sha256. No TensorFlow import, no download.

    Returns:
        The resolved URI (or local path).

    Raises:
        ModelError / AmcError: as :func:`load_keras_model` would for the same URI.
    """
    if not _RUN_ID.match(uri_or_run_id) and (
        uri_or_run_id.startswith("file://") or not _URI_SCHEME.match(uri_or_run_id)
    ):
        return _locate(uri_or_run_id, artifact)[0]
    db = re.match(r"^sqlite:///(.+)$", tracking_uri or "")
    if db and not Path(db.group(1)).exists():
        raise AmcError(
            f"cannot load a Keras model from {uri_or_run_id!r}: the MLflow store {tracking_uri} does not exist yet"
        )
    if tracking_uri is not None:
        from amc_tf.tracking.store import configure

        configure(tracking_uri)
    return _locate(uri_or_run_id, artifact)[0]


def _locate(uri_or_run_id: str, artifact: str) -> tuple[str, str | None, str | None]:
    """``(uri, logged model id, recorded sha256)``; for a local path ``(path, None, None)``."""
    uri = resolve_model_uri(uri_or_run_id, artifact)
    if uri.startswith("file://") or not _URI_SCHEME.match(uri):
        path = Path(uri.removeprefix("file://"))
        if not path.exists():
            raise ModelError(f"model file or folder not found: {path}")
        return str(path), None, None
    try:
        model_id = _logged_model_id(uri)
        recorded = _mlflow().get_logged_model(model_id).tags.get(SHA256_TAG)
    except AmcError:
        raise
    except Exception as err:  # MlflowException: unknown run, model or alias
        raise AmcError(f"cannot load a Keras model from {uri!r}: {err}") from None
    if not recorded:
        raise ModelError(
            f"refusing {uri}: no sha256 was recorded when it was logged (tag {SHA256_TAG}); re-log it with "
            "amc_tf.tracking.models.log_keras_model, or pass the .keras file if you trust it"
        )
    return uri, model_id, recorded


def _logged_model_id(uri: str) -> str:
    """The id of the logged model a ``models:/`` or ``runs:/<run id>/<name>`` URI points to."""
    from mlflow import MlflowClient

    client = MlflowClient()
    if uri.startswith("models:/"):
        rest = uri.removeprefix("models:/")
        if "/" not in rest and "@" not in rest:
            return rest
        from mlflow.store.artifact.utils.models import get_model_name_and_version

        name, version = get_model_name_and_version(client, uri)
        registered = client.get_model_version(name, version)
        source = re.match(r"^models:/(m-[0-9a-f]+)$", registered.source or "")
        model_id = registered.model_id or (source.group(1) if source else None)
        if model_id:
            return model_id
        raise ModelError(f"refusing {uri}: registered model version {name}/{version} has no logged model")
    if uri.startswith("runs:/"):
        run_id, _, name = uri.removeprefix("runs:/").partition("/")
        experiment = client.get_run(run_id).info.experiment_id
        if name and "'" not in name:
            query = f"name = '{name}' AND source_run_id = '{run_id}'"
            for logged in client.search_logged_models([experiment], filter_string=query, max_results=1):
                return logged.model_id
        raise ModelError(f"refusing {uri}: run {run_id} has no model logged as {name!r}")
    raise ModelError(f"refusing {uri}: not a local file or folder, nor a runs:/ or models:/ URI")
