"""A killed flow leaves nothing behind for long: its RUNNING runs are marked KILLED and its
temporary files removed when the next flow starts; Ctrl-C and SIGTERM end runs as KILLED."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from amc_tf.config.base import PipelineBase

PREAMBLE = """
import os, sys, time
from amc_tf.config.base import PipelineBase
from amc_tf.io import atomic_path
from amc_tf.tracking import runs
config = PipelineBase(kind="probe", name="victim", tracking={"uri": sys.argv[1], "experiment": "victims"},
                      output_dir=sys.argv[2])
"""
KILLED_MID_WRITE = (
    PREAMBLE
    + """
with runs.flow_run(config) as run:
    with runs.child_run("train", parent_run_id=run.run_id):
        with atomic_path(run.output_dir / "model.keras", suffix=".keras") as tmp:
            tmp.write_bytes(b"half a model")
            print(run.run_id, flush=True)
            os.kill(os.getpid(), 9)
"""
)
SIGTERM_WHILE_WORKING = (
    PREAMBLE
    + """
from amc_tf import cli
import signal
signal.signal(signal.SIGTERM, cli._interrupt)
with runs.flow_run(config) as run:
    with runs.child_run("train", parent_run_id=run.run_id):
        print(run.run_id, flush=True)
        time.sleep(120)
"""
)


SIGTERM_THROUGH_THE_CLI = """
import sys, time
from pathlib import Path
from prefect import flow
import flows
from amc_tf import cli
from amc_tf.config.base import PipelineBase
from amc_tf.tracking import runs

@flow(name="victim")
def victim():
    config = PipelineBase(kind="probe", name="victim", tracking={"uri": sys.argv[1], "experiment": "victims"},
                          output_dir=sys.argv[2])
    with runs.flow_run(config) as run:
        with runs.child_run("train", parent_run_id=run.run_id):
            print("RUNNING", flush=True)
            time.sleep(300)

flows.run_pipeline = lambda cfg: victim()
cli.main(["run", str(Path(sys.argv[3]))])
"""


def _config(tmp_path, uri: str) -> PipelineBase:
    return PipelineBase(
        kind="probe", name="next", tracking={"uri": uri, "experiment": "next"}, output_dir=str(tmp_path / "out")
    )


def _runs(uri: str, experiment: str):
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(experiment)
    return {r.info.run_name: r for r in client.search_runs([exp.experiment_id])}


def test_a_flow_killed_mid_write_is_cleaned_up_by_the_next_one(tmp_path, mlflow_store):
    from amc_tf.tracking import runs

    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_MID_WRITE, mlflow_store, str(out)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    run_id = proc.stdout.split()[0]
    before = _runs(mlflow_store, "victims")
    assert {r.info.status for r in before.values()} == {"RUNNING"}
    assert list((out / run_id).glob(".model.keras.*.tmp.keras"))  # the half-written temp is there
    with runs.flow_run(_config(tmp_path, mlflow_store)):
        pass
    after = _runs(mlflow_store, "victims")
    assert after["victim"].info.status == "KILLED" and after["train"].info.status == "KILLED"
    assert not list((out / run_id).glob(".*.tmp*")) and not (out / run_id / "model.keras").exists()


def test_sigterm_ends_the_runs_as_killed(tmp_path, mlflow_store):
    proc = subprocess.Popen(
        [sys.executable, "-c", SIGTERM_WHILE_WORKING, mlflow_store, str(tmp_path / "out")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc.stdout.readline()  # the runs are open
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    statuses = {name: r.info.status for name, r in _runs(mlflow_store, "victims").items()}
    assert statuses == {"victim": "KILLED", "train": "KILLED"}


def test_sigterm_to_the_cli_inside_a_prefect_flow_exits_143_with_the_runs_killed(tmp_path, mlflow_store, prefect_env):
    """Inside a flow Prefect turns SIGTERM into its TerminationSignal and typer turns the
    interruption into a returned 130: the command must still exit non-zero with the runs KILLED.
    The flow talks to the session's Prefect test server (as ``amc-tf`` against a server does)."""
    config = Path(__file__).parents[2] / "configs" / "quickstart.yaml"
    proc = subprocess.Popen(
        [sys.executable, "-c", SIGTERM_THROUGH_THE_CLI, mlflow_store, str(tmp_path / "out"), str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=prefect_env,
    )
    for line in proc.stdout:
        if "RUNNING" in line:
            break
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err[-2000:]
    assert "aborted" in err
    statuses = {name: r.info.status for name, r in _runs(mlflow_store, "victims").items()}
    assert statuses == {"victim": "KILLED", "train": "KILLED"}


def test_ctrl_c_in_process_marks_parent_and_child_killed(tmp_path, mlflow_store):
    from amc_tf.tracking import runs

    with pytest.raises(KeyboardInterrupt):
        with runs.flow_run(_config(tmp_path, mlflow_store)) as run:
            with runs.child_run("stage", parent_run_id=run.run_id):
                raise KeyboardInterrupt
    assert {r.info.status for r in _runs(mlflow_store, "next").values()} == {"KILLED"}


def test_only_dead_local_owners_are_reaped(mlflow_store):
    from mlflow import MlflowClient

    from amc_tf.tracking.recovery import HOST_TAG, PID_TAG, reap_dead_runs

    dead = subprocess.Popen(["true"])
    dead.wait()
    client = MlflowClient()
    exp = client.create_experiment("owners")
    host = socket.gethostname()
    owners = {"dead": (host, dead.pid), "alive": (host, os.getpid()), "elsewhere": ("another-host", dead.pid)}
    ids = {
        name: client.create_run(exp, run_name=name, tags={HOST_TAG: h, PID_TAG: str(p)}).info.run_id
        for name, (h, p) in owners.items()
    }
    assert reap_dead_runs() == [ids["dead"]]
    status = {name: client.get_run(i).info.status for name, i in ids.items()}
    assert status == {"dead": "KILLED", "alive": "RUNNING", "elsewhere": "RUNNING"}


def test_only_temps_of_dead_writers_are_removed(tmp_path):
    from amc_tf.io import remove_stale_temps

    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f".data.npz.{dead.pid}.abc123.tmp.npz"
    stale_dir = tmp_path / "sub" / f".model.{dead.pid}.xyz.tmp"
    live = tmp_path / f".data.npz.{os.getpid()}.def456.tmp.npz"
    keep = tmp_path / "data.npz"
    stale_dir.mkdir(parents=True)
    (stale_dir / "part").write_text("x")
    for path in (stale, live, keep):
        path.write_text("x")
    assert set(remove_stale_temps(tmp_path)) == {stale, stale_dir}
    assert live.exists() and keep.exists() and not stale.exists() and not stale_dir.exists()
