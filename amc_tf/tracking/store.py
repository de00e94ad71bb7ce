"""The MLflow store: where runs are recorded, their experiments, and how to look at them (D5).

The default store is ``sqlite:///mlruns/mlflow.db`` with artifacts under ``./mlruns/artifacts``
(MLflow 3.17's plain file store is deprecated and refuses to start without an opt-in), unless
``MLFLOW_TRACKING_URI`` or the config says otherwise. The URI is set once, at the edge, by
:func:`configure`.

Several flows may start at once on one fresh local store (a nightly and a manual run, tests in
parallel). SQLite then races on MLflow's table creation and on experiment creation, and writers
meet "database is locked". So :func:`configure` creates the schema under a file lock beside the
database and switches it to write-ahead logging (readers and one writer at a time, without
blocking each other), :func:`ensure_experiment` takes "already exists" as an answer, and
:func:`retry_locked` retries a store call that found the database locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

DEFAULT_STORE_DIR = Path("mlruns")


def _mlflow():
    import mlflow

    return mlflow


def default_uri() -> str:
    return f"sqlite:///{DEFAULT_STORE_DIR.as_posix()}/mlflow.db"


def tracking_uri(uri: str | None = None) -> str:
    """The store :func:`configure` would use: ``uri``, else ``$MLFLOW_TRACKING_URI``, else the embedded one."""
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or default_uri()


F = TypeVar("F", bound=Callable[..., Any])

#: Attempts and first back-off (seconds, doubling) of :func:`retry_locked`.
LOCK_RETRIES, LOCK_BACKOFF_S = 8, 0.2

_initialised: set[str] = set()


def retry_locked(fn: F) -> F:
    """Retry ``fn`` while the store answers "database is locked" (SQLite under concurrent writers)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        for attempt in range(LOCK_RETRIES):
            try:
                return fn(*args, **kwargs)
            except Exception as err:  # sqlalchemy.exc.OperationalError, MlflowException wrapping it
                if "database is locked" not in str(err) or attempt == LOCK_RETRIES - 1:
                    raise
                time.sleep(LOCK_BACKOFF_S * 2**attempt)
        raise AssertionError("unreachable")

    return wrapper  # type: ignore[return-value]


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _initialise_sqlite(uri: str, db: Path) -> None:
    """Create MLflow's tables (tracking and registry) once, under a lock, and turn on WAL."""
    from mlflow import MlflowClient

    db.parent.mkdir(parents=True, exist_ok=True)
    with _file_lock(db.with_name(db.name + ".lock")):
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        retry_locked(client.search_experiments)(max_results=1)
        retry_locked(client.search_registered_models)(max_results=1)
        with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
    _initialised.add(uri)


def configure(uri: str | None = None) -> str:
    """Point MLflow at ``uri`` (else ``$MLFLOW_TRACKING_URI``, else the embedded store); return it.

    A local SQLite store is created (schema and WAL mode) under a file lock the first time a
    process points at it, so concurrent first runs do not race on table creation.
    """
    mlflow = _mlflow()
    uri = tracking_uri(uri)
    match = re.match(r"^sqlite:///(.+)$", uri)
    if match and uri not in _initialised:
        _initialise_sqlite(uri, Path(match.group(1)))
    mlflow.set_tracking_uri(uri)
    return uri


def artifact_root(uri: str) -> str | None:
    """Artifact location for new experiments in a local sqlite store (beside the database)."""
    match = re.match(r"^sqlite:///(.+)$", uri)
    if not match:
        return None
    return (Path(match.group(1)).resolve().parent / "artifacts").as_uri()


#: Tags of every experiment the project creates: MLflow's UI opens an experiment of kind
#: ``custom_model_development`` in its model-training view (runs, metrics, artifacts), not the
#: GenAI view it may otherwise infer.
EXPERIMENT_TAGS = {"mlflow.experimentKind": "custom_model_development"}


@retry_locked
def ensure_experiment(name: str) -> str:
    """Return the id of experiment ``name``, creating it (artifacts beside the sqlite store, tagged
    :data:`EXPERIMENT_TAGS`); a concurrent run that created it first is fine."""
    mlflow = _mlflow()
    exp = mlflow.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    try:
        return mlflow.create_experiment(
            name, artifact_location=artifact_root(mlflow.get_tracking_uri()), tags=EXPERIMENT_TAGS
        )
    except Exception:  # MlflowException RESOURCE_ALREADY_EXISTS, or the UNIQUE constraint
        exp = mlflow.get_experiment_by_name(name)
        if exp is None:
            raise
        return exp.experiment_id


def ui_command(uri: str) -> str:
    """The exact ``mlflow ui`` command that shows the runs stored at ``uri`` (loopback only, one
    worker, no background job processes; design §4)."""
    import sys

    exe = Path(sys.executable).with_name("mlflow")
    mlflow_bin = str(exe) if exe.exists() else "mlflow"
    match = re.match(r"^sqlite:///(.+)$", uri)
    if match:  # absolute, so the command works from any directory
        uri = f"sqlite:///{Path(match.group(1)).resolve()}"
    return (
        f"MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false {mlflow_bin} ui --backend-store-uri {uri} "
        "--host 127.0.0.1 --port 5000 --workers 1"
    )


def run_url(experiment_id: str, run_id: str, port: int = 5000) -> str:
    """The run's page in the UI that :func:`ui_command` starts, in MLflow's model-training view."""
    return f"http://127.0.0.1:{port}/#/experiments/{experiment_id}/runs/{run_id}?workflowType=machine_learning"
