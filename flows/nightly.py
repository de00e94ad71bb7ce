"""Flow ``nightly``: the robustness regression suite on every listed registered model that carries
the config's alias, each compared with its last passing nightly and with ART on the same examples.

One parent run (tags ``suite_version``, ``alias``, ``regression``) with a ``data`` child and one
child per model (``nightly-<model>``: tags ``nightly_model``, ``model_version``, ``suite_version``,
``suite_digest``, ``regression``; metrics per curve and PNR; ``nightly_result.json``, the full
``robustness_report.json``, the findings). The parent logs ``nightly_report.md`` and
``nightly_report.png`` (tonight vs baseline). A model that passes under alias ``candidate`` is
promoted to ``champion`` when the config says so. Any finding fails the flow run with
:class:`~amc_tf.errors.RegressionFailed` (the CLI exits 3) after everything is logged.

``nightly_scheduled`` is the deployment's entry point (``prefect.yaml``, ``amc-tf nightly
serve``): it takes a config path, so a schedule's parameters stay plain JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

from prefect import flow, task
from prefect.task_runners import ThreadPoolTaskRunner

from amc_tf.classifier import stages
from amc_tf.classifier.results import DataResult
from amc_tf.config.nightly import NightlyConfig
from amc_tf.errors import RegressionFailed
from amc_tf.evaluation.regression import SuiteResult, Verdict, compare, regression_figure, regression_markdown
from amc_tf.evaluation.robustness import evaluate_robustness
from amc_tf.progress import say
from amc_tf.results import PipelineResult
from amc_tf.runtime import set_seed
from amc_tf.tracking import baselines, models, registry, runs
from flows import configured
from flows.tasks import data_task

CONFIG = NightlyConfig


@task(name="nightly-model")
def model_task(
    config: NightlyConfig,
    name: str,
    version: int,
    data: DataResult,
    parent_run_id: str,
    experiment_id: str,
    tracking_uri: str,
) -> Verdict:
    """Run the suite on ``name`` v``version``; compare; log the child run with its verdict. On a
    Dask worker it points MLflow at the parent's store first."""
    from mlflow import MlflowClient

    from amc_tf.tracking.store import configure

    configure(tracking_uri)
    client = MlflowClient()
    set_seed(config.seed)
    model = models.load_keras_model(f"models:/{name}/{version}")
    ds = stages.evaluation_split(config.data, data.path, config.split, config.seed)
    digest = config.suite_digest()
    tags = baselines.tags_of(name, version, config.suite_version, digest)
    found = baselines.last_passing(client, experiment_id, name, config.suite_version)
    with runs.child_run(f"nightly-{name}", parent_run_id=parent_run_id, tags=tags) as run:
        report = evaluate_robustness(model, ds, config.robustness, progress=True)
        tonight = SuiteResult.from_report(
            report,
            model=name,
            version=version,
            suite_version=config.suite_version,
            suite_digest=digest,
            data_fingerprint=data.fingerprint,
        )
        baseline_id, baseline = found if found is not None else (None, None)
        findings = compare(tonight, baseline, config.tolerances)
        verdict = Verdict(tonight, baseline, baseline_id, findings, run.info.run_id)
        runs.log_metrics({**tonight.metrics(), "findings": float(len(findings))})
        runs.log_json(tonight.to_json(), baselines.RESULT_ARTIFACT)
        runs.log_result(report, "robustness_report.json")
        runs.log_json([f.__dict__ for f in findings], "findings.json")
        runs.set_tags({"regression": baselines.PASSED if verdict.passed else baselines.FAILED})
        if baseline_id:
            runs.set_tags({"baseline_run_id": baseline_id, "baseline_version": str(baseline.version)})
    state = "pass" if verdict.passed else f"REGRESSED ({len(findings)} findings)"
    against = f"v{baseline.version} (run {baseline_id})" if baseline else "no baseline yet"
    say("nightly", f"{name} v{version}: {state}; worst case {tonight.worst_case} against {against}")
    return verdict


