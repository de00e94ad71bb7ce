"""Per-epoch checkpoints: an interrupted training resumes from its last epoch with its weights,
optimizer, history and early-stopping state; a finished one is not re-run; a checkpoint of
another training is refused."""

from __future__ import annotations

import json

import numpy as np
import pytest

from amc_tf.config.train import TrainConfig
from amc_tf.runtime import keras, set_seed
from amc_tf.training import checkpoint as ckpt
from amc_tf.training.fit import fit_classifier


class Interrupted(Exception):
    pass


class _InterruptAfter(keras.callbacks.Callback):
    """Stands in for a kill: raises at the end of epoch ``n`` (after the checkpoint is written)."""

    def __init__(self, n: int):
        super().__init__()
        self.n = n

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.n:
            raise Interrupted


@pytest.fixture
def parts(tiny_data):
    data = tiny_data.subset(slice(0, 600))
    return data.subset(slice(0, 400)), data.subset(slice(400, 600))


def _model(tiny, seed: int):
    set_seed(seed)
    return tiny.build_tiny_model()


def test_interrupted_training_resumes_from_its_last_epoch(tiny, parts, tmp_path):
    train, val = parts
    cfg = TrainConfig(epochs=5, patience=0, batch_size=64, verbose=0, learning_rate=1e-2)
    first = _model(tiny, 0)
    with pytest.raises(Interrupted):
        fit_classifier(first, train, val, cfg, callbacks=[_InterruptAfter(2)], checkpoint_dir=tmp_path)
    saved = ckpt.latest(tmp_path)
    assert saved is not None and saved.name == "epoch-0002"
    state = json.loads((saved / "state.json").read_text())
    assert state["epoch"] == 2 and len(state["history"]["loss"]) == 2
    weights_at_2 = [w.copy() for w in first.get_weights()]
    iterations_at_2 = int(first.optimizer.iterations.numpy())

    second = _model(tiny, 123)  # other initial weights: the checkpoint must replace them
    probe = ckpt.EpochCheckpoint(tmp_path, state["key"], {}, timer=type("T", (), {"offset": 0.0})())
    second.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    probe.restore(second)
    for restored, expected in zip(second.get_weights(), weights_at_2, strict=True):
        np.testing.assert_array_equal(restored, expected)
    assert int(second.optimizer.iterations.numpy()) == iterations_at_2

    resumed = fit_classifier(_model(tiny, 7), train, val, cfg, checkpoint_dir=tmp_path)
    assert resumed.epochs_run == 5
    assert resumed.history["loss"][:2] == state["history"]["loss"]
    assert len(resumed.epoch_seconds) == 5
    assert ckpt.latest(tmp_path).name == "epoch-0005"
    assert [p.name for p in tmp_path.iterdir()] == ["epoch-0005"]  # older epochs removed


def test_early_stopping_state_survives_the_interruption(tiny, parts, tmp_path):
    """With a learning rate too small to move float32 weights the validation loss is constant:
    early stopping (patience 2) ends training after epoch 3. Interrupted after epoch 2 (wait = 1),
    a resume that lost the wait counter and best value would run to epoch 5."""
    train, val = parts
    cfg = TrainConfig(epochs=10, patience=2, batch_size=64, verbose=0, learning_rate=1e-15)
    straight = fit_classifier(_model(tiny, 0), train, val, cfg)
    assert straight.epochs_run == 3
    with pytest.raises(Interrupted):
        fit_classifier(_model(tiny, 0), train, val, cfg, callbacks=[_InterruptAfter(2)], checkpoint_dir=tmp_path)
    state = json.loads((ckpt.latest(tmp_path) / "state.json").read_text())
    assert state["callbacks"]["early_stopping"]["wait"] == 1
    resumed = fit_classifier(_model(tiny, 0), train, val, cfg, checkpoint_dir=tmp_path)
    assert resumed.epochs_run == 3


def test_a_finished_checkpoint_is_not_trained_again(tiny, parts, tmp_path):
    train, val = parts
    cfg = TrainConfig(epochs=3, patience=0, batch_size=64, verbose=0, learning_rate=1e-2)
    model = _model(tiny, 0)
    done = fit_classifier(model, train, val, cfg, checkpoint_dir=tmp_path)
    again_model = _model(tiny, 5)
    again = fit_classifier(again_model, train, val, cfg, checkpoint_dir=tmp_path)
    assert again.history == done.history and again.epochs_run == 3
    for a, b in zip(again_model.get_weights(), model.get_weights(), strict=True):  # the best weights, restored
        np.testing.assert_array_equal(a, b)


def test_a_checkpoint_of_another_training_is_refused(tiny, parts, tmp_path):
    train, val = parts
    cfg = TrainConfig(epochs=1, patience=0, batch_size=64, verbose=0)
    fit_classifier(_model(tiny, 0), train, val, cfg, checkpoint_dir=tmp_path)
    other = TrainConfig(epochs=2, patience=0, batch_size=64, verbose=0)
    with pytest.raises(ckpt.CheckpointError, match="belongs to another training"):
        fit_classifier(_model(tiny, 0), train, val, other, checkpoint_dir=tmp_path)
