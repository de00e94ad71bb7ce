"""In-graph adversarial examples for online adversarial training: budget and attack steps as tensors.

Written by hand rather than taken from ART (design D10): ART's ``AdversarialTrainer`` calls its
attacks through NumPy once per batch, with weight gradients and host copies on every step; here the
budget and the attack loop are TensorFlow ops traced into the trainer's ``train_step``, so one
compiled call crafts and trains. The budget is :mod:`amc_tf.attacks.budgets`' formula evaluated per
example from its SNR label (``eps = sqrt(PNR·||x||²/(snr+1))``, L∞ radius ``eps/sqrt(2L)`` under the
energy-matched convention, ``eps`` under ``same_eps``; an absolute ``eps`` is the radius in the
attack's own norm). The steps reuse :mod:`amc_tf.attacks.compiled`'s direction, projection and
input-only gradient (``watch_accessed_variables=False``: no weight gradient is ever formed), so an
online FGM/FGSM/PGD step is the native attack's step, operation for operation. Random draws are
stateless, seeded by ``(seed, optimizer step)``: a resumed training draws what it would have drawn.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from amc_tf.attacks.budgets import LinfConvention, Norm
from amc_tf.attacks.compiled import loss_and_gradient, project_ball, split_apply, steepest_direction
from amc_tf.config.defense import ONLINE_ATTACKS, TrainingBudget
from amc_tf.errors import ConfigError
from amc_tf.runtime import tf


class OnlineAttack(NamedTuple):
    """One online attack: ``steps`` steps of ``step_fraction × radius`` in ``norm``.

    ``scheduled`` attacks (PGD) take their step count from the trainer's per-epoch k schedule.
    """

    name: str
    norm: Norm
    steps: int
    step_fraction: float
    random_start: bool
    scheduled: bool


def online_attack(spec: Any) -> OnlineAttack:
    """The online form of a registry attack spec (``fgm``, ``fgsm``, ``pgd_l2``, ``pgd_linf``).

    Raises:
        ConfigError: any other attack, or PGD with restarts.
    """
    name = spec.name
    if name not in ONLINE_ATTACKS:
        raise ConfigError(f"attack {name!r} cannot run online; online-capable attacks: {list(ONLINE_ATTACKS)}")
    if name in ("fgm", "fgsm"):
        return OnlineAttack(name, Norm.L2 if name == "fgm" else Norm.LINF, 1, 1.0, False, False)
    if spec.restarts > 1:
        raise ConfigError(f"online {name} runs one restart, got restarts={spec.restarts}")
    norm = Norm.L2 if name == "pgd_l2" else Norm.LINF
    return OnlineAttack(name, norm, spec.steps, spec.step_fraction, spec.random_start, True)


def example_pnr_db(budget: TrainingBudget, n: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Each example's PNR (dB) ``float32 [n]``: the fixed value, or uniform draws in the range
    (zeros, unused, for an absolute budget)."""
    if budget.eps is not None:
        return tf.zeros([n], tf.float32)
    if budget.pnr_db_range is None:
        return tf.fill([n], tf.constant(budget.pnr_db, tf.float32))
    lo, hi = budget.pnr_db_range
    return tf.random.stateless_uniform([n], seed, minval=lo, maxval=hi, dtype=tf.float32)


def radius(budget: TrainingBudget, x: tf.Tensor, snr_db: tf.Tensor, pnr_db: tf.Tensor | None, norm: Norm) -> tf.Tensor:
    """Per-example radius ``float32 [N]`` in ``norm`` (the formula of :mod:`amc_tf.attacks.budgets`).

    Args:
        budget: The training threat.
        x: Clean windows ``float32 [N, 2, L]``.
        snr_db: Their SNR labels in dB ``float32 [N]``.
        pnr_db: Their PNR in dB ``float32 [N]`` (:func:`example_pnr_db`; unused for an absolute eps).
        norm: The attack's norm.
    """
    if budget.eps is not None:
        return tf.fill(tf.shape(x)[:1], tf.constant(budget.eps, tf.float32))
    x64 = tf.cast(x, tf.float64)
    energy = tf.reduce_sum(tf.square(x64), axis=[1, 2])
    ten = tf.constant(10.0, tf.float64)
    ratio = tf.pow(ten, tf.cast(pnr_db, tf.float64) / 10.0) / (tf.pow(ten, tf.cast(snr_db, tf.float64) / 10.0) + 1.0)
    l2 = tf.sqrt(ratio * energy)
    if norm is Norm.LINF and budget.linf_convention is LinfConvention.ENERGY_MATCHED:
        l2 = l2 / math.sqrt(2 * int(x.shape[2]))
    return tf.cast(l2, tf.float32)


