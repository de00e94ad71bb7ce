"""Flow ``defend``: f_S, f_D, f_P (compressed here or loaded) → adversarial training of each →
robustness of all six → Figs. 2–4, certified curves, paper table, registered models.

One MLflow parent run, a child run per stage; each task is one call of
:mod:`amc_tf.defenses.defend_stages`, :mod:`amc_tf.classifier.cached` or the compress flow's
tasks, and the logging of its typed result. Tasks pass ``.keras`` paths under
``output_dir/<parent run id>/``; every training and attack sweep goes through the stage cache.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from prefect import flow, task
from prefect.task_runners import ThreadPoolTaskRunner

from amc_tf.classifier import cached, stages
from amc_tf.classifier.results import DataResult
from amc_tf.config.defend import ROLES, SOURCES, DefendConfig, DefendMethod
from amc_tf.defenses.defend_figures import certified_figure, defend_figures
from amc_tf.defenses.defend_stages import DefendedModel, adversarially_train, certification_windows, certify_model
from amc_tf.defenses.defend_table import DefendTable, paper_table
from amc_tf.evaluation.robustness_report import RobustnessReport
from amc_tf.results import PipelineResult
from amc_tf.tracking import models, runs
from flows.compress import distill_task, nettrim_task, train_task
from flows.tasks import cache_tag, data_task, robustness_child

CONFIG = DefendConfig


def _mix(config) -> str:
    return " + ".join(f"{entry.attack.name} {entry.fraction:g}" for entry in config.mix)


def compressed_sources(config: DefendConfig, pid: str, out: str) -> tuple[DataResult, dict[str, str]]:
    """f_S, f_D and f_P by the compress flow's own tasks (stage-cached, logged and registered)."""
    inner = config.compress_config()
    data = data_task(inner, pid)
    teacher = train_task(inner, data, "teacher", pid, out)
    standard = train_task(inner, data, "f_S", pid, out)
    distilled = distill_task(inner, data, teacher, pid, out)
    trimmed = nettrim_task(inner, data, distilled, pid, out)
    return data, {"f_S": standard.path, "f_D": distilled.path, "f_P": trimmed.model.path}


@task(name="source")
def source_task(config: DefendConfig, role: str, pid: str, out: str) -> str:
    """Load source ``role`` from its URI, save it beside the run, log and register it."""
    uri = getattr(config.models, role)
    with runs.child_run(role, parent_run_id=pid, tags={"source_uri": uri}):
        model = models.load_keras_model(uri)
        path = stages.save(model, f"{out}/{role}.keras")
        models.log_model(model, role, config.tracking, f"{config.name}-{role}")
        return str(path)


@task(name="adversarial")
def adversarial_task(
    config: DefendConfig, data: DataResult, role: str, path: str, pid: str, out: str, method: DefendMethod | None = None
) -> DefendedModel:
    """Adversarially train the source at ``path`` (Fig. 4: with ``method``'s mix, not registered)."""
    recipe = config.adversarial if method is None else config.method_config(method)
    target = f"{role}_adv" if method is None else f"{role}_adv-{method.name}"
    parts = stages.splits(config.data, data.path, config.seed)
    params = {"source": role, "mode": recipe.mode, "mix": _mix(recipe), "budget": str(recipe.budget)}
    with runs.child_run(target, parent_run_id=pid, params={**params, "freeze": recipe.freeze}):
        key = {"data": data.fingerprint, "split": config.data.split}
        model, record, hit = adversarially_train(
            stages.load(path),
            role,
            target,
            parts,
            recipe,
            seed=config.seed,
            cache=cached.cache_of(config),
            data_key=key,
            out_path=f"{out}/{target}.keras",
        )
        runs.set_tags({"stage_cache": cache_tag(hit)})
        runs.log_result(record, f"adversarial_{target}.json")
        runs.log_history(record.training["history"])
        if method is not None:
            return record
        return record.with_uri(models.log_model(model, target, config.tracking, f"{config.name}-{target}"))


@task(name="robustness")
def robustness_task(
    config: DefendConfig, data: DataResult, role: str, path: str, pid: str, out: str, attacks: list[str] | None = None
) -> RobustnessReport:
    """The robustness report of the model at ``path`` (``attacks``: only those, for Fig. 4)."""
    if attacks is not None:
        config = config.model_copy(update={"robustness": config.robustness_for(attacks)})
    return robustness_child(config, data, role, path, pid, out)


