"""Inception-style teacher for RML2016-style I/Q (after West & O'Shea, DySPAN 2017; design D8).

West & O'Shea's "Deep architectures for modulation recognition" evaluates an Inception network on
RML2016, and the Hinton-distillation paper this project follows uses "an InceptionNet with about
10 M parameters" as its teacher. Neither publishes a layer list (references §2.2 and "Not found"),
so this module is a documented interpretation whose only hard target is the quoted size:

* Input ``float32 [N, 2, L]`` passes the fixed input gain (parameter-free ``Rescaling`` named
  ``input_scale``, :mod:`amc_tf.models.input_scale`) and is reshaped to the image ``[N, 2, L, 1]``
  (channels-last, as VT-CNN2).
* Stem: Conv2D 64 (1×7, "same") → BatchNorm → ReLU. Kernels run along time only, as in VT-CNN2.
* Two Inception modules on the 2-row (I, Q) image. Each module has four parallel branches
  concatenated on the channel axis (GoogLeNet's pattern): 1×1; 1×1 reduce → 1×3; 1×1 reduce →
  1×8 (West & O'Shea's filter length 8, per the rfml author's note); 1×3 max-pool → 1×1
  projection. Every convolution is Conv → BatchNorm → ReLU (BatchNorm momentum 0.9 rather than
  Keras' 0.99, so the inference statistics settle within the few hundred steps of a CPU run).
  Widths 32 / 48→64 / 16→32 / 32 give 160 output channels.
* Conv2D 160 (2×1, "valid") merges the I and Q rows (VT-CNN2's second layer does the same with a
  2×3 kernel), then one more Inception module on the ``[1, L]`` sequence.
* Flatten (``L × 160`` = 20,480 features for L = 128) → Dropout 0.5 → Dense ``dense_units`` ReLU →
  Dropout 0.5 → Dense ``n_classes`` logits (D3: no softmax). Like VT-CNN2's 10,560×256 ``dense1``,
  the wide fully connected layer carries most of the parameters.

With the defaults (11 classes, L = 128, ``dense_units`` = 480) the model has 9,980,491 parameters
(about 10 M, the paper's figure). ``dense_units`` scales the size for quick runs.
"""

from __future__ import annotations

from amc_tf.errors import ConfigError
from amc_tf.models.input_scale import scale_input
from amc_tf.runtime import keras

#: Branch widths of one module: 1×1, (reduce, 1×3), (reduce, 1×8), pool projection.
_BRANCHES = {"b1": 32, "b3_reduce": 48, "b3": 64, "b8_reduce": 16, "b8": 32, "pool_proj": 32}


def _conv_bn_relu(h, filters: int, kernel: tuple[int, int], name: str, padding: str = "same"):
    L = keras.layers
    h = L.Conv2D(filters, kernel, padding=padding, use_bias=False, name=f"{name}_conv")(h)
    h = L.BatchNormalization(momentum=0.9, name=f"{name}_bn")(h)
    return L.ReLU(name=f"{name}_relu")(h)


def inception_module(h, name: str):
    """One Inception module: four parallel branches concatenated on channels (160 channels).

    Args:
        h: Feature map ``[N, rows, L, C]`` (rows = 2 before the I/Q merge, 1 after).
        name: Prefix for the layer names.

    Returns:
        Feature map ``[N, rows, L, 160]``.
    """
    L = keras.layers
    b = _BRANCHES
    b1 = _conv_bn_relu(h, b["b1"], (1, 1), f"{name}_b1")
    b3 = _conv_bn_relu(h, b["b3_reduce"], (1, 1), f"{name}_b3r")
    b3 = _conv_bn_relu(b3, b["b3"], (1, 3), f"{name}_b3")
    b8 = _conv_bn_relu(h, b["b8_reduce"], (1, 1), f"{name}_b8r")
    b8 = _conv_bn_relu(b8, b["b8"], (1, 8), f"{name}_b8")
    bp = L.MaxPooling2D((1, 3), strides=(1, 1), padding="same", name=f"{name}_pool")(h)
    bp = _conv_bn_relu(bp, b["pool_proj"], (1, 1), f"{name}_bp")
    return L.Concatenate(axis=-1, name=f"{name}_concat")([b1, b3, b8, bp])


def build_inception(
    n_classes: int = 11,
    window: int = 128,
    dense_units: int = 480,
    dropout: float = 0.5,
    input_scale: float = 1.0,
    name: str = "inception",
) -> keras.Model:
    """Build the Inception-style teacher (interpretation documented in the module docstring).

    Args:
        n_classes: Number of classes (logits width).
        window: Samples per window L (input is ``float32 [N, 2, L]``).
        dense_units: Width of the hidden fully connected layer (480 → ~10 M parameters at L = 128).
        dropout: Dropout rate before each dense layer.
        input_scale: Constant gain applied to the input inside the model (:mod:`amc_tf.models.input_scale`).
        name: Keras model name.

    Returns:
        An uncompiled ``keras.Model`` mapping ``[N, 2, L]`` I/Q to ``[N, n_classes]`` logits.
    """
    if n_classes < 2:
        raise ConfigError(f"n_classes must be >= 2, got {n_classes}")
    if window < 8:
        raise ConfigError(f"window must be >= 8 samples (the 1×8 branch), got {window}")
    if dense_units < 1:
        raise ConfigError(f"dense_units must be >= 1, got {dense_units}")
    if not 0.0 <= dropout < 1.0:
        raise ConfigError(f"dropout must lie in [0, 1), got {dropout}")
    L = keras.layers
    inp = keras.Input(shape=(2, window), name="iq")
    h = L.Reshape((2, window, 1), name="to_image")(scale_input(inp, input_scale))
    h = _conv_bn_relu(h, 64, (1, 7), "stem")
    h = inception_module(h, "inc1")
    h = inception_module(h, "inc2")
    h = _conv_bn_relu(h, 160, (2, 1), "iq_merge", padding="valid")
    h = inception_module(h, "inc3")
    h = L.Flatten(name="flatten")(h)
    h = L.Dropout(dropout, name="drop1")(h)
    h = L.Dense(dense_units, activation="relu", kernel_initializer="he_normal", name="dense1")(h)
    h = L.Dropout(dropout, name="drop2")(h)
    out = L.Dense(n_classes, kernel_initializer="he_normal", name="logits")(h)
    return keras.Model(inp, out, name=name)
