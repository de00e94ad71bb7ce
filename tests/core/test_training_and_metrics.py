"""VT-CNN2 shape/parameter count, training with early stopping, evaluation numbers, tracking."""

from __future__ import annotations

import numpy as np
import pytest

from amc_tf.config.train import TrainConfig
from amc_tf.data.dataset import IQDataset
from amc_tf.errors import ConfigError
from amc_tf.evaluation.metrics import evaluate_classifier, evaluate_predictions
from amc_tf.models.loading import load_model
from amc_tf.models.registry import build_model, input_scale_for
from amc_tf.runtime import keras, set_seed
from amc_tf.training.fit import fit_classifier


def tone_dataset(n_per_key=40, L=32, seed=0) -> IQDataset:
    """Three classes of complex tones at different frequencies, two SNRs."""
    rng = np.random.default_rng(seed)
    freqs = (-0.2, 0.0, 0.2)
    xs, ys, ss = [], [], []
    for c, f in enumerate(freqs):
        for snr in (0, 10):
            t = np.arange(L)
            phase = rng.uniform(0, 2 * np.pi, size=(n_per_key, 1))
            sig = np.exp(1j * (2 * np.pi * f * t + phase))
            noise = (rng.normal(size=sig.shape) + 1j * rng.normal(size=sig.shape)) * np.sqrt(10 ** (-snr / 10) / 2)
            z = sig + noise
            xs.append(np.stack([z.real, z.imag], axis=1).astype(np.float32) * 0.05)
            ys.append(np.full(n_per_key, c))
            ss.append(np.full(n_per_key, snr))
    return IQDataset(
        np.concatenate(xs),
        np.concatenate(ys).astype(np.int64),
        np.concatenate(ss).astype(np.int32),
        ("lo", "dc", "hi"),
        {},
    )


def test_vtcnn2_parameter_count_and_logits():
    model = build_model("vtcnn2", 11, 128)
    assert model.count_params() == 2_830_427
    assert model.layers[-1].get_config()["activation"] == "linear"
    out = model(np.zeros((2, 2, 128), np.float32))
    assert out.shape == (2, 11)
    with pytest.raises(ConfigError, match="unknown model"):
        build_model("resnet9000", 11, 128)
    with pytest.raises(ConfigError, match="n_classes"):
        build_model("vtcnn2", 1, 128)


def test_training_learns_and_evaluation_reports(tmp_path):
    set_seed(0)
    ds = tone_dataset()
    idx = np.random.default_rng(1).permutation(len(ds))
    train, val = ds.subset(idx[:180]), ds.subset(idx[180:])
    model = build_model("vtcnn2", 3, 32, dropout=0.1, input_scale=input_scale_for(train.x))
    res = fit_classifier(model, train, val, TrainConfig(batch_size=32, epochs=6, patience=3, verbose=0))
    assert 1 <= res.epochs_run <= 6 and res.windows_per_s > 0
    assert "val_loss" in res.history and len(res.history["loss"]) == res.epochs_run
    report = evaluate_classifier(model, val, focus_snr=10)
    assert report.accuracy > 0.6  # chance is 1/3
    assert report.accuracy_by_snr[10] >= report.accuracy_by_snr[0] - 0.1
    assert np.asarray(report.confusion).sum() == len(val)
    assert np.asarray(report.confusion_focus).sum() == int(np.sum(val.snr == 10))
    # save / load round trip gives identical logits
    path = tmp_path / "m.keras"
    model.save(path)
    again = load_model(path)
    np.testing.assert_allclose(again(val.x[:8], training=False), model(val.x[:8], training=False), rtol=1e-6, atol=1e-6)


def test_training_is_reproducible():
    ds = tone_dataset(n_per_key=10, L=16)
    weights = []
    for _ in range(2):
        set_seed(7)
        model = build_model("vtcnn2", 3, 16)
        fit_classifier(model, ds, None, TrainConfig(batch_size=16, epochs=1, patience=0, verbose=0))
        weights.append(model.get_layer("dense2").get_weights()[0])
    np.testing.assert_array_equal(weights[0], weights[1])


def test_fit_rejects_mismatched_classes():
    ds = tone_dataset(n_per_key=4, L=16)
    model = build_model("vtcnn2", 5, 16)
    with pytest.raises(ConfigError, match="5 outputs"):
        fit_classifier(model, ds, ds, TrainConfig(epochs=1, verbose=0))


def test_report_numbers_by_hand():
    y = np.array([0, 0, 1, 1, 2, 2])
    p = np.array([0, 1, 1, 1, 2, 0])
    snr = np.array([0, 10, 0, 10, 0, 10])
    r = evaluate_predictions(y, p, snr, ["a", "b", "c"], focus_snr=10)
    assert r.accuracy == pytest.approx(4 / 6)
    assert r.accuracy_by_snr == {0: 1.0, 10: pytest.approx(1 / 3)}
    assert r.per_class["b"]["precision"] == pytest.approx(2 / 3) and r.per_class["b"]["recall"] == 1.0
    assert r.confusion_focus == [[0, 1, 0], [0, 1, 0], [1, 0, 0]]
    assert r.accuracy_above(5) == pytest.approx(1 / 3)


def test_best_weights_kept_when_epoch_limit_ends_training():
    """Without early stopping firing, the weights of the best validation epoch are still kept."""
    from amc_tf.evaluation.metrics import predict_logits
    from amc_tf.runtime import tf

    set_seed(3)
    ds = tone_dataset(n_per_key=10, L=16)
    model = build_model("vtcnn2", 3, 16)
    res = fit_classifier(model, ds, ds, TrainConfig(batch_size=16, epochs=4, patience=0, learning_rate=0.05, verbose=0))
    logits = predict_logits(model, ds.x)
    loss = float(tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(ds.y, logits, from_logits=True)))
    assert loss == pytest.approx(min(res.history["val_loss"]), rel=1e-4)


def test_input_scale_is_a_parameter_free_gain():
    x = np.random.default_rng(0).normal(scale=0.01, size=(64, 2, 128)).astype(np.float32)
    scale = input_scale_for(x)
    assert scale == pytest.approx(1 / x.std(), rel=1e-3)
    set_seed(0)
    scaled = build_model("vtcnn2", 11, 128, input_scale=scale)
    plain = build_model("vtcnn2", 11, 128)
    assert scaled.count_params() == plain.count_params() == 2_830_427
    plain.set_weights(scaled.get_weights())
    np.testing.assert_allclose(
        scaled(x, training=False), plain(x * np.float32(scale), training=False), rtol=1e-4, atol=1e-5
    )
    with pytest.raises(ConfigError, match="input_scale"):
        build_model("vtcnn2", 11, 128, input_scale=0.0)
    with pytest.raises(ConfigError, match="all-zero"):
        input_scale_for(np.zeros((2, 2, 8), np.float32))
