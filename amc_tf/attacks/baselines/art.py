"""The same threat through ART 1.20: the baselines the native attacks are measured against.

This is the only module that imports the Adversarial Robustness Toolbox (style habit 10), and only
when a baseline is built. Each baseline class names the native attack it is the ``twin`` of and
takes its settings from the twin's spec (:meth:`ArtTwin.settings_from`), so a comparison is
like for like. The model is wrapped in ART's ``TensorFlowV2Classifier`` with
``CategoricalCrossentropy(from_logits=True)`` and no ``clip_values`` (I/Q has no box; ART's
``KerasClassifier`` is graph-mode only, design D1); budgets are resolved by
:mod:`amc_tf.attacks.budgets` exactly as for the native attacks and passed to ART as per-example
``eps`` / ``eps_step`` arrays ``[N, 1, 1]``. ART draws its randomness from the global
``numpy.random`` / ``random`` state, which is seeded from ``seed`` before every call. ART's
DeepFool always gets ``nb_grads = nb_classes``: with a class subset ART 1.20.1 indexes the logits
by position in the subset and returns some examples unchanged (docs/notes/art-deepfool-nb-grads.md).
MI-FGSM has no twin here: ART's ``MomentumIterativeMethod`` raises on TensorFlow (ART issue #2439).

Baselines (twin in brackets): ``fgm``, ``fgsm`` — ``FastGradientMethod(norm=2 / inf)`` [same
name]; ``pgd_l2``, ``pgd_linf`` — ``ProjectedGradientDescent`` (its TensorFlow-v2 path) [same
name]; ``deepfool`` — ``DeepFool(epsilon=overshoot, nb_grads=C)``, projected onto the budget
afterwards [``deepfool``]; ``uap`` — ``UniversalPerturbation(attacker="deepfool", norm=2)``
[``uap_iterative``].
"""

from __future__ import annotations

import functools
import logging
import random
import warnings
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from amc_tf.attacks.base import Attack, AttackSettings
from amc_tf.attacks.budgets import Budget, Norm, project
from amc_tf.attacks.settings import (
    NO_ART_TWIN,
    ArtPGDSettings,
    ArtUniversalSettings,
    DeepFoolSettings,
    FGMSettings,
    FGSMSettings,
)
from amc_tf.attacks.universal.base import UniversalAttack
from amc_tf.errors import AttackError
from amc_tf.runtime import keras


@functools.cache
def _art() -> dict[str, Any]:
    """ART's classes by name, imported on first use (its import warnings about missing backends silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from art.attacks import evasion
        from art.estimators.classification import TensorFlowV2Classifier

    logging.getLogger("art").setLevel(logging.ERROR)  # e.g. DeepFool warns that clip_values is None, as intended
    names = ("DeepFool", "FastGradientMethod", "ProjectedGradientDescent", "UniversalPerturbation")
    return {**{n: getattr(evasion, n) for n in names}, "TensorFlowV2Classifier": TensorFlowV2Classifier}


def art_deepfool_nb_grads(n_classes: int) -> int:
    """``nb_grads`` for ART's DeepFool: every class (a subset mis-indexes the logits; module docstring)."""
    return n_classes


def art_classifier(model: keras.Model, n_classes: int) -> Any:
    """Wrap a logits model ``[N, 2, L] -> [N, C]`` in ART's ``TensorFlowV2Classifier``."""
    return _art()["TensorFlowV2Classifier"](
        model=model,
        nb_classes=n_classes,
        input_shape=tuple(model.input_shape[1:]),
        loss_object=keras.losses.CategoricalCrossentropy(from_logits=True),
        clip_values=None,
    )


def _seed_art(seed: int) -> None:
    np.random.seed(seed % 2**32)
    random.seed(seed)


class ArtTwin:
    """What every ART baseline declares: the native attack it is the ``twin`` of, and how its
    settings follow from the twin's spec."""

    twin: ClassVar[str]

    @classmethod
    def twin_spec(cls, spec: AttackSettings) -> AttackSettings:
        """The twin's spec as it runs beside this baseline (like for like; default: unchanged)."""
        return spec

    @classmethod
    def settings_from(cls, spec: AttackSettings, spec_of: Callable[[str], AttackSettings]) -> dict[str, Any]:
        """This baseline's settings from its twin's ``spec`` (``spec_of(name)`` gives any other attack's)."""
        return cls.twin_spec(spec).model_dump(exclude={"name"})


