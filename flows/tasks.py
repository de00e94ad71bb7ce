"""Tasks shared by the classifier flows: the data stage, the logging of a trained model, and one
model's robustness report as a child run."""

from __future__ import annotations

from typing import Any

from prefect import task

from amc_tf.classifier import cached, stages
from amc_tf.classifier.figures import training_figures
from amc_tf.classifier.results import DataResult, TrainedModel
from amc_tf.tracking import models, runs


@task(name="data")
def data_task(config: Any, parent_run_id: str, progress: bool = True) -> DataResult:
    """Generate (or reuse from the cache) the dataset of ``config.data``; log its size, manifest
    and fingerprint in a child run."""
    with runs.child_run("data", parent_run_id=parent_run_id):
        data = stages.load_data(config.data, progress=progress)
        runs.set_tags(data.tags())
        runs.log_result(data)
        runs.log_json(data.manifest, "data_manifest.json")
        return data


def log_trained(config: Any, model: Any, trained: TrainedModel, title: str) -> TrainedModel:
    """In the active child run: the record's metrics, the training curves, and the model itself
    (logged and registered as ``<config.name>-<role>`` when the config says so)."""
    runs.log_result(trained)
    if trained.fit is not None:
        runs.log_history(trained.fit.history)
        runs.log_figures(training_figures(trained.fit.history, title))
    registered = f"{config.name}-{trained.model_name if trained.role == 'model' else trained.role}"
    return trained.with_uri(models.log_model(model, trained.role, config.tracking, registered))


def cache_tag(hit: bool) -> str:
    """The ``stage_cache`` tag value of a child run."""
    return "hit" if hit else "miss"


def robustness_child(config: Any, data: DataResult, role: str, path: str, pid: str, out: str) -> Any:
    """The robustness report (``config.robustness``) of the model at ``path`` as child run
    ``robustness-<role>``: stage-cached, its curves as per-PNR series, its figures."""
    from amc_tf.evaluation.robustness_plots import report_figures

    ds = stages.evaluation_split(config.data, data.path, config.split, config.seed)
    with runs.child_run(f"robustness-{role}", parent_run_id=pid, tags={"model_role": role}):
        report, hit = cached.robustness(config, stages.load(path), data, ds, f"{out}/robustness_{role}.json")
        runs.set_tags({"stage_cache": cache_tag(hit)})
        runs.log_result(report, f"robustness_{role}.json")
        for step, values in report.curve_series().items():
            runs.log_metrics(values, step=step)
        runs.log_figures(report_figures(report))
        return report
