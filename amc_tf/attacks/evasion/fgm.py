"""Fast gradient methods: FGM (L2, Miyato et al. 2016) and FGSM (L-inf, Goodfellow et al. 2015).

One step of the full radius along the steepest ascent direction of the cross-entropy:
``x + eps * g/||g||_2`` (FGM) or ``x + eps_inf * sign(g)`` (FGSM). With a PNR budget FGM's
perturbation has exactly the requested PNR, and FGSM's too wherever no gradient element is zero
(``eps_inf = eps/sqrt(2L)``, design D4); under the budget's ``same_eps`` L∞ convention
(``eps_inf = eps``, the AMC compression paper) FGSM's PNR is ``10 log10(2L)`` dB above the nominal
one (:class:`~amc_tf.attacks.budgets.LinfConvention`). Both are :class:`~amc_tf.attacks.evasion.pgd.PGD` with
one step of size 1 x radius and no random start; they have no settings of their own.
"""

from __future__ import annotations

from amc_tf.attacks.budgets import Norm
from amc_tf.attacks.evasion.pgd import PGD, Loop
from amc_tf.attacks.settings import FGMSettings, FGSMSettings


class FGM(PGD):
    """Single-step L2 attack (``norm="linf"`` gives FGSM's step); no settings beyond the run options."""

    name = "fgm"
    Settings = FGMSettings
    default_norm = Norm.L2
    norms = (Norm.L2, Norm.LINF)

    def loop(self) -> Loop:
        return Loop(steps=1, step_fraction=1.0, random_start=False, restarts=1, momentum=None)


class FGSM(FGM):
    """FGM in the L-infinity norm (sign of the gradient)."""

    name = "fgsm"
    Settings = FGSMSettings
    default_norm = Norm.LINF
    norms = (Norm.LINF,)
