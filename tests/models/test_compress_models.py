"""Teacher and student models of the compression papers: sizes, layout, logits, save/load."""

from __future__ import annotations

import numpy as np
import pytest

from amc_tf.errors import ConfigError
from amc_tf.models.loading import load_model
from amc_tf.models.registry import build_model
from amc_tf.runtime import keras


def test_inception_teacher_has_about_ten_million_parameters():
    model = build_model("inception", n_classes=11, window=128)
    assert model.count_params() == 9_980_491
    assert model.output_shape == (None, 11)
    assert model.layers[-1].get_config().get("activation") == "linear"  # logits (D3)


@pytest.mark.parametrize(("n_classes", "expected"), [(11, 70_779), (24, 71_624)])
def test_sbcnn_matches_reference_parameter_counts(n_classes, expected):
    assert build_model("sbcnn", n_classes=n_classes, window=128).count_params() == expected


def test_ibcnn_head_and_student_sizes():
    sb = build_model("sbcnn", n_classes=24, window=256).count_params()
    ib = build_model("ibcnn", n_classes=24, window=256).count_params()
    small = build_model("sbcnn_small", n_classes=24, window=256).count_params()
    assert ib - sb == 70_160  # the image head of the reference
    assert small < sb // 4


def test_time_channel_layout_is_a_transpose():
    model = build_model("sbcnn_small", n_classes=4, window=16)
    probe = keras.Model(model.input, model.get_layer("add_depth").output)
    x = np.random.default_rng(0).normal(size=(3, 2, 16)).astype("float32")
    out = probe.predict(x, verbose=0)
    assert out.shape == (3, 16, 2, 1)
    np.testing.assert_array_equal(out[..., 0], np.transpose(x, (0, 2, 1)))


def test_ibcnn_saves_and_loads(tmp_path):
    model = build_model("ibcnn", n_classes=6, window=32)
    x = np.random.default_rng(1).normal(size=(4, 2, 32)).astype("float32")
    path = tmp_path / "ibcnn.keras"
    model.save(path)
    again = load_model(path)
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5)


@pytest.mark.parametrize("name", ["sbcnn", "sbcnn_small", "ibcnn"])
def test_bn_momentum_reaches_every_batchnorm(name):
    model = build_model(name, n_classes=4, window=16, bn_momentum=0.9)
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert norms and all(layer.momentum == 0.9 for layer in norms)
    assert all(layer.momentum == 0.99 for layer in build_model(name, n_classes=4, window=16).layers if layer in norms)


def test_short_training_inference_statistics_follow_with_lower_momentum():
    """Why short runs set 0.9: after 48 steps the inference-mode (moving-average) outputs are still
    as far from the training-mode (batch-statistics) ones at 0.99 as the outputs are large, and
    much closer at 0.9."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 2, 16)).astype("float32")  # unit scale, as after the input gain
    y = rng.integers(0, 4, size=512)
    gaps = {}
    for momentum in (0.99, 0.9):
        keras.utils.set_random_seed(0)
        model = build_model("sbcnn_small", n_classes=4, window=16, bn_momentum=momentum)
        model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(x, y, batch_size=32, epochs=3, verbose=0)  # 48 steps
        train_mode, infer_mode = model(x, training=True).numpy(), model(x, training=False).numpy()
        gaps[momentum] = float(np.abs(train_mode - infer_mode).mean() / np.abs(train_mode).mean())
    assert gaps[0.9] < 0.5 * gaps[0.99], gaps


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("sbcnn", {"bn_momentum": 1.0}),
        ("inception", {"window": 4}),
        ("inception", {"dense_units": 0}),
        ("sbcnn", {"window": 30}),
        ("sbcnn_small", {"n_classes": 1}),
        ("ibcnn", {"n_classes": 3}),
        ("ibcnn", {"dropout": 1.0}),
    ],
)
def test_bad_parameters_are_rejected(name, kwargs):
    args = {"n_classes": 8, "window": 64} | kwargs
    with pytest.raises(ConfigError):
        build_model(name, **args)
