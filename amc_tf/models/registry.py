"""Model registry: plain data, one accessor (style habit 6).

``MODELS[name]`` is a builder ``(n_classes, window, **params) -> keras.Model`` returning logits.
Every classifier here takes ``input_scale``, a fixed in-model input gain
(:mod:`amc_tf.models.input_scale`); :func:`model_params` fills it in from the training windows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from amc_tf.errors import ConfigError
from amc_tf.models.inception import build_inception
from amc_tf.models.mcformer import build_mcformer, build_mcformer_small
from amc_tf.models.sbcnn import build_ibcnn, build_sbcnn, build_sbcnn_small
from amc_tf.models.vtcnn2 import build_vtcnn2

MODELS: dict[str, Callable[..., Any]] = {
    "vtcnn2": build_vtcnn2,
    "inception": build_inception,
    "sbcnn": build_sbcnn,
    "sbcnn_small": build_sbcnn_small,
    "ibcnn": build_ibcnn,
    "mcformer": build_mcformer,
    "mcformer_small": build_mcformer_small,
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


def model_params(name: str, params: Mapping[str, Any], x) -> dict[str, Any]:
    """The builder parameters for model ``name`` trained on windows ``x``.

    ``params`` (a config's ``model.params``) is copied; if it does not set ``input_scale`` and the
    builder accepts one, it becomes :func:`input_scale_for` of ``x``. Every flow that trains a
    classifier builds it with these parameters, so trained models consume raw windows.

    Args:
        name: Registry name of the model.
        params: Parameters given by the config.
        x: ``float32 [N, 2, L]`` training windows, in the data's own units.

    Returns:
        A new dict of builder parameters.
    """
    out = dict(params)
    if "input_scale" not in out and accepts_input_scale(name):
        out["input_scale"] = input_scale_for(x)
    return out


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
