"""Flow ``train_classifier``: data → train → evaluate, one MLflow parent run with a child run per
stage. Each task is a child run, one stage call of :mod:`amc_tf.classifier.stages` and the
logging of its typed result; tasks pass file paths."""

from __future__ import annotations

from prefect import flow, task

from amc_tf.classifier import cached, stages
from amc_tf.classifier.figures import evaluation_figures
from amc_tf.classifier.results import DataResult, Evaluation, TrainedModel
from amc_tf.config.classifier import TrainClassifierConfig
from amc_tf.results import PipelineResult
from amc_tf.tracking import runs
from flows.tasks import data_task, log_trained

CONFIG = TrainClassifierConfig


@task(name="train")
def train_task(config: TrainClassifierConfig, data: DataResult, parent_run_id: str, out_dir: str) -> TrainedModel:
    """Build and train the configured model with early stopping (or reuse it from the stage
    cache, or resume it from its last checkpoint); save, log and register it."""
    parts = stages.splits(config.data, data.path, config.seed)
    with runs.child_run("train", parent_run_id=parent_run_id):
        model, trained, hit = cached.train(
            config, "model", config.model, config.train, data, parts, f"{out_dir}/model.keras"
        )
        runs.set_tags({"stage_cache": "hit" if hit else "miss"})
        return log_trained(config, model, trained, f"{model.name} training")


@task(name="evaluate")
def evaluate_task(
    config: TrainClassifierConfig, data: DataResult, trained: TrainedModel, parent_run_id: str
) -> Evaluation:
    """Evaluate on the test split: accuracy per SNR, P/R/F1 per class, confusion matrices."""
    test = stages.splits(config.data, data.path, config.seed)["test"]
    with runs.child_run("evaluate", parent_run_id=parent_run_id):
        evaluation = stages.evaluate(stages.load(trained.path), test, config.evaluation)
        runs.log_result(evaluation, "classification_report.json")
        runs.log_figures(evaluation_figures(trained.model_name, evaluation))
        return evaluation


@flow(name="train_classifier", log_prints=True)
def train_classifier(config: TrainClassifierConfig) -> PipelineResult:
    """Run data → train → evaluate for ``config``; return the parent run and headline numbers."""
    with runs.flow_run(config) as run:
        data = data_task(config, run.run_id)
        runs.set_tags({"data_fingerprint": data.fingerprint})
        trained = train_task(config, data, run.run_id, str(run.output_dir))
        evaluation = evaluate_task(config, data, trained, run.run_id)
        headline = {"test_accuracy": evaluation.report.accuracy, evaluation.headline_name: evaluation.headline}
        runs.log_metrics(headline)
        if trained.uri:
            runs.set_tags({"model_uri": trained.uri})
    outputs = {"model_path": trained.path, "model_uri": trained.uri}
    details = {"accuracy_by_snr": evaluation.report.accuracy_by_snr, "cache_hit": data.cache_hit}
    return run.result(config.kind, headline, outputs=outputs, details=details)
