"""``amc-tf bench transformers``: MCformer and its compact variant beside VT-CNN2, as deployed.

For each model (random weights: sizes and latencies do not depend on training; 11 classes,
windows of 128 as in RML2016.10a), measured in the same run: parameters; the float32 TFLite
flatbuffer's size raw and gzip-compressed (kB = 1,024 bytes, as the compression table); and the
single-window latency of the LiteRT interpreter (one thread), the median of ``repeats``
invocations after warm-up. Beside it, for context, the Keras model's own single-window latency
(its compiled forward pass on TensorFlow's default thread pool), timed the same way. The export
and the interpreter timing are the compression table's (:func:`amc_tf.export.table.size_row`);
``tflite_agrees`` is the fraction of windows on which the interpreter's arg-max equals Keras's.
The JSON::

    {"mcformer": {"params": .., "tflite_kb": .., "gzip_kb": .., "latency_ms": .., "keras_latency_ms": ..,
                  "tflite_agrees": ..},
     "mcformer_small": {...}, "vtcnn2": {...},
     "ratios": {"mcformer_small_vs_mcformer_latency": .., ...},   # a / b, measured side by side
     "repeats": .., "windows": .., "machine": {...}, "seconds": ..}

CPU latencies are comparable only within one run on one machine (design §3), hence the ratios and
the machine facts: core count, the 1-minute load average before and after, versions.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import typer

from amc_tf.errors import ConfigError
from amc_tf.io import write_json
from amc_tf.progress import say

if TYPE_CHECKING:  # TensorFlow is imported when the benchmark runs, not when the CLI starts
    from amc_tf.runtime import keras

#: The registry models compared, in the order of the JSON.
MODELS = ("mcformer", "mcformer_small", "vtcnn2")
#: Pairs ``(a, b)`` whose ratios ``a / b`` are reported.
PAIRS = (("mcformer_small", "mcformer"), ("mcformer", "vtcnn2"), ("mcformer_small", "vtcnn2"))
#: Figure of a model → its name in the ratio keys.
RATIOS = {
    "params": "params",
    "tflite_kb": "tflite_size",
    "gzip_kb": "gzip_size",
    "latency_ms": "latency",
    "keras_latency_ms": "keras_latency",
}
N_CLASSES, WINDOW = 11, 128
#: Untimed calls before the timed ones (the interpreter's default in the size table).
WARMUP = 5


def keras_latency(model: keras.Model, x: np.ndarray, *, repeats: int, warmup: int = WARMUP) -> float:
    """Median seconds of the compiled forward pass of ``model`` on one window of ``x`` (cycled).

    Args:
        model: Keras model, input ``[1, 2, L]``.
        x: ``float32 [N, 2, L]`` windows.
        repeats: Timed calls.
        warmup: Untimed calls first (the first one traces the function).
    """
    from amc_tf.export.tflite import median_seconds
    from amc_tf.models.inference import compiled_forward
    from amc_tf.runtime import tf

    forward = compiled_forward(model)
    windows = [tf.constant(window[None]) for window in np.asarray(x, dtype=np.float32)]

    def call(i: int):
        window = windows[i % len(windows)]
        return lambda: forward(window).numpy()

    return median_seconds(call, repeats=repeats, warmup=warmup)


def _machine(load_before: float) -> dict[str, Any]:
    from amc_tf.runtime import tf

    return {
        "cpu_count": os.cpu_count(),
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "platform": platform.platform(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "ai_edge_litert": metadata.version("ai-edge-litert"),
        "tflite_threads": 1,
        "keras_intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads() or "default",
    }


def bench_transformers(*, repeats: int = 200, windows: int = 32, seed: int = 0) -> dict[str, Any]:
    """Measure every model of :data:`MODELS`; returns the JSON of the module docstring.

    Args:
        repeats: Timed single-window invocations per model and runtime (medians are reported).
        windows: Random unit-power windows ``[windows, 2, 128]`` cycled through by the timing.
        seed: Seed of the weights and the windows.

    Raises:
        ConfigError: ``repeats`` or ``windows`` below 1.
    """
    if repeats < 1 or windows < 1:
        raise ConfigError(f"--repeats and --windows must be >= 1, got {repeats} and {windows}")
    from amc_tf.export.table import size_row
    from amc_tf.models.inference import predict_classes
    from amc_tf.models.registry import build_model
    from amc_tf.runtime import set_seed

    start, load_before = time.perf_counter(), os.getloadavg()[0]
    x = (np.random.default_rng(seed).standard_normal((windows, 2, WINDOW)) / np.sqrt(2)).astype(np.float32)
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="amc-bench-transformers-") as tmp:
        for name in MODELS:
            set_seed(seed)
            model = build_model(name, N_CLASSES, WINDOW)
            say("bench transformers", f"{name}: TFLite export and {repeats} timed windows per runtime")
            row = size_row(name, model, Path(tmp) / f"{name}.tflite", x, predict_classes(model, x), repeats=repeats)
            result[name] = {
                "params": row.parameters,
                "tflite_kb": row.tflite_bytes / 1024,
                "gzip_kb": row.gzip_bytes / 1024,
                "latency_ms": row.latency_ms,
                "keras_latency_ms": 1e3 * keras_latency(model, x, repeats=repeats),
                "tflite_agrees": row.accuracy,
            }
    ratios = {
        f"{a}_vs_{b}_{label}": result[a][figure] / result[b][figure]
        for a, b in PAIRS
        for figure, label in RATIOS.items()
    }
    for name, figures in result.items():
        ratios[f"{name}_tflite_vs_keras_latency"] = figures["latency_ms"] / figures["keras_latency_ms"]
    return {
        **result,
        "ratios": ratios,
        "repeats": repeats,
        "windows": windows,
        "classes": N_CLASSES,
        "window": WINDOW,
        "seed": seed,
        "machine": _machine(load_before),
        "seconds": time.perf_counter() - start,
    }


def format_rows(result: dict[str, Any]) -> str:
    """The per-model figures of :func:`bench_transformers` as a short plain-text table."""
    lines = [f"{'model':<16}{'params':>11}{'tflite kB':>11}{'gzip kB':>10}{'TFLite ms':>11}{'Keras ms':>10}"]
    for name in MODELS:
        r = result[name]
        lines.append(
            f"{name:<16}{r['params']:>11,}{r['tflite_kb']:>11,.1f}{r['gzip_kb']:>10,.1f}"
            f"{r['latency_ms']:>11.3f}{r['keras_latency_ms']:>10.3f}"
        )
    return "\n".join(lines)


def command(
    out: Annotated[Path, typer.Option("--out", "-o", help="JSON file to write (atomically).")],
    repeats: Annotated[int, typer.Option("--repeats", help="Timed single-window invocations (medians).")] = 200,
    windows: Annotated[int, typer.Option("--windows", help="Random windows cycled through by the timing.")] = 32,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the weights and windows.")] = 0,
) -> None:
    """MCformer, compact MCformer and VT-CNN2: parameters, TFLite size (raw, gzip), TFLite and Keras latency."""
    result = bench_transformers(repeats=repeats, windows=windows, seed=seed)
    write_json(out, result)
    typer.echo(format_rows(result), err=True)
    typer.echo(json.dumps(result, indent=2))


__all__ = ["MODELS", "bench_transformers", "command", "format_rows", "keras_latency"]
