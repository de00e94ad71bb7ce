"""Hinton and response-based distillation: loss by hand, frozen teacher, validation, save/load."""

from __future__ import annotations

import numpy as np
import pytest

from amc_tf.distill import Distiller, ResponseDistiller
from amc_tf.errors import ConfigError
from amc_tf.models.loading import load_model
from amc_tf.runtime import keras, set_seed


def _dense_model(n_in: int, k: int, seed: int, name: str) -> keras.Model:
    inp = keras.Input(shape=(n_in,))
    out = keras.layers.Dense(
        k,
        kernel_initializer=keras.initializers.RandomNormal(stddev=1.0, seed=seed),
        bias_initializer="zeros",
        name="logits",
    )(inp)
    return keras.Model(inp, out, name=name)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _hand_loss(s, t, y, ce_w, kd_w, temp):
    ce = -_log_softmax(s)[np.arange(len(y)), y].mean()
    lt, ls = _log_softmax(t / temp), _log_softmax(s / temp)
    kd = (np.exp(lt) * (lt - ls)).sum(axis=1).mean() * temp**2
    return kd_w * kd + ce_w * ce, ce, kd


@pytest.fixture()
def tiny():
    set_seed(3)
    x = np.random.default_rng(0).normal(size=(6, 4)).astype("float32")
    y = np.array([0, 1, 2, 0, 1, 2], dtype=np.int64)
    return x, y, _dense_model(4, 3, 1, "student"), _dense_model(4, 3, 2, "teacher")


