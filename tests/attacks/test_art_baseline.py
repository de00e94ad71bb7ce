"""ART 1.20 baseline: the same threat, and element-wise agreement where the algorithm is the same."""

from __future__ import annotations

import numpy as np
import pytest

from amc_tf.attacks import Budget, build_attack
from amc_tf.attacks.baselines.art import build_art_attack
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
    a = build_art_attack(
        "pgd_linf", tiny_model, budget=Budget.absolute(2e-3), steps=3, random_start=True, restarts=2, seed=3
    )
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


def _affine_classifier(n_classes: int = 5, window: int = 8) -> keras.Model:
    """logits = W vec(x) + b with fixed weights; class 0 far below, the last class on top."""
    g = np.random.default_rng(3)
    inp = keras.Input((2, window))
    dense = keras.layers.Dense(n_classes)
    model = keras.Model(inp, dense(keras.layers.Flatten()(inp)))
    bias = np.linspace(0.0, 0.4, n_classes).astype(np.float32)
    bias[0], bias[-1] = -5.0, 3.0
    dense.set_weights([(g.standard_normal((2 * window, n_classes)) * 10).astype(np.float32), bias])
    return model


def test_art_deepfool_is_exact_on_an_affine_model_when_a_class_is_left_out():
    """ART 1.20.1 with nb_grads < C indexes logits by position in its class subset: with class 0
    left out it took a zero step and returned x. Both DeepFools must give the closed form."""
    model = _affine_classifier()
    x = (np.random.default_rng(4).standard_normal((1, 2, 8)) * 1e-2).astype(np.float32)
    w, b = (v.astype(np.float64) for v in model.layers[-1].get_weights())
    f = x.reshape(1, -1).astype(np.float64) @ w + b
    k = int(np.argmax(f))
    assert k == 4 and int(np.argmin(f)) == 0
    others = [c for c in range(1, 5) if c != k]  # the top-4 candidates: class 0 is left out
    dist = min((f[0, k] - f[0, c]) / np.linalg.norm(w[:, k] - w[:, c]) for c in others)
    y = np.array([k])
    native = build_attack("deepfool", model, budget=None, candidates=4).generate(x, y)
    art = build_art_attack("deepfool", model, budget=None, candidates=4, max_iter=5).generate(x, y)
    for x_adv in (native, art):
        assert np.argmax(model.predict(x_adv, verbose=0), axis=1)[0] != k
        np.testing.assert_allclose(np.linalg.norm(x_adv - x), 1.02 * dist, rtol=1e-4)


def test_art_uap_inner_deepfool_moves_a_single_example():
    """ART's UAP runs DeepFool one example at a time with top-10 classes: with 11 classes one is
    always left out (the bug above), and the vector stayed zero."""
    model = _affine_classifier(n_classes=11)
    x = (np.random.default_rng(4).standard_normal((1, 2, 8)) * 1e-2).astype(np.float32)
    assert int(np.argmax(model.predict(x, verbose=0))) == 10
    uap = build_art_attack("uap", model, budget=Budget.absolute(10.0))
    x_adv = uap.generate(x, np.array([10]))
    assert np.linalg.norm(uap.perturbation) > 0
    assert np.argmax(model.predict(x_adv, verbose=0), axis=1)[0] != 10
