"""Moosavi-Dezfooli et al.'s iterative universal perturbation (CVPR 2017).

Visit the fit examples in random order; whenever ``x + v`` still has its label, run the inner
attack (DeepFool, or FGM at the full radius) on ``x + v`` and, if it flips the label, set ``v`` to
the projection of ``x_adv - x`` onto the ball; stop after ``max_passes`` passes or when the
fooling rate reaches ``1 - delta``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from amc_tf.attacks.budgets import Budget, Norm, project
from amc_tf.attacks.evasion.deepfool import DeepFool
from amc_tf.attacks.evasion.fgm import FGM
from amc_tf.attacks.settings import IterativeUniversalSettings
from amc_tf.attacks.universal.base import UniversalAttack
from amc_tf.runtime import rng as make_rng


class IterativeUniversal(UniversalAttack):
    """Moosavi-Dezfooli's universal perturbation with an inner per-example attack; ``seed`` seeds
    the visiting order.

    Attributes:
        fooling_rate: Fooling rate on the fit data after :meth:`fit`.
    """

    name = "uap_iterative"
    Settings = IterativeUniversalSettings
    needs_class_gradients = True

    def __init__(self, model: Any, *, budget: Budget, **settings: Any):
        super().__init__(model, budget=budget, **settings)
        self.fooling_rate: float | None = None

    def _fit(self, x: np.ndarray, y: np.ndarray, radius: float) -> np.ndarray:
        generator = make_rng(self.seed)
        r = np.array([radius], np.float32)
        if self.spec.inner == "deepfool":
            inner = DeepFool(self.model, budget=None, batch_size=1)
        else:
            inner = FGM(self.model, budget=Budget.absolute(radius), batch_size=1)
        v = np.zeros((1, *x.shape[1:]), np.float32)
        for _ in range(self.spec.max_passes):
            for i in generator.permutation(x.shape[0]):
                xi = x[i : i + 1] + v
                if self.predict(xi)[0] != y[i]:
                    continue
                x_adv = inner.generate(xi, y[i : i + 1])
                if self.predict(x_adv)[0] != y[i]:
                    v = project(x_adv - x[i : i + 1], r, Norm.L2)
            self.fooling_rate = float(np.mean(self.predict(x + v) != y))
            if self.fooling_rate >= 1.0 - self.spec.delta:
                break
        return v[0]
