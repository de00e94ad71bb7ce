"""Random noise of the same power: the non-adversarial control of every robustness curve.

Sadeghi & Larsson compare their attacks with Gaussian "jamming" at the same power (references
§6). ``kind="gaussian"``: a white Gaussian draw rescaled to exactly the example's L2 radius
(so its PNR equals the budget); ``kind="sign"``: a random ±``eps_inf`` pattern, the random
counterpart of FGSM with the same L-inf radius and energy. An attack that lowers accuracy no
more than this noise is not an attack.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from amc_tf.attacks.base import Attack
from amc_tf.attacks.budgets import Budget, Norm
from amc_tf.errors import AttackError
from amc_tf.runtime import rng as make_rng

NoiseKind = Literal["gaussian", "sign"]


class RandomNoise(Attack):
    """Gaussian (L2 radius) or random-sign (L-inf radius) noise at the budget's power.

    Args:
        model: Optional; when given it must be an I/Q classifier (its window is checked).
        budget: The power, resolved per example by :mod:`~amc_tf.attacks.budgets`.
        kind: ``"gaussian"`` or ``"sign"``.
        batch_size: Unused (no model calls); kept for a uniform constructor.
        seed: Seed of the draws (same seed and input, same output).
        micro_batch: Unused; kept for a uniform constructor.
    """

    name = "noise"
    uses_model = False

    def __init__(
        self,
        model: Any = None,
        *,
        budget: Budget,
        kind: NoiseKind = "gaussian",
        batch_size: int = 256,
        seed: int = 0,
        micro_batch: int | None = None,
    ):
        if kind not in ("gaussian", "sign"):
            raise AttackError(f"noise kind must be 'gaussian' or 'sign', got {kind!r}")
        self.kind = kind
        norm = Norm.L2 if kind == "gaussian" else Norm.LINF
        super().__init__(model, budget=budget, norm=norm, batch_size=batch_size, seed=seed, micro_batch=micro_batch)

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
        return {**super().settings(), "kind": self.kind, "seed": self.seed}
