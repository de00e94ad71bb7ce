"""Config of the ``compress`` pipeline: teacher → distil → prune → export → evaluate.

One flow serves both compression papers:

* **RML2016 / Hinton** (``configs/rml2016_compress.yaml``): Inception teacher, VT-CNN2 student
  distilled with T = 10, alpha = 0.1 and no T² factor, as in the paper (f_D), and trained alone
  (f_S); Net-Trim on f_D's ``dense1`` with the paper's absolute tolerance η = 0.8 (f_P); TF-MOT
  magnitude pruning of the same layer to the same sparsity; TFLite size table at 10 dB.
* **RML2018 / response-based** (``configs/rml2018_distill.yaml``): IBCNN teacher, simplified SBCNN
  student with ``alpha · CE + (1 − alpha) · T²·KL`` (alpha = 0.35, T = 1), 80/10/10 split, best
  weights by validation accuracy, per-SNR curves from 0 to 16 dB and confusion matrices at 6 and
  16 dB; pruning and export switched off (``nettrim: null``, ``tfmot: null``, ``export: null``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from amc_tf.config.base import Frozen, PipelineBase
from amc_tf.config.data import DataSpec
from amc_tf.config.train import ModelConfig, TrainConfig
from amc_tf.models.catalogue import check_layers


class DistillConfig(Frozen):
    """Distillation loss settings (see :mod:`amc_tf.distill`).

    Attributes:
        method: ``hinton`` = ``alpha · [T²·]KL + (1 − alpha) · CE``; ``response`` =
            ``alpha · CE + (1 − alpha) · [T²·]KL``.
        alpha: Weight in [0, 1] (its meaning depends on ``method``, as in each paper).
        temperature: Softening temperature T > 0.
        scale_t2: Multiply the KL term by T² (Hinton's correction; default on). The first
            compression paper's loss has no T² (``configs/rml2016_compress.yaml`` sets false);
            the README compares the two.
    """

    method: Literal["hinton", "response"] = "hinton"
    alpha: float = Field(default=0.1, ge=0, le=1)
    temperature: float = Field(default=10.0, gt=0)
    scale_t2: bool = True


class NetTrimConfig(Frozen):
    """Net-Trim on one ReLU Dense layer of the distilled model (references §5).

    Attributes:
        layer: Layer to prune (VT-CNN2: ``dense1``, 10,560 × 256).
        eta: η; ε = η · ‖Y‖_F (``tolerance: relative``, ≤ 1; the Net-Trim authors' gain) or ε = η
            in the layer's output units (``tolerance: absolute``; the AMC paper's η = 0.8).
            Larger → sparser.
        tolerance: ``relative`` or ``absolute`` (how ``eta`` is read).
        rho: ADMM penalty; None = 1 / (3 · mean |W|) of the layer (see ``nettrim_dense``).
        warm_start: Start ADMM at the layer's weights (default) instead of zeros.
        samples: Training windows (mixed SNRs) whose activations form the constraints.
        max_iter: Safety cap on ADMM iterations; the normal stop is the residual criterion.
        abs_tol: Absolute tolerance of ADMM's primal/dual residual criterion (solver units).
        rel_tol: Relative tolerance of that criterion.
        feasibility_rtol: Slack, a fraction of ε, of the report's ``constraint_satisfied``.
    """

    layer: str = Field(default="dense1", min_length=1)
    eta: float = Field(default=0.06, gt=0, allow_inf_nan=False)
    tolerance: Literal["relative", "absolute"] = "relative"
    rho: float | None = Field(default=None, gt=0)
    warm_start: bool = True
    samples: int = Field(default=3000, ge=2)
    max_iter: int = Field(default=2000, ge=1)
    abs_tol: float = Field(default=1e-7, ge=0)
    rel_tol: float = Field(default=1e-3, ge=0, lt=1)
    feasibility_rtol: float = Field(default=1e-2, ge=0, le=1)

    @model_validator(mode="before")
    @classmethod
    def _no_delta_rule(cls, data):
        if isinstance(data, dict) and "tol" in data:
            raise ValueError(
                "nettrim.tol (the ‖ΔW‖ stop rule) was replaced by ADMM's residual criterion: "
                "use rel_tol / abs_tol (defaults 1e-3 / 1e-7)"
            )
        return data

    @model_validator(mode="after")
    def _relative_gain(self) -> NetTrimConfig:
        if self.tolerance == "relative" and self.eta > 1:
            raise ValueError(f"a relative eta is a fraction of ‖Y‖_F and must be <= 1, got {self.eta}")
        if self.abs_tol == 0 and self.rel_tol == 0:
            raise ValueError("abs_tol and rel_tol cannot both be 0 (ADMM would never stop before max_iter)")
        return self


class TfmotConfig(Frozen):
    """TF-MOT magnitude pruning of the distilled model with fine-tuning.

    Attributes:
        target_sparsity: Final sparsity; None = the sparsity Net-Trim reached (equal-sparsity
            comparison; requires the ``nettrim`` stage).
        layers: Layers to prune (None = every Dense/Conv2D).
        epochs: Fine-tuning epochs.
        batch_size: Mini-batch size.
        learning_rate: Adam learning rate.
        frequency: Steps between mask updates (1: see design §4).
    """

    target_sparsity: float | None = Field(default=None, gt=0, lt=1)
    layers: list[str] | None = Field(default_factory=lambda: ["dense1"])
    epochs: int = Field(default=2, ge=1)
    batch_size: int = Field(default=256, ge=1)
    learning_rate: float = Field(default=1e-4, gt=0, le=1)
    frequency: int = Field(default=1, ge=1)


class ExportConfig(Frozen):
    """TFLite export and the size table.

    Attributes:
        snr: SNR (dB) of the test windows used for the table's accuracy and latency (paper: 10).
        latency_repeats: Batch-1 interpreter invocations timed per model.
    """

    snr: int = 10
    latency_repeats: int = Field(default=50, ge=1)


class CompressEvalConfig(Frozen):
    """Evaluation of every model on the test split.

    Attributes:
        batch_size: Inference batch size.
        snr_min: Lowest test SNR (dB) reported (None = all); the RML2018 paper tests 0 … 16 dB.
        snr_max: Highest test SNR (dB) reported (None = all).
        confusion_snrs: SNRs (dB) with a confusion matrix per model.
        headline_snr: SNR (dB) of the headline accuracy (paper: 10 dB).
    """

    batch_size: int = Field(default=1024, ge=1)
    snr_min: int | None = None
    snr_max: int | None = None
    confusion_snrs: list[int] = Field(default_factory=lambda: [10])
    headline_snr: int = 10


class CompressConfig(PipelineBase):
    """The ``compress`` flow (module docstring).

    Windows are used at their own scale. Every model the flow builds (teacher and students)
    carries a fixed input gain as its first layer (``input_scale``, default
    ``1 / std(training windows)``, or ``teacher.params.input_scale`` / ``student.params.input_scale``;
    see :mod:`amc_tf.models.input_scale`), so every saved model, pruned copy and TFLite file
    consumes raw windows.
    """

    kind: Literal["compress"] = "compress"
    name: str = Field(default="compress", min_length=1)
    data: DataSpec = DataSpec()
    teacher: ModelConfig = ModelConfig(name="inception")
    student: ModelConfig = ModelConfig(name="vtcnn2")
    teacher_train: TrainConfig = TrainConfig()
    student_train: TrainConfig = TrainConfig()
    distill: DistillConfig = DistillConfig()
    nettrim: NetTrimConfig | None = NetTrimConfig()
    tfmot: TfmotConfig | None = TfmotConfig()
    export: ExportConfig | None = ExportConfig()
    evaluation: CompressEvalConfig = CompressEvalConfig()

    @model_validator(mode="before")
    @classmethod
    def _no_input_gain(cls, data):
        if isinstance(data, dict) and "input_gain" in data:
            raise ValueError(
                "input_gain was removed: windows are no longer scaled in the data; every model carries its "
                "input scale (teacher/student params.input_scale, default 1 / std of the training windows)"
            )
        return data

    @model_validator(mode="after")
    def _layers_exist(self) -> CompressConfig:
        """Net-Trim's and TF-MOT's layers are layers of the student (checked before any work)."""
        if self.nettrim is not None:
            check_layers(self.student.name, [self.nettrim.layer], "nettrim", "nettrim.layer (a ReLU Dense layer)")
        if self.tfmot is not None and self.tfmot.layers is not None:
            check_layers(self.student.name, self.tfmot.layers, "prunable", "tfmot.layers (Dense or Conv2D layers)")
        return self

    @model_validator(mode="after")
    def _stages(self) -> CompressConfig:
        if self.tfmot is not None and self.tfmot.target_sparsity is None and self.nettrim is None:
            raise ValueError(
                "tfmot.target_sparsity is null (= Net-Trim's sparsity) but the nettrim stage is off; give a value"
            )
        return self
