"""``amc-tf attack``: run the ``evaluate_robustness`` flow on a trained model.

``--model-uri`` is an MLflow model URI or a training run id; ``--config`` a YAML of kind
``evaluate_robustness`` (default: the quickstart data and the default attack suite); ``--set``
overrides single values. The config is validated before any work.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from amc_tf.errors import ConfigError


def attack_command(
    model_uri: str = typer.Option(
        ..., "--model-uri", help="MLflow model URI (runs:/<id>/model, models:/<name>@<alias>) or a training run id"
    ),
    config: Path = typer.Option(
        None, "--config", help="YAML of kind evaluate_robustness, e.g. configs/robustness_quickstart.yaml"
    ),
    set_: list[str] = typer.Option(
        None, "--set", help="Override a config value, e.g. --set robustness.n_examples=256 (repeatable)"
    ),
) -> None:
    """Attack a trained classifier (native attacks and ART baselines over a PNR grid) and record
    the robustness report in MLflow; prints the run id and how to see it."""
    from amc_tf.config.base import load_config, validate_config
    from amc_tf.config.classifier import EvaluateRobustnessConfig

    if config is not None:
        cfg = load_config(config, EvaluateRobustnessConfig, overrides=set_)
    elif set_:
        raise ConfigError("--set needs --config (give the YAML the overrides apply to)")
    else:
        cfg = validate_config(EvaluateRobustnessConfig, {})
    if cfg.kind != "evaluate_robustness":
        raise ConfigError(f"--config must be of kind evaluate_robustness, got {cfg.kind!r}")
    cfg = validate_config(
        EvaluateRobustnessConfig, {**cfg.model_dump(mode="json"), "model_uri": model_uri}, "--model-uri"
    )
    from flows.evaluate_robustness import evaluate_robustness

    t0 = time.perf_counter()
    result = evaluate_robustness(cfg)
    typer.echo(json.dumps({k: v for k, v in result.items()}, indent=2, default=str))
    from amc_tf.tracking.runs import configure, ui_command

    uri = result.get("tracking_uri") or configure(cfg.tracking.uri)
    typer.echo(f"\nfinished evaluate_robustness in {time.perf_counter() - t0:.0f} s")
    typer.echo(f"MLflow run id: {result['run_id']}  (experiment '{result['experiment']}')")
    typer.echo("See it with:")
    typer.echo(f"  {ui_command(uri)}")
