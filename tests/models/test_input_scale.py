"""Every classifier's fixed input gain: a parameter-free first layer equal to scaling the data."""

from __future__ import annotations

import numpy as np
import pytest

from amc_tf.errors import ConfigError
from amc_tf.models.input_scale import input_scale_of
from amc_tf.models.loading import load_model
from amc_tf.models.registry import MODELS, build_model, input_scale_for, model_params
from amc_tf.runtime import keras, set_seed

#: Small but valid shapes per builder (IBCNN pools the class axis twice: >= 4 classes).
SMALL = {
    "vtcnn2": {"n_classes": 4, "window": 16},
    "inception": {"n_classes": 4, "window": 16, "dense_units": 8},
    "sbcnn": {"n_classes": 4, "window": 16},
    "sbcnn_small": {"n_classes": 4, "window": 16},
    "ibcnn": {"n_classes": 4, "window": 16},
    "mcformer": {"n_classes": 4, "window": 16, "d_model": 8, "ffn": 16, "layers": 1},
    "mcformer_small": {"n_classes": 4, "window": 16, "layers": 1},
}


def test_every_registered_classifier_is_covered():
    assert set(SMALL) == set(MODELS)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_input_scale_equals_scaling_the_windows(name):
    s = 137.5
    set_seed(0)
    scaled = build_model(name, **SMALL[name], input_scale=s)
    plain = build_model(name, **SMALL[name])
    plain.set_weights(scaled.get_weights())  # same architecture, the gain has no weights
    assert scaled.count_params() == plain.count_params()
    layer = scaled.get_layer("input_scale")
    assert isinstance(layer, keras.layers.Rescaling) and not layer.weights
    assert scaled.layers.index(layer) == 1  # first layer after the input
    assert input_scale_of(scaled) == s and input_scale_of(plain) == 1.0
    x = (5e-3 * np.random.default_rng(1).normal(size=(6, 2, 16))).astype("float32")  # RML2016 scale
    # IBCNN: its inner SBCNN logits first (the 8-bit logit image may round small differences away).
    probes = ["sb_logits", "logits"] if name == "ibcnn" else [scaled.layers[-1].name]
    for i, probe in enumerate(probes):
        a, b = (keras.Model(m.input, m.get_layer(probe).output) for m in (scaled, plain))
        out = a(x, training=False).numpy()
        np.testing.assert_allclose(out, b(np.float32(s) * x, training=False).numpy(), rtol=1e-5, atol=1e-6)
        if i == 0:
            assert not np.allclose(out, b(x, training=False).numpy(), rtol=1e-3, atol=1e-6)  # the gain matters


@pytest.mark.parametrize("name", sorted(SMALL))
@pytest.mark.parametrize("bad", [0.0, -2.0, float("nan"), float("inf"), "big"])
def test_bad_input_scale_is_rejected(name, bad):
    with pytest.raises(ConfigError, match="input_scale"):
        build_model(name, **SMALL[name], input_scale=bad)


def test_model_params_derives_the_scale_unless_given():
    x = (4e-3 * np.random.default_rng(2).normal(size=(50, 2, 16))).astype("float32")
    given = {"dense_units": 8}
    derived = model_params("inception", given, x)
    assert derived == {"dense_units": 8, "input_scale": input_scale_for(x)}
    assert given == {"dense_units": 8}  # the config's params are not modified
    assert 200 < derived["input_scale"] < 300  # 1 / std = 250
    assert model_params("sbcnn", {"input_scale": 3.0}, x) == {"input_scale": 3.0}


def test_scaled_model_saves_and_loads(tmp_path):
    model = build_model("sbcnn_small", n_classes=4, window=16, input_scale=42.0)
    path = tmp_path / "m.keras"
    model.save(path)
    again = load_model(path)
    assert input_scale_of(again) == 42.0
    x = (5e-3 * np.random.default_rng(3).normal(size=(3, 2, 16))).astype("float32")
    np.testing.assert_allclose(again(x, training=False).numpy(), model(x, training=False).numpy(), atol=1e-6)
