"""Sadeghi & Larsson's universal perturbation from the SVD of loss gradients (IEEE WCL 2019; references §6).

The loss gradients of ``n_vectors`` (50) random examples at their labels, each normalised to unit
L2 norm, are stacked into an ``n x 2L`` matrix; its first right singular vector (no mean-centring)
is the direction. Its sign is arbitrary, so both signs are tried; ``draws`` Monte-Carlo draws (5
in the authors' code) are made and the vector that gives the lowest accuracy on the fit data is
kept.
"""

from __future__ import annotations

import numpy as np

from amc_tf.attacks.compiled import loss_gradient_fn
from amc_tf.attacks.settings import SVDUniversalSettings
from amc_tf.attacks.universal.base import UniversalAttack
from amc_tf.runtime import rng as make_rng


class SVDUniversal(UniversalAttack):
    """Sadeghi & Larsson's PCA/SVD universal perturbation; ``seed`` seeds the draws."""

    name = "uap_svd"
    Settings = SVDUniversalSettings

    def _fit(self, x: np.ndarray, y: np.ndarray, radius: float) -> np.ndarray:
        generator = make_rng(self.seed)
        grad_fn = loss_gradient_fn(self.model, self.n_classes, self.parts)
        best, best_acc = np.zeros(x.shape[1:], np.float32), np.inf
        for _ in range(self.spec.draws):
            idx = np.sort(generator.choice(x.shape[0], size=min(self.spec.n_vectors, x.shape[0]), replace=False))
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
