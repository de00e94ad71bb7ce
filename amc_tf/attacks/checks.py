"""Sanity checks before trusting a robust accuracy (after AutoAttack's ``checks.py``).

Gradient attacks report optimistic numbers on a model whose outputs are probabilities (the
softmax saturates, design D3) or whose input gradients vanish (saturated or masked gradients);
these checks look for both on a batch of real examples and return human-readable warnings.
"""

from __future__ import annotations

import numpy as np

from amc_tf.attacks.compiled import loss_gradient_fn
from amc_tf.runtime import keras


def sanity_checks(model: keras.Model, x: np.ndarray, y: np.ndarray, n_classes: int, batch_size: int) -> list[str]:
    """Warnings about ``model`` on up to ``batch_size`` examples ``x`` (``float32 [N, 2, L]``), labels ``y``.

    * outputs that look like probabilities (non-negative rows summing to 1) — gradient attacks on
      a softmax output are weak and the numbers optimistic (design D3);
    * examples whose loss gradient is exactly zero or not finite (saturated softmax, gradient
      masking): gradient attacks cannot move them.
    """
    notes = []
    grad_fn = loss_gradient_fn(model, n_classes)
    m = min(x.shape[0], batch_size)
    _, grad, logits = grad_fn(x[:m], y[:m].astype(np.int64))
    logits, grad = logits.numpy(), grad.numpy()
    if np.all(logits >= 0) and np.allclose(logits.sum(axis=1), 1.0, atol=1e-3):
        notes.append(
            "model outputs look like probabilities (rows are non-negative and sum to 1); "
            "attacks need logits (design D3)"
        )
    flat = grad.reshape(m, -1)
    bad = ~np.isfinite(flat).all(axis=1)
    zero = np.all(flat == 0, axis=1) & ~bad
    if bad.any():
        notes.append(f"loss gradient is NaN/Inf for {int(bad.sum())} of {m} examples")
    if zero.mean() > 0.05:
        notes.append(
            f"loss gradient vanishes (exactly zero) for {int(zero.sum())} of {m} examples: "
            "gradient attacks cannot move them (saturated or masked gradients)"
        )
    return notes
