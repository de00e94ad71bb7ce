"""The ``pipeline`` flow end to end on tiny data: every stage of the chain as a child run of one
parent, ART's twins only on ``art_models``, the claims report from the run's own numbers, and
``amc-tf report claims`` regenerating it from the store; config validation."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from amc_tf.config.base import validate_config
from amc_tf.config.chain import ChainConfig
from amc_tf.errors import ConfigError

STAGES = {"data", "teacher", "f_S", "distill", "nettrim", "tfmot", "export", "evaluate"}
STAGES |= {"f_S_adv", "f_D_adv", "f_P_adv", "report", "claims"}


@pytest.fixture(scope="module")
def finished(tiny_pipeline_run):
    """The session's finished tiny pipeline run (``tests/flows/conftest.py``), MLflow pointed at
    its store for this module: (result, its folder, the store URI)."""
    from amc_tf.tracking.store import configure

    _, _, uri = tiny_pipeline_run
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        configure(uri)
        yield tiny_pipeline_run
    configure()


def test_pipeline_flow_end_to_end(finished):
    import mlflow
    from mlflow import MlflowClient

    result, tmp_path, mlflow_store = finished
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


#: Flags for Chromium on a machine with no network but loopback (no background connections).
CHROMIUM = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=20000",
]


def test_mlflow_ui_renders_the_run_with_its_metrics_and_artifacts(finished, tmp_path):
    """``mlflow ui`` on loopback over the store of a finished pipeline run, the run page opened in
    headless Chromium: the description, metrics and artifact list render; the screenshot is
    logged in the run."""
    from mlflow import MlflowClient

    from amc_tf.tracking.store import run_url

    browser = shutil.which("chromium")
    if browser is None:
        pytest.skip("no chromium on this machine (scripts/test.sh installs Debian's package when it can)")
    result, _, uri = finished
    client = MlflowClient(tracking_uri=uri)
    run = client.get_run(result.run_id)
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"  # the model-training view
    assert run.data.tags["mlflow.note.content"].startswith("**pipeline** run `pipeline_test`")
    port = _free_port()
    ui = subprocess.Popen(
        [str(Path(sys.executable).with_name("mlflow")), "ui", "--backend-store-uri", uri]
        + ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
    )
    base = f"http://127.0.0.1:{port}"
    page = run_url(experiment.experiment_id, result.run_id, port).split("?")[0]
    view = "?workflowType=machine_learning"
    profile = ["--user-data-dir=" + str(tmp_path / "profile")]
    try:
        deadline = time.monotonic() + 180
        while True:
            assert ui.poll() is None and time.monotonic() < deadline, "mlflow ui did not start"
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        overview = subprocess.run(
            [browser, *CHROMIUM, *profile, "--dump-dom", page + view], capture_output=True, text=True, timeout=180
        ).stdout
        artifacts = subprocess.run(
            [browser, *CHROMIUM, *profile, "--dump-dom", f"{page}/artifacts{view}"],
            capture_output=True,
            text=True,
            timeout=180,
        ).stdout
        shot = tmp_path / "mlflow_ui_run.png"
        subprocess.run(
            [browser, *CHROMIUM, *profile, "--window-size=1400,1000", f"--screenshot={shot}", page + view],
            capture_output=True,
            timeout=180,
        )
    finally:
        ui.terminate()
        ui.wait(timeout=60)
    assert "Evaluation runs" not in overview  # the model-training view's sidebar, not the GenAI one
    assert "pipeline_test" in overview and "Config of the" in overview  # name and description
    assert {"clean_f_S", "claims_measured"} <= {m for m in run.data.metrics if m in overview}
    listed = {a.path for a in client.list_artifacts(result.run_id)}
    assert {"claims.md", "defend_table.md"} <= listed
    assert all(name in artifacts for name in listed)  # the artifact list renders every file
    assert shot.stat().st_size > 20_000
    client.log_artifact(result.run_id, str(shot), "ui")
    assert "ui/mlflow_ui_run.png" in {a.path for a in client.list_artifacts(result.run_id, "ui")}


def test_pipeline_needs_its_compress_section(tmp_path, tiny_pipeline_config):
    data = tiny_pipeline_config(tmp_path)
    data.pop("compress")
    data["models"] = {"f_S": "a", "f_D": "b", "f_P": "c"}
    data["data"] = {"synthetic": {"family": "rml2016", "windows_per_key": 4}}
    with pytest.raises(ConfigError, match="builds its own models"):
        validate_config(ChainConfig, data)
    with pytest.raises(ConfigError, match="art_models"):
        validate_config(ChainConfig, tiny_pipeline_config(tmp_path, art_models=["f_S", "f_S"]))
    with pytest.raises(ConfigError, match="art_models"):
        validate_config(ChainConfig, tiny_pipeline_config(tmp_path, art_models=["f_X"]))


def test_report_claims_rejects_an_unknown_experiment(mlflow_store, cli, tmp_path):
    done = cli("report", "claims", "--out", tmp_path / "r", "--experiment", "no-such-experiment")
    assert done.exit_code == 2 and "no-such-experiment" in done.stderr
    assert not (tmp_path / "r" / "claims.md").exists()
