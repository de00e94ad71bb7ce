"""``amc-tf report claims``: the claims report (:mod:`amc_tf.evaluation.claims`) regenerated from
the runs in an MLflow store, written as Markdown and HTML and logged as an MLflow run."""

from __future__ import annotations

from pathlib import Path

import typer

from amc_tf.errors import ConfigError

app = typer.Typer(help="Reports regenerated from the MLflow store.", no_args_is_help=True)

#: The experiment the report runs are logged in.
EXPERIMENT = "claims"


def _experiment_ids(client, names: list[str] | None) -> list[str] | None:
    if not names:
        return None
    ids = []
    for name in names:
        exp = client.get_experiment_by_name(name)
        if exp is None:
            known = sorted(e.name for e in client.search_experiments())
            raise ConfigError(f"no MLflow experiment named {name!r} in this store; known: {known}")
        ids.append(exp.experiment_id)
    return ids


def _log(report, evidence, md: Path, html: Path) -> str:
    """Log the report as a run of experiment ``claims``; returns its run id."""
    import mlflow

    import amc_tf
    from amc_tf.tracking.runs import git_commit
    from amc_tf.tracking.store import ensure_experiment

    tags = {"git_commit": git_commit(), "code_version": amc_tf.__version__, "report": "claims"}
    tags["mlflow.note.content"] = "Claims report: every headline claim of the five papers beside our number."
    with mlflow.start_run(experiment_id=ensure_experiment(EXPERIMENT), run_name="claims", tags=tags) as run:
        mlflow.log_params({f"source_{kind}": ev.run_id for kind, ev in evidence.items()})
        mlflow.log_metrics(report.metrics())
        mlflow.log_artifact(str(md))
        mlflow.log_artifact(str(html))
        return run.info.run_id


@app.command("claims")
def claims_command(
    out: Path = typer.Option(Path("reports"), "--out", help="Folder for claims.md and claims.html"),
    experiment: list[str] = typer.Option(None, "--experiment", help="Read only these experiments (default: all)"),
    tracking_uri: str = typer.Option(
        None, "--tracking-uri", help="MLflow store (default: $MLFLOW_TRACKING_URI or ./mlruns)"
    ),
    log: bool = typer.Option(True, "--log/--no-log", help="Also log the report as a run of experiment 'claims'"),
) -> None:
    """Regenerate the claims report from the latest finished run of every pipeline kind."""
    from mlflow import MlflowClient

    from amc_tf.evaluation.claims import collect_evidence, evaluate_claims
    from amc_tf.io import atomic_path
    from amc_tf.tracking.store import configure

    uri = configure(tracking_uri)
    client = MlflowClient(tracking_uri=uri)
    evidence = collect_evidence(client, _experiment_ids(client, experiment))
    report = evaluate_claims(evidence)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"md": out / "claims.md", "html": out / "claims.html"}
    for kind, text in (("md", report.markdown), ("html", report.html)):
        with atomic_path(paths[kind], suffix=f".{kind}") as tmp:
            tmp.write_text(text)
    typer.echo(report.summary())
    for kind, ev in sorted(evidence.items()):
        typer.echo(f"  {kind}: run {ev.run_id} ({ev.config})")
    typer.echo(f"wrote {paths['md']} and {paths['html']}")
    if log:
        typer.echo(
            f"logged as MLflow run {_log(report, evidence, paths['md'], paths['html'])} (experiment '{EXPERIMENT}')"
        )
