"""The same threat through ART 1.20 — the baseline the native attacks are measured against.

This is the only module that imports the Adversarial Robustness Toolbox (style habit 10). The
model is wrapped in ART's ``TensorFlowV2Classifier`` with ``CategoricalCrossentropy(from_logits=True)``
and no ``clip_values`` (I/Q has no box; ART's ``KerasClassifier`` is graph-mode only, design D1).
Budgets are resolved by :mod:`amc_tf.attacks.budgets` exactly as for the native attacks and
passed to ART as per-example ``eps`` / ``eps_step`` arrays of shape ``[N, 1, 1]``, so both sides
face the identical threat.

============  ====================================================================
method        ART attack
============  ====================================================================
``fgm``       ``FastGradientMethod(norm=2)``
``fgsm``      ``FastGradientMethod(norm=inf)``
``pgd_l2``    ``ProjectedGradientDescent(norm=2)`` (its TensorFlow-v2 path)
``pgd_linf``  ``ProjectedGradientDescent(norm=inf)``
``deepfool``  ``DeepFool(epsilon=0.02, nb_grads=C)`` (projected onto the budget afterwards)
``uap``       ``UniversalPerturbation(attacker="deepfool", norm=2)``
============  ====================================================================

**ART's DeepFool with ``nb_grads < nb_classes`` is wrong (ART 1.20.1, ``art/attacks/evasion/deepfool.py``).**
With a class subset, ART computes gradients for ``labels_set`` (the union over the *whole call* of each
example's top-``nb_grads`` classes) and turns the predicted class into its position in that set,
``labels_indices``; it then uses that position both for the gradients (ordered by ``labels_set``:
right) and for the logits, ``f_batch[:, labels_indices]`` (ordered by class: wrong). Whenever
``labels_set`` misses a class below the predicted one, ``f'_k`` is measured against the wrong logit:
the candidate sitting at the predicted class's position gets ``f' = 0``, is chosen, and the step is
exactly zero, so ART runs ``max_iter`` empty steps and returns ``x`` unchanged; otherwise the
step is mis-sized. On a big batch of 11-class RML data the union is all 11 classes and ART agrees
with the native DeepFool, which hid the bug; on the robustness report's 8 examples (quickstart
VT-CNN2, 10 dB) the union missed one class and ART left 4 of 6 correctly classified examples
untouched and over-sized a fifth 3.3x, reading as ">= 16 dB more robust". ART's UAP calls its
DeepFool on one example at a time, where a top-10 of 11 always misses a class. We therefore pass
``nb_grads = nb_classes``: ``labels_set`` is then every class and the indexing is right, and the
result is identical to ART's whenever its union was complete anyway. The price: ART considers
every class, not the top ``candidates`` (per example, natively); with ``candidates >= C`` the two
match exactly. On the 72 first report examples the two then agree to <= 0.16 dB per example.

ART's DeepFool otherwise differs from the authors' code (references §9) in ways that change the
result by ~2 % at most: it attacks the *predicted* class (we restore the misclassified ones), tests
the label without the overshoot and applies ``(1 + epsilon)`` once at the end (so its result is
``1.02 x`` the first point past the boundary, a bisection scale ``t = 1/1.02``), and adds ``1e-7``
to ``||w||`` and ``||w||^2`` (negligible: ``||w||^2 ~ 1e3-1e5`` here). When a linear step lands
exactly on a float32 tie, ``f' = 0`` and ART idles until ``max_iter`` (cost, not result).

ART's ``MomentumIterativeMethod`` has no TensorFlow path (it raises ``NotImplementedError``,
ART issue #2439), so MI-FGSM has no ART baseline. ART draws its randomness from the global
``numpy.random`` / ``random`` state; it is seeded from ``seed`` before every call.
"""

from __future__ import annotations

import logging
import random
import warnings
from typing import Any, Literal

import numpy as np

from amc_tf.attacks import NATIVE_COUNTERPART  # noqa: F401  (re-exported beside ART_METHODS)
from amc_tf.attacks.base import Attack, check_float, check_int
from amc_tf.attacks.budgets import Budget, Norm, project
from amc_tf.attacks.uap import UniversalAttack
from amc_tf.errors import AttackError
from amc_tf.runtime import keras

with warnings.catch_warnings():
    # ART announces on import every optional backend it cannot find (PyTorch, ...).
    warnings.simplefilter("ignore")
    from art.attacks.evasion import DeepFool as _ArtDeepFool
    from art.attacks.evasion import FastGradientMethod, ProjectedGradientDescent, UniversalPerturbation
    from art.estimators.classification import TensorFlowV2Classifier

logging.getLogger("art").setLevel(logging.ERROR)  # e.g. DeepFool warns that clip_values is None, as intended

