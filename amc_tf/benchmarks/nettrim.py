"""Benchmark: Net-Trim on VT-CNN2's first dense layer (10,560 × 256 + bias), no fine-tuning.

The VT-CNN2 is either given (``model_path``, a ``.keras`` file) or trained briefly on synthetic
RML2016-style data; the trained model is an entry of the project's cache (:mod:`amc_tf.cache`:
data and training settings plus the source of the model and training code), so reruns time only
Net-Trim. ``seconds`` is the solver's wall-clock time
(recording the layer's activations and training are reported separately).

Windows stay at their own scale (RML2016's L1 normalisation: ``mean |x| = 1/L ≈ 0.008``); the
VT-CNN2 trained here carries its input gain (``input_scale`` = 1 / std of the training windows,
:func:`amc_tf.models.registry.model_params`), and a given ``model_path`` must take raw windows
too. Net-Trim works on ``dense1``'s input activations, so the gain does not enter the solver.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import typer

from amc_tf.errors import ConfigError
from amc_tf.io import write_json

if TYPE_CHECKING:  # TensorFlow is imported when the benchmark runs, not when the CLI starts
    from amc_tf.runtime import keras

#: The modules whose source determines the cached VT-CNN2.
MODEL_CODE = ("amc_tf.models.vtcnn2", "amc_tf.models.input_scale", "amc_tf.training.fit", "amc_tf.data.synthetic")


def _accuracy_at(model: keras.Model, x: np.ndarray, y: np.ndarray) -> float:
    from amc_tf.evaluation.metrics import predict_logits

    return float(np.mean(predict_logits(model, x).argmax(axis=1) == y))


def run_nettrim_benchmark(
    *,
    model_path: str | None = None,
    windows_per_key: int = 250,
    snrs: tuple[int, ...] = (0, 4, 8, 10, 12, 16),
    epochs: int = 8,
    samples: int = 3000,
    eta: float = 0.06,
    rho: float | None = None,
    max_iter: int = 100,
    eval_snr: int = 10,
    seed: int = 0,
    cache_dir: str = ".cache/bench",
) -> dict:
    """Train (or load, or reuse) a VT-CNN2, prune ``dense1`` with Net-Trim, measure.

    Args:
        model_path: A trained VT-CNN2 ``.keras`` file (11 classes, L = 128); None = train one.
        windows_per_key: Synthetic windows per (class, SNR) (50 % train / 50 % test).
        snrs: SNR labels (dB) of the synthetic data; must include ``eval_snr``.
        epochs: Training epochs of the VT-CNN2 (batch 256, Adam 1e-3, no early stopping).
        samples: Training windows P given to Net-Trim.
        eta: ε gain, ε = eta · ‖Y‖_F.
        rho: ADMM penalty (None = the layer-scaled default of ``nettrim_dense``).
        max_iter: ADMM iteration cap.
        eval_snr: SNR (dB) of the accuracy figures.
        seed: Seed of data, training and sampling.
        cache_dir: Where the trained VT-CNN2 is cached.

    Returns:
        ``{"seconds", "sparsity", "relative_output_error", "acc_before", "acc_after", ...}``.
    """
    from amc_tf import cache
    from amc_tf.config.data import SyntheticConfig
    from amc_tf.config.train import TrainConfig
    from amc_tf.data.splits import stratified_split
    from amc_tf.data.synthetic import generate
    from amc_tf.io import atomic_path
    from amc_tf.models.input_scale import input_scale_of
    from amc_tf.models.loading import load_model as safe_load_model
    from amc_tf.models.registry import build_model, model_params
    from amc_tf.progress import say
    from amc_tf.prune.apply import nettrim_dense, sample_windows
    from amc_tf.runtime import set_seed
    from amc_tf.training.fit import fit_classifier

    if eval_snr not in snrs:
        raise ValueError(f"eval_snr {eval_snr} must be one of the generated SNRs {list(snrs)}")
    set_seed(seed)
    data_cfg = SyntheticConfig(family="rml2016", windows_per_key=windows_per_key, snrs=sorted(snrs), seed=seed)
    ds = generate(data_cfg)
    splits = stratified_split(ds, train=0.5, val=0.0, test=0.5, seed=seed)
    train, test = splits["train"], splits["test"]
    at = test.subset(test.snr == eval_snr)

    train_seconds = 0.0
    if model_path is not None:
        model = safe_load_model(model_path)
        source = str(model_path)
    else:
        params = model_params("vtcnn2", {}, train.x)
        key = {"data": data_cfg, "epochs": epochs, "seed": seed, **params}
        cached = cache.entry_path(cache_dir, "bench-vtcnn2", key, MODEL_CODE, suffix=".keras")
        if cached.is_file():
            model = safe_load_model(cached)
        else:
            model = build_model("vtcnn2", len(ds.classes), ds.window, **params)
            t0 = time.perf_counter()
            fit_classifier(model, train, None, TrainConfig(batch_size=256, epochs=epochs, patience=0, verbose=2))
            train_seconds = time.perf_counter() - t0
            with atomic_path(cached, suffix=".keras") as tmp:
                model.save(tmp)
        source = str(cached)

    acc_before = _accuracy_at(model, at.x, at.y)
    idx = sample_windows(len(train), samples, seed)
    say(
        "bench nettrim",
        f"VT-CNN2 from {source}; accuracy at {eval_snr} dB {acc_before:.4f}; Net-Trim on dense1 with P = {len(idx)}",
    )
    pruned, report = nettrim_dense(model, "dense1", train.x[idx], eta=eta, rho=rho, max_iter=max_iter, progress=True)
    acc_after = _accuracy_at(pruned, at.x, at.y)
    return {
        "seconds": report.seconds,
        "sparsity": report.sparsity,
        "relative_output_error": report.relative_output_error,
        "acc_before": acc_before,
        "acc_after": acc_after,
        "accuracy_drop_points": 100.0 * (acc_before - acc_after),
        "nonzero": report.nonzero,
        "weights": report.weights,
        "iterations": report.iterations,
        "converged": report.converged,
        "samples": report.samples,
        "eta": eta,
        "rho": report.rho,
        "eval_snr": eval_snr,
        "input_scale": input_scale_of(model),
        "eval_windows": len(at),
        "train_windows": len(train),
        "train_seconds": train_seconds,
        "model": source,
    }


def command(
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
