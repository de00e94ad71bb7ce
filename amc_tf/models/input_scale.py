"""The fixed input gain every classifier carries: a parameter-free ``Rescaling`` named ``input_scale``.

RML2016's per-window L1 normalisation leaves samples at ~5e-3. With the usual initialisers every
activation then starts tiny and Adam at 1e-3 sits at chance for many epochs on CPU (VT-CNN2:
three epochs at 8.5 % on 11 classes, vs 41 % with the gain). Instead of multiplying the *data*
(which would make every trained model, its pruned copies and its TFLite file silently expect
scaled input), the gain is the model's first layer: models consume raw windows, attack budgets
stay in the data's own units (D4), and parameter counts do not change (``Rescaling`` has no
weights). The flows set it to ``1 / std(training windows)`` unless the config gives a value
(:func:`amc_tf.models.registry.model_params`).
"""

from __future__ import annotations

import math

from amc_tf.errors import ConfigError
from amc_tf.runtime import keras

#: Name of the gain layer in every classifier of the registry.
LAYER_NAME = "input_scale"


def scale_input(inp, input_scale: float):
    """Apply the fixed gain to the model input.

    Args:
        inp: The model's input tensor, ``float32 [N, 2, L]`` I/Q in the data's units.
        input_scale: Constant gain, a positive finite number (1.0 = identity).

    Returns:
        ``input_scale · inp``, same shape and dtype.

    Raises:
        ConfigError: ``input_scale`` is not a positive finite number.
    """
    try:
        value = float(input_scale)
    except (TypeError, ValueError):
        raise ConfigError(f"input_scale must be a positive finite number, got {input_scale!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise ConfigError(f"input_scale must be a positive finite number, got {input_scale!r}")
    return keras.layers.Rescaling(value, name=LAYER_NAME)(inp)


def input_scale_of(model: keras.Model) -> float:
    """The gain of ``model``'s ``input_scale`` layer (1.0 if the model has none)."""
    try:
        return float(model.get_layer(LAYER_NAME).scale)
    except ValueError:
        return 1.0
