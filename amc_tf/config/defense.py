"""Config of adversarial training (issue 13; :func:`amc_tf.defenses.adversarial_training.adversarial_train`).

The AMC compression paper's defence (its §IV) crafts N = N1 + N2 adversarial examples from the
*training* set, N1 = N2, half with PGD (multi-step) and half with FGSM (single-step), adds them to
the clean training data, fine-tunes with the first dense layer frozen, and applies this to f_S,
f_D and f_P. The defaults below are that recipe (``mode="offline"``). ``references.md`` does not
give the paper's training budget or PGD norm; we chose (1) PGD in the L∞ norm, so that the mix is
the multi-step and single-step version of one threat (FGSM *is* one full L∞ step), and (2) a PNR
of −10 dB under the energy-matched L∞ convention, the middle of the −20…0 dB grid the paper
evaluates on. Both are one line to change.

Budgets: a PNR in dB (``pnr_db``), a PNR range sampled uniformly per example (``pnr_db_range``),
or an absolute radius in each attack's own norm (``eps``, as ART takes it); the formula is the one
of :mod:`amc_tf.attacks.budgets`. Layer names in ``freeze`` are checked against the model at run
time (a :class:`~amc_tf.errors.ConfigError` naming the model's layers).
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from amc_tf.attacks.budgets import LinfConvention
from amc_tf.attacks.settings import AttackSpec
from amc_tf.config.attack import PNR_RANGE_DB
from amc_tf.config.base import Frozen
from amc_tf.config.train import TrainConfig, fine_tuning, keep_last_epoch_unless_asked

#: Attacks the online (in-graph) trainer can run; offline takes any registry attack.
ONLINE_ATTACKS = ("fgm", "fgsm", "pgd_l2", "pgd_linf")
#: The paper's training budget as we chose it (module docstring).
DEFAULT_PNR_DB = -10.0


def _check_pnr(value: float, what: str) -> float:
    low, high = PNR_RANGE_DB
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError(f"{what} must lie in [{low:g}, {high:g}] dB, got {value}")
    return value


class TrainingBudget(Frozen):
    """The threat the model is trained against: exactly one of ``pnr_db``, ``pnr_db_range``, ``eps``.

    Attributes:
        pnr_db: PNR in dB; each example's radius is ``sqrt(PNR·||x||²/(snr+1))`` from its own SNR label.
        pnr_db_range: ``[lo, hi]`` dB; each example draws its PNR uniformly in it (fresh per crafting).
        eps: Absolute radius in each attack's own norm (input units).
        linf_convention: How L∞ attacks read a PNR radius (``energy_matched``: ε/√(2L); ``same_eps``: ε).

    With none of the three given, ``pnr_db`` is :data:`DEFAULT_PNR_DB`.
    """

    pnr_db: float | None = None
    pnr_db_range: tuple[float, float] | None = None
    eps: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    linf_convention: LinfConvention = LinfConvention.ENERGY_MATCHED

    @model_validator(mode="before")
    @classmethod
    def _default_pnr(cls, data: Any) -> Any:
        if isinstance(data, dict) and all(data.get(k) is None for k in ("pnr_db", "pnr_db_range", "eps")):
            return {**data, "pnr_db": DEFAULT_PNR_DB}
        return data

    @model_validator(mode="after")
    def _one_kind(self) -> TrainingBudget:
        given = [k for k in ("pnr_db", "pnr_db_range", "eps") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of pnr_db, pnr_db_range, eps; got {given}")
        if self.pnr_db is not None:
            _check_pnr(self.pnr_db, "pnr_db")
        if self.pnr_db_range is not None:
            lo, hi = (_check_pnr(v, "pnr_db_range") for v in self.pnr_db_range)
            if lo > hi:
                raise ValueError(f"pnr_db_range must be [lo, hi] with lo <= hi, got {list(self.pnr_db_range)}")
        return self

    def __str__(self) -> str:
        if self.eps is not None:
            return f"eps {self.eps:g} (absolute)"
        if self.pnr_db is not None:
            return f"{self.pnr_db:g} dB PNR ({self.linf_convention.value})"
        return f"U[{self.pnr_db_range[0]:g}, {self.pnr_db_range[1]:g}] dB PNR ({self.linf_convention.value})"


class MixEntry(Frozen):
    """One attack of the mix and its share of the adversarial examples (a bare name = its defaults)."""

    attack: AttackSpec
    fraction: float = Field(gt=0, le=1, allow_inf_nan=False)

    @field_validator("attack", mode="before")
    @classmethod
    def _bare_name(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value


def paper_mix() -> list[MixEntry]:
    """PGD (L∞, 10 steps) 0.5 + FGSM 0.5: the paper's N1 = N2."""
    return [MixEntry(attack={"name": "pgd_linf"}, fraction=0.5), MixEntry(attack={"name": "fgsm"}, fraction=0.5)]


