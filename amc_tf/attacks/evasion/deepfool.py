"""DeepFool, multi-class, on logits (Moosavi-Dezfooli et al., CVPR 2016; references §9).

Per example, with ``k`` the label and ``f`` the logits at the current point: for every candidate
class ``c`` (the ``candidates - 1`` most likely other classes of the clean input) form
``w_c = grad f_c - grad f_k`` and ``f'_c = f_c - f_k``; step onto the nearest linearised boundary,
``r = |f'_l| / ||w_l||^2 * w_l`` with ``l = argmin_c |f'_c| / ||w_c||``; accumulate ``r_tot`` and
test ``x + (1 + overshoot) r_tot``; stop when the label changes or after ``max_iter`` steps. As in
the authors' ``LTS4/DeepFool`` code (overshoot 0.02, 50 steps, top-10 classes) and unlike ART's
variant, the overshoot is inside the stopping test, so a returned point that flipped is past the
boundary. No ``1e-4`` is added to ``|f'_l|`` (the authors' code does): on an affine classifier the
first step is then exactly the minimal perturbation times ``1 + overshoot``.

DeepFool is a minimal-perturbation attack: without a budget it returns the smallest perturbation
it finds; with one, that perturbation is projected onto the example's L2 ball, which is what a
budget-limited DeepFool would give (the iteration does not depend on the budget). The batched
loop is one ``tf.function``; per-class gradients come from one ``batch_jacobian`` per step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from amc_tf.attacks.base import Attack
from amc_tf.attacks.budgets import Budget, Norm, project
from amc_tf.attacks.compiled import cached, logits_fn, split_apply
from amc_tf.attacks.settings import DeepFoolSettings
from amc_tf.runtime import tf


def _deepfool_fn(model: Any, k: int, max_iter: int, parts: int):
    def build():
        spec = tf.TensorSpec([None, 2, int(model.input_shape[2])], tf.float32)

        @tf.function(
            input_signature=[spec, tf.TensorSpec([None, k], tf.int32), tf.TensorSpec([], tf.float32)],
            reduce_retracing=True,
        )
        def run(x0, cand, overshoot):
            def evaluate_part(xi, ci):
                with tf.GradientTape(watch_accessed_variables=False) as tape:
                    tape.watch(xi)
                    logits = model(xi, training=False)
                    fc = tf.gather(logits, ci, batch_dims=1)
                return logits, fc, tape.batch_jacobian(fc, xi)

            def evaluate(xi):
                return split_apply(evaluate_part, parts, xi, cand)

            label = cand[:, 0]
            r_tot = tf.zeros_like(x0)
            active = tf.ones_like(label, dtype=tf.bool)
            steps = tf.zeros_like(label)
            # One evaluation per pass (traced once): test the current point, then step if needed.
            for it in tf.range(max_iter + 1):
                logits, fc, jac = evaluate(x0 + (1.0 + overshoot) * r_tot)
                active = active & tf.equal(tf.argmax(logits, axis=1, output_type=tf.int32), label)
                if it == max_iter or not tf.reduce_any(active):
                    break
                w = jac[:, 1:] - jac[:, :1]
                f = fc[:, 1:] - fc[:, :1]
                wn = tf.sqrt(tf.reduce_sum(tf.square(w), axis=[2, 3]))
                dist = tf.abs(f) / tf.maximum(wn, 1e-30)
                best = tf.argmin(dist, axis=1, output_type=tf.int32)
                w_l = tf.gather(w, best, batch_dims=1)
                f_l = tf.gather(f, best, batch_dims=1)
                wn_l = tf.gather(wn, best, batch_dims=1)
                scale = tf.abs(f_l) / tf.maximum(tf.square(wn_l), 1e-30)
                r_i = tf.reshape(scale, (-1, 1, 1)) * w_l
                r_tot = r_tot + tf.where(tf.reshape(active, (-1, 1, 1)), r_i, tf.zeros_like(r_i))
                steps = steps + tf.cast(active, tf.int32)
            return x0 + (1.0 + overshoot) * r_tot, steps, active

        return run

    return cached(model, ("deepfool", k, max_iter, parts), build)


class DeepFool(Attack):
    """Minimal L2 perturbation towards the nearest (linearised) decision boundary.

    Settings: :class:`DeepFoolSettings`. ``budget`` is optional: the found perturbation is
    projected onto the example's L2 ball. The attack is deterministic (``seed`` is unused).

    After :meth:`generate`, ``last_steps`` (int [N]) holds each example's step count and
    ``last_unconverged`` (bool [N]) flags examples still holding their label.
    """

    name = "deepfool"
    Settings = DeepFoolSettings
    needs_class_gradients = True
    minimal = True

    def __init__(self, model: Any, *, budget: Budget | None = None, **settings: Any):
        super().__init__(model, budget=budget, **settings)
        self.overshoot, self.max_iter, self.candidates = self.spec.overshoot, self.spec.max_iter, self.spec.candidates
        self.k = min(self.candidates, self.n_classes)
        self.last_steps = np.zeros(0, np.int32)
        self.last_unconverged = np.zeros(0, bool)

    @classmethod
    def _budget_optional(cls) -> bool:
        return True

    def _generate(self, x: np.ndarray, y: np.ndarray, radius: np.ndarray | None) -> np.ndarray:
        fn = _deepfool_fn(self.model, self.k, self.max_iter, self.parts)
        logits = logits_fn(self.model, self.parts)
        out = np.empty_like(x)
        steps = np.zeros(x.shape[0], np.int32)
        unconverged = np.zeros(x.shape[0], bool)
        overshoot = tf.constant(self.overshoot, tf.float32)
        for i, j in self.batches(x.shape[0]):
            cand = candidate_classes(logits(x[i:j]).numpy(), y[i:j], self.k)
            x_adv, s, active = fn(x[i:j], cand, overshoot)
            out[i:j], steps[i:j], unconverged[i:j] = x_adv.numpy(), s.numpy(), active.numpy()
        self.last_steps, self.last_unconverged = steps, unconverged
        if radius is not None:
            out = x + project(out - x, radius, Norm.L2)
        return out


def candidate_classes(logits: np.ndarray, label: np.ndarray, k: int) -> np.ndarray:
    """``int32 [N, k]``: the label first, then the ``k-1`` highest-logit other classes."""
    masked = logits.astype(np.float64).copy()
    masked[np.arange(len(label)), label] = -np.inf
    others = np.argsort(-masked, axis=1, kind="stable")[:, : k - 1]
    return np.concatenate([label[:, None], others], axis=1).astype(np.int32)
