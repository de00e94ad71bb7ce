"""Native attacks vs ART 1.20 on VT-CNN2: throughput, robust accuracy, element-wise agreement.

On one model, one batch of examples at one SNR and one PNR budget, each attack (FGSM, PGD-10
L-inf, PGD-10 L2 — no random start, so both sides are deterministic — and DeepFool) runs natively
and through ART at the same batch size. Per attack the JSON holds
``{"native": {"examples_per_s", "robust_acc", "steps"}, "art": {"examples_per_s", "robust_acc"},
"max_abs_diff"}``; beside them the model's compiled inference rate (``infer_samples_per_s``) in
the same run (whole batch and micro-batched; the faster is the reference), and the two goals:
native PGD >= 3x ART's throughput, and PGD sample-steps/s >= 0.4x inference samples/s (a step is
one forward and one input-gradient pass, so 0.5x is the limit when the backward pass costs what
the forward does).

Timing: every function is traced/warmed up first; each figure is the best of ``repeats`` runs,
native and ART interleaved (on a shared machine the best run is the least disturbed one; CPU
figures are ratios, design §3). PGD is also timed without micro-batches
(``native_whole_batch``): that variant reproduces ART's float rounding bit for bit; the default
one can differ in the last bit of some gradient elements (:mod:`amc_tf.attacks.compiled`).

The model is VT-CNN2 with random weights (default; labels are then the model's own predictions,
so clean accuracy is 1) or trained for ``train_epochs`` on synthetic RML2016-style windows at the
benchmark SNR (labels are then the true ones; one epoch leaves VT-CNN2 near chance, and DeepFool
has little to do on examples that are already misclassified).
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import typer

from amc_tf.errors import ConfigError
from amc_tf.io import write_json

if TYPE_CHECKING:  # TensorFlow is imported when the benchmark runs, not when the CLI starts
    from amc_tf.attacks import Attack
    from amc_tf.runtime import keras


def _best_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _timed_generate(attack: Attack, x: np.ndarray, y: np.ndarray, snr: np.ndarray, repeats: int) -> tuple[float, Any]:
    """Best time of ``attack.generate(x, y, snr=snr)`` over ``repeats`` runs, and its output."""
    return _best_time(lambda: attack.generate(x, y, snr=snr), repeats)


def _data_and_model(
    n: int, snr_db: int, train_epochs: int, seed: int
) -> tuple[keras.Model, np.ndarray, np.ndarray, np.ndarray]:
    from amc_tf.config.data import SyntheticConfig
    from amc_tf.data.synthetic import generate
    from amc_tf.models.registry import input_scale_for
    from amc_tf.models.vtcnn2 import build_vtcnn2
    from amc_tf.runtime import keras, set_seed

    set_seed(seed)
    per_key = max(1, -(-n // 11))
    train_per_key = 300 if train_epochs else 1
    ds = generate(SyntheticConfig(family="rml2016", windows_per_key=per_key + train_per_key, snrs=[snr_db], seed=seed))
    g = np.random.default_rng(seed)
    idx = g.permutation(len(ds))
    test, train = idx[:n], idx[n:]
    # The flows' input gain (1 / std of the training windows): without it VT-CNN2 stays at chance
    # for epochs on RML2016's L1-normalised windows, and every attack "measures" a constant classifier.
    gain = input_scale_for(ds.x[train] if train_epochs else ds.x[test])
    model = build_vtcnn2(len(ds.classes), ds.window, input_scale=gain)
    if train_epochs:
        model.compile(
            keras.optimizers.Adam(1e-3),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        model.fit(ds.x[train], ds.y[train], batch_size=256, epochs=train_epochs, verbose=0)
    x, snr = ds.x[test], ds.snr[test]
    y = ds.y[test] if train_epochs else None
    return model, x, y, snr


def bench_attacks(
    n: int = 256,
    batch_size: int = 256,
    pnr_db: float = -10.0,
    snr_db: int = 10,
    steps: int = 10,
    deepfool_n: int = 64,
    train_epochs: int = 0,
    repeats: int = 3,
    seed: int = 0,
) -> dict:
    """Run the comparison; see the module docstring for the JSON layout.

    Args:
        n: Examples attacked by FGSM and PGD.
        batch_size: Batch size of both libraries.
        pnr_db: The budget (PNR, dB), resolved per example from its SNR label.
        snr_db: SNR label of the examples.
        steps: PGD iterations.
        deepfool_n: Examples attacked by DeepFool (ART's is slow).
        train_epochs: Epochs of VT-CNN2 training before the benchmark (0 = random weights).
        repeats: Timed runs per figure (best kept).
        seed: Seed of data, training and attacks.
    """
    if n < 1 or batch_size < 1 or steps < 1 or deepfool_n < 1 or repeats < 1 or train_epochs < 0:
        raise ConfigError("n, batch_size, steps, deepfool_n, repeats must be >= 1 and train_epochs >= 0")
    from amc_tf.attacks import Budget, build_art_attack, build_attack
    from amc_tf.attacks.compiled import auto_micro_batch, logits_fn, parts_for
    from amc_tf.models.inference import predict_batched, predict_classes

    model, x, y, snr = _data_and_model(max(n, deepfool_n), snr_db, train_epochs, seed)
    logits = logits_fn(model, parts_for(batch_size, auto_micro_batch(model)))

    def predict(a: np.ndarray) -> np.ndarray:
        return predict_classes(logits, a, batch_size)

    labels = predict(x) if y is None else y
    infer = {}
    for label, fn in (("whole_batch", logits_fn(model)), ("micro_batched", logits)):
        predict_batched(fn, x[:batch_size], batch_size)  # trace
        t, _ = _best_time(functools.partial(predict_batched, fn, x[:n], batch_size), repeats)
        infer[label] = n / t
    result: dict[str, Any] = {
        "model": model.name,
        "n_params": int(model.count_params()),
        "n": n,
        "batch_size": batch_size,
        "pnr_db": pnr_db,
        "snr_db": snr_db,
        "train_epochs": train_epochs,
        "clean_acc": float(np.mean(predict(x[:n]) == labels[:n])),
        # the faster of the two ways to run the model (the stricter reference for the goal)
        "infer_samples_per_s": max(infer.values()),
        "infer_detail": infer,
    }
    budget = Budget.pnr(pnr_db)
    plans = {
        "fgsm": ("fgsm", {}, n, 1),
        "pgd_linf": ("pgd_linf", {"steps": steps, "random_start": False}, n, steps),
        "pgd_l2": ("pgd_l2", {"steps": steps, "random_start": False}, n, steps),
        "deepfool": ("deepfool", {}, deepfool_n, None),
    }
    for name, (method, kw, m, nsteps) in plans.items():
        xs, ys, ss = x[:m], labels[:m], snr[:m]
        native = build_attack(name, model, budget=budget, batch_size=batch_size, seed=seed, **kw)
        art = build_art_attack(method, model, budget=budget, batch_size=batch_size, seed=seed, **kw)
        native.generate(xs[:2], ys[:2], snr=ss[:2])
        art_repeats = 1 if name == "deepfool" else repeats
        t_native, t_art = float("inf"), float("inf")
        for r in range(max(repeats, art_repeats)):
            if r < repeats:
                t, x_native = _timed_generate(native, xs, ys, ss, 1)
                t_native = min(t_native, t)
            if r < art_repeats:
                t, x_art = _timed_generate(art, xs, ys, ss, 1)
                t_art = min(t_art, t)
        entry = {
            "native": {
                "examples_per_s": m / t_native,
                "robust_acc": float(np.mean(predict(x_native) == ys)),
                "steps": nsteps,
            },
            "art": {"examples_per_s": m / t_art, "robust_acc": float(np.mean(predict(x_art) == ys))},
            "max_abs_diff": float(np.abs(x_native - x_art).max()),
            "n": m,
            "speedup": t_art / t_native,
        }
        if name == "deepfool":
            entry["native"]["steps"] = float(np.mean(native.last_steps))
        if name.startswith("pgd"):
            # the same attack without micro-batches: ART's float rounding, bit for bit
            whole = build_attack(name, model, budget=budget, batch_size=batch_size, seed=seed, micro_batch=None, **kw)
            whole.generate(xs[:2], ys[:2], snr=ss[:2])
            t_whole, x_whole = _timed_generate(whole, xs, ys, ss, repeats)
            entry["native_whole_batch"] = {
                "examples_per_s": m / t_whole,
                "robust_acc": float(np.mean(predict(x_whole) == ys)),
                "max_abs_diff": float(np.abs(x_whole - x_art).max()),
                "speedup": t_art / t_whole,
            }
        result[name] = entry
    pgd = [result[k] for k in ("pgd_linf", "pgd_l2")]
    result["goals"] = {
        "pgd_speedup_vs_art": min(p["speedup"] for p in pgd),
        "pgd_speedup_target": 3.0,
        "pgd_step_rate_over_inference": min(p["native"]["examples_per_s"] * steps for p in pgd)
        / result["infer_samples_per_s"],
        "pgd_step_rate_target": 0.4,
        "pgd_max_abs_diff": max(p["max_abs_diff"] for p in pgd),
        "pgd_max_abs_diff_whole_batch": max(p["native_whole_batch"]["max_abs_diff"] for p in pgd),
        "pgd_robust_acc_gap_vs_art": max(p["native"]["robust_acc"] - p["art"]["robust_acc"] for p in pgd),
    }
    return result


def command(
    out: Annotated[Path, typer.Option("--out", help="JSON file to write.")],
    n: Annotated[int, typer.Option("--n", help="Examples for FGSM and PGD.")] = 256,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Batch size of both libraries.")] = 256,
    pnr_db: Annotated[float, typer.Option("--pnr-db", help="Budget (PNR, dB).")] = -10.0,
    deepfool_n: Annotated[int, typer.Option("--deepfool-n", help="Examples for DeepFool.")] = 64,
    train_epochs: Annotated[
        int, typer.Option("--train-epochs", help="VT-CNN2 training epochs first (0 = random weights).")
    ] = 0,
    repeats: Annotated[int, typer.Option("--repeats", help="Timed runs per figure (best kept).")] = 3,
) -> None:
    """Native attacks vs ART on VT-CNN2: examples/s, robust accuracy, max |difference|."""
    result = bench_attacks(
        n=n, batch_size=batch_size, pnr_db=pnr_db, deepfool_n=deepfool_n, train_epochs=train_epochs, repeats=repeats
    )
    write_json(out, result)
    typer.echo(json.dumps(result, indent=2))
