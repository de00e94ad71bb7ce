"""Fast gradient methods: FGM (L2, Miyato et al. 2016) and FGSM (L-inf, Goodfellow et al. 2015).

One step of the full radius along the steepest ascent direction of the cross-entropy:
``x + eps * g/||g||_2`` (FGM) or ``x + eps_inf * sign(g)`` (FGSM). With a PNR budget FGM's
perturbation has exactly the requested PNR, and FGSM's too wherever no gradient element is zero
(``eps_inf = eps/sqrt(2L)``, design D4). Both are :class:`~amc_tf.attacks.pgd.PGD` with one step
of size 1 x radius and no random start.
"""

from __future__ import annotations

from typing import Any

from amc_tf.attacks.base import Attack
from amc_tf.attacks.budgets import Budget, Norm
from amc_tf.attacks.graph import MICRO_BATCH
from amc_tf.attacks.pgd import PGD


class FGM(PGD):
    """Single-step L2 attack (``norm="linf"`` gives FGSM).

    Args:
        model: I/Q classifier with logits.
        budget: The threat, resolved per example by :mod:`~amc_tf.attacks.budgets`.
        norm: ``"l2"`` (FGM) or ``"linf"`` (FGSM).
        batch_size: Examples per compiled call.
        seed: Unused (the attack is deterministic); kept for a uniform constructor.
        micro_batch: ``"auto"``, examples per micro-batch, or None (whole batch); see :class:`~amc_tf.attacks.pgd.PGD`.
    """

    name = "fgm"

    def __init__(
        self,
        model: Any,
        *,
        budget: Budget,
        norm: Norm | str = Norm.L2,
        batch_size: int = 256,
        seed: int = 0,
        micro_batch: int | str | None = MICRO_BATCH,
    ):
        super().__init__(
            model,
            budget=budget,
            norm=norm,
            steps=1,
            step_fraction=1.0,
            random_start=False,
            restarts=1,
            batch_size=batch_size,
            seed=seed,
            micro_batch=micro_batch,
        )

    def settings(self) -> dict[str, Any]:
        return {**Attack.settings(self)}


class FGSM(FGM):
    """FGM in the L-infinity norm (sign of the gradient)."""

    name = "fgsm"

    def __init__(
        self,
        model: Any,
        *,
        budget: Budget,
        batch_size: int = 256,
        seed: int = 0,
        micro_batch: int | str | None = MICRO_BATCH,
    ):
        super().__init__(
            model, budget=budget, norm=Norm.LINF, batch_size=batch_size, seed=seed, micro_batch=micro_batch
        )
