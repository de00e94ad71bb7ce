"""TFLite export, file size (raw and gzip) and interpreter latency (the compression table).

Conversion uses TensorFlow's ``TFLiteConverter`` (float32, no quantisation unless asked, so the
sizes compare the architectures and sparsity, not number formats). Inference uses the LiteRT
interpreter from ``ai_edge_litert`` (``tf.lite.Interpreter`` is deprecated).

TFLite stores a pruned kernel densely — its zeros take as many bytes as any other weight — so
pruning shows in the **gzip** size, the figure to compare for over-the-air updates or storage
(design §4). Latency is measured per window at batch size 1, after warm-up, as the median of
repeated invocations; CPU latencies are only comparable within one run on one machine.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from amc_tf.errors import ModelError
from amc_tf.io import atomic_path
from amc_tf.runtime import keras, tf


def convert(model: keras.Model, *, optimize: bool = False) -> bytes:
    """The TFLite flatbuffer of ``model`` (float32; ``optimize`` enables dynamic-range quantisation)."""
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if optimize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    try:
        return converter.convert()
    except Exception as err:  # the converter raises many internal types; name the model instead
        raise ModelError(f"TFLite conversion of model {model.name!r} failed: {err}") from err


def export_tflite(model: keras.Model, path: str | Path, *, optimize: bool = False) -> Path:
    """Convert ``model`` and write the ``.tflite`` file atomically; returns the path."""
    blob = convert(model, optimize=optimize)
    path = Path(path)
    with atomic_path(path, suffix=".tflite") as tmp:
        tmp.write_bytes(blob)
    return path


def gzip_size(path: str | Path, level: int = 9) -> int:
    """Bytes of the file after gzip at ``level`` (in memory; nothing is written)."""
    return len(gzip.compress(Path(path).read_bytes(), compresslevel=level, mtime=0))


class TFLiteModel:
    """A ``.tflite`` classifier run by the LiteRT interpreter.

    Args:
        path: The ``.tflite`` file (single float32 input ``[N, 2, L]``, single logits output).
        num_threads: Interpreter threads (1 gives stable per-window latencies).
    """

    def __init__(self, path: str | Path, num_threads: int = 1) -> None:
        from ai_edge_litert.interpreter import Interpreter

        path = Path(path)
        if not path.is_file():
            raise ModelError(f"TFLite file not found: {path}")
        self.path = path
        self._interp = Interpreter(model_path=str(path), num_threads=num_threads)
        inputs, outputs = self._interp.get_input_details(), self._interp.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ModelError(f"{path}: expected one input and one output, got {len(inputs)} and {len(outputs)}")
        self._in, self._out = inputs[0]["index"], outputs[0]["index"]
        self.input_shape = tuple(int(d) for d in inputs[0]["shape"][1:])
        self._batch = None

    def _resize(self, batch: int) -> None:
        if batch != self._batch:
            self._interp.resize_tensor_input(self._in, [batch, *self.input_shape])
            self._interp.allocate_tensors()
            self._batch = batch

    def predict(self, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Logits ``float32 [N, K]`` for ``x`` ``float32 [N, *input_shape]``."""
        x = np.asarray(x, dtype=np.float32)
        if x.shape[1:] != self.input_shape:
            raise ModelError(f"input shape {x.shape[1:]} does not match the model's {self.input_shape}")
        out = []
        for i in range(0, len(x), batch_size):
            chunk = x[i : i + batch_size]
            self._resize(len(chunk))
            self._interp.set_tensor(self._in, chunk)
            self._interp.invoke()
            out.append(self._interp.get_tensor(self._out).copy())
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)

    def latency(self, x: np.ndarray, *, repeats: int = 50, warmup: int = 5) -> float:
        """Median seconds per window at batch size 1 over ``repeats`` windows of ``x`` (cycled)."""
        x = np.asarray(x, dtype=np.float32)
        self._resize(1)

        def invoke(i: int) -> Callable[[], object]:
            self._interp.set_tensor(self._in, x[i % len(x)][None])
            return self._interp.invoke

        return median_seconds(invoke, repeats=repeats, warmup=warmup)


def median_seconds(prepare: Callable[[int], Callable[[], object]], *, repeats: int, warmup: int = 5) -> float:
    """Median wall seconds of ``warmup + repeats`` timed calls, the first ``warmup`` discarded.

    Call ``i`` runs ``prepare(i)`` untimed (e.g. copying window ``i`` into the input) and times
    only the call it returns, so every latency of the project (the interpreter's, a Keras model's
    for comparison) is measured the same way.
    """
    times = []
    for i in range(warmup + repeats):
        call = prepare(i)
        t0 = time.perf_counter()
        call()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    return float(np.median(times))
