"""The nightly robustness regression end to end on a tiny registered classifier: the first night
passes and promotes the candidate, an unchanged model passes again with identical numbers, a
planted regression (a model trained on shifted labels registered as the new candidate) makes
``amc-tf nightly run`` exit 3 naming the attack and PNR, tags the run ``regression=failed`` and
keeps the champion; and the served deployment, triggered through the Prefect API of a local
server, completes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from amc_tf.config.base import validate_config
from amc_tf.config.nightly import NightlyConfig
from amc_tf.errors import ConfigError
from amc_tf.tracking import registry

MODEL = "nightly_test-f_S"
#: A smaller suite for the tests whose assertions are about where the suite runs (a served
#: deployment, a Dask cluster), not about its attacks: one PGD-L2 of 2 steps (random start: its
#: numbers depend on the seeding) at two PNRs on 16 examples, no ART twins.
SMALL_SUITE = {
    "attacks": [{"name": "pgd_l2", "steps": 2}],
    "art_baselines": [],
    "pnr_db": [-10, 0],
    "n_examples": 16,
    "batch_size": 64,
    "breakdown_pnr_db": None,
    "sweep": "survivors",
}


def _config(tmp_path: Path, sections, **extra) -> dict:
    data = sections(tmp_path)["data"]
    data["synthetic"]["windows_per_key"] = 40
    return {
        "kind": "nightly",
        "name": "nightly_test",
        "seed": 2,
        "models": [MODEL],
        "data": data,
        "robustness": {
            "attacks": ["fgsm", {"name": "pgd_l2", "steps": 3}],
            "art_baselines": ["fgsm"],
            "pnr_db": [-10, 0],
            "n_examples": 48,
            "art_max_examples": 48,
            "batch_size": 64,
            "breakdown_pnr_db": None,
            "sweep": "survivors",
        },
        "tracking": {"experiment": "nightly-test"},
        "output_dir": str(tmp_path / "artifacts"),
        **extra,
    }


def _register(tiny, cfg: NightlyConfig, *, wrong_labels: bool = False, name: str = MODEL, seed: int = 0) -> int:
    """Train the tiny classifier on the suite's training split (every label shifted to the next
    class for a planted regression), log it and register it under ``candidate``; returns the version."""
    import mlflow

    from amc_tf.classifier import stages
    from amc_tf.tracking.models import log_keras_model, register_model
    from amc_tf.tracking.store import ensure_experiment

    data = stages.load_data(cfg.data, progress=False)
    train = stages.splits(cfg.data, data.path, cfg.seed)["train"]
    if wrong_labels:
        train = type(train)(train.x, (train.y + 1) % len(train.classes), train.snr, train.classes, {})
    model = tiny.train_tiny_model(train, seed=seed, epochs=12)
    with mlflow.start_run(experiment_id=ensure_experiment("sources"), run_name="source"):
        uri = log_keras_model(model, "model")
    return register_model(uri, name, alias="candidate")


def _children(client, experiment: str, parent: str) -> list:
    exp = client.get_experiment_by_name(experiment).experiment_id
    return client.search_runs([exp], filter_string=f"tags.mlflow.parentRunId = '{parent}'")


def _latest_parent(client, experiment: str):
    exp = client.get_experiment_by_name(experiment).experiment_id
    runs = client.search_runs([exp], order_by=["attributes.start_time DESC"])
    return next(r for r in runs if "mlflow.parentRunId" not in r.data.tags)


def test_unchanged_passes_and_a_planted_regression_fails(
    prefect_env, mlflow_store, tmp_path, tiny, tiny_compress_sections
):
    from mlflow import MlflowClient

    from flows.nightly import nightly

    raw = _config(tmp_path, tiny_compress_sections)
    cfg = validate_config(NightlyConfig, raw)
    assert _register(tiny, cfg) == 1
    client = MlflowClient()

    first = nightly(cfg)
    assert first.headline["models_failed"] == 0.0
    assert registry.aliases(MODEL) == {"candidate": 1, "champion": 1}  # promoted
    (night1,) = [c for c in _children(client, "nightly-test", first.run_id) if c.info.run_name.startswith("nightly-")]
    assert night1.data.tags["regression"] == "passed" and "baseline_run_id" not in night1.data.tags
    assert Path(first.outputs["figure_path"]).stat().st_size > 10_000

    second = nightly(cfg)  # unchanged model: compared with the first night, same numbers
    (night2,) = [c for c in _children(client, "nightly-test", second.run_id) if c.info.run_name.startswith("nightly-")]
    assert night2.data.tags["regression"] == "passed"
    assert night2.data.tags["baseline_run_id"] == night1.info.run_id
    curves = {k: v for k, v in night1.data.metrics.items() if ".pnr" in k or k == "clean_accuracy"}
    assert len(curves) >= 7 and curves == {k: night2.data.metrics[k] for k in curves}

    assert _register(tiny, cfg, wrong_labels=True) == 2  # the planted regression becomes the candidate
    path = tmp_path / "nightly.yaml"
    path.write_text(yaml.safe_dump(raw))
    done = subprocess.run(
        [str(Path(sys.executable).with_name("amc-tf")), "nightly", "run", "--config", str(path)],
        capture_output=True,
        text=True,
        env={**prefect_env, "MLFLOW_TRACKING_URI": mlflow_store},
        timeout=600,
    )
    assert done.returncode == 3, done.stderr[-3000:]
    error = done.stderr.strip().splitlines()[-1]
    assert error.startswith("error: nightly regression in run") and f"{MODEL} v2" in error
    assert "dB PNR: robust accuracy fell below the last passing nightly" in error
    parent = _latest_parent(client, "nightly-test")
    assert parent.data.tags["regression"] == "failed" and parent.info.status == "FAILED"
    report = Path(raw["output_dir"]) / parent.info.run_id / "nightly_report.md"
    text = report.read_text()
    assert "REGRESSED" in text and "Baseline: v1" in text
    assert any(f"{name} at " in text for name in ("fgsm", "pgd_l2", "worst_case"))
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"nightly_report.md", "nightly_report.png"} <= artifacts
    assert registry.aliases(MODEL) == {"candidate": 2, "champion": 1}  # not promoted


def test_served_deployment_runs_through_the_prefect_api(
    prefect_env, mlflow_store, tmp_path, tiny, tiny_compress_sections
):
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    raw = _config(tmp_path, tiny_compress_sections, promote=False, robustness=SMALL_SUITE)
    _register(tiny, validate_config(NightlyConfig, raw))
    path = tmp_path / "nightly.yaml"
    path.write_text(yaml.safe_dump(raw))
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115
    served = subprocess.Popen(
        [str(Path(sys.executable).with_name("amc-tf")), "nightly", "serve", "--config", str(path)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**prefect_env, "MLFLOW_TRACKING_URI": mlflow_store},
    )
    try:
        deployment = None
        with get_client(sync_client=True) as client:
            deadline = time.monotonic() + 240
            while deployment is None:
                assert served.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "the deployment never appeared"
                try:
                    deployment = client.read_deployment_by_name("nightly-scheduled/nightly")
                except Exception:
                    time.sleep(1)
        assert [s.schedule.cron for s in deployment.schedules] == ["0 2 * * *"]
        run = run_deployment("nightly-scheduled/nightly", timeout=420, poll_interval=1)
        assert run.state.is_completed(), (run.state, (tmp_path / "serve.log").read_text()[-3000:])
    finally:
        served.send_signal(signal.SIGINT)
        try:
            served.wait(timeout=60)
        except subprocess.TimeoutExpired:
            served.kill()
        log.close()
    parent = _latest_parent(__import__("mlflow").MlflowClient(), "nightly-test")
    assert parent.data.tags["regression"] == "passed"


def test_dask_local_cluster_gives_the_numbers_of_the_sequential_run(
    prefect_harness, mlflow_store, tmp_path, tiny, tiny_compress_sections
):
    """Two models' suites in parallel on a LocalCluster of two worker processes (loopback), then
    the same (small) suite in this process: same verdicts, identical curves."""
    pytest.importorskip("prefect_dask")
    from mlflow import MlflowClient

    import flows

    second = f"{MODEL}-b"
    raw = _config(tmp_path, tiny_compress_sections, models=[MODEL, second], promote=False, robustness=SMALL_SUITE)
    raw["scale_out"] = {"task_runner": "dask", "n_workers": 2}
    parallel = validate_config(NightlyConfig, raw)
    _register(tiny, parallel)
    _register(tiny, parallel, name=second, seed=1)
    client = MlflowClient()
    on_dask = flows.run_pipeline(parallel)
    here = flows.run_pipeline(validate_config(NightlyConfig, {**raw, "scale_out": {}}))
    assert (
        on_dask.details["models"]
        == here.details["models"]
        == {
            MODEL: {"version": 1, "passed": True},
            second: {"version": 1, "passed": True},
        }
    )
    curves = {}
    for result in (on_dask, here):
        for child in _children(client, "nightly-test", result.run_id):
            if child.info.run_name.startswith("nightly-"):
                kept = {k: v for k, v in child.data.metrics.items() if ".pnr" in k or k == "clean_accuracy"}
                curves.setdefault(child.data.tags["nightly_model"], []).append(kept)
    assert set(curves) == {MODEL, second}
    assert all(len(pair) == 2 and pair[0] == pair[1] and pair[0] for pair in curves.values())


def test_config_errors_name_the_field():
    with pytest.raises(ConfigError, match="models"):
        validate_config(NightlyConfig, {"kind": "nightly"})
    with pytest.raises(ConfigError, match="alias"):
        validate_config(NightlyConfig, {"kind": "nightly", "models": ["a"], "alias": "no spaces"})
    with pytest.raises(ConfigError, match="once"):
        validate_config(NightlyConfig, {"kind": "nightly", "models": ["a", "a"]})
    with pytest.raises(ConfigError, match="dask_address"):
        validate_config(NightlyConfig, {"kind": "nightly", "models": ["a"], "scale_out": {"dask_address": "tcp://h:1"}})
    with pytest.raises(ConfigError, match="scale_out.dask_address"):
        validate_config(
            NightlyConfig,
            {"kind": "nightly", "models": ["a"], "scale_out": {"task_runner": "dask", "dask_address": "h"}},
        )


def test_cli_checks_models_and_cron_before_any_run(mlflow_store, tmp_path, cli, tiny_compress_sections):
    path = tmp_path / "nightly.yaml"
    path.write_text(json.dumps(_config(tmp_path, tiny_compress_sections)))
    missing = cli("nightly", "run", "--config", path)
    assert missing.exit_code == 2 and f"no registered model named '{MODEL}'" in missing.stderr
    bad_cron = cli("nightly", "serve", "--config", path, "--cron", "every night")
    assert bad_cron.exit_code == 2 and "not a valid cron expression" in bad_cron.stderr
