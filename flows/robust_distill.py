"""Flow ``robust_distill``: MCformer teacher → adversarial training (robust teacher) → compact
student, naturally trained → AT / ARD / KD / adversarial attention distillation from it → white-box
FGM and PGD on every model (native, ART on the chosen ones) → the transferability matrix → the
summary table, the attention-map picture and the edge-cost table (issue 15).

One MLflow parent run, a child run per stage; each task is one call of the library
(:mod:`amc_tf.classifier.cached`, :mod:`amc_tf.defenses.defend_stages`,
:mod:`amc_tf.defenses.robust_distill`, :mod:`amc_tf.evaluation.transfer`) and the logging of its
typed result. Tasks pass ``.keras`` paths under ``output_dir/<parent run id>/``; every training
and attack sweep goes through the stage cache.
"""

from __future__ import annotations

from prefect import flow, task
from prefect.task_runners import ThreadPoolTaskRunner

from amc_tf.classifier import cached, stages
from amc_tf.classifier.results import DataResult, TrainedModel
from amc_tf.config.robust_distill import ClassifierSpec, RobustDistillConfig
from amc_tf.evaluation.robustness_report import RobustnessReport
from amc_tf.results import PipelineResult
from amc_tf.tracking import models, runs
from flows.tasks import cache_tag, data_task, log_trained, robustness_child


def _data_key(config: RobustDistillConfig, data: DataResult) -> dict:
    return {"data": data.fingerprint, "split": config.data.split}


@task(name="train")
def train_task(config: RobustDistillConfig, data: DataResult, role: str, spec: ClassifierSpec, pid: str, out: str):
    """Natural training of ``spec`` as ``role`` (stage-cached, logged and registered)."""
    parts = stages.splits(config.data, data.path, config.seed)
    with runs.child_run(role, parent_run_id=pid, params={"model": spec.model.name}):
        model, trained, hit = cached.train(config, role, spec.model, spec.train, data, parts, f"{out}/{role}.keras")
        runs.set_tags({"stage_cache": cache_tag(hit)})
        return log_trained(config, model, trained, f"{role} ({model.name})")


@task(name="harden")
def harden_task(config: RobustDistillConfig, data: DataResult, source: TrainedModel, role: str, pid: str, out: str):
    """Online adversarial training of ``source`` (the robust teacher, the ``at`` student, a robust transfer model)."""
    from amc_tf.defenses.defend_stages import adversarially_train

    parts = stages.splits(config.data, data.path, config.seed)
    recipe = config.adversarial
    mix = " + ".join(f"{e.attack.name} {e.fraction:g}" for e in recipe.mix)
    with runs.child_run(
        role, parent_run_id=pid, params={"source": source.role, "mix": mix, "budget": str(recipe.budget)}
    ):
        model, record, hit = adversarially_train(
            stages.load(source.path),
            source.role,
            role,
            parts,
            recipe,
            seed=config.seed,
            cache=cached.cache_of(config),
            data_key=_data_key(config, data),
            out_path=f"{out}/{role}.keras",
        )
        runs.set_tags({"stage_cache": cache_tag(hit)})
        runs.log_result(record, f"adversarial_{role}.json")
        runs.log_history(record.training["history"])
        models.log_model(model, role, config.tracking, f"{config.name}-{role}")
        return record.path


@task(name="distill")
def distill_task(
    config: RobustDistillConfig, data: DataResult, method: str, student: str, teacher: str, pid: str, out: str
) -> str:
    """The ``method`` student (``ard``, ``kd``, ``attention``) from the natural student at
    ``student`` and the robust teacher at ``teacher``."""
    from amc_tf.defenses.robust_distill import cached_distill_student

    role = f"student_{method}"
    parts = stages.splits(config.data, data.path, config.seed)
    params = {"method": method, **config.distill.model_dump(mode="json"), "budget": str(config.adversarial.budget)}
    with runs.child_run(role, parent_run_id=pid, params=params):
        model, record, hit = cached_distill_student(
            method,
            stages.load(student),
            stages.load(teacher),
            parts,
            config.adversarial,
            config.distill,
            seed=config.seed,
            cache=cached.cache_of(config),
            data_key={**_data_key(config, data), "split_seed": config.seed},
            out_path=f"{out}/{role}.keras",
        )
        runs.set_tags({"stage_cache": cache_tag(hit)})
        runs.log_result(record, f"training_{role}.json")
        runs.log_history(record.history)
        models.log_model(model, role, config.tracking, f"{config.name}-{role}")
        return f"{out}/{role}.keras"


@task(name="robustness")
def robustness_task(config: RobustDistillConfig, data: DataResult, role: str, path: str, pid: str, out: str):
    """White-box FGM and PGD on the model at ``path`` (ART's twins for the ``art_models``)."""
    run_config = config.model_copy(update={"robustness": config.robustness_for(role)})
    return robustness_child(run_config, data, role, path, pid, out)


@task(name="transfer")
def transfer_task(config: RobustDistillConfig, data: DataResult, paths: dict[str, str], pid: str, out: str):
    """The transferability matrix over every model of the run (sources × targets)."""
    from amc_tf.evaluation.transfer import transferability_figure, transferability_matrix

    ds = stages.evaluation_split(config.data, data.path, config.split, config.seed)
    windows = ds.subset(_at_snr(ds, config.robustness.snr_db, config.transfer.n_examples, config.seed))
    params = {**config.transfer.model_dump(mode="json"), "snr_db": config.robustness.snr_db}
    with runs.child_run("transfer", parent_run_id=pid, params=params):
        loaded = {role: stages.load(path) for role, path in paths.items()}
        result = transferability_matrix(
            loaded,
            windows.x,
            windows.y,
            windows.snr,
            attack=config.transfer.attack,
            pnr_db=config.transfer.pnr_db,
            seed=config.seed,
        )
        runs.log_result(result, "transfer_matrix.json")
        runs.log_artifact(transferability_figure(result, f"{out}/transfer_matrix.png"))
        return result


