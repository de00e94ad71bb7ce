"""Projected gradient descent, L2 and L-infinity (Madry et al., ICLR 2018; references §10).

``steps`` ascent steps of ``step_fraction * eps`` along the steepest direction of the
cross-entropy (``sign(g)`` for L-inf, ``g/||g||_2`` for L2), each followed by the exact projection
onto the example's ball; optional uniform random start inside the ball; with ``restarts > 1``
every restart is run and, per example, the best one is kept (a misclassified result beats a
correct one, then the higher loss wins). The whole loop runs compiled (:mod:`amc_tf.attacks.graph`).

FGM/FGSM (:mod:`amc_tf.attacks.fgm`) and MI-FGSM (:mod:`amc_tf.attacks.mifgsm`) are this class
with fixed settings, not copies of it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from amc_tf.attacks.base import Attack, check_float, check_int
from amc_tf.attacks.budgets import Budget, Norm
from amc_tf.attacks.graph import MICRO_BATCH, iterative_fn
from amc_tf.errors import AttackError
from amc_tf.runtime import rng as make_rng
from amc_tf.runtime import tf


def random_start(generator: np.random.Generator, shape: tuple[int, ...], radius: np.ndarray, norm: Norm) -> np.ndarray:
    """Uniform draws in per-example balls: ``float32 [N, 2, L]`` inside radius ``[N]`` in ``norm``."""
    n = shape[0]
    r = radius.astype(np.float64).reshape(-1, 1, 1)
    if norm is Norm.LINF:
        return (generator.uniform(-1.0, 1.0, size=shape) * r).astype(np.float32)
    d = int(np.prod(shape[1:]))
    g = generator.standard_normal(size=shape)
    g /= np.maximum(np.linalg.norm(g.reshape(n, -1), axis=1), 1e-30).reshape(-1, 1, 1)
    u = generator.uniform(size=(n, 1, 1)) ** (1.0 / d)
    return (g * u * r).astype(np.float32)


class PGD(Attack):
    """Projected gradient descent within a per-example L2 or L-inf ball.

    Args:
        model: I/Q classifier with logits, input ``[N, 2, L]``.
        budget: The threat (PNR/PSR dB or absolute radius), resolved by :mod:`~amc_tf.attacks.budgets`.
        norm: ``"linf"`` (radius ``eps/sqrt(2L)``) or ``"l2"``.
        steps: Number of gradient steps (>= 1).
        step_fraction: Step size as a fraction of the radius (0.25 = Madry's 2.5 eps / 10 steps).
        random_start: Start from a uniform draw inside the ball.
        restarts: Independent runs; the best per example is kept (> 1 needs ``random_start``).
        batch_size: Examples per compiled call.
        seed: Seed of the random starts (same seed and input, same output).
        micro_batch: Examples per micro-batch inside a compiled call: ``"auto"`` (sized from
            the model's activations), an int, or None (the whole batch, which reproduces ART's
            float rounding bit for bit; see :mod:`amc_tf.attacks.graph`).
    """

    name = "pgd"
    #: MI-FGSM's decay ``mu``; None = plain PGD (no momentum).
    momentum: float | None = None

    def __init__(
        self,
        model: Any,
        *,
        budget: Budget,
        norm: Norm | str = Norm.LINF,
        steps: int = 10,
        step_fraction: float = 0.25,
        random_start: bool = True,
        restarts: int = 1,
        batch_size: int = 256,
        seed: int = 0,
        micro_batch: int | str | None = MICRO_BATCH,
    ):
        super().__init__(model, budget=budget, norm=norm, batch_size=batch_size, seed=seed, micro_batch=micro_batch)
        self.steps = check_int("steps", steps, 1, 10_000)
        self.step_fraction = check_float("step_fraction", step_fraction, 0.0, 10.0, low_open=True)
        if not isinstance(random_start, bool):
            raise AttackError(f"random_start must be True or False, got {random_start!r}")
        self.random_start = random_start
        self.restarts = check_int("restarts", restarts, 1, 1000)
        if self.restarts > 1 and not self.random_start:
            raise AttackError("restarts > 1 needs random_start=True (without it every restart is identical)")

    def _generate(self, x: np.ndarray, y: np.ndarray, radius: np.ndarray) -> np.ndarray:
        generator = make_rng(self.seed)
        momentum = self.momentum is not None
        fn = iterative_fn(
            self.model, self.n_classes, self.norm, self.steps, momentum, score=self.restarts > 1, parts=self.parts
        )
        mu = tf.constant(0.0 if self.momentum is None else self.momentum, tf.float32)
        step = (radius * np.float32(self.step_fraction)).astype(np.float32)
        best = np.empty_like(x)
        best_loss = np.full(x.shape[0], -np.inf, np.float32)
        best_correct = np.ones(x.shape[0], bool)
        for restart in range(self.restarts):
            delta0 = random_start(generator, x.shape, radius, self.norm) if self.random_start else np.zeros_like(x)
            for i, j in self.batches(x.shape[0]):
                x_adv, loss, correct = fn(x[i:j], y[i:j], radius[i:j], step[i:j], delta0[i:j], mu)
                if restart == 0:
                    best[i:j] = x_adv.numpy()
                    best_loss[i:j], best_correct[i:j] = loss.numpy(), correct.numpy()
                    continue
                loss, correct = loss.numpy(), correct.numpy()
                better = (~correct & best_correct[i:j]) | ((correct == best_correct[i:j]) & (loss > best_loss[i:j]))
                idx = np.arange(i, j)[better]
                best[idx] = x_adv.numpy()[better]
                best_loss[idx], best_correct[idx] = loss[better], correct[better]
        return best

    def settings(self) -> dict[str, Any]:
        return {
            **super().settings(),
            "steps": self.steps,
            "step_fraction": self.step_fraction,
            "random_start": self.random_start,
            "restarts": self.restarts,
            "seed": self.seed,
        }
