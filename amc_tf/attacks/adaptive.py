"""Adaptive attacks that differentiate through a run-time rejector, and their non-adaptive twins.

Design D10 asks every detector to be evaluated with an attack that knows it. Two white-box
PGD-L2 attacks, in the wireless budget of :mod:`amc_tf.attacks.budgets` (PNR dB -> per-example
radius), following the contract ``generate(x, y=None, *, snr=None) -> x_adv float32 [N, 2, L]``:

* :class:`RejectionPGD` (neural rejection, Sotgiu et al. 2020, references §7.2) minimises
  ``Psi(x') = max(s_y(x'), S_0) - max_{j != y} s_j(x')`` with ``s`` the SVM decision values
  through the classifier's features (the rejector's ``tf_scores``) and ``S_0`` the reject
  threshold. It is Sotgiu's ``s_y - max_{j not in {0, y}} s_j`` with the reject option made
  explicit: ``Psi < 0`` exactly when the best wrong class beats both the true class and the
  threshold, i.e. the window is misclassified *and accepted* (escape).
* :class:`DetectorAwarePGD` (the two-fold defence) follows the classifier's margin gradient while
  the window is classified correctly, then the detector's reconstruction-error gradient while it
  is rejected, switching back if the class is restored, all inside the budget ball.

Each step is ``step_fraction x eps`` along the normalised gradient, then the exact L2 projection.
Stop rule per example: escape, or ``|Psi_t - Psi_{t-1}| <= t`` (``tolerance``, the change of the
objective between consecutive steps, in score units; stalled), or ``steps``. The non-adaptive
(grey-box) attack is plain PGD-L2 on the classifier's logits (:func:`non_adaptive_attack`),
judged afterwards by the full defence. These attacks are outside the registry
(:mod:`amc_tf.attacks.registry`): they need a defence object, not just a model. Hand-written
because ART has no attack through an RBF-SVM on network features or through a detector.
"""

from __future__ import annotations

import abc
from typing import Any, Protocol

import numpy as np

from amc_tf.attacks.adaptive_settings import REJECT, AdaptiveAttackConfig
from amc_tf.attacks.budgets import Budget, Norm
from amc_tf.attacks.compiled import project_ball, steepest_direction
from amc_tf.attacks.evasion.pgd import PGDL2
from amc_tf.errors import AttackError
from amc_tf.runtime import tf

__all__ = ["REJECT", "DetectorAwarePGD", "RejectionPGD", "non_adaptive_attack"]


class ScoredRejector(Protocol):
    """What :class:`RejectionPGD` needs (:class:`~amc_tf.defenses.rejection.NeuralRejection`)."""

    classifier: Any
    threshold: float
    n_classes: int

    def tf_scores(self, x: tf.Tensor) -> tf.Tensor: ...  # [N, 2, L] -> [N, K]

    def predict_with_rejection(self, x: np.ndarray) -> np.ndarray: ...


class DetectorDefence(Protocol):
    """What :class:`DetectorAwarePGD` needs (:class:`~amc_tf.defenses.autoencoder.AutoencoderDetector`)."""

    classifier: Any
    threshold: float
    n_classes: int

    def tf_reconstruction_error(self, x: tf.Tensor) -> tf.Tensor: ...  # [N, 2, L] -> [N]

    def predict_with_rejection(self, x: np.ndarray) -> np.ndarray: ...


