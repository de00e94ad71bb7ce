"""Model sets on disk and their cache entries: the per-cell regressors of one training recipe.

A *model set* holds one regressor per (architecture, precoder, cell) as
``<arch>-<precoder>-cell<j>.keras`` files plus ``index.json`` (written last, so a set is complete
once it exists). Sets are cached through :mod:`amc_tf.cache`, keyed by everything that determines
their weights: the training settings and seed, the fingerprint of the training data, for an
adversarially trained set also the standard set it starts from, and the source of the code that
produces them (:data:`MODEL_CODE`), so an edit to the training code never silently reuses stale
models.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amc_tf import cache
from amc_tf.config.mimo import MimoPipelineConfig, Precoder, precoder
from amc_tf.errors import ConfigError, ModelError
from amc_tf.io import atomic_path, write_json
from amc_tf.mimo.dataset import DATASET_CODE
from amc_tf.models.loading import load_model as safe_load_model
from amc_tf.models.mimo_arch import Arch
from amc_tf.runtime import keras

#: Modules whose source determines a model set (the simulator's, which also define the DNN view
#: of the data, and the training code).
MODEL_CODE: tuple[str, ...] = (
    *DATASET_CODE,
    "amc_tf.mimo.training",
    "amc_tf.mimo.adversarial",
    "amc_tf.mimo.cell_attacks",
    "amc_tf.mimo.attack_objectives",
    "amc_tf.mimo.attack_space",
    "amc_tf.mimo.model_sets",
    "amc_tf.models.mimo_arch",
    "amc_tf.models.mimo_dnn",
)

#: ``{cell j: model}`` — the L models of one (precoder, architecture, training).
CellSet = dict[int, Any]


@dataclass(frozen=True)
class ModelKey:
    """Identifies one per-cell regressor."""

    arch: Arch
    precoder: Precoder
    cell: int

    @property
    def name(self) -> str:
        return f"{self.arch.value}-{self.precoder.value}-cell{self.cell}"

    @classmethod
    def parse(cls, name: str) -> ModelKey:
        try:
            arch, prec, cell = name.split("-")
            return cls(Arch(arch), precoder(prec), int(cell.removeprefix("cell")))
        except (ValueError, ConfigError):
            raise ModelError(f"not a power-model name: {name!r} (want <arch>-<precoder>-cell<j>)") from None


def standard_entry(config: MimoPipelineConfig, data_fingerprint: str) -> Path:
    """Cache directory of the standard models trained on the data with ``data_fingerprint``."""
    key = {"train": config.train, "seed": config.seed, "data": data_fingerprint}
    return cache.entry_path(config.data.cache_dir, "models-standard", key, MODEL_CODE)


def adversarial_entry(config: MimoPipelineConfig, data_fingerprint: str, standard: str | Path) -> Path:
    """Cache directory of the adversarially trained copies of the standard set ``standard``."""
    key = {
        "train": config.train,
        "adversarial": config.adversarial,
        "pgd": [config.attack.pgd_step_m, config.attack.pgd_iters],
        "mifgsm": [config.attack.mifgsm_mu, config.attack.mifgsm_iters],
        "domain": [config.attack.eps_unit, config.attack.clip_to_cells, config.system],
        "seed": config.seed,
        "data": data_fingerprint,
        "standard": Path(standard).name,
    }
    return cache.entry_path(config.data.cache_dir, "models-adversarial", key, MODEL_CODE)


def save_models(models: dict[ModelKey, keras.Model], directory: str | Path, info: dict | None = None) -> Path:
    """Write a model set (each file atomically, then ``index.json``)."""
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    for key, model in models.items():
        with atomic_path(root / f"{key.name}.keras", suffix=".keras") as tmp:
            model.save(tmp)
    write_json(root / cache.MARKER, {"models": sorted(k.name for k in models), "info": info or {}})
    return root


def read_index(directory: str | Path) -> dict[str, Any]:
    """The ``index.json`` of a complete model set: ``{"models": [names], "info": {...}}``."""
    index = Path(directory) / cache.MARKER
    if not index.is_file():
        raise ModelError(f"{directory} is not a model set (no {cache.MARKER})")
    return json.loads(index.read_text())


def load_models(directory: str | Path) -> dict[ModelKey, keras.Model]:
    """Load a model set written by :func:`save_models`."""
    root = Path(directory)
    names = read_index(root)["models"]
    return {ModelKey.parse(name): safe_load_model(root / f"{name}.keras") for name in names}


def cell_sets(models: dict[ModelKey, Any]) -> dict[tuple[Precoder, str], CellSet]:
    """Group a model set into ``{(precoder, arch): {cell: model}}``."""
    out: dict[tuple[Precoder, str], CellSet] = {}
    for key, model in models.items():
        out.setdefault((key.precoder, key.arch.value), {})[key.cell] = model
    return out
