"""Magnitude pruning with the TensorFlow Model Optimization toolkit (the ONLY module importing it).

Zhu & Gupta's gradual magnitude pruning as TF-MOT implements it: the chosen layers are wrapped by
``prune_low_magnitude`` with a ``PolynomialDecay`` schedule from 0 to the target sparsity, the
model is fine-tuned with the ``UpdatePruningStep`` callback (which advances the schedule and
applies the masks), and ``strip_pruning`` removes the wrappers, leaving a plain Keras model whose
pruned kernels hold exact zeros.

Two traps (design §4) are handled here: the schedule's default ``frequency=100`` leaves a short
fine-tuning run at 0 % sparsity, so masks are updated every ``frequency`` (default 1) steps and
``end_step`` is placed inside the run; and ``prune_low_magnitude`` wraps — and so prunes — the
very layer objects it is given, so the input model is cloned first and never modified.

The project's comparison prunes the same layer as Net-Trim (VT-CNN2's ``dense1``) to the sparsity
Net-Trim reached, so both methods are compared at equal sparsity.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow_model_optimization as tfmot  # noqa: E402  (after the runtime: Keras 2, D1)

from amc_tf.errors import ConfigError
from amc_tf.progress import say
from amc_tf.prune.apply import copy_model  # noqa: E402
from amc_tf.runtime import keras


def prune_magnitude(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    *,
    target_sparsity: float,
    layers: tuple[str, ...] | list[str] | None = ("dense1",),
    epochs: int = 2,
    batch_size: int = 256,
    learning_rate: float = 1e-4,
    frequency: int = 1,
    end_fraction: float = 0.5,
    validation_data: tuple[np.ndarray, np.ndarray] | None = None,
    verbose: int = 0,
) -> keras.Model:
    """Gradually prune ``layers`` of a copy of ``model`` to ``target_sparsity`` while fine-tuning.

    Args:
        model: Trained logits model (not modified).
        x: ``float32 [N, 2, L]`` fine-tuning windows.
        y: ``int64 [N]`` labels.
        target_sparsity: Final fraction of zero weights in each pruned kernel, in (0, 1).
        layers: Names of the layers to prune (None = every Dense and Conv2D layer).
        epochs: Fine-tuning epochs (≥ 1).
        batch_size: Mini-batch size.
        learning_rate: Adam learning rate for fine-tuning.
        frequency: Steps between mask updates (1 = every step).
        end_fraction: Fraction of the run after which the target sparsity is held (0, 1].
        validation_data: Optional ``(x, y)`` for Keras' validation metrics.
        verbose: Keras ``fit`` verbosity.

    Returns:
        The stripped model (plain Keras layers, exact zeros in the pruned kernels).
    """
    if not 0.0 < target_sparsity < 1.0:
        raise ConfigError(f"target_sparsity must lie in (0, 1), got {target_sparsity}")
    if epochs < 1 or batch_size < 1 or frequency < 1:
        raise ConfigError(f"epochs, batch_size and frequency must be >= 1, got {epochs}, {batch_size}, {frequency}")
    if not 0.0 < end_fraction <= 1.0:
        raise ConfigError(f"end_fraction must lie in (0, 1], got {end_fraction}")
    names = {layer.name for layer in model.layers}
    if layers is not None:
        unknown = sorted(set(layers) - names)
        if unknown:
            raise ConfigError(f"model {model.name!r} has no layer(s) {unknown}")
    steps = math.ceil(len(x) / batch_size) * epochs
    end_step = max(1, int(end_fraction * steps) - 1)
    schedule = tfmot.sparsity.keras.PolynomialDecay(
        initial_sparsity=0.0,
        final_sparsity=float(target_sparsity),
        begin_step=0,
        end_step=end_step,
        frequency=frequency,
    )

    # Wrap the layers of a private copy: prune_low_magnitude takes over the layer objects it is
    # given (and their weights), so the caller's model stays intact.
    base = copy_model(model)

    def wrap(layer):
        chosen = (
            layer.name in layers if layers is not None else isinstance(layer, (keras.layers.Dense, keras.layers.Conv2D))
        )
        return tfmot.sparsity.keras.prune_low_magnitude(layer, pruning_schedule=schedule) if chosen else layer

    wrapped = keras.models.clone_model(base, clone_function=wrap)
    wrapped.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    which = sorted(layers) if layers else "all Dense/Conv2D"
    say("tf-mot", f"pruning {which} to {target_sparsity:.4f} over {steps} steps")
    wrapped.fit(
        x,
        y,
        batch_size=batch_size,
        epochs=epochs,
        shuffle=True,
        verbose=verbose,
        validation_data=validation_data,
        callbacks=[tfmot.sparsity.keras.UpdatePruningStep()],
    )
    stripped = tfmot.sparsity.keras.strip_pruning(wrapped)
    stripped._name = f"{model.name}_tfmot"
    return stripped


def kernel_sparsity(model: keras.Model, layer_name: str) -> float:
    """Fraction of exact zeros in the kernel of ``layer_name``."""
    kernel = model.get_layer(layer_name).get_weights()[0]
    return float(np.mean(kernel == 0))
