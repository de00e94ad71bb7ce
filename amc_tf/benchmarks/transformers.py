"""``amc-tf bench transformers``: MCformer and its compact variant beside VT-CNN2 and the
distill-pruned VT-CNN2 (f_P), as deployed.

For each model (random weights: sizes and latencies do not depend on training; 11 classes,
windows of 128 as in RML2016.10a), measured in the same run: parameters and non-zero weights; the float32 TFLite
flatbuffer's size raw and gzip-compressed (kB = 1,024 bytes, as the compression table); and the
single-window latency of the LiteRT interpreter (one thread), the median of ``repeats``
invocations after warm-up. Beside it, for context, the Keras model's own single-window latency
(its compiled forward pass on TensorFlow's default thread pool), timed the same way. The export
and the interpreter timing are the compression table's (:func:`amc_tf.export.table.size_row`);
``tflite_agrees`` is the fraction of windows on which the interpreter's arg-max equals Keras's.

``vtcnn2_pruned`` stands for the compression flow's f_P: VT-CNN2 whose ``dense1`` kernel keeps only
its largest-magnitude weights, at the sparsity Net-Trim reached in ``configs/compress_reduced.yaml``
(97.46 %) unless ``--pruned-sparsity`` says otherwise. Its float32 flatbuffer stores the zeros, so
only the gzip size shows the pruning. ``--pruned-model PATH`` measures a real f_P (a ``.keras``
file, through the safe loader) instead.
The JSON::

    {"mcformer": {"params": .., "nonzero": .., "tflite_kb": .., "gzip_kb": .., "latency_ms": ..,
                  "keras_latency_ms": .., "tflite_agrees": ..},
     "mcformer_small": {...}, "vtcnn2": {...},
     "vtcnn2_pruned": {..., "dense1_sparsity": .., "source": "magnitude" | PATH},
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
#: The distill-pruned VT-CNN2's key, after :data:`MODELS`.
PRUNED = "vtcnn2_pruned"
#: Every row of the JSON, in order.
ROWS = (*MODELS, PRUNED)
#: Net-Trim's sparsity of ``dense1`` in f_P of ``configs/compress_reduced.yaml`` (run f0c826d3).
PRUNED_SPARSITY = 0.9746
#: Pairs ``(a, b)`` whose ratios ``a / b`` are reported.
PAIRS = (
    ("mcformer_small", "mcformer"),
    ("mcformer", "vtcnn2"),
    ("mcformer_small", "vtcnn2"),
    ("mcformer_small", PRUNED),
    (PRUNED, "vtcnn2"),
)
#: Figure of a model → its name in the ratio keys.
RATIOS = {
    "params": "params",
    "nonzero": "nonzero",
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


def magnitude_pruned(model: keras.Model, layer: str, sparsity: float) -> keras.Model:
    """``model`` with the ``round(sparsity · n)`` smallest-magnitude weights of ``layer``'s kernel
    set to zero, in place (one shot, no fine-tuning: the benchmark's weights are random anyway).

    Raises:
        ConfigError: ``sparsity`` outside [0, 1) or no such layer.
    """
    if not 0.0 <= sparsity < 1.0:
        raise ConfigError(f"--pruned-sparsity must lie in [0, 1), got {sparsity}")
    names = [lay.name for lay in model.layers]
    if layer not in names:
        raise ConfigError(f"model {model.name!r} has no layer {layer!r} (layers: {names})")
    target = model.get_layer(layer)
    kernel, *rest = target.get_weights()
    zeros = int(round(sparsity * kernel.size))
    flat = kernel.reshape(-1).copy()
    flat[np.argsort(np.abs(flat), kind="stable")[:zeros]] = 0.0
    target.set_weights([flat.reshape(kernel.shape), *rest])
    return model


def _sparsity(model: keras.Model, layer: str) -> float | None:
    """Fraction of exact zeros in ``layer``'s kernel, None when the model has no such layer."""
    if layer not in {lay.name for lay in model.layers}:
        return None
    return float(np.mean(model.get_layer(layer).get_weights()[0] == 0))


def _pruned_model(path: Path | None, sparsity: float, seed: int) -> tuple[keras.Model, str]:
    """The distill-pruned VT-CNN2 row's model and its source (``"magnitude"`` or the path)."""
    from amc_tf.errors import ModelError
    from amc_tf.models.registry import build_model
    from amc_tf.runtime import set_seed

    if path is None:
        set_seed(seed)
        return magnitude_pruned(build_model("vtcnn2", N_CLASSES, WINDOW), "dense1", sparsity), "magnitude"
    from amc_tf.models.loading import load_model

    model = load_model(Path(path))
    shape = tuple(model.input_shape[1:])
    if shape != (2, WINDOW) or model.output_shape[-1] != N_CLASSES:
        raise ModelError(
            f"--pruned-model {path}: expected input [N, 2, {WINDOW}] and {N_CLASSES} logits, "
            f"got input {list(shape)} and {model.output_shape[-1]} outputs"
        )
    return model, str(path)


def bench_transformers(
    *,
    repeats: int = 200,
    windows: int = 32,
    seed: int = 0,
    pruned_sparsity: float = PRUNED_SPARSITY,
    pruned_model: Path | None = None,
) -> dict[str, Any]:
    """Measure every model of :data:`ROWS`; returns the JSON of the module docstring.

    Args:
        repeats: Timed single-window invocations per model and runtime (medians are reported).
        windows: Random unit-power windows ``[windows, 2, 128]`` cycled through by the timing.
        seed: Seed of the weights and the windows.
        pruned_sparsity: Fraction of zeros in the stand-in f_P's ``dense1`` kernel.
        pruned_model: A real f_P (``.keras``) to measure instead of the stand-in.

    Raises:
        ConfigError: ``repeats`` or ``windows`` below 1, or a sparsity outside [0, 1).
        ModelError: ``pruned_model`` is refused by the safe loader.
            or does not take RML2016-sized windows.
    """
    if repeats < 1 or windows < 1:
        raise ConfigError(f"--repeats and --windows must be >= 1, got {repeats} and {windows}")
    if not 0.0 <= pruned_sparsity < 1.0:
        raise ConfigError(f"--pruned-sparsity must lie in [0, 1), got {pruned_sparsity}")
    from amc_tf.export.table import size_row
    from amc_tf.models.inference import predict_classes
    from amc_tf.models.registry import build_model
    from amc_tf.runtime import set_seed

    start, load_before = time.perf_counter(), os.getloadavg()[0]
    x = (np.random.default_rng(seed).standard_normal((windows, 2, WINDOW)) / np.sqrt(2)).astype(np.float32)
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="amc-bench-transformers-") as tmp:
        pruned, source = _pruned_model(pruned_model, pruned_sparsity, seed)
        for name in ROWS:
            set_seed(seed)
            model = pruned if name == PRUNED else build_model(name, N_CLASSES, WINDOW)
            say("bench transformers", f"{name}: TFLite export and {repeats} timed windows per runtime")
            row = size_row(name, model, Path(tmp) / f"{name}.tflite", x, predict_classes(model, x), repeats=repeats)
            result[name] = {
                "params": row.parameters,
                "nonzero": row.nonzero,
                "tflite_kb": row.tflite_bytes / 1024,
                "gzip_kb": row.gzip_bytes / 1024,
                "latency_ms": row.latency_ms,
                "keras_latency_ms": 1e3 * keras_latency(model, x, repeats=repeats),
                "tflite_agrees": row.accuracy,
            }
        result[PRUNED] |= {"dense1_sparsity": _sparsity(pruned, "dense1"), "source": source}
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
    lines = [
        f"{'model':<16}{'params':>11}{'non-zero':>11}{'tflite kB':>11}{'gzip kB':>10}{'TFLite ms':>11}{'Keras ms':>10}"
    ]
    for name in ROWS:
        r = result[name]
        lines.append(
            f"{name:<16}{r['params']:>11,}{r['nonzero']:>11,}{r['tflite_kb']:>11,.1f}{r['gzip_kb']:>10,.1f}"
            f"{r['latency_ms']:>11.3f}{r['keras_latency_ms']:>10.3f}"
        )
    return "\n".join(lines)


