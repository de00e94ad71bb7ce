"""The hybrid flow end to end on a tiny config: a parent run with a child per stage, five defences'
curves and metrics, the two figures, the hardened models registered; a bad grid is refused."""

from __future__ import annotations

import pytest

from amc_tf.config.base import validate_config
from amc_tf.config.hybrid import HybridConfig
from amc_tf.config.pipelines import load_pipeline
from amc_tf.defenses.hybrid import DEFENCES
from amc_tf.errors import ConfigError

FINE = {"batch_size": 32, "epochs": 1, "patience": 0, "verbose": 0}
TINY = {
    "kind": "hybrid",
    "name": "tiny_hybrid",
    "data": {
        "synthetic": {"family": "rml2016", "windows_per_key": 16, "snrs": [10], "classes": ["BPSK", "QPSK", "WBFM"]},
        "split": {"train": 0.5, "val": 0.25, "test": 0.25},
    },
    "train": FINE,
    "cat": {"train": FINE, "steps": 2},
    "ls_gna": {"train": FINE},
    "adversarial": {"train": FINE, "mix": [{"attack": "fgsm", "fraction": 1.0}]},
    "rejection": {"max_train": 100},
    "autoencoder": {"epochs": 1, "filters": [4, 2]},
    "attack": {"steps": 3},
    "pnr_db": [-10.0],
    "n_examples": 8,
    "tracking": {"experiment": "tiny-hybrid", "register_models": True},
}


def test_flow_records_five_defences(prefect_harness, mlflow_store, tmp_path):
    from mlflow import MlflowClient

    from flows.hybrid import hybrid

    raw = dict(TINY, output_dir=str(tmp_path / "artifacts"))
    raw["data"] = dict(TINY["data"], cache_dir=str(tmp_path / "cache"))
    result = hybrid(validate_config(HybridConfig, raw))
    for name in DEFENCES:
        assert 0.0 <= result.headline[f"{name}.robust.pnr-10"] <= 1.0
    client = MlflowClient()
    parent = client.get_run(result.run_id)
    assert parent.info.status == "FINISHED" and parent.data.tags.get("data_fingerprint")
    children = client.search_runs(
        [parent.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{result.run_id}'"
    )
    by_name = {r.data.tags["mlflow.runName"]: r for r in children}
    assert {"data", "f_S", "cat", "ls_gna", "adversarial", "defences"} <= set(by_name)
    defences = by_name["defences"]
    assert "htrd.adaptive.acc.pnr-10" in defences.data.metrics
    artifacts = {a.path for a in client.list_artifacts(defences.info.run_id)}
    assert {"rejection_report.json", "rejection_curves.png", "feature_pca_cat_vs_ls_gna.png"} <= artifacts
    report = result.details["report"]
    assert all(c["audit_ok"] for c in report["curves"])
    names = {m.name for m in client.search_registered_models()}
    assert {"tiny_hybrid-cat", "tiny_hybrid-ls_gna", "tiny_hybrid-adversarial"} <= names


def test_configs_validate_and_a_bad_grid_is_refused(tmp_path):
    assert load_pipeline("configs/hybrid_quickstart.yaml").kind == "hybrid"
    for path in ("configs/hybrid_quickstart.yaml", "configs/hybrid_reduced.yaml"):
        config = load_pipeline(path)  # the hardenings are judged on their last epoch, not the best clean one
        assert not any(r.train.restore_best_weights for r in (config.cat, config.ls_gna, config.adversarial))
    asked = validate_config(HybridConfig, dict(TINY, cat={"train": {"epochs": 1, "restore_best_weights": True}}))
    assert asked.cat.train.restore_best_weights and not asked.ls_gna.train.restore_best_weights
    with pytest.raises(ConfigError, match="strictly increasing"):
        validate_config(HybridConfig, dict(TINY, pnr_db=[0.0, -10.0]))
