"""The native attacks as plain data: ``ATTACKS[name]``, :func:`build_attack`, and the config schema.

Everything here is derived from :data:`ATTACK_CLASSES`, one line per attack: the registry, the
controls (``control = True``). :data:`AttackSpec`, the discriminated union of the attacks'
settings models that the robustness config's ``attacks`` list is made of, lives with those models
in :mod:`amc_tf.attacks.settings` (no TensorFlow, so a config loads without it) and is re-exported
here. Adding an attack is one settings model there, one class (with its ``name`` and
``Settings``) and one line here.
"""

from __future__ import annotations

from typing import Any

from amc_tf.attacks.base import Attack, AttackSettings
from amc_tf.attacks.budgets import Budget
from amc_tf.attacks.evasion.deepfool import DeepFool
from amc_tf.attacks.evasion.fgm import FGM, FGSM
from amc_tf.attacks.evasion.mifgsm import MIFGSM
from amc_tf.attacks.evasion.pgd import PGDL2, PGDLinf
from amc_tf.attacks.noise import GaussianNoise, SignNoise
from amc_tf.attacks.settings import AttackSpec
from amc_tf.attacks.universal.iterative import IterativeUniversal
from amc_tf.attacks.universal.svd import SVDUniversal
from amc_tf.errors import AttackError

#: The native attacks, in the default cascade order of the robustness evaluation.
ATTACK_CLASSES: tuple[type[Attack], ...] = (
    FGM,
    FGSM,
    PGDL2,
    PGDLinf,
    MIFGSM,
    DeepFool,
    SVDUniversal,
    IterativeUniversal,
    GaussianNoise,
    SignNoise,
)

ATTACKS: dict[str, type[Attack]] = {cls.name: cls for cls in ATTACK_CLASSES}

#: Attacks that are controls, not adversarial (excluded from worst-case accuracy).
CONTROLS = frozenset(name for name, cls in ATTACKS.items() if cls.control)


def attack_class(name: str) -> type[Attack]:
    """The registered attack ``name``; unknown names raise :class:`AttackError`."""
    try:
        return ATTACKS[name]
    except KeyError:
        raise AttackError(f"unknown attack {name!r}; known: {sorted(ATTACKS)}") from None


def build_attack(attack: str | AttackSettings, model: Any, *, budget: Budget | None, **settings: Any) -> Attack:
    """Construct a registered attack from its name or its spec.

    Args:
        attack: Registry name, or a settings model instance (its fields become the settings).
        model: The I/Q classifier with logits.
        budget: The threat (None only for minimal attacks such as DeepFool).
        **settings: Run options (``batch_size``, ``seed``, ``micro_batch``) and, with a name,
            the attack's settings.

    Raises:
        AttackError: unknown name, or a bad or unknown setting.
    """
    if isinstance(attack, AttackSettings):
        settings = {**attack.model_dump(exclude={"name"}), **settings}
        attack = attack.name
    return attack_class(attack)(model, budget=budget, **settings)


__all__ = ["ATTACKS", "ATTACK_CLASSES", "AttackSpec", "CONTROLS", "attack_class", "build_attack"]
