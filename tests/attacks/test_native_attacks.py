"""Native attacks: exact budgets, strength against a trained model, determinism, refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from amc_tf.attacks import ATTACKS, CONTROLS, FGM, FGSM, MIFGSM, PGD, Budget, DeepFool, build_attack
from amc_tf.attacks.budgets import Norm, audit, measured_pnr_db, perturbation_norm
from amc_tf.errors import AttackError, ModelError
from amc_tf.runtime import keras


def _acc(model, x, y):
    return float(np.mean(np.argmax(model.predict(x, verbose=0, batch_size=256), axis=1) == y))


def test_fgm_and_fgsm_spend_exactly_the_budget(tiny_model, snr10):
    x, y, snr = snr10.x, snr10.y, snr10.snr
    budget = Budget.pnr(-8.0)
    x_fgm = FGM(tiny_model, budget=budget).generate(x, y, snr=snr)
    eps = budget.radius(x, snr, Norm.L2)
    np.testing.assert_allclose(perturbation_norm(x_fgm - x, Norm.L2), eps, rtol=1e-5)
    np.testing.assert_allclose(measured_pnr_db(x, x_fgm, snr), -8.0, atol=0.01)

    fgsm = FGSM(tiny_model, budget=budget)
    x_fgsm = fgsm.generate(x, y, snr=snr)
    eps_inf = budget.radius(x, snr, Norm.LINF)
    np.testing.assert_allclose(perturbation_norm(x_fgsm - x, Norm.LINF), eps_inf, rtol=1e-5)
    full = np.all(np.abs(x_fgsm - x) > 0, axis=(1, 2))  # no zero gradient element
    assert full.mean() > 0.9
    np.testing.assert_allclose(measured_pnr_db(x[full], x_fgsm[full], snr[full]), -8.0, atol=0.01)


@pytest.mark.parametrize("norm", ["l2", "linf"])
def test_pgd_stays_in_the_ball(tiny_model, snr10, norm):
    x, y, snr = snr10.x, snr10.y, snr10.snr
    attack = PGD(
        tiny_model, budget=Budget.pnr(-4), norm=norm, steps=7, step_fraction=0.5, random_start=True, restarts=2, seed=1
    )
    x_adv = attack.generate(x, y, snr=snr)
    rep = audit(x, x_adv, attack.resolve_radius(x, snr), norm, snr_db=snr)
    assert rep.ok and rep.max_ratio <= 1 + 1e-5 and rep.pnr_db_max <= -4 + 0.01


def test_every_attack_beats_noise_of_the_same_power(tiny_model, snr10):
    x, y, snr = snr10.x, snr10.y, snr10.snr
    clean = _acc(tiny_model, x, y)
    assert clean > 0.9
    for pnr, names in (
        (-10.0, ["fgm", "fgsm", "pgd_l2", "pgd_linf", "mifgsm", "deepfool"]),
        (0.0, ["uap_svd", "uap_iterative"]),
    ):
        budget = Budget.pnr(pnr)
        noise = max(
            _acc(tiny_model, build_attack(n, tiny_model, budget=budget).generate(x, y, snr=snr), y) for n in CONTROLS
        )
        assert noise > clean - 0.1, "noise at this power should barely matter"
        for name in names:
            acc = _acc(tiny_model, build_attack(name, tiny_model, budget=budget).generate(x, y, snr=snr), y)
            assert acc < noise - 0.05, f"{name} at {pnr} dB: {acc:.3f} vs noise {noise:.3f}"


def test_pgd_is_at_least_as_strong_as_fgm_and_restarts_only_help(tiny_model, snr10):
    x, y, snr = snr10.x, snr10.y, snr10.snr
    b = Budget.pnr(-10)
    fooled = lambda xa: np.argmax(tiny_model.predict(xa, verbose=0), axis=1) != y  # noqa: E731
    assert (
        fooled(PGD(tiny_model, budget=b, norm="l2").generate(x, y, snr=snr)).mean()
        >= fooled(FGM(tiny_model, budget=b).generate(x, y, snr=snr)).mean()
    )
    one = fooled(PGD(tiny_model, budget=b, steps=3, restarts=1, seed=5).generate(x, y, snr=snr))
    three = fooled(PGD(tiny_model, budget=b, steps=3, restarts=3, seed=5).generate(x, y, snr=snr))
    assert np.all(three[one])


def test_mifgsm_with_one_iteration_is_fgsm(tiny_model, snr10):
    x, y, snr = snr10.x, snr10.y, snr10.snr
    b = Budget.pnr(-6)
    np.testing.assert_array_equal(
        MIFGSM(tiny_model, budget=b, iterations=1).generate(x, y, snr=snr),
        FGSM(tiny_model, budget=b).generate(x, y, snr=snr),
    )


def test_deepfool_finds_the_analytic_minimum_on_a_linear_model():
    window = 8
    inp = keras.Input((2, window))
    lin = keras.layers.Dense(2, name="affine")
    model = keras.Model(inp, lin(keras.layers.Flatten()(inp)))
    g = np.random.default_rng(3)
    lin.set_weights([g.standard_normal((2 * window, 2)).astype(np.float32), np.array([0.3, -0.2], np.float32)])
    x = g.standard_normal((16, 2, window)).astype(np.float32)
    w, b = (v.astype(np.float64) for v in lin.get_weights())
    f = x.reshape(16, -1).astype(np.float64) @ w + b
    k = f.argmax(axis=1)
    wd = (w[:, 1 - k] - w[:, k]).T  # [16, 2L]: w_other - w_label
    fd = f[np.arange(16), 1 - k] - f[np.arange(16), k]
    analytic = (np.abs(fd) / (wd**2).sum(axis=1))[:, None] * wd
    attack = DeepFool(model, overshoot=0.02)
    x_adv = attack.generate(x)
    np.testing.assert_allclose((x_adv - x).reshape(16, -1), 1.02 * analytic, rtol=2e-4, atol=1e-6)
    assert np.all(attack.last_steps == 1) and not attack.last_unconverged.any()
    assert np.all(np.argmax(model.predict(x_adv, verbose=0), axis=1) != k)


def test_deepfool_under_a_budget_is_projected(tiny_model, snr10):
    x, y, snr = snr10.x[:64], snr10.y[:64], snr10.snr[:64]
    free = DeepFool(tiny_model).generate(x, y)
    capped = DeepFool(tiny_model, budget=Budget.pnr(-12)).generate(x, y, snr=snr)
    eps = Budget.pnr(-12).radius(x, snr, Norm.L2)
    assert audit(x, capped, eps, Norm.L2).ok
    small = perturbation_norm(free - x, Norm.L2) <= eps
    np.testing.assert_allclose(capped[small], free[small], atol=1e-7)


@pytest.mark.parametrize("name", ["uap_svd", "uap_iterative"])
def test_universal_perturbation_is_one_vector(tiny_model, snr10, name):
    x, y, snr = snr10.x, snr10.y, snr10.snr
    attack = build_attack(name, tiny_model, budget=Budget.pnr(-2))
    x_adv = attack.fit(x[:100], y[:100], snr=snr[:100]).generate(x[100:])
    delta = x_adv - x[100:]
    np.testing.assert_allclose(delta, np.broadcast_to(attack.perturbation, delta.shape), atol=1e-8)
    norm = np.linalg.norm(attack.perturbation)
    assert norm <= attack.radius * (1 + 1e-5)
    if name == "uap_svd":
        assert norm == pytest.approx(attack.radius, rel=1e-5)


def test_y_none_attacks_the_models_own_predictions(tiny_model, snr10):
    x, snr = snr10.x[:50], snr10.snr[:50]
    pred = np.argmax(tiny_model.predict(x, verbose=0), axis=1)
    a = PGD(tiny_model, budget=Budget.pnr(-10), steps=3)
    np.testing.assert_array_equal(a.generate(x, snr=snr), a.generate(x, pred, snr=snr))


@pytest.mark.parametrize("name", ["pgd_linf", "noise_gaussian", "noise_sign", "uap_svd"])
def test_same_seed_same_result(tiny_model, snr10, name):
    x, y, snr = snr10.x[:64], snr10.y[:64], snr10.snr[:64]
    run = lambda seed: build_attack(name, tiny_model, budget=Budget.pnr(-5), seed=seed).generate(x, y, snr=snr)  # noqa: E731
    np.testing.assert_array_equal(run(7), run(7))
    assert not np.array_equal(run(7), run(8))


def test_batch_size_does_not_change_deterministic_results(tiny_model, snr10):
    x, y, snr = snr10.x[:64], snr10.y[:64], snr10.snr[:64]
    a = PGD(tiny_model, budget=Budget.pnr(-5), norm="l2", random_start=False, batch_size=64).generate(x, y, snr=snr)
    b = PGD(tiny_model, budget=Budget.pnr(-5), norm="l2", random_start=False, batch_size=16).generate(x, y, snr=snr)
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_micro_batches_change_nothing_but_rounding(tiny_model, snr10):
    x, y, snr = snr10.x[:64], snr10.y[:64], snr10.snr[:64]
    b = Budget.pnr(-5)
    for name in ("fgsm", "pgd_linf", "pgd_l2", "deepfool"):
        kw = {"random_start": False} if name.startswith("pgd") else {}
        whole = build_attack(name, tiny_model, budget=b, batch_size=64, micro_batch=None, **kw)
        parts = build_attack(name, tiny_model, budget=b, batch_size=64, micro_batch=8, **kw)
        assert parts.parts == 8 and whole.parts == 1
        np.testing.assert_allclose(parts.generate(x, y, snr=snr), whole.generate(x, y, snr=snr), atol=1e-6)
    few = DeepFool(tiny_model, batch_size=64, micro_batch=8)  # 3 examples < 8 parts: padded, cut off
    np.testing.assert_allclose(
        few.generate(x[:3], y[:3]), DeepFool(tiny_model, micro_batch=None).generate(x[:3], y[:3]), atol=1e-6
    )


BAD_SETTINGS = [
    ("pgd_linf", {"steps": 0}),
    ("pgd_linf", {"steps": 2.5}),
    ("pgd_linf", {"step_fraction": 0.0}),
    ("pgd_linf", {"step_fraction": float("nan")}),
    ("pgd_linf", {"restarts": 0}),
    ("pgd_linf", {"restarts": 2, "random_start": False}),
    ("pgd_linf", {"random_start": "yes"}),
    ("pgd_l2", {"batch_size": 0}),
    ("pgd_l2", {"seed": -1}),
    ("mifgsm", {"mu": -1.0}),
    ("mifgsm", {"iterations": 0}),
    ("deepfool", {"overshoot": -0.1}),
    ("deepfool", {"max_iter": 0}),
    ("deepfool", {"candidates": 1}),
    ("uap_svd", {"n_vectors": 0}),
    ("uap_svd", {"draws": 0}),
    ("uap_iterative", {"delta": 2.0}),
    ("uap_iterative", {"inner": "cw"}),
    ("fgm", {"norm": "l3"}),
    ("fgm", {"steps": 3}),
    ("noise_gaussian", {"kind": "pink"}),
    ("pgd_l2", {"micro_batch": 0}),
    ("fgsm", {"micro_batch": "fast"}),
]


@pytest.mark.parametrize("name,settings", BAD_SETTINGS)
def test_every_bad_setting_is_refused(tiny_model, name, settings):
    with pytest.raises(AttackError):
        build_attack(name, tiny_model, budget=Budget.pnr(-10), **settings)


def test_missing_budget_and_unknown_attack_are_refused(tiny_model):
    with pytest.raises(AttackError, match="budget"):
        build_attack("pgd_linf", tiny_model, budget=None)
    with pytest.raises(AttackError, match="budget"):
        PGD(tiny_model, budget=-3.0)
    with pytest.raises(AttackError, match="unknown attack"):
        build_attack("carlini", tiny_model, budget=Budget.pnr(0))
    assert set(ATTACKS) >= {"fgm", "fgsm", "pgd_l2", "pgd_linf", "mifgsm", "deepfool", "uap_svd", "uap_iterative"}


def _probability_models(window):
    inp = keras.Input((2, window))
    flat = keras.layers.Flatten()(inp)
    yield keras.Model(inp, keras.layers.Dense(4, activation="softmax")(flat))
    yield keras.Model(inp, keras.layers.Softmax()(keras.layers.Dense(4)(flat)))


@pytest.mark.parametrize("name", ["fgsm", "pgd_l2", "deepfool", "uap_svd"])
def test_probability_outputs_are_refused_at_construction(name):
    for model in _probability_models(32):
        with pytest.raises(ModelError, match="probabilities"):
            build_attack(name, model, budget=Budget.pnr(0))


def test_class_gradient_attacks_refuse_a_regressor():
    inp = keras.Input((40,))
    regressor = keras.Model(inp, keras.layers.Dense(6)(keras.layers.Dense(16, activation="elu")(inp)))
    with pytest.raises(ModelError, match="class gradients"):
        DeepFool(regressor)
    with pytest.raises(ModelError):
        FGM(regressor, budget=Budget.absolute(0.1))


def test_bad_inputs_are_refused_before_any_work(tiny_model, snr10):
    x, y, snr = snr10.x[:8], snr10.y[:8], snr10.snr[:8]
    a = FGM(tiny_model, budget=Budget.pnr(-10))
    with pytest.raises(AttackError, match="one-hot"):
        a.generate(x, np.eye(4, dtype=np.int64)[y], snr=snr)
    with pytest.raises(AttackError, match="lie in"):
        a.generate(x, np.full(8, 4), snr=snr)
    with pytest.raises(AttackError, match="integer"):
        a.generate(x, y.astype(np.float32), snr=snr)
    with pytest.raises(AttackError, match="SNR"):
        a.generate(x, y)
    with pytest.raises(AttackError, match="shape"):
        a.generate(x[:, :, :16], y, snr=snr)
    bad = x.copy()
    bad[0, 0, 0] = np.inf
    with pytest.raises(AttackError, match="NaN or Inf"):
        a.generate(bad, y, snr=snr)
    assert math.isfinite(float(a.generate(x, y, snr=snr).sum()))
