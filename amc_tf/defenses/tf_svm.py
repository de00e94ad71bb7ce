"""A differentiable TensorFlow copy of fitted scikit-learn RBF SVMs (the adaptive attack's view).

scikit-learn's ``SVC`` has no TensorFlow gradient, and ART has no attack that differentiates an
RBF-SVM through a network's features, so an adaptive attack on neural rejection (design D10) needs
this re-implementation. For each binary ``SVC`` k (fitted class k against the rest)::

    S_k(f) = sum_s dual_coef_k[s] exp(-gamma_k ||f - sv_k[s]||^2) + intercept_k

which is scikit-learn's ``decision_function`` (positive = class k). The SVCs have different
support-vector sets, so they are stacked padded: ``sv [K, S_max, D]`` with zero dual coefficients
in the padding. The distances use the expansion ``||f||^2 + ||sv||^2 - 2 f.sv`` in float64 (clipped
at 0), which matches scikit-learn to ~1e-12 on features of order 1; memory is ``N x K x S_max``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from amc_tf.errors import ModelError
from amc_tf.runtime import tf


class TFRBFSVM:
    """Decision values of K fitted binary RBF ``SVC``s as a TensorFlow function.

    Args:
        svms: K fitted ``sklearn.svm.SVC(kernel="rbf")``, each trained with labels {0, 1}
            (1 = its class).

    Call: ``features float [N, D] -> decision values float64 [N, K]`` (differentiable).
    """

    def __init__(self, svms: Sequence[Any]):
        if not svms:
            raise ModelError("TFRBFSVM needs at least one fitted SVC")
        for k, svm in enumerate(svms):
            if getattr(svm, "kernel", None) != "rbf" or not hasattr(svm, "support_vectors_"):
                raise ModelError(f"SVM {k} is not a fitted RBF SVC")
            if len(svm.classes_) != 2:
                raise ModelError(f"SVM {k} is not binary (classes {list(svm.classes_)})")
        dim = svms[0].support_vectors_.shape[1]
        s_max = max(svm.support_vectors_.shape[0] for svm in svms)
        sv = np.zeros((len(svms), s_max, dim))
        coef = np.zeros((len(svms), s_max))
        for k, svm in enumerate(svms):
            n = svm.support_vectors_.shape[0]
            sv[k, :n] = svm.support_vectors_
            coef[k, :n] = svm.dual_coef_[0]
        self.n_classes, self.dim = len(svms), dim
        self.support_vectors = tf.constant(sv, tf.float64)
        self.sv_sq = tf.constant(np.sum(sv**2, axis=2), tf.float64)
        self.dual_coef = tf.constant(coef, tf.float64)
        self.intercept = tf.constant([float(svm.intercept_[0]) for svm in svms], tf.float64)
        self.gamma = tf.constant([float(svm._gamma) for svm in svms], tf.float64)

    def __call__(self, features: tf.Tensor) -> tf.Tensor:
        """``features [N, D]`` (any float dtype) -> ``float64 [N, K]`` decision values."""
        f = tf.cast(features, tf.float64)
        f_sq = tf.reduce_sum(tf.square(f), axis=1)[:, None, None]
        cross = tf.einsum("nd,ksd->nks", f, self.support_vectors)
        dist = tf.maximum(f_sq + self.sv_sq[None] - 2.0 * cross, 0.0)
        kernel = tf.exp(-self.gamma[None, :, None] * dist)
        return tf.reduce_sum(kernel * self.dual_coef[None], axis=2) + self.intercept[None]

    def numpy(self, features: np.ndarray, batch_size: int = 512) -> np.ndarray:
        """Decision values ``float64 [N, K]`` of numpy features, batched."""
        out = [self(tf.constant(features[i : i + batch_size])).numpy() for i in range(0, len(features), batch_size)]
        return np.concatenate(out) if out else np.zeros((0, self.n_classes))
