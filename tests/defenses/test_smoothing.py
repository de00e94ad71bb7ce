"""Randomized smoothing on a linear binary classifier, where the smoothed classifier and its exact
certified radius are known in closed form.

For ``f(x) = [w·x + b > 0]`` and noise ``N(0, σ² I)``, ``w·(x + ε) + b ~ N(w·x + b, σ² ||w||²)``,
so ``p_A = Φ(|w·x + b| / (σ ||w||))``, the smoothed classifier equals ``f`` and the exact radius is
``σ Φ⁻¹(p_A) = |w·x + b| / ||w||``: the distance to the decision hyperplane.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest

from amc_tf.attacks.budgets import Budget, Norm
from amc_tf.attacks.registry import build_attack
from amc_tf.config.base import validate_config
from amc_tf.config.certify import SmoothingConfig
from amc_tf.defenses.smoothing import (
    ABSTAIN,
    certify,
    clopper_pearson_lower,
    noisy_model,
    plot_certified,
    predict_smoothed,
    resolve_sigma,
)
from amc_tf.defenses.smoothing_noise import ESTIMATION, forward_classes, noisy_counts
from amc_tf.defenses.smoothing_result import certified_pnr_db
from amc_tf.errors import ConfigError
from amc_tf.runtime import keras

WINDOW = 16
SIGMA = 0.5


def linear_model(w: np.ndarray, b: float) -> keras.Model:
    """Logits ``[0, w·x + b]`` of windows ``[N, 2, L]``: class 1 iff ``w·x + b > 0``."""
    inputs = keras.Input((2, WINDOW))
    dense = keras.layers.Dense(2, name="linear")
    model = keras.Model(inputs, dense(keras.layers.Flatten()(inputs)), name="linear_binary")
    kernel = np.stack([np.zeros(w.size), w.ravel()], axis=1).astype(np.float32)
    dense.set_weights([kernel, np.array([0.0, b], np.float32)])
    return model


@pytest.fixture(scope="module")
def world():
    g = np.random.default_rng(0)
    w = g.standard_normal((2, WINDOW)).astype(np.float32)
    b = 0.1
    x = (0.3 * g.standard_normal((12, 2, WINDOW))).astype(np.float32)
    margin = x.reshape(len(x), -1).astype(np.float64) @ w.ravel() + b
    exact = np.abs(margin) / np.linalg.norm(w)
    return {"model": linear_model(w, b), "w": w, "b": b, "x": x, "y": (margin > 0).astype(np.int64), "exact": exact}


def absolute(n: int, **kw) -> SmoothingConfig:
    return SmoothingConfig(sigma=SIGMA, sigma_unit="absolute", n0=100, n=n, batch_size=20_000, **kw)


@pytest.fixture(scope="module")
def certified(world):
    return certify(world["model"], world["x"], world["y"], 10, absolute(100_000), seed=0, progress=False)


def test_certified_radius_is_a_lower_bound_close_to_the_exact_one(world, certified):
    exact = world["exact"]
    assert (certified.predicted == world["y"]).all() and certified.correct.all()
    assert (certified.radius_l2 <= exact).all()
    # n = 100,000, alpha = 0.001: the bound sits within ~0.03 sigma of the truth below p_A ~ 0.99
    near = exact < 2.0 * SIGMA
    assert np.all(exact[near] - certified.radius_l2[near] < 0.03 * SIGMA)
    assert certified.abstain_rate == 0.0 and certified.examples_per_s > 0


def test_no_attack_inside_the_certified_radius(world, certified):
    model, x, y = world["model"], world["x"], world["y"]
    classes = forward_classes(model)
    for i in range(len(x)):
        inside = build_attack(
            "pgd_l2", model, budget=Budget.absolute(0.99 * certified.radius_l2[i]), steps=20, random_start=False
        ).generate(x[i : i + 1], y[i : i + 1])
        assert np.linalg.norm(inside - x[i]) <= 0.99 * certified.radius_l2[i] * (1 + 1e-5)
        # for a linear model the smoothed prediction is the base one, exactly
        assert classes(inside)[0] == y[i]
        again = certify(model, inside, y[i : i + 1], 10, absolute(2_000), seed=1, progress=False)
        assert again.predicted[0] in (y[i], ABSTAIN)
        # the attack is strong enough: just past the exact radius it succeeds
        outside = build_attack(
            "pgd_l2", model, budget=Budget.absolute(1.05 * world["exact"][i]), steps=20, random_start=False
        ).generate(x[i : i + 1], y[i : i + 1])
        assert classes(outside)[0] != y[i]


def test_abstains_on_the_decision_boundary(world):
    w, b = world["w"].ravel().astype(np.float64), world["b"]
    flat = world["x"][:3].reshape(3, -1).astype(np.float64)
    on_boundary = (flat - np.outer(flat @ w + b, w) / (w @ w)).reshape(3, 2, WINDOW).astype(np.float32)
    result = certify(world["model"], on_boundary, np.array([0, 1, 1]), 10, absolute(2_000), seed=0, progress=False)
    assert (result.predicted == ABSTAIN).all() and (result.p_a_lower <= 0.5).all()
    assert (result.radius_l2 == 0).all() and np.isneginf(result.certified_pnr_db).all()
    assert not result.correct.any() and result.abstain_rate == 1.0
    assert result.certified_accuracy([-100.0]) == [0.0]
    assert (predict_smoothed(world["model"], on_boundary, absolute(2_000), seed=0) == ABSTAIN).all()


def test_certified_pnr_is_the_budget_formula(world, certified):
    x, snr = world["x"], np.arange(len(world["x"])) % 3 * 5  # 0, 5, 10 dB labels
    pnr = certified_pnr_db(x, certified.radius_l2, snr)
    energy = np.sum(np.square(x.astype(np.float64)), axis=(1, 2))
    expected = 10 * np.log10(certified.radius_l2**2 * (10 ** (snr / 10) + 1) / energy)
    np.testing.assert_allclose(pnr, expected, atol=1e-5)
    # the inverse: a PNR budget at the certified PNR is the certified radius
    for i in range(len(x)):
        radius = Budget.pnr(pnr[i]).radius(x[i : i + 1], snr[i], Norm.L2)[0]
        assert radius == pytest.approx(certified.radius_l2[i], rel=1e-5)
    # certified accuracy counts correct, non-abstained examples certified at >= p
    np.testing.assert_allclose(certified.certified_pnr_db, certified_pnr_db(x, certified.radius_l2, 10))
    grid = [-80.0, float(np.median(certified.certified_pnr_db)), 50.0]
    fractions = certified.certified_accuracy(grid)
    assert fractions[0] == 1.0 and fractions[-1] == 0.0
    assert fractions[1] == np.mean(certified.certified_pnr_db >= grid[1])


def test_same_seed_same_certificates(world):
    config = absolute(1_000)
    first = certify(world["model"], world["x"], world["y"], 10, config, seed=3, progress=False)
    second = certify(world["model"], world["x"], world["y"], 10, config, seed=3, progress=False)
    other = certify(world["model"], world["x"], world["y"], 10, config, seed=4, progress=False)
    for name in ("predicted", "radius_l2", "certified_pnr_db", "p_a_lower"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))
    assert not np.array_equal(first.p_a_lower, other.p_a_lower)


def test_counts_do_not_depend_on_packing(world):
    classes = forward_classes(world["model"])
    counts = [
        noisy_counts(classes, world["x"], SIGMA, 300, 2, seed=0, phase=ESTIMATION, batch_size=size)
        for size in (64, 300, 5_000)
    ]
    assert all(c.sum(axis=1).tolist() == [300] * len(world["x"]) for c in counts)
    np.testing.assert_array_equal(counts[0], counts[1])
    np.testing.assert_array_equal(counts[1], counts[2])


def test_clopper_pearson_matches_scipy_exact_interval():
    n, alpha = 1_000, 0.001
    for k in (0, 1, 500, 873, 999, 1_000):
        expected = binomtest(k, n).proportion_ci(confidence_level=1 - 2 * alpha, method="exact").low
        assert clopper_pearson_lower(k, n, alpha) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"sigma": -0.1, "sigma_unit": "absolute"}, "absolute sigma must be > 0"),
        ({"sigma": 0.0, "sigma_unit": "absolute"}, "absolute sigma must be > 0"),
        ({"sigma": float("nan")}, "finite"),
        ({"sigma": 80.0}, "[-60, 40] dB"),
        ({"n0": 0}, "n0"),
        ({"n0": 200, "n": 100}, "must be >= n0"),
        ({"n": 5, "n0": 1}, "can never certify"),
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 1.0}, "alpha"),
        ({"sigma_unit": "watts"}, "sigma_unit"),
        ({"sigma": 0.1, "sigma_unit": "absolute", "reference_power": 1.0}, "only to sigma_unit='nsr_db'"),
        ({"sigmas": 0.1}, "unknown field"),
    ],
)
def test_bad_config_is_a_config_error(data, words):
    with pytest.raises(ConfigError) as err:
        validate_config(SmoothingConfig, data, "smoothing")
    assert words in str(err.value)


def test_bad_inputs_are_config_errors(world):
    with pytest.raises(ConfigError, match=r"\[N, 2, 16\]"):
        certify(world["model"], world["x"][:, :, :8], world["y"], 10, absolute(100), seed=0, progress=False)
    with pytest.raises(ConfigError, match="shape"):
        certify(world["model"], world["x"], world["y"][:3], 10, absolute(100), seed=0, progress=False)


def test_db_sigma_is_relative_to_mean_power():
    config = SmoothingConfig(sigma=-10.0)
    x = np.full((4, 2, WINDOW), 0.01, np.float32)  # mean power 1e-4
    assert resolve_sigma(config, x) == pytest.approx(np.sqrt(1e-5))
    fixed = SmoothingConfig(sigma=0.0, reference_power=4.0)
    assert resolve_sigma(fixed, x) == pytest.approx(2.0)
    assert SmoothingConfig().n == 100_000 and SmoothingConfig().alpha == 0.001


def test_gaussian_noise_only_in_training(world):
    model = world["model"]
    wrapper = noisy_model(model, 0.3, seed=0)
    np.testing.assert_array_equal(wrapper(world["x"], training=False).numpy(), model(world["x"]).numpy())
    assert not np.allclose(wrapper(world["x"], training=True).numpy(), model(world["x"]).numpy())
    assert wrapper.count_params() == model.count_params()


def test_plot_certified_writes_png(certified, tmp_path):
    grid = [-20.0, -10.0, 0.0]
    path = plot_certified(certified, grid, {"PGD-L2 (base)": [0.9, 0.5, 0.1]}, tmp_path / "certified.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="points"):
        plot_certified(certified, grid, {"bad": [0.5]}, tmp_path / "bad.png")


def test_train_with_gaussian_noise_trains_the_model_in_place(tiny, tiny_data):
    from amc_tf.config.train import TrainConfig
    from amc_tf.defenses.smoothing import train_with_gaussian_noise

    model = tiny.build_tiny_model()
    before = [v.copy() for v in model.get_weights()]
    cfg = TrainConfig(epochs=1, patience=0, batch_size=256, verbose=0)
    result = train_with_gaussian_noise(model, tiny_data, None, cfg, SmoothingConfig(sigma=-10.0), seed=0)
    assert result.epochs_run == 1
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))