@task(name="report")
def report_task(
    config: RobustDistillConfig, data: DataResult, reports: dict[str, RobustnessReport], paths: dict, pid: str, out: str
):
    """The summary table, the attention-map picture and the edge-cost table."""
    from amc_tf.attacks.budgets import Budget
    from amc_tf.attacks.registry import build_attack
    from amc_tf.defenses.robust_distill_report import attention_figure, distill_table
    from amc_tf.export.table import format_table, size_row

    attacks = tuple(spec.name for spec in config.robustness.attacks)
    pgd_first = tuple(sorted(attacks, key=lambda a: not a.startswith("pgd")))
    ds = stages.evaluation_split(config.data, data.path, config.split, config.seed)
    at_snr = ds.subset(_at_snr(ds, config.robustness.snr_db, config.robustness.n_examples, config.seed))
    with runs.child_run("report", parent_run_id=pid):
        table = distill_table(
            reports, pgd_first, min_pnr_db=config.report_min_pnr_db, clean_tolerance=config.clean_tolerance
        )
        runs.log_result(table, "robust_distill_table.json")
        runs.log_text(table.markdown, "robust_distill_table.md", local_dir=out)
        shown = [r for r in ("teacher_adv", "student_attention", "student_at") if r in paths]
        loaded = {role: stages.load(paths[role]) for role in shown}
        student = loaded.get("student_attention") or loaded[shown[-1]]
        pgd = build_attack(config.transfer.attack, student, budget=Budget.pnr(min(config.robustness.pnr_db)))
        x, y = at_snr.x[:1], at_snr.y[:1]
        x_adv = pgd.generate(x, y, snr=at_snr.snr[:1])
        runs.log_figures({"attention_maps.png": attention_figure(loaded, x[0], x_adv[0])})
        edge_roles = ["teacher_adv", "student_attention", *[s.model.name for s in config.transfer_models]]
        rows = [
            size_row(
                role,
                stages.load(paths[role]),
                f"{out}/{role}.tflite",
                at_snr.x,
                at_snr.y,
                repeats=config.latency_repeats,
            )
            for role in edge_roles
            if role in paths
        ]
        edge = format_table(rows, accuracy_label=f"TFLite acc at {config.robustness.snr_db} dB")
        runs.log_json([r.to_dict() for r in rows], "edge_cost.json")
        runs.log_text(edge + "\n", "edge_cost.md", local_dir=out)
        return table, edge


def _at_snr(ds, snr_db: int, n: int, seed: int):
    """Indices of up to ``n`` windows of ``ds`` at ``snr_db``, drawn with ``seed``."""
    import numpy as np

    from amc_tf.errors import ConfigError

    idx = np.flatnonzero(ds.snr == snr_db)
    if not len(idx):
        raise ConfigError(f"the evaluation split has no windows at {snr_db} dB (its SNRs: {sorted(set(ds.snr))})")
    return np.sort(np.random.default_rng(seed).permutation(idx)[:n])


@flow(name="robust_distill", log_prints=True, task_runner=ThreadPoolTaskRunner(max_workers=1))
def robust_distill(config: RobustDistillConfig) -> PipelineResult:
    """Run the robust-distillation pipeline for ``config``; return the parent run and the table."""
    with runs.flow_run(config) as run:
        pid, out = run.run_id, str(run.output_dir)
        data = data_task(config, pid)
        runs.set_tags({"data_fingerprint": data.fingerprint})
        teacher = train_task(config, data, "teacher", config.teacher, pid, out)
        natural = train_task(config, data, "student_natural", config.student, pid, out)
        paths = {"teacher": teacher.path, "teacher_adv": harden_task(config, data, teacher, "teacher_adv", pid, out)}
        paths["student_natural"] = natural.path
        for role in config.student_roles()[1:]:
            method = role.removeprefix("student_")
            if method == "at":
                paths[role] = harden_task(config, data, natural, role, pid, out)
            else:
                paths[role] = distill_task(config, data, method, natural.path, paths["teacher_adv"], pid, out)
        for spec in config.transfer_models:
            source = train_task(config, data, spec.model.name, spec, pid, out)
            paths[spec.model.name] = source.path
            if spec.robust:
                paths[f"{spec.model.name}_adv"] = harden_task(config, data, source, f"{spec.model.name}_adv", pid, out)
        pending = {role: robustness_task.submit(config, data, role, path, pid, out) for role, path in paths.items()}
        reports = {role: future.result() for role, future in pending.items()}  # fan out on the task runner
        transfer = transfer_task(config, data, paths, pid, out)
        table, edge = report_task(config, data, reports, paths, pid, out)
        headline = table.metrics()
        runs.log_metrics(headline)
        runs.log_text(table.markdown + "\n" + edge + "\n", "robust_distill_summary.md")
    details = {"table": table.to_json(), "transfer": transfer.to_json(), "edge": edge}
    return run.result(config.kind, headline, outputs=paths, details=details)
