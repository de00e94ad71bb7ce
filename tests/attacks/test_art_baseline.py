"""ART 1.20 baseline: the same threat, and element-wise agreement where the algorithm is the same."""

from __future__ import annotations

import numpy as np
import pytest

from amc_tf.attacks import Budget, build_attack
from amc_tf.attacks.art_baseline import build_art_attack
from amc_tf.attacks.budgets import Norm, audit
from amc_tf.errors import AttackError, ModelError
from amc_tf.runtime import keras


@pytest.mark.parametrize("name", ["fgm", "fgsm"])
def test_fast_gradient_methods_equal_arts(tiny_model, snr10, name):
    x, y, snr = snr10.x[:128], snr10.y[:128], snr10.snr[:128]
    b = Budget.pnr(-6)
    native = build_attack(name, tiny_model, budget=b, batch_size=64).generate(x, y, snr=snr)
    art = build_art_attack(name, tiny_model, budget=b, batch_size=64).generate(x, y, snr=snr)
    np.testing.assert_allclose(native, art, rtol=0, atol=1e-5)


@pytest.mark.parametrize("name", ["pgd_l2", "pgd_linf"])
def test_pgd_without_random_start_equals_arts(tiny_model, snr10, name):
    x, y, snr = snr10.x[:64], snr10.y[:64], snr10.snr[:64]
    settings = dict(budget=Budget.pnr(-4), steps=5, step_fraction=0.4, random_start=False, batch_size=64)
    native = build_attack(name, tiny_model, **settings).generate(x, y, snr=snr)
    art = build_art_attack(name, tiny_model, **settings).generate(x, y, snr=snr)
    assert np.abs(native - art).max() <= 1e-6


def test_art_pgd_random_start_needs_an_absolute_budget(tiny_model, snr10):
    x, y = snr10.x[:64], snr10.y[:64]
    with pytest.raises(AttackError, match="random starts"):
        build_art_attack("pgd_linf", tiny_model, budget=Budget.pnr(-4), random_start=True)
    a = build_art_attack("pgd_linf", tiny_model, budget=Budget.absolute(2e-3), steps=3, random_start=True, restarts=2, seed=3)
    x_adv = a.generate(x, y)
    assert audit(x, x_adv, a.resolve_radius(x, None), Norm.LINF).ok
    np.testing.assert_array_equal(x_adv, a.generate(x, y))  # seeded


def test_art_deepfool_and_uap_fool_the_model_within_budget(tiny_model, snr10):
    x, y, snr = snr10.x[:8], snr10.y[:8], snr10.snr[:8]  # ART's DeepFool is slow: keep it tiny
    pred = np.argmax(tiny_model.predict(x, verbose=0), axis=1)
    free = build_art_attack("deepfool", tiny_model, budget=None).generate(x)
    assert np.mean(np.argmax(tiny_model.predict(free, verbose=0), axis=1) != pred) >= 0.75
    capped = build_art_attack("deepfool", tiny_model, budget=Budget.pnr(-10)).generate(x, snr=snr)
    assert audit(x, capped, Budget.pnr(-10).radius(x, snr, Norm.L2), Norm.L2).ok
    uap = build_art_attack("uap", tiny_model, budget=Budget.pnr(0))
    x_adv = uap.generate(x, y, snr=snr)
    np.testing.assert_allclose(x_adv - x, np.broadcast_to(uap.perturbation, x.shape), atol=1e-7)
    assert np.linalg.norm(uap.perturbation) <= uap.radius * (1 + 1e-5)


def test_art_baseline_refusals(tiny_model):
    with pytest.raises(AttackError, match="#2439"):
        build_art_attack("mifgsm", tiny_model, budget=Budget.pnr(0))
    with pytest.raises(AttackError, match="unknown ART"):
        build_art_attack("cw", tiny_model, budget=Budget.pnr(0))
    with pytest.raises(AttackError, match="budget"):
        build_art_attack("pgd_l2", tiny_model, budget=None)
    with pytest.raises(AttackError):
        build_art_attack("pgd_l2", tiny_model, budget=Budget.pnr(0), steps=0)
    inp = keras.Input((2, 32))
    probs = keras.Model(inp, keras.layers.Dense(4, activation="softmax")(keras.layers.Flatten()(inp)))
    with pytest.raises(ModelError, match="probabilities"):
        build_art_attack("fgsm", probs, budget=Budget.pnr(0))
