"""Every attack's settings model and the names of the ART baselines, without TensorFlow.

The config layer validates an attack list when a YAML file loads, before anything expensive
starts (a missing or mistyped setting is reported in a second, not after a 10 s TensorFlow
import). So the settings models (defaults and ranges of every setting), the discriminated union
:data:`AttackSpec` built from them, and the table of ART baseline names live here, importing only
pydantic. Each attack class declares ``Settings = <its model here>``; ``tests/attacks`` checks
that this module and the registry (:mod:`amc_tf.attacks.registry`,
:mod:`amc_tf.attacks.baselines.art`) agree name for name and order for order.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import ConfigDict, Field, model_validator

from amc_tf.schema import Frozen

#: Default ``micro_batch`` of the native attacks (sized from the model's activations).
MICRO_BATCH = "auto"

#: ``micro_batch`` of the native attacks: ``"auto"`` (sized from the model), examples per
#: micro-batch, or None (the whole batch; :mod:`amc_tf.attacks.compiled`).
MicroBatch = Literal["auto"] | Annotated[int, Field(ge=1)] | None


class AttackSettings(Frozen):
    """Base of every attack's settings model: strict types, finite numbers, ``name`` = registry name.

    A registry attack narrows ``name`` to ``Literal["<its name>"]``, which makes the models one
    discriminated union (the ``attacks`` list of the robustness config).
    """

    model_config = ConfigDict(strict=True, allow_inf_nan=False)

    name: str


class RunOptions(Frozen):
    """How an attack runs, common to every attack (and not part of its spec in a config).

    Attributes:
        batch_size: Examples per compiled call.
        seed: Seed of the attack's randomness (same seed and input, same output).
        micro_batch: Examples per micro-batch inside a compiled call (:data:`MicroBatch`).
    """

    model_config = ConfigDict(strict=True)

    batch_size: int = Field(default=256, ge=1)
    seed: int = Field(default=0, ge=0)
    micro_batch: MicroBatch = MICRO_BATCH


class FGMSettings(AttackSettings):
    name: Literal["fgm"] = "fgm"


class FGSMSettings(AttackSettings):
    name: Literal["fgsm"] = "fgsm"


class PGDSettings(AttackSettings):
    """PGD in either norm.

    Attributes:
        steps: Number of gradient steps.
        step_fraction: Step size as a fraction of the radius (0.25 = Madry's 2.5 eps / 10 steps).
        random_start: Start from a uniform draw inside the ball.
        restarts: Independent runs; the best per example is kept (> 1 needs ``random_start``).
    """

    steps: int = Field(default=10, ge=1, le=10_000)
    step_fraction: float = Field(default=0.25, gt=0, le=10)
    random_start: bool = True
    restarts: int = Field(default=1, ge=1, le=1000)

    @model_validator(mode="after")
    def _restarts_need_random_start(self) -> PGDSettings:
        if self.restarts > 1 and not self.random_start:
            raise ValueError("restarts > 1 needs random_start=True (without it every restart is identical)")
        return self


class PGDL2Settings(PGDSettings):
    name: Literal["pgd_l2"] = "pgd_l2"


class PGDLinfSettings(PGDSettings):
    name: Literal["pgd_linf"] = "pgd_linf"


class MIFGSMSettings(AttackSettings):
    """MI-FGSM: ``iterations`` steps of ``eps / iterations``, momentum decay ``mu``.

    Attributes:
        iterations: ``I``, number of iterations (10 in the authors' code).
        mu: Decay of the accumulated gradient (1.0 in the paper).
    """

    name: Literal["mifgsm"] = "mifgsm"
    iterations: int = Field(default=10, ge=1, le=10_000)
    mu: float = Field(default=1.0, ge=0, le=100)


#: Relative overshoot past the boundary (0.02 in the paper); also ART's UAP's inner DeepFool's.
Overshoot = Annotated[float, Field(default=0.02, ge=0, le=10)]


class DeepFoolSettings(AttackSettings):
    """DeepFool as in the authors' code: overshoot 0.02, 50 steps, top-10 classes.

    Attributes:
        overshoot: Relative overshoot past the boundary.
        max_iter: Maximum steps.
        candidates: Classes considered per example, the label included.
    """

    name: Literal["deepfool"] = "deepfool"
    overshoot: Overshoot
    max_iter: int = Field(default=50, ge=1, le=10_000)
    candidates: int = Field(default=10, ge=2)


class UniversalSettings(AttackSettings):
    """Settings of the native universal attacks.

    Attributes:
        n_fit: Examples the robustness evaluation fits the vector on, drawn at the evaluation SNR
            but outside the evaluated examples when enough exist (the attack itself fits on
            whatever ``UniversalAttack.fit`` is given).
    """

    n_fit: int = Field(default=256, ge=1)


class SVDUniversalSettings(UniversalSettings):
    """Settings of ``SVDUniversal``.

    Attributes:
        n_vectors: Examples whose normalised gradients are stacked (50 in the paper).
        draws: Monte-Carlo draws of those examples; the most harmful vector is kept.
    """

    name: Literal["uap_svd"] = "uap_svd"
    n_vectors: int = Field(default=50, ge=1, le=100_000)
    draws: int = Field(default=5, ge=1, le=1000)


#: Stop once the fooling rate on the fit data reaches ``1 - delta`` (also ART's UAP's).
Delta = Annotated[float, Field(default=0.2, ge=0, le=1)]
#: Passes over the fit data (also ART's UAP's ``max_iter``).
MaxPasses = Annotated[int, Field(default=1, ge=1, le=1000)]


class IterativeUniversalSettings(UniversalSettings):
    """Settings of ``IterativeUniversal``.

    Attributes:
        inner: The per-example attack: ``"deepfool"`` (minimal perturbation, overshoot 0.02) or
            ``"fgm"`` (full radius).
        delta: Stop at a fooling rate of ``1 - delta``.
        max_passes: Passes over the fit data.
    """

    name: Literal["uap_iterative"] = "uap_iterative"
    inner: Literal["deepfool", "fgm"] = "deepfool"
    delta: Delta
    max_passes: MaxPasses


class GaussianNoiseSettings(AttackSettings):
    name: Literal["noise_gaussian"] = "noise_gaussian"


class SignNoiseSettings(AttackSettings):
    name: Literal["noise_sign"] = "noise_sign"


class ArtPGDSettings(PGDSettings):
    """PGD settings of ART's PGD; it starts at ``x`` unless told otherwise, as ART does by default
    (it cannot draw random starts inside per-example balls)."""

    random_start: bool = False


class ArtUniversalSettings(AttackSettings):
    """ART's UAP: ``delta`` and ``max_passes`` as the iterative UAP's, the inner DeepFool's overshoot."""

    name: Literal["uap"] = "uap"
    delta: Delta
    max_passes: MaxPasses
    overshoot: Overshoot


#: The native attacks' settings, in the default cascade order of the robustness evaluation
#: (the order of :data:`amc_tf.attacks.registry.ATTACK_CLASSES`).
ATTACK_SETTINGS: tuple[type[AttackSettings], ...] = (
    FGMSettings,
    FGSMSettings,
    PGDL2Settings,
    PGDLinfSettings,
    MIFGSMSettings,
    DeepFoolSettings,
    SVDUniversalSettings,
    IterativeUniversalSettings,
    GaussianNoiseSettings,
    SignNoiseSettings,
)

#: Registry name → settings model.
SETTINGS: dict[str, type[AttackSettings]] = {cls.model_fields["name"].default: cls for cls in ATTACK_SETTINGS}

#: One attack of a config: the settings model of any registry attack, picked by ``name``.
AttackSpec = Annotated[Union[ATTACK_SETTINGS], Field(discriminator="name")]  # noqa: UP007

#: Each ART baseline's name → the native attack it is the twin of (the keys and ``twin`` of
#: :data:`amc_tf.attacks.baselines.art.ART_BASELINES`, in the same order).
ART_TWINS: dict[str, str] = {
    "fgm": "fgm",
    "fgsm": "fgsm",
    "pgd_l2": "pgd_l2",
    "pgd_linf": "pgd_linf",
    "deepfool": "deepfool",
    "uap": "uap_iterative",
}

#: Why a native attack has no ART baseline.
NO_ART_TWIN = {
    "mifgsm": "ART has no MI-FGSM baseline: its MomentumIterativeMethod raises on TensorFlow (ART issue #2439)"
}
