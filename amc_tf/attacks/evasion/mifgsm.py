"""MI-FGSM: momentum iterative FGSM (Dong et al., CVPR 2018; references §9).

``I`` iterations of step ``eps/I``; the update direction is that of the accumulated gradient
``g_t = mu g_{t-1} + grad/||grad||_1`` (L1-normalised per example), then projection onto the
ball — :class:`~amc_tf.attacks.evasion.pgd.PGD` with momentum, no random start, one restart. It
has no ART baseline: ART's ``MomentumIterativeMethod`` raises on TensorFlow (ART issue #2439).
"""

from __future__ import annotations

from amc_tf.attacks.budgets import Norm
from amc_tf.attacks.evasion.pgd import PGD, Loop
from amc_tf.attacks.settings import MIFGSMSettings


class MIFGSM(PGD):
    """Momentum iterative attack (L-inf by default; ``norm="l2"`` steps along ``g/||g||_2``)."""

    name = "mifgsm"
    Settings = MIFGSMSettings
    default_norm = Norm.LINF
    norms = (Norm.LINF, Norm.L2)

    def loop(self) -> Loop:
        s = self.spec
        return Loop(steps=s.iterations, step_fraction=1.0 / s.iterations, random_start=False, restarts=1, momentum=s.mu)
