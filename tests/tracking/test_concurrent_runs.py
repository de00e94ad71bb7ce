"""Flows started at the same moment on a fresh local MLflow store all finish and are all
recorded (schema created under a file lock, WAL, "already exists" and "database is locked"
tolerated). Separate processes are the point: the races are between interpreters."""

from __future__ import annotations

import subprocess
import sys

import pytest

WORKERS = 4
WORKER = """
import sys, time
from pathlib import Path
from amc_tf.config.base import PipelineBase
from amc_tf.tracking import runs
uri, ready, index, n = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[5])
config = PipelineBase(kind="probe", name=f"worker-{index}", tracking={"uri": uri, "experiment": "race"},
                      output_dir=sys.argv[4])
(ready / index).touch()
deadline = time.time() + 120  # a worker that never comes up fails the test; do not hang on it
while len(list(ready.iterdir())) < n and time.time() < deadline:
    time.sleep(0.002)
with runs.flow_run(config) as run:
    with runs.child_run("stage", parent_run_id=run.run_id):
        runs.log_metrics({"value": float(index)})
print(run.run_id)
"""


def test_parallel_first_runs_on_a_fresh_store_all_finish(tmp_path):
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    ready = tmp_path / "ready"  # a barrier: every interpreter is up and waiting before the first one starts
    ready.mkdir()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, uri, str(ready), str(i), str(tmp_path / "out"), str(WORKERS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(WORKERS)
    ]
    outputs = [p.communicate(timeout=240) for p in procs]
    for p, (_, err) in zip(procs, outputs):
        assert p.returncode == 0, err[-2000:]
    run_ids = {out.strip().splitlines()[-1] for out, _ in outputs}
    client = MlflowClient(tracking_uri=uri)
    experiments = client.search_experiments(filter_string="name = 'race'")
    assert len(experiments) == 1  # created once, found by the others
    recorded = client.search_runs([experiments[0].experiment_id])
    parents = {r.info.run_id for r in recorded if "mlflow.parentRunId" not in r.data.tags}
    assert parents == run_ids and len(recorded) == 2 * WORKERS
    assert all(r.info.status == "FINISHED" for r in recorded)


def test_retry_locked_retries_only_a_locked_database(monkeypatch):
    from amc_tf.tracking import store

    monkeypatch.setattr(store, "LOCK_BACKOFF_S", 0.0)
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("(sqlite3.OperationalError) database is locked")
        return "done"

    assert store.retry_locked(flaky)() == "done" and len(calls) == 3
    with pytest.raises(ValueError, match="other"):
        store.retry_locked(lambda: (_ for _ in ()).throw(ValueError("other")))()
