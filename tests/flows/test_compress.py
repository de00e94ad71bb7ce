"""The ``compress`` flow end to end on tiny data: its stages computed inside the session's tiny
pipeline run, then the flow itself from the stage cache: every stage, a child run each, models
registered, every saved model consuming raw windows (its own input scale)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from amc_tf.config.base import load_config, validate_config
from amc_tf.config.compress import CompressConfig
from amc_tf.errors import ConfigError
from amc_tf.models.loading import load_model


def _compress_config(pipeline_config: dict, tmp_path: Path, stage_cache: Path) -> CompressConfig:
    """The compress section of the session's tiny pipeline run as a ``compress`` config with its
    own name and output folder, reading the pipeline's stage cache."""
    return validate_config(
        CompressConfig,
        {
            "kind": "compress",
            "name": "compress_test",
            "seed": pipeline_config["seed"],
            **pipeline_config["compress"],
            "output_dir": str(tmp_path / "artifacts"),
            "cache": {"dir": str(stage_cache)},
        },
    )


def _children(client, result) -> dict:
    exp = client.get_experiment_by_name(result.experiment).experiment_id
    runs = client.search_runs([exp], filter_string=f"tags.mlflow.parentRunId = '{result.run_id}'")
    return {r.info.run_name: r for r in runs}


def test_compress_flow_end_to_end(tiny_pipeline_run, tiny_pipeline_config, mlflow_store, tmp_path):
    """The compress stages run (stage-cache misses) inside the session's tiny pipeline run
    (``tests/flows/conftest.py``); the ``compress`` flow on the same sections, in this test's store,
    then reuses every trained and pruned model from that stage cache with the same numbers, and
    records every stage, registers its models and writes the size table and reports."""
    from mlflow import MlflowClient

    from flows.compress import compress

    source, shared, uri = tiny_pipeline_run
    first = _children(MlflowClient(tracking_uri=uri), source)  # the pipeline run's store, read only
    assert {k: first[k].data.tags.get("stage_cache") for k in ("teacher", "f_S", "distill", "nettrim", "tfmot")} == (
        dict.fromkeys(("teacher", "f_S", "distill", "nettrim", "tfmot"), "miss")
    )

    cfg = _compress_config(tiny_pipeline_config(shared), tmp_path, shared / "artifacts" / "stage-cache")
    result = compress(cfg)
    assert set(result.outputs) == {"teacher", "f_S", "f_D", "f_P", "f_T"}
    rows = {r["model"]: r for r in result.details["size_table"]["rows"]}
    assert set(rows) == {"f_S", "f_D", "f_P", "f_T"}
    assert rows["f_P"]["nonzero"] < rows["f_D"]["nonzero"]
    # Net-Trim zeroed exactly the kernel entries the size table no longer counts (bias may change too).
    nt = result.details["nettrim"]
    assert rows["f_D"]["nonzero"] - rows["f_P"]["nonzero"] >= nt["weights"] - nt["nonzero"] - 256
    assert nt["sparsity"] == pytest.approx(1 - nt["nonzero"] / nt["weights"])
    assert result.headline["gzip_ratio_fP_over_fS"] == pytest.approx(
        rows["f_P"]["gzip_bytes"] / rows["f_S"]["gzip_bytes"]
    )
    client = MlflowClient()
    children = _children(client, result)
    assert {"data", "teacher", "f_S", "distill", "nettrim", "tfmot", "export", "evaluate"} <= set(children)
    registered = {m.name for m in client.search_registered_models()}
    assert {"compress_test-f_S", "compress_test-f_D", "compress_test-f_P", "compress_test-f_T"} <= registered
    reports = json.loads((tmp_path / "artifacts" / result.run_id / "classification_reports.json").read_text())
    assert set(reports["f_D"]["confusion_by_snr"]) == {"10", "18"}
    _check_models_take_raw_windows(cfg, result, children)

    # It reused every trained and pruned model from the stage cache, with the same numbers.
    assert result.headline == {k: source.headline[k] for k in result.headline}
    assert result.details["accuracy"] == source.details["compress"]["accuracy"]
    tags = {name: r.data.tags.get("stage_cache") for name, r in children.items()}
    assert {k: tags[k] for k in ("teacher", "f_S", "distill", "nettrim", "tfmot")} == dict.fromkeys(
        ("teacher", "f_S", "distill", "nettrim", "tfmot"), "hit"
    )


def _check_models_take_raw_windows(cfg: CompressConfig, result, children: dict) -> None:
    """Each saved model scales its own input: on the raw test windows it scores what the flow reported."""
    from amc_tf.classifier.stages import splits as load_splits
    from amc_tf.evaluation.metrics import predict_logits
    from amc_tf.models.input_scale import input_scale_of
    from amc_tf.models.registry import input_scale_for

    splits = load_splits(cfg.data, children["data"].data.tags["data_path"], cfg.seed)
    scale = input_scale_for(splits["train"].x)
    assert scale > 10  # RML2016-style L1-normalised windows are small
    for role in ("teacher", "f_S", "distill"):
        assert children[role].data.metrics["input_scale"] == pytest.approx(scale)
    test = splits["test"]
    assert float(np.std(test.x)) < 0.1  # the windows the models see are raw
    at10 = test.snr == 10
    rows = {r["model"]: r for r in result.details["size_table"]["rows"]}
    for role, path in result.outputs.items():
        model = load_model(path)
        assert input_scale_of(model) == pytest.approx(scale), role
        correct = predict_logits(model, test.x, cfg.evaluation.batch_size).argmax(axis=1) == test.y
        assert float(np.mean(correct)) == result.details["accuracy"][role]["accuracy"], role
        if role in rows:  # the TFLite file takes raw windows too (float32 rounding may flip a near tie)
            assert abs(rows[role]["accuracy"] - float(np.mean(correct[at10]))) <= 1.0 / at10.sum() + 1e-9, role


def test_old_input_gain_is_rejected_by_name():
    with pytest.raises(ConfigError, match="input_gain"):
        validate_config(CompressConfig, {"input_gain": 100.0})


@pytest.mark.parametrize("name", ["compress_quickstart", "rml2016_compress", "rml2018_distill"])
def test_shipped_compress_configs_load(name):
    path = Path(__file__).resolve().parents[2] / "configs" / f"{name}.yaml"
    assert load_config(path, CompressConfig).name == name


def test_tfmot_without_target_needs_nettrim():
    with pytest.raises(ConfigError, match="nettrim"):
        validate_config(CompressConfig, {"nettrim": None})
