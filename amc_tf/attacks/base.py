"""The contract every classifier attack follows (after ART's ``art/attacks/attack.py``).

* An attack class declares its registry ``name`` and its settings model ``Settings`` (a frozen
  pydantic model with a ``name`` literal and every setting's default and range) once; the
  constructor validates the keyword settings by building that model, so a bad value raises
  :class:`~amc_tf.errors.AttackError` naming it before anything is computed, and the config
  schema of the robustness evaluation is the union of the same models
  (:mod:`amc_tf.attacks.registry`).
* The model must be an I/Q classifier with logits (design D3), the budget a
  :class:`~amc_tf.attacks.budgets.Budget`.
* ``generate(x, y=None, *, snr=None) -> x_adv`` returns ``float32 [N, 2, L]`` adversarial windows.
  ``y = None`` attacks the model's own predictions (no label leaking); ``snr`` (dB labels) is
  needed when the budget is a PNR/PSR.
* Capabilities are class attributes (``needs_class_gradients``, ``universal``, ``uses_model``,
  ``minimal``, ``control``), so a caller can tell what an attack needs before running it.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar, TypeVar

import numpy as np
from pydantic import ValidationError

from amc_tf.attacks.budgets import Budget, Norm
from amc_tf.attacks.compiled import auto_micro_batch, logits_fn, parts_for
from amc_tf.attacks.settings import AttackSettings, RunOptions
from amc_tf.errors import AttackError, ModelError
from amc_tf.models.inference import predict_classes
from amc_tf.runtime import keras
from amc_tf.schema import Frozen

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
            "not I/Q windows [None, 2, L] (a regressor? the massive-MIMO attacks live in amc_tf.mimo)"
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


M = TypeVar("M", bound=Frozen)


def validate_settings(model: type[M], values: dict[str, Any], what: str) -> M:
    """``model(**values)`` or :class:`AttackError` naming each bad or unknown setting of ``what``."""
    plain = {k: v.item() if isinstance(v, np.generic) else v for k, v in values.items()}
    try:
        return model(**plain)
    except ValidationError as err:
        known = sorted(k for k in model.model_fields if k != "name")
        problems = []
        for item in err.errors():
            field = ".".join(str(p) for p in item["loc"])
            if item["type"] == "extra_forbidden":
                problems.append(f"unknown setting {field!r} (known: {', '.join(known) or 'none'})")
            elif field:
                problems.append(f"{field}={plain.get(item['loc'][0], item.get('input'))!r}: {item['msg']}")
            else:
                problems.append(item["msg"].removeprefix("Value error, "))
        raise AttackError(f"bad settings for {what}: " + "; ".join(problems)) from None


class Attack(abc.ABC):
    """Base class of the native attacks.

    Construction: ``Attack(model, *, budget, norm=None, batch_size=256, seed=0, micro_batch="auto",
    **settings)``; ``settings`` are the fields of :attr:`Settings`, the run options those of
    :class:`RunOptions`, and ``norm`` (None = :attr:`default_norm`) must be one of :attr:`norms`.

    Attributes:
        name: Registry name of the attack.
        Settings: Its settings model (defaults and ranges of every setting).
        default_norm: Norm of the perturbation ball unless the caller picks another of ``norms``.
        norms: Norms the attack can work in.
        needs_class_gradients: Needs per-class input gradients (DeepFool).
        universal: Produces one perturbation for all inputs.
        uses_model: Reads the model at all (False for the noise controls).
        minimal: A minimal-perturbation attack (DeepFool): it runs without a budget, and its
            result under a budget is its unbounded result projected onto the ball.
        control: Not adversarial (random noise): left out of the worst case.
        spec: The validated settings of this instance.
    """

    name: ClassVar[str] = "attack"
    Settings: ClassVar[type[AttackSettings]] = AttackSettings
    default_norm: ClassVar[Norm] = Norm.L2
    norms: ClassVar[tuple[Norm, ...]] = (Norm.L2,)
    needs_class_gradients: ClassVar[bool] = False
    universal: ClassVar[bool] = False
    uses_model: ClassVar[bool] = True
    minimal: ClassVar[bool] = False
    control: ClassVar[bool] = False

    def __init__(self, model: Any, *, budget: Budget | None, norm: Norm | str | None = None, **settings: Any):
        if not isinstance(budget, Budget) and not (budget is None and self._budget_optional()):
            raise AttackError(
                f"{type(self).__name__} needs budget=Budget.pnr(...)/psr(...)/absolute(...), got {budget!r}"
            )
        self.norm = self._choose_norm(norm)
        self.budget = budget
        run = validate_settings(
            RunOptions, {k: settings.pop(k) for k in RunOptions.model_fields if k in settings}, self.name
        )
        self.spec = validate_settings(self.Settings, {"name": self.name, **settings}, self.name)
        self.batch_size, self.seed, self.micro_batch = run.batch_size, run.seed, run.micro_batch
        #: Micro-batches per compiled call (:func:`amc_tf.attacks.compiled.split_apply`).
        self.parts = 1
        if self.micro_batch is not None and model is not None and self.uses_model:
            size = auto_micro_batch(model) if self.micro_batch == "auto" else int(self.micro_batch)
            self.parts = parts_for(self.batch_size, size)
        self.model = model
        if self.uses_model or model is not None:
            self.n_classes, self.window = check_classifier(model, needs_class_gradients=self.needs_class_gradients)
        else:
            self.n_classes, self.window = 0, 0

    def _choose_norm(self, norm: Norm | str | None) -> Norm:
        if norm is None:
            return self.default_norm
        try:
            chosen = Norm(norm)
        except ValueError:
            raise AttackError(f"norm must be one of {[n.value for n in Norm]}, got {norm!r}") from None
        if chosen not in self.norms:
            raise AttackError(f"{self.name} works in {[n.value for n in self.norms]}, not {chosen.value}")
        return chosen

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
        """The model's predicted classes ``int64 [N]``, batched through the compiled logits."""
        return predict_classes(logits_fn(self.model, self.parts), x, self.batch_size)

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
            "seed": self.seed,
            **self.spec.model_dump(exclude={"name"}),
        }

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.settings().items() if k != "name")
        return f"{type(self).__name__}({args})"
