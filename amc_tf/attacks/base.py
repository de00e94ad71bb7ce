"""The contract every classifier attack follows (after ART's ``art/attacks/attack.py``).

* Construction takes the model and keyword settings and validates everything at once: the model
  must be an I/Q classifier with logits (design D3), the budget a :class:`~amc_tf.attacks.budgets.Budget`,
  every setting in range. Nothing is computed before validation passes.
* ``generate(x, y=None, *, snr=None) -> x_adv`` returns ``float32 [N, 2, L]`` adversarial windows.
  ``y = None`` attacks the model's own predictions (no label leaking); ``snr`` (dB labels) is
  needed when the budget is a PNR/PSR.
* Capabilities are declared as class attributes (``needs_class_gradients``, ``universal``,
  ``uses_model``), so a caller can tell what an attack needs before running it.
"""

from __future__ import annotations

import abc
import math
from typing import Any, ClassVar

import numpy as np

from amc_tf.attacks.budgets import Budget, Norm
from amc_tf.attacks.graph import MICRO_BATCH, auto_micro_batch, logits_fn, parts_for
from amc_tf.errors import AttackError, ModelError
from amc_tf.runtime import keras

_PROBABILITY_ACTIVATIONS = {"softmax", "sigmoid", "log_softmax"}


def check_classifier(model: Any, *, needs_class_gradients: bool = False) -> tuple[int, int]:
    """Refuse anything that is not an I/Q classifier with logit outputs.

    Checks the model's structure only (no forward pass): input ``[None, 2, L]``, output
    ``[None, C]`` with ``C >= 2``, and no softmax/sigmoid at the end (design D3).

    Args:
        model: The candidate model.
        needs_class_gradients: Word the error for attacks that need per-class gradients.

    Returns:
        ``(n_classes, window)``.

    Raises:
        ModelError: not a Keras model, a regressor-shaped model, or probability outputs.
    """
    if not isinstance(model, keras.Model):
        raise ModelError(f"attacks need a Keras (tf_keras) model, got {type(model).__name__}")
    in_shape = tuple(model.input_shape) if not isinstance(model.input_shape, list) else None
    out_shape = tuple(model.output_shape) if not isinstance(model.output_shape, list) else None
    need = "class gradients" if needs_class_gradients else "an I/Q classifier"
    if in_shape is None or len(in_shape) != 3 or in_shape[1] != 2 or in_shape[2] is None:
        raise ModelError(
            f"this attack needs {need}: model {model.name!r} takes input {model.input_shape}, "
            "not I/Q windows [None, 2, L] (a regressor? use amc_tf.attacks.regression)"
        )
    if out_shape is None or len(out_shape) != 2 or out_shape[1] is None or out_shape[1] < 2:
        raise ModelError(
            f"this attack needs {need}: model {model.name!r} outputs {model.output_shape}, "
            "not class logits [None, C] with C >= 2"
        )
    last = model.layers[-1]
    activation = getattr(getattr(last, "activation", None), "__name__", None)
    if isinstance(last, keras.layers.Softmax) or activation in _PROBABILITY_ACTIVATIONS:
        raise ModelError(
            f"model {model.name!r} ends in {activation or 'a Softmax layer'}: it outputs probabilities, "
            "but attacks need logits (design D3; remove the final softmax)"
        )
    return int(out_shape[1]), int(in_shape[2])


def check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    """An integer setting in ``[low, high]`` or :class:`AttackError`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise AttackError(f"{name} must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        bounds = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise AttackError(f"{name} must be {bounds}, got {value}")
    return int(value)


def check_float(name: str, value: Any, low: float, high: float | None = None, *, low_open: bool = False) -> float:
    """A finite float setting in ``[low, high]`` (``(low, high]`` if ``low_open``) or :class:`AttackError`."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise AttackError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < low or (low_open and value == low) or (high is not None and value > high):
        lo = f"> {low}" if low_open else f">= {low}"
        raise AttackError(f"{name} must be finite and {lo}{'' if high is None else f' and <= {high}'}, got {value}")
    return value