class ArtBaseline(ArtTwin, Attack):
    """An ART evasion attack behind the native contract (same budget, same ``generate``).

    Attributes:
        classifier: The ART wrapper of the model.
    """

    def __init__(self, model: Any, *, budget: Budget | None, **settings: Any):
        super().__init__(model, budget=budget, **settings)
        self.classifier = art_classifier(model, self.n_classes)

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "name": f"art_{self.name}", "method": self.name, "library": "art"}

    def _eps(self, radius: np.ndarray) -> float | np.ndarray:
        """Per-example budgets as ``[N, 1, 1]``; an absolute budget as a scalar (ART's random start needs it)."""
        return float(radius[0]) if not self.budget.needs_snr else radius.reshape(-1, 1, 1)

    def _one_hot(self, y: np.ndarray) -> np.ndarray:
        return np.eye(self.n_classes, dtype=np.float32)[y]


class ArtFGM(ArtBaseline):
    """ART's ``FastGradientMethod`` in L2."""

    name = "fgm"
    twin = "fgm"
    Settings = FGMSettings

    def _generate(self, x: np.ndarray, y: np.ndarray, radius: np.ndarray) -> np.ndarray:
        _seed_art(self.seed)
        p = np.inf if self.norm is Norm.LINF else 2
        eps = self._eps(radius)
        attack = _art()["FastGradientMethod"](
            self.classifier, norm=p, eps=eps, eps_step=eps, batch_size=self.batch_size
        )
        return attack.generate(x, self._one_hot(y)).astype(np.float32)


class ArtFGSM(ArtFGM):
    """ART's ``FastGradientMethod`` in L-inf."""

    name = "fgsm"
    twin = "fgsm"
    Settings = FGSMSettings
    default_norm = Norm.LINF
    norms = (Norm.LINF,)


class ArtPGD(ArtBaseline):
    """ART's ``ProjectedGradientDescent``; like for like, neither it nor its twin starts randomly."""

    Settings = ArtPGDSettings

    def __init__(self, model: Any, *, budget: Budget, **settings: Any):
        super().__init__(model, budget=budget, **settings)
        if self.spec.random_start and self.budget is not None and self.budget.needs_snr:
            raise AttackError(
                "ART 1.20 cannot draw random starts inside per-example balls (art.utils.random_sphere rejects "
                "eps arrays): use random_start=False with a PNR/PSR budget, or an absolute budget"
            )

    @classmethod
    def twin_spec(cls, spec: AttackSettings) -> AttackSettings:
        return spec.model_copy(update={"random_start": False, "restarts": 1})

    def _generate(self, x: np.ndarray, y: np.ndarray, radius: np.ndarray) -> np.ndarray:
        _seed_art(self.seed)
        eps = self._eps(radius)
        fraction = self.spec.step_fraction
        step = eps * fraction if isinstance(eps, float) else (eps * np.float32(fraction)).astype(np.float32)
        attack = _art()["ProjectedGradientDescent"](
            self.classifier,
            norm=np.inf if self.norm is Norm.LINF else 2,
            eps=eps,
            eps_step=step,
            max_iter=self.spec.steps,
            num_random_init=self.spec.restarts if self.spec.random_start else 0,
            batch_size=self.batch_size,
            verbose=False,
        )
        return attack.generate(x, self._one_hot(y)).astype(np.float32)


class ArtPGDL2(ArtPGD):
    name = "pgd_l2"
    twin = "pgd_l2"


class ArtPGDLinf(ArtPGD):
    name = "pgd_linf"
    twin = "pgd_linf"
    default_norm = Norm.LINF
    norms = (Norm.LINF,)


