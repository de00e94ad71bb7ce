"""Online adversarial training, ours vs ART 1.20's ``AdversarialTrainer``, measured side by side (§3).

One epoch of online PGD-k + FGSM adversarial training (0.5 / 0.5, L∞, the paper's mix) on VT-CNN2
(random weights, or trained ``train_epochs`` clean epochs first), on fixed synthetic RML2016-style
windows at one SNR, with one PNR budget, the same Adam recipe, batch size and frozen layers on both
sides: ours (:class:`~amc_tf.defenses.adversarial_model.AdversarialTrainer`) and ART's
(:func:`~amc_tf.defenses.art_trainer.art_adversarial_train`, eps = our mean radius at the benchmark
SNR). Beside them, in the same run: a clean epoch of the same model (plain Keras ``fit``, the
anchor) and one epoch of PGD-k alone
(:func:`~amc_tf.defenses.adversarial_training.online_epoch_throughput`), so the cost of a PGD-k step
reads in clean steps. Every side traces on one batch first; the epochs after are timed. Robust
accuracy is measured on held-out windows with our native PGD-k at the budget, for both models.

Goals reported, not asserted: native ≥ 2× ART's samples/s, robust accuracies within 1 point, a
PGD-k step ≤ (1 + 0.7·k) clean steps.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import typer

from amc_tf.errors import ConfigError
from amc_tf.io import write_json
from amc_tf.progress import say

if TYPE_CHECKING:  # TensorFlow is imported when the benchmark runs, not when the CLI starts
    from amc_tf.config.defense import AdversarialTrainingConfig
    from amc_tf.data.dataset import IQDataset
    from amc_tf.runtime import keras


def _data(n: int, n_test: int, snr_db: int, seed: int) -> tuple[IQDataset, IQDataset]:
    from amc_tf.config.data import SyntheticConfig
    from amc_tf.data.synthetic import generate

    per_key = -(-(n + n_test) // 11)
    ds = generate(SyntheticConfig(family="rml2016", windows_per_key=per_key, snrs=[snr_db], seed=seed))
    idx = np.random.default_rng(seed).permutation(len(ds))
    return ds.subset(idx[:n]), ds.subset(idx[n : n + n_test])


def _model(train: IQDataset, train_epochs: int, batch_size: int, seed: int) -> keras.Model:
    from amc_tf.models.vtcnn2 import build_vtcnn2
    from amc_tf.runtime import set_seed
    from amc_tf.training.fit import compile_classifier

    set_seed(seed)
    model = build_vtcnn2(len(train.classes), train.window, input_scale=float(1.0 / np.std(train.x)))
    if train_epochs:
        say("bench", f"training VT-CNN2 for {train_epochs} clean epoch(s) on {len(train)} windows")
        compile_classifier(model, 1e-3)
        model.fit(train.x, train.y, batch_size=batch_size, epochs=train_epochs, verbose=0)
    return model


def _timed_fit(model: keras.Model, x: np.ndarray, y: np.ndarray, batch: int) -> tuple[float, float]:
    """``(warm-up seconds on one batch, seconds of one epoch)`` of an already compiled model."""
    t0 = time.perf_counter()
    model.fit(x[:batch], y[:batch], batch_size=batch, epochs=1, verbose=0, shuffle=False)
    warmup = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=True)
    return warmup, time.perf_counter() - t0


def _clean_epoch(model: keras.Model, train: IQDataset, config: AdversarialTrainingConfig) -> dict[str, float]:
    from amc_tf.defenses.adversarial_training import prepare
    from amc_tf.training.fit import compile_classifier

    clf, _ = prepare(model, config)
    compile_classifier(clf, config.train.learning_rate)
    warmup, seconds = _timed_fit(clf, train.x, train.y, config.train.batch_size)
    return {"samples_per_s": len(train) / seconds, "seconds": seconds, "warmup_s": warmup}


def _native_epoch(
    model: keras.Model, train: IQDataset, test: IQDataset, config: AdversarialTrainingConfig, seed: int
) -> dict[str, float]:
    """One timed epoch of our online trainer (as ``online_epoch_throughput``, keeping the model to evaluate)."""
    from amc_tf.defenses.adversarial_model import AdversarialTrainer, pack_snr
    from amc_tf.defenses.adversarial_steps import online_attack
    from amc_tf.defenses.adversarial_training import prepare
    from amc_tf.defenses.art_trainer import robust_accuracy
    from amc_tf.runtime import set_seed
    from amc_tf.training.fit import compile_classifier

    set_seed(seed)
    clf, masks = prepare(model, config)
    mix = [(online_attack(entry.attack), entry.fraction) for entry in config.mix]
    batch = config.train.batch_size
    trainer = AdversarialTrainer(
        clf, mix, config.budget, batch_ratio=config.batch_ratio, masks=masks, seed=seed, batch_size=batch
    )
    compile_classifier(trainer, config.train.learning_rate)
    warmup, seconds = _timed_fit(trainer, pack_snr(train).x, train.y, batch)
    clean, robust = robust_accuracy(clf, test, config, seed=seed, batch_size=batch)
    return {
        "samples_per_s": len(train) / seconds,
        "seconds": seconds,
        "warmup_s": warmup,
        "clean_acc": clean,
        "robust_acc": robust,
    }


def bench_adversarial_training(
    n: int = 4096,
    n_test: int = 512,
    batch_size: int = 256,
    pnr_db: float = -10.0,
    snr_db: int = 10,
    steps: int = 10,
    train_epochs: int = 0,
    freeze: tuple[str, ...] = ("dense1",),
    madry: bool = False,
    seed: int = 0,
) -> dict[str, Any]:
    """Run the comparison (module docstring); returns the JSON-able result.

    Args:
        n: Training windows (one epoch each side).
        n_test: Held-out windows for clean and robust accuracy.
        batch_size: Batch size of every side.
        pnr_db: Training and evaluation budget (PNR, dB; energy-matched L∞).
        snr_db: SNR label of every window (an RML2016 grid value).
        steps: k of PGD-k (training and evaluation).
        train_epochs: Clean VT-CNN2 epochs before the benchmark (0 = random weights).
        freeze: VT-CNN2 layers frozen on every side (the paper freezes ``dense1``).
        madry: Also run ART's ``AdversarialTrainerMadryPGD`` (PGD-k alone, beside ours PGD-k alone).
        seed: Seed of data, weights, training and attacks.

    Raises:
        ConfigError: bad sizes or settings.
    """
    if n < 1 or n_test < 1 or batch_size < 1 or steps < 1 or train_epochs < 0:
        raise ConfigError(
            f"n, n_test, batch_size, steps must be >= 1 and train_epochs >= 0; got n={n}, n_test={n_test}, "
            f"batch_size={batch_size}, steps={steps}, train_epochs={train_epochs}"
        )
    from pydantic import ValidationError

    from amc_tf.config.defense import AdversarialTrainingConfig
    from amc_tf.data.modulations import family

    if snr_db not in family("rml2016").snrs:
        raise ConfigError(f"snr_db must be on the RML2016 grid {list(family('rml2016').snrs)}, got {snr_db}")
    pgd = {"name": "pgd_linf", "steps": steps}
    train_cfg = {"learning_rate": 1e-3, "batch_size": batch_size, "epochs": 1, "patience": 0, "verbose": 0}
    try:
        config = AdversarialTrainingConfig(
            mode="online",
            mix=[{"attack": pgd, "fraction": 0.5}, {"attack": "fgsm", "fraction": 0.5}],
            budget={"pnr_db": pnr_db},
            freeze=list(freeze),
            train=train_cfg,
        )
    except ValidationError as err:
        raise ConfigError(f"bad adversarial-training settings: {err}") from None
    pgd_only = AdversarialTrainingConfig(**{**config.model_dump(), "mix": [{"attack": pgd, "fraction": 1.0}]})
    from amc_tf.defenses.adversarial_training import online_epoch_throughput
    from amc_tf.defenses.art_trainer import art_adversarial_train

    train, test = _data(n, n_test, snr_db, seed)
    model = _model(train, train_epochs, batch_size, seed)
    say("bench", f"clean epoch of {model.name} on {n} windows (batch {batch_size})")
    clean = _clean_epoch(model, train, config)
    say("bench", f"native online PGD-{steps} + FGSM epoch")
    native = _native_epoch(model, train, test, config, seed)
    say("bench", f"native online PGD-{steps} alone")
    pgd_alone = online_epoch_throughput(model, train.x, train.y, train.snr, pgd_only, seed=seed)
    say("bench", f"ART AdversarialTrainer PGD-{steps} + FGSM epoch")
    art = art_adversarial_train(model, train, test, config, seed=seed, trainer="mix", eval_snr_db=snr_db)
    result: dict[str, Any] = {
        "model": model.name,
        "n_params": int(model.count_params()),
        "n": n,
        "n_test": n_test,
        "batch_size": batch_size,
        "pnr_db": pnr_db,
        "snr_db": snr_db,
        "pgd_steps": steps,
        "mix": "pgd_linf 0.5 + fgsm 0.5",
        "freeze": list(freeze),
        "train_epochs": train_epochs,
        "clean_train_samples_per_s": clean["samples_per_s"],
        "clean_train": clean,
        "native": native,
        "native_pgd_only": {k: float(pgd_alone[k]) for k in ("samples_per_s", "seconds", "warmup_s")},
        "art": {k: v for k, v in art.to_json().items() if k not in ("n_train", "n_eval")},
        "robust_acc_native": native["robust_acc"],
        "robust_acc_art": art.robust_acc,
    }
    if madry:
        say("bench", f"ART AdversarialTrainerMadryPGD (PGD-{steps} alone) epoch")
        alone = art_adversarial_train(model, train, test, pgd_only, seed=seed, trainer="madry", eval_snr_db=snr_db)
        result["art_madry"] = alone.to_json()
    result["ratios"] = _ratios(result, steps)
    return result


def _ratios(result: dict[str, Any], steps: int) -> dict[str, Any]:
    clean = result["clean_train_samples_per_s"]
    out = {
        "native_over_art": result["native"]["samples_per_s"] / result["art"]["samples_per_s"],
        "native_over_art_target": 2.0,
        "robust_acc_gap_points": 100.0 * abs(result["robust_acc_native"] - result["robust_acc_art"]),
        "robust_acc_gap_target_points": 1.0,
        "mix_step_in_clean_steps": clean / result["native"]["samples_per_s"],
        "pgd_step_in_clean_steps": clean / result["native_pgd_only"]["samples_per_s"],
        "pgd_step_target_clean_steps": 1.0 + 0.7 * steps,
    }
    if "art_madry" in result:
        out["native_pgd_over_art_madry"] = (
            result["native_pgd_only"]["samples_per_s"] / result["art_madry"]["samples_per_s"]
        )
    out["goals_met"] = {
        "speed": out["native_over_art"] >= out["native_over_art_target"],
        "robust_acc": out["robust_acc_gap_points"] <= out["robust_acc_gap_target_points"],
        "pgd_step": out["pgd_step_in_clean_steps"] <= out["pgd_step_target_clean_steps"],
    }
    return out


def command(
    out: Annotated[Path, typer.Option("--out", help="JSON file to write.")],
    n: Annotated[int, typer.Option("--n", help="Training windows (one epoch per side).")] = 4096,
    n_test: Annotated[int, typer.Option("--n-test", help="Held-out windows for robust accuracy.")] = 512,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Batch size of every side.")] = 256,
    pnr_db: Annotated[float, typer.Option("--pnr-db", help="Budget (PNR, dB).")] = -10.0,
    snr_db: Annotated[int, typer.Option("--snr-db", help="SNR label of the windows (dB).")] = 10,
    steps: Annotated[int, typer.Option("--steps", help="k of PGD-k.")] = 10,
    train_epochs: Annotated[
        int, typer.Option("--train-epochs", help="Clean VT-CNN2 epochs first (0 = random weights).")
    ] = 0,
    freeze: Annotated[str, typer.Option("--freeze", help="Comma-separated frozen layers ('' = none).")] = "dense1",
    madry: Annotated[bool, typer.Option("--madry/--no-madry", help="Also ART's Madry PGD trainer.")] = False,
) -> None:
    """Online PGD-k + FGSM adversarial training, ours vs ART's AdversarialTrainer: samples/s, robust accuracy."""
    layers = tuple(name.strip() for name in freeze.split(",") if name.strip())
    result = bench_adversarial_training(
        n=n,
        n_test=n_test,
        batch_size=batch_size,
        pnr_db=pnr_db,
        snr_db=snr_db,
        steps=steps,
        train_epochs=train_epochs,
        freeze=layers,
        madry=madry,
    )
    write_json(out, result)
    typer.echo(json.dumps(result, indent=2))
