"""Knowledge distillation: Hinton (soft targets at temperature T) and response-based (RML2018)."""

from amc_tf.distill.hinton import Distiller, distillation_kl
from amc_tf.distill.response import ResponseDistiller

#: Distillation methods by config name.
DISTILLERS = {"hinton": Distiller, "response": ResponseDistiller}

__all__ = ["DISTILLERS", "Distiller", "ResponseDistiller", "distillation_kl"]
