"""Configs of the attack suite and the robustness evaluation (design D4; references §6, §9, §10).

Closed sets are enums: :class:`AttackName` (the native attacks of ``amc_tf.attacks.ATTACKS``)
and :class:`ArtBaseline` (the ART 1.20 methods of ``amc_tf.attacks.art_baseline``). Every attack's
settings are typed fields with their range, never a free dict.
"""

from __future__ import annotations

import enum
import math
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from amc_tf.config.base import Frozen


class AttackName(str, enum.Enum):
    """Native attacks (``amc_tf.attacks.ATTACKS``)."""

    FGM = "fgm"
    FGSM = "fgsm"
    PGD_L2 = "pgd_l2"
    PGD_LINF = "pgd_linf"
    MIFGSM = "mifgsm"
    DEEPFOOL = "deepfool"
    UAP_SVD = "uap_svd"
    UAP_ITERATIVE = "uap_iterative"
    NOISE_GAUSSIAN = "noise_gaussian"
    NOISE_SIGN = "noise_sign"


class ArtBaseline(str, enum.Enum):
    """ART baselines (``amc_tf.attacks.art_baseline.ART_METHODS``); MI-FGSM has none (ART #2439)."""

    FGM = "fgm"
    FGSM = "fgsm"
    PGD_L2 = "pgd_l2"
    PGD_LINF = "pgd_linf"
    DEEPFOOL = "deepfool"
    UAP = "uap"


class PGDSettings(Frozen):
    """PGD (both norms). ``step_fraction`` is the step as a fraction of the radius."""

    steps: int = Field(default=10, ge=1, le=10_000)
    step_fraction: float = Field(default=0.25, gt=0, le=10)
    random_start: bool = True
    restarts: int = Field(default=1, ge=1, le=1000)

    @model_validator(mode="after")
    def _restarts_need_random_start(self) -> PGDSettings:
        if self.restarts > 1 and not self.random_start:
            raise ValueError("restarts > 1 needs random_start = true")
        return self


class MIFGSMSettings(Frozen):
    """MI-FGSM: ``iterations`` steps of ``eps / iterations``, momentum decay ``mu``."""

    iterations: int = Field(default=10, ge=1, le=10_000)
    mu: float = Field(default=1.0, ge=0, le=100)


class DeepFoolSettings(Frozen):
    """DeepFool as in the authors' code: overshoot 0.02, 50 steps, top-10 classes."""

    overshoot: float = Field(default=0.02, ge=0, le=10)
    max_iter: int = Field(default=50, ge=1, le=10_000)
    candidates: int = Field(default=10, ge=2)


class UAPSettings(Frozen):
    """Universal perturbations: SVD (Sadeghi & Larsson) and iterative (Moosavi-Dezfooli).

    Attributes:
        n_vectors: Gradients stacked for the SVD (50 in the paper).
        draws: Monte-Carlo draws of those (5 in the authors' code).
        inner: Inner attack of the iterative UAP.
        delta: Iterative UAP stops at a fooling rate of ``1 - delta``.
        max_passes: Passes of the iterative UAP over its fit data.
        n_fit: Examples the universal vector is fitted on, drawn from the data at the evaluation
            SNR but *outside* the evaluated examples when enough exist.
    """

    n_vectors: int = Field(default=50, ge=1)
    draws: int = Field(default=5, ge=1, le=1000)
    inner: Literal["deepfool", "fgm"] = "deepfool"
    delta: float = Field(default=0.2, ge=0, le=1)
    max_passes: int = Field(default=1, ge=1, le=1000)
    n_fit: int = Field(default=256, ge=1)


class AttackSettings(Frozen):
    """Settings of every native attack (and of the matching ART baselines)."""

    pgd: PGDSettings = PGDSettings()
    mifgsm: MIFGSMSettings = MIFGSMSettings()
    deepfool: DeepFoolSettings = DeepFoolSettings()
    uap: UAPSettings = UAPSettings()


def default_pnr_grid() -> list[float]:
    """−20 … 0 dB in 2 dB steps (the papers' axis)."""
    return [float(v) for v in range(-20, 1, 2)]


class RobustnessConfig(Frozen):
    """One robustness evaluation (``amc_tf.evaluation.robustness.evaluate_robustness``).

    Attributes:
        attacks: Native attacks, in cascade order (controls are not counted in the worst case).
        art_baselines: ART methods run side by side ([] = none).
        pnr_db: PNR grid in dB.
        snr_db: SNR label (dB) of the evaluated examples (10 dB as in the papers).
        n_examples: Examples evaluated (drawn at ``snr_db``; fewer if the data has fewer).
        batch_size: Batch size of every attack, native and ART.
        micro_batch: Examples per micro-batch inside the native attacks' compiled calls:
            ``"auto"`` (sized from the model's activations; ~2x faster on CPU for VT-CNN2), an
            int, or None (the whole batch, which reproduces ART's float rounding bit for bit);
            see ``amc_tf.attacks.graph``.
        art_max_examples: At most this many examples for ART's FGM/FGSM/PGD.
        art_max_examples_deepfool: At most this many for ART's DeepFool and UAP (ART's DeepFool
            costs ~20–30 s per 64 examples even on a tiny model).
        art_pnr_db: PNRs at which the ART baselines run (None = the whole grid).
        breakdown_pnr_db: PNR of the per-SNR breakdown (None = no breakdown).
        breakdown_snrs: SNRs of the breakdown (None = every SNR in the data).
        breakdown_n: Examples per SNR in the breakdown.
        seed: Seeds example selection and every attack's randomness.
        settings: Per-attack settings.
    """

    attacks: list[AttackName] = Field(default_factory=lambda: list(AttackName))
    art_baselines: list[ArtBaseline] = Field(default_factory=lambda: list(ArtBaseline))
    pnr_db: list[float] = Field(default_factory=default_pnr_grid, min_length=1)
    snr_db: int = 10
    n_examples: int = Field(default=512, ge=1)
    batch_size: int = Field(default=256, ge=1)
    micro_batch: Literal["auto"] | Annotated[int, Field(ge=1)] | None = "auto"
    art_max_examples: int = Field(default=256, ge=1)
    art_max_examples_deepfool: int = Field(default=32, ge=1)
    art_pnr_db: list[float] | None = None
    breakdown_pnr_db: float | None = -10.0
    breakdown_snrs: list[int] | None = None
    breakdown_n: int = Field(default=128, ge=1)
    seed: int = Field(default=0, ge=0)
    settings: AttackSettings = AttackSettings()

    @field_validator("attacks", "art_baselines")
    @classmethod
    def _unique(cls, value: list) -> list:
        if len(set(value)) != len(value):
            raise ValueError("each attack may appear once")
        return value

    @field_validator("pnr_db", "art_pnr_db")
    @classmethod
    def _finite_sorted(cls, value: list[float] | None) -> list[float] | None:
        if value is None:
            return value
        if not all(math.isfinite(v) for v in value):
            raise ValueError("PNR values must be finite (dB)")
        if len(set(value)) != len(value):
            raise ValueError("PNR values must be distinct")
        return sorted(value)

    @model_validator(mode="after")
    def _art_grid_inside(self) -> RobustnessConfig:
        if self.art_pnr_db is not None and not set(self.art_pnr_db) <= set(self.pnr_db):
            raise ValueError(f"art_pnr_db {self.art_pnr_db} must be a subset of pnr_db {self.pnr_db}")
        return self