class _AdaptivePGD(abc.ABC):
    """Shared loop: validated inputs, per-example radius, step, freeze on escape or stall."""

    name = "adaptive"

    def __init__(
        self, defence: Any, *, budget: Budget, config: AdaptiveAttackConfig | None = None, batch_size: int = 256
    ):
        if not isinstance(budget, Budget):
            raise AttackError(f"{type(self).__name__} needs budget=Budget.pnr(...)/absolute(...), got {budget!r}")
        if getattr(defence, "threshold", None) is None:
            raise AttackError(f"{type(self).__name__} needs a fitted defence (threshold set)")
        self.defence, self.budget, self.batch_size = defence, budget, int(batch_size)
        self.config = config or AdaptiveAttackConfig()
        self.norm = Norm(self.config.norm)
        self._step = tf.function(self._step_impl, reduce_retracing=True, autograph=False)

    @abc.abstractmethod
    def objective(self, x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        """Per-example objective ``[N]`` to minimise; ``< 0`` = escaped."""

    def _step_impl(self, x0, x_adv, y, eps, alpha):
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(x_adv)
            psi = tf.cast(self.objective(x_adv, y), tf.float32)
            total = tf.reduce_sum(psi)
        grad = tape.gradient(total, x_adv)
        moved = x_adv - tf.reshape(alpha, (-1, 1, 1)) * steepest_direction(grad, self.norm)
        return x0 + project_ball(moved - x0, eps, self.norm), psi

    def generate(
        self, x: np.ndarray, y: np.ndarray | None = None, *, snr: np.ndarray | int | None = None
    ) -> np.ndarray:
        """Adversarial windows ``float32 [N, 2, L]`` within the budget (``y=None``: the defence's argmax)."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.ndim != 3 or x.shape[1] != 2 or not np.isfinite(x).all():
            raise AttackError(f"x must be finite I/Q windows [N, 2, L], got shape {x.shape}")
        if self.budget.needs_snr and snr is None:
            raise AttackError(f"budget {self.budget} needs the SNR label of every example: pass snr=")
        if y is None:
            y = self.default_labels(x)
        y = np.asarray(y, np.int64)
        if y.shape != (x.shape[0],) or (y.size and (y.min() < 0 or y.max() >= self.defence.n_classes)):
            raise AttackError(f"y must be class indices [N] in [0, {self.defence.n_classes}), got shape {y.shape}")
        eps = self.budget.radius(x, snr, self.norm)
        out = x.copy()
        for i in range(0, x.shape[0], self.batch_size):
            j = min(x.shape[0], i + self.batch_size)
            out[i:j] = self._run(x[i:j], y[i:j], eps[i:j])
        return out

    def default_labels(self, x: np.ndarray) -> np.ndarray:
        logits = self.defence.classifier.predict(x, batch_size=self.batch_size, verbose=0)
        return np.argmax(logits, axis=1)

    def _run(self, x: np.ndarray, y: np.ndarray, eps: np.ndarray) -> np.ndarray:
        x0, yt, et = tf.constant(x), tf.constant(y), tf.constant(eps)
        alpha = tf.constant(eps * np.float32(self.config.step_fraction))
        x_adv, prev = x.copy(), np.full(x.shape[0], np.inf, np.float32)
        active = np.ones(x.shape[0], bool)
        for _ in range(self.config.steps):
            moved, psi = self._step(x0, tf.constant(x_adv), yt, et, alpha)
            psi = psi.numpy()
            stalled = np.abs(psi - prev) <= self.config.tolerance
            active &= ~((psi < 0) | stalled)
            if not active.any():
                break
            x_adv[active] = moved.numpy()[active]
            prev = psi
        return x_adv


class RejectionPGD(_AdaptivePGD):
    """Adaptive PGD-L2 on neural rejection: drive ``Psi = max(s_y, S_0) - max_{j != y} s_j`` below 0.

    Args:
        defence: A fitted rejector with ``tf_scores`` (:class:`ScoredRejector`).
        budget: PNR/PSR (dB) or absolute L2 radius.
        config: Steps, step fraction, stop tolerance.
        batch_size: Windows per batch.
    """

    name = "adaptive_rejection_pgd"

    def objective(self, x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        scores = self.defence.tf_scores(x)
        true = tf.reduce_sum(scores * tf.one_hot(y, self.defence.n_classes, dtype=scores.dtype), axis=1)
        wrong = tf.where(tf.one_hot(y, self.defence.n_classes) > 0, tf.constant(-np.inf, scores.dtype), scores)
        return tf.maximum(true, tf.constant(self.defence.threshold, scores.dtype)) - tf.reduce_max(wrong, axis=1)


class DetectorAwarePGD(_AdaptivePGD):
    """Detector-aware PGD-L2 on the two-fold defence (classifier + reconstruction-error detector).

    While the classifier is right, the step descends its margin ``z_y - max_{j != y} z_j``
    (logits); once fooled, it descends the detector's error while that is at or above the
    threshold; the objective is the active term, minus a constant so that escape (fooled and
    accepted) is ``< 0``. With ``config.detector_objective = "joint"`` both terms act at once
    (:class:`~amc_tf.attacks.adaptive_settings.AdaptiveAttackConfig`). Same arguments as
    :class:`RejectionPGD` (``defence``: a :class:`DetectorDefence`).
    """

    name = "detector_aware_pgd"

    def objective(self, x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        logits = self.defence.classifier(x, training=False)
        onehot = tf.one_hot(y, self.defence.n_classes, dtype=logits.dtype)
        margin = tf.reduce_sum(logits * onehot, axis=1) - tf.reduce_max(logits - 1e9 * onehot, axis=1)
        excess = tf.cast(self.defence.tf_reconstruction_error(x), logits.dtype) - float(self.defence.threshold)
        fooled = margin < 0
        escaped = fooled & (excess < 0)
        if self.config.detector_objective == "joint":
            joint = tf.nn.relu(margin) + self.config.detector_weight * tf.nn.relu(excess)
            return tf.where(escaped, -tf.ones_like(excess), joint)
        # Fooled and accepted: escaped (-1); fooled: the detector term (>= 0); else the margin + 1 (> 0 side).
        return tf.where(fooled, tf.where(excess < 0, -tf.ones_like(excess), excess), margin + 1.0)


def non_adaptive_attack(
    classifier: Any, budget: Budget, config: AdaptiveAttackConfig | None = None, batch_size: int = 256
):
    """The grey-box twin: PGD-L2 on the classifier's logits (cross-entropy), ignoring the detector.

    Same steps and step fraction as the adaptive attack, no random start; its examples are then
    judged by the full defence.
    """
    cfg = config or AdaptiveAttackConfig()
    return PGDL2(
        classifier,
        budget=budget,
        steps=cfg.steps,
        step_fraction=cfg.step_fraction,
        random_start=False,
        batch_size=batch_size,
    )
