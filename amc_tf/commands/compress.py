"""``amc-tf bench nettrim`` (registered on ``bench_app`` in ``amc_tf/cli.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from amc_tf.errors import ConfigError
from amc_tf.io import write_json


def bench_nettrim_command(
    out: Path = typer.Option(..., "--out", "-o", help="JSON file to write (atomically)."),
    model: Path | None = typer.Option(
        None, "--model", help="Trained VT-CNN2 .keras file (default: train one briefly, cached)."
    ),
    samples: int = typer.Option(3000, "--samples", help="Training windows P whose activations constrain Net-Trim."),
    eta: float = typer.Option(0.06, "--eta", help="Epsilon gain: eps = eta * ||Y||_F."),
    max_iter: int = typer.Option(100, "--max-iter", help="ADMM iteration cap."),
    epochs: int = typer.Option(8, "--epochs", help="Training epochs when no --model is given."),
    windows_per_key: int = typer.Option(250, "--windows-per-key", help="Synthetic windows per (class, SNR)."),
    seed: int = typer.Option(0, "--seed", help="Seed of data, training and sampling."),
) -> None:
    """Net-Trim on VT-CNN2's dense1: seconds, sparsity, relative output error, accuracy at 10 dB before/after."""
    from amc_tf.benchmarks.nettrim import run_nettrim_benchmark

    if model is not None and not model.is_file():
        raise ConfigError(f"--model file not found: {model}")
    if samples < 2 or max_iter < 1 or epochs < 1 or windows_per_key < 2 or not eta > 0:
        raise ConfigError(
            "--samples >= 2, --max-iter >= 1, --epochs >= 1, --windows-per-key >= 2 and --eta > 0 are required"
        )
    result = run_nettrim_benchmark(
        model_path=str(model) if model else None,
        samples=samples,
        eta=eta,
        max_iter=max_iter,
        epochs=epochs,
        windows_per_key=windows_per_key,
        seed=seed,
    )
    write_json(out, result)
    typer.echo(json.dumps(result, indent=2))
