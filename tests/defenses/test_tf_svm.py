"""The differentiable TensorFlow RBF-SVM equals scikit-learn's decision_function, and its gradient
is the analytic one; objects that are not fitted binary RBF SVCs are refused."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.svm import SVC

from amc_tf.defenses.tf_svm import TFRBFSVM
from amc_tf.errors import ModelError
from amc_tf.runtime import tf


def _one_vs_rest(n_classes: int = 4, n: int = 300, dim: int = 6, gamma: float = 0.01, seed: int = 0):
    g = np.random.default_rng(seed)
    centres = g.normal(0.0, 4.0, (n_classes, dim))
    y = g.integers(0, n_classes, n)
    x = centres[y] + g.normal(0.0, 3.0, (n, dim))
    svms = [SVC(kernel="rbf", gamma=gamma, C=1.0).fit(x, (y == k).astype(int)) for k in range(n_classes)]
    return svms, x, g


def test_decision_values_equal_scikit_learn_to_1e_5():
    svms, x, g = _one_vs_rest()
    tf_svm = TFRBFSVM(svms)
    probe = np.concatenate([x[:50], g.normal(0.0, 10.0, (50, x.shape[1]))])  # seen and far-away points
    want = np.stack([s.decision_function(probe) for s in svms], axis=1)
    got = tf_svm.numpy(probe, batch_size=32)
    assert got.shape == (100, 4) and got.dtype == np.float64
    assert np.abs(got - want).max() < 1e-5
    assert len({s.support_vectors_.shape[0] for s in svms}) > 1  # the padding path is exercised


def test_gamma_scale_is_read_from_the_fitted_model():
    g = np.random.default_rng(1)
    x, y = g.normal(size=(120, 3)) * 5.0, g.integers(0, 2, 120)
    svm = SVC(kernel="rbf", gamma="scale").fit(x, y)
    got = TFRBFSVM([svm]).numpy(x)[:, 0]
    assert np.abs(got - svm.decision_function(x)).max() < 1e-5


def test_gradient_is_the_analytic_kernel_gradient():
    svms, x, _ = _one_vs_rest(n_classes=2)
    tf_svm = TFRBFSVM(svms)
    f = tf.constant(x[:5])
    with tf.GradientTape() as tape:
        tape.watch(f)
        s = tf.reduce_sum(tf_svm(f)[:, 1])
    grad = tape.gradient(s, f).numpy()
    svm = svms[1]
    diff = x[:5, None, :] - svm.support_vectors_[None]  # [5, S, D]
    k = np.exp(-svm._gamma * np.sum(diff**2, axis=2))
    want = np.einsum("s,ns,nsd->nd", svm.dual_coef_[0], k, -2.0 * svm._gamma * diff)
    np.testing.assert_allclose(grad, want, rtol=1e-6, atol=1e-12)


def test_refuses_what_is_not_a_fitted_binary_rbf_svc():
    g = np.random.default_rng(2)
    x, y = g.normal(size=(60, 2)), g.integers(0, 3, 60)
    with pytest.raises(ModelError, match="at least one"):
        TFRBFSVM([])
    with pytest.raises(ModelError, match="not a fitted RBF SVC"):
        TFRBFSVM([SVC(kernel="linear").fit(x, y > 0)])
    with pytest.raises(ModelError, match="not a fitted RBF SVC"):
        TFRBFSVM([SVC(kernel="rbf")])
    with pytest.raises(ModelError, match="not binary"):
        TFRBFSVM([SVC(kernel="rbf").fit(x, y)])
