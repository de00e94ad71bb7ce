"""Flow ``compress``: data → teacher → f_S → distil (f_D) → Net-Trim (f_P) → TF-MOT (f_T) →
TFLite table → evaluate. One MLflow parent run, a child run per stage; each task is one call of
:mod:`amc_tf.classifier.stages` / :mod:`amc_tf.classifier.compression` and the logging of its
typed result. Tasks pass ``.keras`` paths under ``output_dir/<parent run id>/``."""

from __future__ import annotations

import dataclasses

from prefect import flow, task

from amc_tf.classifier import cached, compression, stages
from amc_tf.classifier.figures import comparison_figures
from amc_tf.classifier.results import DataResult, ModelComparison, NetTrimmed, SizeTable, TrainedModel
from amc_tf.config.compress import CompressConfig
from amc_tf.io import write_json
from amc_tf.results import PipelineResult
from amc_tf.tracking import runs
from flows.tasks import cache_tag, data_task, log_trained

CONFIG = CompressConfig


@task(name="train")
def train_task(config: CompressConfig, data: DataResult, role: str, parent: str, out: str) -> TrainedModel:
    """Train the teacher or the standard student f_S on hard labels."""
    teacher = role == "teacher"
    spec, recipe = (config.teacher, config.teacher_train) if teacher else (config.student, config.student_train)
    parts = stages.splits(config.data, data.path, config.seed)
    with runs.child_run(role, parent_run_id=parent):
        model, trained, hit = cached.train(config, role, spec, recipe, data, parts, f"{out}/{role}.keras")
        runs.set_tags({"stage_cache": cache_tag(hit)})
        return log_trained(config, model, trained, f"{role} ({model.name})")


@task(name="distill")
def distill_task(
    config: CompressConfig, data: DataResult, teacher: TrainedModel, parent: str, out: str
) -> TrainedModel:
    parts = stages.splits(config.data, data.path, config.seed)
    with runs.child_run("distill", parent_run_id=parent, params=config.distill.model_dump()):
        model, trained, hit = cached.distill(config, teacher, data, parts, f"{out}/f_D.keras")
        runs.set_tags({"stage_cache": cache_tag(hit)})
        return log_trained(config, model, trained, f"distillation ({config.distill.method})")


@task(name="nettrim")
def nettrim_task(
    config: CompressConfig, data: DataResult, distilled: TrainedModel, parent: str, out: str
) -> NetTrimmed:
    train = stages.splits(config.data, data.path, config.seed)["train"]
    with runs.child_run("nettrim", parent_run_id=parent, params=config.nettrim.model_dump()):
        model, trimmed, hit = cached.nettrim(config, distilled, data, train, f"{out}/f_P.keras")
        runs.set_tags({"stage_cache": cache_tag(hit)})
        runs.log_result(trimmed, "nettrim_report.json")
        return NetTrimmed(log_trained(config, model, trimmed.model, ""), trimmed.report)


@task(name="tfmot")
def tfmot_task(config: CompressConfig, data: DataResult, distilled: TrainedModel, target: float, parent: str, out: str):
    parts = stages.splits(config.data, data.path, config.seed)
    with runs.child_run("tfmot", parent_run_id=parent, params={**config.tfmot.model_dump(), "resolved_target": target}):
        model, trained, zeros, hit = cached.tfmot(config, target, distilled, data, parts, f"{out}/f_T.keras")
        runs.set_tags({"stage_cache": cache_tag(hit)})
        runs.log_metrics({"target_sparsity": target, "zeros_in_pruned_kernels": zeros})
        return log_trained(config, model, trained, "")


@task(name="export")
def export_task(config: CompressConfig, data: DataResult, models: dict[str, str], parent: str, out: str) -> SizeTable:
    test = stages.splits(config.data, data.path, config.seed)["test"]
    with runs.child_run("export", parent_run_id=parent):
        table = compression.size_table(config.export, models, test, out)
        runs.log_result(table, "size_table.json")
        runs.log_text(table.markdown + "\n", "size_table.md", local_dir=out)
        return table


@task(name="evaluate")
def evaluate_task(
    config: CompressConfig, data: DataResult, models: dict[str, str], parent: str, out: str
) -> ModelComparison:
    test = stages.splits(config.data, data.path, config.seed)["test"]
    with runs.child_run("evaluate", parent_run_id=parent):
        comparison = compression.compare_models(config.evaluation, models, test)
        runs.log_result(comparison, "classification_reports.json")
        runs.log_figures(comparison_figures(comparison, list(test.classes)))
        write_json(f"{out}/classification_reports.json", comparison.to_json())
        return comparison


@dataclasses.dataclass(frozen=True)
class CompressStages:
    """What the compress stages produced (the ``pipeline`` flow continues from it)."""

    data: DataResult
    models: dict[str, str]
    distilled: TrainedModel
    trimmed: NetTrimmed | None
    table: SizeTable | None
    comparison: ModelComparison

    def headline(self) -> dict[str, float]:
        """Clean accuracy of every model and f_P's gzip size over f_S's."""
        out = {f"{role}_accuracy": r["accuracy"] for role, r in self.comparison.summary().items()}
        if self.table is not None and self.table.gzip_ratio_fP_over_fS is not None:
            out["gzip_ratio_fP_over_fS"] = self.table.gzip_ratio_fP_over_fS
        return out

    def details(self) -> dict:
        return {
            "accuracy": self.comparison.summary(),
            "nettrim": self.trimmed and self.trimmed.report,
            "size_table": self.table and self.table.to_json(),
        }


def compress_stages(config: CompressConfig, pid: str, out: str) -> CompressStages:
    """data → teacher and f_S → distil → Net-Trim → TF-MOT → export → evaluate, as child runs of ``pid``."""
    data = data_task(config, pid)
    runs.set_tags({"data_fingerprint": data.fingerprint})
    teacher = train_task(config, data, "teacher", pid, out)
    models = {"teacher": teacher.path, "f_S": train_task(config, data, "f_S", pid, out).path}
    distilled = distill_task(config, data, teacher, pid, out)
    models["f_D"] = distilled.path
    trimmed = nettrim_task(config, data, distilled, pid, out) if config.nettrim is not None else None
    if trimmed is not None:
        models["f_P"] = trimmed.model.path
    if config.tfmot is not None:
        target = compression.tfmot_target(config.tfmot, trimmed.report["sparsity"] if trimmed else None)
        models["f_T"] = tfmot_task(config, data, distilled, target, pid, out).path
    table = export_task(config, data, models, pid, out) if config.export is not None else None
    comparison = evaluate_task(config, data, models, pid, out)
    return CompressStages(data, models, distilled, trimmed, table, comparison)


@flow(name="compress", log_prints=True)
def compress(config: CompressConfig) -> PipelineResult:
    """Run the compression pipeline for ``config``; return the parent run, size table and accuracies."""
    with runs.flow_run(config) as run:
        done = compress_stages(config, run.run_id, str(run.output_dir))
        headline = done.headline()
        runs.log_metrics(headline)
    return run.result(config.kind, headline, outputs=done.models, details=done.details())
