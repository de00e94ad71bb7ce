"""The expensive classifier stages through the stage cache (:mod:`amc_tf.stage_cache`).

Each function runs one stage of :mod:`amc_tf.classifier.stages` /
:mod:`amc_tf.classifier.compression` / :mod:`amc_tf.evaluation.robustness` under a key made of
what the stage reads — its config sections, the data fingerprint and split, the seed, and the
sha256 of the model files it starts from — and the source digest of the code that computes it.
A rerun with the same key and code copies the stored result into the run's folder instead of
recomputing it; a training that was killed resumes from its last epoch's checkpoint. Each
returns ``(..., hit)`` so the flow can tag the child run.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

from amc_tf.classifier import compression, stages
from amc_tf.classifier.results import DataResult, NetTrimmed, TrainedModel
from amc_tf.data.dataset import IQDataset
from amc_tf.evaluation.robustness_report import RobustnessReport
from amc_tf.results import Result, decode
from amc_tf.stage_cache import StageCache, file_sha256, stage

#: Code whose source determines a trained classifier.
TRAIN_CODE = ("amc_tf.training", "amc_tf.models", "amc_tf.classifier.stages", "amc_tf.data.splits")
DISTILL_CODE = (*TRAIN_CODE, "amc_tf.distill", "amc_tf.classifier.compression")
PRUNE_CODE = ("amc_tf.prune", "amc_tf.models", "amc_tf.classifier.compression", "amc_tf.data.splits")
ROBUSTNESS_CODE = ("amc_tf.attacks", "amc_tf.evaluation", "amc_tf.models", "amc_tf.data.splits")


def cache_of(config: Any) -> StageCache:
    """The stage cache of a pipeline config (off when ``config.cache.enabled`` is false)."""
    return StageCache(config.stage_cache_dir)


def _data_key(config: Any, data: DataResult) -> dict[str, Any]:
    return {"data": data.fingerprint, "split": config.data.split, "seed": config.seed}


def _recipe(recipe: Any) -> Any:
    return recipe.model_copy(update={"verbose": 0})  # Keras' progress output changes no number


def _trained_at(record: dict[str, Any], path: str | Path) -> TrainedModel:
    return dataclasses.replace(decode(TrainedModel, record), path=str(path), uri=None)


def train(config: Any, role: str, spec: Any, recipe: Any, data: DataResult, parts: dict[str, IQDataset], out: str):
    """:func:`stages.train` of ``spec`` with ``recipe`` as ``role``, cached, checkpointed per epoch.

    Returns:
        ``(model, record, hit)``.
    """
    cache = cache_of(config)
    st = stage(f"train-{role}", {**_data_key(config, data), "model": spec, "train": _recipe(recipe)}, TRAIN_CODE)
    made: dict[str, Any] = {}

    def compute() -> TrainedModel:
        made["model"], record = stages.train(
            spec, recipe, parts, out, seed=config.seed, role=role, checkpoint_dir=cache.checkpoint_dir(st)
        )
        return record

    record, hit = cache.run(st, {"model.keras": out}, compute, lambda d: _trained_at(d, out))
    return made.get("model") or stages.load(out), record, hit


def distill(config: Any, teacher: TrainedModel, data: DataResult, parts: dict[str, IQDataset], out: str):
    """:func:`compression.distill` of the teacher at ``teacher.path``, cached, checkpointed per epoch.

    Returns:
        ``(model, record, hit)``.
    """
    key = {
        **_data_key(config, data),
        "teacher": file_sha256(teacher.path),
        "student": config.student,
        "train": _recipe(config.student_train),
        "distill": config.distill,
    }
    made: dict[str, Any] = {}
    cache, st = cache_of(config), stage("distill", key, DISTILL_CODE)

    def compute() -> TrainedModel:
        made["model"], record = compression.distill(config, teacher.path, parts, out, cache.checkpoint_dir(st))
        return record

    record, hit = cache.run(st, {"model.keras": out}, compute, lambda d: _trained_at(d, out))
    return made.get("model") or stages.load(out), record, hit


def nettrim(config: Any, model: TrainedModel, data: DataResult, train_set: IQDataset, out: str):
    """:func:`compression.nettrim` of the model at ``model.path``, cached.

    Returns:
        ``(pruned model, record, hit)``.
    """
    key = {**_data_key(config, data), "model": file_sha256(model.path), "nettrim": config.nettrim}
    made: dict[str, Any] = {}

    def compute() -> NetTrimmed:
        made["model"], record = compression.nettrim(config, model.path, train_set, out)
        return record

    def restore(d: dict[str, Any]) -> NetTrimmed:
        return NetTrimmed(_trained_at(d["model"], out), d["report"])

    record, hit = cache_of(config).run(stage("nettrim", key, PRUNE_CODE), {"model.keras": out}, compute, restore)
    return made.get("model") or stages.load(out), record, hit


@dataclasses.dataclass(frozen=True)
class MagnitudePruned(Result):
    """TF-MOT's pruned model and the zero count of its pruned kernels."""

    model: TrainedModel
    zeros: int


def tfmot(config: Any, target: float, model: TrainedModel, data: DataResult, parts: dict[str, IQDataset], out: str):
    """:func:`compression.tfmot` of the model at ``model.path`` to ``target``, cached.

    Returns:
        ``(pruned model, record, zeros in the pruned kernels, hit)``.
    """
    key = {**_data_key(config, data), "model": file_sha256(model.path), "tfmot": config.tfmot, "target": target}
    made: dict[str, Any] = {}

    def compute() -> MagnitudePruned:
        made["model"], record, zeros = compression.tfmot(config, target, model.path, parts, out)
        return MagnitudePruned(record, zeros)

    def restore(d: dict[str, Any]) -> MagnitudePruned:
        return MagnitudePruned(_trained_at(d["model"], out), int(d["zeros"]))

    result, hit = cache_of(config).run(stage("tfmot", key, PRUNE_CODE), {"model.keras": out}, compute, restore)
    return made.get("model") or stages.load(out), result.model, result.zeros, hit


def weights_digest(model: Any) -> str:
    """sha256 of a Keras model's architecture and weights (the identity of a model loaded from
    MLflow, whose archive bytes this stage never sees)."""
    digest = hashlib.sha256(model.to_json().encode())
    for array in model.get_weights():
        digest.update(str(array.dtype).encode() + str(array.shape).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def robustness(config: Any, model: Any, data: DataResult, ds: IQDataset, out: str):
    """:func:`amc_tf.evaluation.robustness.evaluate_robustness` of ``model`` on ``ds``, cached.

    Returns:
        ``(report, hit)``; the report is also saved to ``out``.
    """
    from amc_tf.evaluation.robustness import evaluate_robustness  # the attack machinery: only when needed

    key = {
        **_data_key(config, data),
        "model": weights_digest(model),
        "split_name": config.split,
        "robustness": config.robustness,
    }

    def compute() -> RobustnessReport:
        report = evaluate_robustness(model, ds, config.robustness)
        report.save(out)
        return report

    return cache_of(config).run(
        stage("robustness", key, ROBUSTNESS_CODE),
        {"robustness_report.json": out},
        compute,
        lambda d: decode(RobustnessReport, d),
    )


__all__ = ["MagnitudePruned", "distill", "nettrim", "robustness", "tfmot", "train", "weights_digest"]
