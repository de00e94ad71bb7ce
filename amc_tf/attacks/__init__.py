"""Attacks on I/Q classifiers with budgets in wireless units (design D4).

``ATTACKS[name]`` maps each native attack to a constructor ``(model, *, budget, **settings)``;
:func:`build_attack` is the one accessor. The ART baseline lives in
:mod:`amc_tf.attacks.art_baseline` (the only module importing ART), the massive-MIMO regression
attack in :mod:`amc_tf.attacks.regression`.

=================  ======================================================  =========
name               method                                                  norm
=================  ======================================================  =========
``fgm``            FGM, one L2 step (Miyato et al.)                         L2
``fgsm``           FGSM, one sign step (Goodfellow et al.)                  L-inf
``pgd_l2``         PGD (Madry et al.)                                       L2
``pgd_linf``       PGD                                                      L-inf
``mifgsm``         momentum iterative FGSM (Dong et al.)                    L-inf
``deepfool``       DeepFool, minimal perturbation (Moosavi-Dezfooli et al.) L2
``uap_svd``        universal, PCA/SVD of gradients (Sadeghi & Larsson)      L2
``uap_iterative``  universal, iterative with DeepFool (Moosavi-Dezfooli)    L2
``noise_gaussian`` Gaussian noise of the same power (control)               L2
``noise_sign``     random-sign noise of the same power (control)            L-inf
=================  ======================================================  =========
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from amc_tf.attacks.base import Attack, check_classifier
from amc_tf.attacks.budgets import Budget, BudgetKind, Norm
from amc_tf.attacks.deepfool import DeepFool
from amc_tf.attacks.fgm import FGM, FGSM
from amc_tf.attacks.mifgsm import MIFGSM
from amc_tf.attacks.noise import RandomNoise
from amc_tf.attacks.pgd import PGD
from amc_tf.attacks.uap import IterativeUniversal, SVDUniversal
from amc_tf.errors import AttackError

ATTACKS: dict[str, Callable[..., Attack]] = {
    "fgm": FGM,
    "fgsm": FGSM,
    "pgd_l2": partial(PGD, norm=Norm.L2),
    "pgd_linf": partial(PGD, norm=Norm.LINF),
    "mifgsm": MIFGSM,
    "deepfool": DeepFool,
    "uap_svd": SVDUniversal,
    "uap_iterative": IterativeUniversal,
    "noise_gaussian": partial(RandomNoise, kind="gaussian"),
    "noise_sign": partial(RandomNoise, kind="sign"),
}

#: The native attack each ART baseline (``amc_tf.attacks.art_baseline``) is compared with.
NATIVE_COUNTERPART = {
    "fgm": "fgm",
    "fgsm": "fgsm",
    "pgd_l2": "pgd_l2",
    "pgd_linf": "pgd_linf",
    "deepfool": "deepfool",
    "uap": "uap_iterative",
}

#: Attacks that are controls, not adversarial (excluded from worst-case accuracy).
CONTROLS = frozenset({"noise_gaussian", "noise_sign"})


def build_attack(name: str, model: Any, *, budget: Budget | None, **settings: Any) -> Attack:
    """Construct the registered attack ``name``; unknown names or settings raise :class:`AttackError`."""
    try:
        factory = ATTACKS[name]
    except KeyError:
        raise AttackError(f"unknown attack {name!r}; known: {sorted(ATTACKS)}") from None
    try:
        attack = factory(model, budget=budget, **settings)
    except TypeError as err:
        raise AttackError(f"bad settings for attack {name!r}: {err}") from None
    attack.name = name
    return attack


__all__ = [
    "ATTACKS",
    "CONTROLS",
    "Attack",
    "Budget",
    "BudgetKind",
    "DeepFool",
    "FGM",
    "FGSM",
    "IterativeUniversal",
    "MIFGSM",
    "NATIVE_COUNTERPART",
    "Norm",
    "PGD",
    "RandomNoise",
    "SVDUniversal",
    "build_attack",
    "check_classifier",
]
