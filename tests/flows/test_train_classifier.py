"""The train_classifier flow end to end on a tiny config: MLflow parent + child runs, params,
tags, metrics, artifacts; the data stage is cached by config hash; the CLI fails cleanly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


def test_flow_records_everything_and_caches_data(prefect_harness, mlflow_store, tmp_path):
    import mlflow
    from mlflow import MlflowClient

    from flows.train_classifier import train_classifier

    raw = dict(TINY, output_dir=str(tmp_path / "artifacts"))
    raw["data"] = dict(TINY["data"], cache_dir=str(tmp_path / "cache"))
    cfg = validate_config(TrainClassifierConfig, raw)
    first = train_classifier(cfg)
    assert first["cache_hit"] is False and 0.0 <= first["accuracy"] <= 1.0
    assert set(first["accuracy_by_snr"]) == {0, 10}
    client = MlflowClient()
    parent = client.get_run(first["run_id"])
    assert parent.info.status == "FINISHED"
    tags = parent.data.tags
    for key in ("git_commit", "config_hash", "data_fingerprint", "prefect_flow_run_id", "seed"):
        assert tags.get(key), key
    assert tags["config_hash"] == cfg.config_hash()
    assert parent.data.params["train.batch_size"] == "16"
    assert "test_accuracy" in parent.data.metrics
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
    assert Path(first["model_path"]).is_file()
    model = mlflow.tensorflow.load_model(first["model_uri"])
    assert model.output_shape[-1] == 3
    assert input_scale_of(model) == pytest.approx(stages["train"].data.metrics["input_scale"])  # raw windows in
    assert input_scale_of(model) > 10
    assert client.get_model_version_by_alias("tiny-vtcnn2", "candidate") is not None

    second = train_classifier(cfg)
    assert second["cache_hit"] is True
    assert client.get_run(second["run_id"]).data.tags["data_fingerprint"] == tags["data_fingerprint"]


def test_cli_rejects_a_typo_before_any_work(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: train_classifier\ntrain:\n  batchsize: 3\n")
    exe = Path(sys.executable).with_name("amc-tf")
    proc = subprocess.run([str(exe), "run", str(bad)], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 2
    assert "train.batchsize" in proc.stderr and "unknown field" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "mlruns").exists() and not (tmp_path / ".cache").exists()


@pytest.mark.parametrize(
    "content,message", [("kind: nope\n", "unknown pipeline kind"), ("seed: 1\n", "missing top-level 'kind'")]
)
def test_cli_rejects_unknown_or_missing_kind(tmp_path, content, message):
    bad = tmp_path / "bad.yaml"
    bad.write_text(content)
    exe = Path(sys.executable).with_name("amc-tf")
    proc = subprocess.run([str(exe), "run", str(bad)], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 2 and message in proc.stderr
