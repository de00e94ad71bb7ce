"""MCformer and its compact variant: parameter counts, attention maps, serialisation, export,
pruning and attacks on the transformer."""

from __future__ import annotations

import numpy as np
import pytest

from amc_tf.attacks.budgets import Budget, measured_pnr_db
from amc_tf.attacks.registry import build_attack
from amc_tf.errors import ConfigError
from amc_tf.export.tflite import convert
from amc_tf.models.loading import load_model
from amc_tf.models.mcformer import attention_model
from amc_tf.models.registry import build_model
from amc_tf.runtime import set_seed, tf


@pytest.mark.parametrize(
    "name,n_classes,params",
    [
        ("mcformer", 11, 72_939),
        ("mcformer", 10, 72_810),
        ("mcformer_small", 11, 10_179),
        ("mcformer_small", 10, 10_050),
    ],
)
def test_parameter_counts_are_the_papers(name, n_classes, params):
    assert build_model(name, n_classes, 128).count_params() == params


@pytest.mark.parametrize("name,heads", [("mcformer", 4), ("mcformer_small", 4)])
def test_attention_maps_are_row_stochastic_with_the_documented_shape(name, heads):
    model = build_model(name, 11, 128)
    x = np.random.default_rng(0).normal(size=(3, 2, 128)).astype(np.float32)
    logits, *maps = attention_model(model)(x, training=False)
    assert len(maps) == 4
    np.testing.assert_allclose(logits.numpy(), model(x, training=False).numpy(), atol=1e-6)
    for a in maps:
        a = a.numpy()
        assert a.shape == (3, heads, 128, 128)
        assert a.min() >= 0.0
        np.testing.assert_allclose(a.sum(axis=-1), 1.0, atol=1e-5)
    # self-attention depends on the input: two different windows give different maps
    assert np.abs(maps[0].numpy()[0] - maps[0].numpy()[1]).max() > 1e-4


def test_query_key_and_value_start_different():
    layer = build_model("mcformer_small", 11, 128).get_layer("encoder1_attention")
    q, _, k = (w.numpy() for w in layer.weights[:3])
    assert np.abs(q - k).max() > 1e-3


def test_keras_archive_roundtrip_through_the_safe_loader_keeps_the_attention_maps(tmp_path):
    model = build_model("mcformer_small", 4, 32, input_scale=50.0)
    x = np.random.default_rng(1).normal(size=(2, 2, 32)).astype(np.float32) * 0.01
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = load_model(path)
    before = attention_model(model)(x, training=False)
    after = attention_model(loaded)(x, training=False)
    for a, b in zip(before, after):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


def test_tflite_export_gives_the_keras_logits():
    model = build_model("mcformer_small", 11, 128)
    interpreter = tf.lite.Interpreter(model_content=convert(model))
    interpreter.allocate_tensors()
    x = np.random.default_rng(2).normal(size=(1, 2, 128)).astype(np.float32)
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    out = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(out, model(x, training=False).numpy(), atol=1e-4)


def test_a_model_without_attention_is_refused():
    with pytest.raises(ConfigError, match="no attention layers"):
        attention_model(build_model("vtcnn2", 4, 32))


@pytest.mark.parametrize("params", [{"heads": 3}, {"pool_tokens": 200}, {"dropout": 1.0}, {"layers": 0}])
def test_bad_parameters_raise_config_errors(params):
    with pytest.raises(ConfigError):
        build_model("mcformer_small", 11, 128, **params)


@pytest.fixture(scope="module")
def trained_small(tiny_data):
    """The compact transformer trained for a few epochs on the tiny world."""
    from amc_tf.runtime import keras

    set_seed(0)
    model = build_model("mcformer_small", len(tiny_data.classes), tiny_data.x.shape[2], input_scale=50.0, dropout=0.0)
    model.compile(keras.optimizers.Adam(3e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(tiny_data.x, tiny_data.y, epochs=8, batch_size=64, verbose=0)
    return model


def test_the_compact_transformer_learns_and_pgd_through_it_meets_its_budget(trained_small, tiny_data):
    sel = tiny_data.snr == 18
    x, y = tiny_data.x[sel][:128], tiny_data.y[sel][:128]
    clean = float((trained_small.predict(x, verbose=0).argmax(1) == y).mean())
    assert clean > 0.6
    attack = build_attack("pgd_l2", trained_small, budget=Budget.pnr(0.0), steps=10)
    x_adv = attack.generate(x, y, snr=18)
    np.testing.assert_array_less(measured_pnr_db(x, x_adv, 18), 0.0 + 1e-3)
    adv = float((trained_small.predict(x_adv, verbose=0).argmax(1) == y).mean())
    assert adv < clean - 0.2


def test_tfmot_prunes_a_transformer_layer_to_the_sparsity_asked(trained_small, tiny_data):
    from amc_tf.prune.tfmot import kernel_sparsity, prune_magnitude

    pruned = prune_magnitude(
        trained_small, tiny_data.x, tiny_data.y, target_sparsity=0.5, layers=["fc", "encoder1_ffn1"], epochs=1
    )
    assert kernel_sparsity(pruned, "fc") == pytest.approx(0.5, abs=0.01)
    assert kernel_sparsity(pruned, "encoder1_ffn1") == pytest.approx(0.5, abs=0.02)
