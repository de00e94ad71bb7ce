"""Certification throughput against plain inference of the same model, measured in the same run (§3).

Certifying one window costs ``n0 + n`` forward passes of noisy copies; the anchor is plain batched
inference of that many windows, so ``native_over_anchor`` near 1 says the sampling adds nothing
but the forward passes. CPU figures are ratios; absolute windows/s count only on an idle machine
or a GPU. ``amc-tf bench smoothing --out F.json`` (:func:`command`) writes it as JSON; TensorFlow is
imported when the benchmark runs, not when the command line starts.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from amc_tf.errors import ConfigError
from amc_tf.io import write_json


def certification_throughput(
    model_name: str = "vtcnn2",
    *,
    n_examples: int = 8,
    n0: int = 100,
    n: int = 1_000,
    batch_size: int = 1_000,
    repeats: int = 3,
    seed: int = 0,
) -> dict[str, Any]:
    """Median certification throughput of a registry model (random weights, unit-power windows).

    Args:
        model_name: Registry model (11 classes, windows of 128).
        n_examples: Windows certified per repeat.
        n0, n: Selection and estimation samples.
        batch_size: Noisy windows per forward pass.
        repeats: Timed repeats after one warm-up (medians are reported).
        seed: Seed of weights, windows and noise.

    Returns:
        JSON-able ``{"native_examples_per_s", "anchor_windows_per_s", "native_over_anchor", ...}``.

    Raises:
        ConfigError: bad sizes, sampling settings or model name.
    """
    if n_examples < 1 or repeats < 1:
        raise ConfigError(f"n_examples and repeats must be >= 1, got {n_examples} and {repeats}")
    from pydantic import ValidationError

    from amc_tf.config.certify import SmoothingConfig

    try:
        config = SmoothingConfig(n0=n0, n=n, batch_size=batch_size)
    except ValidationError as err:
        raise ConfigError(f"bad smoothing settings: {err}") from None
    from amc_tf.defenses.smoothing import certify
    from amc_tf.models.inference import predict_batched
    from amc_tf.models.registry import build_model
    from amc_tf.runtime import set_seed

    set_seed(seed)
    model = build_model(model_name, 11, 128)
    g = np.random.default_rng(seed)
    x = (g.standard_normal((n_examples, 2, 128)) / np.sqrt(2)).astype(np.float32)
    y = g.integers(0, 11, n_examples)
    copies = np.repeat(x, n0 + n, axis=0)
    native, anchor = [], []
    for rep in range(repeats + 1):
        start = time.perf_counter()
        predict_batched(model, copies, batch_size)
        plain = time.perf_counter() - start
        result = certify(model, x, y, 10, config, seed=seed + rep, progress=False)
        if rep:
            native.append(result.examples_per_s)
            anchor.append(n_examples / plain)
    ratio = np.array(native) / np.array(anchor)
    return {
        "model": model_name,
        "n_examples": n_examples,
        "n0": n0,
        "n": n,
        "batch_size": batch_size,
        "repeats": repeats,
        "sigma": result.sigma,
        "native_examples_per_s": float(np.median(native)),
        "native_noisy_windows_per_s": float(np.median(native)) * (n0 + n),
        "anchor_windows_per_s": float(np.median(anchor)) * (n0 + n),
        "native_over_anchor": float(np.median(ratio)),
    }


def command(
    out: Annotated[Path, typer.Option("--out", help="JSON file to write.")],
    model: Annotated[str, typer.Option("--model", help="Registry model (11 classes, windows of 128).")] = "vtcnn2",
    n_examples: Annotated[int, typer.Option("--n-examples", help="Windows certified per repeat.")] = 8,
    n0: Annotated[int, typer.Option("--n0", help="Selection samples per window.")] = 100,
    n: Annotated[int, typer.Option("--n", help="Estimation samples per window.")] = 1_000,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Noisy windows per forward pass.")] = 1_000,
    repeats: Annotated[int, typer.Option("--repeats", help="Timed repeats after a warm-up (medians).")] = 3,
) -> None:
    """Randomized-smoothing certification throughput vs plain inference of as many windows."""
    result = certification_throughput(model, n_examples=n_examples, n0=n0, n=n, batch_size=batch_size, repeats=repeats)
    write_json(out, result)
    typer.echo(json.dumps(result, indent=2))


__all__ = ["certification_throughput", "command"]
