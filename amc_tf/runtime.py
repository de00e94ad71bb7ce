"""The one place that picks the Keras flavour, dtypes, seeding and determinism (design D1).

TF-MOT 0.8 only accepts Keras-2 objects, and ART must see the same model objects, so the whole
project uses the Keras 2 API shipped as ``tf_keras``. ``TF_USE_LEGACY_KERAS=1`` has to be in the
environment *before* TensorFlow is imported (``amc_tf/__init__.py`` sets it too, before anyone
imports TensorFlow). Every other module does ``from amc_tf.runtime import keras, tf``; nobody imports
``keras`` directly, so a later move to Keras 3 is a change in this file only. It also turns off
MLflow's pickle deserialisation (D9: models are loaded by :mod:`amc_tf.models.loading` only).
"""

from __future__ import annotations

import os
import random

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep CPU-feature banners out of user output
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # oneDNN reorders float sums: not bit-reproducible
# MLflow's own switch for unpickling model files and evaluation artifacts (default "true"): off,
# so no MLflow loader runs a pickle's code (D9). Read by MLflow at load time; set before its import.
os.environ.setdefault("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "false")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402

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
