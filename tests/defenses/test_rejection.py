"""Neural rejection and the auto-encoder detector on the tiny problem: the clean rejection rate is
the one asked, the TF scores equal scikit-learn's, bad input is refused with a clear error."""

from __future__ import annotations

import numpy as np
import pytest

from amc_tf.attacks.adaptive_settings import REJECT
from amc_tf.config.base import validate_config
from amc_tf.config.rejection import AutoencoderConfig, NeuralRejectionConfig
from amc_tf.defenses.autoencoder import AutoencoderDetector, build_autoencoder
from amc_tf.defenses.rejection import NeuralRejection, feature_extractor, stratified_cap, threshold_for_rate
from amc_tf.errors import ConfigError, ModelError
from amc_tf.runtime import keras, tf


@pytest.fixture(scope="module")
def split(tiny_data):
    """Train on the first 1,200 windows, validate on the next 300, test on the last 300."""
    return tiny_data.subset(slice(0, 1200)), tiny_data.subset(slice(1200, 1500)), tiny_data.subset(slice(1500, 1800))


@pytest.fixture(scope="module")
def rejector(tiny_model, split):
    train, val, _ = split
    return NeuralRejection(tiny_model, NeuralRejectionConfig(max_train=400)).fit(train.x, train.y, val.x)


def test_threshold_for_rate_rejects_that_share():
    v = np.random.default_rng(0).normal(size=1000)
    for rate in (0.0, 0.1, 0.25):
        t = threshold_for_rate(v, rate)
        assert np.mean(v <= t) == pytest.approx(rate, abs=1e-3)
    with pytest.raises(ModelError, match="at least one"):
        threshold_for_rate(np.array([]), 0.1)


def test_stratified_cap_keeps_every_class_in_proportion():
    y = np.repeat([0, 1, 2], [600, 300, 100])
    keep = stratified_cap(y, 100, seed=0)
    assert np.all(np.diff(keep) > 0)
    np.testing.assert_array_equal(np.bincount(y[keep]), [60, 30, 10])
    np.testing.assert_array_equal(stratified_cap(y[:50], 100), np.arange(50))


def test_clean_validation_rejection_is_the_rate_asked(rejector, split):
    _, val, test = split
    pred_val = rejector.predict_with_rejection(val.x)
    assert np.mean(pred_val == REJECT) == pytest.approx(0.10, abs=1 / len(val.y))
    pred_test = rejector.predict_with_rejection(test.x)
    assert 0.03 < np.mean(pred_test == REJECT) < 0.2  # held-out windows: near the rate
    accepted = pred_test != REJECT
    assert np.mean(pred_test[accepted] == test.y[accepted]) > 0.6  # the SVM head classifies
    assert len(rejector.svms) == 4 and rejector.describe()["n_support"][0] > 0


def test_tf_scores_equal_the_scikit_learn_scores(rejector, split):
    x = split[2].x[:64]
    got = rejector.tf_scores(tf.constant(x)).numpy()
    np.testing.assert_allclose(got, rejector.scores(x), atol=1e-5)


def test_standardised_features_give_the_same_tf_and_numpy_scores(tiny_model, split):
    train, val, test = split
    cfg = NeuralRejectionConfig(max_train=200, standardise=True, reject_rate=0.2)
    nr = NeuralRejection(tiny_model, cfg).fit(train.x, train.y, val.x)
    np.testing.assert_allclose(nr.tf_scores(tf.constant(test.x[:32])).numpy(), nr.scores(test.x[:32]), atol=1e-5)
    assert np.mean(nr.predict_with_rejection(val.x) == REJECT) == pytest.approx(0.2, abs=1 / len(val.y))


def test_feature_extractor_and_fit_refuse_bad_input(tiny_model, split):
    with pytest.raises(ConfigError, match="has no layer 'nope'"):
        feature_extractor(tiny_model, "nope")
    inp = keras.Input((2, 32))
    no_dense = keras.Model(inp, keras.layers.Flatten()(inp))
    with pytest.raises(ModelError, match="does not end in a Dense"):
        feature_extractor(no_dense)
    train, val, _ = split
    nr = NeuralRejection(tiny_model, NeuralRejectionConfig(max_train=100))
    with pytest.raises(ModelError, match="not fitted"):
        nr.scores(val.x[:4])
    only_two = train.y < 2
    with pytest.raises(ModelError, match=r"lacks classes \[2, 3\]"):
        nr.fit(train.x[only_two], train.y[only_two], val.x)
    with pytest.raises(ConfigError, match="gamma"):
        validate_config(NeuralRejectionConfig, {"gamma": 0}, "rejection")
    with pytest.raises(ConfigError, match="reject_rate"):
        validate_config(NeuralRejectionConfig, {"reject_rate": 1.0}, "rejection")


def test_autoencoder_threshold_rejects_the_rate_and_is_scale_free(tiny_model, split):
    train, val, test = split
    det = AutoencoderDetector(tiny_model, AutoencoderConfig(epochs=3, filters=(8, 4))).fit(train.x, val.x, seed=0)
    assert np.mean(det.is_rejected(val.x)) == pytest.approx(0.10, abs=1 / len(val.y))
    x = test.x[:64]
    np.testing.assert_allclose(det.reconstruction_error(10.0 * x), det.reconstruction_error(x), rtol=1e-4)
    pred = det.predict_with_rejection(x)
    logits = tiny_model.predict(x, verbose=0)
    np.testing.assert_array_equal(pred[pred != REJECT], np.argmax(logits, axis=1)[pred != REJECT])
    noisy = x + np.random.default_rng(0).normal(0.0, 0.05, x.shape).astype(np.float32)
    assert np.mean(det.is_rejected(noisy)) > np.mean(det.is_rejected(x))
    assert det.describe()["threshold"] == det.threshold


def test_autoencoder_refuses_bad_input(tiny_model):
    with pytest.raises(ModelError, match="must be even"):
        build_autoencoder(33, AutoencoderConfig())
    with pytest.raises(ModelError, match="not fitted"):
        AutoencoderDetector(tiny_model).reconstruction_error(np.zeros((1, 2, 32), np.float32))
    with pytest.raises(ConfigError, match="filters"):
        validate_config(AutoencoderConfig, {"filters": [16, 0]}, "autoencoder")
