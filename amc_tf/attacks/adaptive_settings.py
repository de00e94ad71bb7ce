"""Settings of the adaptive attacks and the rejection contract, without TensorFlow.

:mod:`amc_tf.attacks.adaptive` runs the attacks; this module only declares what they take, so a
config (:mod:`amc_tf.config.rejection`) validates before TensorFlow is imported and the attacks
package need not import the config package (which imports it: that would be a cycle).

``REJECT`` (-1) is the class index a run-time rejector returns for a rejected window (design D10);
the defences, the attacks and the metric all read it from here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from amc_tf.schema import Frozen

#: Label a rejector's ``predict_with_rejection`` returns for a rejected example.
REJECT = -1


class AdaptiveAttackConfig(Frozen):
    """PGD-L2 through a rejector (:mod:`amc_tf.attacks.adaptive`), and its non-adaptive twin.

    Attributes:
        steps: Gradient steps per example (upper bound; the stop rule may end it earlier).
        step_fraction: Each L2 step is ``step_fraction x eps`` of that example's radius.
        tolerance: The stop tolerance ``t`` in score units: an example stops once its objective
            changes by at most ``t`` between two consecutive steps (stalled), or once it escapes
            (misclassified and accepted). 0 disables the stall rule.
        norm: The perturbation ball; only ``l2`` (the PNR budget is an L2 energy).
        detector_objective: How the detector-aware attack on the two-fold defence combines its two
            terms. ``alternate`` (the default, the issue's description): the classifier's margin
            while the window is classified correctly, then the detector's excess error while it
            is rejected. ``joint``: both at once, ``max(margin, 0) + detector_weight x
            max(excess, 0)``, so the classifier step also pays for leaving the detector's
            manifold (Carlini & Wagner's combined loss for bypassing detectors).
        detector_weight: The weight of the detector term in ``joint`` (reconstruction-MSE units
            against logit units).
    """

    steps: int = Field(default=40, ge=1, le=10_000)
    step_fraction: float = Field(default=0.1, gt=0, le=10)
    tolerance: float = Field(default=1e-6, ge=0, allow_inf_nan=False)
    norm: Literal["l2"] = "l2"
    detector_objective: Literal["alternate", "joint"] = "alternate"
    detector_weight: float = Field(default=10.0, gt=0, allow_inf_nan=False)