ArtMethod = Literal["fgm", "fgsm", "pgd_l2", "pgd_linf", "deepfool"]
ART_METHODS: tuple[str, ...] = ("fgm", "fgsm", "pgd_l2", "pgd_linf", "deepfool", "uap")


def art_deepfool_nb_grads(n_classes: int) -> int:
    """``nb_grads`` for ART's DeepFool: every class (a subset mis-indexes the logits; module docstring)."""
    return n_classes


def art_classifier(model: keras.Model, n_classes: int) -> TensorFlowV2Classifier:
    """Wrap a logits model ``[N, 2, L] -> [N, C]`` in ART's TensorFlow-v2 classifier."""
    return TensorFlowV2Classifier(
        model=model,
        nb_classes=n_classes,
        input_shape=tuple(model.input_shape[1:]),
        loss_object=keras.losses.CategoricalCrossentropy(from_logits=True),
        clip_values=None,
    )


def _seed_art(seed: int) -> None:
    np.random.seed(seed % 2**32)
    random.seed(seed)


class ArtAttack(Attack):
    """An ART evasion attack behind the native contract (same budget, same ``generate``).

    Args:
        model: I/Q classifier with logits.
        method: One of ``fgm``, ``fgsm``, ``pgd_l2``, ``pgd_linf``, ``deepfool``.
        budget: The threat (None allowed for ``deepfool`` only: unbounded).
        steps, step_fraction, random_start, restarts: PGD settings (as :class:`~amc_tf.attacks.pgd.PGD`);
            ART cannot start randomly inside per-example balls, so ``random_start`` needs an
            absolute budget.
        overshoot, max_iter, candidates: DeepFool settings (ART's ``epsilon`` and ``max_iter``; ART
            always gets ``nb_grads = C``, see the module docstring, so ``candidates`` is only reported).
        batch_size: ART's ``batch_size``.
        seed: Seeds ART's global random state before each call.
    """

    name = "art"

    def __init__(
        self,
        model: Any,
        *,
        method: ArtMethod,
        budget: Budget | None,
        steps: int = 10,
        step_fraction: float = 0.25,
        random_start: bool = False,
        restarts: int = 1,
        overshoot: float = 0.02,
        max_iter: int = 50,
        candidates: int = 10,
        batch_size: int = 256,
        seed: int = 0,
    ):
        if method not in ART_METHODS or method == "uap":
            raise AttackError(
                f"ART method must be one of {[m for m in ART_METHODS if m != 'uap']} (uap: ArtUniversal), got {method!r}"
            )
        self.method = method
        self.needs_class_gradients = self.minimal = method == "deepfool"
        norm = Norm.LINF if method in ("fgsm", "pgd_linf") else Norm.L2
        if budget is None and method != "deepfool":
            raise AttackError(f"ART {method} needs budget=Budget.pnr(...)/psr(...)/absolute(...)")
        super().__init__(model, budget=budget, norm=norm, batch_size=batch_size, seed=seed)
        self.name = f"art_{method}"
        self.steps = check_int("steps", steps, 1, 10_000)
        self.step_fraction = check_float("step_fraction", step_fraction, 0.0, 10.0, low_open=True)
        if not isinstance(random_start, bool):
            raise AttackError(f"random_start must be True or False, got {random_start!r}")
        if random_start and method.startswith("pgd") and budget is not None and budget.needs_snr:
            raise AttackError(
                "ART 1.20 cannot draw random starts inside per-example balls (art.utils.random_sphere rejects "
                "eps arrays): use random_start=False with a PNR/PSR budget, or an absolute budget"
            )
        self.random_start = random_start
        self.restarts = check_int("restarts", restarts, 1, 1000)
        self.overshoot = check_float("overshoot", overshoot, 0.0, 10.0)
        self.max_iter = check_int("max_iter", max_iter, 1, 10_000)
        self.candidates = check_int("candidates", candidates, 2)
        self.classifier = art_classifier(model, self.n_classes)

    def _art_attack(self, radius: np.ndarray | None):
        p = np.inf if self.norm is Norm.LINF else 2
        # per-example budgets as [N, 1, 1] arrays; an absolute budget as a scalar (ART's random
        # start accepts only that)
        if self.budget is None:
            eps = None
        elif not self.budget.needs_snr:
            eps = float(radius[0])
        else:
            eps = radius.reshape(-1, 1, 1)
        if self.method in ("fgm", "fgsm"):
            return FastGradientMethod(self.classifier, norm=p, eps=eps, eps_step=eps, batch_size=self.batch_size)
        if self.method in ("pgd_l2", "pgd_linf"):
            step = (
                eps * self.step_fraction
                if isinstance(eps, float)
                else (eps * np.float32(self.step_fraction)).astype(np.float32)
            )
            return ProjectedGradientDescent(
                self.classifier,
                norm=p,
                eps=eps,
                eps_step=step,
                max_iter=self.steps,
                num_random_init=self.restarts if self.random_start else 0,
                batch_size=self.batch_size,
                verbose=False,
            )
        return _ArtDeepFool(
            self.classifier,
            max_iter=self.max_iter,
            epsilon=self.overshoot,
            nb_grads=art_deepfool_nb_grads(self.n_classes),
            batch_size=self.batch_size,
            verbose=False,
        )

    def _generate(self, x: np.ndarray, y: np.ndarray, radius: np.ndarray | None) -> np.ndarray:
        _seed_art(self.seed)
        attack = self._art_attack(radius)
        if self.method == "deepfool":
            x_adv = attack.generate(x).astype(np.float32)
            # ART's DeepFool moves every example away from its *predicted* class, which can push an
            # already misclassified one onto its label; with labels given, leave those alone (as
            # the native DeepFool does).
            wrong = self.predict(x) != y
            x_adv[wrong] = x[wrong]
            return x_adv if radius is None else x + project(x_adv - x, radius, Norm.L2)
        return attack.generate(x, np.eye(self.n_classes, dtype=np.float32)[y]).astype(np.float32)

    @classmethod
    def _budget_optional(cls) -> bool:
        return True

    def settings(self) -> dict[str, Any]:
        base = {**super().settings(), "method": self.method, "library": "art"}
        if self.method.startswith("pgd"):
            base.update(
                steps=self.steps,
                step_fraction=self.step_fraction,
                random_start=self.random_start,
                restarts=self.restarts,
            )
        if self.method == "deepfool":
            base.update(
                overshoot=self.overshoot,
                max_iter=self.max_iter,
                candidates=self.candidates,
                nb_grads=art_deepfool_nb_grads(self.n_classes),
            )
        return base


