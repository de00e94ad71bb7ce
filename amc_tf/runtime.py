"""The one place that picks the Keras flavour, dtypes, seeding and determinism (design D1).

TF-MOT 0.8 only accepts Keras-2 objects, and ART must see the same model objects, so the whole
project uses the Keras 2 API shipped as ``tf_keras``. ``TF_USE_LEGACY_KERAS=1`` has to be in the
environment *before* TensorFlow is imported, so ``amc_tf/__init__.py`` sets it (with the other
variables TensorFlow and MLflow read) when the package is imported, before anything can import
TensorFlow; this module then imports it. Every other module does ``from amc_tf.runtime import
keras, tf``; nobody imports ``keras`` directly, so a later move to Keras 3 is a change here only.

TensorFlow's C++ start-up prints a few lines (CUDA-driver probes, the absl logging notice) before
its log level applies; :func:`_quiet_import` keeps them off the terminal unless
``TF_CPP_MIN_LOG_LEVEL`` is 0 or 1 (the user asked for TensorFlow's messages).
"""

from __future__ import annotations

import contextlib
import os
import random
import sys

import numpy as np

import amc_tf  # noqa: F401  (the environment TensorFlow reads, before it is imported)


@contextlib.contextmanager
def _quiet_import():
    """Send file descriptor 2 to /dev/null while TensorFlow's C++ runtime starts (its first lines
    come before absl logging honours ``TF_CPP_MIN_LOG_LEVEL``); Python errors still show."""
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2") in ("0", "1"):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


with _quiet_import():
    import tensorflow as tf
    import tf_keras as keras

    tf.config.list_physical_devices("GPU")  # the CUDA probe logs here, inside the quiet block

#: Floating-point dtype of all I/Q tensors and model weights.
FLOATX = "float32"
keras.backend.set_floatx(FLOATX)

_determinism_enabled = False


def set_seed(seed: int, *, deterministic: bool = True) -> None:
    """Seed Python, NumPy, TensorFlow and Keras, and make TensorFlow ops deterministic.

    Args:
        seed: Non-negative integer seed.
        deterministic: If True, enable TensorFlow's op determinism so that the same config and
            seed give the same numbers on CPU (slightly slower for a few ops).
    """
    global _determinism_enabled
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % (2**32))
    keras.utils.set_random_seed(seed)
    tf.random.set_seed(seed)
    if deterministic and not _determinism_enabled:
        tf.config.experimental.enable_op_determinism()
        _determinism_enabled = True


def rng(seed: int | np.random.SeedSequence | None) -> np.random.Generator:
    """A NumPy generator from an explicit seed (the only way pure functions get randomness)."""
    return np.random.default_rng(seed)


__all__ = ["FLOATX", "keras", "np", "rng", "set_seed", "tf"]
