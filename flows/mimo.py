"""Flow ``mimo``: data → M1/M2 → adversarial training → attacks → transfer → sum SE. Each task is a
child run, one stage of :mod:`amc_tf.mimo.stages` and the logging of its typed result."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task

from amc_tf.config.mimo import MimoPipelineConfig
from amc_tf.mimo import stages
from amc_tf.mimo.model_sets import load_models
from amc_tf.mimo.plots import plot_margins, plot_success_rates, plot_sum_se_cdf, plot_transfer
from amc_tf.mimo.stage_results import AttackSweeps, Datasets, Margins, ModelSet, SumSE, TransferResult
from amc_tf.results import PipelineResult
from amc_tf.tracking import models as tracked_models
from amc_tf.tracking import runs

CONFIG = MimoPipelineConfig


@task(name="data")
def data_task(config: MimoPipelineConfig, run_id: str) -> Datasets:
    """Generate (or reuse) the train and test splits."""
    with runs.child_run("data", parent_run_id=run_id):
        data = stages.prepare_data(config)
        runs.log_result(data)
        runs.set_tags(data.tags())
        return data


@task(name="shard")
def shard_task(spec_json: dict, index: int, path: str) -> float:
    """One dataset shard, computed wherever the task runner puts it (one BLAS thread)."""
    from amc_tf.mimo.dataset import generate_shard

    return generate_shard(spec_json, index, path, single_thread=True)


def _fan_out_shards(config: MimoPipelineConfig) -> None:
    """With ``scale_out.task_runner: dask``, compute every missing shard of both splits as a task
    on the cluster; the data task then only checks them and writes the manifests."""
    if config.scale_out.task_runner != "dask":
        return
    futures = []
    for split in ("train", "test"):
        spec_json, path, todo = stages.pending_shards(config, split)
        if todo:
            print(f"mimo {split}: {len(todo)} shards on the task runner")
            futures += [shard_task.submit(spec_json, i, path) for i in todo]
    for future in futures:  # both splits' shards in flight at once
        future.result()


@task(name="train")
def train_task(config: MimoPipelineConfig, data: Datasets, run_id: str) -> ModelSet:
    """Train M1/M2 per precoder and cell; log the validation losses and the model files."""
    with runs.child_run("train", parent_run_id=run_id):
        return _log_model_set(config, stages.train_standard(config, data.train))


@task(name="adversarial_training")
def adversarial_task(config: MimoPipelineConfig, data: Datasets, standard: ModelSet, run_id: str) -> ModelSet:
    """Adversarial training of every model; the robust models are logged and registered."""
    params = {
        "attack": config.adversarial.attack.value,
        "objective": config.adversarial.objective_label(),
        "eps": config.adversarial.eps_m,
        "eps_unit": config.attack.eps_unit.value,
    }
    with runs.child_run("adversarial_training", parent_run_id=run_id, params=params):
        return _log_model_set(config, stages.train_robust(config, data.train, standard), alias="robust")


@task(name="attacks")
def attack_task(
    config: MimoPipelineConfig, data: Datasets, sets: list[ModelSet], run_id: str
) -> tuple[AttackSweeps, Margins]:
    """White-box sweeps on standard and robust models, and the margins behind them."""
    with runs.child_run("attacks", parent_run_id=run_id):
        sweeps = stages.robustness(config, data.test, sets)
        runs.log_result(sweeps, "robustness.json")
        runs.log_figure(plot_success_rates(sweeps), "success_rates.png")
        margins = stages.budget_margins(config, data.test, sets)
        runs.log_result(margins, "margins.json")
        runs.log_figure(plot_margins(margins), "margins.png")
        if margins.wide.sweeps:
            runs.log_figure(plot_success_rates(margins.wide, log_eps=True), "success_wide_eps.png")
        return sweeps, margins


@task(name="transfer")
def transfer_task(config: MimoPipelineConfig, data: Datasets, standard: ModelSet, run_id: str) -> TransferResult:
    """Black-box transfer M1 ↔ M2 per precoder."""
    with runs.child_run("transfer", parent_run_id=run_id):
        result = stages.transfer(config, data.test, standard)
        runs.log_result(result, "transfer.json")
        if result.matrices:
            runs.log_figure(plot_transfer(result, "PGDM"), "transfer.png")
        return result


@task(name="sum_se")
def sumse_task(
    config: MimoPipelineConfig, data: Datasets, standard: ModelSet, robust: ModelSet | None, run_id: str
) -> SumSE:
    """Sum-SE CDFs: optimal, DNN, FGSM without and with eq. 14's re-scaling, adversarial training
    + re-scaling (and the same for PGDM)."""
    attack = config.attack
    params = {
        "eps": attack.sumse_eps_m,
        "eps_unit": attack.eps_unit.value,
        "objective": attack.sumse_objective.value,
        "enforce_budget": attack.sumse_enforce_budget,
    }
    with runs.child_run("sum_se", parent_run_id=run_id, params=params):
        result = stages.sum_se_view(config, data.test, standard, robust)
        runs.log_result(result)
        runs.log_json(result.summary, "sum_se_summary.json")
        runs.log_json(result.to_json()["samples"], "sum_se_samples.json")
        runs.log_figure(plot_sum_se_cdf(result), "sum_se_cdf.png")
        return result


def _log_model_set(config: MimoPipelineConfig, result: ModelSet, alias: str | None = None) -> ModelSet:
    """Log a model set's metrics and files; with ``alias``, log (and register) each model too."""
    runs.log_result(result)
    for path in sorted(Path(result.path).iterdir()):
        runs.log_artifact(path, f"models/{result.training}")
    if alias and config.tracking.log_models:
        for key, model in sorted(load_models(result.path).items(), key=lambda kv: kv[0].name):
            uri = tracked_models.log_keras_model(model, key.name)
            if config.tracking.register_models:
                tracked_models.register_model(uri, f"{config.name}-{key.name}", alias=alias)
    return result


@flow(name="mimo", log_prints=True)
def mimo(config: MimoPipelineConfig) -> PipelineResult:
    """Run the power-allocation robustness pipeline for ``config``."""
    with runs.flow_run(config) as run:
        _fan_out_shards(config)
        data = data_task(config, run.run_id)
        runs.set_tags({"data_fingerprint": data.train.fingerprint})
        standard = train_task(config, data, run.run_id)
        robust = adversarial_task(config, data, standard, run.run_id) if config.adversarial.enabled else None
        sweeps, margins = attack_task(config, data, [standard, *([robust] if robust else [])], run.run_id)
        transfer = transfer_task(config, data, standard, run.run_id)
        sum_se = sumse_task(config, data, standard, robust, run.run_id)
        runs.log_metrics(sweeps.metrics())
    outputs = {
        "train_data": data.train.path,
        "test_data": data.test.path,
        "standard_models": standard.path,
        "adversarial_models": robust.path if robust else None,
    }
    details = {
        "data": data.to_json(),
        "robustness": sweeps.to_json(),
        "margins": margins.metrics(),
        "transfer": transfer.to_json(),
        "sum_se": sum_se.summary,
    }
    return run.result(config.kind, sweeps.metrics(), outputs=outputs, details=details)