@pytest.mark.parametrize(
    ("cls", "alpha", "temp", "kd_w"), [(Distiller, 0.1, 10.0, 0.1), (ResponseDistiller, 0.35, 1.0, 0.65)]
)
def test_loss_equals_hand_computation(tiny, cls, alpha, temp, kd_w):
    x, y, student, teacher = tiny
    d = cls(student, teacher, alpha=alpha, temperature=temp)
    d.compile(optimizer=keras.optimizers.SGD(0.0), metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
    s, t = student.predict(x, verbose=0), teacher.predict(x, verbose=0)
    want, want_ce, want_kd = _hand_loss(s.astype(np.float64), t.astype(np.float64), y, 1 - kd_w, kd_w, temp)
    total, ce, kd = (float(v) for v in d.compute_losses(y, s, t))
    assert total == pytest.approx(want, rel=1e-5)
    assert (ce, kd) == (pytest.approx(want_ce, rel=1e-5), pytest.approx(want_kd, rel=1e-5))
    result = d.evaluate(x, y, batch_size=6, verbose=0, return_dict=True)
    assert result["loss"] == pytest.approx(want, rel=1e-5)
    assert result["student_loss"] == pytest.approx(want_ce, rel=1e-5)
    assert result["distillation_loss"] == pytest.approx(want_kd, rel=1e-5)


@pytest.mark.parametrize("scale_t2", [False, True])
def test_paper_form_is_alpha_kl_plus_one_minus_alpha_ce_by_hand(tiny, scale_t2):
    """The first compression paper's loss (no T²): ``alpha · KL_T + (1 − alpha) · CE`` at alpha = 0.1,
    T = 10; Hinton's form multiplies KL_T by T² = 100. Both against the loss computed by hand."""
    x, y, student, teacher = tiny
    d = Distiller(student, teacher, alpha=0.1, temperature=10.0, scale_t2=scale_t2)
    d.compile(optimizer=keras.optimizers.SGD(0.0))
    s, t = student.predict(x, verbose=0).astype(np.float64), teacher.predict(x, verbose=0).astype(np.float64)
    ce = -_log_softmax(s)[np.arange(len(y)), y].mean()
    lt, ls = _log_softmax(t / 10.0), _log_softmax(s / 10.0)
    kl = (np.exp(lt) * (lt - ls)).sum(axis=1).mean()
    want = 0.1 * kl * (100.0 if scale_t2 else 1.0) + 0.9 * ce
    total, ce_got, kd_got = (float(v) for v in d.compute_losses(y, s.astype("float32"), t.astype("float32")))
    assert total == pytest.approx(want, rel=1e-5)
    assert ce_got == pytest.approx(ce, rel=1e-5)
    assert kd_got == pytest.approx(kl * (100.0 if scale_t2 else 1.0), rel=1e-5)
    assert d.evaluate(x, y, batch_size=6, verbose=0, return_dict=True)["loss"] == pytest.approx(want, rel=1e-5)


@pytest.mark.parametrize("scale_t2", [False, True])
def test_config_scale_t2_reaches_the_distiller(tiny, tmp_path, monkeypatch, scale_t2):
    """``distill_student`` builds its distiller with the config's alpha, T and ``scale_t2``; the
    setting survives save/load."""
    import amc_tf.distill.train as distill_train
    from amc_tf.config.compress import DistillConfig
    from amc_tf.config.train import TrainConfig

    x, y, student, teacher = tiny
    seen = {}
    monkeypatch.setattr(distill_train, "fit_classifier", lambda model, *a, **k: seen.setdefault("model", model))
    settings = DistillConfig(alpha=0.1, temperature=10.0, scale_t2=scale_t2)
    distill_train.distill_student(student, teacher, None, None, settings, TrainConfig())
    d = seen["model"]
    assert (type(d), d.alpha, d.temperature, d.scale_t2) == (Distiller, 0.1, 10.0, scale_t2)
    d.compile(optimizer=keras.optimizers.SGD(0.0))
    d.save(tmp_path / "d.keras")
    assert load_model(tmp_path / "d.keras").scale_t2 is scale_t2


def test_unscaled_variant_drops_t_squared(tiny):
    x, y, student, teacher = tiny
    s, t = student.predict(x, verbose=0), teacher.predict(x, verbose=0)
    scaled = float(Distiller(student, teacher, temperature=4.0).compute_losses(y, s, t)[2])
    plain = float(Distiller(student, teacher, temperature=4.0, scale_t2=False).compute_losses(y, s, t)[2])
    assert scaled == pytest.approx(16.0 * plain, rel=1e-6)


def test_training_changes_only_the_student(tiny):
    x, y, student, teacher = tiny
    teacher_before = [w.copy() for w in teacher.get_weights()]
    student_before = [w.copy() for w in student.get_weights()]
    d = Distiller(student, teacher)
    d.compile(optimizer=keras.optimizers.Adam(1e-2), metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
    hist = d.fit(x, y, batch_size=3, epochs=2, validation_data=(x, y), verbose=0)
    for a, b in zip(teacher_before, teacher.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert any(not np.allclose(a, b) for a, b in zip(student_before, student.get_weights()))
    assert {"loss", "student_loss", "distillation_loss", "accuracy", "val_loss", "val_accuracy"} <= set(hist.history)
    np.testing.assert_allclose(d.predict(x, verbose=0), student.predict(x, verbose=0), atol=1e-6)


def test_pure_distillation_copies_the_teacher():
    """alpha = 1 ignores the (here deliberately wrong) labels: the student must learn the teacher."""
    set_seed(0)
    x = np.random.default_rng(1).normal(size=(256, 4)).astype("float32")
    teacher, student = _dense_model(4, 3, 5, "teacher"), _dense_model(4, 3, 6, "student")
    wrong = np.zeros(len(x), dtype=np.int64)
    d = Distiller(student, teacher, alpha=1.0, temperature=2.0)
    d.compile(optimizer=keras.optimizers.Adam(5e-2))
    d.fit(x, wrong, batch_size=64, epochs=40, verbose=0)
    agree = np.mean(student.predict(x, verbose=0).argmax(1) == teacher.predict(x, verbose=0).argmax(1))
    assert agree > 0.95


@pytest.mark.parametrize(
    ("alpha", "temp"), [(-0.1, 1.0), (1.5, 1.0), (0.5, 0.0), (0.5, -2.0), (True, 1.0), ("0.5", 1.0)]
)
def test_bad_alpha_or_temperature_rejected(tiny, alpha, temp):
    _, _, student, teacher = tiny
    with pytest.raises(ConfigError):
        Distiller(student, teacher, alpha=alpha, temperature=temp)


def test_class_count_mismatch_rejected(tiny):
    _, _, student, _ = tiny
    with pytest.raises(ConfigError, match="number of classes"):
        Distiller(student, _dense_model(4, 5, 0, "big_teacher"))


@pytest.mark.parametrize("cls", [Distiller, ResponseDistiller])
def test_distiller_saves_and_loads(tiny, tmp_path, cls):
    x, y, student, teacher = tiny
    d = cls(student, teacher, alpha=0.3, temperature=2.5)
    d.compile(optimizer=keras.optimizers.Adam(1e-2))
    d.fit(x, y, batch_size=6, epochs=1, verbose=0)
    path = tmp_path / "distiller.keras"
    d.save(path)
    again = load_model(path)
    assert type(again) is cls
    assert (again.alpha, again.temperature, again.teacher.trainable) == (0.3, 2.5, False)
    np.testing.assert_allclose(again.predict(x, verbose=0), d.predict(x, verbose=0), atol=1e-6)
    np.testing.assert_allclose(again.teacher.predict(x, verbose=0), teacher.predict(x, verbose=0), atol=1e-6)
