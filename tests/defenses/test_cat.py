"""CAT: the budget rule, the adaptive label, PGD inside each example's own ball, and a whole run."""

from __future__ import annotations

import numpy as np
import pytest

from amc_tf.attacks.budgets import Budget, Norm
from amc_tf.config.base import validate_config
from amc_tf.config.hardening import CatConfig
from amc_tf.defenses.cat import CatTrainer, cat_train, cat_update, dirichlet, pack_index, smooth_labels
from amc_tf.errors import ConfigError
from amc_tf.models.loading import load_model
from amc_tf.prune.apply import copy_model
from amc_tf.runtime import keras, tf
from amc_tf.training.fit import compile_classifier

FAST = {"epochs": 2, "batch_size": 64, "patience": 0, "verbose": 0}


def _config(**kw) -> CatConfig:
    kw.setdefault("train", FAST)
    return CatConfig(**kw)


def _trainer(model, n_train: int, **kw) -> CatTrainer:
    trainer = CatTrainer(copy_model(model), _config(**kw), n_train, seed=0)
    compile_classifier(trainer, 1e-3)
    return trainer


def _tensors(data):
    return tf.constant(data.x), tf.constant(data.y), tf.constant(data.snr.astype(np.float32))


def test_budget_rule_grows_survivors_by_eta_and_undoes_broken_ones():
    old = tf.constant([0.0, 0.5, 0.9, 1.0, 0.3, 1.0])
    broken = tf.constant([False, True, False, False, True, True])
    tried, new = cat_update(old, broken, 0.2)
    np.testing.assert_allclose(tried.numpy(), [0.2, 0.7, 1.0, 1.0, 0.5, 1.0], rtol=1e-6)  # clipped at ε_max
    np.testing.assert_array_equal(new.numpy(), [np.float32(0.2), 0.5, 1.0, 1.0, np.float32(0.3), 1.0])


def test_one_step_updates_the_budgets_of_its_examples_by_position(tiny_model, tiny_data):
    """A shuffled batch of positions: each budget moves by the rule, measured against the model's
    own verdict on the adversarial windows; the other positions do not move."""
    n = 120
    data = tiny_data.subset(slice(0, n))
    trainer = _trainer(tiny_model, n, pnr_max_db=-3.0, eta=0.25, steps=5)
    start = np.random.default_rng(0).choice([0.0, 0.25, 0.5, 1.0], n).astype(np.float32)
    trainer.scale.assign(start)
    batch = np.random.default_rng(1).permutation(n)[:64]
    packed = pack_index(data).x[batch]
    x_adv = trainer.craft_at(*_crafting_inputs(trainer, data, batch, start))
    trainer.train_on_batch(packed, data.y[batch])
    broken = np.argmax(tiny_model.predict(x_adv.numpy(), verbose=0), axis=1) != data.y[batch]
    assert 5 < broken.sum() < 60  # both cases occur
    after = trainer.scale.numpy()
    want = np.where(broken, start[batch], np.minimum(start[batch] + np.float32(0.25), 1.0))
    np.testing.assert_array_equal(after[batch], want)
    others = np.setdiff1d(np.arange(n), batch)
    np.testing.assert_array_equal(after[others], start[others])


def _crafting_inputs(trainer, data, batch, start):
    """What ``train_step`` crafts from at optimizer step 0: the tried scale and its smoothed label."""
    x, y, snr = (t[batch] for t in (data.x, data.y, data.snr.astype(np.float32)))
    tried = np.minimum(start[batch] + np.float32(trainer.eta), 1.0)
    u = dirichlet(tf.constant(len(batch)), trainer.n_classes, trainer._seed(1))
    return tf.constant(x), smooth_labels(tf.constant(y), tf.constant(tried), u, trainer.c), tf.constant(snr), tried


