"""MLflow runs (design D5): one parent run per flow run, a nested child run per stage, and the
logging of what a stage returns.

The parent carries the flattened typed config as params and tags with the git commit, config
hash, code version, data fingerprint and Prefect flow-run id; typed results go in as metrics and
JSON artifacts, figures as PNG.

The store is chosen by :mod:`amc_tf.tracking.store`; models are logged and loaded by
:mod:`amc_tf.tracking.models`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import amc_tf
from amc_tf.io import remove_stale_temps
from amc_tf.results import PipelineResult
from amc_tf.tracking.recovery import owner_tags, reap_dead_runs
from amc_tf.tracking.store import _mlflow, configure, ensure_experiment, retry_locked


def git_commit() -> str:
    """The current git commit (``+dirty`` if the tree has changes), or ``unknown``."""
    root = Path(amc_tf.__file__).resolve().parent.parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{sha}+dirty" if dirty else sha


def prefect_flow_run_id() -> str | None:
    with contextlib.suppress(Exception):
        from prefect.runtime import flow_run

        fid = flow_run.id
        return str(fid) if fid else None
    return None


def _clean_param(value: Any) -> str:
    text = "null" if value is None else str(value)
    return text[:6000]


def describe(config: Any) -> str:
    """The run description MLflow's UI shows: what the flow does (its config class's summary line)
    and the config's name, seed and code version."""
    doc = (type(config).__doc__ or "").strip().split("\n\n")[0]
    if "(module docstring)" in doc:  # the config's module says what the flow does
        doc = (sys.modules[type(config).__module__].__doc__ or doc).strip().split("\n\n")[0]
    summary = re.sub(r"\s*\(issue \d+[^)]*\)", "", " ".join(doc.split()).replace("``", "`"))
    kind = getattr(config, "kind", "run")
    seed = getattr(config, "seed", None)
    return (
        f"**{kind}** run `{getattr(config, 'name', kind)}` (seed {seed}, amc-tf {amc_tf.__version__}). {summary} "
        "Child runs hold each stage's metrics, reports and figures; params are the full config."
    )


@contextlib.contextmanager
def parent_run(
    experiment: str,
    run_name: str,
    config: Any,
    *,
    data_fingerprint: str | None = None,
    tags: dict[str, str] | None = None,
) -> Iterator[Any]:
    """Start the parent MLflow run of a flow run.

    Args:
        experiment: Experiment name (one per pipeline kind).
        run_name: Human-readable run name.
        config: The flow's typed config (a ``Frozen``): flattened into params, hashed into a tag.
        data_fingerprint: sha256 of the dataset, tagged ``data_fingerprint``.
        tags: Extra tags.
    """
    mlflow = _mlflow()
    exp_id = ensure_experiment(experiment)
    all_tags = {
        "git_commit": git_commit(),
        "code_version": amc_tf.__version__,
        "config_hash": config.config_hash(),
        "pipeline_kind": str(getattr(config, "kind", experiment)),
    }
    if getattr(config, "seed", None) is not None:
        all_tags["seed"] = str(config.seed)
    fid = prefect_flow_run_id()
    if fid:
        all_tags["prefect_flow_run_id"] = fid
    if data_fingerprint:
        all_tags["data_fingerprint"] = data_fingerprint
    all_tags["mlflow.note.content"] = describe(config)
    all_tags.update(owner_tags())
    all_tags.update(tags or {})
    active = retry_locked(mlflow.start_run)(experiment_id=exp_id, run_name=run_name, tags=all_tags)
    with _killed_on_interrupt(active.info.run_id), active as run:
        params = {k: _clean_param(v) for k, v in config.flat().items()}
        items = list(params.items())
        for i in range(0, len(items), 100):
            retry_locked(mlflow.log_params)(dict(items[i : i + 100]))
        yield run


@contextlib.contextmanager
def _killed_on_interrupt(run_id: str) -> Iterator[None]:
    """Record a run ended by Ctrl-C or SIGTERM as KILLED (MLflow would say FAILED).

    Inside a Prefect flow a SIGTERM arrives as Prefect's ``TerminationSignal``, a ``BaseException``
    that is not an ``Exception`` like ``KeyboardInterrupt``: any such interruption (but not the
    ``GeneratorExit`` of a closed generator) ends the run as KILLED.
    """
    try:
        yield
    except BaseException as exc:
        if not isinstance(exc, (Exception, GeneratorExit)):
            from mlflow import MlflowClient

            MlflowClient().set_terminated(run_id, status="KILLED")
        raise


@dataclasses.dataclass(frozen=True)
class FlowRun:
    """The parent run of one flow run, as :func:`flow_run` yields it.

    Attributes:
        run_id: MLflow parent run id.
        experiment: Its experiment name.
        tracking_uri: The store it lives in.
        output_dir: ``<config.output_dir>/<run_id>``, the run's local files (created).
        started: ``time.perf_counter()`` when the run opened.
    """

    run_id: str
    experiment: str
    tracking_uri: str
    output_dir: Path
    started: float

    def elapsed(self) -> float:
        """Seconds since the run opened."""
        return time.perf_counter() - self.started

    def result(self, kind: str, headline: dict[str, float], **fields: Any) -> PipelineResult:
        """The flow's :class:`~amc_tf.results.PipelineResult` (``outputs=``, ``details=`` optional)."""
        return PipelineResult(
            kind=kind,
            run_id=self.run_id,
            experiment=self.experiment,
            tracking_uri=self.tracking_uri,
            output_dir=str(self.output_dir),
            wall_seconds=self.elapsed(),
            headline=headline,
            **fields,
        )


