"""Universal adversarial perturbations: one vector added to every input.

* :class:`SVDUniversal` — Sadeghi & Larsson, IEEE WCL 2019 (references §6): the loss gradients of
  ``n_vectors`` (50) random examples at their labels, each normalised to unit L2 norm, stacked into
  an ``n x 2L`` matrix; its first right singular vector (no mean-centring) is the direction. Its
  sign is arbitrary, so both signs are tried; ``draws`` Monte-Carlo draws (5 in the authors' code)
  are made and the vector that gives the lowest accuracy on the fit data is kept.
* :class:`IterativeUniversal` — Moosavi-Dezfooli et al., CVPR 2017: visit the examples in random
  order; whenever ``x + v`` still has its label, run the inner attack (DeepFool, or FGM at the full
  radius) on ``x + v`` and, if it flips the label, set ``v`` to the projection of ``x_adv - x`` onto
  the ball; stop after ``max_passes`` passes or when the fooling rate reaches ``1 - delta``.

Both scale to one L2 radius from the budget and the data's ``(mean ||x||)^2``
(:meth:`~amc_tf.attacks.budgets.Budget.universal_radius`). ``fit`` computes the vector;
``generate`` fits on its own input first if ``fit`` was not called, then adds the vector.
"""

from __future__ import annotations

import abc
from typing import Any, Literal

import numpy as np

from amc_tf.attacks.base import Attack, check_float, check_int
from amc_tf.attacks.budgets import Budget, Norm, project
from amc_tf.attacks.deepfool import DeepFool
from amc_tf.attacks.fgm import FGM
from amc_tf.attacks.graph import MICRO_BATCH, loss_gradient_fn
from amc_tf.errors import AttackError
from amc_tf.runtime import rng as make_rng


class UniversalAttack(Attack):
    """Common part of the universal attacks: one L2 vector ``perturbation [2, L]`` for all inputs.

    Attributes:
        perturbation: ``float32 [2, L]`` after :meth:`fit` (None before).
        radius: Its L2 radius (input units) after :meth:`fit`.
        fit_accuracy: Accuracy on the fit data with the vector added (vs. the fit labels).
    """

    universal = True

    def __init__(
        self,
        model: Any,
        *,
        budget: Budget,
        batch_size: int = 256,
        seed: int = 0,
        micro_batch: int | str | None = MICRO_BATCH,
    ):
        super().__init__(model, budget=budget, norm=Norm.L2, batch_size=batch_size, seed=seed, micro_batch=micro_batch)
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
        self.radius = self.budget.universal_radius(x, snr, Norm.L2)
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

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "seed": self.seed}


class SVDUniversal(UniversalAttack):
    """Sadeghi & Larsson's PCA/SVD universal perturbation.

    Args:
        model: I/Q classifier with logits.
        budget: The power (PSR/PNR dB or absolute L2 radius) of the one vector.
        n_vectors: Examples whose normalised gradients are stacked (50 in the paper).
        draws: Monte-Carlo draws of those examples; the most harmful vector is kept.
        batch_size: Examples per compiled call.
        seed: Seed of the draws.
        micro_batch: ``"auto"``, examples per micro-batch, or None (whole batch); see :class:`~amc_tf.attacks.pgd.PGD`.
    """

    name = "uap_svd"

    def __init__(
        self,
        model: Any,
        *,
        budget: Budget,
        n_vectors: int = 50,
        draws: int = 5,
        batch_size: int = 256,
        seed: int = 0,
        micro_batch: int | str | None = MICRO_BATCH,
    ):
        super().__init__(model, budget=budget, batch_size=batch_size, seed=seed, micro_batch=micro_batch)
        self.n_vectors = check_int("n_vectors", n_vectors, 1, 100_000)
        self.draws = check_int("draws", draws, 1, 1000)

    def _fit(self, x: np.ndarray, y: np.ndarray, radius: float) -> np.ndarray:
        generator = make_rng(self.seed)
        grad_fn = loss_gradient_fn(self.model, self.n_classes, self.parts)
        best, best_acc = np.zeros(x.shape[1:], np.float32), np.inf
        for _ in range(self.draws):
            idx = np.sort(generator.choice(x.shape[0], size=min(self.n_vectors, x.shape[0]), replace=False))
            grads = (
                np.concatenate([grad_fn(x[idx[i:j]], y[idx[i:j]])[1].numpy() for i, j in self.batches(idx.size)])
                .reshape(idx.size, -1)
                .astype(np.float64)
            )
            norms = np.linalg.norm(grads, axis=1)
            grads = grads[norms > 0] / norms[norms > 0, None]
            if grads.shape[0] == 0:
                continue
            direction = np.linalg.svd(grads, full_matrices=False)[2][0].reshape(x.shape[1:])
            for sign in (1.0, -1.0):
                v = (sign * radius * direction).astype(np.float32)
                acc = float(np.mean(self.predict(x + v[None]) == y))
                if acc < best_acc:
                    best, best_acc = v, acc
        return best

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "n_vectors": self.n_vectors, "draws": self.draws}


class IterativeUniversal(UniversalAttack):
    """Moosavi-Dezfooli's universal perturbation with an inner per-example attack.

    Args:
        model: I/Q classifier with logits.
        budget: The power of the one vector (L2 radius from the data's mean power).
        inner: ``"deepfool"`` (minimal perturbation, overshoot 0.02) or ``"fgm"`` (full radius).
        delta: Stop once the fooling rate on the fit data reaches ``1 - delta``.
        max_passes: Passes over the fit data.
        batch_size: Examples per compiled call when measuring the fooling rate.
        seed: Seed of the visiting order.
    """

    name = "uap_iterative"
    needs_class_gradients = True

    def __init__(
        self,
        model: Any,
        *,
        budget: Budget,
        inner: Literal["deepfool", "fgm"] = "deepfool",
        delta: float = 0.2,
        max_passes: int = 1,
        batch_size: int = 256,
        seed: int = 0,
        micro_batch: int | str | None = MICRO_BATCH,
    ):
        super().__init__(model, budget=budget, batch_size=batch_size, seed=seed, micro_batch=micro_batch)
        if inner not in ("deepfool", "fgm"):
            raise AttackError(f"inner attack must be 'deepfool' or 'fgm', got {inner!r}")
        self.inner = inner
        self.delta = check_float("delta", delta, 0.0, 1.0)
        self.max_passes = check_int("max_passes", max_passes, 1, 1000)
        self.fooling_rate: float | None = None

    def _fit(self, x: np.ndarray, y: np.ndarray, radius: float) -> np.ndarray:
        generator = make_rng(self.seed)
        r = np.array([radius], np.float32)
        if self.inner == "deepfool":
            inner = DeepFool(self.model, budget=None, batch_size=1)
        else:
            inner = FGM(self.model, budget=Budget.absolute(radius), batch_size=1)
        v = np.zeros((1, *x.shape[1:]), np.float32)
        for _ in range(self.max_passes):
            for i in generator.permutation(x.shape[0]):
                xi = x[i : i + 1] + v
                if self.predict(xi)[0] != y[i]:
                    continue
                x_adv = inner.generate(xi, y[i : i + 1])
                if self.predict(x_adv)[0] != y[i]:
                    v = project(x_adv - x[i : i + 1], r, Norm.L2)
            self.fooling_rate = float(np.mean(self.predict(x + v) != y))
            if self.fooling_rate >= 1.0 - self.delta:
                break
        return v[0]

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "inner": self.inner, "delta": self.delta, "max_passes": self.max_passes}
