"""Adversarial training of a per-cell regressor (Manoj et al.; references §8.1).

PGDM examples of the training set are crafted against the standard model of the same cell and
labelled with the *true* powers of the clean positions (a perturbation of < 0.5 m barely moves the
optimum, and the point is to teach the model to ignore it). The robust model starts from the
standard model's weights and is trained on clean + adversarial examples (or adversarial only),
with early stopping on an adversarial validation set crafted the same way. All attacks are then
re-run, white-box, against the new model.
"""

from __future__ import annotations

import numpy as np

from amc_tf.config.mimo import MimoAdversarialConfig, MimoAttackConfig, MimoTrainConfig
from amc_tf.mimo.cell_attacks import CellPGDM
from amc_tf.mimo.training import train_cell_model
from amc_tf.models.mimo_arch import Arch
from amc_tf.runtime import keras


def adversarial_train(
    standard: keras.Model,
    arch: Arch | str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    train: MimoTrainConfig,
    adversarial: MimoAdversarialConfig,
    attack: MimoAttackConfig | None = None,
    *,
    seed: int = 0,
) -> tuple[keras.Model, dict]:
    """Train a robust copy of ``standard`` on PGDM examples with the true powers.

    Args:
        standard: The trained standard model of this cell (crafts the examples; initial weights).
        arch: Its architecture.
        x_train, y_train: Clean training positions ``float32 [N, F]`` and targets ``[N, K + 1]``.
        x_val, y_val: Clean validation set (its PGDM version drives early stopping).
        train: Training settings.
        adversarial: Budget and mixing.
        attack: PGDM step and iterations (the paper's by default).
        seed: Seed.

    Returns:
        ``(model, history)`` as :func:`amc_tf.mimo.training.train_cell_model`.
    """
    s = attack or MimoAttackConfig()
    pgd = CellPGDM(standard, eps=adversarial.eps_m, step=s.pgd_step_m, iterations=s.pgd_iters, seed=seed)
    x_adv, x_adv_val = pgd.generate(x_train), pgd.generate(x_val)
    if adversarial.mix_clean:
        x_fit, y_fit = np.concatenate([x_train, x_adv]), np.concatenate([y_train, y_train])
    else:
        x_fit, y_fit = x_adv, y_train
    model, history = train_cell_model(arch, x_fit, y_fit, x_adv_val, y_val, train, seed=seed, init_from=standard)
    return model, {**history, "eps_m": adversarial.eps_m, "mix_clean": adversarial.mix_clean}
