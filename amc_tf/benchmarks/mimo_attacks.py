"""``amc-tf bench mimo-attacks``: success rates of the cell attacks, in the budget's unit and in metres.

Runs the ``mimo`` pipeline's own stages (:mod:`amc_tf.mimo.stages`: data → standard and
adversarially trained M1/M2 → white-box sweeps → M1↔M2 transfer) without Prefect or MLflow, on
a config (cached data and models are reused) or, by default, on a small version of the paper's
setting — 500 m cells, MR with the book's per-realisation normalisation, the dB-scaled MR network,
attacks in normalised units, adversarial training on the adversarial set — that runs in a few
minutes on 2 cores. The JSON::

    {"eps_unit": "normalized",
     "success": {precoder: {arch: {training: {attack: {eps: rate}}}}},
     "displacement_m": {eps: metres},
     "displacement_m_by_attack": {attack: {eps: metres}},
     "transfer": {precoder: {attack: {source: {target: {eps: rate}}}}},
     "clean_feasible": {precoder: {arch: {training: rate}}}, "seconds": ..., "config": {...}}

``displacement_m`` is the mean |Δ| per coordinate of the FGSM examples against the standard
models: FGSM moves every coordinate by the whole radius unless the cell boundary clips it, so it
is the ball's radius in metres (the other attacks' are under ``displacement_m_by_attack``).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np
import typer

from amc_tf.config.base import load_config, validate_config
from amc_tf.config.mimo import MimoPipelineConfig
from amc_tf.io import write_json

#: The small default: the paper's settings at M = 16, 20 realisations, 1,500 training setups.
SMALL: dict = {
    "kind": "mimo",
    "name": "bench_mimo_attacks",
    "seed": 0,
    "system": {"cell_side_m": 500.0, "antennas": 16},
    "gains": {"precoders": ["MR"], "mr_method": "monte_carlo", "realizations": 20},
    "data": {"train_setups": 1500, "test_setups": 200, "shard_size": 250, "workers": 2},
    "train": {
        "archs": ["M1", "M2"],
        "epochs": 40,
        "patience": 8,
        "batch_size": 128,
        "learning_rate": 0.002,
        "val_fraction": 0.1,
        "input_transform": {"MR": "db", "MMMSE": "linear"},
    },
    "attack": {
        "eps_unit": "normalized",
        "eps_m": [0.1, 0.2, 0.3],
        "transfer_attacks": ["FGSM", "PGDM"],
        "wide_eps_m": [],
    },
    "adversarial": {"attack": "PGDM", "eps_m": 0.3, "mix_clean": False},
    "tracking": {"register_models": False, "log_models": False},
}


def _by_eps(eps: tuple[float, ...], values) -> dict[str, float]:
    return {f"{e:g}": float(v) for e, v in zip(eps, values)}


def bench_mimo_attacks(config: MimoPipelineConfig | None = None, *, cache_dir: str | None = None) -> dict:
    """Run the stages and return the JSON-able result (see the module docstring)."""
    from amc_tf.mimo import stages

    with tempfile.TemporaryDirectory(prefix="amc-bench-mimo-attacks-") as tmp:
        if config is None:
            small = {**SMALL, "data": {**SMALL["data"], "cache_dir": cache_dir or tmp}}
            config = validate_config(MimoPipelineConfig, small)
        start = time.perf_counter()
        data = stages.prepare_data(config, progress=False)
        sets = [stages.train_standard(config, data.train)]
        if config.adversarial.enabled:
            sets.append(stages.train_robust(config, data.train, sets[0]))
        sweeps = stages.robustness(config, data.test, sets).sweeps
        transfer = stages.transfer(config, data.test, sets[0]).matrices
        seconds = time.perf_counter() - start
    eps = config.attack.eps_m
    success: dict = {}
    feasible: dict = {}
    moved: dict[str, list] = {}
    for prec, archs in sweeps.items():
        for arch, trainings in archs.items():
            for training, sweep in trainings.items():
                success.setdefault(prec, {}).setdefault(arch, {})[training] = {
                    attack: _by_eps(eps, rates) for attack, rates in sweep.success.items()
                }
                feasible.setdefault(prec, {}).setdefault(arch, {})[training] = sweep.clean_feasible
                if training == "standard":
                    for attack, values in sweep.displacement_m.items():
                        moved.setdefault(attack, []).append(values)
    by_attack = {attack: _by_eps(eps, np.mean(rows, axis=0)) for attack, rows in moved.items()}
    return {
        "eps_unit": config.attack.eps_unit.value,
        "success": success,
        "displacement_m": by_attack.get("FGSM") or next(iter(by_attack.values()), {}),
        "displacement_m_by_attack": by_attack,
        "transfer": {
            prec: {
                attack: {src: {dst: _by_eps(eps, r) for dst, r in row.items()} for src, row in table.items()}
                for attack, table in matrix.success.items()
            }
            for prec, matrix in transfer.items()
        },
        "clean_feasible": feasible,
        "adversarial_training": {
            "attack": config.adversarial.attack.value,
            "eps": config.adversarial.eps_m,
            "mix_clean": config.adversarial.mix_clean,
        },
        "seconds": round(seconds, 1),
        "config": config.model_dump(mode="json"),
    }


def command(
    out: Path = typer.Option(..., "--out", "-o", help="Write the JSON result here."),
    config: Path | None = typer.Option(
        None, "--config", "-c", help="A mimo pipeline YAML (default: a small version of the paper's setting)."
    ),
    cache_dir: str | None = typer.Option(
        None, "--cache-dir", help="Keep the small run's data and models here (default: a temporary directory)."
    ),
) -> None:
    """Success rates of the cell attacks (white-box, adversarially trained, transfer), with the
    displacement in metres, from the mimo pipeline's stages."""
    cfg = load_config(config, MimoPipelineConfig) if config else None
    result = bench_mimo_attacks(cfg, cache_dir=cache_dir)
    write_json(out, result)
    summary = {k: result[k] for k in ("eps_unit", "success", "displacement_m", "transfer", "seconds")}
    typer.echo(json.dumps(summary, indent=1))
