"""A training flow killed (SIGKILL) mid-training resumes from its last epoch checkpoint when the
same config is run again, and the killed run is marked KILLED; a third run reuses the finished
training from the stage cache."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

EPOCHS = 10


def _write_config(tmp_path: Path, store: str) -> Path:
    config = {
        "kind": "train_classifier",
        "name": "victim",
        "seed": 3,
        "data": {
            "synthetic": {
                "family": "rml2016",
                "windows_per_key": 40,
                "snrs": [10, 18],
                "classes": ["BPSK", "QPSK", "WBFM"],
                "window": 32,  # VT-CNN2 of 0.86 M parameters instead of 2.8 M: cheaper epochs and checkpoints
                "seed": 3,
            },
            "split": {"train": 0.5, "val": 0.25, "test": 0.25},
            "cache_dir": str(tmp_path / "cache"),
        },
        "train": {"batch_size": 32, "epochs": EPOCHS, "patience": 0, "verbose": 0},
        "tracking": {"uri": store, "experiment": "kill-resume", "register_models": False},
        "output_dir": str(tmp_path / "out"),
    }
    path = tmp_path / "victim.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _run(config: Path, log: Path, env: dict[str, str]) -> subprocess.Popen:
    """``amc-tf run config`` with its output in ``log`` (a file, not a pipe nobody reads while
    the test polls), against the session's Prefect test server."""
    cmd = [str(Path(sys.executable).with_name("amc-tf")), "run", str(config)]
    env = {**env, "PYTHONUNBUFFERED": "1"}
    with open(log, "w") as fh:
        return subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env)


def _finish(proc: subprocess.Popen, log: Path) -> str:
    proc.wait(timeout=400)
    text = log.read_text()
    assert proc.returncode == 0, text[-3000:]
    return text


def _checkpoints(out: Path) -> list[Path]:
    return sorted(out.glob("stage-cache/train-model-*.ckpt/epoch-*/state.json"))


def test_killed_training_resumes_from_its_checkpoint(tmp_path, mlflow_store, prefect_env):
    from mlflow import MlflowClient

    config = _write_config(tmp_path, mlflow_store)
    out = tmp_path / "out"
    victim = _run(config, tmp_path / "victim.log", prefect_env)
    deadline = time.monotonic() + 400
    while not any(int(p.parent.name.split("-")[1]) >= 3 for p in _checkpoints(out)):
        assert victim.poll() is None, (tmp_path / "victim.log").read_text()[-3000:]
        assert time.monotonic() < deadline, "no checkpoint of epoch 3 within 400 s"
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=60)
    killed_at = json.loads(_checkpoints(out)[-1].read_text())["epoch"]
    assert 3 <= killed_at < EPOCHS

    stderr = _finish(_run(config, tmp_path / "rerun.log", prefect_env), tmp_path / "rerun.log")
    assert f"resuming from the checkpoint of epoch {killed_at}" in stderr
    assert not list(out.glob("stage-cache/*.ckpt"))  # the finished training's checkpoints are gone

    client = MlflowClient(tracking_uri=mlflow_store)
    exp = client.get_experiment_by_name("kill-resume")
    runs = client.search_runs([exp.experiment_id], order_by=["attributes.start_time ASC"])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert [p.info.status for p in parents] == ["KILLED", "FINISHED"]
    train = next(
        r
        for r in runs
        if r.data.tags.get("mlflow.parentRunId") == parents[1].info.run_id and r.data.tags["stage"] == "train"
    )
    assert train.data.metrics["epochs_run"] == EPOCHS  # the resumed training covers every epoch
    assert train.data.tags["stage_cache"] == "miss"
    history = client.get_metric_history(train.info.run_id, "loss")
    assert len(history) == EPOCHS

    stderr = _finish(_run(config, tmp_path / "third.log", prefect_env), tmp_path / "third.log")
    assert "reused from the stage cache" in stderr and "resuming" not in stderr
