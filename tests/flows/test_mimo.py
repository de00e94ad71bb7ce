"""One tiny end-to-end run of the ``mimo`` flow: every stage, a child run each, results logged."""

from __future__ import annotations

from amc_tf.config.base import validate_config
from amc_tf.config.mimo import MimoPipelineConfig


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
        },
    )


def test_mimo_flow_end_to_end(prefect_harness, tmp_path):
    import mlflow
    from mlflow import MlflowClient

    from flows import load_flow
    from flows.mimo import mimo

    flow_fn, config_cls = load_flow("mimo")
    assert flow_fn is mimo and config_cls is MimoPipelineConfig
    result = mimo(_tiny_config(tmp_path))
    rob = result["robustness"]
    assert set(rob) == {"MR", "MMMSE"} and set(rob["MR"]) == {"M1", "M2"}
    assert set(rob["MR"]["M1"]) == {"standard", "adversarial"}
    sweep = rob["MMMSE"]["M2"]["adversarial"]
    assert set(sweep["success"]) == {"FGSM", "PGDM", "MIFGSM", "RANDOM"}
    assert all(0.0 <= r <= 1.0 for rates in sweep["success"].values() for r in rates)
    assert set(result["transfer"]["MR"]["success"]["FGSM"]) == {"M1", "M2"}
    assert len(result["headline"]) == 2 * 2 * 2 * 5  # precoder × arch × training × (4 attacks + clean)
    panel = result["sum_se"]["M1, MR"]
    assert {"optimal", "DNN, no attack", "PGDM + re-scaling", "adv. trained, PGDM + re-scaling"} <= set(panel)
    assert panel["optimal"]["mean"] > 0
    client = MlflowClient()
    exp_id = mlflow.get_experiment_by_name(result["experiment"]).experiment_id
    children = client.search_runs([exp_id], filter_string=f"tags.mlflow.parentRunId = '{result['run_id']}'")
    assert {c.data.tags["mlflow.runName"] for c in children} == {
        "data",
        "train",
        "adversarial_training",
        "attacks",
        "transfer",
        "sum_se",
    }
    artifacts = {a.path for c in children for a in client.list_artifacts(c.info.run_id)}
    assert {"robustness.json", "success_rates.png", "transfer.png", "sum_se_cdf.png"} <= artifacts
    parent = client.get_run(result["run_id"])
    assert "MR_M1_standard_PGDM_success" in parent.data.metrics
    # a rerun reuses the cached data and models (stage functions called directly: no retraining)
    from amc_tf.mimo import stages

    config = _tiny_config(tmp_path)
    assert stages.ensure_split(config, "train", progress=False)["cache_hit"]
    cached = stages.train_standard(config, result["data"]["train"]["path"], result["data"]["train"]["fingerprint"])
    assert cached["cache_hit"] and cached["path"] == result["models"]["standard"]
