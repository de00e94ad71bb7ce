"""Stages of the classifier pipelines: data → splits → build → train → save → evaluate.

Each stage is a plain function of a config section and paths or arrays, returning a typed result
(:mod:`amc_tf.classifier.results`); none of them knows about Prefect or MLflow. The flows
(``train_classifier``, ``evaluate_robustness``, ``compress``) call them, one per task, and log
what they return; tasks exchange file paths, never tensors (design D6). Seeding happens here,
at the start of every stage that draws randomness, so a stage gives the same numbers whether it
runs in a flow or alone.
"""

from __future__ import annotations

import time
from pathlib import Path

from amc_tf.classifier.results import DataResult, Evaluation, TrainedModel
from amc_tf.config.classifier import EvalConfig
from amc_tf.config.data import DataSpec
from amc_tf.config.train import ModelConfig, TrainConfig
from amc_tf.data.cache import materialise
from amc_tf.data.dataset import IQDataset, load_dataset
from amc_tf.data.splits import stratified_split
from amc_tf.evaluation.metrics import evaluate_classifier
from amc_tf.io import atomic_path
from amc_tf.models.input_scale import input_scale_of
from amc_tf.models.loading import load_model as safe_load_model
from amc_tf.models.registry import build_model, model_params
from amc_tf.progress import say
from amc_tf.runtime import keras, set_seed
from amc_tf.training.fit import TrainResult, fit_classifier


def load_data(spec: DataSpec, *, progress: bool = True) -> DataResult:
    """Generate the dataset of ``spec`` (or read it from the cache / its file)."""
    t0 = time.perf_counter()
    ds, path, hit = materialise(spec, progress=progress)
    seconds = time.perf_counter() - t0
    fingerprint = ds.manifest.get("fingerprint") or ds.fingerprint()
    took = "cache hit" if hit else f"generated in {seconds:.1f} s"
    say("data", f"{len(ds)} windows, {len(ds.classes)} classes, {took} ({path})")
    return DataResult(str(path), fingerprint, hit, len(ds), len(ds.classes), seconds, dict(ds.manifest))


def splits(spec: DataSpec, data_path: str, seed: int) -> dict[str, IQDataset]:
    """The seeded (class, SNR)-stratified splits of the dataset at ``data_path``: ``train``,
    ``test`` and, when ``spec.split.val > 0``, ``val``."""
    fractions = spec.split
    ds = load_dataset(data_path, verify=False)
    return stratified_split(ds, train=fractions.train, val=fractions.val, test=fractions.test, seed=seed)


def validation(parts: dict[str, IQDataset]) -> IQDataset:
    """The validation split, or the test split when there is none (the VT-CNN2 notebook's 50/50)."""
    return parts.get("val", parts["test"])


def evaluation_split(spec: DataSpec, data_path: str, split: str, seed: int) -> IQDataset:
    """One split (``train``/``val``/``test``) of the dataset, or all of it (``all``)."""
    if split == "all":
        return load_dataset(data_path, verify=False)
    return splits(spec, data_path, seed)[split]


def build(spec: ModelConfig, train: IQDataset) -> keras.Model:
    """The registry model ``spec`` for ``train``'s classes and window, with its input scale
    derived from the training windows unless ``spec.params`` sets it."""
    params = model_params(spec.name, spec.params, train.x)
    return build_model(spec.name, len(train.classes), train.window, **params)


def save(model: keras.Model, path: str | Path) -> Path:
    """Save ``model`` as a ``.keras`` archive, atomically."""
    path = Path(path)
    with atomic_path(path, suffix=".keras") as tmp:
        model.save(tmp)
    return path


def load(path: str | Path) -> keras.Model:
    """Load a ``.keras`` archive this pipeline saved (uncompiled), through the safe loader."""
    return safe_load_model(path)


def describe(
    model: keras.Model, role: str, path: str | Path, train: IQDataset, val: IQDataset | None, fit: TrainResult | None
) -> TrainedModel:
    """The :class:`TrainedModel` record of a saved model."""
    return TrainedModel(
        role=role,
        model_name=model.name,
        path=str(path),
        n_params=int(model.count_params()),
        input_scale=input_scale_of(model),
        n_train=len(train),
        n_val=len(val) if val is not None else 0,
        fit=fit,
    )


def train(
    spec: ModelConfig,
    recipe: TrainConfig,
    parts: dict[str, IQDataset],
    out_path: str | Path,
    *,
    seed: int,
    role: str = "model",
    checkpoint_dir: str | Path | None = None,
) -> tuple[keras.Model, TrainedModel]:
    """Build ``spec``, train it with ``recipe`` (early stopping on the validation split, best
    weights kept) and save it to ``out_path``; with ``checkpoint_dir``, checkpoint every epoch
    and resume from a checkpoint found there.

    Returns:
        ``(model, record)``.
    """
    set_seed(seed)
    train_set, val = parts["train"], validation(parts)
    model = build(spec, train_set)
    fit = fit_classifier(model, train_set, val, recipe, checkpoint_dir=checkpoint_dir)
    path = save(model, out_path)
    say(
        role,
        f"{model.name}, {model.count_params():,} parameters, {fit.epochs_run} epochs (best {fit.best_epoch + 1}), "
        f"{fit.windows_per_s:.0f} windows/s",
    )
    return model, describe(model, role, path, train_set, val, fit)


def evaluate(model: keras.Model, test: IQDataset, config: EvalConfig) -> Evaluation:
    """Accuracy overall and per SNR, per-class P/R/F1, confusion matrices over all SNRs and at
    ``config.focus_snr``, and the headline accuracy (mean over SNR >= ``headline_snr_min``)."""
    report = evaluate_classifier(model, test, batch_size=config.batch_size, focus_snr=config.focus_snr)
    result = Evaluation(report, config.headline_snr_min)
    say(
        "evaluate",
        f"accuracy {report.accuracy:.4f} overall, {result.headline:.4f} for SNR >= {config.headline_snr_min} dB",
    )
    return result
