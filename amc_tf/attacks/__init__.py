"""Attacks on I/Q classifiers with budgets in wireless units (design D4).

Settings: :mod:`~amc_tf.attacks.settings` (every attack's settings model and the ART baseline
names, without TensorFlow, so a config validates before TensorFlow is imported). Contract and
budget: :mod:`~amc_tf.attacks.base` (the ``Attack`` contract, model checks) →
:mod:`~amc_tf.attacks.budgets` (PNR/PSR → per-example radius, audit) →
:mod:`~amc_tf.attacks.compiled` (compiled attack loops, micro-batching). Attacks:
:mod:`~amc_tf.attacks.evasion` (FGM, FGSM, PGD, MI-FGSM, DeepFool),
:mod:`~amc_tf.attacks.universal` (SVD and iterative universal perturbations),
:mod:`~amc_tf.attacks.noise` (controls). :mod:`~amc_tf.attacks.registry` is ``ATTACKS``,
:func:`build_attack` and the config's attack spec; :mod:`~amc_tf.attacks.baselines.art` the ART
twins; :mod:`~amc_tf.attacks.checks` the sanity checks before trusting a number.

The names below are imported on first access (PEP 562), so ``import amc_tf.attacks.settings``
does not import TensorFlow.

==================  ======================================================  =====  ============
name                method                                                  norm   ART twin
==================  ======================================================  =====  ============
``fgm``             FGM, one L2 step (Miyato et al.)                        L2     ``fgm``
``fgsm``            FGSM, one sign step (Goodfellow et al.)                 L-inf  ``fgsm``
``pgd_l2``          PGD (Madry et al.)                                      L2     ``pgd_l2``
``pgd_linf``        PGD                                                     L-inf  ``pgd_linf``
``mifgsm``          momentum iterative FGSM (Dong et al.)                   L-inf  none (#2439)
``deepfool``        DeepFool, minimal perturbation (Moosavi-Dezfooli)       L2     ``deepfool``
``uap_svd``         universal, SVD of gradients (Sadeghi & Larsson)         L2     none
``uap_iterative``   universal, iterative with DeepFool (Moosavi-Dezfooli)   L2     ``uap``
``noise_gaussian``  Gaussian noise of the same power (control)              L2     none
``noise_sign``      random-sign noise of the same power (control)           L-inf  none
==================  ======================================================  =====  ============
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name → the module that defines it (imported on first access).
_WHERE = {
    "Attack": "base",
    "RunOptions": "base",
    "check_classifier": "base",
    "AttackSettings": "settings",
    "AttackSpec": "settings",
    "ART_BASELINES": "baselines.art",
    "NATIVE_COUNTERPART": "baselines.art",
    "build_art_attack": "baselines.art",
    "Budget": "budgets",
    "BudgetKind": "budgets",
    "Norm": "budgets",
    "DeepFool": "evasion.deepfool",
    "FGM": "evasion.fgm",
    "FGSM": "evasion.fgm",
    "MIFGSM": "evasion.mifgsm",
    "PGD": "evasion.pgd",
    "PGDL2": "evasion.pgd",
    "PGDLinf": "evasion.pgd",
    "GaussianNoise": "noise",
    "RandomNoise": "noise",
    "SignNoise": "noise",
    "ATTACK_CLASSES": "registry",
    "ATTACKS": "registry",
    "CONTROLS": "registry",
    "attack_class": "registry",
    "build_attack": "registry",
    "UniversalAttack": "universal.base",
    "IterativeUniversal": "universal.iterative",
    "SVDUniversal": "universal.svd",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})
