"""ART 1.20's adversarial trainers on the same model, data and budget as ours: the online-AT baseline.

:func:`art_adversarial_train` runs ART's ``AdversarialTrainer`` (``trainer="mix"``: the mix's FGSM/FGM/PGD
attacks as ART evasion attacks, ``ratio`` = ``config.batch_ratio``) or ``AdversarialTrainerMadryPGD``
(``trainer="madry"``: the mix's PGD entry alone, ratio 1) on a copy of the model made by
:func:`~amc_tf.defenses.adversarial_training.prepare`, so the ``freeze`` layers are ``trainable = False``
before ART sees the model and pruned weights stay zero, with the recipe of
``adversarial_train(..., mode="online")``: Adam at ``config.train.learning_rate``, batches of
``config.train.batch_size``, ``config.train.epochs`` epochs. This is the second module that imports ART
(after :mod:`amc_tf.attacks.baselines.art`, style habit 10) because ART's trainers are a defence, not an
attack; ART is imported inside functions only. Two differences are ART's own: a mix is *rotated* per
batch (one attack per batch, in the mix's proportions) where ours splits every batch, and ART's
``eps`` is one scalar.

**Budget.** Our budgets are PNRs per example (:class:`~amc_tf.attacks.budgets.Budget`); ART gets the
*mean* of our per-example radii over the training windows at the reference PNR (``pnr_db``, or the
middle of ``pnr_db_range``), each at its own SNR label or at ``eval_snr_db`` when given, in the
attack's norm under the config's L∞ convention (``energy_matched``: ε/√(2L); ``same_eps``: ε); an
absolute ``eps`` goes to ART unchanged. Robust accuracy is measured with our native PGD (the mix's PGD
spec, else ``pgd_linf`` defaults) at the reference PNR resolved per example (:func:`robust_accuracy`).

**Training step.** ART's ``TensorFlowV2Classifier`` gets a ``train_step`` compiled once (cross-entropy
from logits, Adam, the pruning masks), as ART's docs recommend: its default step is a new
``tf.function`` per ``fit`` call, i.e. per batch under its trainer, which would time retracing, not
training. ART draws from the global ``numpy.random`` / ``random`` state, seeded from ``seed`` first.
"""

from __future__ import annotations

import contextlib
import math
import random
import time
from dataclasses import dataclass, fields
from fractions import Fraction
from typing import Any, Literal

import numpy as np

from amc_tf.attacks.budgets import Budget, Norm
from amc_tf.config.defense import AdversarialTrainingConfig, TrainingBudget
from amc_tf.data.dataset import IQDataset
from amc_tf.defenses.adversarial_steps import OnlineAttack, online_attack
from amc_tf.defenses.adversarial_training import prepare
from amc_tf.errors import ConfigError
from amc_tf.progress import say
from amc_tf.results import Result, jsonable
from amc_tf.runtime import keras, set_seed, tf

Trainer = Literal["mix", "madry"]


@dataclass(frozen=True)
class ArtTrainingResult(Result):
    """What :func:`art_adversarial_train` returns.

    Attributes:
        model: The trained classifier (original ``trainable`` flags restored).
        trainer: ``mix`` (``AdversarialTrainer``) or ``madry`` (``AdversarialTrainerMadryPGD``).
        attacks: ART's attack rotation, by our names (one entry per batch of a cycle).
        eps: ART's scalar radius per attack name (input units, the attack's norm).
        ratio: ART's ``ratio`` (fraction of each batch replaced).
        epochs: Timed epochs.
        seconds_per_epoch, samples_per_s: Timed training (one warm-up batch excluded, ``warmup_s``).
        warmup_s: Seconds of the warm-up batch (tracing and ART's attack set-up).
        clean_acc, robust_acc: On the evaluation windows; robust under our native PGD (:func:`robust_accuracy`).
        n_train, n_eval: Windows trained on per epoch / evaluated.
    """

    model: keras.Model
    trainer: str
    attacks: list[str]
    eps: dict[str, float]
    ratio: float
    epochs: int
    seconds_per_epoch: float
    samples_per_s: float
    warmup_s: float
    clean_acc: float
    robust_acc: float
    n_train: int
    n_eval: int

    def to_json(self) -> dict[str, Any]:
        return {f.name: jsonable(getattr(self, f.name)) for f in fields(self) if f.name != "model"}

    def metrics(self) -> dict[str, float]:
        keys = ("ratio", "epochs", "seconds_per_epoch", "samples_per_s", "warmup_s", "clean_acc", "robust_acc")
        return {k: float(getattr(self, k)) for k in keys}


def reference_pnr_db(budget: TrainingBudget) -> float | None:
    """The one PNR (dB) standing for the training threat: ``pnr_db``, the middle of the range, or None (eps)."""
    if budget.eps is not None:
        return None
    if budget.pnr_db is not None:
        return budget.pnr_db
    return 0.5 * (budget.pnr_db_range[0] + budget.pnr_db_range[1])