@task(name="certify")
def certify_task(
    config: DefendConfig, data: DataResult, paths: dict[str, str], reports: dict, pid: str, out: str
) -> dict[str, dict]:
    """Randomized-smoothing certificates of ``config.certify_models``, plotted beside PGD and FGM."""
    ds = stages.evaluation_split(config.data, data.path, config.split, config.seed)
    windows = certification_windows(ds, config.robustness.snr_db, config.certify_examples, config.seed)
    summary = {}
    with runs.child_run("certify", parent_run_id=pid, params=config.certify.model_dump(mode="json")):
        for role in config.certify_models:
            result = certify_model(stages.load(paths[role]), windows, config.certify, seed=config.seed)
            runs.log_metrics({f"{role}_{k}": v for k, v in result.metrics().items()})
            runs.log_json(result.to_json(), f"certified_{role}.json")
            runs.log_artifact(certified_figure(role, result, reports[role], config.report, out))
            grid = reports[role].pnr_db
            summary[role] = {**result.summary(), "certified_accuracy": dict(zip(grid, result.certified_accuracy(grid)))}
    return summary


@task(name="report")
def report_task(config: DefendConfig, reports: dict, methods: dict, pid: str, out: str) -> DefendTable:
    """The paper table (Markdown + JSON) and Figs. 2–4."""
    with runs.child_run("report", parent_run_id=pid):
        table = paper_table(reports, config.report, methods)
        runs.log_result(table, "defend_table.json")
        runs.log_text(table.markdown, "defend_table.md", local_dir=out)
        runs.log_figures(defend_figures(reports, config.report, methods, reference=_mix(config.adversarial)))
        return table


@dataclasses.dataclass(frozen=True)
class DefendStages:
    """What the defence stages produced (models, reports, the paper table)."""

    paths: dict[str, str]
    defended: dict[str, DefendedModel]
    reports: dict[str, RobustnessReport]
    methods: dict[str, RobustnessReport]
    certified: dict[str, dict] | None
    table: DefendTable

    def headline(self) -> dict[str, float]:
        """The table's numbers (not its per-direction flags) and f_P's sparsity before/after AT."""
        out = {k: v for k, v in self.table.metrics().items() if not k.startswith("direction_")}
        out.update(
            {f"{role}_sparsity_{k}": v for role in ("f_P", "f_P_adv") for k, v in _sparsity(self.defended, role)}
        )
        return out

    def details(self, config: DefendConfig) -> dict:
        return {
            "table": self.table.to_json(),
            "adversarial": {role: record.to_json() for role, record in self.defended.items()},
            "worst_case": {role: dict(zip(r.pnr_db, r.worst_case)) for role, r in self.reports.items()},
            "methods": {name: r.curve(config.report.pgd_attack).accuracy for name, r in self.methods.items()},
            "certified": self.certified,
        }

    def outputs(self) -> dict[str, str]:
        return {**self.paths, **{f"{role}_uri": record.uri for role, record in self.defended.items()}}


def defend_stages(
    config: DefendConfig,
    data: DataResult,
    sources: dict[str, str],
    pid: str,
    out: str,
    attacks_of: Callable[[str], list[str] | None] = lambda role: None,
) -> DefendStages:
    """Adversarial training of the ``sources`` → robustness of the six (``attacks_of(role)``:
    only those attacks, None = the whole ``robustness`` section) → Fig. 4 → certification → table."""
    defended = {f"{role}_adv": adversarial_task(config, data, role, sources[role], pid, out) for role in SOURCES}
    paths = {**sources, **{role: record.path for role, record in defended.items()}}
    pending = {
        role: robustness_task.submit(config, data, role, paths[role], pid, out, attacks_of(role)) for role in ROLES
    }
    reports = {role: future.result() for role, future in pending.items()}  # fan out on the flow's task runner
    methods = {}
    for method in config.methods or []:
        record = adversarial_task(config, data, "f_S", paths["f_S"], pid, out, method)
        pgd = [config.report.pgd_attack]
        methods[method.name] = robustness_task(config, data, record.role, record.path, pid, out, pgd)
    certified = certify_task(config, data, paths, reports, pid, out) if config.certify is not None else None
    table = report_task(config, reports, methods, pid, out)
    runs.log_text(table.markdown, "defend_table.md")
    return DefendStages(paths, defended, reports, methods, certified, table)


@flow(name="defend", log_prints=True, task_runner=ThreadPoolTaskRunner(max_workers=1))
def defend(config: DefendConfig) -> PipelineResult:
    """Run the defence pipeline for ``config``; return the parent run, the table and the models."""
    with runs.flow_run(config) as run:
        pid, out = run.run_id, str(run.output_dir)
        if config.compress is not None:
            data, paths = compressed_sources(config, pid, out)
        else:
            data = data_task(config, pid)
            paths = {role: source_task(config, role, pid, out) for role in SOURCES}
        runs.set_tags({"data_fingerprint": data.fingerprint})
        done = defend_stages(config, data, paths, pid, out)
        headline = done.headline()
        runs.log_metrics(headline)
    return run.result(config.kind, headline, outputs=done.outputs(), details=done.details(config))


def _sparsity(defended: dict[str, DefendedModel], role: str):
    record = defended["f_P_adv"]
    return (record.sparsity_before if role == "f_P" else record.sparsity_after).items()
