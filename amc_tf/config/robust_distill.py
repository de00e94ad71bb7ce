"""Config of the ``robust_distill`` pipeline (issue 15): a robust MCformer teacher → a compact
MCformer student by adversarial attention distillation, its baselines, and the transfer matrix.

The chain: data → teacher (``mcformer``) trained naturally → adversarially trained (``adversarial``,
online) = the robust teacher → the compact student (``mcformer_small``) trained naturally → from
that natural student, every method of ``students`` for ``adversarial.train.epochs`` epochs on the
same data and budget:

* ``natural`` — the natural student itself (no further training);
* ``at`` — adversarial training alone (``adversarial``'s recipe);
* ``ard`` — adversarially robust distillation (Goldblum et al.; ``distill.ard_alpha``/``ard_temperature``);
* ``kd`` — Hinton distillation from the robust teacher, clean windows, no attention term;
* ``attention`` — adversarial attention distillation (:mod:`amc_tf.distill.attention`).

Starting every method from the same natural student makes the comparison one of training
objectives only. ``transfer_models`` (default VT-CNN2 and SBCNN) are trained naturally as further
sources of the transferability matrix, and with ``robust: true`` also adversarially trained by the
robust teacher's recipe (role ``<name>_adv``); every model is evaluated by ``robustness`` (FGM and PGD at
10 dB over the PNR grid; ART's twins on the ``art_models``) and sources × targets by ``transfer``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from amc_tf.attacks.settings import AttackSpec, PGDLinfSettings
from amc_tf.config.attack import RobustnessConfig
from amc_tf.config.base import Frozen, PipelineBase
from amc_tf.config.data import DataSpec
from amc_tf.config.defense import AdversarialTrainingConfig, MixEntry
from amc_tf.config.scale import ScaleOutConfig
from amc_tf.config.train import ModelConfig, TrainConfig

#: The student methods, in the order of the report.
STUDENT_METHODS = ("natural", "at", "ard", "kd", "attention")


class ClassifierSpec(Frozen):
    """A registry classifier and its natural-training recipe."""

    model: ModelConfig
    train: TrainConfig = TrainConfig()


class TransferModelSpec(ClassifierSpec):
    """A further source/target of the transfer matrix, trained naturally as ``<name>``.

    Attributes:
        robust: Also adversarially train it from there with ``adversarial``'s recipe (the robust
            teacher's), as the role ``<name>_adv``: the matrix then has a standard and a robust copy.
    """

    robust: bool = False


class AttentionDistillConfig(Frozen):
    """The distillation losses (:mod:`amc_tf.defenses.robust_distill`, distances in
    :mod:`amc_tf.distill.attention`).

    Defaults: α = 0.9, T = 4 (attention transfer's KD defaults), ``at``, layer i ↔ layer i, and
    β = 1, from the reduced run's ablation (README): β = 0 and 1 were within noise, β = 10 cost 7
    points of clean accuracy, α = 0.5 changed nothing beyond noise.

    Attributes:
        alpha: Weight of the output distillation (``1 − alpha`` on the hard labels) of ``attention``
            and ``kd``.
        temperature: Their softening temperature T.
        beta: Weight of the attention term (``attention``).
        distance: ``at`` (attention transfer), ``mse`` (TinyBERT) or ``kl`` (MiniLM).
        pairs: ``[teacher layer, student layer]`` pairs, 1-based (None = same relative depth).
        ard_alpha: ARD's alpha (Goldblum et al.: 1.0).
        ard_temperature: ARD's temperature (Goldblum et al.: 30).
    """

    alpha: float = Field(default=0.9, ge=0, le=1)
    temperature: float = Field(default=4.0, gt=0, allow_inf_nan=False)
    beta: float = Field(default=1.0, ge=0, allow_inf_nan=False)
    distance: Literal["at", "mse", "kl"] = "at"
    pairs: list[tuple[int, int]] | None = Field(default=None, min_length=1)
    ard_alpha: float = Field(default=1.0, ge=0, le=1)
    ard_temperature: float = Field(default=30.0, gt=0, allow_inf_nan=False)


class TransferConfig(Frozen):
    """The transferability matrix: ``attack`` crafted white-box on each source at each PNR, on
    ``n_examples`` test windows at ``robustness.snr_db``, evaluated on every target."""

    attack: AttackSpec = Field(default_factory=PGDLinfSettings)
    pnr_db: list[float] = Field(default_factory=lambda: [-10.0], min_length=1)
    n_examples: int = Field(default=400, ge=1)

    @field_validator("attack", mode="before")
    @classmethod
    def _bare_name(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value


def _student_at() -> AdversarialTrainingConfig:
    return AdversarialTrainingConfig(
        mode="online",
        mix=[MixEntry(attack={"name": "pgd_linf", "steps": 5}, fraction=1.0)],
        freeze=[],
        train=TrainConfig(learning_rate=1e-3, batch_size=128, epochs=4, patience=0),
    )


def _robustness() -> RobustnessConfig:
    return RobustnessConfig(
        attacks=[{"name": "fgm"}, {"name": "pgd_linf"}],
        art_baselines=["fgm", "pgd_linf"],
        pnr_db=[-20.0, -15.0, -10.0, -5.0, 0.0],
        n_examples=400,
        breakdown_pnr_db=None,
    )


class RobustDistillConfig(PipelineBase):
    """The ``robust_distill`` flow (module docstring).

    Attributes:
        data: The windows (RML2016-style; the paper evaluates at 10 dB).
        split: The split of the robustness report and the transfer matrix.
        teacher: The large transformer and its natural training.
        student: The compact transformer and its natural training.
        adversarial: Online adversarial training: the teacher's hardening, the ``at`` baseline,
            and the attack mix, budget and epochs of ``ard`` and ``attention`` (``kd`` uses its
            epochs only).
        distill: The distillation losses.
        students: The student methods to run (``natural`` is always trained: the others start from it).
        transfer_models: Further naturally trained sources of the transfer matrix (``robust``: and
            their adversarially trained copies).
        robustness: The white-box evaluation of every model.
        art_models: Roles that also get ART's twins (``robustness.art_baselines``); others none.
        transfer: The transferability matrix.
        latency_repeats: Batch-1 TFLite invocations timed per model for the edge-cost table.
        report_min_pnr_db: The directions average over PNR ≥ this (dB; the issue: −10).
        clean_tolerance: Clean accuracy the attention student may lose against the best other student.
        scale_out: Where the robustness reports run: one after another (default) or on Dask.
    """

    kind: Literal["robust_distill"] = "robust_distill"
    name: str = Field(default="robust_distill", min_length=1)
    data: DataSpec = DataSpec()
    split: Literal["val", "test"] = "test"
    teacher: ClassifierSpec = ClassifierSpec(model=ModelConfig(name="mcformer"))
    student: ClassifierSpec = ClassifierSpec(model=ModelConfig(name="mcformer_small"))
    adversarial: AdversarialTrainingConfig = Field(default_factory=_student_at)
    distill: AttentionDistillConfig = AttentionDistillConfig()
    students: list[Literal["natural", "at", "ard", "kd", "attention"]] = Field(
        default_factory=lambda: list(STUDENT_METHODS), min_length=1
    )
    transfer_models: list[TransferModelSpec] = Field(
        default_factory=lambda: [
            TransferModelSpec(model=ModelConfig(name="vtcnn2")),
            TransferModelSpec(model=ModelConfig(name="sbcnn", params={"bn_momentum": 0.9})),
        ]
    )
    robustness: RobustnessConfig = Field(default_factory=_robustness)
    art_models: list[str] = Field(default_factory=lambda: ["teacher_adv", "student_attention"])
    transfer: TransferConfig = TransferConfig()
    latency_repeats: int = Field(default=50, ge=1)
    report_min_pnr_db: float = -10.0
    clean_tolerance: float = Field(default=0.05, ge=0, le=1)
    scale_out: ScaleOutConfig = ScaleOutConfig()

    @model_validator(mode="after")
    def _consistent(self) -> RobustDistillConfig:
        if self.adversarial.mode != "online":
            raise ValueError("adversarial.mode must be online here (the distillation crafts every batch in-graph)")
        if self.adversarial.freeze:
            raise ValueError(f"adversarial.freeze must be empty for the transformers, got {self.adversarial.freeze}")
        if len(set(self.students)) != len(self.students):
            raise ValueError(f"students must be distinct, got {self.students}")
        for spec, role in ((self.teacher, "teacher"), (self.student, "student")):
            if not spec.model.name.startswith("mcformer"):
                raise ValueError(f"{role}.model must be mcformer or mcformer_small, got {spec.model.name!r}")
        names = [spec.model.name for spec in self.transfer_models]
        if len(set(names)) != len(names):
            raise ValueError(f"transfer_models must be distinct models, got {names}")
        roles = set(self.roles())
        unknown = [r for r in self.art_models if r not in roles]
        if unknown:
            raise ValueError(f"art_models {unknown} are not roles of this run; roles: {sorted(roles)}")
        if self.split == "val" and self.data.split.val == 0:
            raise ValueError("split 'val' requested but data.split.val is 0")
        return self

    def student_roles(self) -> list[str]:
        """``student_<method>`` for every method, natural first."""
        methods = ["natural", *[m for m in self.students if m != "natural"]]
        return [f"student_{m}" for m in methods]

    def roles(self) -> list[str]:
        """Every model of the run: teacher, robust teacher, the students, the transfer sources."""
        return ["teacher", "teacher_adv", *self.student_roles(), *self.transfer_roles()]

    def transfer_roles(self) -> list[str]:
        """The transfer models' roles: ``<name>``, then ``<name>_adv`` where ``robust``."""
        return [r for s in self.transfer_models for r in (s.model.name, f"{s.model.name}_adv")[: 1 + s.robust]]

    def robustness_for(self, role: str) -> RobustnessConfig:
        """``robustness`` with ART's twins only for the ``art_models``."""
        if role in self.art_models:
            return self.robustness
        return self.robustness.model_copy(update={"art_baselines": []})


__all__ = [
    "STUDENT_METHODS",
    "AttentionDistillConfig",
    "ClassifierSpec",
    "RobustDistillConfig",
    "TransferConfig",
    "TransferModelSpec",
]
