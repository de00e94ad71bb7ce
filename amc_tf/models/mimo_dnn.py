"""M1 and M2: per-cell max-product power regressors of the seed tables (D7, references §8.1).

Both map the 2·L·K = 40 UE coordinates in metres to cell j's K = 5 powers and their sum (mW):

* **M1**: 40 → 64 → 32 → 32 → 32 → 5 → 6 (6,981 parameters);
* **M2**: 40 → 512 → 256 → 128 → 128 → 5 → 6 (202,373 parameters);

ELU on every hidden layer including the 5-unit one, as in Sanguinetti et al.'s
``NN_MR_maxprod.py``, then the fixed linear 6-output layer ``[I₅ | 1]`` (the five powers and
their sum). That fixed layer has no freedom (weights ``[I₅ | 1]``, zero bias, not trainable), so
it is written here as the parameter-free :class:`AppendSum` layer: the function is identical and
the seed-table counts — which are the trainable parameters (6,981 = 40·64+64 + … + 32·5+5;
202,373 likewise) — are then also ``count_params()`` of the whole model. A literal ``Dense(6)``
would add 36 frozen weights (7,017 / 202,409).

The 5-unit layer works in units of ``Pmax/K`` (100 mW): :class:`AppendSum` multiplies by that
fixed, parameter-free scale. The original trained on raw mW with four Adam stages of 50 epochs;
without the scale a short run cannot leave the O(1) output range of the initialisation and ends
no better than the best constant predictor; with it the fit converges in tens of epochs. It is
the same network expressed in other output units.

Inputs are standardised inside the model by :class:`Standardize`, whose mean and standard
deviation (training statistics) are stored in the layer config rather than as weights, so the
model takes metres — the unit of the attack budget (D4) — and still has exactly the seed-table
parameter count.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from amc_tf.errors import ConfigError
from amc_tf.models.mimo_arch import HIDDEN, Arch
from amc_tf.runtime import keras, tf


@keras.utils.register_keras_serializable(package="amc_tf")
class Standardize(keras.layers.Layer):
    """``(x − mean) / std`` with constants kept in the config (no weights).

    Args:
        mean: Per-feature means, length F.
        std: Per-feature standard deviations (> 0), length F.
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float], **kwargs):
        super().__init__(**kwargs)
        mean_arr = np.asarray(mean, dtype=np.float64).reshape(-1)
        std_arr = np.asarray(std, dtype=np.float64).reshape(-1)
        if (
            mean_arr.shape != std_arr.shape
            or not np.isfinite(mean_arr).all()
            or not (np.isfinite(std_arr).all() and (std_arr > 0).all())
        ):
            raise ConfigError("Standardize needs finite mean and positive finite std of the same length")
        self.mean = [float(v) for v in mean_arr]
        self.std = [float(v) for v in std_arr]
        self._mean = tf.constant(mean_arr, dtype=tf.float32)
        self._scale = tf.constant(1.0 / std_arr, dtype=tf.float32)

    def call(self, inputs):
        return (inputs - self._mean) * self._scale

    def get_config(self) -> dict:
        return {**super().get_config(), "mean": self.mean, "std": self.std}


@keras.utils.register_keras_serializable(package="amc_tf")
class ToDecibel(keras.layers.Layer):
    """``10·log10(max(x, 1 mm))``: the original code's ``Input_tr_dB`` transform of coordinates
    (used there for the MR model). The 1 mm floor keeps perturbed coordinates finite."""

    def call(self, inputs):
        return 10.0 * tf.math.log(tf.maximum(inputs, 1e-3)) / tf.math.log(10.0)


def to_decibel(x: np.ndarray) -> np.ndarray:
    """NumPy twin of :class:`ToDecibel` (for the training statistics)."""
    return 10.0 * np.log10(np.maximum(np.asarray(x, dtype=np.float64), 1e-3))


@keras.utils.register_keras_serializable(package="amc_tf")
class AppendSum(keras.layers.Layer):
    """The fixed ``[I_K | 1]`` layer: ``[N, K]`` → ``[N, K + 1]`` (the powers, then their sum),
    with the powers expressed in units of ``scale`` mW.

    Args:
        scale: Fixed output unit in mW (``Pmax/K``; 1 = the literal ``[I_K | 1]`` layer).
    """

    def __init__(self, scale: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        if not (np.isfinite(scale) and scale > 0):
            raise ConfigError(f"AppendSum scale must be a positive number of mW, got {scale}")
        self.scale = float(scale)

    def call(self, inputs):
        powers = self.scale * inputs
        return tf.concat([powers, tf.reduce_sum(powers, axis=-1, keepdims=True)], axis=-1)

    def get_config(self) -> dict:
        return {**super().get_config(), "scale": self.scale}


def build_power_model(
    arch: Arch | str,
    mean: Sequence[float],
    std: Sequence[float],
    *,
    n_features: int = 40,
    n_users: int = 5,
    output_scale_mw: float = 100.0,
    input_transform: str = "linear",
    seed: int = 0,
    name: str | None = None,
) -> keras.Model:
    """Build M1 or M2 for one cell.

    Args:
        arch: ``M1`` or ``M2``.
        mean, std: Training statistics of the ``n_features`` inputs (after ``input_transform``).
        n_features: Input width 2·L·K.
        n_users: K, powers per cell.
        output_scale_mw: Fixed unit of the 5-unit layer's output (Pmax/K = 100 mW by default).
        input_transform: ``linear`` (z-score of metres, the default) or ``db`` (z-score of
            ``10·log10`` of the coordinates, as the original MR network).
        seed: Seed of the glorot-uniform initialisers.
        name: Keras model name (default ``"<arch>"``).

    Returns:
        An uncompiled ``keras.Model``: ``float32 [N, n_features]`` metres →
        ``float32 [N, K + 1]`` mW (K powers, then their sum).
    """
    try:
        arch = Arch(arch)
    except ValueError:
        raise ConfigError(f"unknown power-allocation architecture {arch!r}; known: {[a.value for a in Arch]}") from None
    if n_features < 1 or n_users < 1:
        raise ConfigError(f"n_features and n_users must be >= 1, got {n_features}, {n_users}")
    if len(mean) != n_features or len(std) != n_features:
        raise ConfigError(f"mean/std must have {n_features} entries, got {len(mean)}/{len(std)}")
    if input_transform not in ("linear", "db"):
        raise ConfigError(f"input_transform must be 'linear' or 'db', got {input_transform!r}")
    inp = keras.Input(shape=(n_features,), name="positions_m")
    h = ToDecibel(name="to_db")(inp) if input_transform == "db" else inp
    h = Standardize(mean, std, name="standardize")(h)
    widths = HIDDEN[arch] + (n_users,)
    for i, width in enumerate(widths):
        init = keras.initializers.GlorotUniform(seed=seed + i)
        # the power layer starts near 1 (= Pmax/K each, the equal-power allocation), away from
        # the ELU's saturated negative side
        bias = "ones" if i == len(widths) - 1 else "zeros"
        h = keras.layers.Dense(
            width, activation="elu", kernel_initializer=init, bias_initializer=bias, name=f"dense{i + 1}"
        )(h)
    out = AppendSum(output_scale_mw, name="powers_and_sum")(h)
    return keras.Model(inp, out, name=name or arch.value)


def relative_mse(y_true, y_pred):
    """The max-product loss of the original code: mean over outputs of ``((y − ŷ)/y)²``.

    Targets are optimal max-product powers, which are strictly positive (every UE is served).
    """
    return tf.reduce_mean(tf.square((y_true - y_pred) / y_true), axis=-1)