def fast_at_mix() -> list[MixEntry]:
    """Wong et al. 2020's "fast AT": FGSM from a uniform start in the L∞ ball, step 1.25·ε, projected."""
    spec = {"name": "pgd_linf", "steps": 1, "step_fraction": 1.25, "random_start": True}
    return [MixEntry(attack=spec, fraction=1.0)]


class AdversarialTrainingConfig(Frozen):
    """Adversarial training of a registry classifier (module docstring for the paper's recipe).

    Attributes:
        mode: ``offline`` (the paper: craft once per round with the registry attacks, augment the
            clean data, fine-tune) or ``online`` (Madry: craft every batch inside ``train_step``).
        mix: Attacks and their shares of the adversarial examples (fractions sum to 1). Offline:
            any registry attack; online: :data:`ONLINE_ATTACKS` (PGD with one restart).
        budget: The training threat (:class:`TrainingBudget`).
        freeze: Layers whose weights stay fixed (paper: VT-CNN2's first dense layer ``dense1``).
        train: Fine-tuning recipe (Adam learning rate, batch, epochs per round / online epochs,
            early stopping on a validation set if ``patience > 0``). Keeps the last epoch unless
            ``restore_best_weights`` is given (:func:`~amc_tf.config.train.keep_last_epoch_unless_asked`).
        adversarial_fraction: Offline: N = this × the training-set size adversarial examples per
            round, drawn without replacement (1.0: as many as clean windows; N1 = N2 = N/2).
        rounds: Offline: R rounds, each re-crafting on the model the previous round produced.
        batch_ratio: Online: fraction of each batch replaced by adversarial examples (1.0 = Madry;
            ART's AdversarialTrainer default is 0.5).
        pgd_steps: PGD-k schedule: the k of every PGD entry per online epoch (offline: per round);
            the last value holds afterwards. None = each entry's own ``steps``.
        keep_sparsity: Weights that are exactly zero in the input model stay zero (f_P^adv keeps
            f_P's sparsity); applies to layers whose kernel has at least ``min_sparsity`` zeros.
        min_sparsity: Zero fraction from which a kernel counts as pruned.
        attack_batch_size: Offline crafting batch size.
        audit_examples: Crafted examples checked against the budget for the result's audit.
    """

    mode: Literal["offline", "online"] = "offline"
    mix: list[MixEntry] = Field(default_factory=paper_mix, min_length=1)
    budget: TrainingBudget = Field(default_factory=TrainingBudget)
    freeze: list[str] = Field(default_factory=lambda: ["dense1"])
    train: TrainConfig = Field(default_factory=fine_tuning)
    adversarial_fraction: float = Field(default=1.0, gt=0, le=1, allow_inf_nan=False)
    rounds: int = Field(default=1, ge=1, le=100)
    batch_ratio: float = Field(default=1.0, gt=0, le=1, allow_inf_nan=False)
    pgd_steps: list[int] | None = Field(default=None, min_length=1)
    keep_sparsity: bool = True
    min_sparsity: float = Field(default=0.01, gt=0, le=1)
    attack_batch_size: int = Field(default=256, ge=1)
    audit_examples: int = Field(default=256, ge=1)

    _last_epoch = field_validator("train", mode="before")(keep_last_epoch_unless_asked)

    @field_validator("pgd_steps")
    @classmethod
    def _positive_steps(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and any(k < 1 or k > 10_000 for k in value):
            raise ValueError(f"pgd_steps must be integers in [1, 10000], got {value}")
        return value

    @field_validator("freeze")
    @classmethod
    def _unique_layers(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value) or any(not name for name in value):
            raise ValueError(f"freeze must list distinct, non-empty layer names, got {value}")
        return value

    @model_validator(mode="after")
    def _mix_is_consistent(self) -> AdversarialTrainingConfig:
        total = sum(entry.fraction for entry in self.mix)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"the mix fractions must sum to 1, got {total:g} ({[e.fraction for e in self.mix]})")
        if self.mode == "online":
            for entry in self.mix:
                name = entry.attack.name
                if name not in ONLINE_ATTACKS:
                    raise ValueError(
                        f"attack {name!r} cannot run online (in train_step); online-capable attacks: "
                        f"{list(ONLINE_ATTACKS)} (use mode: offline for any registry attack)"
                    )
                if getattr(entry.attack, "restarts", 1) > 1:
                    raise ValueError(f"online {name} runs one restart, got restarts={entry.attack.restarts}")
        return self

    def pgd_steps_at(self, index: int) -> int | None:
        """The scheduled PGD k of epoch/round ``index`` (0-based), or None without a schedule."""
        if self.pgd_steps is None:
            return None
        return self.pgd_steps[min(index, len(self.pgd_steps) - 1)]


__all__ = [
    "DEFAULT_PNR_DB",
    "ONLINE_ATTACKS",
    "AdversarialTrainingConfig",
    "MixEntry",
    "TrainingBudget",
    "fast_at_mix",
    "paper_mix",
]
