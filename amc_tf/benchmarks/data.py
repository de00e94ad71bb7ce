"""Dataset-generation throughput of the synthetic RadioML generator (windows per second).

``bench_data`` times :func:`amc_tf.data.synthetic.generate` on a full-grid config (every class
and SNR of the family, ``windows_per_key`` chosen so that the total reaches ``n_windows``) and
reports wall-clock throughput, plus the process CPU time (on a shared machine the wall figure
depends on the load; CPU seconds do much less). The CLI command ``amc-tf bench data`` writes the
result as JSON.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Annotated

import typer

from amc_tf.config.data import SyntheticConfig
from amc_tf.data.modulations import family as family_table
from amc_tf.errors import ConfigError
from amc_tf.io import write_json


def bench_data(n_windows: int = 220_000, family: str = "rml2016", seed: int = 0) -> dict:
    """Generate about ``n_windows`` windows of ``family`` and measure the rate.

    Args:
        n_windows: Target number of windows (rounded up to a whole number per (class, SNR) key).
        family: ``rml2016`` or ``rml2018``.
        seed: Generator seed.

    Returns:
        ``{"windows_per_s", "n_windows", "seconds", "family", "cpu_seconds", "window"}``.
    """
    fam = family_table(family)
    if n_windows < 1:
        raise ConfigError(f"n_windows must be >= 1, got {n_windows}")
    from amc_tf.data.synthetic import generate

    per_key = math.ceil(n_windows / (len(fam.classes) * len(fam.snrs)))
    cfg = SyntheticConfig(family=family, windows_per_key=per_key, seed=seed)
    cpu0, t0 = time.process_time(), time.perf_counter()
    ds = generate(cfg)
    seconds = time.perf_counter() - t0
    return {
        "windows_per_s": len(ds) / seconds,
        "n_windows": len(ds),
        "seconds": seconds,
        "family": family,
        "cpu_seconds": time.process_time() - cpu0,
        "window": ds.window,
    }


def command(
    out: Annotated[Path, typer.Option("--out", help="JSON file to write.")],
    n_windows: Annotated[int, typer.Option("--n-windows", help="Windows to generate.")] = 220_000,
    family: Annotated[str, typer.Option("--family", help="rml2016 or rml2018.")] = "rml2016",
) -> None:
    """Synthetic-generator throughput: writes {"windows_per_s": ..., "n_windows": ...}."""
    result = bench_data(n_windows=n_windows, family=family)
    write_json(out, result)
    typer.echo(json.dumps(result, indent=2))
