"""What every universal perturbation shares: one L2 vector ``[2, L]`` added to every input.

The vector is scaled to one L2 radius from the budget and the fit data's ``(mean ||x||)^2``
(:meth:`~amc_tf.attacks.budgets.Budget.universal_radius`, Sadeghi & Larsson). ``fit`` computes it;
``generate`` fits on its own input first if ``fit`` was not called, then adds it.
"""

from __future__ import annotations

import abc
from typing import Any

import numpy as np

from amc_tf.attacks.base import Attack
from amc_tf.attacks.budgets import Budget
from amc_tf.errors import AttackError


class UniversalAttack(Attack):
    """Common part of the universal attacks.

    Attributes:
        perturbation: ``float32 [2, L]`` after :meth:`fit` (None before).
        radius: Its L2 radius (input units) after :meth:`fit`.
        fit_accuracy: Accuracy on the fit data with the vector added (vs. the fit labels).
    """

    universal = True

    def __init__(self, model: Any, *, budget: Budget, **settings: Any):
        super().__init__(model, budget=budget, **settings)
        self.perturbation: np.ndarray | None = None
        self.radius: float | None = None
        self.fit_accuracy: float | None = None

    def fit(
        self, x: np.ndarray, y: np.ndarray | None = None, *, snr: np.ndarray | int | None = None
    ) -> UniversalAttack:
        """Compute the universal vector on ``x`` (``float32 [N, 2, L]``), labels ``y`` (None = predictions)."""
        x = self.check_inputs(x)
        if x.shape[0] == 0:
            raise AttackError("a universal perturbation needs at least one example to fit on")
        labels = self.check_labels(y, x.shape[0])
        if self.budget.needs_snr and snr is None:
            raise AttackError(f"budget {self.budget} needs the SNR label of every example: pass snr=")
        labels = self.predict(x) if labels is None else labels
        self.radius = self.budget.universal_radius(x, snr, self.norm)
        self.perturbation = self._fit(x, labels, self.radius).astype(np.float32)
        self.fit_accuracy = float(np.mean(self.predict(x + self.perturbation[None]) == labels))
        return self

    def generate(
        self, x: np.ndarray, y: np.ndarray | None = None, *, snr: np.ndarray | int | None = None
    ) -> np.ndarray:
        """``x + v`` for the fitted vector ``v`` (fits on ``x``, ``y``, ``snr`` first if needed)."""
        if self.perturbation is None:
            self.fit(x, y, snr=snr)
        x = self.check_inputs(x)
        self.check_labels(y, x.shape[0])
        return self._generate(x, None, None)

    def _generate(self, x: np.ndarray, y: np.ndarray | None, radius: np.ndarray | None) -> np.ndarray:
        return (x + self.perturbation[None]).astype(np.float32)

    @abc.abstractmethod
    def _fit(self, x: np.ndarray, y: np.ndarray, radius: float) -> np.ndarray:
        """The universal vector ``[2, L]`` of L2 norm ``<= radius`` for data ``x`` with labels ``y``."""
