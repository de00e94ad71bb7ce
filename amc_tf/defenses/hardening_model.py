"""The shared base of the soft-label training recipes (CAT, LS-GNA) and the run they share.

Both recipes train against a soft label they build per example inside ``train_step``, which
Keras' compiled sparse loss cannot take, so :class:`SoftLabelTrainer` extends
:class:`~amc_tf.defenses.adversarial_model.AdversarialTrainer` (its frozen layers, pruning masks,
SNR column and stateless seeds) with a soft-label cross-entropy step and its own metric trackers.
Validation (``test_step``) is the plain clean loss and accuracy with hard labels, so early stopping
and best-weight selection watch the same ``val_loss`` as every other training of the project.
:func:`run_recipe` is the entry points' common body: copy and freeze (the adversarial trainer's
:func:`~amc_tf.defenses.adversarial_training.prepare`), fit through
:func:`~amc_tf.training.fit.fit_classifier` (checkpoints, resume), hand back the plain classifier.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from amc_tf.config.defense import AdversarialTrainingConfig, TrainingBudget
from amc_tf.data.dataset import IQDataset
from amc_tf.defenses.adversarial_model import AdversarialTrainer, EpochControl
from amc_tf.defenses.adversarial_training import prepare
from amc_tf.progress import say
from amc_tf.runtime import keras, set_seed, tf
from amc_tf.training.fit import TrainResult, fit_classifier


class SoftLabelTrainer(AdversarialTrainer):
    """Classifier + a ``train_step`` on soft labels (subclasses build the batch and the labels).

    Args:
        classifier: Logits model ``[N, 2, L] → [N, C]``; frozen layers already ``trainable = False``.
        budget: The recipe's PNR budget (its radius formula is :func:`~amc_tf.defenses.adversarial_steps.radius`).
        masks: ``{variable name: 0/1 array}`` of pruned weights kept at zero.
        seed: Seed of the stateless draws (combined with the optimizer step).
        batch_size: Nominal batch (sizes the micro-batches of gradient calls).

    Metrics: ``loss`` (soft-label cross-entropy, batch mean) and ``accuracy`` (against the hard
    label) of the batch trained on; validation reports the clean hard-label ``loss`` and ``accuracy``.
    """

    def __init__(
        self,
        classifier: keras.Model,
        budget: TrainingBudget,
        *,
        masks: dict[str, np.ndarray] | None = None,
        seed: int = 0,
        batch_size: int = 256,
        **kwargs,
    ) -> None:
        super().__init__(classifier, [], budget, masks=masks, seed=seed, batch_size=batch_size, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(name="accuracy")

    @property
    def metrics(self):
        return [self.loss_tracker, self.accuracy_tracker]

    def unpack(self, packed: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """``(x [N, 2, L], snr_db [N])`` from :func:`~amc_tf.defenses.adversarial_model.pack_snr` columns."""
        return packed[:, :, : self.window], packed[:, 0, self.window]

    def fit_soft(self, x: tf.Tensor, y: tf.Tensor, target: tf.Tensor) -> dict[str, tf.Tensor]:
        """One optimizer step on ``x [N, 2, L]`` against soft labels ``target float32 [N, C]``.

        Returns:
            The trackers' current values (``loss``, ``accuracy`` against ``y int64 [N]``).
        """
        with tf.GradientTape() as tape:
            logits = self.classifier(x, training=True)
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(target, logits))
            if self.classifier.losses:
                loss = loss + tf.add_n(self.classifier.losses)
        self.apply_masked_gradients(tape, loss)
        self.loss_tracker.update_state(loss)
        self.accuracy_tracker.update_state(y, logits)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x, y = data[0], tf.reshape(tf.cast(data[1], tf.int64), [-1])
        logits = self(x, training=False)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
        self.loss_tracker.update_state(loss)
        self.accuracy_tracker.update_state(y, logits)
        return {m.name: m.result() for m in (self.loss_tracker, self.accuracy_tracker)}


@dataclass(frozen=True)
class RecipeRun:
    """What :func:`run_recipe` hands to an entry point: the trainer, its fit and the layer facts."""

    trainer: SoftLabelTrainer
    model: keras.Model
    fitted: TrainResult
    masks: dict[str, np.ndarray]
    frozen_layers: list[str]
    frozen_params: int
    trainable_params: int


def run_recipe(
    model: keras.Model,
    packed_train: IQDataset,
    val: IQDataset | None,
    config,
    build: Callable[[keras.Model, dict[str, np.ndarray]], SoftLabelTrainer],
    *,
    seed: int,
    label: str,
    checkpoint_dir: str | Path | None = None,
) -> RecipeRun:
    """Copy ``model``, freeze ``config.freeze``, train ``build(copy, masks)`` on ``packed_train``.

    Args:
        model: Logits classifier ``float32 [N, 2, L] → [N, C]`` (not modified).
        packed_train: Training windows with the trainer's extra time columns (SNR, ...).
        val: Clean validation windows ``[M, 2, L]`` (or None).
        config: A :class:`~amc_tf.config.hardening.CatConfig` or ``LsGnaConfig``.
        build: Makes the trainer around the prepared copy and its pruning masks.
        seed: Seeds TensorFlow (shuffling, initial state) before anything is built.
        label: Progress label of the per-epoch lines.
        checkpoint_dir: Per-epoch checkpoints (resume), as :func:`~amc_tf.training.fit.fit_classifier`.

    Raises:
        ConfigError: an unknown ``freeze`` layer, or a model/data mismatch.
    """
    set_seed(seed)
    freezing = AdversarialTrainingConfig(
        freeze=list(config.freeze), keep_sparsity=config.keep_sparsity, min_sparsity=config.min_sparsity
    )
    clf, masks = prepare(model, freezing)
    trainer = build(clf, masks)
    say(label, f"{model.name}: {len(packed_train)} windows, {len(masks)} masked weights, frozen {list(config.freeze)}")
    fitted = fit_classifier(
        trainer,
        packed_train,
        val,
        config.train,
        callbacks=[EpochControl(trainer, lambda _: None, label=label)],
        checkpoint_dir=checkpoint_dir,
    )
    frozen = sum(int(np.prod(w.shape)) for name in config.freeze for w in clf.get_layer(name).weights)
    trainable = sum(int(np.prod(w.shape)) for w in clf.trainable_weights)
    for layer, source in zip(clf.layers, model.layers, strict=True):
        layer.trainable = source.trainable
    return RecipeRun(trainer, clf, fitted, masks, list(config.freeze), frozen, trainable)


__all__ = ["RecipeRun", "SoftLabelTrainer", "run_recipe"]
