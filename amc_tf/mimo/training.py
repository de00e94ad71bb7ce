"""Training of one per-cell power regressor (relative MSE, Adam, early stopping).

One model per (architecture, precoder, cell): input the 2·L·K UE coordinates in metres, output
cell j's K powers and their sum (:mod:`amc_tf.models.mimo_dnn`). Training follows the original
code (references §8.1): relative-MSE loss, Adam, early stopping on the validation loss (best
weights restored), with inputs standardised by training statistics (the original z-scored its
test file with the test statistics; we do not). Model sets on disk: :mod:`amc_tf.mimo.model_sets`.
"""

from __future__ import annotations

import numpy as np

from amc_tf.config.mimo import MimoTrainConfig
from amc_tf.errors import ConfigError, DatasetError, ModelError
from amc_tf.models.mimo_arch import Arch
from amc_tf.models.mimo_dnn import build_power_model, relative_mse, to_decibel
from amc_tf.runtime import keras, set_seed


def split_indices(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded train/validation split of ``n`` setups; returns ``(train_idx, val_idx)``."""
    if not 0 < val_fraction < 1:
        raise ConfigError(f"val_fraction must lie in (0, 1), got {val_fraction}")
    n_val = max(1, int(round(n * val_fraction)))
    if n - n_val < 1:
        raise DatasetError(f"{n} setups are too few to hold out {n_val} for validation")
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def train_cell_model(
    arch: Arch | str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    config: MimoTrainConfig,
    *,
    seed: int = 0,
    init_from: keras.Model | None = None,
    input_transform: str | None = None,
    verbose: int = 0,
) -> tuple[keras.Model, dict]:
    """Train one regressor with early stopping on ``(x_val, y_val)``.

    Args:
        arch: ``M1`` or ``M2``.
        x_train: ``float32 [N, F]`` positions in metres; ``y_train`` ``float32 [N, K + 1]`` mW.
        x_val, y_val: Validation set (clean, or adversarial for adversarial training).
        config: Epochs, batch size, learning rate, patience.
        seed: Seeds initialisation and shuffling.
        init_from: Start from this model's weights (same architecture) instead of a fresh init.
        input_transform: ``linear`` or ``db`` (default: ``config.input_transform`` when it is one
            value for every precoder, else ``linear``).
        verbose: Keras verbosity.

    Returns:
        ``(model, history)``: the model with its best validation weights, and
        ``{"loss": [...], "val_loss": [...], "epochs": n, "best_val_loss": v}``.
    """
    for name, arr in (("x_train", x_train), ("y_train", y_train), ("x_val", x_val), ("y_val", y_val)):
        if not np.isfinite(arr).all():
            raise DatasetError(f"{name} holds non-finite values")
    if (y_train <= 0).any() or (y_val <= 0).any():
        raise DatasetError("targets must be positive powers (the relative-MSE loss divides by them)")
    set_seed(seed)
    transform = input_transform or (config.input_transform if isinstance(config.input_transform, str) else "linear")
    feats = to_decibel(x_train) if transform == "db" else x_train
    mean, std = feats.mean(axis=0), feats.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    model = build_power_model(
        arch,
        mean,
        std,
        n_features=x_train.shape[1],
        n_users=y_train.shape[1] - 1,
        input_transform=transform,
        seed=seed,
    )
    if init_from is not None:
        if init_from.count_params() != model.count_params():
            raise ModelError("init_from must have the same architecture")
        model.set_weights(init_from.get_weights())
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss=relative_mse,
        metrics=[keras.metrics.RootMeanSquaredError(name="rmse")],
    )
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience, restore_best_weights=True)
    hist = model.fit(
        x_train,
        y_train,
        validation_data=(x_val, y_val),
        epochs=config.epochs,
        batch_size=config.batch_size,
        callbacks=[stop],
        shuffle=True,
        verbose=verbose,
    )
    losses = {k: [float(v) for v in hist.history[k]] for k in ("loss", "val_loss")}
    return model, {**losses, "epochs": len(losses["loss"]), "best_val_loss": float(min(losses["val_loss"]))}
