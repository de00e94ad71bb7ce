"""Certification throughput against plain inference of the same model, measured in the same run (§3).

Certifying one window costs ``n0 + n`` forward passes of noisy copies; the anchor is plain batched
inference of that many windows, so ``native_over_anchor`` near 1 says the sampling adds nothing
but the forward passes. CPU figures are ratios; absolute windows/s count only on an idle machine
or a GPU. For an ``amc-tf bench`` subcommand to call and print as JSON.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from amc_tf.config.certify import SmoothingConfig
from amc_tf.defenses.smoothing import certify
from amc_tf.models.inference import predict_batched
from amc_tf.runtime import set_seed


def certification_throughput(
    model_name: str = "vtcnn2",
    *,
    n_examples: int = 8,
    n0: int = 100,
    n: int = 1_000,
    batch_size: int = 1_000,
    repeats: int = 3,
    seed: int = 0,
) -> dict[str, Any]:
    """Median certification throughput of a registry model (random weights, unit-power windows).

    Args:
        model_name: Registry model (11 classes, windows of 128).
        n_examples: Windows certified per repeat.
        n0, n: Selection and estimation samples.
        batch_size: Noisy windows per forward pass.
        repeats: Timed repeats after one warm-up (medians are reported).
        seed: Seed of weights, windows and noise.

    Returns:
        JSON-able ``{"native_examples_per_s", "anchor_windows_per_s", "native_over_anchor", ...}``.
    """
    from amc_tf.models.registry import build_model

    set_seed(seed)
    model = build_model(model_name, 11, 128)
    g = np.random.default_rng(seed)
    x = (g.standard_normal((n_examples, 2, 128)) / np.sqrt(2)).astype(np.float32)
    y = g.integers(0, 11, n_examples)
    config = SmoothingConfig(n0=n0, n=n, batch_size=batch_size)
    copies = np.repeat(x, n0 + n, axis=0)
    native, anchor = [], []
    for rep in range(repeats + 1):
        start = time.perf_counter()
        predict_batched(model, copies, batch_size)
        plain = time.perf_counter() - start
        result = certify(model, x, y, 10, config, seed=seed + rep, progress=False)
        if rep:
            native.append(result.examples_per_s)
            anchor.append(n_examples / plain)
    ratio = np.array(native) / np.array(anchor)
    return {
        "model": model_name,
        "n_examples": n_examples,
        "n0": n0,
        "n": n,
        "batch_size": batch_size,
        "repeats": repeats,
        "sigma": result.sigma,
        "native_examples_per_s": float(np.median(native)),
        "native_noisy_windows_per_s": float(np.median(native)) * (n0 + n),
        "anchor_windows_per_s": float(np.median(anchor)) * (n0 + n),
        "native_over_anchor": float(np.median(ratio)),
    }


__all__ = ["certification_throughput"]
