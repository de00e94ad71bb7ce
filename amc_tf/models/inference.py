"""The one batched-inference helper: outputs of a model (or of a compiled function) over an array.

Every caller that runs a model over more examples than fit one batch — evaluation, attacks,
robustness sweeps, benchmarks, the MIMO regressors — goes through :func:`predict_batched`, so the
inference mode (``training=False``), batching and empty-input handling are decided once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from amc_tf.runtime import keras, tf


def compiled_forward(model: keras.Model) -> Callable[[Any], Any]:
    """A ``tf.function`` of ``model(x, training=False)`` that retraces only on new shapes."""
    return tf.function(lambda t: model(t, training=False), reduce_retracing=True)


def predict_batched(
    fn: keras.Model | Callable[[Any], Any], x: np.ndarray, batch_size: int = 1024, *, out_width: int | None = None
) -> np.ndarray:
    """``fn`` applied to ``x`` in batches, concatenated along axis 0 as ``float32``.

    Args:
        fn: A Keras model (run in inference mode through :func:`compiled_forward`) or a callable
            returning a tensor or array for a batch.
        x: Inputs ``[N, ...]``.
        batch_size: Examples per call (>= 1).
        out_width: Output width for an empty ``x`` (default: the model's last output dimension).

    Returns:
        ``float32 [N, ...]`` outputs.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    call = compiled_forward(fn) if isinstance(fn, keras.Model) else fn
    out = []
    for i in range(0, len(x), batch_size):
        y = call(tf.convert_to_tensor(x[i : i + batch_size]))
        out.append(y.numpy() if hasattr(y, "numpy") else np.asarray(y))
    if not out:
        width = out_width if out_width is not None else (fn.output_shape[-1] if isinstance(fn, keras.Model) else 0)
        return np.zeros((0, width), np.float32)
    return np.concatenate(out).astype(np.float32, copy=False)


def predict_classes(fn: keras.Model | Callable[[Any], Any], x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Arg-max classes ``int64 [N]`` of :func:`predict_batched`."""
    if len(x) == 0:
        return np.zeros(0, np.int64)
    return np.argmax(predict_batched(fn, x, batch_size), axis=1).astype(np.int64)


__all__ = ["compiled_forward", "predict_batched", "predict_classes"]
