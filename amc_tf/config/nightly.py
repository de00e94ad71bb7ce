"""Config of the nightly robustness regression (issue 16 item 2): a fixed, versioned suite —
the evaluation examples (data, split, SNR, count, seed), the attacks and the PNR grid — run on the
registered models that carry an alias, and the tolerances of its comparisons with the last
passing nightly and with ART's attacks on the same examples.

``suite_version`` names the suite; the nightly compares a model only with a baseline of the same
version, and refuses a baseline whose suite (hashed from everything that decides the numbers)
differs under the same version: change the suite, bump the version.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from amc_tf.config.attack import RobustnessConfig, SweepMode
from amc_tf.config.base import Frozen, PipelineBase
from amc_tf.config.data import DataSpec, SplitConfig, SyntheticConfig
from amc_tf.config.scale import ScaleOutConfig

_ALIAS = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class Tolerances(Frozen):
    """How far tonight may move from the references before the nightly fails (accuracy, 0–1).

    Attributes:
        robust_accuracy: Allowed fall of any robust-accuracy point (attack × PNR) and of the
            cascade worst case below the last passing nightly (the model became less robust).
        clean_accuracy: Allowed fall of clean accuracy below the last passing nightly.
        attack_strength: For the *same model version*, allowed rise of a robust-accuracy point
            above the last passing nightly (same model, same examples and seed: a rise means our
            attacks became weaker). Same config and seed give the same numbers on CPU, so the
            default only absorbs a one-example change at 256 examples.
        art_margin: Allowed excess of our robust accuracy over ART's twin attack on the same
            examples and budgets (ours must stay at least as strong).
    """

    robust_accuracy: float = Field(default=0.05, ge=0.0, le=1.0)
    clean_accuracy: float = Field(default=0.05, ge=0.0, le=1.0)
    attack_strength: float = Field(default=0.005, ge=0.0, le=1.0)
    art_margin: float = Field(default=0.02, ge=0.0, le=1.0)


def _nightly_suite() -> RobustnessConfig:
    """FGSM, PGD-10 L2, PGD-10 L∞ and DeepFool over six PNRs on 256 examples at 10 dB, walked as a
    survivors cascade; ART's FGSM and PGD-L2 on the same examples."""
    return RobustnessConfig(
        attacks=[{"name": "fgsm"}, {"name": "pgd_l2", "steps": 10}, {"name": "pgd_linf", "steps": 10}, "deepfool"],
        art_baselines=["fgsm", "pgd_l2"],
        pnr_db=[-20.0, -16.0, -12.0, -8.0, -4.0, 0.0],
        n_examples=256,
        art_max_examples=256,
        breakdown_pnr_db=None,
        sweep=SweepMode.SURVIVORS,
    )


def _pipeline_quick_data() -> DataSpec:
    """The data of ``configs/pipeline_quick.yaml`` (the models README line 1 registers)."""
    return DataSpec(
        synthetic=SyntheticConfig(family="rml2016", windows_per_key=300, snrs=[10, 18], seed=2016),
        split=SplitConfig(train=0.5, val=0.0, test=0.5),
    )


class NightlyConfig(PipelineBase):
    """The ``nightly`` flow: the suite on every listed registered model that carries ``alias``.

    The evaluation examples are ``split`` of ``data`` split with the top-level ``seed`` — give the
    training flow's seed and data to evaluate its models on their own held-out split.

    Attributes:
        suite_version: Name of the suite; baselines are looked up under the same version.
        models: Registered model names (e.g. ``pipeline_quick-f_S``); every one must carry ``alias``.
        alias: The alias evaluated (``candidate``: what the flows registered last).
        data: The evaluation data (regenerated or read from the cache by its config hash).
        split: Which split of ``data`` the examples come from.
        robustness: Attacks, PNR grid, example count, seed and ART baselines of the suite.
        tolerances: How far tonight may move from the baseline and from ART.
        promote: When a model passes and ``alias`` is ``candidate``, make that version the
            ``champion`` (the old champion becomes ``previous``).
        scale_out: Where the per-model suites run: one after another here (default), or in
            parallel on Dask (:class:`~amc_tf.config.scale.ScaleOutConfig`).
    """

    kind: Literal["nightly"] = "nightly"
    name: str = Field(default="nightly", min_length=1)
    suite_version: str = Field(default="1", min_length=1, max_length=64)
    models: list[str] = Field(min_length=1)
    alias: str = "candidate"
    data: DataSpec = Field(default_factory=_pipeline_quick_data)
    split: Literal["train", "val", "test", "all"] = "test"
    robustness: RobustnessConfig = Field(default_factory=_nightly_suite)
    tolerances: Tolerances = Tolerances()
    promote: bool = True
    scale_out: ScaleOutConfig = ScaleOutConfig()

    @field_validator("models")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each model may appear once")
        if any(not name.strip() or "'" in name or '"' in name for name in value):
            raise ValueError("model names must be non-empty and free of quotes")
        return value

    @field_validator("suite_version")
    @classmethod
    def _plain_version(cls, value: str) -> str:
        if "'" in value or '"' in value:
            raise ValueError("suite_version must be free of quotes")
        return value

    @field_validator("alias")
    @classmethod
    def _alias_name(cls, value: str) -> str:
        if not _ALIAS.match(value):
            raise ValueError(f"alias {value!r} is not a valid MLflow alias (letters, digits, '_', '-')")
        return value

    def suite_digest(self) -> str:
        """sha256 (16 hex) of everything that decides the suite's numbers for a given model."""
        import hashlib
        import json

        decisive = {
            "data": self.data.model_dump(mode="json", exclude={"cache_dir"}),
            "split": self.split,
            "split_seed": self.seed,
            "robustness": self.robustness.model_dump(mode="json"),
        }
        return hashlib.sha256(json.dumps(decisive, sort_keys=True).encode()).hexdigest()[:16]
