"""Gaussian data augmentation at the smoothing σ (Cohen et al. 2019, §4: "train with noise").

A smoothed classifier is only as good as its base classifier is on *noisy* inputs, so the paper
trains the base classifier with the same Gaussian noise it will be certified with. Here that is a
wrapper ``keras.Model``: ``x -> GaussianNoise(σ) -> model``. The noise layer draws fresh noise for
every batch and is active only in training, so :func:`amc_tf.training.fit.fit_classifier` trains
the wrapped model's own weights (the wrapper shares them) while validation and early stopping see
clean windows, as Cohen et al. validate. The same recipe by hand::

    wrapper = noisy_model(model, sigma=resolve_sigma(cfg, train.x), seed=0)
    fit_classifier(wrapper, train, val, train_cfg)   # trains `model` in place
"""

from __future__ import annotations

from pathlib import Path

from amc_tf.config.certify import SmoothingConfig
from amc_tf.config.train import TrainConfig
from amc_tf.data.dataset import IQDataset
from amc_tf.defenses.smoothing_noise import resolve_sigma
from amc_tf.errors import ConfigError
from amc_tf.progress import say
from amc_tf.runtime import keras, set_seed
from amc_tf.training.fit import TrainResult, fit_classifier


def noisy_model(model: keras.Model, sigma: float, *, seed: int) -> keras.Model:
    """``model`` behind a training-only ``GaussianNoise(sigma)`` layer (shared weights).

    Args:
        model: Classifier ``float32 [N, 2, L] -> logits [N, C]``.
        sigma: Noise standard deviation per real component (input units, > 0).
        seed: Seed of the noise layer.

    Returns:
        A new ``keras.Model`` with the same input and output shapes; training it trains ``model``.
    """
    if not sigma > 0:
        raise ConfigError(f"Gaussian augmentation needs sigma > 0 (input units), got {sigma}")
    inputs = keras.Input(model.input_shape[1:], name="iq")
    noisy = keras.layers.GaussianNoise(float(sigma), seed=int(seed), name="smoothing_noise")(inputs)
    return keras.Model(inputs, model(noisy), name=f"{model.name}_gaussian_aug")


def train_with_gaussian_noise(
    model: keras.Model,
    train: IQDataset,
    val: IQDataset | None,
    train_cfg: TrainConfig,
    sigma: float | SmoothingConfig,
    *,
    seed: int,
    checkpoint_dir: str | Path | None = None,
) -> TrainResult:
    """Train ``model`` in place on ``train`` with Gaussian noise of σ added to every batch.

    Args:
        model: Classifier with logits (trained in place).
        train: Training windows.
        val: Validation windows (clean), for early stopping.
        train_cfg: The usual training recipe (:class:`~amc_tf.config.train.TrainConfig`).
        sigma: Absolute σ (input units), or a :class:`~amc_tf.config.certify.SmoothingConfig`
            whose σ is resolved on ``train.x`` (a dB σ relative to the training set's mean power,
            or its ``reference_power``); certify with the same config to match.
        seed: Seeds TensorFlow, Keras and the noise layer.
        checkpoint_dir: Passed to :func:`~amc_tf.training.fit.fit_classifier` (resume).

    Returns:
        The training result of the wrapper (history on clean validation data).
    """
    if isinstance(sigma, SmoothingConfig):
        value = resolve_sigma(sigma, train.x)
    else:
        value = float(sigma)
    set_seed(seed)
    say("train", f"{model.name}: Gaussian augmentation with sigma {value:.4g} (input units) per batch")
    return fit_classifier(noisy_model(model, value, seed=seed), train, val, train_cfg, checkpoint_dir=checkpoint_dir)


__all__ = ["noisy_model", "train_with_gaussian_noise"]