class ArtDeepFool(ArtBaseline):
    """ART's ``DeepFool`` (``epsilon`` = overshoot, ``max_iter``; ``candidates`` is only reported, as
    ART always gets ``nb_grads = C``), projected onto the budget afterwards."""

    name = "deepfool"
    twin = "deepfool"
    Settings = DeepFoolSettings
    needs_class_gradients = True
    minimal = True

    @classmethod
    def _budget_optional(cls) -> bool:
        return True

    def _generate(self, x: np.ndarray, y: np.ndarray, radius: np.ndarray | None) -> np.ndarray:
        _seed_art(self.seed)
        attack = _art()["DeepFool"](
            self.classifier,
            max_iter=self.spec.max_iter,
            epsilon=self.spec.overshoot,
            nb_grads=art_deepfool_nb_grads(self.n_classes),
            batch_size=self.batch_size,
            verbose=False,
        )
        x_adv = attack.generate(x).astype(np.float32)
        # ART moves every example away from its *predicted* class, which can push an already
        # misclassified one onto its label; leave those alone, as the native DeepFool does.
        wrong = self.predict(x) != y
        x_adv[wrong] = x[wrong]
        return x_adv if radius is None else x + project(x_adv - x, radius, Norm.L2)

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "nb_grads": art_deepfool_nb_grads(self.n_classes)}


class ArtUniversal(ArtTwin, UniversalAttack):
    """ART's ``UniversalPerturbation`` (Moosavi-Dezfooli) with DeepFool inside, L2 ball.

    Attributes:
        fooling_rate: ART's fooling rate on the fit data after :meth:`fit`.
    """

    name = "uap"
    twin = "uap_iterative"
    Settings = ArtUniversalSettings
    needs_class_gradients = True

    def __init__(self, model: Any, *, budget: Budget, **settings: Any):
        super().__init__(model, budget=budget, **settings)
        self.classifier = art_classifier(model, self.n_classes)
        self.fooling_rate: float | None = None

    @classmethod
    def settings_from(cls, spec: AttackSettings, spec_of: Callable[[str], AttackSettings]) -> dict[str, Any]:
        return {"delta": spec.delta, "max_passes": spec.max_passes, "overshoot": spec_of("deepfool").overshoot}

    def _fit(self, x: np.ndarray, y: np.ndarray, radius: float) -> np.ndarray:
        _seed_art(self.seed)
        attack = _art()["UniversalPerturbation"](
            self.classifier,
            attacker="deepfool",
            attacker_params={
                "epsilon": self.spec.overshoot,
                "max_iter": 50,
                "nb_grads": art_deepfool_nb_grads(self.n_classes),
                "verbose": False,
            },
            delta=self.spec.delta,
            max_iter=self.spec.max_passes,
            eps=float(radius),
            norm=2,
            batch_size=self.batch_size,
            verbose=False,
        )
        attack.generate(x, np.eye(self.n_classes, dtype=np.float32)[y])
        self.fooling_rate = float(attack.fooling_rate)
        return np.asarray(attack.noise, dtype=np.float32).reshape(x.shape[1:])

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "name": "art_uap", "library": "art"}


#: The ART baselines, one line each.
ART_BASELINE_CLASSES: tuple[type[ArtBaseline | ArtUniversal], ...] = (
    ArtFGM,
    ArtFGSM,
    ArtPGDL2,
    ArtPGDLinf,
    ArtDeepFool,
    ArtUniversal,
)
ART_BASELINES: dict[str, type[ArtBaseline | ArtUniversal]] = {cls.name: cls for cls in ART_BASELINE_CLASSES}
#: The native attack each ART baseline is compared with.
NATIVE_COUNTERPART: dict[str, str] = {name: cls.twin for name, cls in ART_BASELINES.items()}


def build_art_attack(method: str, model: Any, *, budget: Budget | None, **settings: Any) -> Attack:
    """The ART baseline ``method`` (a key of :data:`ART_BASELINES`) behind the native contract."""
    if method in NO_ART_TWIN:
        raise AttackError(NO_ART_TWIN[method])
    if method not in ART_BASELINES:
        raise AttackError(f"unknown ART baseline {method!r}; known: {list(ART_BASELINES)}")
    return ART_BASELINES[method](model, budget=budget, **settings)
