"""The evaluate_robustness flow end to end on a tiny model: parent + child runs, PNR-curve
metrics (native and ART), the JSON report and the figures in MLflow."""

from __future__ import annotations

import json
from pathlib import Path

from amc_tf.config.base import validate_config
from amc_tf.config.classifier import EvaluateRobustnessConfig
from amc_tf.data.dataset import save_dataset


def test_flow_records_the_robustness_report(prefect_harness, mlflow_store, tmp_path, tiny):
    import mlflow
    from mlflow import MlflowClient

    from amc_tf.tracking import models
    from flows.evaluate_robustness import evaluate_robustness

    ds = tiny.make_dataset(n_per_cell=100, snrs=(0, 10))
    data_path = save_dataset(ds, tmp_path / "tiny.npz")
    model = tiny.train_tiny_model(ds)
    mlflow.set_experiment("tiny-train")
    with mlflow.start_run() as train_run:
        models.log_keras_model(model, "model")
    cfg = validate_config(
        EvaluateRobustnessConfig,
        {
            "kind": "evaluate_robustness",
            "name": "tiny-robustness",
            "model_uri": train_run.info.run_id,
            "data": {"path": str(data_path), "split": {"train": 0.5, "val": 0.0, "test": 0.5}},
            "robustness": {
                "attacks": [
                    "fgsm",
                    {"name": "pgd_l2", "steps": 3},
                    "deepfool",
                    {"name": "uap_svd", "n_fit": 32, "draws": 1},
                    "noise_gaussian",
                ],
                "art_baselines": ["fgsm", "pgd_l2"],
                "pnr_db": [-12, -6, 0],
                "n_examples": 48,
                "batch_size": 48,
                "art_max_examples": 24,
                "breakdown_n": 24,
            },
            "tracking": {"experiment": "tiny-robustness"},
            "output_dir": str(tmp_path / "out"),
        },
    )
    result = evaluate_robustness(cfg)
    assert result.headline["audit_ok"] == 1.0 and result.headline["clean_accuracy"] > 0.8
    assert result.details["worst_case"][0.0] < result.details["worst_case"][-12.0]

    client = MlflowClient()
    parent = client.get_run(result.run_id)
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["model_uri"] == train_run.info.run_id and parent.data.tags["data_fingerprint"]
    assert parent.data.params["robustness.snr_db"] == "10"
    children = client.search_runs(
        [parent.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )
    stages = {c.data.tags["stage"]: c for c in children}
    assert set(stages) == {"data", "robustness"}
    rob = stages["robustness"]
    metrics = rob.data.metrics
    for key in ("native.pgd_l2.acc.pnr-6", "art.pgd_l2.acc.pnr-6", "worst_case.acc.pnr0", "clean_accuracy"):
        assert key in metrics, key
    history = client.get_metric_history(rob.info.run_id, "native.fgsm.acc")
    assert sorted(m.step for m in history) == [-12, -6, 0]
    files = {a.path for a in client.list_artifacts(rob.info.run_id)}
    assert {
        "robustness_report.json",
        "robustness_pnr_curves.png",
        "robustness_worst_case.png",
        "robustness_per_snr.png",
        "robustness_timing.png",
    } <= files
    assert rob.data.tags["stage_cache"] == "miss"

    rerun = evaluate_robustness(cfg)  # the same model, data and suite: the sweep is reused
    assert rerun.details == result.details and rerun.headline == result.headline
    again = client.search_runs([parent.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{rerun.run_id}'")
    again_rob = next(c for c in again if c.data.tags["stage"] == "robustness")
    assert again_rob.data.tags["stage_cache"] == "hit"
    assert again_rob.data.metrics["native.pgd_l2.acc.pnr-6"] == metrics["native.pgd_l2.acc.pnr-6"]
    saved = json.loads(Path(rerun.outputs["report_path"]).read_text())
    assert saved["worst_case"] == list(result.details["worst_case"].values())
    report = json.loads(Path(result.outputs["report_path"]).read_text())
    assert {(c["attack"], c["library"]) for c in report["curves"]} >= {
        ("fgsm", "native"),
        ("fgsm", "art"),
        ("pgd_l2", "art"),
    }
