"""Projected gradient descent, L2 and L-infinity (Madry et al., ICLR 2018; references §10).

``steps`` ascent steps of ``step_fraction * eps`` along the steepest direction of the
cross-entropy (``sign(g)`` for L-inf, ``g/||g||_2`` for L2), each followed by the exact projection
onto the example's ball; optional uniform random start inside the ball; with ``restarts > 1``
every restart is run and, per example, the best one is kept (a misclassified result beats a
correct one, then the higher loss wins). The whole loop runs compiled
(:mod:`amc_tf.attacks.compiled`). FGM/FGSM (:mod:`~amc_tf.attacks.evasion.fgm`) and MI-FGSM
(:mod:`~amc_tf.attacks.evasion.mifgsm`) are this class with other loop settings (:meth:`PGD.loop`),
not copies of it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from amc_tf.attacks.base import Attack
from amc_tf.attacks.budgets import Budget, Norm
from amc_tf.attacks.compiled import iterative_fn
from amc_tf.attacks.settings import PGDL2Settings, PGDLinfSettings, PGDSettings
from amc_tf.runtime import rng as make_rng
from amc_tf.runtime import tf


class Loop(NamedTuple):
    """What the compiled loop runs: ``steps`` steps of ``step_fraction x radius``, momentum ``mu``."""

    steps: int
    step_fraction: float
    random_start: bool
    restarts: int
    momentum: float | None  # MI-FGSM's decay; None = plain PGD


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
    """Projected gradient descent within a per-example L2 or L-inf ball (L-inf unless ``norm="l2"``).

    Settings: :class:`PGDSettings`. ``budget`` is the threat (PNR/PSR dB or absolute radius) resolved
    by :mod:`~amc_tf.attacks.budgets`; ``seed`` seeds the random starts; ``micro_batch=None`` runs
    whole batches, which reproduces ART's float rounding bit for bit.
    """

    name = "pgd"
    Settings = PGDSettings
    default_norm = Norm.LINF
    norms = (Norm.LINF, Norm.L2)

    def __init__(self, model: Any, *, budget: Budget, norm: Norm | str | None = None, **settings: Any):
        super().__init__(model, budget=budget, norm=norm, **settings)
        self.steps, self.step_fraction, self.random_start, self.restarts, self.momentum = self.loop()

    def loop(self) -> Loop:
        """The loop settings of this attack (subclasses derive them from their own settings)."""
        s = self.spec
        return Loop(s.steps, s.step_fraction, s.random_start, s.restarts, None)

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


class PGDL2(PGD):
    """PGD in the L2 norm (registry ``pgd_l2``)."""

    name = "pgd_l2"
    Settings = PGDL2Settings
    default_norm = Norm.L2
    norms = (Norm.L2,)


class PGDLinf(PGD):
    """PGD in the L-infinity norm (registry ``pgd_linf``): radius ``eps / sqrt(2L)``, or ``eps``
    under the budget's ``same_eps`` convention (:class:`~amc_tf.attacks.budgets.LinfConvention`)."""

    name = "pgd_linf"
    Settings = PGDLinfSettings
    norms = (Norm.LINF,)