def test_adaptive_label_is_a_distribution_with_the_formulas_mass():
    n, k, c = 20_000, 4, 0.3
    u = dirichlet(tf.constant(n), k, tf.constant([3, 4], tf.int64)).numpy()
    assert np.all(u > 0) and np.allclose(u.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(u.mean(axis=0), 1 / k, atol=0.01)  # Dirichlet(1): Beta(1, k-1) marginals
    np.testing.assert_allclose(u.var(axis=0), (k - 1) / (k * k * (k + 1)), rtol=0.06)
    other = dirichlet(tf.constant(n), k, tf.constant([3, 5], tf.int64)).numpy()
    assert not np.allclose(u, other)  # a fresh draw per step
    y = np.random.default_rng(0).integers(0, k, n)
    scale = np.random.default_rng(1).uniform(0, 1, n).astype(np.float32)
    label = smooth_labels(tf.constant(y), tf.constant(scale), tf.constant(u), c).numpy()
    assert np.allclose(label.sum(axis=1), 1.0, atol=1e-6) and label.min() >= 0
    rows = np.arange(n)
    np.testing.assert_allclose(label[rows, y], 1 - c * scale + c * scale * u[rows, y], rtol=1e-6)
    off = np.ones_like(label, bool)
    off[rows, y] = False
    np.testing.assert_allclose(label[off], (c * scale[:, None] * u)[off], rtol=1e-5)


@pytest.mark.parametrize("norm", [Norm.L2, Norm.LINF])
def test_pgd_stays_in_each_examples_own_ball_and_is_multi_step(tiny_model, tiny_data, norm):
    data = tiny_data.subset(slice(0, 96))
    x, y, snr = _tensors(data)
    scale = np.random.default_rng(0).uniform(0.05, 1.0, len(data)).astype(np.float32)
    target = smooth_labels(y, tf.constant(scale), dirichlet(tf.constant(len(data)), 4, tf.constant([0, 0])), 0.3)
    settings = {"pnr_max_db": 0.0, "norm": norm, "random_start": False}
    multi = _trainer(tiny_model, len(data), steps=10, step_size=2.5, **settings)
    single = _trainer(tiny_model, len(data), steps=1, step_size=0.25, **settings)  # the reimplementation's one step
    own = scale * Budget.pnr(0.0).radius(data.x, data.snr, norm)  # budgets.py's radius, scaled
    np.testing.assert_allclose(multi.max_radius(x, snr).numpy() * scale, own, rtol=1e-6)
    delta = multi.craft_at(x, target, snr, tf.constant(scale)).numpy() - data.x
    flat = delta.reshape(len(data), -1).astype(np.float64)
    size = np.linalg.norm(flat, axis=1) if norm is Norm.L2 else np.abs(flat).max(axis=1)
    assert np.all(size <= own + 1e-6)
    assert np.mean(size >= 0.99 * own) > 0.9  # the steps reach the ball's surface (bar vanishing gradients)
    one = single.craft_at(x, target, snr, tf.constant(scale)).numpy()

    def loss(x_adv):
        logits = tiny_model(x_adv, training=False)
        return float(tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(target, logits)))

    assert np.abs(one - data.x - delta).max() > 1e-4  # ten steps are not one
    assert loss(data.x + delta) > loss(one)


def _conv_names(model) -> list[str]:
    return [layer.name for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]


