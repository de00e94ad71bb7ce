"""Config of the ``defend`` pipeline (issue 13): adversarial training of f_S, f_D and f_P, and the
robustness of all six models (the AMC compression paper's defence, its §IV and Figs. 2–4).

The three source models come from exactly one of

* ``compress:`` — a :class:`~amc_tf.config.compress.CompressConfig` whose data → teacher → f_S →
  distil (f_D) → Net-Trim (f_P) stages run inside the flow through the stage cache (a rerun, or a
  ``compress`` run with the same sections and cache folder, reuses them); its ``tfmot``,
  ``export`` and ``evaluation`` sections are not used here. The run-level fields (``seed``,
  ``name``, ``tracking``, ``output_dir``, ``cache``) are the defend config's own and may not be
  set inside the section; its ``data`` is the defend config's ``data``.
* ``models: {f_S: uri, f_D: uri, f_P: uri}`` — MLflow model URIs, run ids or local ``.keras``
  paths (loaded through :func:`amc_tf.tracking.models.load_keras_model`); ``data`` is then
  required and must be the data the models were trained on.

Each source is adversarially trained with ``adversarial`` (default: the paper's offline PGD +
FGSM half/half, ``dense1`` frozen) and the six models are attacked with ``robustness`` (default:
FGM, FGSM, PGD-L∞, DeepFool and the SVD UAP at 10 dB over −20…0 dB, no ART baselines). ``methods``
adds Fig. 4 (other attack mixes, trained on f_S, evaluated under PGD); ``certify`` adds certified
accuracy by randomized smoothing for ``certify_models``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from amc_tf.config.attack import RobustnessConfig
from amc_tf.config.base import Frozen, PipelineBase
from amc_tf.config.certify import SmoothingConfig
from amc_tf.config.compress import CompressConfig
from amc_tf.config.data import DataSpec
from amc_tf.config.defense import AdversarialTrainingConfig, MixEntry
from amc_tf.config.scale import ScaleOutConfig

#: The source models, in the paper's order of the figures.
SOURCES = ("f_S", "f_D", "f_P")
#: Their adversarially trained versions.
DEFENDED = tuple(f"{role}_adv" for role in SOURCES)
#: Every model the flow evaluates.
ROLES = SOURCES + DEFENDED
#: Fields of a pipeline config that belong to the defend run, not to its compress section.
RUN_FIELDS = ("kind", "name", "seed", "tracking", "output_dir", "cache")


class SourceModels(Frozen):
    """Model URIs (``runs:/…``, ``models:/name@alias``, a run id) or local ``.keras`` paths."""

    f_S: str = Field(min_length=1)  # noqa: N815  (the paper's model names)
    f_D: str = Field(min_length=1)  # noqa: N815
    f_P: str = Field(min_length=1)  # noqa: N815


def _default_robustness() -> RobustnessConfig:
    return RobustnessConfig(
        attacks=[{"name": n} for n in ("fgm", "fgsm", "pgd_linf", "deepfool", "uap_svd")],
        art_baselines=[],
        breakdown_pnr_db=None,
    )


class DefendMethod(Frozen):
    """One adversarial-training recipe of Fig. 4: a label and its attack mix (the rest of
    ``adversarial`` is shared)."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.+\-]+$")
    mix: list[MixEntry] = Field(min_length=1)


class DefendReportConfig(Frozen):
    """Which curves the figures and the paper table read.

    Attributes:
        pgd_attack: The PGD of Figs. 3–4 and of the table's "PGD at ``pgd_pnr_db``" row.
        fgm_attack: The FGM of Fig. 3 and of the table's "FGM, mean over the grid" row.
        pgd_pnr_db: PNR (dB) of the PGD gain (paper: 0 dB); must be on the grid.
        direction_min_pnr_db: The "AT raises robust accuracy" check covers PNR ≥ this (dB).
    """

    pgd_attack: str = "pgd_linf"
    fgm_attack: str = "fgm"
    pgd_pnr_db: float = 0.0
    direction_min_pnr_db: float = -10.0


