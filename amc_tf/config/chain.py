"""Config of the ``pipeline`` kind (issue 16): the whole chain the product exists for, in one flow.

data → f_S and the teacher → Hinton KD (f_D) → Net-Trim (f_P) → TF-MOT (f_T) + TFLite size table →
clean comparison → adversarial training (f_S^adv, f_D^adv, f_P^adv) → robustness of the six models
(native attacks, and ART's twins on ``art_models``) → the defence paper table → the claims report.

It is the ``defend`` config with a required ``compress:`` section whose ``tfmot``, ``export`` and
``evaluation`` sections are used too (the ``defend`` kind ignores them), plus ``art_models``.
Every stage goes through the stage cache, so a rerun after a change re-executes only the stages
whose inputs changed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from amc_tf.config.defend import DefendConfig

Role = Literal["f_S", "f_D", "f_P", "f_S_adv", "f_D_adv", "f_P_adv"]


class ChainConfig(DefendConfig):
    """The ``pipeline`` flow (module docstring).

    Attributes:
        art_models: The models whose robustness report also runs ``robustness.art_baselines``
            (ART's twins of the native attacks, on the same examples); the others run the native
            attacks only.
    """

    kind: Literal["pipeline"] = "pipeline"
    name: str = Field(default="pipeline", min_length=1)
    art_models: list[Role] = Field(default_factory=lambda: ["f_S"])

    @model_validator(mode="after")
    def _builds_its_models(self) -> ChainConfig:
        if self.compress is None:
            raise ValueError("the pipeline builds its own models: give a compress: section, not models:")
        if len(set(self.art_models)) != len(self.art_models):
            raise ValueError(f"art_models has duplicates: {self.art_models}")
        return self

    def robustness_of(self, role: str) -> list[str] | None:
        """The attacks ``role`` is evaluated with: None (all, ART included) for ``art_models``,
        else the native attack names only."""
        if role in self.art_models:
            return None
        return [spec.name for spec in self.robustness.attacks]


__all__ = ["ChainConfig"]
