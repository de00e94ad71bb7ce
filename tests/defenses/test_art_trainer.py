"""ART's adversarial trainers as the baseline of ours: they run on the same copy, budget and frozen
layers, return finite figures, and bad settings are refused before ART starts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from amc_tf.attacks.budgets import Budget, Norm
from amc_tf.config.defense import AdversarialTrainingConfig, TrainingBudget
from amc_tf.defenses.art_trainer import art_adversarial_train, art_eps
from amc_tf.errors import ConfigError
from amc_tf.runtime import keras

FAST = {"epochs": 1, "batch_size": 64, "patience": 0, "verbose": 0}


def _config(**kw) -> AdversarialTrainingConfig:
    kw.setdefault("train", FAST)
    kw.setdefault("freeze", [])
    kw.setdefault(
        "mix", [{"attack": {"name": "pgd_linf", "steps": 3}, "fraction": 0.5}, {"attack": "fgsm", "fraction": 0.5}]
    )
    return AdversarialTrainingConfig(mode="online", **kw)


@pytest.fixture(scope="module")
def split(tiny_data):
    return tiny_data.subset(slice(0, 256)), tiny_data.subset(slice(256, 320))


def _convs(model) -> list[str]:
    return [layer.name for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]


@pytest.mark.parametrize("trainer", ["mix", "madry"])
def test_art_trains_a_copy_with_the_frozen_layer_held(tiny_model, split, trainer):
    train, test = split
    first, second = _convs(tiny_model)
    before = {layer.name: layer.get_weights() for layer in tiny_model.layers}
    result = art_adversarial_train(tiny_model, train, test, _config(freeze=[first]), seed=0, trainer=trainer)
    for name in (first, second):
        after = result.model.get_layer(name).get_weights()
        same = all(np.array_equal(a, b) for a, b in zip(before[name], after))
        assert same == (name == first), name
    assert all(np.array_equal(a, b) for a, b in zip(before[first], tiny_model.get_layer(first).get_weights()))
    assert result.model.get_layer(first).trainable  # original flags restored
    figures = result.metrics()
    assert all(math.isfinite(v) for v in figures.values()), figures
    assert result.samples_per_s > 0 and result.seconds_per_epoch > 0
    assert 0.0 <= result.robust_acc <= 1.0 and 0.0 <= result.clean_acc <= 1.0
    assert result.attacks == (["pgd_linf", "fgsm"] if trainer == "mix" else ["pgd_linf"])
    expected = art_eps(TrainingBudget(), train.x, train.snr, Norm.LINF)
    assert result.eps["pgd_linf"] == pytest.approx(expected)


def test_art_eps_is_our_mean_radius(split):
    train, _ = split
    mean = float(np.mean(Budget.pnr(-10.0).radius(train.x, train.snr, Norm.LINF)))
    assert art_eps(TrainingBudget(pnr_db=-10.0), train.x, train.snr, Norm.LINF) == pytest.approx(mean)
    at10 = float(np.mean(Budget.pnr(-10.0).radius(train.x, np.full(len(train), 10), Norm.L2)))
    assert art_eps(TrainingBudget(pnr_db=-10.0), train.x, train.snr, Norm.L2, eval_snr_db=10) == pytest.approx(at10)
    same = TrainingBudget(pnr_db=-10.0, linf_convention="same_eps")
    ratio = art_eps(same, train.x, train.snr, Norm.LINF) / mean
    assert ratio == pytest.approx(math.sqrt(2 * train.window), rel=1e-5)
    assert art_eps(TrainingBudget(eps=0.01), train.x, train.snr, Norm.LINF) == pytest.approx(0.01)


@pytest.mark.parametrize(
    ("kwargs", "config", "message"),
    [
        ({"trainer": "trades"}, {}, "trainer must be"),
        ({"trainer": "madry"}, {"mix": [{"attack": "fgsm", "fraction": 1.0}]}, "needs a pgd_linf or pgd_l2"),
        ({}, {"freeze": ["dense1"]}, "has no layer"),
    ],
)
def test_bad_settings_are_config_errors(tiny_model, split, kwargs, config, message):
    train, test = split
    with pytest.raises(ConfigError, match=message):
        art_adversarial_train(tiny_model, train, test, _config(**config), seed=0, **kwargs)


def test_windows_that_do_not_fit_the_model_are_refused(tiny_model, split):
    train, test = split
    short = train.subset(slice(0, 8))
    short = type(short)(short.x[:, :, :16], short.y, short.snr, short.classes)
    with pytest.raises(ConfigError, match="do not fit model input"):
        art_adversarial_train(tiny_model, short, test, _config(), seed=0)