class DefendConfig(PipelineBase):
    """The ``defend`` flow (module docstring).

    Attributes:
        compress: Produce f_S, f_D, f_P with these compression stages (exclusive with ``models``).
        models: Or load them from these URIs (exclusive with ``compress``).
        data: Data of adversarial training and evaluation (with ``compress``: its data).
        split: The split the robustness report and certification attack (training uses ``train``).
        adversarial: The adversarial-training recipe applied to each source.
        robustness: Attacks, PNR grid, SNR and sizes of the robustness report of all six models.
        methods: Fig. 4: other attack mixes trained on f_S and evaluated under ``report.pgd_attack``
            (None = no Fig. 4). The ``adversarial`` mix is always the figure's reference.
        certify: Randomized-smoothing certification (None = off).
        certify_models: Which of the six models are certified.
        certify_examples: Windows certified per model (at ``robustness.snr_db``).
        report: The curves the figures and the table read.
        scale_out: Where the six robustness reports run: one after another (default) or on Dask.
    """

    kind: Literal["defend"] = "defend"
    name: str = Field(default="defend", min_length=1)
    compress: CompressConfig | None = None
    models: SourceModels | None = None
    data: DataSpec | None = None
    split: Literal["val", "test"] = "test"
    adversarial: AdversarialTrainingConfig = AdversarialTrainingConfig()
    robustness: RobustnessConfig = Field(default_factory=_default_robustness)
    methods: list[DefendMethod] | None = None
    certify: SmoothingConfig | None = None
    certify_models: list[Literal["f_S", "f_D", "f_P", "f_S_adv", "f_D_adv", "f_P_adv"]] = Field(
        default_factory=lambda: list(DEFENDED), min_length=1
    )
    certify_examples: int = Field(default=100, ge=1)
    report: DefendReportConfig = DefendReportConfig()
    scale_out: ScaleOutConfig = ScaleOutConfig()

    @field_validator("compress", mode="before")
    @classmethod
    def _run_fields_are_ours(cls, value: Any) -> Any:
        if isinstance(value, dict):
            inner = [k for k in RUN_FIELDS if k in value and k != "kind"]
            if inner:
                raise ValueError(f"set {inner} at the top level of the defend config, not inside compress")
        return value

    @model_validator(mode="before")
    @classmethod
    def _data_of_compress(cls, data: Any) -> Any:
        """With ``compress`` and no top-level ``data``, the data is the compress section's."""
        if isinstance(data, dict) and isinstance(data.get("compress"), dict) and data.get("data") is None:
            return {**data, "data": data["compress"].get("data", {})}
        return data

    @model_validator(mode="after")
    def _one_source(self) -> DefendConfig:
        if (self.compress is None) == (self.models is None):
            given = "both" if self.compress is not None else "neither"
            raise ValueError(
                f"give exactly one source of f_S, f_D and f_P: a compress: section or models: {{f_S, f_D, f_P}} "
                f"URIs ({given} given)"
            )
        if self.data is None:
            raise ValueError("models: needs data: (the data the models were trained on, for training and attacks)")
        if self.compress is not None:
            if self.compress.nettrim is None:
                raise ValueError("compress.nettrim is null, but f_P (distilled + Net-Trim) is one of the sources")
            if self.compress.data != self.data:
                raise ValueError("data and compress.data differ; give the data once (in compress or at the top)")
        if self.split == "val" and self.data.split.val == 0:
            raise ValueError("split 'val' requested but data.split.val is 0")
        return self

    @model_validator(mode="after")
    def _report_curves_exist(self) -> DefendConfig:
        names = [spec.name for spec in self.robustness.attacks]
        for field in ("pgd_attack", "fgm_attack"):
            if getattr(self.report, field) not in names:
                raise ValueError(f"report.{field} {getattr(self.report, field)!r} is not in robustness.attacks {names}")
        if self.report.pgd_pnr_db not in self.robustness.pnr_db:
            raise ValueError(f"report.pgd_pnr_db {self.report.pgd_pnr_db:g} is not on robustness.pnr_db")
        if self.methods is not None:
            labels = [m.name for m in self.methods]
            if len(set(labels)) != len(labels):
                raise ValueError(f"methods must have distinct names, got {labels}")
            for method in self.methods:
                self.method_config(method)  # the mix must make a valid recipe
        return self

    def method_config(self, method: DefendMethod) -> AdversarialTrainingConfig:
        """``adversarial`` with ``method``'s mix (validated: fractions sum to 1, online-capable …)."""
        dumped = self.adversarial.model_dump()
        dumped["mix"] = [entry.model_dump() for entry in method.mix]
        return AdversarialTrainingConfig.model_validate(dumped)

    def compress_config(self) -> CompressConfig:
        """The compress section with this run's seed, name, tracking, output folder and cache,
        so its stages share the stage cache (and registered-model prefix) of this run."""
        update = {field: getattr(self, field) for field in RUN_FIELDS if field != "kind"}
        return self.compress.model_copy(update=update)

    def robustness_for(self, attacks: list[str]) -> RobustnessConfig:
        """``robustness`` restricted to ``attacks`` (Fig. 4), without ART baselines or breakdown."""
        dumped = self.robustness.model_dump()
        dumped.update(
            attacks=[a for a in dumped["attacks"] if a["name"] in attacks],
            art_baselines=[],
            breakdown_pnr_db=None,
        )
        return RobustnessConfig.model_validate(dumped)


__all__ = ["DEFENDED", "ROLES", "SOURCES", "DefendConfig", "DefendMethod", "DefendReportConfig", "SourceModels"]
