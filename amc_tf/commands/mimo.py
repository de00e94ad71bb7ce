"""``amc-tf mimo generate`` and ``amc-tf mimo margins`` (the app is mounted as ``mimo`` in ``amc_tf/cli.py``).

Errors are :class:`~amc_tf.errors.AmcError` subclasses, printed by ``amc_tf.cli.main`` as one
``error: ...`` line with exit code 2.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from amc_tf.config.base import load_config
from amc_tf.config.mimo import GainsConfig, MimoPipelineConfig, precoder
from amc_tf.errors import ConfigError
from amc_tf.io import write_json

app = typer.Typer(no_args_is_help=True, help="Massive-MIMO power allocation: datasets and attack margins.")


@app.command("generate")
def generate_command(
    setups: int = typer.Option(..., "--setups", "-n", min=1, help="Number of setups (UE drops) to generate."),
    config: Path | None = typer.Option(
        None, "--config", "-c", help="A mimo pipeline YAML (system, gains, shard size, workers, seed)."
    ),
    split: str = typer.Option("train", "--split", help="Split name (part of the seed and of the cache key)."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Dataset directory (default: <cache_dir>/<split>-<spec hash>)."
    ),
    precoders: str | None = typer.Option(None, "--precoders", help="Comma-separated subset of MR,MMMSE."),
    workers: int | None = typer.Option(
        None, "--workers", "-w", min=1, help="Worker processes (default: the config's)."
    ),
    shard_size: int | None = typer.Option(
        None, "--shard-size", min=1, help="Setups per shard (default: the config's)."
    ),
    seed: int | None = typer.Option(None, "--seed", min=0, help="Seed (default: the config's)."),
    keep_gains: bool = typer.Option(
        False, "--keep-gains", help="Also store the a, b terms (needed for SE evaluation)."
    ),
) -> None:
    """Generate (or resume) a power-allocation dataset: positions and optimal max-product powers."""
    from amc_tf.mimo import dataset as ds_mod

    cfg = load_config(config, MimoPipelineConfig) if config else MimoPipelineConfig()
    gains = cfg.gains
    if precoders:
        names = tuple(precoder(p.strip()) for p in precoders.split(",") if p.strip())
        if not names:
            raise ConfigError(f"--precoders lists no precoder: {precoders!r}")
        gains = GainsConfig(**{**gains.model_dump(), "precoders": names})
    spec = ds_mod.DatasetSpec(
        system=cfg.system,
        gains=gains,
        n_setups=setups,
        shard_size=shard_size or cfg.data.shard_size,
        seed=cfg.seed if seed is None else seed,
        split=split,
        keep_gains=keep_gains,
    )
    path = out or ds_mod.dataset_dir(cfg.data.cache_dir, spec)
    start = time.perf_counter()
    ds_mod.generate(spec, path, workers=workers or cfg.data.workers, progress=True)
    seconds = time.perf_counter() - start
    fingerprint = ds_mod.read_manifest(path)["fingerprint"]
    names = ", ".join(p.value for p in gains.precoders)
    typer.echo(
        f"wrote {path}: {setups} setups in {spec.n_shards} shards ({names}), {seconds:.1f} s this run, "
        f"fingerprint {fingerprint[:16]}"
    )


@app.command("margins")
def margins_command(
    config: Path = typer.Argument(..., help="A mimo pipeline YAML (e.g. configs/mimo_quickstart.yaml)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Also write the JSON here."),
) -> None:
    """Why the cell attacks succeed or not: margins to Pmax, gradient sizes and the wide-eps sweep.

    Uses the flow's cached datasets and model sets (generating and training them first if the flow
    has not run with this config) and prints the ``margins.json`` the ``attacks`` stage logs, with
    its headline numbers.
    """
    from amc_tf.mimo import stages

    cfg = load_config(config, MimoPipelineConfig)
    data = stages.prepare_data(cfg)
    sets = [stages.train_standard(cfg, data.train)]
    if cfg.adversarial.enabled:
        sets.append(stages.train_robust(cfg, data.train, sets[0]))
    margins = stages.budget_margins(cfg, data.test, sets)
    result = {"config": str(config), "headline": margins.metrics(), **margins.to_json()}
    if out:
        write_json(out, result)
    typer.echo(json.dumps(result, indent=1))
