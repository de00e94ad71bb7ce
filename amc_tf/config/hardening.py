"""Configs of the hardening recipes CAT and LS-GNA (issue 14; :mod:`amc_tf.defenses.cat`, ``ls_gna``).

**CAT** (customized adversarial training, Cheng et al. 2020, references §7.1) gives every training
example its own budget ε_i. Budgets are in the project's wireless units: the largest is a PNR of
``pnr_max_db`` with each example's own SNR label, i.e. the L2 radius
``R_i = sqrt(PNR_max·||x_i||²/(snr_i + 1))`` (:mod:`amc_tf.attacks.budgets`), and ε_i is stored as
a *scale* ``s_i ∈ [0, 1]`` of it: example i is attacked within radius ``s_i·R_i`` (L∞: through the
L∞ convention), so its PNR is ``pnr_max_db + 20·log10(s_i)`` dB. "Grow by η" is then ``s_i += eta``
(ε_max is ``s = 1``), the same step for every example whatever its power. The reference's CIFAR
defaults (ε_max = 8/255, η = 5e-3, c = 10) have ``η/ε_max ≈ 0.16`` and ``c·ε_max ≈ 0.31``; in
scale units we take ``eta = 0.2`` (an example that keeps surviving reaches ε_max after 5 epochs
of the default 10) and ``c = 0.3`` (the smoothing mass at ε_max). PGD defaults to L2, 10 steps of
``step_size·s_i·R_i/steps`` (Madry's 2.5/steps rule) from a uniform random start in the ball.

**LS-GNA** is the label-smoothing plus Gaussian-noise-augmentation baseline CAT is compared with:
the references give no values for it, so the smoothing factor is the usual 0.1 (Szegedy et al.'s
Inception-v3 value) and the noise a PNR drawn uniformly per window in [−20, −10] dB with its own SNR
label — below and up to the −10 dB training budget of adversarial training.

The seed of every random draw (PGD starts, Dirichlet labels, noise) is the ``seed`` argument of
the entry points, combined with the optimizer step.
"""

from __future__ import annotations

import math

from pydantic import Field, field_validator, model_validator

from amc_tf.attacks.budgets import LinfConvention, Norm
from amc_tf.config.attack import PNR_RANGE_DB
from amc_tf.config.base import Frozen
from amc_tf.config.train import TrainConfig, fine_tuning, keep_last_epoch_unless_asked

#: Largest CAT budget by default (the project's training budget, :data:`amc_tf.config.defense.DEFAULT_PNR_DB`).
CAT_PNR_MAX_DB = -10.0


def _pnr(value: float, what: str) -> float:
    low, high = PNR_RANGE_DB
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError(f"{what} must lie in [{low:g}, {high:g}] dB, got {value}")
    return value


class _Recipe(Frozen):
    """What both recipes share: the fit, the frozen layers and the pruning masks.

    Attributes:
        train: Keras fit recipe (Adam learning rate, batch, epochs, early stopping on a validation
            set if ``patience > 0``). The default keeps the last epoch: selecting the epoch of
            lowest clean validation loss would pick CAT's first epoch, before its budgets grew.
        freeze: Layers whose weights stay fixed (checked against the model at run time).
        keep_sparsity: Weights that are exactly zero in the input model stay zero.
        min_sparsity: Zero fraction from which a kernel counts as pruned.
    """

    train: TrainConfig = Field(default_factory=fine_tuning)
    freeze: list[str] = Field(default_factory=list)
    keep_sparsity: bool = True
    min_sparsity: float = Field(default=0.01, gt=0, le=1)

    _last_epoch = field_validator("train", mode="before")(keep_last_epoch_unless_asked)

    @field_validator("freeze")
    @classmethod
    def _unique_layers(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value) or any(not name for name in value):
            raise ValueError(f"freeze must list distinct, non-empty layer names, got {value}")
        return value


class CatConfig(_Recipe):
    """Customized adversarial training (module docstring for the units and defaults).

    Attributes:
        pnr_max_db: ε_max as a PNR (dB) with each example's SNR label.
        eta: Growth of an example's budget scale per mini-batch it survives (scale units, ε_max = 1).
        c: Label-smoothing slope: ``ỹ = (1 − c·s)·onehot + c·s·u``, u ~ Dirichlet(1, …, 1); ``c ≤ 1``
            keeps ỹ a distribution, ``c`` is the smoothing mass at ε_max.
        norm: PGD's norm (``l2`` as the issue asks; ``linf`` as the reference code).
        linf_convention: How an L∞ PGD reads the PNR radius (:class:`~amc_tf.attacks.budgets.LinfConvention`).
        steps: PGD steps (multi-step: each step starts where the previous one ended).
        step_size: Step of ``step_size × own radius / steps`` (2.5: Madry et al.'s rule).
        random_start: Start PGD from a uniform draw in the example's own ball.
    """

    pnr_max_db: float = CAT_PNR_MAX_DB
    eta: float = Field(default=0.2, gt=0, le=1, allow_inf_nan=False)
    c: float = Field(default=0.3, ge=0, le=1, allow_inf_nan=False)
    norm: Norm = Norm.L2
    linf_convention: LinfConvention = LinfConvention.ENERGY_MATCHED
    steps: int = Field(default=10, ge=1, le=1000)
    step_size: float = Field(default=2.5, gt=0, le=100, allow_inf_nan=False)
    random_start: bool = True

    @field_validator("pnr_max_db")
    @classmethod
    def _pnr_max(cls, value: float) -> float:
        return _pnr(value, "pnr_max_db")

    @property
    def step_fraction(self) -> float:
        """One PGD step as a fraction of the example's own radius."""
        return self.step_size / self.steps


class LsGnaConfig(_Recipe):
    """Label smoothing + Gaussian noise augmentation (module docstring for the defaults).

    Attributes:
        smoothing: Label-smoothing factor α: ``ỹ = (1 − α)·onehot + α/C`` (Keras' ``label_smoothing``).
        noise_pnr_db: ``[lo, hi]`` dB: each training window, every time it is seen, gets AWGN whose
            expected energy is a PNR drawn uniformly in the range with its own SNR label
            (``lo == hi``: one fixed level).
    """

    smoothing: float = Field(default=0.1, ge=0, lt=1, allow_inf_nan=False)
    noise_pnr_db: tuple[float, float] = (-20.0, -10.0)

    @model_validator(mode="after")
    def _noise_range(self) -> LsGnaConfig:
        lo, hi = (_pnr(v, "noise_pnr_db") for v in self.noise_pnr_db)
        if lo > hi:
            raise ValueError(f"noise_pnr_db must be [lo, hi] with lo <= hi, got {list(self.noise_pnr_db)}")
        return self


__all__ = ["CAT_PNR_MAX_DB", "CatConfig", "LsGnaConfig"]