def test_cat_run_moves_budgets_keeps_frozen_layers_and_round_trips(tiny_model, tiny_data, tmp_path):
    """300 windows, 30 of them mislabelled: those are broken whatever their budget, so their budgets
    must stay 0 wherever shuffling puts them; the others grow on the grid of η within [0, ε_max]."""
    train = tiny_data.subset(slice(0, 300))
    sure = (train.snr == 18) & (np.argmax(tiny_model.predict(train.x, verbose=0), axis=1) == train.y)
    wrong = np.flatnonzero(sure)[::3][:30]  # confidently right: never predicted as the flipped label
    y = train.y.copy()
    y[wrong] = (y[wrong] + 1) % 4
    train = type(train)(train.x, y, train.snr, train.classes)
    first = _conv_names(tiny_model)[0]
    config = _config(eta=0.5, steps=3, freeze=[first])  # a hardening keeps its last epoch by default
    model, result = cat_train(tiny_model, train, tiny_data.subset(slice(300, 400)), config, seed=0)
    scale = result.eps_scale
    assert scale.shape == (300,) and scale.min() >= 0 and scale.max() <= 1
    assert set(np.unique(scale)) <= {0.0, 0.5, 1.0}
    assert np.all(scale[wrong] == 0)
    assert result.eps_scale_mean > 0.2 and result.at_max_fraction > 0.1
    assert result.history["eps_scale"][-1] == pytest.approx(result.eps_scale_mean, rel=1e-6)
    assert 0 < result.history["grown"][0] <= 1 and "val_loss" in result.history and "val_grown" not in result.history
    for layer in tiny_model.layers:
        before, after = layer.get_weights(), model.get_layer(layer.name).get_weights()
        same = all(np.array_equal(a, b) for a, b in zip(before, after))
        assert same == (layer.name == first or not before), layer.name
    assert model.get_layer(first).trainable and result.frozen_layers == [first]
    model.save(tmp_path / "cat.keras")
    loaded = load_model(tmp_path / "cat.keras")
    np.testing.assert_array_equal(loaded.predict(train.x[:8], verbose=0), model.predict(train.x[:8], verbose=0))
    summary = result.to_json()["eps"]
    assert summary["n"] == 300 and summary["pnr_db_of_mean_radius"] < -10.0
    assert result.metrics()["eps_scale_mean"] == pytest.approx(result.eps_scale_mean)
    assert np.all(result.eps_pnr_db()[scale == 1.0] == -10.0)


def test_same_seed_same_numbers(tiny_model, tiny_data):
    train = tiny_data.subset(slice(0, 128))
    config = _config(eta=0.5, steps=2, train={**FAST, "epochs": 1})
    (m1, r1), (m2, r2) = (cat_train(tiny_model, train, None, config, seed=3) for _ in range(2))
    np.testing.assert_array_equal(r1.eps_scale, r2.eps_scale)
    assert all(np.array_equal(a, b) for a, b in zip(m1.get_weights(), m2.get_weights()))


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"eta": 0}, "greater than 0"),
        ({"eta": 1.5}, "less than or equal to 1"),
        ({"c": 2.0}, "less than or equal to 1"),
        ({"steps": 0}, "greater than or equal to 1"),
        ({"pnr_max_db": 90}, "pnr_max_db must lie in [-80, 40] dB"),
        ({"norm": "l1"}, "norm"),
        ({"step_size": float("nan")}, "finite"),
        ({"freeze": ["a", "a"]}, "distinct"),
        ({"etaa": 0.1}, "unknown field"),
    ],
)
def test_bad_cat_config_is_a_config_error(data, words):
    with pytest.raises(ConfigError) as err:
        validate_config(CatConfig, data)
    assert words in str(err.value)


def test_defaults_are_documented_units():
    config = CatConfig()
    assert (config.pnr_max_db, config.eta, config.c, config.steps, config.norm) == (-10.0, 0.2, 0.3, 10, Norm.L2)
    assert config.step_fraction == pytest.approx(0.25) and config.freeze == []


def test_cat_beats_standard_training_under_pgd(tiny, tiny_model, tiny_data):
    """Same start, recipe and seed; PGD-L2 (10 steps) at 0 dB PNR on held-out 10 dB windows.
    Measured over seeds 0, 1, 2: CAT (ε_max 0 dB) 7.5-9 %, clean fine-tuning 0-1 %."""
    from amc_tf.attacks.registry import build_attack
    from amc_tf.runtime import set_seed
    from amc_tf.training.fit import fit_classifier

    test = tiny.make_dataset(50, snrs=(10,), seed=99)
    config = _config(pnr_max_db=0.0, eta=0.5, steps=3, train={**FAST, "epochs": 4, "learning_rate": 3e-3})
    robust_model, _ = cat_train(tiny_model, tiny_data, None, config, seed=0)
    set_seed(0)
    standard = copy_model(tiny_model)
    fit_classifier(standard, tiny_data, None, config.train)

    def robust(model) -> float:
        attack = build_attack("pgd_l2", model, budget=Budget.pnr(0.0), steps=10, seed=0)
        return tiny.accuracy(model, attack.generate(test.x, test.y, snr=test.snr), test.y)

    assert robust(robust_model) >= robust(standard) + 0.04
