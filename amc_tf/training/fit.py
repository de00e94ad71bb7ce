"""Supervised training of a logits classifier with Keras ``fit`` (VT-CNN2 recipe, references §2.1).

Adam, sparse categorical cross-entropy on logits (D3), early stopping on the validation loss with
the best weights restored. Progress goes through Keras' own per-epoch output plus a throughput
line; the returned :class:`TrainResult` carries the history for tracking.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from amc_tf.config.train import TrainConfig
from amc_tf.data.dataset import IQDataset
from amc_tf.errors import ConfigError
from amc_tf.progress import say
from amc_tf.results import Result
from amc_tf.runtime import keras
from amc_tf.training.checkpoint import EpochCheckpoint


@dataclass(frozen=True)
class TrainResult(Result):
    """What a training run produced (the model itself is trained in place)."""

    history: dict[str, list[float]]
    epochs_run: int
    best_epoch: int
    seconds: float
    windows_per_s: float
    epoch_seconds: list[float] = field(default_factory=list)

    def metrics(self) -> dict[str, float]:
        return self.summary()

    def summary(self) -> dict[str, float]:
        out = {
            "epochs_run": float(self.epochs_run),
            "best_epoch": float(self.best_epoch),
            "train_seconds": self.seconds,
            "train_windows_per_s": self.windows_per_s,
        }
        if self.epoch_seconds:
            out["epoch_seconds_mean"] = float(np.mean(self.epoch_seconds))
        return out


class _EpochTimer(keras.callbacks.Callback):
    """Times each epoch and stops training once an optional wall-clock budget is spent
    (``offset``: seconds spent in earlier sittings of a resumed training)."""

    def __init__(self, max_seconds: float | None = None) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self.max_seconds = max_seconds
        self.offset = 0.0
        self._t0 = 0.0
        self._start = 0.0

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter() - self.offset

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._t0)
        if self.max_seconds is not None and time.perf_counter() - self._start > self.max_seconds:
            say("train", f"time budget of {self.max_seconds / 60:.1f} min spent after epoch {epoch + 1}; stopping")
            self.model.stop_training = True


class _KeepBest(keras.callbacks.Callback):
    """Remember the weights of the best epoch and restore them when training ends.

    Keras' ``EarlyStopping(restore_best_weights=True)`` only restores when it is the one that
    stops training; a run that ends on the epoch limit or the time budget would otherwise keep
    its last weights.
    """

    def __init__(self, monitor: str) -> None:
        super().__init__()
        self.monitor = monitor
        self.sign = 1.0 if monitor.endswith("loss") else -1.0
        self.best = np.inf
        self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is not None and self.sign * value < self.best:
            self.best = self.sign * value
            self.best_weights = self.model.get_weights()

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


def compile_classifier(model: keras.Model, learning_rate: float) -> None:
    """Compile ``model`` (logits out) with Adam and sparse CE from logits."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )


def fit_classifier(
    model: keras.Model,
    train: IQDataset,
    val: IQDataset | None,
    cfg: TrainConfig,
    *,
    callbacks: list[keras.callbacks.Callback] | None = None,
    checkpoint_dir: str | Path | None = None,
) -> TrainResult:
    """Train ``model`` on ``train`` with early stopping on ``val``.

    Args:
        model: Uncompiled or compiled Keras model mapping ``float32 [N, 2, L]`` to logits.
        train: Training set.
        val: Validation set (required when ``cfg.patience > 0`` or the monitor is a val metric).
        cfg: Training recipe.
        callbacks: Extra Keras callbacks (e.g. MLflow logging).
        checkpoint_dir: Save the training state there after every epoch and, when it already
            holds a checkpoint of this training, resume from it
            (:mod:`amc_tf.training.checkpoint`). The history, epoch count and early-stopping
            decision then cover all sittings.
    """
    if val is None and cfg.patience > 0:
        raise ConfigError("early stopping needs a validation set (set split.val > 0 or train.patience = 0)")
    n_out = model.output_shape[-1]
    if n_out != len(train.classes):
        raise ConfigError(f"model has {n_out} outputs but the dataset has {len(train.classes)} classes")
    compile_classifier(model, cfg.learning_rate)
    timer = _EpochTimer(cfg.max_minutes * 60 if cfg.max_minutes else None)
    cbs: list[keras.callbacks.Callback] = [timer]
    stateful: dict[str, keras.callbacks.Callback] = {}
    if val is not None and cfg.restore_best_weights:
        stateful["keep_best"] = _KeepBest(cfg.monitor)
    if cfg.patience > 0:
        mode = "min" if cfg.monitor.endswith("loss") else "max"
        stateful["early_stopping"] = keras.callbacks.EarlyStopping(
            monitor=cfg.monitor, mode=mode, patience=cfg.patience
        )
    cbs.extend(stateful.values())
    checkpoint, state = None, None
    if checkpoint_dir is not None:
        key = {"model": model.name, "params": int(model.count_params()), "n_train": len(train), "epochs": cfg.epochs}
        checkpoint = EpochCheckpoint(checkpoint_dir, key, stateful, timer)
        state = checkpoint.restore(model)
        cbs.append(checkpoint)  # after the stateful callbacks: it saves their end-of-epoch state
    cbs.extend(callbacks or [])
    start = state.epoch if state else 0
    say("train", f"{model.name}: {len(train)} windows, batch {cfg.batch_size}, up to {cfg.epochs} epochs")
    t0 = time.perf_counter()
    if state is not None and (state.stopped or start >= cfg.epochs):
        _finish_without_fitting(model, stateful, checkpoint)
        fitted = {}
    else:
        fitted = model.fit(
            train.x,
            train.y,
            validation_data=(val.x, val.y) if val is not None else None,
            batch_size=cfg.batch_size,
            epochs=cfg.epochs,
            initial_epoch=start,
            shuffle=True,
            callbacks=cbs,
            verbose=cfg.verbose,
        ).history
    seconds = time.perf_counter() - t0
    if checkpoint is not None:
        history, epoch_seconds = checkpoint.state.history, checkpoint.state.epoch_seconds
        seconds += state.seconds if state else 0.0
    else:
        history, epoch_seconds = {k: [float(v) for v in vals] for k, vals in fitted.items()}, timer.seconds
    epochs_run = len(next(iter(history.values()))) if history else 0
    monitor = history.get(cfg.monitor)
    if monitor:
        best = int(np.argmin(monitor) if cfg.monitor.endswith("loss") else np.argmax(monitor))
    else:
        best = epochs_run - 1
    train_time = float(np.sum(epoch_seconds)) or seconds
    return TrainResult(
        history=history,
        epochs_run=epochs_run,
        best_epoch=best,
        seconds=seconds,
        windows_per_s=len(train) * epochs_run / train_time if train_time > 0 else 0.0,
        epoch_seconds=list(epoch_seconds),
    )


def _finish_without_fitting(model: keras.Model, stateful: dict, checkpoint: EpochCheckpoint) -> None:
    """A checkpoint of a training that had already ended: apply its best weights, as the end of
    that training did."""
    say("train", "the checkpoint's training had already ended; keeping its best weights")
    checkpoint.set_model(model)
    for callback in stateful.values():
        callback.set_model(model)
    checkpoint.on_train_begin()
    keep = stateful.get("keep_best")
    if keep is not None:
        keep.on_train_end()
