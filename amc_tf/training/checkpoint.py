"""Per-epoch training checkpoints, so an interrupted training resumes where it stopped.

Why not Keras' ``BackupAndRestore``: it restores the weights, the optimizer and the epoch
counter, but not the state of the other callbacks — early stopping's wait counter and best value,
the best weights kept so far, the time budget already spent — nor the history of the epochs
already run. A resumed run would then stop at another epoch and return other weights than the
run it continues. :class:`EpochCheckpoint` saves all of it, at the end of every epoch, as one
directory ``epoch-NNNN/`` written atomically (:func:`amc_tf.io.atomic_path`): ``state.json``
(epoch, history, callback state, seconds spent), ``weights.npz`` (model weights),
``optimizer.npz`` (the optimizer's variables, step counter included) and ``best.npz`` (the best
weights so far). Older epochs are deleted once a newer one is complete, so a kill at any moment
leaves at least one complete checkpoint.

What a resumed run does not reproduce bit for bit: the shuffling order and dropout masks after the
resume point (Keras draws them from TensorFlow's op-level random state, which is not saved). The
epochs already run, their history and the early-stopping decision are the checkpoint's.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from amc_tf.errors import AmcError
from amc_tf.io import atomic_path
from amc_tf.progress import say
from amc_tf.runtime import keras

_EPOCH_DIR = re.compile(r"^epoch-(\d{4,})$")
_STATE = "state.json"


class CheckpointError(AmcError):
    """A checkpoint that does not belong to this training (other model, other data)."""


@dataclass
class TrainingState:
    """What is saved besides the weights.

    Attributes:
        epoch: Epochs completed (the next one to run is ``epoch``, 0-based).
        history: Per-epoch logs of the completed epochs.
        seconds: Training seconds spent so far (the time budget counts all sittings).
        epoch_seconds: Seconds of each completed epoch.
        stopped: Early stopping (or the time budget) ended training at ``epoch``.
        callbacks: State of the stateful callbacks, by name (``early_stopping``, ``keep_best``).
        key: What the checkpoint belongs to (model name, parameter count, data size).
    """

    epoch: int = 0
    history: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0
    epoch_seconds: list[float] = field(default_factory=list)
    stopped: bool = False
    callbacks: dict[str, dict[str, Any]] = field(default_factory=dict)
    key: dict[str, Any] = field(default_factory=dict)


def latest(directory: str | Path) -> Path | None:
    """The newest complete ``epoch-NNNN`` checkpoint under ``directory``, or None."""
    directory = Path(directory)
    if not directory.is_dir():
        return None
    found = sorted(
        (int(m.group(1)), p) for p in directory.iterdir() if (m := _EPOCH_DIR.match(p.name)) and (p / _STATE).is_file()
    )
    return found[-1][1] if found else None


def _save_arrays(path: Path, arrays: list[np.ndarray]) -> None:
    np.savez(path, **{f"a{i:04d}": a for i, a in enumerate(arrays)})


def _load_arrays(path: Path) -> list[np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return [data[k] for k in sorted(data.files)]


def _optimizer_variables(model: keras.Model) -> list:
    optimizer = model.optimizer
    if not getattr(optimizer, "_built", False):  # before its first step it holds only its step counter
        optimizer.build(model.trainable_variables)
    return list(optimizer.variables)


class EpochCheckpoint(keras.callbacks.Callback):
    """Saves the training state at the end of every epoch and restores it before training.

    Args:
        directory: Folder of this training's checkpoints (one per stage cache entry).
        key: Identity of the training; a checkpoint with another key is refused.
        stateful: Callbacks whose state is saved and restored, by name; the attributes saved
            per callback type are :data:`STATE_ATTRIBUTES`.
        timer: The trainer's epoch timer: its ``seconds`` (per epoch) are saved, and its
            ``offset`` is set to the seconds of earlier sittings so a time budget counts them.
    """

    def __init__(
        self,
        directory: str | Path,
        key: dict[str, Any],
        stateful: dict[str, keras.callbacks.Callback],
        timer: keras.callbacks.Callback,
    ):
        super().__init__()
        self.directory = Path(directory)
        self.key = key
        self.stateful = stateful
        self.timer = timer
        self.state = TrainingState(key=key)

    # -- restore -------------------------------------------------------------------------------
    def restore(self, model: keras.Model) -> TrainingState | None:
        """Load the newest checkpoint into ``model`` (weights and optimizer) and return its state,
        or None when there is none. Callback state is applied in :meth:`on_train_begin`."""
        path = latest(self.directory)
        if path is None:
            return None
        state = TrainingState(**json.loads((path / _STATE).read_text()))
        if state.key != self.key:
            raise CheckpointError(
                f"checkpoint {path} belongs to another training ({state.key}, not {self.key}); remove it to start over"
            )
        model.set_weights(_load_arrays(path / "weights.npz"))
        for variable, value in zip(_optimizer_variables(model), _load_arrays(path / "optimizer.npz"), strict=True):
            variable.assign(value)
        self.state = state
        self.timer.offset = state.seconds
        say("train", f"resuming from the checkpoint of epoch {state.epoch} ({path})")
        return state

    def on_train_begin(self, logs=None):
        for name, callback in self.stateful.items():
            saved = self.state.callbacks.get(name)
            if saved is None:
                continue
            for attr, value in saved.items():
                if attr == "best_weights":
                    value = _load_arrays(latest(self.directory) / "best.npz") if value else None
                setattr(callback, attr, value)

    # -- save ----------------------------------------------------------------------------------
    def on_epoch_end(self, epoch, logs=None):
        state = self.state
        for name, value in (logs or {}).items():
            state.history.setdefault(name, []).append(float(value))
        state.epoch = epoch + 1
        state.epoch_seconds.append(float(self.timer.seconds[-1]))
        state.seconds = float(np.sum(state.epoch_seconds))
        state.stopped = bool(self.model.stop_training)
        best_weights = None
        for name, callback in self.stateful.items():
            saved = {}
            for attr in STATE_ATTRIBUTES.get(type(callback).__name__, ()):
                value = getattr(callback, attr, None)
                if attr == "best_weights":
                    best_weights = value
                    value = value is not None
                elif isinstance(value, (np.floating, np.integer)):
                    value = value.item()
                saved[attr] = value
            state.callbacks[name] = saved
        self.write(best_weights)

    def write(self, best_weights: list[np.ndarray] | None) -> Path:
        final = self.directory / f"epoch-{self.state.epoch:04d}"
        with atomic_path(final, directory=True) as tmp:
            _save_arrays(tmp / "weights.npz", self.model.get_weights())
            _save_arrays(tmp / "optimizer.npz", [v.numpy() for v in _optimizer_variables(self.model)])
            if best_weights is not None:
                _save_arrays(tmp / "best.npz", best_weights)
            (tmp / _STATE).write_text(json.dumps(self.state.__dict__, default=float))
        for old in self.directory.iterdir():
            if old != final and _EPOCH_DIR.match(old.name):
                shutil.rmtree(old, ignore_errors=True)
        return final


#: Attributes saved per callback class. Keras' ``EarlyStopping`` keeps its decision state in
#: ``wait``, ``best``, ``best_epoch``, ``stopped_epoch`` (and ``best_weights`` when it restores).
STATE_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "EarlyStopping": ("wait", "best", "best_epoch", "stopped_epoch"),
    "_KeepBest": ("best", "best_weights"),
}


def remove(directory: str | Path) -> None:
    """Delete a training's checkpoints (once its result is stored)."""
    shutil.rmtree(directory, ignore_errors=True)


__all__ = ["STATE_ATTRIBUTES", "CheckpointError", "EpochCheckpoint", "TrainingState", "latest", "remove"]