class Attack(abc.ABC):
    """Base class of the native attacks.

    Attributes:
        name: Registry name of the attack.
        norm: Norm of the perturbation ball (per instance: FGM/PGD exist in L2 and L-inf).
        needs_class_gradients: Needs per-class input gradients (DeepFool).
        universal: Produces one perturbation for all inputs.
        uses_model: Reads the model at all (False for the noise control).
        minimal: A minimal-perturbation attack (DeepFool): it runs without a budget, and its
            result under a budget is its unbounded result projected onto the ball.
    """

    name: ClassVar[str] = "attack"
    needs_class_gradients: ClassVar[bool] = False
    universal: ClassVar[bool] = False
    uses_model: ClassVar[bool] = True
    minimal: ClassVar[bool] = False

    def __init__(
        self,
        model: Any,
        *,
        budget: Budget | None,
        norm: Norm | str = Norm.L2,
        batch_size: int = 256,
        seed: int = 0,
        micro_batch: int | str | None = MICRO_BATCH,
    ):
        if not isinstance(budget, Budget) and not (budget is None and self._budget_optional()):
            raise AttackError(
                f"{type(self).__name__} needs budget=Budget.pnr(...)/psr(...)/absolute(...), got {budget!r}"
            )
        try:
            self.norm = Norm(norm)
        except ValueError:
            raise AttackError(f"norm must be one of {[n.value for n in Norm]}, got {norm!r}") from None
        self.budget = budget
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.seed = check_int("seed", seed, 0)
        if micro_batch not in (None, "auto"):
            check_int("micro_batch", micro_batch, 1)
        self.micro_batch = micro_batch
        #: Micro-batches per compiled call (:func:`amc_tf.attacks.graph.split_apply`).
        self.parts = 1
        if micro_batch is not None and model is not None and self.uses_model:
            size = auto_micro_batch(model) if micro_batch == "auto" else int(micro_batch)
            self.parts = parts_for(self.batch_size, size)
        self.model = model
        if self.uses_model or model is not None:
            self.n_classes, self.window = check_classifier(model, needs_class_gradients=self.needs_class_gradients)
        else:
            self.n_classes, self.window = 0, 0

    @classmethod
    def _budget_optional(cls) -> bool:
        return False

    # -- the contract ------------------------------------------------------------------------

    def generate(
        self, x: np.ndarray, y: np.ndarray | None = None, *, snr: np.ndarray | int | None = None
    ) -> np.ndarray:
        """Adversarial examples for ``x``.

        Args:
            x: Clean I/Q windows, ``float32 [N, 2, L]``.
            y: Integer labels ``[N]`` in ``[0, C)``; None = the model's own predictions.
            snr: Nominal SNR labels in dB, ``[N]`` or a scalar (needed by PNR/PSR budgets).

        Returns:
            ``float32 [N, 2, L]`` adversarial windows (within the budget).
        """
        x = self.check_inputs(x)
        labels = self.check_labels(y, x.shape[0])
        if self.budget is not None and self.budget.needs_snr and snr is None:
            raise AttackError(f"budget {self.budget} needs the SNR label of every example: pass snr=")
        radius = None if self.budget is None else self.resolve_radius(x, snr)
        if x.shape[0] == 0:
            return x.copy()
        if labels is None and self.uses_model:
            labels = self.predict(x)
        return self._generate(x, labels, radius)

    def resolve_radius(self, x: np.ndarray, snr: np.ndarray | int | None) -> np.ndarray:
        """Per-example radius ``float32 [N]`` of this attack's budget in its norm."""
        return self.budget.radius(x, snr, self.norm)

    @abc.abstractmethod
    def _generate(self, x: np.ndarray, y: np.ndarray | None, radius: np.ndarray | None) -> np.ndarray:
        """Attack-specific work on validated inputs; ``radius`` is ``float32 [N]`` (None = unbounded)."""

    # -- shared helpers ----------------------------------------------------------------------

    def check_inputs(self, x: Any) -> np.ndarray:
        """``x`` as ``float32 [N, 2, L]`` matching the model, finite; else :class:`AttackError`."""
        x = np.asarray(x)
        if x.ndim != 3 or x.shape[1] != 2 or (self.window and x.shape[2] != self.window):
            want = f"[N, 2, {self.window}]" if self.window else "[N, 2, L]"
            raise AttackError(f"x must be I/Q windows {want}, got shape {x.shape}")
        if not np.issubdtype(x.dtype, np.floating):
            raise AttackError(f"x must be floating point (float32), got {x.dtype}")
        x = np.ascontiguousarray(x, dtype=np.float32)
        if not np.isfinite(x).all():
            raise AttackError("x holds NaN or Inf values")
        return x

    def check_labels(self, y: Any, n: int) -> np.ndarray | None:
        """Integer labels ``int64 [n]`` in ``[0, C)``, or None; else :class:`AttackError`."""
        if y is None:
            return None
        y = np.asarray(y)
        if y.shape != (n,):
            raise AttackError(
                f"y must be integer class indices of shape [{n}], got shape {y.shape} (one-hot is not accepted)"
            )
        if not np.issubdtype(y.dtype, np.integer):
            raise AttackError(f"y must be integer class indices, got dtype {y.dtype}")
        if n and self.n_classes and (y.min() < 0 or y.max() >= self.n_classes):
            raise AttackError(f"labels must lie in [0, {self.n_classes - 1}], found [{y.min()}, {y.max()}]")
        return y.astype(np.int64)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The model's predicted classes ``int64 [N]``, batched."""
        fn = logits_fn(self.model, self.parts)
        out = [np.argmax(fn(x[i : i + self.batch_size]).numpy(), axis=1) for i in range(0, x.shape[0], self.batch_size)]
        return np.concatenate(out).astype(np.int64) if out else np.zeros(0, np.int64)

    def batches(self, n: int):
        """Start/stop index pairs of the attack's batches."""
        return [(i, min(n, i + self.batch_size)) for i in range(0, n, self.batch_size)]

    def settings(self) -> dict[str, Any]:
        """JSON-able settings of this attack (for reports)."""
        return {
            "name": self.name,
            "norm": self.norm.value,
            "budget": None if self.budget is None else str(self.budget),
            "batch_size": self.batch_size,
            "micro_batch": self.micro_batch,
        }

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.settings().items() if k != "name")
        return f"{type(self).__name__}({args})"
