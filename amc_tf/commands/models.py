"""``amc-tf models list|promote|rollback``: the registry's promotion ladder
(:mod:`amc_tf.tracking.registry`) from the command line."""

from __future__ import annotations

import datetime as dt

import typer

app = typer.Typer(help="Registered models and their candidate -> champion -> previous aliases.", no_args_is_help=True)

_URI = typer.Option(None, "--tracking-uri", help="MLflow store (default: $MLFLOW_TRACKING_URI or ./mlruns)")


def _client(tracking_uri: str | None):
    from mlflow import MlflowClient

    from amc_tf.tracking.store import configure

    return MlflowClient(tracking_uri=configure(tracking_uri))


@app.command("list")
def list_command(tracking_uri: str = _URI) -> None:
    """Every registered model: its versions (newest first), their aliases and source runs."""
    from amc_tf.tracking.registry import list_models

    rows = list_models(_client(tracking_uri))
    if not rows:
        typer.echo("no registered models in this store")
        return
    for row in rows:
        typer.echo(row.name)
        for v in row.versions:
            when = dt.datetime.fromtimestamp(v.created_ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M")
            tags = f"  [{', '.join(v.aliases)}]" if v.aliases else ""
            typer.echo(f"  v{v.version}  {when} UTC  run {v.run_id}{tags}")


@app.command("promote")
def promote_command(
    name: str = typer.Argument(..., help="Registered model name, e.g. pipeline_quick-f_S"),
    version: int = typer.Option(None, "--version", min=1, help="Version to promote (default: the candidate)"),
    tracking_uri: str = _URI,
) -> None:
    """Make a version (default: the candidate) the champion; the old champion becomes previous."""
    from amc_tf.tracking.registry import promote

    typer.echo(promote(name, version, _client(tracking_uri)).describe())


@app.command("rollback")
def rollback_command(
    name: str = typer.Argument(..., help="Registered model name"),
    tracking_uri: str = _URI,
) -> None:
    """Give champion back to the previous version."""
    from amc_tf.tracking.registry import rollback

    typer.echo(rollback(name, _client(tracking_uri)).describe())
