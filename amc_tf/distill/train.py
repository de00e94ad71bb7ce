"""Train a student by distillation with the project's training recipe (early stopping, best weights)."""

from __future__ import annotations

from pathlib import Path

from amc_tf.config.compress import DistillConfig
from amc_tf.config.train import TrainConfig
from amc_tf.data.dataset import IQDataset
from amc_tf.distill import DISTILLERS
from amc_tf.runtime import keras
from amc_tf.training.fit import TrainResult, fit_classifier


def distill_student(
    student: keras.Model,
    teacher: keras.Model,
    train: IQDataset,
    val: IQDataset | None,
    distill: DistillConfig,
    recipe: TrainConfig,
    *,
    callbacks: list[keras.callbacks.Callback] | None = None,
    checkpoint_dir: str | Path | None = None,
) -> TrainResult:
    """Distil ``teacher`` into ``student`` (trained in place; the teacher is frozen).

    Args:
        student: Logits model ``[N, 2, L] → [N, K]`` to train.
        teacher: Trained logits model with the same ``K``.
        train: Training windows and integer labels.
        val: Validation set for early stopping / best-weight selection (``recipe.monitor``:
            ``val_loss`` is the total distillation loss, ``val_accuracy`` the student's accuracy).
        distill: Method (``hinton`` / ``response``), alpha, temperature, T² scaling.
        recipe: Optimiser and schedule (Adam learning rate, batch, epochs, patience).
        callbacks: Extra Keras callbacks.
        checkpoint_dir: Checkpoint every epoch there and resume from it (see
            :func:`~amc_tf.training.fit.fit_classifier`).

    Returns:
        The :class:`~amc_tf.training.fit.TrainResult`; its history holds ``loss``,
        ``student_loss`` (CE), ``distillation_loss`` (KL, times T² when ``scale_t2``) and ``accuracy`` (+ ``val_``).
    """
    distiller = DISTILLERS[distill.method](
        student, teacher, alpha=distill.alpha, temperature=distill.temperature, scale_t2=distill.scale_t2
    )
    return fit_classifier(distiller, train, val, recipe, callbacks=callbacks, checkpoint_dir=checkpoint_dir)
