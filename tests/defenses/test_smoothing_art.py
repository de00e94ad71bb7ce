"""Side by side with ART 1.20's ``TensorFlowV2RandomizedSmoothing`` (design D10): same model, σ, n0,
n and alpha give the same smoothed predictions and radii within Monte-Carlo error.

ART's ``certify`` takes its Clopper–Pearson bound from ``statsmodels``, which is not installed here,
so the ART twin's ``_lower_confidence_bound`` is replaced by the identical interval from SciPy
(``proportion_confint(k, n, alpha=2a, method="beta")[0]`` is the exact interval's lower end at
confidence ``1 − 2a``); everything else — sampling, selection, estimation, abstention, radius — is
ART's code.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.stats import binomtest

from amc_tf.config.certify import SmoothingConfig
from amc_tf.defenses.smoothing import certify
from amc_tf.runtime import keras

WINDOW = 16


@pytest.fixture(scope="module")
def art_smoothing():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from art.estimators.certification.randomized_smoothing import TensorFlowV2RandomizedSmoothing

    class WithScipyBound(TensorFlowV2RandomizedSmoothing):
        def _lower_confidence_bound(self, n_class_samples: int, n_total_samples: int) -> float:
            ci = binomtest(int(n_class_samples), int(n_total_samples)).proportion_ci(1 - 2 * self.alpha, "exact")
            return ci.low

    return WithScipyBound


def test_ours_agrees_with_art(art_smoothing):
    g = np.random.default_rng(1)
    w = g.standard_normal(2 * WINDOW).astype(np.float32)
    inputs = keras.Input((2, WINDOW))
    dense = keras.layers.Dense(2)
    model = keras.Model(inputs, dense(keras.layers.Flatten()(inputs)))
    dense.set_weights([np.stack([np.zeros_like(w), w], axis=1), np.array([0.0, 0.05], np.float32)])
    x = (0.3 * g.standard_normal((6, 2, WINDOW))).astype(np.float32)
    y = (x.reshape(6, -1) @ w + 0.05 > 0).astype(np.int64)
    sigma, n0, n, alpha = 0.4, 100, 10_000, 0.001

    ours = certify(
        model,
        x,
        y,
        10,
        SmoothingConfig(sigma=sigma, sigma_unit="absolute", n0=n0, n=n, alpha=alpha, batch_size=10_000),
        seed=0,
        progress=False,
    )
    art = art_smoothing(
        model=model,
        nb_classes=2,
        input_shape=(2, WINDOW),
        loss_object=keras.losses.CategoricalCrossentropy(from_logits=True),
        sample_size=n0,
        scale=sigma,
        alpha=alpha,
    )
    np.random.seed(0)  # ART draws from NumPy's global generator
    art_class, art_radius = art.certify(x, n=n, batch_size=10_000)

    np.testing.assert_array_equal(ours.predicted, art_class)
    # Monte-Carlo error of sigma * Phi^-1(p_hat) at n = 10,000 is ~0.015 sigma; allow 0.1 sigma
    np.testing.assert_allclose(ours.radius_l2, art_radius, atol=0.1 * sigma)
    exact = np.abs(x.reshape(6, -1) @ w + 0.05) / np.linalg.norm(w)
    assert (ours.radius_l2 <= exact).all() and (art_radius <= exact).all()
