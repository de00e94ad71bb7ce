"""One tiny end-to-end run of the ``mimo`` flow: every stage, a child run each, results logged."""

from __future__ import annotations

from amc_tf.config.base import validate_config
from amc_tf.config.mimo import MimoPipelineConfig
from amc_tf.results import PipelineResult


def _tiny_config(tmp_path) -> MimoPipelineConfig:
    return validate_config(
        MimoPipelineConfig,
        {
            "kind": "mimo",
            "name": "mimo_test",
            "seed": 2,
            "system": {"n_cells": 1, "ues_per_cell": 2, "antennas": 4},
            "gains": {"precoders": ["MR", "MMMSE"], "realizations": 4},
            "data": {
                "train_setups": 120,
                "test_setups": 24,
                "shard_size": 60,
                "workers": 1,
                "cache_dir": str(tmp_path / "cache"),
            },
            "train": {"archs": ["M1", "M2"], "epochs": 2, "patience": 1, "batch_size": 64, "val_fraction": 0.2},
            "attack": {"eps_m": [0.3], "pgd_iters": 3, "mifgsm_iters": 2, "transfer_attacks": ["FGSM"]},
            "adversarial": {"eps_m": 0.3},
            "tracking": {"register_models": True, "log_models": False},
            "output_dir": str(tmp_path / "artifacts"),
        },
    )


def test_mimo_flow_end_to_end(prefect_harness, tmp_path):
    import mlflow
    from mlflow import MlflowClient

    from flows import flow_for
    from flows.mimo import CONFIG, mimo

    assert flow_for("mimo") is mimo and CONFIG is MimoPipelineConfig
    result = mimo(_tiny_config(tmp_path))
    assert isinstance(result, PipelineResult) and result.kind == "mimo"
    rob = result.details["robustness"]
    assert set(rob) == {"MR", "MMMSE"} and set(rob["MR"]) == {"M1", "M2"}
    assert set(rob["MR"]["M1"]) == {"standard", "adversarial"}
    sweep = rob["MMMSE"]["M2"]["adversarial"]
    assert set(sweep["success"]) == {"FGSM", "PGDM", "MIFGSM", "RANDOM"}
    # success is counted over L·N = 1 cell × 24 test setups: every rate is a whole count of them
    counts = [r * 24 for rates in sweep["success"].values() for r in rates]
    assert all(abs(c - round(c)) < 1e-9 and 0 <= round(c) <= 24 for c in counts)
    assert set(result.details["transfer"]["MR"]["success"]["FGSM"]) == {"M1", "M2"}
    assert len(result.headline) == 2 * 2 * 2 * 5  # precoder × arch × training × (4 attacks + clean)
    # the claims report reads the MIMO claims from exactly these metric names
    from amc_tf.evaluation.claims import UNMEASURED, RunEvidence, evaluate_claims

    claims = evaluate_claims({"mimo": RunEvidence("mimo", result.run_id, "mimo_test", result.headline)})
    verdicts = {r["key"]: r["verdict"] for r in claims.rows}
    assert verdicts["mimo_fgsm_success"] != UNMEASURED and verdicts["mimo_at_lowers_success"] != UNMEASURED
    assert "MR_optimal_at_pmax" in result.details["margins"]
    panel = result.details["sum_se"]["M1, MR"]
    assert {"optimal", "DNN, no attack", "PGDM + re-scaling", "adv. trained, PGDM + re-scaling"} <= set(panel)
    assert panel["optimal"]["mean"] > 0
    assert result.wall_seconds > 0 and result.to_json()["outputs"]["adversarial_models"]
    client = MlflowClient()
    exp_id = mlflow.get_experiment_by_name(result.experiment).experiment_id
    children = client.search_runs([exp_id], filter_string=f"tags.mlflow.parentRunId = '{result.run_id}'")
    assert {c.data.tags["mlflow.runName"] for c in children} == {
        "data",
        "train",
        "adversarial_training",
        "attacks",
        "transfer",
        "sum_se",
    }
    artifacts = {a.path for c in children for a in client.list_artifacts(c.info.run_id)}
    assert {"robustness.json", "success_rates.png", "transfer.png", "sum_se_cdf.png", "margins.json"} <= artifacts
    parent = client.get_run(result.run_id)
    assert "MR_M1_standard_PGDM_success" in parent.data.metrics and "wall_seconds" in parent.data.metrics
    # a rerun reuses the cached data and models (stage functions called directly: no retraining)
    from amc_tf.mimo import stages

    config = _tiny_config(tmp_path)
    train = stages.ensure_split(config, "train", progress=False)
    assert train.cache_hit and train.path == result.outputs["train_data"]
    cached = stages.train_standard(config, train)
    assert cached.cache_hit and cached.path == result.outputs["standard_models"]


def test_data_task_body_runs_without_a_prefect_server(mlflow_store, tmp_path):
    """A task body is a child run, one stage call and its logging: callable through ``.fn``."""
    from mlflow import MlflowClient

    from amc_tf.tracking import runs
    from flows.mimo import data_task

    config = _tiny_config(tmp_path)
    with runs.parent_run("mimo-task-test", "task", config) as parent:
        data = data_task.fn(config, parent.info.run_id)
    assert data.train.n_setups == 120 and data.test.n_setups == 24 and not data.train.cache_hit
    client = MlflowClient(mlflow_store)
    [child] = client.search_runs(
        [parent.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )
    assert child.data.tags["stage"] == "data" and child.data.tags["data_fingerprint"] == data.train.fingerprint
    assert child.data.metrics["train_setups"] == 120 and child.data.metrics["test_cache_hit"] == 0.0
    assert set(child.data.metrics) == set(data.metrics())


def test_dataset_shards_on_a_dask_local_cluster_equal_the_local_ones(prefect_harness, tmp_path):
    """``scale_out.task_runner: dask``: every shard of both splits is a task on a LocalCluster of two
    worker processes (loopback); the splits are byte-identical to those of the local worker pool
    (same fingerprints), and the data stage then finds them complete."""
    import pytest

    pytest.importorskip("prefect_dask")
    from prefect import flow

    from amc_tf.mimo import stages
    from flows.mimo import _fan_out_shards

    here = _tiny_config(tmp_path / "here")
    local = stages.prepare_data(here, progress=False)
    raw = here.model_dump(mode="json")
    raw["data"]["cache_dir"] = str(tmp_path / "dask" / "cache")
    raw["scale_out"] = {"task_runner": "dask", "n_workers": 2}
    on_dask = validate_config(MimoPipelineConfig, raw)

    @flow(task_runner=on_dask.scale_out.task_runner_object())
    def shards_only(config):
        _fan_out_shards(config)
        return {split: stages.pending_shards(config, split)[2] for split in ("train", "test")}

    assert shards_only(on_dask) == {"train": [], "test": []}  # nothing left for the data stage
    data = stages.prepare_data(on_dask, progress=False)
    assert data.train.path != local.train.path
    assert (data.train.fingerprint, data.test.fingerprint) == (local.train.fingerprint, local.test.fingerprint)
