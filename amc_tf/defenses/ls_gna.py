"""LS-GNA — label smoothing plus Gaussian noise augmentation, the baseline CAT is compared with.

Every training window, each time it is seen, gets additive white Gaussian noise whose level is a
PNR in dB with the window's own SNR label — the project's unit for any perturbation
(:mod:`amc_tf.attacks.budgets`): a PNR drawn uniformly in ``noise_pnr_db`` per window and step, and
i.i.d. ``N(0, σ²)`` on each of the 2L real entries with ``2L·σ² = PNR·||x||²/(snr + 1)``, so the
noise's *expected* energy is exactly the PNR's (the realised energy scatters around it by
``±sqrt(2/(2L))`` relatively; :func:`gaussian_noise`). The label is smoothed towards uniform,
``(1 − α)·onehot + α/C`` (Keras' ``label_smoothing``), and the loss is the soft-label
cross-entropy. A ``train_step`` of :class:`~amc_tf.defenses.hardening_model.SoftLabelTrainer`
(frozen layers, pruning masks, stateless seeds), because the noise level depends on each window's
SNR label, which Keras' ``GaussianNoise`` layer cannot see.
"""

from __future__ import annotations

import math
from pathlib import Path

from amc_tf.attacks.budgets import Norm
from amc_tf.config.defense import TrainingBudget
from amc_tf.config.hardening import LsGnaConfig
from amc_tf.data.dataset import IQDataset
from amc_tf.defenses.adversarial_model import pack_snr
from amc_tf.defenses.adversarial_steps import example_pnr_db, radius
from amc_tf.defenses.hardening_model import SoftLabelTrainer, run_recipe
from amc_tf.defenses.hardening_results import LsGnaResult, training_summary
from amc_tf.progress import say
from amc_tf.runtime import keras, tf


def noise_budget(config: LsGnaConfig) -> TrainingBudget:
    """The noise level as a training budget: a PNR range (or one PNR when ``lo == hi``)."""
    lo, hi = config.noise_pnr_db
    return TrainingBudget(pnr_db=lo) if lo == hi else TrainingBudget(pnr_db_range=(lo, hi))


def gaussian_noise(x: tf.Tensor, snr_db: tf.Tensor, pnr_db: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """AWGN ``float32 [N, 2, L]`` whose expected energy is the PNR ``pnr_db [N]`` (dB) of each window.

    Args:
        x: Clean windows ``float32 [N, 2, L]``; snr_db: their SNR labels ``float32 [N]`` (dB).
        pnr_db: The noise PNR of each window ``float32 [N]`` (dB).
        seed: Stateless seed ``int64 [2]``.
    """
    level = radius(TrainingBudget(pnr_db=0.0), x, snr_db, pnr_db, Norm.L2)  # sqrt of the expected energy
    sigma = level / math.sqrt(2 * int(x.shape[2]))
    return tf.random.stateless_normal(tf.shape(x), seed) * tf.reshape(sigma, (-1, 1, 1))


class LsGnaTrainer(SoftLabelTrainer):
    """Classifier + noisy windows and smoothed labels in ``train_step``; fit on :func:`pack_snr` data.

    Args:
        classifier: Logits model ``[N, 2, L] → [N, C]``; frozen layers already ``trainable = False``.
        config: The recipe.
        masks, seed: As :class:`~amc_tf.defenses.hardening_model.SoftLabelTrainer`.

    Metrics: ``loss`` (smoothed cross-entropy) and ``accuracy`` of the noisy batch.
    """

    def __init__(self, classifier: keras.Model, config: LsGnaConfig, *, masks=None, seed: int = 0):
        batch = config.train.batch_size
        super().__init__(
            classifier, noise_budget(config), masks=masks, seed=seed, batch_size=batch, name=f"{classifier.name}_lsgna"
        )
        self.smoothing = float(config.smoothing)

    def noisy(self, x: tf.Tensor, snr: tf.Tensor) -> tf.Tensor:
        """``x`` plus this step's noise (:func:`gaussian_noise` at per-window PNR draws)."""
        pnr = example_pnr_db(self.budget, tf.shape(x)[0], self._seed(1))
        return x + gaussian_noise(x, snr, pnr, self._seed(2))

    def train_step(self, data):
        packed, y = data[0], tf.reshape(tf.cast(data[1], tf.int64), [-1])
        x, snr = self.unpack(packed)
        target = tf.one_hot(y, self.n_classes) * (1.0 - self.smoothing) + self.smoothing / self.n_classes
        return self.fit_soft(self.noisy(x, snr), y, target)


def ls_gna_train(
    model: keras.Model,
    train: IQDataset,
    val: IQDataset | None,
    config: LsGnaConfig,
    *,
    seed: int,
    checkpoint_dir: str | Path | None = None,
) -> tuple[keras.Model, LsGnaResult]:
    """Train a copy of ``model`` with label smoothing and Gaussian noise augmentation.

    Args:
        model: Logits classifier ``float32 [N, 2, L] → [N, C]`` (trained, or freshly built).
        train: Training windows, integer labels and SNR labels (dB).
        val: Clean validation set (early stopping when ``config.train.patience > 0``; else optional).
        config: The recipe (:class:`~amc_tf.config.hardening.LsGnaConfig`).
        seed: Seeds TensorFlow and every noise draw (same seed, same numbers on CPU).
        checkpoint_dir: Per-epoch checkpoints; an interrupted run resumes from them.

    Returns:
        ``(classifier, result)``: the trained plain classifier (original ``trainable`` flags,
        loadable by :func:`amc_tf.models.loading.load_model`) and :class:`LsGnaResult`.

    Raises:
        ConfigError: an unknown ``freeze`` layer or a model/data mismatch.
    """
    lo, hi = config.noise_pnr_db
    say("ls-gna", f"LS-GNA of {model.name}: smoothing {config.smoothing:g}, noise U[{lo:g}, {hi:g}] dB PNR")
    run = run_recipe(
        model,
        pack_snr(train),
        val,
        config,
        lambda clf, masks: LsGnaTrainer(clf, config, masks=masks, seed=seed),
        seed=seed,
        label="ls-gna",
        checkpoint_dir=checkpoint_dir,
    )
    result = LsGnaResult(**training_summary(run, len(train)), smoothing=config.smoothing, noise_pnr_db=(lo, hi))
    return run.model, result


__all__ = ["LsGnaTrainer", "gaussian_noise", "ls_gna_train", "noise_budget"]
