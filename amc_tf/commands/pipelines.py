"""``amc-tf run CONFIG`` and ``amc-tf attack``: validate a pipeline config, run its flow, and say
where the result is recorded. The CLI is the one layer of ``amc_tf`` that imports ``flows``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from amc_tf.config.base import read_yaml
from amc_tf.errors import CheckFailed, ConfigError

app = typer.Typer()


def _report(result) -> None:
    """Print a flow's result summary, its MLflow run and the ``mlflow ui`` command that shows it."""
    from amc_tf.tracking.store import run_url, ui_command

    summary = {k: v for k, v in result.to_json().items() if k != "details"}
    typer.echo(json.dumps(summary, indent=2, default=str))
    typer.echo(f"\nfinished {result.kind} in {result.wall_seconds:.0f} s")
    typer.echo(f"MLflow run id: {result.run_id}  (experiment '{result.experiment}')")
    typer.echo("See it with:")
    typer.echo(f"  {ui_command(result.tracking_uri)}")
    import mlflow

    experiment = mlflow.get_experiment_by_name(result.experiment)
    if experiment is not None:
        typer.echo(f"  then open {run_url(experiment.experiment_id, result.run_id)}")
    if result.headline.get("audit_ok") == 0.0:
        raise CheckFailed(
            f"budget audit failed in run {result.run_id}: a perturbation is over its budget or not finite "
            "(robustness_report.json lists each point's audit)"
        )


def _preflight(cfg) -> None:
    """Checks that need the store but not Prefect: the model an evaluation names must exist and
    load. An unknown run id, URI or alias fails first, without TensorFlow, in about two seconds;
    then the model is loaded (its archive checked), before Prefect starts or a flow runs."""
    model_uri = getattr(cfg, "model_uri", None)
    if model_uri:
        from amc_tf.tracking.models import check_model_uri, load_keras_model
        from amc_tf.tracking.store import tracking_uri

        check_model_uri(model_uri, tracking_uri=tracking_uri(cfg.tracking.uri))  # points MLflow at the store
        load_keras_model(model_uri)


@app.command("run")
def run_command(
    config: Path = typer.Argument(..., help="Pipeline YAML (its 'kind' picks the flow), e.g. configs/quickstart.yaml"),
    set_: list[str] = typer.Option(None, "--set", help="Override a config value, e.g. --set train.max_minutes=60"),
) -> None:
    """Run the flow of CONFIG (no Prefect server needed); print its MLflow run id and how to see it."""
    read_yaml(config, set_)  # a missing file, bad YAML or bad override fails before TensorFlow loads
    from amc_tf.config.pipelines import load_pipeline

    cfg = load_pipeline(config, set_)  # no TensorFlow yet: fails in a second on a typo or bad value
    _preflight(cfg)
    import flows  # Prefect and TensorFlow: only for a config that passed every check

    _report(flows.run_pipeline(cfg))


@app.command("attack")
def attack_command(
    model_uri: str = typer.Option(
        ..., "--model-uri", help="MLflow model URI (runs:/<id>/model, models:/<name>@<alias>) or a training run id"
    ),
    config: Path = typer.Option(
        None, "--config", help="YAML of kind evaluate_robustness, e.g. configs/robustness_quickstart.yaml"
    ),
    set_: list[str] = typer.Option(None, "--set", help="Override a config value, e.g. --set robustness.n_examples=256"),
) -> None:
    """Attack a trained classifier (native and ART, over a PNR grid); record the report in MLflow."""
    if config is None and set_:
        raise ConfigError("--set needs --config (give the YAML the overrides apply to)")
    if config is not None:
        read_yaml(config, set_)  # cheap checks before TensorFlow loads
    from amc_tf.config.base import validate_config
    from amc_tf.config.classifier import EvaluateRobustnessConfig
    from amc_tf.config.pipelines import load_pipeline

    if config is not None:
        cfg = load_pipeline(config, set_, kind="evaluate_robustness")
    else:
        cfg = validate_config(EvaluateRobustnessConfig, {})
    data = {**cfg.model_dump(mode="json"), "model_uri": model_uri}
    cfg = validate_config(EvaluateRobustnessConfig, data, "--model-uri")
    _preflight(cfg)
    import flows  # Prefect: only once the model is known to load

    _report(flows.run_pipeline(cfg))
