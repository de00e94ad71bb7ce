"""MI-FGSM: momentum iterative FGSM (Dong et al., CVPR 2018; references §9).

``I`` iterations of step ``eps/I``; the update direction is that of the accumulated gradient
``g_t = mu g_{t-1} + grad/||grad||_1`` (L1-normalised per example), then projection onto the
ball — :class:`~amc_tf.attacks.pgd.PGD` with momentum, no random start, one restart. ART's
``MomentumIterativeMethod`` has no TensorFlow path (it raises, ART issue #2439), which is why
this attack exists natively only.
"""

from __future__ import annotations

from typing import Any

from amc_tf.attacks.base import Attack, check_float, check_int
from amc_tf.attacks.budgets import Budget, Norm
from amc_tf.attacks.graph import MICRO_BATCH
from amc_tf.attacks.pgd import PGD


class MIFGSM(PGD):
    """Momentum iterative attack (L-inf by default; ``norm="l2"`` steps along ``g/||g||_2``).

    Args:
        model: I/Q classifier with logits.
        budget: The threat, resolved per example by :mod:`~amc_tf.attacks.budgets`.
        norm: ``"linf"`` (the paper's) or ``"l2"``.
        iterations: ``I``, number of iterations (10 in the authors' code).
        mu: Decay of the accumulated gradient (1.0 in the paper).
        batch_size: Examples per compiled call.
        seed: Unused (deterministic); kept for a uniform constructor.
        micro_batch: ``"auto"``, examples per micro-batch, or None (whole batch); see :class:`~amc_tf.attacks.pgd.PGD`.
    """

    name = "mifgsm"

    def __init__(
        self,
        model: Any,
        *,
        budget: Budget,
        norm: Norm | str = Norm.LINF,
        iterations: int = 10,
        mu: float = 1.0,
        batch_size: int = 256,
        seed: int = 0,
        micro_batch: int | str | None = MICRO_BATCH,
    ):
        iterations = check_int("iterations", iterations, 1, 10_000)
        self.momentum = check_float("mu", mu, 0.0, 100.0)
        super().__init__(
            model,
            budget=budget,
            norm=norm,
            steps=iterations,
            step_fraction=1.0 / iterations,
            random_start=False,
            restarts=1,
            batch_size=batch_size,
            seed=seed,
            micro_batch=micro_batch,
        )

    def settings(self) -> dict[str, Any]:
        return {**Attack.settings(self), "iterations": self.steps, "mu": self.momentum}
