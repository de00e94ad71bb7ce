"""What a cell attack maximises, as compiled forward and gradient functions of one model.

* ``total_power`` — the cell's predicted total ``Σ_k ρ̂_jk`` (its sum output): the infeasibility
  attack of Manoj, Sadeghi & Larsson (ICC 2021, Algorithms 1–2), used for the success rates.
* ``regression_loss`` — the untargeted FGSM of Goodfellow et al. on the regression: the squared
  error ``Σ_k (ρ̂_jk − ρ_jk)²`` to the optimal powers ``ρ`` (mW²). It degrades the allocation
  itself rather than its total, which is what the sum-SE figure needs: the total-power attack only
  raises the totals, and since the max-product optimum spends the whole budget and the DNNs
  under-spend it, more power *raises* the sum SE (``README``, sum-SE view).

Gradients are taken in the attack coordinates of an :class:`~amc_tf.mimo.attack_space.InputSpace`
by differentiating through its inverse map. One compiled pair per (model, space, objective) is
cached and shared by every attack object (sweeps build many attacks on the same model, and
retracing a ``tf.function`` for each would dominate).
"""

from __future__ import annotations

import weakref
from typing import Any

from amc_tf.config.mimo import AttackObjective, EpsUnit
from amc_tf.errors import AttackError
from amc_tf.mimo.attack_space import InputSpace
from amc_tf.runtime import tf

_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def attack_objective(value: AttackObjective | str) -> AttackObjective:
    """Resolve an objective name; unknown names raise :class:`AttackError`."""
    try:
        return AttackObjective(value)
    except ValueError:
        raise AttackError(f"unknown attack objective {value!r}; known: {[o.value for o in AttackObjective]}") from None


def compiled(model: Any, space: InputSpace | None = None, objective: AttackObjective = AttackObjective.TOTAL_POWER):
    """``(forward, gradient)`` tf.functions of ``model``.

    ``forward(x)``: ``float32 [n, F]`` metres → outputs ``[n, K + 1]``. ``gradient(c, y)``:
    ``∇_c`` of the objective summed over the batch, ``float32 [n, F]`` in the coordinates of
    ``space`` (metres by default); ``y`` is ``float32 [n, K]`` optimal powers in mW (ignored by
    ``total_power``).
    """
    space = space or InputSpace(EpsUnit.METRES)
    objective = attack_objective(objective)
    cache = _COMPILED.setdefault(model, {})
    key = (*space.key, objective.value)
    if key not in cache:
        n_features, n_out = model.input_shape[1], model.output_shape[1]

        def forward(x):
            return model(x, training=False)

        def gradient(c, y):
            with tf.GradientTape() as tape:
                tape.watch(c)
                out = model(space.decode_tf(c), training=False)
                if objective is AttackObjective.TOTAL_POWER:
                    value = tf.reduce_sum(out[:, -1])
                else:
                    value = tf.reduce_sum(tf.square(out[:, : n_out - 1] - y))
            return tape.gradient(value, c)

        x_spec = tf.TensorSpec([None, n_features], tf.float32)
        y_spec = tf.TensorSpec([None, n_out - 1], tf.float32)
        cache[key] = (
            tf.function(forward, input_signature=[x_spec]),
            tf.function(gradient, input_signature=[x_spec, y_spec]),
        )
    return cache[key]
