"""One tiny end-to-end run of the ``compress`` flow: every stage, a child run each, models registered,
every saved model consuming raw windows (its own input scale)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from amc_tf.config.base import load_config, validate_config
from amc_tf.config.compress import CompressConfig
from amc_tf.errors import ConfigError
from amc_tf.models.loading import load_model


def _tiny_config(tmp_path, sections) -> CompressConfig:
    return validate_config(
        CompressConfig,
        {
            "kind": "compress",
            "name": "compress_test",
            "seed": 1,
            **sections(tmp_path),
            "tfmot": {"epochs": 1, "batch_size": 32},
            "export": {"snr": 10, "latency_repeats": 2},
            "evaluation": {"confusion_snrs": [10, 18]},
            "output_dir": str(tmp_path / "artifacts"),
        },
    )


def test_compress_flow_end_to_end(prefect_harness, tmp_path, tiny_compress_sections):
    import mlflow
    from mlflow import MlflowClient

    from flows.compress import compress

    cfg = _tiny_config(tmp_path, tiny_compress_sections)
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
    children = client.search_runs(
        [mlflow.get_experiment_by_name(result.experiment).experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{result.run_id}'",
    )
    names = {r.info.run_name for r in children}
    assert {"data", "teacher", "f_S", "distill", "nettrim", "tfmot", "export", "evaluate"} <= names
    registered = {m.name for m in client.search_registered_models()}
    assert {"compress_test-f_S", "compress_test-f_D", "compress_test-f_P", "compress_test-f_T"} <= registered
    reports = json.loads((tmp_path / "artifacts" / result.run_id / "classification_reports.json").read_text())
    assert set(reports["f_D"]["confusion_by_snr"]) == {"10", "18"}
    _check_models_take_raw_windows(cfg, result, {r.info.run_name: r for r in children})

    # A rerun reuses every trained and pruned model from the stage cache, with the same numbers.
    rerun = compress(cfg)
    assert rerun.headline == result.headline
    again = client.search_runs(
        [mlflow.get_experiment_by_name(result.experiment).experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{rerun.run_id}'",
    )
    tags = {r.info.run_name: r.data.tags.get("stage_cache") for r in again}
    assert {k: tags[k] for k in ("teacher", "f_S", "distill", "nettrim", "tfmot")} == dict.fromkeys(
        ("teacher", "f_S", "distill", "nettrim", "tfmot"), "hit"
    )
    assert {r.info.run_name: r.data.tags.get("stage_cache") for r in children}["distill"] == "miss"


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
