"""The auto-encoder detector of the "two-fold defence": reject windows it reconstructs badly.

A small convolutional auto-encoder learns clean I/Q windows; a window whose reconstruction error
exceeds a threshold is rejected before the classifier sees it (MagNet-style detection). It is
registry-independent (any classifier with I/Q input works beside it) and built from Keras
built-in layers only (so it saves and loads under design D9)::

    x [N, 2, L] -> Permute -> [N, L, 2]
      -> Conv1D(f1, k, relu, same) -> Conv1D(f2, k, stride 2, relu, same)   (bottleneck [N, L/2, f2])
      -> Conv1DTranspose(f1, k, stride 2, relu, same) -> Conv1D(2, k, linear, same) -> Permute -> [N, 2, L]

Power normalisation: each window is divided by its RMS amplitude before encoding, so the AE sees
unit-power windows whatever the SNR or gain, and the error ``mean((AE(x_n) - x_n)^2)`` (per
element, unit power) is scale-free: one threshold serves every SNR. The threshold rejects
``reject_rate`` of the clean validation windows. Training: Adam on that MSE, clean windows only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from amc_tf.attacks.adaptive_settings import REJECT
from amc_tf.config.rejection import AutoencoderConfig
from amc_tf.defenses.rejection import threshold_for_rate
from amc_tf.errors import ModelError
from amc_tf.runtime import keras, set_seed, tf


def build_autoencoder(window: int, config: AutoencoderConfig) -> keras.Model:
    """The auto-encoder of the module docstring: ``float32 [N, 2, L] -> [N, 2, L]`` (L even)."""
    if window % 2:
        raise ModelError(f"the auto-encoder halves the time axis: window length must be even, got {window}")
    layers = keras.layers
    f1, f2 = config.filters
    k = config.kernel_size
    inp = keras.Input((2, window))
    h = layers.Permute((2, 1))(inp)
    h = layers.Conv1D(f1, k, padding="same", activation="relu")(h)
    h = layers.Conv1D(f2, k, strides=2, padding="same", activation="relu")(h)
    h = layers.Conv1DTranspose(f1, k, strides=2, padding="same", activation="relu")(h)
    h = layers.Conv1D(2, k, padding="same")(h)
    return keras.Model(inp, layers.Permute((2, 1))(h), name="iq_autoencoder")


def normalise_power(x: tf.Tensor) -> tf.Tensor:
    """Windows ``[N, 2, L]`` divided by their RMS amplitude (unit mean power per element)."""
    rms = tf.sqrt(tf.reduce_mean(tf.square(x), axis=[1, 2], keepdims=True))
    return x / tf.maximum(rms, 1e-12)


class AutoencoderDetector:
    """A classifier behind an auto-encoder detector (the two-fold defence).

    Args:
        classifier: The logits classifier, input ``[N, 2, L]``.
        config: Architecture, training and threshold settings.
        batch_size: Batch of forward passes.

    Attributes after :meth:`fit`: ``autoencoder`` (Keras model), ``threshold`` (reconstruction
    MSE of unit-power windows; windows with an error ``>= threshold`` are rejected).
    """

    def __init__(self, classifier: keras.Model, config: AutoencoderConfig | None = None, batch_size: int = 256):
        self.classifier = classifier
        self.config = config or AutoencoderConfig()
        self.n_classes = int(classifier.output_shape[-1])
        self.batch_size = batch_size
        self.autoencoder: keras.Model | None = None
        self.threshold: float | None = None

    def fit(self, x_train: np.ndarray, x_val: np.ndarray, seed: int = 0) -> AutoencoderDetector:
        """Train the auto-encoder on clean ``x_train [N, 2, L]``; set the threshold on clean ``x_val``."""
        set_seed(seed)
        cfg = self.config
        self.autoencoder = build_autoencoder(int(x_train.shape[2]), cfg)
        self.autoencoder.compile(keras.optimizers.Adam(cfg.learning_rate), loss="mse")
        xn = normalise_power(tf.constant(x_train, tf.float32)).numpy()
        self.autoencoder.fit(xn, xn, batch_size=cfg.batch_size, epochs=cfg.epochs, verbose=0, shuffle=True)
        errors = self.reconstruction_error(x_val)
        self.threshold = -threshold_for_rate(-errors, cfg.reject_rate)
        return self

    def tf_reconstruction_error(self, x: tf.Tensor) -> tf.Tensor:
        """Differentiable reconstruction MSE ``float32 [N]`` of unit-power windows ``x [N, 2, L]``."""
        if self.autoencoder is None:
            raise ModelError("AutoencoderDetector is not fitted: call fit() first")
        xn = normalise_power(x)
        return tf.reduce_mean(tf.square(self.autoencoder(xn, training=False) - xn), axis=[1, 2])

    def reconstruction_error(self, x: np.ndarray) -> np.ndarray:
        """Reconstruction MSE ``float64 [N]`` (batched)."""
        x = np.asarray(x, np.float32)
        out = [
            self.tf_reconstruction_error(tf.constant(x[i : i + self.batch_size])).numpy()
            for i in range(0, len(x), self.batch_size)
        ]
        return np.concatenate(out).astype(np.float64) if out else np.zeros(0)

    def is_rejected(self, x: np.ndarray) -> np.ndarray:
        """``bool [N]``: the detector rejects the window."""
        return self.reconstruction_error(x) >= self.threshold

    def predict_with_rejection(self, x: np.ndarray) -> np.ndarray:
        """The classifier's class, or :data:`REJECT` where the detector fires (``int64 [N]``)."""
        logits = self.classifier.predict(np.asarray(x, np.float32), batch_size=self.batch_size, verbose=0)
        return np.where(self.is_rejected(x), REJECT, np.argmax(logits, axis=1)).astype(np.int64)

    def describe(self) -> dict[str, Any]:
        """JSON-able summary (config, threshold)."""
        return {"kind": "autoencoder", **self.config.model_dump(), "threshold": self.threshold}