def random_start(shape: tf.Tensor, eps: tf.Tensor, norm: Norm, seed: tf.Tensor) -> tf.Tensor:
    """Uniform draws in per-example balls ``[N, 2, L]`` of radius ``eps [N]`` (as the native PGD's)."""
    e = tf.reshape(eps, (-1, 1, 1))
    if norm is Norm.LINF:
        return tf.random.stateless_uniform(shape, seed, minval=-1.0, maxval=1.0) * e
    g = tf.random.stateless_normal(shape, seed)
    n = tf.maximum(tf.norm(tf.reshape(g, (shape[0], -1)), axis=1), 1e-30)
    d = tf.cast(tf.reduce_prod(shape[1:]), tf.float32)
    u = tf.random.stateless_uniform(shape[:1], seed + 1) ** (1.0 / d)
    return g * tf.reshape(u / n, (-1, 1, 1)) * e


def craft(
    model: Any,
    attack: OnlineAttack,
    x: tf.Tensor,
    y: tf.Tensor,
    eps: tf.Tensor,
    *,
    n_classes: int,
    steps: tf.Tensor | int,
    seed: tf.Tensor,
    parts: int = 1,
) -> tf.Tensor:
    """Adversarial windows ``float32 [N, 2, L]`` within ``eps`` of ``x`` (inference-mode model).

    Args:
        model: The classifier (logits).
        attack: What to run (:func:`online_attack`).
        x: Clean windows ``float32 [N, 2, L]``; ``y``: their labels ``int64 [N]`` or soft labels
            ``float32 [N, C]`` (:func:`input_gradient`).
        eps: Radii ``float32 [N]`` in the attack's norm (:func:`radius`).
        n_classes: Logits width.
        steps: Step count (a Python int, or an int32 tensor for the PGD-k schedule).
        seed: Stateless seed ``int64 [2]`` of the random start.
        parts: Micro-batches per gradient call (:func:`amc_tf.attacks.compiled.split_apply`).
    """
    step = tf.reshape(eps * attack.step_fraction, (-1, 1, 1))
    start = x + random_start(tf.shape(x), eps, attack.norm, seed) if attack.random_start else x

    def body(i, x_adv):
        grad = split_apply(lambda a, b: input_gradient(model, a, b, n_classes), parts, x_adv, y)
        x_adv = x_adv + step * steepest_direction(grad, attack.norm)
        return i + 1, project_ball(x_adv - x, eps, attack.norm) + x

    if isinstance(steps, int) and steps == 1:
        x_adv = body(0, start)[1]
    else:
        x_adv = tf.while_loop(lambda i, _: i < steps, body, (tf.constant(0, tf.int32), start))[1]
    return tf.stop_gradient(x_adv)


def input_gradient(model: Any, x: tf.Tensor, y: tf.Tensor, n_classes: int) -> tf.Tensor:
    """Input gradient ``[N, 2, L]`` of the summed cross-entropy against integer labels ``int64 [N]``
    (:func:`amc_tf.attacks.compiled.loss_and_gradient`) or soft labels ``float32 [N, C]`` (rows
    summing to 1: CAT crafts against its smoothed label)."""
    if y.dtype.is_integer:
        return loss_and_gradient(model, x, y, n_classes)[1]
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(x)
        logits = model(x, training=False)
        total = tf.reduce_sum(tf.nn.softmax_cross_entropy_with_logits(tf.cast(y, logits.dtype), logits))
    return tape.gradient(total, x)


def split_counts(n: tf.Tensor, fractions: list[float]) -> list[tf.Tensor]:
    """Sizes ``[n_1, ..., n_k]`` (int32, summing to ``n``) of the mix's shares of a batch of ``n``."""
    bounds = [tf.constant(0, tf.int32)]
    acc = 0.0
    for fraction in fractions[:-1]:
        acc += fraction
        bounds.append(tf.cast(tf.round(tf.cast(n, tf.float32) * acc), tf.int32))
    bounds.append(tf.cast(n, tf.int32))
    return [bounds[i + 1] - bounds[i] for i in range(len(fractions))]


__all__ = [
    "OnlineAttack",
    "craft",
    "example_pnr_db",
    "input_gradient",
    "online_attack",
    "radius",
    "random_start",
    "split_counts",
]
