"""Attacks on I/Q classifiers with budgets in wireless units (design D4).

Contract and budget: :mod:`~amc_tf.attacks.base` (the ``Attack`` contract, settings models, model
checks) → :mod:`~amc_tf.attacks.budgets` (PNR/PSR → per-example radius, audit) →
:mod:`~amc_tf.attacks.compiled` (compiled attack loops, micro-batching). Attacks:
:mod:`~amc_tf.attacks.evasion` (FGM, FGSM, PGD, MI-FGSM, DeepFool),
:mod:`~amc_tf.attacks.universal` (SVD and iterative universal perturbations),
:mod:`~amc_tf.attacks.noise` (controls). :mod:`~amc_tf.attacks.registry` is ``ATTACKS``,
:func:`build_attack` and the config's attack spec; :mod:`~amc_tf.attacks.baselines.art` the ART
twins; :mod:`~amc_tf.attacks.checks` the sanity checks before trusting a number.

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

from amc_tf.attacks.base import Attack, AttackSettings, RunOptions, check_classifier
from amc_tf.attacks.baselines.art import ART_BASELINES, NATIVE_COUNTERPART, build_art_attack
from amc_tf.attacks.budgets import Budget, BudgetKind, Norm
from amc_tf.attacks.evasion.deepfool import DeepFool
from amc_tf.attacks.evasion.fgm import FGM, FGSM
from amc_tf.attacks.evasion.mifgsm import MIFGSM
from amc_tf.attacks.evasion.pgd import PGD, PGDL2, PGDLinf
from amc_tf.attacks.noise import GaussianNoise, RandomNoise, SignNoise
from amc_tf.attacks.registry import ATTACK_CLASSES, ATTACKS, CONTROLS, AttackSpec, attack_class, build_attack
from amc_tf.attacks.universal.base import UniversalAttack
from amc_tf.attacks.universal.iterative import IterativeUniversal
from amc_tf.attacks.universal.svd import SVDUniversal

__all__ = [
    "ART_BASELINES",
    "ATTACKS",
    "ATTACK_CLASSES",
    "CONTROLS",
    "FGM",
    "FGSM",
    "MIFGSM",
    "NATIVE_COUNTERPART",
    "PGD",
    "PGDL2",
    "Attack",
    "AttackSettings",
    "AttackSpec",
    "Budget",
    "BudgetKind",
    "DeepFool",
    "GaussianNoise",
    "IterativeUniversal",
    "Norm",
    "PGDLinf",
    "RandomNoise",
    "RunOptions",
    "SVDUniversal",
    "SignNoise",
    "UniversalAttack",
    "attack_class",
    "build_art_attack",
    "build_attack",
    "check_classifier",
]