def _headline(verdict: Verdict) -> str:
    """One model's failure in a line: how many findings, and the largest one at a PNR."""
    at_pnr = [f for f in verdict.findings if f.pnr_db is not None] or verdict.findings
    worst = max(at_pnr, key=lambda f: abs(f.tonight - f.reference))
    t = verdict.tonight
    return f"{t.model} v{t.version}: {len(verdict.findings)} findings, the largest {worst.sentence()}"


def _promote(config: NightlyConfig, verdicts: list[Verdict], client) -> dict[str, str]:
    """Promote each passing candidate; returns model → what the registry did."""
    moves = {}
    if not (config.promote and config.alias == registry.CANDIDATE):
        return moves
    for v in verdicts:
        if v.passed:
            move = registry.promote(v.tonight.model, v.tonight.version, client)
            if move.before == move.after:
                say("nightly", f"{v.tonight.model} v{v.tonight.version} is already the champion")
                continue
            moves[v.tonight.model] = move.describe()
            client.set_tag(v.run_id, "promoted", f"champion=v{v.tonight.version}")
            say("nightly", f"promoted {move.describe()}")
    return moves


@flow(name="nightly", log_prints=True, task_runner=ThreadPoolTaskRunner(max_workers=1))
def nightly(config: NightlyConfig) -> PipelineResult:
    """Run the suite on every listed model; fail the run (after logging) when anything regressed."""
    from mlflow import MlflowClient

    tags = {"suite_version": config.suite_version, "alias": config.alias, "suite_digest": config.suite_digest()}
    with runs.flow_run(config, tags=tags) as run:
        client = MlflowClient()
        versions = registry.versions_with_alias(config.models, config.alias, client)
        experiment_id = client.get_run(run.run_id).info.experiment_id
        data = data_task(config, run.run_id, progress=False)
        runs.set_tags({"data_fingerprint": data.fingerprint})
        args = (data, run.run_id, experiment_id, run.tracking_uri)
        futures = [model_task.submit(config, n, v, *args) for n, v in versions.items()]  # the flow's task runner
        verdicts = [f.result() for f in futures]
        failed = [v for v in verdicts if not v.passed]
        markdown = regression_markdown(verdicts, suite_version=config.suite_version, alias=config.alias)
        runs.log_text(markdown, "nightly_report.md", local_dir=run.output_dir)
        figure_path = Path(run.output_dir) / "nightly_report.png"
        regression_figure(verdicts).savefig(figure_path, dpi=110)
        runs.log_artifact(figure_path)
        moves = _promote(config, verdicts, client)
        summary = {v.tonight.model: {"version": v.tonight.version, "passed": v.passed} for v in verdicts}
        runs.log_json({"models": summary, "promoted": moves}, "nightly_summary.json")
        runs.log_metrics({"models_passed": float(len(verdicts) - len(failed)), "models_failed": float(len(failed))})
        runs.set_tags({"regression": baselines.FAILED if failed else baselines.PASSED})
        if failed:
            shown = "; ".join(_headline(v) for v in failed)
            report = Path(run.output_dir) / "nightly_report.md"
            raise RegressionFailed(f"nightly regression in run {run.run_id}: {shown} (report: {report})")
    headline = {"models_passed": float(len(verdicts)), "models_failed": 0.0}
    outputs = {"report_path": str(Path(run.output_dir) / "nightly_report.md"), "figure_path": str(figure_path)}
    details = {"models": summary, "promoted": moves}
    return run.result(config.kind, headline, outputs=outputs, details=details)


@flow(name="nightly-scheduled", log_prints=True)
def nightly_scheduled(config_path: str = "configs/nightly.yaml", overrides: list[str] | None = None) -> dict:
    """The deployment's entry point: load the suite config at ``config_path`` and run ``nightly``
    as a subflow with the config's task runner (parameters not re-validated: in the runner's
    process the flow module is loaded from its path, where Prefect cannot rebuild a parameter
    model of the typed config)."""
    from amc_tf.config.pipelines import load_pipeline

    config = load_pipeline(config_path, overrides, kind="nightly")
    result = configured(nightly, config, validate_parameters=False)(config)
    return json.loads(json.dumps(result.to_json(), default=str))
