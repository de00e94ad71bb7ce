"""``amc-tf mimo generate`` and ``amc-tf bench mimo`` (registered in ``amc_tf/cli.py``).

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

mimo_app = typer.Typer(no_args_is_help=True, help="Massive-MIMO power allocation: datasets.")


@mimo_app.command("generate")
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
    manifest = json.loads((Path(path) / "manifest.json").read_text())
    typer.echo(
        f"wrote {path}: {setups} setups in {spec.n_shards} shards ({', '.join(p.value for p in gains.precoders)}), {seconds:.1f} s this run, fingerprint {manifest['fingerprint'][:16]}"
    )


def bench_command(
    out: Path = typer.Option(..., "--out", "-o", help="Write the JSON result here."),
    mr_setups: int = typer.Option(400, "--mr-setups", min=1, help="MR setups to generate (also the solver batch)."),
    mmmse_setups: int = typer.Option(16, "--mmmse-setups", min=1, help="M-MMSE setups to generate."),
    cvxpy_setups: int = typer.Option(10, "--cvxpy-setups", min=1, help="Setups solved one by one with cvxpy's GP."),
    workers: int = typer.Option(2, "--workers", "-w", min=1, help="Worker processes for generation."),
    antennas: int = typer.Option(100, "--antennas", min=1, help="M."),
    realizations: int = typer.Option(100, "--realizations", min=2, help="Monte-Carlo realisations per setup (M-MMSE)."),
) -> None:
    """Benchmark dataset generation (MR, M-MMSE) and the batched solver against cvxpy's GP."""
    from amc_tf.benchmarks.mimo import bench_mimo

    result = bench_mimo(
        mr_setups=mr_setups,
        mmmse_setups=mmmse_setups,
        cvxpy_setups=cvxpy_setups,
        workers=workers,
        antennas=antennas,
        realizations=realizations,
    )
    write_json(out, result)
    typer.echo(json.dumps(result, indent=2))
