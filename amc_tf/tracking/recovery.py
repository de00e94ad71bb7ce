"""Runs left behind by a killed flow: every run records which process on which machine opened
it, and a flow that starts marks the RUNNING runs of dead processes on this machine KILLED, so
the store never shows a run as running forever (runs of other machines are left alone: their
processes cannot be checked from here)."""

from __future__ import annotations

import os
import socket

from amc_tf.io import pid_alive
from amc_tf.tracking.store import _mlflow, retry_locked

HOST_TAG, PID_TAG = "amc_tf.host", "amc_tf.pid"


def owner_tags() -> dict[str, str]:
    """The tags that name this process as a run's owner."""
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


@retry_locked
def reap_dead_runs() -> list[str]:
    """Mark KILLED the RUNNING runs (in any experiment of the current store) whose owner process
    on this machine no longer exists; returns their run ids."""
    from mlflow import MlflowClient
    from mlflow.entities import ViewType

    client = MlflowClient(tracking_uri=_mlflow().get_tracking_uri())
    experiments = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
    if not experiments:
        return []
    host = socket.gethostname()
    running = client.search_runs(
        experiments, filter_string=f"attributes.status = 'RUNNING' and tags.`{HOST_TAG}` = '{host}'"
    )
    reaped = []
    for run in running:
        pid = run.data.tags.get(PID_TAG, "")
        if pid.isdigit() and not pid_alive(int(pid)):
            client.set_terminated(run.info.run_id, status="KILLED")
            reaped.append(run.info.run_id)
    return reaped


__all__ = ["HOST_TAG", "PID_TAG", "owner_tags", "reap_dead_runs"]
