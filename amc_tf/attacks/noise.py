"""Random noise of the same power: the non-adversarial controls of every robustness curve.

Sadeghi & Larsson compare their attacks with Gaussian "jamming" at the same power (references
§6). ``noise_gaussian``: a white Gaussian draw rescaled to exactly the example's L2 radius (so its
PNR equals the budget); ``noise_sign``: a random ±``eps_inf`` pattern, the random counterpart of
FGSM with the same L-inf radius and energy. An attack that lowers accuracy no more than this noise
is not an attack. Both are controls (``control = True``): left out of the worst case.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from amc_tf.attacks.base import Attack
from amc_tf.attacks.budgets import Budget, Norm
from amc_tf.attacks.settings import GaussianNoiseSettings, SignNoiseSettings
from amc_tf.runtime import rng as make_rng


class RandomNoise(Attack):
    """Noise at the budget's power; the model is optional (when given, its window is checked).

    ``seed`` seeds the draws (same seed and input, same output); ``batch_size`` and
    ``micro_batch`` are unused (no model calls).
    """

    uses_model = False
    control = True
    #: ``"gaussian"`` (L2 radius) or ``"sign"`` (L-inf radius).
    kind: ClassVar[str]

    def __init__(self, model: Any = None, *, budget: Budget, **settings: Any):
        super().__init__(model, budget=budget, **settings)

    def _generate(self, x: np.ndarray, y: np.ndarray | None, radius: np.ndarray) -> np.ndarray:
        generator = make_rng(self.seed)
        r = radius.astype(np.float64).reshape(-1, 1, 1)
        if self.kind == "sign":
            delta = np.where(generator.random(x.shape) < 0.5, -1.0, 1.0) * r
        else:
            g = generator.standard_normal(x.shape)
            delta = g / np.maximum(np.linalg.norm(g.reshape(x.shape[0], -1), axis=1), 1e-30).reshape(-1, 1, 1) * r
        return (x + delta).astype(np.float32)

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "kind": self.kind}


class GaussianNoise(RandomNoise):
    """White Gaussian noise rescaled to the example's L2 radius."""

    name = "noise_gaussian"
    Settings = GaussianNoiseSettings
    kind = "gaussian"


class SignNoise(RandomNoise):
    """A random ±``eps_inf`` pattern (the L-inf radius)."""

    name = "noise_sign"
    Settings = SignNoiseSettings
    kind = "sign"
    default_norm = Norm.LINF
    norms = (Norm.LINF,)
