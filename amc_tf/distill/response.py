"""Response-based distillation on RML2018-style data (the third compression paper).

The paper's loss weights the *hard-label* term by ``alpha``:

    L = alpha · CE(y, student) + (1 − alpha) · KL(p_T(teacher) ‖ p_T(student)) · T²

with alpha = 0.35 and T = 1 (the T² factor is then 1, kept for generality; see
:mod:`amc_tf.distill.hinton` for why it is there). Teacher: the IBCNN; student: the simplified
SBCNN (:mod:`amc_tf.models.sbcnn`); recipe Adam 1e-3, batch 64, 20 epochs, best weights by
validation accuracy; the same student trained from scratch is the baseline.

The class only swaps the weights of :class:`~amc_tf.distill.hinton.Distiller`; the training step,
frozen teacher, metrics and saving are shared.
"""

from __future__ import annotations

from typing import Any

from amc_tf.distill.hinton import Distiller
from amc_tf.runtime import keras


@keras.utils.register_keras_serializable(package="amc_tf")
class ResponseDistiller(Distiller):
    """Student + frozen teacher trained with ``alpha · CE + (1 − alpha) · T²·KL``.

    Args:
        student: Logits model to train (simplified SBCNN in the paper).
        teacher: Trained logits model (IBCNN in the paper); frozen here.
        alpha: Weight of the cross-entropy term, in [0, 1] (paper: 0.35).
        temperature: Softening temperature T > 0 (paper: 1).
        scale_t2: Multiply the KL term by T² (the paper's form; default on).
    """

    def __init__(
        self,
        student: keras.Model,
        teacher: keras.Model,
        alpha: float = 0.35,
        temperature: float = 1.0,
        scale_t2: bool = True,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("name", "response_distiller")
        super().__init__(student, teacher, alpha=alpha, temperature=temperature, scale_t2=scale_t2, **kwargs)

    @property
    def distill_weight(self) -> float:
        return 1.0 - self.alpha

    @property
    def ce_weight(self) -> float:
        return self.alpha