class ArtUniversal(UniversalAttack):
    """ART's ``UniversalPerturbation`` (Moosavi-Dezfooli) with DeepFool inside, L2 ball.

    Args:
        model: I/Q classifier with logits.
        budget: The power of the one vector (L2 radius from the data's mean power).
        delta: Stop once the fooling rate reaches ``1 - delta``.
        max_passes: ART's ``max_iter`` (passes over the data).
        overshoot: The inner DeepFool's ``epsilon``.
        batch_size: ART's ``batch_size``.
        seed: Seeds ART's global random state (visiting order).
    """

    name = "art_uap"
    needs_class_gradients = True

    def __init__(
        self,
        model: Any,
        *,
        budget: Budget,
        delta: float = 0.2,
        max_passes: int = 1,
        overshoot: float = 0.02,
        batch_size: int = 256,
        seed: int = 0,
    ):
        super().__init__(model, budget=budget, batch_size=batch_size, seed=seed)
        self.delta = check_float("delta", delta, 0.0, 1.0)
        self.max_passes = check_int("max_passes", max_passes, 1, 1000)
        self.overshoot = check_float("overshoot", overshoot, 0.0, 10.0)
        self.classifier = art_classifier(model, self.n_classes)
        self.fooling_rate: float | None = None

    def _fit(self, x: np.ndarray, y: np.ndarray, radius: float) -> np.ndarray:
        _seed_art(self.seed)
        attack = UniversalPerturbation(
            self.classifier,
            attacker="deepfool",
            attacker_params={
                "epsilon": self.overshoot,
                "max_iter": 50,
                "nb_grads": art_deepfool_nb_grads(self.n_classes),
                "verbose": False,
            },
            delta=self.delta,
            max_iter=self.max_passes,
            eps=float(radius),
            norm=2,
            batch_size=self.batch_size,
            verbose=False,
        )
        attack.generate(x, np.eye(self.n_classes, dtype=np.float32)[y])
        self.fooling_rate = float(attack.fooling_rate)
        return np.asarray(attack.noise, dtype=np.float32).reshape(x.shape[1:])

    def settings(self) -> dict[str, Any]:
        return {
            **super().settings(),
            "library": "art",
            "delta": self.delta,
            "max_passes": self.max_passes,
            "overshoot": self.overshoot,
        }


def build_art_attack(method: str, model: Any, *, budget: Budget | None, **settings: Any) -> Attack:
    """The ART baseline ``method`` (one of :data:`ART_METHODS`) behind the native contract."""
    if method == "mifgsm":
        raise AttackError(
            "ART has no MI-FGSM baseline: its MomentumIterativeMethod raises on TensorFlow (ART issue #2439)"
        )
    if method not in ART_METHODS:
        raise AttackError(f"unknown ART baseline {method!r}; known: {list(ART_METHODS)}")
    try:
        if method == "uap":
            return ArtUniversal(model, budget=budget, **settings)
        return ArtAttack(model, method=method, budget=budget, **settings)
    except TypeError as err:
        raise AttackError(f"bad settings for ART baseline {method!r}: {err}") from None
