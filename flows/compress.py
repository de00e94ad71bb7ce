"""Flow ``compress``: data → teacher → f_S → distil (f_D) → Net-Trim (f_P) → TF-MOT (f_T) →
TFLite table → evaluate. One MLflow parent run, a child run per stage; each task is one call of
:mod:`amc_tf.classifier.stages` / :mod:`amc_tf.classifier.compression` and the logging of its
typed result. Tasks pass ``.keras`` paths under ``output_dir/<parent run id>/``."""

from __future__ import annotations

from prefect import flow, task

from amc_tf.classifier import compression, stages
from amc_tf.classifier.figures import comparison_figures, training_figures
from amc_tf.classifier.results import DataResult, ModelComparison, NetTrimmed, SizeTable, TrainedModel
from amc_tf.config.compress import CompressConfig
from amc_tf.io import write_json
from amc_tf.results import PipelineResult
from amc_tf.tracking import runs

CONFIG = CompressConfig


def _log_trained(config: CompressConfig, model, trained: TrainedModel, title: str) -> TrainedModel:
    runs.log_result(trained)
    if trained.fit is not None:
        runs.log_history(trained.fit.history)
        runs.log_figures(training_figures(trained.fit.history, title))
    return trained.with_uri(runs.log_model(model, trained.role, config.tracking, f"{config.name}-{trained.role}"))


@task(name="data")
def data_task(config: CompressConfig, parent_run_id: str) -> DataResult:
    with runs.child_run("data", parent_run_id=parent_run_id):
        data = stages.load_data(config.data, progress=True)
        runs.set_tags(data.tags())
        runs.log_result(data)
        return data


@task(name="train")
def train_task(config: CompressConfig, data: DataResult, role: str, parent_run_id: str, out_dir: str) -> TrainedModel:
    """Train the teacher or the standard student f_S on hard labels."""
    spec, recipe = (
        (config.teacher, config.teacher_train) if role == "teacher" else (config.student, config.student_train)
    )
    parts = stages.splits(config.data, data.path, config.seed)
    with runs.child_run(role, parent_run_id=parent_run_id):
        model, trained = stages.train(spec, recipe, parts, f"{out_dir}/{role}.keras", seed=config.seed, role=role)
        return _log_trained(config, model, trained, f"{role} ({model.name})")


@task(name="distill")
def distill_task(
    config: CompressConfig, data: DataResult, teacher: TrainedModel, parent_run_id: str, out_dir: str
) -> TrainedModel:
    parts = stages.splits(config.data, data.path, config.seed)
    with runs.child_run("distill", parent_run_id=parent_run_id, params=config.distill.model_dump()):
        model, trained = compression.distill(
            config.student,
            config.student_train,
            config.distill,
            teacher.path,
            parts,
            f"{out_dir}/f_D.keras",
            seed=config.seed,
        )
        return _log_trained(config, model, trained, f"distillation ({config.distill.method})")


@task(name="nettrim")
def nettrim_task(
    config: CompressConfig, data: DataResult, distilled: TrainedModel, parent_run_id: str, out_dir: str
) -> NetTrimmed:
    train = stages.splits(config.data, data.path, config.seed)["train"]
    with runs.child_run("nettrim", parent_run_id=parent_run_id, params=config.nettrim.model_dump()):
        model, trimmed = compression.nettrim(
            config.nettrim, distilled.path, train, f"{out_dir}/f_P.keras", seed=config.seed
        )
        runs.log_result(trimmed)
        runs.log_json(trimmed.report, "nettrim_report.json")
        return NetTrimmed(_log_trained(config, model, trimmed.model, ""), trimmed.report)


@task(name="tfmot")
def tfmot_task(
    config: CompressConfig, data: DataResult, distilled: TrainedModel, target: float, parent_run_id: str, out_dir: str
) -> TrainedModel:
    parts = stages.splits(config.data, data.path, config.seed)
    with runs.child_run(
        "tfmot", parent_run_id=parent_run_id, params={**config.tfmot.model_dump(), "resolved_target": target}
    ):
        model, trained, zeros = compression.tfmot(
            config.tfmot, target, distilled.path, parts, f"{out_dir}/f_T.keras", seed=config.seed
        )
        runs.log_metrics({"target_sparsity": target, "zeros_in_pruned_kernels": zeros})
        return _log_trained(config, model, trained, "")


@task(name="export")
def export_task(
    config: CompressConfig, data: DataResult, models: dict[str, str], parent_run_id: str, out_dir: str
) -> SizeTable:
    test = stages.splits(config.data, data.path, config.seed)["test"]
    with runs.child_run("export", parent_run_id=parent_run_id):
        table = compression.size_table(config.export, models, test, out_dir)
        runs.log_result(table, "size_table.json")
        runs.log_text(table.markdown + "\n", "size_table.md", local_dir=out_dir)
        return table


@task(name="evaluate")
def evaluate_task(
    config: CompressConfig, data: DataResult, models: dict[str, str], parent_run_id: str, out_dir: str
) -> ModelComparison:
    test = stages.splits(config.data, data.path, config.seed)["test"]
    with runs.child_run("evaluate", parent_run_id=parent_run_id):
        comparison = compression.compare_models(config.evaluation, models, test)
        runs.log_result(comparison, "classification_reports.json")
        runs.log_figures(comparison_figures(comparison, list(test.classes)))
        write_json(f"{out_dir}/classification_reports.json", comparison.to_json())
        return comparison


@flow(name="compress", log_prints=True)
def compress(config: CompressConfig) -> PipelineResult:
    """Run the compression pipeline for ``config``; return the parent run, size table and accuracies."""
    with runs.flow_run(config) as run:
        pid, out = run.run_id, str(run.output_dir)
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
        headline = {f"{role}_accuracy": r["accuracy"] for role, r in comparison.summary().items()}
        if table is not None and table.gzip_ratio_fP_over_fS is not None:
            headline["gzip_ratio_fP_over_fS"] = table.gzip_ratio_fP_over_fS
        runs.log_metrics(headline)
    return PipelineResult(
        kind=config.kind,
        run_id=run.run_id,
        experiment=run.experiment,
        tracking_uri=run.tracking_uri,
        output_dir=out,
        wall_seconds=run.elapsed(),
        headline=headline,
        outputs=models,
        details={
            "accuracy": comparison.summary(),
            "nettrim": trimmed.report if trimmed else None,
            "size_table": table.to_json() if table else None,
        },
    )