def command(
    out: Annotated[Path, typer.Option("--out", "-o", help="JSON file to write (atomically).")],
    repeats: Annotated[int, typer.Option("--repeats", help="Timed single-window invocations (medians).")] = 200,
    windows: Annotated[int, typer.Option("--windows", help="Random windows cycled through by the timing.")] = 32,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the weights and windows.")] = 0,
    pruned_sparsity: Annotated[
        float, typer.Option("--pruned-sparsity", help="Zeros in the stand-in f_P's dense1 kernel.")
    ] = PRUNED_SPARSITY,
    pruned_model: Annotated[
        Path | None, typer.Option("--pruned-model", help="A real f_P (.keras) instead of the stand-in.")
    ] = None,
) -> None:
    """MCformer, compact MCformer, VT-CNN2 and the distill-pruned VT-CNN2: parameters, non-zero
    weights, TFLite size (raw, gzip), TFLite and Keras latency."""
    result = bench_transformers(
        repeats=repeats, windows=windows, seed=seed, pruned_sparsity=pruned_sparsity, pruned_model=pruned_model
    )
    write_json(out, result)
    typer.echo(format_rows(result), err=True)
    typer.echo(json.dumps(result, indent=2))


__all__ = [
    "MODELS",
    "PRUNED",
    "ROWS",
    "bench_transformers",
    "command",
    "format_rows",
    "keras_latency",
    "magnitude_pruned",
]
