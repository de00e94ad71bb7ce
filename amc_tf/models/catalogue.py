"""What each registered classifier takes and which layers it has, readable without TensorFlow.

A config names a model, its parameters and layers to prune; all of that is checked when the YAML
file loads, before TensorFlow is imported or any data is generated. Building a model to ask it
would cost the 10 s TensorFlow import, so the facts are kept in ``catalogue.json`` beside this
module: per model, its settable parameters with their defaults, the layers that carry weights
(``layers``, which ``freeze`` may name), the Dense and Conv2D layers (``prunable``, for TF-MOT)
and the ReLU Dense layers with a bias (``nettrim``, what Net-Trim's constraints need). The file is
written from the built models by ``python -m amc_tf.models.catalogue`` and a test rebuilds every
model and checks that the file still matches (``tests/core/test_model_catalogue.py``); layer names
do not depend on the parameters.
"""

from __future__ import annotations

import functools
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PATH = Path(__file__).with_name("catalogue.json")


@dataclass(frozen=True)
class ModelFacts:
    """One registered classifier, as the config layer sees it."""

    name: str
    params: dict[str, Any]
    layers: tuple[str, ...]
    prunable: tuple[str, ...]
    nettrim: tuple[str, ...]


@functools.cache
def catalogue() -> dict[str, ModelFacts]:
    """Every registered classifier's :class:`ModelFacts`, by registry name."""
    raw = json.loads(PATH.read_text())
    return {
        name: ModelFacts(name, dict(e["params"]), tuple(e["layers"]), tuple(e["prunable"]), tuple(e["nettrim"]))
        for name, e in raw.items()
    }


def facts(name: str) -> ModelFacts:
    """The facts of model ``name``; an unknown name raises ``ValueError`` listing the known ones."""
    known = catalogue()
    if name not in known:
        raise ValueError(f"unknown model {name!r}; registered models: {sorted(known)}")
    return known[name]


def check_layers(model: str, layers: list[str] | tuple[str, ...], kind: str, purpose: str) -> None:
    """Raise ``ValueError`` unless every name in ``layers`` is one of ``model``'s ``kind`` layers.

    Args:
        model: Registry name of the model.
        layers: Layer names from a config.
        kind: ``"layers"``, ``"prunable"`` or ``"nettrim"`` (a field of :class:`ModelFacts`).
        purpose: What the layers are for, for the message (e.g. ``"nettrim.layer"``).
    """
    allowed = getattr(facts(model), kind)
    bad = [name for name in layers if name not in allowed]
    if bad:
        raise ValueError(f"{purpose}: model {model!r} has no such layer(s) {bad}; it has {list(allowed)}")


def describe(name: str) -> dict[str, Any]:
    """Build model ``name`` at its defaults (imports TensorFlow) and read off its catalogue entry."""
    import inspect

    from amc_tf.models.registry import MODELS
    from amc_tf.runtime import keras

    builder = MODELS[name]
    signature = inspect.signature(builder).parameters
    model = builder()
    weighted = [layer for layer in model.layers if layer.weights]
    dense_conv = (keras.layers.Dense, keras.layers.Conv2D)
    return {
        "params": {k: p.default for k, p in signature.items() if k not in ("n_classes", "window")},
        "layers": [layer.name for layer in weighted],
        "prunable": [layer.name for layer in weighted if isinstance(layer, dense_conv)],
        "nettrim": [
            layer.name
            for layer in weighted
            if isinstance(layer, keras.layers.Dense) and layer.activation is keras.activations.relu and layer.use_bias
        ],
    }


def build_catalogue() -> dict[str, dict[str, Any]]:
    """Every registered model's entry, as ``catalogue.json`` holds it."""
    from amc_tf.models.registry import MODELS

    return {name: describe(name) for name in MODELS}


def main() -> None:
    """Rewrite ``catalogue.json`` from the built models (atomically)."""
    from amc_tf.io import atomic_path

    with atomic_path(PATH) as tmp:
        Path(tmp).write_text(json.dumps(build_catalogue(), indent=1) + "\n")
    print(f"wrote {PATH}", file=sys.stderr)


if __name__ == "__main__":
    main()
