"""Adversarial training of a per-cell regressor (Manoj et al.; references §8.1).

Examples of the training set are crafted (PGDM by default, at the training ε of
``adversarial.eps_m`` in the attack settings' ``eps_unit``, inside the data domain, maximising
``adversarial.objective``) against the standard model of the same cell and labelled with the
*true* powers of the clean positions: the point is to teach the model to ignore the perturbation.
The objective should be the threat the model is evaluated against: ``regression_loss`` (the
squared error to the optimal powers, the sum-SE view's attack, the default) or ``total_power``
(the infeasibility attack of the success tables); a model trained against one is not robust to
the other, so ``both`` crafts every example once per objective and trains on the two sets
together. The robust model starts from the standard model's weights and is trained on the
adversarial set — as the paper — or on clean + adversarial examples (``mix_clean``), with early
stopping on an adversarial validation set crafted the same way. All attacks are then re-run,
white-box, against the new model.
"""

from __future__ import annotations

import numpy as np

from amc_tf.config.mimo import MimoAdversarialConfig, MimoAttackConfig, MimoTrainConfig
from amc_tf.mimo.cell_attacks import build_cell_attack
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
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
    input_transform: str | None = None,
) -> tuple[keras.Model, dict]:
    """Train a robust copy of ``standard`` on attacked examples with the true powers.

    Args:
        standard: The trained standard model of this cell (crafts the examples; initial weights).
        arch: Its architecture.
        x_train, y_train: Clean training positions ``float32 [N, F]`` and targets ``[N, K + 1]``.
        x_val, y_val: Clean validation set (its PGDM version drives early stopping).
        train: Training settings.
        adversarial: Attack, its objective, budget and mixing.
        attack: Unit, steps and iterations of the attacks (the paper's by default).
        seed: Seed.
        bounds: The data domain the crafted positions stay in.
        input_transform: The standard model's input transform (default: ``train``'s).

    Returns:
        ``(model, history)`` as :func:`amc_tf.mimo.training.train_cell_model`.
    """
    k = y_train.shape[1] - 1  # the attack's targets: the K optimal powers (not their sum)
    crafted, crafted_val = [], []
    for objective in adversarial.objectives():
        crafter = build_cell_attack(
            adversarial.attack,
            standard,
            adversarial.eps_m,
            attack or MimoAttackConfig(),
            seed=seed,
            bounds=bounds,
            objective=objective,
        )
        crafted.append(crafter.generate(x_train, y_train[:, :k]))
        crafted_val.append(crafter.generate(x_val, y_val[:, :k]))
    copies = len(crafted)
    x_adv, y_adv = np.concatenate(crafted), np.concatenate([y_train] * copies)
    x_adv_val, y_adv_val = np.concatenate(crafted_val), np.concatenate([y_val] * copies)
    if adversarial.mix_clean:
        x_fit, y_fit = np.concatenate([x_train, x_adv]), np.concatenate([y_train, y_adv])
    else:
        x_fit, y_fit = x_adv, y_adv
    model, history = train_cell_model(
        arch, x_fit, y_fit, x_adv_val, y_adv_val, train, seed=seed, init_from=standard, input_transform=input_transform
    )
    unit = (attack or MimoAttackConfig()).eps_unit.value
    return model, {
        **history,
        "attack": adversarial.attack.value,
        "objective": adversarial.objective_label(),
        "eps": adversarial.eps_m,
        "eps_unit": unit,
        "mix_clean": adversarial.mix_clean,
    }