def evaluation_budget(budget: TrainingBudget) -> Budget:
    """The native attacks' budget at the reference PNR (or the absolute eps), same L∞ convention."""
    pnr = reference_pnr_db(budget)
    return Budget.absolute(budget.eps) if pnr is None else Budget.pnr(pnr, budget.linf_convention)


def art_eps(
    budget: TrainingBudget, x: np.ndarray, snr_db: np.ndarray, norm: Norm, eval_snr_db: float | None = None
) -> float:
    """ART's scalar radius: the mean of our per-example radii (module docstring).

    Args:
        budget: The training threat.
        x: Training windows ``float32 [N, 2, L]``.
        snr_db: Their SNR labels (dB) ``[N]``.
        norm: The attack's norm.
        eval_snr_db: Resolve every window at this SNR (dB) instead of its own label.
    """
    snr = np.full(len(x), float(eval_snr_db)) if eval_snr_db is not None else np.asarray(snr_db, np.float64)
    return float(np.mean(evaluation_budget(budget).radius(x, snr, norm)))


def _pgd_spec(config: AdversarialTrainingConfig) -> Any:
    pgd = [e.attack for e in config.mix if e.attack.name in ("pgd_linf", "pgd_l2")]
    return pgd[0] if pgd else None


def robust_accuracy(
    model: keras.Model, data: IQDataset, config: AdversarialTrainingConfig, *, seed: int, batch_size: int = 256
) -> tuple[float, float]:
    """``(clean, robust)`` accuracy of ``model`` on ``data``; robust under our native PGD (the mix's PGD
    spec, else ``pgd_linf`` defaults) at :func:`evaluation_budget`, resolved per example."""
    from amc_tf.attacks.compiled import logits_fn
    from amc_tf.attacks.registry import build_attack
    from amc_tf.models.inference import predict_classes

    spec = _pgd_spec(config) or "pgd_linf"
    attack = build_attack(spec, model, budget=evaluation_budget(config.budget), batch_size=batch_size, seed=seed)
    x_adv = attack.generate(data.x, data.y, snr=data.snr)
    logits = logits_fn(model)
    clean = float(np.mean(predict_classes(logits, data.x, batch_size) == data.y))
    return clean, float(np.mean(predict_classes(logits, x_adv, batch_size) == data.y))


def _rotation(config: AdversarialTrainingConfig) -> list[int]:
    """Indices into the mix, one per batch of ART's cycle, in the mix's proportions (denominators ≤ 10)."""
    shares = [Fraction(e.fraction).limit_denominator(10) for e in config.mix]
    lcm = math.lcm(*(s.denominator for s in shares))
    return [i for i, s in enumerate(shares) for _ in range(max(1, int(s * lcm)))]


def _art_attack(classifier: Any, attack: OnlineAttack, eps: float, batch_size: int) -> Any:
    from art.attacks.evasion import FastGradientMethod, ProjectedGradientDescent

    p = np.inf if attack.norm is Norm.LINF else 2
    if not attack.scheduled:
        return FastGradientMethod(classifier, norm=p, eps=eps, eps_step=eps, batch_size=batch_size)
    return ProjectedGradientDescent(
        classifier,
        norm=p,
        eps=eps,
        eps_step=eps * attack.step_fraction,
        max_iter=attack.steps,
        num_random_init=1 if attack.random_start else 0,
        batch_size=batch_size,
        verbose=False,
    )


def _classifier(clf: keras.Model, masks: dict[str, np.ndarray], learning_rate: float) -> Any:
    import warnings

    with warnings.catch_warnings():  # ART warns about the backends it does not find (PyTorch)
        warnings.simplefilter("ignore")
        from art.estimators.classification import TensorFlowV2Classifier

    optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    loss = keras.losses.CategoricalCrossentropy(from_logits=True)
    by_name = {v.name: v for v in clf.trainable_variables}
    pairs = [(by_name[k], tf.constant(m, by_name[k].dtype)) for k, m in masks.items()]

    @tf.function(reduce_retracing=True)
    def train_step(model, images, labels):
        with tf.GradientTape() as tape:
            value = loss(labels, model(images, training=True)) + tf.add_n([tf.constant(0.0), *model.losses])
        variables = model.trainable_variables
        grads = tape.gradient(value, variables)
        scale = {id(v): m for v, m in pairs}
        grads = [g * scale[id(v)] if id(v) in scale else g for g, v in zip(grads, variables)]
        optimizer.apply_gradients(zip(grads, variables))
        for variable, mask in pairs:
            variable.assign(variable * mask)

    return TensorFlowV2Classifier(
        model=clf,
        nb_classes=int(clf.output_shape[-1]),
        input_shape=tuple(clf.input_shape[1:]),
        loss_object=loss,
        train_step=train_step,
        clip_values=None,
    )


@contextlib.contextmanager
def _quiet_art():
    """ART's trainer draws tqdm bars on stderr; the project's progress goes through :func:`say`."""
    import functools
    import logging
    from unittest import mock

    import art.defences.trainer.adversarial_trainer as module

    logging.getLogger("art").setLevel(logging.ERROR)
    with (
        mock.patch.object(module, "trange", functools.partial(module.trange, disable=True)),
        mock.patch.object(module, "tqdm", functools.partial(module.tqdm, disable=True)),
    ):
        yield


