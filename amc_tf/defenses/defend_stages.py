"""Stages of the ``defend`` pipeline: adversarial training of one source model through the stage
cache, and randomized-smoothing certification of chosen models (AMC compression paper, §IV).

Each function takes models, datasets, config sections and paths and returns typed results; none
knows about Prefect or MLflow (the flow ``flows/defend.py`` logs what they return). An
adversarial training is keyed by the source model's architecture and weights
(:func:`amc_tf.classifier.cached.weights_digest`: a model loaded from MLflow and the same model
produced by the compress stages share an entry), the recipe, the data and the seed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from amc_tf.classifier import stages
from amc_tf.classifier.cached import weights_digest
from amc_tf.config.certify import SmoothingConfig
from amc_tf.config.defense import AdversarialTrainingConfig
from amc_tf.data.dataset import IQDataset
from amc_tf.defenses.adversarial_results import zero_fraction
from amc_tf.progress import say
from amc_tf.results import Result, decode
from amc_tf.runtime import keras, rng
from amc_tf.stage_cache import StageCache, stage

#: Code whose source determines an adversarially trained model.
ADVERSARIAL_CODE = (
    "amc_tf.attacks",
    "amc_tf.defenses.adversarial_model",
    "amc_tf.defenses.adversarial_offline",
    "amc_tf.defenses.adversarial_results",
    "amc_tf.defenses.adversarial_steps",
    "amc_tf.defenses.adversarial_training",
    "amc_tf.defenses.defend_stages",
    "amc_tf.training",
    "amc_tf.data.splits",
)


def kernel_sparsity(model: keras.Model) -> dict[str, float]:
    """Fraction of exact zeros in the kernel of every Dense / Conv layer, by layer name."""
    out = {}
    for layer in model.layers:
        kernel = getattr(layer, "kernel", None)
        if kernel is not None:
            out[layer.name] = zero_fraction(kernel.numpy())
    return out


def frozen_unchanged(source: keras.Model, trained: keras.Model, layers: list[str]) -> bool:
    """True when every weight of ``layers`` is bit-identical in ``trained`` and ``source``."""
    for name in layers:
        before, after = source.get_layer(name).get_weights(), trained.get_layer(name).get_weights()
        if len(before) != len(after) or not all(np.array_equal(a, b) for a, b in zip(before, after)):
            return False
    return True


@dataclasses.dataclass(frozen=True)
class DefendedModel(Result):
    """An adversarially trained model on disk and how it was made.

    Attributes:
        role: Its role (``f_S_adv``, ..., or ``f_S_adv-<method>`` for Fig. 4).
        source: The role of the model it was trained from.
        model_name: The Keras model's name.
        path: The saved ``.keras`` file.
        training: :class:`~amc_tf.defenses.adversarial_results.AdversarialTrainingResult` as JSON.
        sparsity_before, sparsity_after: Zero fraction of each kernel in the source and here.
        frozen_layers: Layers held fixed.
        frozen_unchanged: Their weights are bit-identical to the source's.
        uri: The MLflow model URI once logged.
    """

    role: str
    source: str
    model_name: str
    path: str
    training: dict[str, Any]
    sparsity_before: dict[str, float]
    sparsity_after: dict[str, float]
    frozen_layers: list[str]
    frozen_unchanged: bool
    uri: str | None = None

    @property
    def sparsity_kept(self) -> bool:
        """Every kernel is at least as sparse as in the source (pruned zeros stayed zero)."""
        return all(self.sparsity_after[k] >= v for k, v in self.sparsity_before.items())

    def metrics(self) -> dict[str, float]:
        out = {f"sparsity_before_{k}": v for k, v in self.sparsity_before.items()}
        out.update({f"sparsity_after_{k}": v for k, v in self.sparsity_after.items()})
        out["frozen_unchanged"] = float(self.frozen_unchanged)
        out["sparsity_kept"] = float(self.sparsity_kept)
        for key in ("epochs", "seconds_per_epoch", "samples_per_s", "crafting_seconds", "trainable_params"):
            value = self.training.get(key)
            if isinstance(value, (int, float)):
                out[key] = float(value)
        return out

    def with_uri(self, uri: str | None) -> DefendedModel:
        return dataclasses.replace(self, uri=uri)


def _quiet(config: AdversarialTrainingConfig) -> AdversarialTrainingConfig:
    return config.model_copy(update={"train": config.train.model_copy(update={"verbose": 0})})


def adversarially_train(
    source: keras.Model,
    source_role: str,
    role: str,
    parts: dict[str, IQDataset],
    config: AdversarialTrainingConfig,
    *,
    seed: int,
    cache: StageCache,
    data_key: dict[str, Any],
    out_path: str | Path,
) -> tuple[keras.Model, DefendedModel, bool]:
    """:func:`~amc_tf.defenses.adversarial_training.adversarial_train` of ``source`` on
    ``parts["train"]`` (validation: ``parts["val"]`` if any), saved to ``out_path``, cached.

    Args:
        source: The trained source classifier (not modified).
        source_role: Its role (``f_S``, ``f_D``, ``f_P``).
        role: The result's role (``f_S_adv``, ...).
        parts: The splits of the data.
        config: The recipe.
        seed: Seeds training and crafting.
        cache: The run's stage cache.
        data_key: What identifies the data (fingerprint, split fractions, split seed).
        out_path: Where the ``.keras`` goes.

    Returns:
        ``(model, record, hit)``.
    """
    from amc_tf.defenses.adversarial_training import adversarial_train

    key = {**data_key, "source": weights_digest(source), "adversarial": _quiet(config), "seed": seed}
    st = stage("adversarial", key, ADVERSARIAL_CODE)
    made: dict[str, Any] = {}

    def compute() -> DefendedModel:
        result = adversarial_train(
            source, parts["train"], parts.get("val"), config, seed=seed, checkpoint_dir=cache.checkpoint_dir(st)
        )
        made["model"] = result.model
        stages.save(result.model, out_path)
        return DefendedModel(
            role=role,
            source=source_role,
            model_name=result.model.name,
            path=str(out_path),
            training=result.to_json(),
            sparsity_before=kernel_sparsity(source),
            sparsity_after=kernel_sparsity(result.model),
            frozen_layers=list(config.freeze),
            frozen_unchanged=frozen_unchanged(source, result.model, list(config.freeze)),
        )

    def restore(record: dict[str, Any]) -> DefendedModel:
        return dataclasses.replace(decode(DefendedModel, record), role=role, path=str(out_path), uri=None)

    record, hit = cache.run(st, {"model.keras": out_path}, compute, restore)
    model = made.get("model") or stages.load(out_path)
    say(
        role,
        f"from {source_role}: frozen {record.frozen_layers} {'unchanged' if record.frozen_unchanged else 'CHANGED'}; "
        + ", ".join(
            f"{k} sparsity {record.sparsity_before[k]:.4f} -> {v:.4f}" for k, v in record.sparsity_after.items()
        ),
    )
    return model, record, hit


def certification_windows(data: IQDataset, snr_db: int, n: int, seed: int) -> IQDataset:
    """``n`` windows of ``data`` at ``snr_db`` (seeded draw; fewer if there are fewer)."""
    at = np.flatnonzero(data.snr == snr_db)
    if at.size == 0:
        raise ValueError(f"no window at SNR {snr_db} dB to certify; the data has SNRs {data.snrs}")
    return data.subset(np.sort(rng(seed).permutation(at)[:n]))


def certify_model(model: keras.Model, windows: IQDataset, config: SmoothingConfig, *, seed: int):
    """:func:`amc_tf.defenses.smoothing.certify` of ``model`` on ``windows`` (a
    :class:`~amc_tf.defenses.smoothing_result.CertificationResult`)."""
    from amc_tf.defenses.smoothing import certify

    return certify(model, windows.x, windows.y, windows.snr, config, seed=seed, progress=False)


__all__ = [
    "ADVERSARIAL_CODE",
    "DefendedModel",
    "adversarially_train",
    "certification_windows",
    "certify_model",
    "frozen_unchanged",
    "kernel_sparsity",
]
