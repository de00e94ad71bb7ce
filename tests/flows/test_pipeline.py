"""The ``pipeline`` flow end to end on tiny data: every stage of the chain as a child run of one
parent, ART's twins only on ``art_models``, the claims report from the run's own numbers, and
``amc-tf report claims`` regenerating it from the store; config validation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from amc_tf.config.base import validate_config
from amc_tf.config.chain import ChainConfig
from amc_tf.errors import ConfigError

STAGES = {"data", "teacher", "f_S", "distill", "nettrim", "tfmot", "export", "evaluate"}
STAGES |= {"f_S_adv", "f_D_adv", "f_P_adv", "report", "claims"}


def _tiny(sections, tmp_path, **extra) -> dict:
    compress = sections(tmp_path, student_epochs=2)
    compress.update(
        tfmot={"epochs": 1, "batch_size": 32},
        export={"snr": 10, "latency_repeats": 1},
        evaluation={"confusion_snrs": [10]},
    )
    return {
        "kind": "pipeline",
        "name": "pipeline_test",
        "seed": 2,
        "compress": compress,
        "adversarial": {
            "mix": [{"attack": {"name": "pgd_linf", "steps": 2}, "fraction": 0.5}, {"attack": "fgsm", "fraction": 0.5}],
            "train": {"batch_size": 32, "epochs": 1, "patience": 0},
        },
        "robustness": {
            "attacks": [
                "fgm",
                {"name": "pgd_linf", "steps": 2},
                {"name": "uap_svd", "n_fit": 16, "draws": 1},
                "noise_gaussian",
            ],
            "art_baselines": ["fgm"],
            "pnr_db": [-10, 0],
            "n_examples": 16,
            "batch_size": 64,
            "breakdown_pnr_db": None,
        },
        "art_models": ["f_S"],
        "tracking": {"experiment": "pipeline-test"},
        "output_dir": str(tmp_path / "artifacts"),
        **extra,
    }


def test_pipeline_flow_end_to_end(prefect_harness, mlflow_store, tmp_path, tiny_compress_sections):
    import mlflow
    from mlflow import MlflowClient

    from flows.pipeline import pipeline

    cfg = validate_config(ChainConfig, _tiny(tiny_compress_sections, tmp_path))
    result = pipeline(cfg)
    client = MlflowClient()
    exp = mlflow.get_experiment_by_name("pipeline-test").experiment_id
    children = {
        r.info.run_name: r
        for r in client.search_runs([exp], filter_string=f"tags.mlflow.parentRunId = '{result.run_id}'")
    }
    assert STAGES | {f"robustness-{r}" for r in ("f_S", "f_D", "f_P", "f_S_adv", "f_D_adv", "f_P_adv")} <= set(children)
    assert client.get_run(result.run_id).data.tags["pipeline_kind"] == "pipeline"

    # ART's twin runs on f_S only (same examples as ours), the native attacks on all six.
    libraries = {}
    for role in ("f_S", "f_D_adv"):
        report = json.loads((tmp_path / "artifacts" / result.run_id / f"robustness_{role}.json").read_text())
        libraries[role] = {(c["attack"], c["library"]) for c in report["curves"]}
    assert ("fgm", "art") in libraries["f_S"] and ("fgm", "art") not in libraries["f_D_adv"]
    assert ("uap_svd", "native") in libraries["f_D_adv"]

    # The claims report: from this run's own table, measured claims present, others not measured.
    head = result.headline
    claims = children["claims"].data.metrics
    assert claims["claim_kd_raises_clean"] == pytest.approx(head["clean_f_D"] - head["clean_f_S"])
    assert "uap_minus_noise_f_S" in claims
    assert head["claims_measured"] >= 8 and head["claims_measured"] == claims["claims_measured"]
    md = (tmp_path / "artifacts" / result.run_id / "claims.md").read_text()
    assert result.run_id[:12] in md and "not measured" in md  # the hybrid/MIMO claims need other runs
    assert "claims.md" in {a.path for a in client.list_artifacts(result.run_id)}
    assert {"f_S", "f_D", "f_P", "f_T", "teacher", "f_S_adv"} <= set(result.outputs)

    # The CLI (a fresh process, as a user runs it) regenerates the verdicts from the store and logs
    # the report as a run.
    out = tmp_path / "reports"
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("amc-tf")),
            "report",
            "claims",
            "--out",
            str(out),
            "--tracking-uri",
            mlflow_store,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"pipeline: run {result.run_id}" in done.stdout
    assert (out / "claims.html").read_text().count("<tr class=") > 10
    regenerated = (out / "claims.md").read_text()
    assert regenerated.splitlines()[2] == md.splitlines()[2]  # same summary line
    report_runs = client.search_runs([mlflow.get_experiment_by_name("claims").experiment_id])
    assert report_runs[0].data.params["source_pipeline"] == result.run_id


def test_pipeline_needs_its_compress_section(tmp_path, tiny_compress_sections):
    data = _tiny(tiny_compress_sections, tmp_path)
    data.pop("compress")
    data["models"] = {"f_S": "a", "f_D": "b", "f_P": "c"}
    data["data"] = {"synthetic": {"family": "rml2016", "windows_per_key": 4}}
    with pytest.raises(ConfigError, match="builds its own models"):
        validate_config(ChainConfig, data)
    with pytest.raises(ConfigError, match="art_models"):
        validate_config(ChainConfig, _tiny(tiny_compress_sections, tmp_path, art_models=["f_S", "f_S"]))
    with pytest.raises(ConfigError, match="art_models"):
        validate_config(ChainConfig, _tiny(tiny_compress_sections, tmp_path, art_models=["f_X"]))


def test_report_claims_rejects_an_unknown_experiment(mlflow_store, cli, tmp_path):
    done = cli("report", "claims", "--out", tmp_path / "r", "--experiment", "no-such-experiment")
    assert done.exit_code == 2 and "no-such-experiment" in done.stderr
    assert not (tmp_path / "r" / "claims.md").exists()
