"""The size / sparsity / latency / accuracy table of the compression paper (f_S, f_D, f_P, TF-MOT).

One row per model: parameters, non-zero weights, ``.tflite`` size raw and gzip-compressed,
interpreter latency per window, and clean accuracy of the **TFLite** model on the given windows
(the paper quotes 10 dB), so the numbers describe what is actually deployed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from amc_tf.export.tflite import TFLiteModel, export_tflite, gzip_size
from amc_tf.results import Result
from amc_tf.runtime import keras


@dataclass(frozen=True)
class SizeRow(Result):
    """One model's row (sizes in bytes, latency in milliseconds per window, accuracy in [0, 1])."""

    model: str
    parameters: int
    nonzero: int
    tflite_bytes: int
    gzip_bytes: int
    latency_ms: float
    accuracy: float

    def to_dict(self) -> dict:
        return asdict(self)


def count_nonzero(model: keras.Model) -> int:
    """Non-zero entries over all weights of ``model`` (kernels, biases, BatchNorm statistics)."""
    return int(sum(np.count_nonzero(w) for w in model.get_weights()))


def size_row(
    name: str, model: keras.Model, path: str | Path, x: np.ndarray, y: np.ndarray, *, repeats: int = 50
) -> SizeRow:
    """Export ``model`` to ``path`` and measure its row.

    Args:
        name: Row label (e.g. ``f_S``).
        model: Keras logits model.
        path: Where to write the ``.tflite`` file.
        x: ``float32 [N, 2, L]`` evaluation windows (e.g. the 10 dB test windows).
        y: ``int64 [N]`` their labels.
        repeats: Batch-1 invocations timed for the latency.
    """
    path = export_tflite(model, path)
    lite = TFLiteModel(path)
    acc = float(np.mean(lite.predict(x).argmax(axis=1) == y)) if len(x) else float("nan")
    return SizeRow(
        model=name,
        parameters=int(model.count_params()),
        nonzero=count_nonzero(model),
        tflite_bytes=path.stat().st_size,
        gzip_bytes=gzip_size(path),
        latency_ms=1e3 * lite.latency(x, repeats=repeats),
        accuracy=acc,
    )


def format_table(rows: list[SizeRow], accuracy_label: str = "acc") -> str:
    """A Markdown table of ``rows`` (for printing and the README)."""
    head = f"| model | parameters | non-zero | tflite (KB) | gzip (KB) | latency (ms/window) | {accuracy_label} |"
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r.model} | {r.parameters:,} | {r.nonzero:,} | {r.tflite_bytes / 1024:,.1f} | "
            f"{r.gzip_bytes / 1024:,.1f} | {r.latency_ms:.3f} | {100 * r.accuracy:.2f} % |"
        )
    return "\n".join(lines)
