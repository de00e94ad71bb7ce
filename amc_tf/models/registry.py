"""Model registry: plain data, one accessor (style habit 6).

``MODELS[name]`` is a builder ``(n_classes, window, **params) -> keras.Model`` returning logits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from amc_tf.errors import ConfigError
from amc_tf.models.vtcnn2 import build_vtcnn2
from amc_tf.models.inception import build_inception
from amc_tf.models.sbcnn import build_ibcnn, build_sbcnn, build_sbcnn_small

MODELS: dict[str, Callable[..., Any]] = {
    "vtcnn2": build_vtcnn2,
    "inception": build_inception,
    "sbcnn": build_sbcnn,
    "sbcnn_small": build_sbcnn_small,
    "ibcnn": build_ibcnn,
}


def accepts_input_scale(name: str) -> bool:
    """Whether the builder of ``name`` takes an ``input_scale`` (a fixed in-model input gain)."""
    import inspect

    builder = MODELS.get(name)
    return builder is not None and "input_scale" in inspect.signature(builder).parameters


def input_scale_for(x) -> float:
    """The input gain that brings windows ``x`` to unit standard deviation (4 significant digits,
    so it reads cleanly as a logged parameter)."""
    import numpy as np

    std = float(np.std(x))
    if not std > 0:
        raise ConfigError("cannot derive an input scale from all-zero training windows")
    return float(f"{1.0 / std:.4g}")


def build_model(name: str, n_classes: int, window: int, **params: Any):
    """Build the registered model ``name``; unknown names raise :class:`ConfigError`."""
    try:
        builder = MODELS[name]
    except KeyError:
        raise ConfigError(f"unknown model {name!r}; known: {sorted(MODELS)}") from None
    try:
        return builder(n_classes=n_classes, window=window, **params)
    except TypeError as err:
        raise ConfigError(f"bad parameters for model {name!r}: {err}") from None
