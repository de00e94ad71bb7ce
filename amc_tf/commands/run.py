"""``amc-tf run CONFIG`` and ``amc-tf data generate``: validate a config, run its flow, and say
where the result is recorded."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from amc_tf.errors import ConfigError


def run(
    config: Path = typer.Argument(..., help="Pipeline YAML (its 'kind' picks the flow), e.g. configs/quickstart.yaml"),
    set_: list[str] = typer.Option(
        None, "--set", help="Override a config value, e.g. --set train.max_minutes=60 (repeatable)"
    ),
) -> None:
    """Run the flow configured by CONFIG without a Prefect server; print the MLflow run id and
    the exact `mlflow ui` command that shows it."""
    import flows
    from amc_tf.config.base import load_config

    kind = flows.read_kind(config)
    flow_fn, config_cls = flows.load_flow(kind)
    cfg = load_config(config, config_cls, overrides=set_)  # fails before any work on a typo or bad value
    t0 = time.perf_counter()
    result = flow_fn(cfg)
    wall = time.perf_counter() - t0
    summary = {k: v for k, v in result.items() if not isinstance(v, dict)}
    typer.echo(json.dumps(summary, indent=2, default=str))
    from amc_tf.tracking.runs import configure, ui_command

    uri = result.get("tracking_uri") or configure(cfg.tracking.uri)
    typer.echo(f"\nfinished {kind} in {wall:.0f} s")
    typer.echo(f"MLflow run id: {result['run_id']}  (experiment '{result.get('experiment', kind)}')")
    typer.echo("See it with:")
    typer.echo(f"  {ui_command(uri)}")


def generate(
    config: Path = typer.Argument(..., help="A pipeline YAML with a data.synthetic section, or a bare generator YAML"),
    out: Path = typer.Option(..., "--out", "-o", help="Output dataset (.npz), written atomically"),
) -> None:
    """Generate a synthetic RadioML-style dataset from a config and write it as an amc-tf dataset."""
    import yaml

    from amc_tf.config.base import validate_config
    from amc_tf.config.data import SyntheticConfig
    from amc_tf.data.dataset import save_dataset
    from amc_tf.data.synthetic import generate as gen

    if out.suffix != ".npz":
        raise ConfigError(f"--out must end in .npz, got {out}")
    if not config.is_file():
        raise ConfigError(f"config file not found: {config}")
    try:
        raw = yaml.safe_load(config.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"config file {config} is not valid YAML: {err}") from None
    section = raw
    source = str(config)
    if isinstance(raw, dict) and "kind" in raw:
        section = (raw.get("data") or {}).get("synthetic") or {}
        source = f"{config} (data.synthetic)"
    cfg = validate_config(SyntheticConfig, section, source)
    t0 = time.perf_counter()
    ds = gen(cfg, progress=True)
    save_dataset(ds, out)
    secs = time.perf_counter() - t0
    typer.echo(
        f"wrote {out}: {len(ds)} windows, {len(ds.classes)} classes, {len(ds.snrs)} SNRs, L={ds.window} ({secs:.1f} s)"
    )
    typer.echo(f"fingerprint {ds.fingerprint()}")
