"""Config of the robustness evaluation (design D4; references §6, §9, §10).

The attack list is derived from the attacks themselves: each entry is the settings model of one
registry attack (:data:`amc_tf.attacks.registry.AttackSpec`, discriminated by ``name``), so a
setting's default and range are declared once, on its attack. In YAML an entry is either a bare
name (``fgm``: the attack with its defaults) or a mapping (``{name: pgd_l2, steps: 5}``). ART
baselines are named by the keys of :data:`amc_tf.attacks.settings.ART_TWINS`; each runs
with the settings of its native twin's entry (or the twin's defaults when it is not listed).
"""

from __future__ import annotations

import enum
import math
from typing import Annotated, Any

from pydantic import AfterValidator, Field, field_validator, model_validator

from amc_tf.attacks.budgets import LinfConvention
from amc_tf.attacks.settings import (
    ART_TWINS,
    ATTACK_SETTINGS,
    NO_ART_TWIN,
    SETTINGS,
    AttackSettings,
    AttackSpec,
    MicroBatch,
)
from amc_tf.config.base import Frozen


def _known_baseline(name: str) -> str:
    if name in NO_ART_TWIN:
        raise ValueError(NO_ART_TWIN[name])
    if name not in ART_TWINS:
        raise ValueError(f"unknown ART baseline {name!r}; known: {list(ART_TWINS)}")
    return name


#: Budgets outside this range (dB) are a typo, not a threat model: −80 dB moves nothing a float32
#: window can show, +40 dB is a perturbation 10,000 times the noise power.
PNR_RANGE_DB = (-80.0, 40.0)


class SweepMode(str, enum.Enum):
    """How the PNR grid is walked (``RobustnessConfig.sweep``).

    ``full``: every attack on every example at every PNR (per-attack curves, the cascade computed
    from per-example results). ``survivors``: robust accuracy only — the grid is walked from small to
    large PNR, each attack runs only on the examples still correct after the attacks before it
    (AutoAttack's cascade) and after every smaller PNR (a broken example's adversarial input lies
    in every larger ball and is carried forward), so the curves are cumulative and monotone in PNR
    by construction; for the nightly regression, where only the worst case is compared.
    """

    FULL = "full"
    SURVIVORS = "survivors"


def default_pnr_grid() -> list[float]:
    """−20 … 0 dB in 2 dB steps (the papers' axis)."""
    return [float(v) for v in range(-20, 1, 2)]


class RobustnessConfig(Frozen):
    """One robustness evaluation (``amc_tf.evaluation.robustness.evaluate_robustness``).

    Attributes:
        attacks: Native attacks with their settings, in cascade order (controls are not counted
            in the worst case); default: every registry attack with its defaults.
        art_baselines: ART baselines run beside their native twins ([] = none).
        pnr_db: PNR grid in dB.
        linf_convention: How L∞ attacks (FGSM, PGD-L∞, MI-FGSM, sign noise, their ART twins) read
            a PNR's radius ε: ``energy_matched`` (default, ε/√(2L): same energy as the L2 ball) or
            ``same_eps`` (the AMC compression paper: ε itself, 10·log10(2L) dB more energy;
            :class:`~amc_tf.attacks.budgets.LinfConvention`).
        snr_db: SNR label (dB) of the evaluated examples (10 dB as in the papers).
        n_examples: Examples evaluated (drawn at ``snr_db``; fewer if the data has fewer).
        batch_size: Batch size of every attack, native and ART.
        micro_batch: Examples per micro-batch inside the native attacks' compiled calls:
            ``"auto"`` (sized from the model's activations; ~2x faster on CPU for VT-CNN2), an
            int, or None (the whole batch, which reproduces ART's float rounding bit for bit);
            see ``amc_tf.attacks.compiled``.
        art_max_examples: At most this many examples for ART's FGM/FGSM/PGD.
        art_max_examples_deepfool: At most this many for ART's DeepFool and UAP (ART's DeepFool
            costs ~20–30 s per 64 examples even on a tiny model).
        art_pnr_db: PNRs at which the ART baselines run (None = the whole grid).
        breakdown_pnr_db: PNR of the per-SNR breakdown (None = no breakdown).
        breakdown_snrs: SNRs of the breakdown (None = every SNR in the data).
        breakdown_n: Examples per SNR in the breakdown.
        seed: Seeds example selection and every attack's randomness.
        sweep: ``full`` (default: per-attack curves) or ``survivors`` (robust accuracy only,
            cumulative cascade curves, far fewer gradient evaluations; the nightly's mode);
            :class:`SweepMode`. ART baselines and the per-SNR breakdown always run in full.
    """

    attacks: list[AttackSpec] = Field(default_factory=lambda: [cls() for cls in ATTACK_SETTINGS])
    art_baselines: list[Annotated[str, AfterValidator(_known_baseline)]] = Field(
        default_factory=lambda: list(ART_TWINS)
    )
    pnr_db: list[float] = Field(default_factory=default_pnr_grid, min_length=1)
    linf_convention: LinfConvention = LinfConvention.ENERGY_MATCHED
    snr_db: int = 10
    n_examples: int = Field(default=512, ge=1)
    batch_size: int = Field(default=256, ge=1)
    micro_batch: MicroBatch = "auto"
    art_max_examples: int = Field(default=256, ge=1)
    art_max_examples_deepfool: int = Field(default=32, ge=1)
    art_pnr_db: list[float] | None = None
    breakdown_pnr_db: float | None = -10.0
    breakdown_snrs: list[int] | None = None
    breakdown_n: int = Field(default=128, ge=1)
    seed: int = Field(default=0, ge=0)
    sweep: SweepMode = SweepMode.FULL

    @field_validator("attacks", mode="before")
    @classmethod
    def _bare_names(cls, value: Any) -> Any:
        """``"fgm"`` is shorthand for ``{name: fgm}`` (the attack with its defaults)."""
        if isinstance(value, (list, tuple)):
            return [{"name": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("attacks")
    @classmethod
    def _unique_attacks(cls, value: list[AttackSettings]) -> list[AttackSettings]:
        names = [spec.name for spec in value]
        if len(set(names)) != len(names):
            raise ValueError("each attack may appear once")
        return value

    @field_validator("art_baselines")
    @classmethod
    def _unique_baselines(cls, value: list[str]) -> list[str]:
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
        low, high = PNR_RANGE_DB
        off = [v for v in value if not low <= v <= high]
        if off:
            raise ValueError(f"PNR values must lie in [{low:g}, {high:g}] dB, got {off}")
        if len(set(value)) != len(value):
            raise ValueError("PNR values must be distinct")
        return sorted(value)

    @field_validator("breakdown_pnr_db")
    @classmethod
    def _breakdown_in_range(cls, value: float | None) -> float | None:
        low, high = PNR_RANGE_DB
        if value is not None and not (math.isfinite(value) and low <= value <= high):
            raise ValueError(f"breakdown_pnr_db must lie in [{low:g}, {high:g}] dB, got {value}")
        return value

    @model_validator(mode="after")
    def _art_grid_inside(self) -> RobustnessConfig:
        if self.art_pnr_db is not None and not set(self.art_pnr_db) <= set(self.pnr_db):
            raise ValueError(f"art_pnr_db {self.art_pnr_db} must be a subset of pnr_db {self.pnr_db}")
        return self

    def spec(self, name: str) -> AttackSettings:
        """The configured spec of native attack ``name``, or its defaults when it is not listed."""
        for spec in self.attacks:
            if spec.name == name:
                return spec
        return SETTINGS[name]()
