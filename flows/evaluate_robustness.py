"""Flow ``evaluate_robustness``: a trained classifier against the attack suite, one MLflow record.

One parent run (tagged with the evaluated model's URI) and two child runs: ``data`` (the
dataset, from the cache by config hash) and ``robustness`` (per-attack PNR curves, native and
ART, worst case, per-SNR breakdown, budget audit — metrics, ``robustness_report.json`` and
figures). The science is :func:`amc_tf.evaluation.robustness.evaluate_robustness`.
"""

from __future__ import annotations

from prefect import flow, task

from amc_tf.classifier import cached, stages
from amc_tf.classifier.results import DataResult
from amc_tf.config.classifier import EvaluateRobustnessConfig
from amc_tf.errors import ConfigError
from amc_tf.evaluation.robustness_plots import report_figures
from amc_tf.evaluation.robustness_report import RobustnessReport
from amc_tf.progress import say
from amc_tf.results import PipelineResult
from amc_tf.runtime import set_seed
from amc_tf.tracking import models, runs
from flows.tasks import data_task

CONFIG = EvaluateRobustnessConfig


@task(name="robustness")
def robustness_task(
    config: EvaluateRobustnessConfig, data: DataResult, parent_run_id: str, out_dir: str
) -> RobustnessReport:
    """Attack the model; log the report (metrics, per-PNR series, JSON, figures) in a child run."""
    set_seed(config.seed)
    model = models.load_keras_model(config.model_uri)
    ds = stages.evaluation_split(config.data, data.path, config.split, config.seed)
    with runs.child_run("robustness", parent_run_id=parent_run_id, tags={"model_uri": config.model_uri}):
        report, hit = cached.robustness(config, model, data, ds, f"{out_dir}/robustness_report.json")
        runs.set_tags({"stage_cache": "hit" if hit else "miss"})
        runs.log_result(report, "robustness_report.json")
        for step, values in report.curve_series().items():
            runs.log_metrics(values, step=step)
        runs.log_figures(report_figures(report))
        worst, grid = report.worst_case, report.pnr_db
        say(
            "robustness",
            f"clean {report.clean_accuracy:.3f}; worst case {worst[0]:.3f} at {grid[0]:g} dB ... "
            f"{worst[-1]:.3f} at {grid[-1]:g} dB; audit {'ok' if report.audit_ok else 'FAILED'}",
        )
        return report


@flow(name="evaluate_robustness", log_prints=True)
def evaluate_robustness(config: EvaluateRobustnessConfig) -> PipelineResult:
    """Run data → robustness for ``config``; return the parent run and the headline numbers."""
    if config.model_uri is None:
        raise ConfigError("evaluate_robustness needs model_uri (an MLflow model URI or a training run id)")
    with runs.flow_run(config, tags={"model_uri": config.model_uri}) as run:
        data = data_task(config, run.run_id, progress=False)
        runs.set_tags({"data_fingerprint": data.fingerprint})
        report = robustness_task(config, data, run.run_id, str(run.output_dir))
        headline = {"clean_accuracy": report.clean_accuracy, "audit_ok": float(report.audit_ok)}
        runs.log_metrics(headline)
    outputs = {"report_path": f"{run.output_dir}/robustness_report.json", "model_uri": config.model_uri}
    details = {"worst_case": dict(zip(report.pnr_db, report.worst_case)), "warnings": report.warnings}
    return run.result(config.kind, headline, outputs=outputs, details=details)
