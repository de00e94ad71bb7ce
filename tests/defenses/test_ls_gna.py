"""LS-GNA: the noise has its configured PNR, the loss is Keras' label smoothing, and a whole run."""

from __future__ import annotations

import numpy as np
import pytest

from amc_tf.attacks.budgets import measured_pnr_db
from amc_tf.config.base import validate_config
from amc_tf.config.hardening import LsGnaConfig
from amc_tf.defenses.adversarial_model import pack_snr
from amc_tf.defenses.adversarial_steps import example_pnr_db
from amc_tf.defenses.ls_gna import LsGnaTrainer, gaussian_noise, ls_gna_train
from amc_tf.errors import ConfigError
from amc_tf.models.loading import load_model
from amc_tf.prune.apply import copy_model
from amc_tf.runtime import keras, tf
from amc_tf.training.fit import compile_classifier

FAST = {"epochs": 2, "batch_size": 64, "patience": 0, "verbose": 0}


def _trainer(model, **kw) -> LsGnaTrainer:
    trainer = LsGnaTrainer(copy_model(model), LsGnaConfig(train=FAST, **kw), seed=0)
    compile_classifier(trainer, 1e-3)
    return trainer


def test_noise_has_the_configured_pnr(tiny_data):
    x, snr = tf.constant(tiny_data.x), tf.constant(tiny_data.snr.astype(np.float32))
    pnr = tf.fill([len(tiny_data)], -10.0)
    noise = gaussian_noise(x, snr, pnr, tf.constant([1, 2], tf.int64)).numpy()
    measured = measured_pnr_db(tiny_data.x, tiny_data.x + noise, tiny_data.snr)
    linear = 10 ** (measured / 10)
    assert np.mean(linear) == pytest.approx(0.1, rel=0.02)  # expected energy exactly the PNR's
    assert np.std(measured) < 1.5 and np.abs(noise.mean()) < 1e-4  # white, zero-mean, per-window level
    for s in tiny_data.snrs:  # the same PNR whatever the SNR label
        assert np.mean(linear[tiny_data.snr == s]) == pytest.approx(0.1, rel=0.04)


def test_trainer_noise_is_drawn_per_window_in_the_range(tiny_model, tiny_data):
    trainer = _trainer(tiny_model, noise_pnr_db=(-20.0, -10.0))
    x, snr = tf.constant(tiny_data.x), tf.constant(tiny_data.snr.astype(np.float32))
    noisy = trainer.noisy(x, snr).numpy()
    requested = example_pnr_db(trainer.budget, len(tiny_data), trainer._seed(1)).numpy()
    assert requested.min() >= -20 and requested.max() <= -10 and requested.std() > 2.5
    ratio = 10 ** ((measured_pnr_db(tiny_data.x, noisy, tiny_data.snr) - requested) / 10)
    assert np.mean(ratio) == pytest.approx(1.0, rel=0.02)  # realised / requested energy


def test_loss_is_keras_label_smoothing_on_the_noisy_batch(tiny_model, tiny_data):
    data = tiny_data.subset(slice(0, 64))
    trainer = _trainer(tiny_model, smoothing=0.2)
    x, snr = tf.constant(data.x), tf.constant(data.snr.astype(np.float32))
    logits = trainer.classifier(trainer.noisy(x, snr), training=True)  # what step 0 trains on
    keras_loss = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2)
    want = float(keras_loss(tf.one_hot(data.y, 4), logits))
    logs = trainer.train_on_batch(pack_snr(data).x, data.y, return_dict=True)
    assert logs["loss"] == pytest.approx(want, rel=1e-5)


def test_ls_gna_run_keeps_frozen_and_pruned_weights_and_round_trips(tiny_model, tiny_data, tmp_path):
    pruned = copy_model(tiny_model)
    first, second = [layer.name for layer in pruned.layers if isinstance(layer, keras.layers.Conv2D)]
    kernel, bias = pruned.get_layer(second).get_weights()
    kernel[np.abs(kernel) < np.quantile(np.abs(kernel), 0.7)] = 0.0
    pruned.get_layer(second).set_weights([kernel, bias])
    train, val = tiny_data.subset(slice(0, 300)), tiny_data.subset(slice(300, 400))
    config = LsGnaConfig(train=FAST, freeze=[first])
    model, result = ls_gna_train(pruned, train, val, config, seed=0)
    assert all(
        np.array_equal(a, b)
        for a, b in zip(pruned.get_layer(first).get_weights(), model.get_layer(first).get_weights())
    )
    after = model.get_layer(second).get_weights()[0]
    assert np.array_equal(after == 0, kernel == 0) and not np.array_equal(after, kernel)
    assert result.sparsity[second]["kept"] and result.frozen_layers == [first]
    assert set(result.history) == {"loss", "accuracy", "val_loss", "val_accuracy"} and result.epochs == 2
    model.save(tmp_path / "lsgna.keras")
    loaded = load_model(tmp_path / "lsgna.keras")
    np.testing.assert_array_equal(loaded.predict(val.x[:8], verbose=0), model.predict(val.x[:8], verbose=0))
    again, _ = ls_gna_train(pruned, train, val, config, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), again.get_weights()))  # same seed
    assert result.to_json()["noise_pnr_db"] == [-20.0, -10.0] and result.metrics()["final_val_loss"] > 0


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"smoothing": 1.0}, "less than 1"),
        ({"smoothing": -0.1}, "greater than or equal to 0"),
        ({"noise_pnr_db": [-10, -20]}, "lo <= hi"),
        ({"noise_pnr_db": [-10, 90]}, "noise_pnr_db must lie in [-80, 40] dB"),
        ({"train": {"epochs": 0}}, "train.epochs"),
        ({"sigma": 0.1}, "unknown field"),
    ],
)
def test_bad_ls_gna_config_is_a_config_error(data, words):
    with pytest.raises(ConfigError) as err:
        validate_config(LsGnaConfig, data)
    assert words in str(err.value)
