"""The train_classifier flow end to end on a tiny config: MLflow parent + child runs, params,
tags, metrics, artifacts; the data stage is cached by config hash; tasks run without Prefect
through ``.fn``; the CLI fails cleanly before any work."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from amc_tf.config.base import validate_config
from amc_tf.config.classifier import TrainClassifierConfig
from amc_tf.models.input_scale import input_scale_of

TINY = {
    "kind": "train_classifier",
    "name": "tiny",
    "seed": 1,
    "data": {
        "synthetic": {
            "family": "rml2016",
            "windows_per_key": 12,
            "snrs": [0, 10],
            "classes": ["BPSK", "QPSK", "WBFM"],
            "seed": 1,
        },
        "split": {"train": 0.5, "val": 0.25, "test": 0.25},
    },
    "train": {"batch_size": 16, "epochs": 1, "patience": 1, "verbose": 0},
    "tracking": {"experiment": "tiny-tests", "register_models": True},
}


def _config(tmp_path, **tracking) -> TrainClassifierConfig:
    raw = dict(TINY, output_dir=str(tmp_path / "artifacts"))
    raw["data"] = dict(TINY["data"], cache_dir=str(tmp_path / "cache"))
    raw["tracking"] = dict(TINY["tracking"], **tracking)
    return validate_config(TrainClassifierConfig, raw)


def test_flow_records_everything_and_caches_data(prefect_harness, mlflow_store, tmp_path):
    from mlflow import MlflowClient

    from amc_tf.tracking.models import load_keras_model
    from flows.train_classifier import train_classifier

    cfg = _config(tmp_path)
    first = train_classifier(cfg)
    assert first.details["cache_hit"] is False
    assert set(first.details["accuracy_by_snr"]) == {0, 10}
    client = MlflowClient()
    parent = client.get_run(first.run_id)
    assert parent.info.status == "FINISHED"
    tags = parent.data.tags
    for key in ("git_commit", "config_hash", "data_fingerprint", "prefect_flow_run_id", "seed"):
        assert tags.get(key), key
    assert tags["config_hash"] == cfg.config_hash()
    assert parent.data.params["train.batch_size"] == "16"
    assert parent.data.metrics["test_accuracy"] == pytest.approx(first.headline["test_accuracy"])
    assert parent.data.metrics["wall_seconds"] > 0
    children = client.search_runs(
        [parent.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )
    stages = {c.data.tags["stage"]: c for c in children}
    assert set(stages) == {"data", "train", "evaluate"}
    evaluate_files = {a.path for a in client.list_artifacts(stages["evaluate"].info.run_id)}
    assert {
        "classification_report.json",
        "accuracy_vs_snr.png",
        "confusion_all.png",
        "confusion_10dB.png",
    } <= evaluate_files
    # the headline is the mean of the per-SNR accuracies at SNR >= 0 dB
    per_snr = first.details["accuracy_by_snr"]
    assert first.headline["test_acc_snr_ge_0"] == pytest.approx(np.mean([per_snr[0], per_snr[10]]))
    assert Path(first.outputs["model_path"]).is_file()
    assert Path(first.outputs["model_path"]).parent == Path(first.output_dir)
    model = load_keras_model(first.outputs["model_uri"])  # the safe loader, checking the recorded sha256
    assert model.output_shape[-1] == 3
    assert input_scale_of(model) == pytest.approx(stages["train"].data.metrics["input_scale"])  # raw windows in
    assert input_scale_of(model) > 10
    assert client.get_model_version_by_alias("tiny-vtcnn2", "candidate") is not None

    second = train_classifier(cfg)
    assert second.details["cache_hit"] is True
    assert client.get_run(second.run_id).data.tags["data_fingerprint"] == tags["data_fingerprint"]
    assert second.headline == first.headline  # same config and seed, same numbers
    # the training is a stage cache hit: its model is copied into the new run and logged again
    assert stages["train"].data.tags["stage_cache"] == "miss"
    again = client.search_runs(
        [parent.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{second.run_id}'"
    )
    again_train = next(c for c in again if c.data.tags["stage"] == "train")
    assert again_train.data.tags["stage_cache"] == "hit"
    assert again_train.data.metrics["epochs_run"] == stages["train"].data.metrics["epochs_run"]
    assert Path(second.outputs["model_path"]).read_bytes() == Path(first.outputs["model_path"]).read_bytes()
    assert second.outputs["model_uri"] and second.outputs["model_uri"] != first.outputs["model_uri"]


def test_tasks_run_without_prefect_through_fn(mlflow_store, tmp_path):
    """Each task body is a child run + one stage call + logging: callable as plain functions."""
    from mlflow import MlflowClient

    from amc_tf.tracking import runs
    from flows.train_classifier import data_task, evaluate_task, train_task

    cfg = _config(tmp_path, register_models=False, log_models=False)
    with runs.flow_run(cfg) as run:
        data = data_task.fn(cfg, run.run_id)
        trained = train_task.fn(cfg, data, run.run_id, str(run.output_dir))
        evaluation = evaluate_task.fn(cfg, data, trained, run.run_id)
    assert data.n_windows == 3 * 2 * 12 and data.n_classes == 3
    assert trained.uri is None and Path(trained.path).is_file() and trained.fit.epochs_run == 1
    assert evaluation.report.n == 18  # a quarter of 72 windows, stratified
    client = MlflowClient()
    children = client.search_runs(
        [client.get_run(run.run_id).info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{run.run_id}'"
    )
    by_stage = {c.data.tags["stage"]: c for c in children}
    assert by_stage["train"].data.metrics["n_params"] == trained.n_params
    assert by_stage["evaluate"].data.metrics["test_accuracy"] == pytest.approx(evaluation.report.accuracy)
    assert "model_uri" not in client.get_run(run.run_id).data.tags  # log_models off


def test_cli_rejects_a_typo_before_any_work(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: train_classifier\ntrain:\n  batchsize: 3\n")
    result = cli("run", bad)
    assert result.exit_code == 2
    assert "train.batchsize" in result.stderr and "unknown field" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "mlruns").exists() and not (tmp_path / ".cache").exists()


@pytest.mark.parametrize(
    "content,message", [("kind: nope\n", "unknown pipeline kind"), ("seed: 1\n", "missing top-level 'kind'")]
)
def test_cli_rejects_unknown_or_missing_kind(cli, tmp_path, content, message):
    bad = tmp_path / "bad.yaml"
    bad.write_text(content)
    result = cli("run", bad)
    assert result.exit_code == 2 and message in result.stderr


def test_attack_refuses_a_config_of_another_kind(cli, tmp_path):
    other = tmp_path / "train.yaml"
    other.write_text("kind: train_classifier\n")
    result = cli("attack", "--model-uri", "runs:/x/model", "--config", other)
    assert result.exit_code == 2 and "evaluate_robustness" in result.stderr
