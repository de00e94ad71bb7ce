"""Typed configuration of the massive-MIMO power-allocation area (design D7, references §8).

Defaults reproduce the scenario of the robustness paper built on Sanguinetti, Zappone & Debbah
(Asilomar 2018): 4 cells of 250 m × 250 m in a 2×2 wrap-around grid, K = 5 UEs per cell,
M = 100-antenna half-wavelength ULA, 20 MHz, noise figure 7 dB, 100 mW pilots with reuse 1,
τ_c = 200 and Pmax = 500 mW per BS, no shadowing (as the original dataset code).
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, field_validator, model_validator

from amc_tf.config.base import Frozen, PipelineBase
from amc_tf.config.mimo_enums import (  # noqa: F401  (re-exported)
    AttackObjective,
    CellAttackName,
    ChannelDraws,
    CorrelationModel,
    EpsUnit,
    GainMethod,
    Normalisation,
    Precoder,
    precoder,
)
from amc_tf.config.scale import ScaleOutConfig
from amc_tf.models.mimo_arch import Arch

#: Largest attack budget accepted: beyond a kilometre the "attack" moves UEs out of the network.
MAX_EPS_M = 1_000.0
#: Largest dataset accepted (setups): 30x the paper's 329,500, days of generation on 2 cores.
MAX_SETUPS = 10_000_000


class MimoSystemConfig(Frozen):
    """The multi-cell massive-MIMO scenario.

    Attributes:
        n_cells: L, a perfect square (cells on a √L × √L grid with wrap-around).
        cell_side_m: Side of each square cell in metres (the original dataset code used 500).
        ues_per_cell: K; pilot reuse 1, so τ_p = K.
        antennas: M, half-wavelength ULA unless ``antenna_spacing`` says otherwise.
        antenna_spacing: Antenna spacing in wavelengths.
        min_distance_m: UEs are re-drawn until at least this far from their BS.
        bandwidth_hz, noise_figure_db: Noise power −174 + 10·log10(B) + NF dBm.
        pathloss_at_1m_db, pathloss_exponent: β_dB = −35.3 − 10·3.76·log10(d / 1 m).
        shadowing_std_db: Log-normal shadowing σ (0 = the original dataset; the book uses 10).
        asd_deg: Angular standard deviation of the local-scattering model in degrees.
        correlation: ``approx`` (eq. 2.24, as the dataset) or ``exact`` (eq. 2.23, quadrature).
        pilot_power_mw: UL pilot power p.
        pmax_mw: Downlink power budget per BS.
        tau_c: Coherence block length in samples; τ_d = τ_c − τ_p are used for the downlink.
    """

    n_cells: int = Field(default=4, ge=1, le=64)
    cell_side_m: float = Field(default=250.0, gt=0)
    ues_per_cell: int = Field(default=5, ge=1, le=64)
    antennas: int = Field(default=100, ge=1, le=1024)
    antenna_spacing: float = Field(default=0.5, gt=0)
    min_distance_m: float = Field(default=35.0, gt=0)
    bandwidth_hz: float = Field(default=20e6, gt=0)
    noise_figure_db: float = 7.0
    pathloss_at_1m_db: float = -35.3
    pathloss_exponent: float = Field(default=3.76, gt=0)
    shadowing_std_db: float = Field(default=0.0, ge=0, le=20)
    asd_deg: float = Field(default=10.0, gt=0, le=45)
    correlation: CorrelationModel = CorrelationModel.APPROX
    pilot_power_mw: float = Field(default=100.0, gt=0)
    pmax_mw: float = Field(default=500.0, gt=0)
    tau_c: int = Field(default=200, ge=2)

    @field_validator("n_cells")
    @classmethod
    def _square(cls, value: int) -> int:
        if math.isqrt(value) ** 2 != value:
            raise ValueError(f"n_cells must be a perfect square (cells on a grid), got {value}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> MimoSystemConfig:
        if self.min_distance_m >= self.cell_side_m / 2:
            raise ValueError(
                f"min_distance_m ({self.min_distance_m}) must be below half the cell side ({self.cell_side_m / 2})"
            )
        if self.tau_c <= self.ues_per_cell:
            raise ValueError(f"tau_c ({self.tau_c}) must exceed tau_p = ues_per_cell ({self.ues_per_cell})")
        return self

    @property
    def tau_p(self) -> int:
        """Pilot length (reuse factor 1: one orthogonal pilot per UE of a cell)."""
        return self.ues_per_cell

    @property
    def noise_dbm(self) -> float:
        """Noise power in dBm over the bandwidth (≈ −94 dBm for the defaults)."""
        return -174.0 + 10.0 * math.log10(self.bandwidth_hz) + self.noise_figure_db

    @property
    def n_features(self) -> int:
        """DNN input width: x then y of every UE (40 for the defaults)."""
        return 2 * self.n_cells * self.ues_per_cell


class GainsConfig(Frozen):
    """Which hardening-bound terms to compute and how.

    Attributes:
        precoders: Precoders whose optimal powers are generated.
        mr_method: MR terms by Monte Carlo (default, the book's convention) or in closed form
            (fast approximation with average normalisation).
        realizations: Channel realisations per setup for the Monte-Carlo terms (M-MMSE always).
        normalisation: Precoder normalisation used by the Monte Carlo (``instantaneous``, the
            book's ``w = v/‖v‖``, by default).
        draws: Monte-Carlo samples shared across BSs (``shared_bs``, default: same expectations,
            L_bs times fewer samples) or drawn per BS as in the book's code (``independent``);
            see :class:`ChannelDraws`.
    """

    precoders: tuple[Precoder, ...] = (Precoder.MR, Precoder.MMMSE)
    mr_method: GainMethod = GainMethod.MONTE_CARLO
    realizations: int = Field(default=100, ge=1, le=100_000)
    normalisation: Normalisation = Normalisation.INSTANTANEOUS
    draws: ChannelDraws = ChannelDraws.SHARED_BS

    @field_validator("precoders")
    @classmethod
    def _distinct(cls, value: tuple[Precoder, ...]) -> tuple[Precoder, ...]:
        if not value or len(set(value)) != len(value):
            raise ValueError("precoders must be a non-empty list without repeats")
        return value


class MimoDataConfig(Frozen):
    """Dataset sizes and generation.

    Attributes:
        train_setups: N1 (329,000 in the paper).
        test_setups: N2 (500 in the paper).
        shard_size: Setups per ``.npz`` shard (the unit of parallelism and of resume).
        workers: Worker processes (1 = in-process).
        cache_dir: Datasets and model sets are cached here, one entry per config and code
            (:mod:`amc_tf.cache`; e.g. ``mimo-train-<spec hash>-<code digest>``).
    """

    train_setups: int = Field(default=329_000, ge=1, le=MAX_SETUPS)
    test_setups: int = Field(default=500, ge=1, le=MAX_SETUPS)
    shard_size: int = Field(default=2_000, ge=1)
    workers: int = Field(default=2, ge=1, le=64)
    cache_dir: str = ".cache/mimo"


class MimoTrainConfig(Frozen):
    """Training of the per-cell regressors (relative MSE, Adam, early stopping on val loss).

    Attributes:
        archs: Architectures to train (one model per architecture, precoder and cell).
        epochs: Maximum epochs.
        batch_size: Mini-batch size.
        learning_rate: Adam learning rate.
        patience: Early-stopping patience (epochs without a better validation loss).
        val_fraction: Part of the training setups held out for validation.
        input_transform: ``linear`` z-scores the coordinates in metres; ``db`` z-scores
            ``10·log10`` of them, like the original MR network (``Input_tr_dB_normalized``);
            one value for every precoder or a mapping per precoder (the original: ``{MR: db,
            MMMSE: linear}``).
    """

    archs: tuple[Arch, ...] = (Arch.M1, Arch.M2)
    epochs: int = Field(default=300, ge=1)
    batch_size: int = Field(default=256, ge=1)
    learning_rate: float = Field(default=1e-3, gt=0)
    patience: int = Field(default=50, ge=1)
    val_fraction: float = Field(default=0.03125, gt=0, lt=1)
    input_transform: Literal["linear", "db"] | dict[Precoder, Literal["linear", "db"]] = "linear"

    def transform_for(self, prec: Precoder | str) -> str:
        """The input transform of the models of precoder ``prec`` (``linear`` if unmapped)."""
        if isinstance(self.input_transform, str):
            return self.input_transform
        return self.input_transform.get(precoder(prec), "linear")


class MimoAttackConfig(Frozen):
    """Cell-based white-box attacks (budget: L∞ eps on the UE positions, D4).

    The ``_m`` names date from when metres were the only unit: **every budget and step here (and
    ``adversarial.eps_m``) is in ``eps_unit``**, metres only when ``eps_unit: metres``.

    Attributes:
        eps_unit: ``metres`` or ``normalized`` (the model's z-scored input; the paper's numbers).
        clip_to_cells: Keep adversarial positions inside the data domain (each UE inside its own
            cell, the paper's x_adv ∈ 𝒳).
        attacks: Attacks to run.
        eps_m: The eps grid (in ``eps_unit``).
        pgd_step_m: PGDM step α.
        pgd_iters: PGDM iterations Q.
        mifgsm_mu: MI-FGSM momentum μ.
        mifgsm_iters: MI-FGSM iterations I (step eps / I).
        sumse_eps_m: eps of the sum-SE view (0.5 in the paper), in ``eps_unit``.
        sumse_objective: What the sum-SE view's attacks maximise: ``regression_loss`` (squared
            error to the optimal powers) or ``total_power`` (which raises the totals, hence the SE
            of DNNs that under-spend the budget).
        sumse_enforce_budget: Without eq. 14, scale a cell predicted above Pmax down to Pmax (a BS
            cannot radiate more); ``false`` applies the infeasible powers as predicted.
        transfer_attacks: Attacks whose examples are transferred between M1 and M2.
        wide_eps_m: A wide eps grid (in ``eps_unit``) for the diagnostic sweep that shows where the
            attacks start to work (empty = no sweep); the paper's grid stays in ``eps_m``.
        wide_attacks: Attacks of that sweep. PGDM's step there is ``max(pgd_step_m,
            2.5·eps/pgd_iters)``: with the paper's α = 0.01 m and Q = 40 it cannot move more than
            0.4 m, which would cap every larger eps.
    """

    eps_unit: EpsUnit = EpsUnit.METRES
    clip_to_cells: bool = True
    attacks: tuple[CellAttackName, ...] = (
        CellAttackName.FGSM,
        CellAttackName.PGDM,
        CellAttackName.MIFGSM,
        CellAttackName.RANDOM,
    )
    eps_m: tuple[float, ...] = (0.1, 0.2, 0.3)
    pgd_step_m: float = Field(default=0.01, gt=0)
    pgd_iters: int = Field(default=40, ge=1)
    mifgsm_mu: float = Field(default=0.1, ge=0)
    mifgsm_iters: int = Field(default=10, ge=1)
    sumse_eps_m: float = Field(default=0.5, gt=0, le=MAX_EPS_M)
    sumse_objective: AttackObjective = AttackObjective.REGRESSION_LOSS
    sumse_enforce_budget: bool = True
    transfer_attacks: tuple[CellAttackName, ...] = (CellAttackName.FGSM, CellAttackName.PGDM, CellAttackName.MIFGSM)
    wide_eps_m: tuple[float, ...] = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
    wide_attacks: tuple[CellAttackName, ...] = (CellAttackName.FGSM, CellAttackName.PGDM, CellAttackName.RANDOM)

    @field_validator("eps_m", "wide_eps_m")
    @classmethod
    def _eps(cls, value: tuple[float, ...], info) -> tuple[float, ...]:
        if not value and info.field_name == "eps_m":
            raise ValueError("eps_m must not be empty")
        bad = [e for e in value if not (math.isfinite(e) and 0 <= e <= MAX_EPS_M)]
        if bad:
            raise ValueError(f"{info.field_name} values must be finite, in [0, {MAX_EPS_M:g}] metres, got {bad}")
        return tuple(sorted(value))


class MimoAdversarialConfig(Frozen):
    """Adversarial training: attacked examples of the training set labelled with the true powers.

    Attributes:
        enabled: Train and evaluate adversarially trained models.
        attack: The attack that crafts the training examples.
        objective: What that attack maximises: ``regression_loss`` (default; the squared error to
            the optimal powers, the threat of the sum-SE view, ``attack.sumse_objective``),
            ``total_power`` (the infeasibility threat of the success tables), or ``both``: every
            training example crafted once for each, the two sets together (twice the examples, as
            the AMC paper's PGD + FGSM halves), since a model trained against one threat is not
            robust to the other.
        eps_m: Its budget, in the attack section's ``eps_unit`` (the training ε).
        mix_clean: Train on clean + adversarial examples (the paper: adversarial set only).
    """

    enabled: bool = True
    attack: CellAttackName = CellAttackName.PGDM
    objective: AttackObjective | Literal["both"] = AttackObjective.REGRESSION_LOSS
    eps_m: float = Field(default=0.3, gt=0, le=MAX_EPS_M)
    mix_clean: bool = True

    def objectives(self) -> tuple[AttackObjective, ...]:
        """The objectives the training examples are crafted for (two for ``both``)."""
        if self.objective == "both":
            return (AttackObjective.TOTAL_POWER, AttackObjective.REGRESSION_LOSS)
        return (AttackObjective(self.objective),)

    def objective_label(self) -> str:
        """The objectives as one logged value (``total_power+regression_loss`` for ``both``)."""
        return "+".join(o.value for o in self.objectives())


class MimoPipelineConfig(PipelineBase):
    """The ``mimo`` flow: data → M1/M2 per cell → attacks → adversarial training → transfer → sum SE.

    ``scale_out``: where the dataset shards are computed. ``sequential`` (the default) = this
    machine's ``data.workers`` processes; ``dask`` = one Prefect task per shard on the Dask cluster
    (a ``LocalCluster`` or ``dask_address``; its workers must see ``data.cache_dir``).
    """

    kind: Literal["mimo"] = "mimo"
    name: str = Field(default="mimo", min_length=1)
    system: MimoSystemConfig = MimoSystemConfig()
    gains: GainsConfig = GainsConfig()
    data: MimoDataConfig = MimoDataConfig()
    train: MimoTrainConfig = MimoTrainConfig()
    attack: MimoAttackConfig = MimoAttackConfig()
    adversarial: MimoAdversarialConfig = MimoAdversarialConfig()
    scale_out: ScaleOutConfig = ScaleOutConfig()
