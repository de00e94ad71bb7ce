"""Robust-accuracy sweeps: the naive per-PNR sweep vs the survivors sweep vs the same suite through ART.

On VT-CNN2 trained for ``train_epochs`` on synthetic RML2016-style windows at the benchmark SNR,
the suite FGSM, PGD-10 L2, PGD-10 L∞ (no random start, so every library is deterministic and
like for like with ART) and DeepFool runs over a PNR grid (``n`` examples at one SNR, true labels):

* ``naive``: every attack on every example at every PNR (DeepFool once, projected per PNR), the
  worst case from the per-example results (:func:`amc_tf.evaluation.robustness_sweep.sweep`);
* ``survivors``: :func:`amc_tf.evaluation.robustness_survivors.survivor_sweep` (walk the grid
  upwards, carry broken examples forward, each attack only on the survivors);
* ``art``: the naive sweep with ART's twins of the same attacks on the same examples.

Every compiled function is traced first; the three are then timed once each, side by side in one
run (CPU figures are ratios, design §3). Gradients are input-gradient evaluations (one forward and
backward pass of one example; DeepFool's class gradients count one each). The JSON is
``{"naive": {"seconds", "gradients"}, "survivors": {...}, "art": {"seconds"}, "curves": {...},
"goals": {...}}``; ``goals`` holds the targets next to the measured ratios (survivors ≥ 3x fewer
gradients and ≥ 2.5x less wall time than naive, never a higher robust accuracy, ≥ 5x faster than
ART), not assertions.
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
from amc_tf.progress import say

#: The default grid (dB): the papers' axis, 6 points.
GRID = (-20.0, -16.0, -12.0, -8.0, -4.0, 0.0)


def _suite(steps: int, deepfool_max_iter: int) -> dict[str, dict[str, Any]]:
    iterative = {"steps": steps, "random_start": False}
    return {"fgsm": {}, "pgd_l2": iterative, "pgd_linf": iterative, "deepfool": {"max_iter": deepfool_max_iter}}


def _worst(correct: dict[str, dict[float, np.ndarray]], clean: np.ndarray, grid: list[float]) -> list[float]:
    return [float(np.logical_and.reduce([clean, *(c[p] for c in correct.values())]).mean()) for p in grid]


def bench_sweep(
    n: int = 256,
    pnr_db: tuple[float, ...] = GRID,
    snr_db: int = 10,
    steps: int = 10,
    deepfool_max_iter: int = 50,
    train_epochs: int = 3,
    batch_size: int = 256,
    seed: int = 0,
) -> dict:
    """Run the three sweeps; see the module docstring for the JSON layout.

    Args:
        n: Examples (at ``snr_db``) every sweep attacks, ART's included.
        pnr_db: The PNR grid (dB).
        snr_db: SNR label of the examples.
        steps: PGD iterations.
        deepfool_max_iter: DeepFool's step limit (both libraries).
        train_epochs: VT-CNN2 training epochs on synthetic data (0 = random weights, own predictions as labels).
        batch_size: Batch size of every attack.
        seed: Seed of data, training and attacks.
    """
    if n < 1 or steps < 1 or deepfool_max_iter < 1 or batch_size < 1 or train_epochs < 0 or not pnr_db:
        raise ConfigError("n, steps, deepfool_max_iter, batch_size must be >= 1, train_epochs >= 0, pnr_db non-empty")
    from amc_tf.attacks import build_art_attack, build_attack
    from amc_tf.attacks.compiled import auto_micro_batch, logits_fn, parts_for
    from amc_tf.benchmarks.attacks import _data_and_model
    from amc_tf.evaluation.robustness_survivors import survivor_sweep
    from amc_tf.evaluation.robustness_sweep import attack_factory, sweep, warm_up
    from amc_tf.models.inference import predict_classes

    grid = sorted(float(p) for p in pnr_db)
    model, x, y, snr = _data_and_model(n, snr_db, train_epochs, seed)
    logits = logits_fn(model, parts_for(batch_size, auto_micro_batch(model)))

    def predict(a: np.ndarray) -> np.ndarray:
        return predict_classes(logits, a, batch_size)

    y = predict(x) if y is None else y
    clean = predict(x) == y
    suite = _suite(steps, deepfool_max_iter)
    run = {"batch_size": batch_size, "seed": seed}
    native = {name: attack_factory(build_attack, name, model, **run, **kw) for name, kw in suite.items()}
    art = {name: attack_factory(build_art_attack, name, model, **run, **kw) for name, kw in suite.items()}
    for name in suite:
        warm_up(native[name], x, y, snr)
        if name != "deepfool":  # ART's DeepFool has nothing to trace and costs seconds per example
            warm_up(art[name], x, y, snr)

    t0 = time.perf_counter()
    naive_points = {name: sweep(make, predict, x, y, snr, grid, None) for name, make in native.items()}
    naive_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    walked = survivor_sweep(native, predict, x, y, snr, grid, dict.fromkeys(suite), clean)
    survivors_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    art_points = {name: sweep(make, predict, x, y, snr, grid, None) for name, make in art.items()}
    art_seconds = time.perf_counter() - t0

    naive_worst = _worst({k: p.correct for k, p in naive_points.items()}, clean, grid)
    survivors_worst = walked.worst_case(grid, clean, list(suite))
    art_worst = _worst({k: p.correct for k, p in art_points.items()}, clean, grid)
    naive_gradients = sum(p.gradients for p in naive_points.values())
    survivors_gradients = sum(walked.gradients.values())
    excess = max(s - v for s, v in zip(survivors_worst, naive_worst))
    goals = {
        "gradient_ratio": naive_gradients / max(survivors_gradients, 1),
        "gradient_ratio_target": 3.0,
        "time_ratio": naive_seconds / survivors_seconds,
        "time_ratio_target": 2.5,
        "survivors_max_excess_over_naive": excess,
        "survivors_never_weaker": excess <= 0.0,
        "art_over_survivors_time": art_seconds / survivors_seconds,
        "art_over_survivors_target": 5.0,
    }
    goals["met"] = {
        "gradients": goals["gradient_ratio"] >= 3.0,
        "time": goals["time_ratio"] >= 2.5,
        "never_weaker": goals["survivors_never_weaker"],
        "vs_art": goals["art_over_survivors_time"] >= 5.0,
    }
    n_classes = int(model.output_shape[-1])
    if clean.mean() <= 1.5 / n_classes:
        say("bench sweep", f"warning: clean accuracy {clean.mean():.3f} is near chance (1/{n_classes}); train longer")
    return {
        "model": model.name,
        "n": n,
        "snr_db": snr_db,
        "train_epochs": train_epochs,
        "batch_size": batch_size,
        "suite": {name: {"steps": steps} if name.startswith("pgd") else {} for name in suite},
        "naive": {"seconds": naive_seconds, "gradients": naive_gradients},
        "survivors": {
            "seconds": survivors_seconds,
            "gradients": survivors_gradients,
            "attacked": walked.attacked,
            "gradients_by_attack": walked.gradients,
        },
        "art": {"seconds": art_seconds},
        "curves": {
            "pnr_db": grid,
            "n_examples": n,
            "clean_accuracy": float(clean.mean()),
            "naive": {
                "worst_case": naive_worst,
                **{k: [float(p.correct[q].mean()) for q in grid] for k, p in naive_points.items()},
            },
            "survivors": {"worst_case": survivors_worst, "broken_by": walked.broken_by},
            "art": {
                "worst_case": art_worst,
                **{k: [float(p.correct[q].mean()) for q in grid] for k, p in art_points.items()},
            },
        },
        "goals": goals,
    }


def command(
    out: Annotated[Path, typer.Option("--out", help="JSON file to write.")],
    n: Annotated[int, typer.Option("--n", help="Examples attacked (every sweep, ART's too).")] = 256,
    train_epochs: Annotated[int, typer.Option("--train-epochs", help="VT-CNN2 training epochs first.")] = 3,
    steps: Annotated[int, typer.Option("--steps", help="PGD iterations.")] = 10,
    pnr_db: Annotated[
        list[float] | None, typer.Option("--pnr-db", help="PNR grid (dB); repeat the option. Default -20..0 step 4.")
    ] = None,
) -> None:
    """Naive vs survivors robust-accuracy sweep vs ART: seconds, gradient evaluations, curves."""
    result = bench_sweep(n=n, train_epochs=train_epochs, steps=steps, pnr_db=tuple(pnr_db) if pnr_db else GRID)
    write_json(out, result)
    typer.echo(json.dumps(result, indent=2))
