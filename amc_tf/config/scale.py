"""Where a flow's parallel tasks run (issue 16 item 6): in this process one after another (the
default), or on Dask through Prefect's ``DaskTaskRunner`` — a ``LocalCluster`` of worker processes
on this machine, or an existing cluster at ``dask_address``.

Only embarrassingly parallel work fans out (the nightly's per-model suites). Every task opens its
own MLflow child run against the same store, so workers must reach it: a local ``sqlite:`` store
works for a ``LocalCluster``; a remote cluster needs a tracking server (``tracking.uri:
http://…``) and the data path or generator reachable from the workers.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from amc_tf.schema import Frozen


class ScaleOutConfig(Frozen):
    """The task runner of a flow's parallel tasks.

    Attributes:
        task_runner: ``sequential`` (in this process) or ``dask``.
        dask_address: Scheduler of an existing Dask cluster (``tcp://host:8786``); None with
            ``dask`` = a ``LocalCluster`` of ``n_workers`` processes on loopback.
        n_workers: Worker processes of the ``LocalCluster`` (one thread each: TensorFlow already
            uses every core it is given).
    """

    task_runner: Literal["sequential", "dask"] = "sequential"
    dask_address: str | None = Field(default=None, pattern=r"^(tcp|tls|inproc|ucx)://\S+$")
    n_workers: int = Field(default=2, ge=1, le=256)

    @model_validator(mode="after")
    def _address_needs_dask(self) -> ScaleOutConfig:
        if self.dask_address is not None and self.task_runner != "dask":
            raise ValueError("dask_address is given but task_runner is not 'dask'")
        return self

    def task_runner_object(self):
        """The Prefect task runner (imports prefect-dask only for ``dask``)."""
        if self.task_runner == "sequential":
            from prefect.task_runners import ThreadPoolTaskRunner

            return ThreadPoolTaskRunner(max_workers=1)
        try:
            from prefect_dask import DaskTaskRunner
        except ImportError as err:
            from amc_tf.errors import ConfigError

            raise ConfigError("task_runner 'dask' needs prefect-dask: pip install 'amc-tf[dask]'") from err
        if self.dask_address:
            return DaskTaskRunner(address=self.dask_address)
        kwargs = {"n_workers": self.n_workers, "threads_per_worker": 1, "processes": True, "host": "127.0.0.1"}
        return DaskTaskRunner(cluster_kwargs={**kwargs, "dashboard_address": None})
