"""``amc-tf bench mimo-stages``: wall and CPU time per stage of MR dataset generation (design §3).

Runs the library's own simulator on ``setups`` MR setups (closed form) in this process with
``threads`` BLAS threads and times each stage: geometry (drops, validation, wrapped links, gains),
the local-scattering correlation rows, the MR closed form, and the batched solver. The closed
form is broken down further by timing the Toeplitz and pilot helpers it calls
(:mod:`amc_tf.mimo.toeplitz`, ``pilot_rows``) while it runs — wrappers around the real functions,
never a copy of their code; the remainder (the one dense product ``Ψ⁻¹R``, the traces and the
assembly of b) is reported as ``mr: rest``, so the parts add up to the closed form's time and
the answer shows where generation time goes.
"""

from __future__ import annotations

import contextlib
import functools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import typer

from amc_tf.config.mimo import MimoSystemConfig
from amc_tf.errors import ConfigError
from amc_tf.io import write_json

#: ``(module, function, stage label)`` of the helpers timed inside the MR closed form.
MR_PARTS: tuple[tuple[str, str, str], ...] = (
    ("amc_tf.mimo.gains", "pilot_rows", "mr: pilot covariance rows"),
    ("amc_tf.mimo.toeplitz", "first_column_of_inverse", "mr: Levinson (first column of inverse)"),
    ("amc_tf.mimo.toeplitz", "inverse_from_first_column", "mr: Trench assembly of inverse"),
    ("amc_tf.mimo.toeplitz", "dense", "mr: dense Toeplitz"),
    ("amc_tf.mimo.toeplitz", "diagonal_prefix_sums", "mr: diagonal prefix sums"),
    ("amc_tf.mimo.toeplitz", "product_diagonal_sums", "mr: product diagonal sums"),
    ("amc_tf.mimo.toeplitz", "trace_weights", "mr: trace weights"),
)


class _Timer:
    """Accumulates wall and CPU seconds per stage; nested timed calls count for the outermost."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}
        self._depth = 0

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if self._depth:
            yield
            return
        self._depth += 1
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self._depth -= 1
            acc = self.times.setdefault(name, [0.0, 0.0])
            acc[0] += time.perf_counter() - wall
            acc[1] += time.process_time() - cpu

    def wrap(self, fn: Any, name: str) -> Any:
        @functools.wraps(fn)
        def timed(*args, **kwargs):
            with self.stage(name):
                return fn(*args, **kwargs)

        return timed


@contextlib.contextmanager
def _timing_mr_parts(timer: _Timer) -> Iterator[None]:
    """Replace the helpers of :data:`MR_PARTS` by timed wrappers for the duration of the block."""
    import importlib

    saved = []
    try:
        for module_name, attr, label in MR_PARTS:
            module = importlib.import_module(module_name)
            saved.append((module, attr, getattr(module, attr)))
            setattr(module, attr, timer.wrap(getattr(module, attr), label))
        yield
    finally:
        for module, attr, fn in reversed(saved):
            setattr(module, attr, fn)


def stage_times(*, setups: int = 200, antennas: int = 100, chunk: int = 8, threads: int = 1, seed: int = 0) -> dict:
    """Time the stages of MR generation; returns the JSON-able table (see the module docstring)."""
    for name, value in (("setups", setups), ("antennas", antennas), ("chunk", chunk), ("threads", threads)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    from threadpoolctl import threadpool_limits

    from amc_tf.mimo import gains as gains_mod
    from amc_tf.mimo.channels import rows_from_links
    from amc_tf.mimo.geometry import channel_gain_over_noise_db, drop_ues, validate_positions, wrapped_links
    from amc_tf.mimo.power import max_product_power

    system = MimoSystemConfig(antennas=antennas)
    rng = np.random.default_rng(seed)
    timer = _Timer()
    inner = _Timer()
    with threadpool_limits(threads):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        with timer.stage("geometry: drops, validation, wrapped links, gains"):
            positions = validate_positions(drop_ues(system, setups, rng), system)
            distance, angle = wrapped_links(positions, system)
            gain_db = channel_gain_over_noise_db(distance, system)
        a_parts, b_parts = [], []
        for start in range(0, setups, chunk):
            with timer.stage("correlation rows (local scattering)"):
                rows = rows_from_links(gain_db[start : start + chunk], angle[start : start + chunk], system)
            with timer.stage("mr closed form"), _timing_mr_parts(inner):
                g = gains_mod.mr_closed_form(rows, system)
            a_parts.append(g.a)
            b_parts.append(g.b)
        a, b = np.concatenate(a_parts), np.maximum(np.concatenate(b_parts), 0.0)
        with timer.stage("solver (max-product, batched)"):
            max_product_power(a, b, system.pmax_mw)
        total_wall, total_cpu = time.perf_counter() - wall0, time.process_time() - cpu0

    mr_wall, mr_cpu = timer.times["mr closed form"]
    parts = dict(inner.times)
    parts["mr: rest (dense product, traces, assembly of b)"] = [
        max(0.0, mr_wall - sum(w for w, _ in parts.values())),
        max(0.0, mr_cpu - sum(c for _, c in parts.values())),
    ]

    def row(wall: float, cpu: float) -> dict[str, float]:
        return {"wall_s": round(wall, 4), "cpu_s": round(cpu, 4), "ms_per_setup_cpu": round(1e3 * cpu / setups, 3)}

    return {
        "setups": setups,
        "antennas": antennas,
        "chunk": chunk,
        "threads": threads,
        "stages": {name: row(w, c) for name, (w, c) in timer.times.items()},
        "mr_parts": {name: row(w, c) for name, (w, c) in parts.items()},
        "total": {
            "wall_s": round(total_wall, 4),
            "cpu_s": round(total_cpu, 4),
            "setups_per_cpu_s": round(setups / max(total_cpu, 1e-9), 1),
        },
    }


def command(
    out: Path = typer.Option(..., "--out", "-o", help="Write the JSON result here."),
    setups: int = typer.Option(200, "--setups", "-n", min=1, help="MR setups to generate."),
    antennas: int = typer.Option(100, "--antennas", min=1, help="M."),
    chunk: int = typer.Option(8, "--chunk", min=1, help="Setups per call of the correlation and MR stages."),
    threads: int = typer.Option(1, "--threads", min=1, help="BLAS threads."),
) -> None:
    """Time each stage of MR dataset generation (closed form) in one process."""
    result = stage_times(setups=setups, antennas=antennas, chunk=chunk, threads=threads)
    write_json(out, result)
    typer.echo(json.dumps(result, indent=2))