def art_adversarial_train(
    model: keras.Model,
    train: IQDataset,
    test: IQDataset,
    config: AdversarialTrainingConfig,
    *,
    seed: int,
    trainer: Trainer = "mix",
    eval_snr_db: float | None = None,
) -> ArtTrainingResult:
    """Train a copy of ``model`` with ART's trainer and measure it (module docstring).

    Args:
        model: Logits classifier ``float32 [N, 2, L] → [N, C]`` (not modified).
        train: Training windows, labels and SNR labels (dB).
        test: Evaluation windows for clean and robust accuracy.
        config: The online recipe (mix, budget, freeze, batch_ratio, train); ``mode`` is ignored.
        seed: Seeds TensorFlow, ART's global RNGs and the evaluation attack.
        trainer: ``mix`` or ``madry``.
        eval_snr_db: Resolve ART's eps at this SNR (dB) instead of each window's own label.

    Raises:
        ConfigError: unknown ``trainer``, ``madry`` without a PGD entry, a mix attack ART's
            trainer cannot run, an unknown ``freeze`` layer, or empty/mismatched data.
    """
    if trainer not in ("mix", "madry"):
        raise ConfigError(f"trainer must be 'mix' or 'madry', got {trainer!r}")
    if len(train) == 0 or len(test) == 0:
        raise ConfigError(f"need training and evaluation windows, got {len(train)} and {len(test)}")
    mix = [online_attack(entry.attack) for entry in config.mix]
    if trainer == "madry" and _pgd_spec(config) is None:
        raise ConfigError(f"trainer 'madry' needs a pgd_linf or pgd_l2 entry in the mix, got {[a.name for a in mix]}")
    if tuple(train.x.shape[1:]) != tuple(model.input_shape[1:]):
        raise ConfigError(f"windows of shape {train.x.shape[1:]} do not fit model input {model.input_shape[1:]}")
    set_seed(seed)
    clf, masks = prepare(model, config)
    np.random.seed(seed % 2**32)  # ART's randomness (random starts, ratio < 1 picks, shuffles)
    random.seed(seed)
    batch = config.train.batch_size
    classifier = _classifier(clf, masks, config.train.learning_rate)
    eps = {a.name: art_eps(config.budget, train.x, train.snr, a.norm, eval_snr_db) for a in mix}
    y_hot = np.eye(classifier.nb_classes, dtype=np.float32)[train.y]
    with _quiet_art():
        if trainer == "mix":
            from art.defences.trainer import AdversarialTrainer

            order = _rotation(config)
            attacks = [_art_attack(classifier, mix[i], eps[mix[i].name], batch) for i in order]
            art_trainer = AdversarialTrainer(classifier, attacks, ratio=config.batch_ratio)
            ratio = config.batch_ratio
        else:
            from art.defences.trainer import AdversarialTrainerMadryPGD

            pgd = online_attack(_pgd_spec(config))
            art_trainer = AdversarialTrainerMadryPGD(
                classifier,
                nb_epochs=config.train.epochs,
                batch_size=batch,
                eps=eps[pgd.name],
                eps_step=eps[pgd.name] * pgd.step_fraction,
                max_iter=pgd.steps,
                num_random_init=1 if pgd.random_start else 0,
            )
            art_trainer.attack.set_params(batch_size=batch, norm=np.inf if pgd.norm is Norm.LINF else 2)
            ratio, order = 1.0, [next(i for i, a in enumerate(mix) if a.name == pgd.name)]
            eps = {pgd.name: eps[pgd.name]}
        say("defend", f"ART {trainer} adversarial training of {model.name}: eps {eps}, {config.train.epochs} epoch(s)")
        t0 = time.perf_counter()
        art_trainer.fit(train.x[:batch], y_hot[:batch], batch_size=batch, nb_epochs=1)
        warmup = time.perf_counter() - t0
        t0 = time.perf_counter()
        art_trainer.fit(train.x, y_hot, batch_size=batch, nb_epochs=config.train.epochs)
        seconds = time.perf_counter() - t0
    for layer, source in zip(clf.layers, model.layers, strict=True):
        layer.trainable = source.trainable
    clean, robust = robust_accuracy(clf, test, config, seed=seed, batch_size=batch)
    epochs = config.train.epochs
    return ArtTrainingResult(
        model=clf,
        trainer=trainer,
        attacks=[mix[i].name for i in order],
        eps=eps,
        ratio=float(ratio),
        epochs=epochs,
        seconds_per_epoch=seconds / epochs,
        samples_per_s=len(train) * epochs / seconds,
        warmup_s=warmup,
        clean_acc=clean,
        robust_acc=robust,
        n_train=len(train),
        n_eval=len(test),
    )


__all__ = [
    "ArtTrainingResult",
    "art_adversarial_train",
    "art_eps",
    "evaluation_budget",
    "reference_pnr_db",
    "robust_accuracy",
]
