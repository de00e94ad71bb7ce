"""A bare run id given to ``amc-tf attack`` resolves to the model its flow recorded."""

from __future__ import annotations

import mlflow
import pytest

from amc_tf.errors import AmcError
from amc_tf.tracking.models import resolve_model_uri


def _run(tags: dict[str, str] | None = None, parent: str | None = None) -> str:
    all_tags = dict(tags or {})
    if parent:
        all_tags["mlflow.parentRunId"] = parent
    with mlflow.start_run(tags=all_tags, nested=parent is not None) as run:
        return run.info.run_id


def test_uris_pass_through_unchanged(mlflow_store):
    for uri in ("models:/m-0123", "runs:/abc/model", "/tmp/model.keras", "models:/quickstart-vtcnn2@candidate"):
        assert resolve_model_uri(uri) == uri


def test_run_id_uses_its_model_uri_tag(mlflow_store):
    rid = _run({"model_uri": "models:/m-own"})
    assert resolve_model_uri(rid) == "models:/m-own"


def test_parent_run_id_finds_the_only_child_model(mlflow_store):
    with mlflow.start_run() as parent:
        pid = parent.info.run_id
        _run({}, parent=pid)  # the data stage: no model
        _run({"model_uri": "models:/m-train"}, parent=pid)
    assert resolve_model_uri(pid) == "models:/m-train"


def test_several_child_models_are_ambiguous(mlflow_store):
    with mlflow.start_run() as parent:
        pid = parent.info.run_id
        _run({"model_uri": "models:/m-teacher"}, parent=pid)
        _run({"model_uri": "models:/m-student"}, parent=pid)
    with pytest.raises(AmcError, match="several models.*m-student.*m-teacher|several models.*m-teacher.*m-student"):
        resolve_model_uri(pid)


def test_run_without_models_and_unknown_run_fall_back_to_runs_uri(mlflow_store):
    rid = _run({})
    assert resolve_model_uri(rid) == f"runs:/{rid}/model"
    assert resolve_model_uri("f" * 32) == f"runs:/{'f' * 32}/model"