@contextlib.contextmanager
def flow_run(config: Any, *, tags: dict[str, str] | None = None) -> Iterator[FlowRun]:
    """Open the parent MLflow run of a flow run for a pipeline config.

    Points MLflow at ``config.tracking.uri`` (else ``$MLFLOW_TRACKING_URI``, else the embedded
    store), marks runs of dead processes KILLED and removes temporary files they left in the
    config's output and cache folders, opens the parent run in the pipeline's experiment with the
    flattened config as params and the provenance tags, and yields a :class:`FlowRun`; on exit
    logs ``wall_seconds``. Ctrl-C or SIGTERM ends the run (and its open child) as KILLED.

    Args:
        config: A :class:`~amc_tf.config.base.PipelineBase` config.
        tags: Extra tags of the parent run.
    """
    uri = configure(config.tracking.uri)
    reap_dead_runs()
    for folder in (config.output_dir, getattr(getattr(config, "data", None), "cache_dir", None)):
        if folder:
            remove_stale_temps(folder)
    experiment = config.experiment
    started = time.perf_counter()
    with parent_run(experiment, config.name, config, tags=tags) as run:
        out = Path(config.output_dir) / run.info.run_id
        out.mkdir(parents=True, exist_ok=True)
        yield FlowRun(run.info.run_id, experiment, uri, out, started)
        log_metrics({"wall_seconds": time.perf_counter() - started})


def log_result(result: Any, artifact: str | None = None, *, step: int | None = None) -> None:
    """Log a typed :class:`~amc_tf.results.Result`: its ``metrics()`` and, if ``artifact`` is
    given, its ``to_json()`` as that JSON artifact."""
    log_metrics(result.metrics(), step=step)
    if artifact:
        log_json(result.to_json(), artifact)


@contextlib.contextmanager
def child_run(
    stage: str,
    *,
    parent_run_id: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
) -> Iterator[Any]:
    """A nested run for one stage.

    Args:
        stage: Stage name (the child run's name and ``stage`` tag).
        parent_run_id: The parent run (default: the active run of this thread). Pass it
            explicitly from Prefect tasks, which may run in another thread.
        params: Stage-specific params.
        tags: Extra tags.
    """
    mlflow = _mlflow()
    if parent_run_id is not None:
        parent = mlflow.get_run(parent_run_id)
    else:
        parent = mlflow.active_run()
        parent_run_id = parent.info.run_id if parent is not None else None
    all_tags = {"stage": stage}
    if parent is not None:
        for key in ("git_commit", "config_hash", "data_fingerprint", "prefect_flow_run_id", "seed"):
            value = parent.data.tags.get(key)
            if value:
                all_tags[key] = value
    all_tags.update(owner_tags())
    all_tags.update(tags or {})
    exp_id = parent.info.experiment_id if parent is not None else None
    active = retry_locked(mlflow.start_run)(
        run_name=stage, nested=True, tags=all_tags, parent_run_id=parent_run_id, experiment_id=exp_id
    )
    with _killed_on_interrupt(active.info.run_id), active as run:
        if params:
            retry_locked(mlflow.log_params)({k: _clean_param(v) for k, v in params.items()})
        yield run


def set_tags(tags: dict[str, str]) -> None:
    retry_locked(_mlflow().set_tags)(tags)


def log_metrics(metrics: dict[str, float], step: int | None = None) -> None:
    """Log finite scalar metrics (metric names are sanitised to MLflow's allowed characters)."""
    import math

    clean = {}
    for key, value in metrics.items():
        value = float(value)
        if math.isfinite(value):
            clean[re.sub(r"[^A-Za-z0-9_\-./ ]", "_", key)] = value
    if clean:
        retry_locked(_mlflow().log_metrics)(clean, step=step)


def log_json(obj: Any, artifact_file: str) -> None:
    """Log a JSON-able object (numpy scalars/arrays allowed) as an artifact file."""
    from amc_tf.io import write_json

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(artifact_file).name
        write_json(path, obj)
        sub = str(Path(artifact_file).parent) if Path(artifact_file).parent != Path(".") else None
        _mlflow().log_artifact(str(path), artifact_path=sub)


def log_text(text: str, artifact_file: str, *, local_dir: str | Path | None = None) -> None:
    """Log ``text`` as an artifact file; also keep it as ``local_dir/<name>`` (written atomically)."""
    from amc_tf.io import atomic_path

    if local_dir is None:
        _mlflow().log_text(text, artifact_file)
        return
    path = Path(local_dir) / Path(artifact_file).name
    with atomic_path(path, suffix=path.suffix) as tmp:
        tmp.write_text(text)
    log_artifact(path)


def log_figure(fig: Any, artifact_file: str) -> None:
    """Log a matplotlib figure as a PNG artifact and close it."""
    import matplotlib.pyplot as plt

    try:
        _mlflow().log_figure(fig, artifact_file)
    finally:
        plt.close(fig)


def log_artifact(path: str | Path, artifact_path: str | None = None) -> None:
    _mlflow().log_artifact(str(path), artifact_path=artifact_path)


def log_history(history: dict[str, list[float]]) -> None:
    """Log a Keras training history as per-epoch metrics (step = epoch)."""
    for epoch in range(len(next(iter(history.values()), []))):
        log_metrics({k: v[epoch] for k, v in history.items()}, step=epoch)


def log_figures(figures: dict[str, Any]) -> None:
    """Log ``{artifact file: matplotlib figure}`` as PNG artifacts (each figure is closed)."""
    for name, fig in figures.items():
        log_figure(fig, name)
