"""VT-CNN2 (O'Shea et al., GRCon 2016 notebook version; references §2.1).

The 256/80/256 variant with 2,830,427 parameters for 11 classes, translated to channels-last:
input ``[N, 2, L]`` → fixed input gain → reshape ``[N, 2, L, 1]`` → zero-pad time by 2 → Conv2D 256 (1×3) ReLU →
Dropout 0.5 → zero-pad time by 2 → Conv2D 80 (2×3) ReLU → Dropout 0.5 → Flatten →
Dense 256 ReLU (he_normal) → Dropout 0.5 → Dense ``n_classes`` (he_normal) **logits** (D3: no
softmax inside the model).

The fixed input gain (a parameter-free ``Rescaling`` layer named ``input_scale``, shared by every
classifier: :mod:`amc_tf.models.input_scale`) is this project's addition: the notebook's
Keras-1/Theano run trained at the raw L1-normalised scale (~5e-3), ours sits at chance there, so
the model scales its own input and still consumes raw windows; the parameter count stays
2,830,427. The flows set the gain to ``1 / std(train windows)`` unless the config gives one.
"""

from __future__ import annotations

from amc_tf.errors import ConfigError
from amc_tf.models.input_scale import scale_input
from amc_tf.runtime import keras


def build_vtcnn2(
    n_classes: int = 11, window: int = 128, dropout: float = 0.5, input_scale: float = 1.0, name: str = "vtcnn2"
) -> keras.Model:
    """Build VT-CNN2.

    Args:
        n_classes: Number of classes (logits width).
        window: Samples per window L (input is ``float32 [N, 2, L]``).
        dropout: Dropout rate after each hidden layer (0.5 in the notebook).
        input_scale: Constant gain applied to the input inside the model (:mod:`amc_tf.models.input_scale`).
        name: Keras model name.

    Returns:
        An uncompiled ``keras.Model`` mapping ``[N, 2, L]`` I/Q to ``[N, n_classes]`` logits.
    """
    if n_classes < 2:
        raise ConfigError(f"n_classes must be >= 2, got {n_classes}")
    if window < 4:
        raise ConfigError(f"window must be >= 4 samples, got {window}")
    if not 0.0 <= dropout < 1.0:
        raise ConfigError(f"dropout must lie in [0, 1), got {dropout}")
    L = keras.layers
    inp = keras.Input(shape=(2, window), name="iq")
    h = L.Reshape((2, window, 1))(scale_input(inp, input_scale))
    h = L.ZeroPadding2D(((0, 0), (2, 2)))(h)
    h = L.Conv2D(256, (1, 3), padding="valid", activation="relu", kernel_initializer="glorot_uniform", name="conv1")(h)
    h = L.Dropout(dropout)(h)
    h = L.ZeroPadding2D(((0, 0), (2, 2)))(h)
    h = L.Conv2D(80, (2, 3), padding="valid", activation="relu", kernel_initializer="glorot_uniform", name="conv2")(h)
    h = L.Dropout(dropout)(h)
    h = L.Flatten()(h)
    h = L.Dense(256, activation="relu", kernel_initializer="he_normal", name="dense1")(h)
    h = L.Dropout(dropout)(h)
    out = L.Dense(n_classes, kernel_initializer="he_normal", name="dense2")(h)
    return keras.Model(inp, out, name=name)
