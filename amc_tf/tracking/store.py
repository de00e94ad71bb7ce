"""The MLflow store: where runs are recorded, their experiments, and how to look at them (D5).

The default store is ``sqlite:///mlruns/mlflow.db`` with artifacts under ``./mlruns/artifacts``
(MLflow 3.17's plain file store is deprecated and refuses to start without an opt-in), unless
``MLFLOW_TRACKING_URI`` or the config says otherwise. The URI is set once, at the edge, by
:func:`configure`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

DEFAULT_STORE_DIR = Path("mlruns")


def _mlflow():
    import mlflow

    return mlflow


def default_uri() -> str:
    return f"sqlite:///{DEFAULT_STORE_DIR.as_posix()}/mlflow.db"


def configure(uri: str | None = None) -> str:
    """Point MLflow at ``uri`` (else ``$MLFLOW_TRACKING_URI``, else the embedded store); return it."""
    mlflow = _mlflow()
    uri = uri or os.environ.get("MLFLOW_TRACKING_URI") or default_uri()
    match = re.match(r"^sqlite:///(.+)$", uri)
    if match:
        Path(match.group(1)).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    return uri


def artifact_root(uri: str) -> str | None:
    """Artifact location for new experiments in a local sqlite store (beside the database)."""
    match = re.match(r"^sqlite:///(.+)$", uri)
    if not match:
        return None
    return (Path(match.group(1)).resolve().parent / "artifacts").as_uri()


def ensure_experiment(name: str) -> str:
    """Return the id of experiment ``name``, creating it (artifacts beside the sqlite store)."""
    mlflow = _mlflow()
    exp = mlflow.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    return mlflow.create_experiment(name, artifact_location=artifact_root(mlflow.get_tracking_uri()))


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
