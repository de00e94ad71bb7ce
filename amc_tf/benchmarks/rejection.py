"""``amc-tf bench rejection``: the hybrid defences on a small, quickly trained VT-CNN2, in minutes.

Synthetic RML2016-style windows at one SNR (10 dB by default) train VT-CNN2 for ``train_epochs``
clean epochs; :func:`amc_tf.defenses.hybrid.hybrid_evaluation` then fine-tunes it with CAT, LS-GNA
and PGD+FGSM adversarial training (``finetune_epochs`` each), fits neural rejection and the
auto-encoder detector, and attacks the five defences at one PNR with the adaptive attack and its
non-adaptive twin. The JSON::

    {"svm_max_abs_diff": ..,          # TF RBF-SVM vs scikit-learn decision_function, HTRD's SVMs
     "clean_rejection_rate": ..,      # HTRD on the clean test windows (set for 10 % on validation)
     "pnr_db": -10,
     "accuracy": {"htrd": {"adaptive": .., "non_adaptive": ..}, "ls_gna_nr": {...}, "two_fold": {...},
                  "cat": {...}, "ls_gna": {...}},
     "clean_accuracy": {defence: ..},  # rejections counted as errors
     "adaptive_seconds_per_example": ..,  # the adaptive attack on HTRD, per window
     "sizes": {...}, "seconds": ..}
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from amc_tf.errors import ConfigError
from amc_tf.io import write_json
from amc_tf.progress import say


def bench_rejection(
    n: int = 2200,
    n_val: int = 440,
    n_test: int = 200,
    pnr_db: float = -10.0,
    snr_db: int = 10,
    train_epochs: int = 6,
    finetune_epochs: int = 2,
    steps: int = 20,
    batch_size: int = 128,
    seed: int = 0,
) -> dict:
    """Run the benchmark; returns the JSON of the module docstring."""
    if min(n, n_val, n_test, finetune_epochs, steps, batch_size) < 1 or train_epochs < 0:
        raise ConfigError(
            "n, n_val, n_test, finetune_epochs, steps, batch_size must be >= 1 and train_epochs >= 0; got "
            f"n={n}, n_val={n_val}, n_test={n_test}, finetune_epochs={finetune_epochs}, steps={steps}, "
            f"batch_size={batch_size}, train_epochs={train_epochs}"
        )
    from amc_tf.attacks.adaptive import RejectionPGD
    from amc_tf.attacks.adaptive_settings import AdaptiveAttackConfig
    from amc_tf.attacks.budgets import Budget
    from amc_tf.benchmarks.adversarial_training import _data, _model
    from amc_tf.config.defense import AdversarialTrainingConfig
    from amc_tf.config.hardening import CatConfig, LsGnaConfig
    from amc_tf.config.rejection import AutoencoderConfig, NeuralRejectionConfig
    from amc_tf.data.modulations import family
    from amc_tf.defenses.hybrid import DEFENCES, HybridSettings, hybrid_evaluation
    from amc_tf.runtime import tf

    if snr_db not in family("rml2016").snrs:
        raise ConfigError(f"snr_db must be on the RML2016 grid {list(family('rml2016').snrs)}, got {snr_db}")
    start = time.perf_counter()
    train, rest = _data(n, n_val + n_test, snr_db, seed)
    val, test = rest.subset(slice(0, n_val)), rest.subset(slice(n_val, n_val + n_test))
    model = _model(train, train_epochs, batch_size, seed)
    fine = {"epochs": finetune_epochs, "batch_size": batch_size, "patience": 0, "verbose": 0}
    settings = HybridSettings(
        cat=CatConfig(train=fine),
        ls_gna=LsGnaConfig(train=fine),
        adversarial=AdversarialTrainingConfig(train=fine),
        rejection=NeuralRejectionConfig(max_train=min(n, 1100)),
        autoencoder=AutoencoderConfig(epochs=5, batch_size=batch_size),
        attack=AdaptiveAttackConfig(steps=steps),
        pnr_db=(float(pnr_db),),
    )
    outcome = hybrid_evaluation(model, train, val, test, settings, seed=seed)
    htrd = outcome.defences["htrd"]
    probe = test.x[:64]
    diff = float(np.abs(htrd.tf_scores(tf.constant(probe)).numpy() - htrd.scores(probe)).max())
    say("bench", "timing the adaptive attack on HTRD")
    attack = RejectionPGD(htrd, budget=Budget.pnr(pnr_db), config=settings.attack, batch_size=batch_size)
    attack.generate(test.x[:8], test.y[:8], snr=test.snr[:8])  # trace
    t0 = time.perf_counter()
    attack.generate(test.x, test.y, snr=test.snr)
    per_example = (time.perf_counter() - t0) / len(test)
    curves = {c.defence: c for c in outcome.report.curves}
    return {
        "svm_max_abs_diff": diff,
        "clean_rejection_rate": curves["htrd"].clean_rejected,
        "pnr_db": pnr_db,
        "accuracy": {
            d: {
                "adaptive": curves[d].adaptive_accuracy[0],
                "non_adaptive": curves[d].non_adaptive_accuracy[0],
                "worst_case": curves[d].worst_accuracy[0],
            }
            for d in DEFENCES
        },
        "clean_accuracy": {d: curves[d].clean_accuracy for d in DEFENCES},
        "audit_ok": all(c.audit_ok for c in curves.values()),
        "adaptive_seconds_per_example": per_example,
        "sizes": {
            "train": n,
            "val": n_val,
            "test": n_test,
            "train_epochs": train_epochs,
            "finetune_epochs": finetune_epochs,
            "steps": steps,
            "snr_db": snr_db,
        },  # fmt: skip
        "seconds": time.perf_counter() - start,
    }


def command(
    out: Annotated[Path, typer.Option(help="JSON file to write (atomically).")],
    n: Annotated[int, typer.Option(help="Training windows.")] = 2200,
    n_test: Annotated[int, typer.Option(help="Windows attacked.")] = 200,
    pnr_db: Annotated[float, typer.Option(help="PNR of the attacks (dB).")] = -10.0,
    train_epochs: Annotated[int, typer.Option(help="Clean epochs of VT-CNN2 before hardening.")] = 6,
    finetune_epochs: Annotated[int, typer.Option(help="Epochs of each hardening (CAT, LS-GNA, AT).")] = 2,
    steps: Annotated[int, typer.Option(help="Steps of the adaptive and non-adaptive PGD-L2.")] = 20,
    seed: int = 0,
) -> None:
    """Neural rejection, HTRD, LS-GNA+NR and the two-fold defence under adaptive attack (JSON)."""
    result = bench_rejection(
        n=n,
        n_val=max(1, n // 5),
        n_test=n_test,
        pnr_db=pnr_db,
        train_epochs=train_epochs,
        finetune_epochs=finetune_epochs,
        steps=steps,
        seed=seed,
    )
    write_json(out, result)
    typer.echo(f"wrote {out}")
