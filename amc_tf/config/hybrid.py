"""Config of the ``hybrid`` pipeline: one classifier, three hardenings, two rejectors, five
defences under adaptive attack (references §7; :mod:`amc_tf.defenses.hybrid`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from amc_tf.attacks.adaptive_settings import AdaptiveAttackConfig
from amc_tf.config.base import PipelineBase
from amc_tf.config.data import DataSpec
from amc_tf.config.defense import AdversarialTrainingConfig
from amc_tf.config.hardening import CatConfig, LsGnaConfig
from amc_tf.config.rejection import AutoencoderConfig, NeuralRejectionConfig
from amc_tf.config.train import ModelConfig, TrainConfig


class HybridConfig(PipelineBase):
    """The ``hybrid`` flow: data → f_S → CAT / LS-GNA / AT → NR / NR / auto-encoder → attacks.

    Attributes:
        data, model, train: The dataset and the classifier trained first (f_S).
        cat, ls_gna, adversarial: The three fine-tunings of f_S (CAT, LS-GNA, the two-fold
            defence's PGD+FGSM adversarial training).
        rejection, autoencoder: The run-time rejectors (neural rejection behind CAT and LS-GNA,
            the auto-encoder behind the AT model).
        attack: The adaptive PGD-L2 and its non-adaptive twin.
        pnr_db: The PNR grid (dB). ``snr_db``: SNR of the attacked test windows.
        n_examples: Test windows attacked (the first ones at ``snr_db``).
    """

    kind: Literal["hybrid"] = "hybrid"
    name: str = Field(default="hybrid", min_length=1)
    data: DataSpec = DataSpec()
    model: ModelConfig = ModelConfig()
    train: TrainConfig = TrainConfig()
    cat: CatConfig = CatConfig()
    ls_gna: LsGnaConfig = LsGnaConfig()
    adversarial: AdversarialTrainingConfig = AdversarialTrainingConfig()
    rejection: NeuralRejectionConfig = NeuralRejectionConfig()
    autoencoder: AutoencoderConfig = AutoencoderConfig()
    attack: AdaptiveAttackConfig = AdaptiveAttackConfig()
    pnr_db: list[float] = Field(default_factory=lambda: [-20.0, -15.0, -10.0, -5.0, 0.0], min_length=1)
    snr_db: int = 10
    n_examples: int = Field(default=1000, ge=1)

    @field_validator("pnr_db")
    @classmethod
    def _sorted(cls, value: list[float]) -> list[float]:
        if sorted(value) != value or len(set(value)) != len(value):
            raise ValueError(f"pnr_db must be strictly increasing, got {value}")
        return value
