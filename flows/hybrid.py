"""Flow ``hybrid``: data → f_S → CAT, LS-GNA and AT fine-tunings → neural rejection and the
auto-encoder detector → five defences under adaptive and non-adaptive attack → curves and the
feature-space picture. One MLflow parent run, a child run per stage; each task is one call of
:mod:`amc_tf.defenses.hybrid` and the logging of its result. Tasks pass ``.keras`` paths."""

from __future__ import annotations

from prefect import flow, task

from amc_tf.classifier import cached, stages
from amc_tf.classifier.results import DataResult
from amc_tf.config.hybrid import HybridConfig
from amc_tf.defenses.hybrid import DEFENCES, HARDENINGS, HybridSettings, build_defences, evaluate_defence, harden_one
from amc_tf.evaluation.rejection import RejectionReport
from amc_tf.evaluation.rejection_plots import plot_feature_pca, plot_rejection_curves
from amc_tf.results import PipelineResult
from amc_tf.tracking import models, runs
from flows.tasks import data_task, log_trained

CONFIG = HybridConfig


def settings_of(config: HybridConfig) -> HybridSettings:
    """The library's settings from the pipeline config."""
    fields = ("cat", "ls_gna", "adversarial", "rejection", "autoencoder", "attack")
    return HybridSettings(**{f: getattr(config, f) for f in fields}, pnr_db=tuple(config.pnr_db))


def _parts(config: HybridConfig, data: DataResult):
    parts = stages.splits(config.data, data.path, config.seed)
    test = parts["test"].select(snrs=[config.snr_db])
    return parts["train"], stages.validation(parts), test.subset(slice(0, min(config.n_examples, len(test))))


@task(name="f_S")
def base_task(config: HybridConfig, data: DataResult, pid: str, out: str) -> str:
    """Train f_S (stage-cached), log and register it."""
    parts = stages.splits(config.data, data.path, config.seed)
    with runs.child_run("f_S", parent_run_id=pid):
        model, trained, hit = cached.train(config, "f_S", config.model, config.train, data, parts, f"{out}/f_S.keras")
        runs.set_tags({"stage_cache": "hit" if hit else "miss"})
        return log_trained(config, model, trained, "f_S training").path


@task(name="harden")
def harden_task(config: HybridConfig, data: DataResult, kind: str, base: str, pid: str, out: str) -> str:
    """One fine-tuning of f_S (CAT, LS-GNA or AT); the model is logged and registered."""
    train, val, _ = _parts(config, data)
    with runs.child_run(kind, parent_run_id=pid):
        model, result = harden_one(kind, stages.load(base), train, val, settings_of(config), config.seed)
        runs.log_result(result)
        path = stages.save(model, f"{out}/{kind}.keras")
        models.log_model(model, kind, config.tracking, f"{config.name}-{kind}")
        return str(path)


@task(name="defences")
def defences_task(config: HybridConfig, data: DataResult, paths: dict[str, str], pid: str) -> RejectionReport:
    """Fit the rejectors, attack the five defences, log curves, metrics and figures."""
    train, val, test = _parts(config, data)
    settings = settings_of(config)
    loaded = {kind: stages.load(path) for kind, path in paths.items()}
    with runs.child_run("defences", parent_run_id=pid, params={"n_examples": len(test), "snr_db": config.snr_db}):
        defences = build_defences(loaded, train, val, settings, config.seed)
        curves = [evaluate_defence(defences[name], name, test, settings) for name in DEFENCES]
        report = RejectionReport(curves)
        runs.log_json(report.to_json(), "rejection_report.json")
        runs.log_metrics(report.metrics())
        runs.log_figure(plot_rejection_curves(report), "rejection_curves.png")
        panels = [
            (name, defences[d].features(test.x), test.y) for name, d in (("CAT", "htrd"), ("LS-GNA", "ls_gna_nr"))
        ]
        runs.log_figure(plot_feature_pca(panels, test.classes, seed=config.seed), "feature_pca_cat_vs_ls_gna.png")
        return report


@flow(name="hybrid", log_prints=True)
def hybrid(config: HybridConfig) -> PipelineResult:
    """Run the hybrid-defence comparison for ``config``; return the parent run and headline numbers."""
    with runs.flow_run(config) as run:
        pid, out = run.run_id, str(run.output_dir)
        data = data_task(config, pid)
        runs.set_tags({"data_fingerprint": data.fingerprint})
        base = base_task(config, data, pid, out)
        paths = {kind: harden_task(config, data, kind, base, pid, out) for kind in HARDENINGS}
        report = defences_task(config, data, paths, pid)
        headline = {}
        for c in report.curves:
            headline[f"{c.defence}.clean_accuracy"] = c.clean_accuracy
            for p, w in zip(c.pnr_db, c.worst_accuracy):
                headline[f"{c.defence}.robust.pnr{p:g}"] = w
        runs.log_metrics(headline)
    return run.result(config.kind, headline, outputs=paths, details={"report": report.to_json()})
