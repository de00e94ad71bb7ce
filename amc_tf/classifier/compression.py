"""Stages of the ``compress`` pipeline after the teacher and f_S are trained (papers: Hinton KD +
Net-Trim on RML2016; response-based KD on RML2018).

distil the teacher into a fresh student (f_D) → Net-Trim on f_D's dense layer without
fine-tuning (f_P) → TF-MOT gradual magnitude pruning of f_D at f_P's sparsity, with fine-tuning
(f_T) → TFLite size / sparsity / latency / accuracy table → per-model test reports with
confusion matrices at chosen SNRs. Every function takes config sections, datasets and paths,
and returns typed results (:mod:`amc_tf.classifier.results`); models are saved as ``.keras``
files beside the run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.metrics import confusion_matrix

from amc_tf.classifier import stages
from amc_tf.classifier.results import ModelComparison, NetTrimmed, SizeTable, TrainedModel
from amc_tf.config.compress import CompressConfig, CompressEvalConfig, ExportConfig, TfmotConfig
from amc_tf.data.dataset import IQDataset
from amc_tf.distill.train import distill_student
from amc_tf.evaluation.metrics import evaluate_predictions
from amc_tf.export.table import format_table, size_row
from amc_tf.models.inference import predict_batched
from amc_tf.progress import say
from amc_tf.prune.apply import nettrim_dense, sample_windows
from amc_tf.runtime import keras, set_seed


def distill(
    config: CompressConfig,
    teacher_path: str,
    parts: dict[str, IQDataset],
    out_path: str | Path,
    checkpoint_dir: str | Path | None = None,
) -> tuple[keras.Model, TrainedModel]:
    """Distil the teacher at ``teacher_path`` into a fresh ``config.student`` (f_D) with
    ``config.distill``'s loss and ``config.student_train``'s recipe, and save it (with
    ``checkpoint_dir``: checkpointed every epoch, resumed from a checkpoint found there)."""
    settings = config.distill
    set_seed(config.seed)
    train, val = parts["train"], stages.validation(parts)
    student = stages.build(config.student, train)
    fit = distill_student(
        student,
        stages.load(teacher_path),
        train,
        val,
        settings,
        config.student_train,
        checkpoint_dir=checkpoint_dir,
    )
    path = stages.save(student, out_path)
    say("distill", f"{settings.method}: {fit.epochs_run} epochs (best {fit.best_epoch + 1})")
    return student, stages.describe(student, "f_D", path, train, val, fit)


def nettrim(
    config: CompressConfig, model_path: str, train: IQDataset, out_path: str | Path
) -> tuple[keras.Model, NetTrimmed]:
    """Net-Trim (ADMM, ``config.nettrim``) on one ReLU Dense layer of the model at ``model_path``
    (f_P, no fine-tuning)."""
    settings = config.nettrim
    idx = sample_windows(len(train), settings.samples, config.seed)
    pruned, report = nettrim_dense(
        stages.load(model_path),
        settings.layer,
        train.x[idx],
        eta=settings.eta,
        tolerance=settings.tolerance,
        rho=settings.rho,
        warm_start=settings.warm_start,
        max_iter=settings.max_iter,
        abs_tol=settings.abs_tol,
        rel_tol=settings.rel_tol,
        feasibility_rtol=settings.feasibility_rtol,
        progress=True,
    )
    path = stages.save(pruned, out_path)
    residuals = (
        f"primal {report.primal_residual:.2e} (tol {report.primal_tolerance:.2e}), "
        f"dual {report.dual_residual:.2e} (tol {report.dual_tolerance:.2e})"
    )
    relative_eps = report.epsilon / max(report.output_norm, 1e-30)
    say(
        "nettrim",
        f"{report.layer} sparsity {report.sparsity:.4f} ({report.nonzero:,} of {report.weights:,}); {report.tolerance} "
        f"eta {report.eta:g}: eps {report.epsilon:.4g} = {relative_eps:.4f} ||Y||_F, output error "
        f"{report.output_error:.4g}, constraint {'holds' if report.constraint_satisfied else 'VIOLATED'}; "
        f"{report.iterations} iterations, {'converged' if report.converged else 'hit max_iter'}, {residuals}, "
        f"{report.seconds:.1f} s",
    )
    return pruned, NetTrimmed(stages.describe(pruned, "f_P", path, train, None, None), report.to_json())


def tfmot_target(settings: TfmotConfig, nettrim_sparsity: float | None) -> float:
    """TF-MOT's target sparsity: the configured one, else Net-Trim's (the equal-sparsity
    comparison), kept inside TF-MOT's open interval (0, 1)."""
    if settings.target_sparsity is not None:
        return settings.target_sparsity
    if nettrim_sparsity is None:
        raise ValueError("tfmot.target_sparsity is null, which needs the nettrim stage's sparsity")
    return min(max(nettrim_sparsity, 0.01), 0.99)


def pruned_zeros(model: keras.Model, layers: list[str] | None) -> int:
    """Zero entries in the kernels of ``layers`` of ``model``."""
    return sum(int(np.sum(model.get_layer(name).get_weights()[0] == 0)) for name in (layers or []))


def tfmot(
    config: CompressConfig, target: float, model_path: str, parts: dict[str, IQDataset], out_path: str | Path
) -> tuple[keras.Model, TrainedModel, int]:
    """TF-MOT gradual magnitude pruning (``config.tfmot``) of the model at ``model_path`` to
    ``target`` (f_T).

    Returns:
        ``(model, record, zeros in the pruned kernels)``.
    """
    from amc_tf.prune.tfmot import prune_magnitude

    settings = config.tfmot
    set_seed(config.seed)
    train, val = parts["train"], stages.validation(parts)
    pruned = prune_magnitude(
        stages.load(model_path),
        train.x,
        train.y,
        target_sparsity=target,
        layers=settings.layers,
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        learning_rate=settings.learning_rate,
        frequency=settings.frequency,
        validation_data=(val.x, val.y),
    )
    path = stages.save(pruned, out_path)
    return pruned, stages.describe(pruned, "f_T", path, train, val, None), pruned_zeros(pruned, settings.layers)


def size_table(settings: ExportConfig, models: dict[str, str], test: IQDataset, out_dir: str | Path) -> SizeTable:
    """Export every model but the teacher to TFLite and measure size, non-zeros, batch-1 latency
    and accuracy on the test windows at ``settings.snr``."""
    at = test.subset(test.snr == settings.snr)
    rows = [
        size_row(
            role, stages.load(path), Path(out_dir) / f"{role}.tflite", at.x, at.y, repeats=settings.latency_repeats
        )
        for role, path in models.items()
        if role != "teacher"
    ]
    table = SizeTable(rows, settings.snr, len(at), format_table(rows, accuracy_label=f"acc @ {settings.snr} dB"))
    say("export", "\n" + table.markdown)
    return table


def compare_models(settings: CompressEvalConfig, models: dict[str, str], test: IQDataset) -> ModelComparison:
    """Per-model test reports (accuracy and macro-F1 per SNR, per-class P/R/F1) within
    ``[snr_min, snr_max]``, with a confusion matrix per model at each of ``confusion_snrs``."""
    keep = np.ones(len(test), bool)
    if settings.snr_min is not None:
        keep &= test.snr >= settings.snr_min
    if settings.snr_max is not None:
        keep &= test.snr <= settings.snr_max
    test = test.subset(keep)
    labels = np.arange(len(test.classes))
    reports = {}
    for role, path in models.items():
        pred = predict_batched(stages.load(path), test.x, settings.batch_size).argmax(axis=1)
        report = evaluate_predictions(test.y, pred, test.snr, test.classes, focus_snr=None).to_dict()
        report["confusion_by_snr"] = {
            s: confusion_matrix(test.y[test.snr == s], pred[test.snr == s], labels=labels).tolist()
            for s in settings.confusion_snrs
            if np.any(test.snr == s)
        }
        reports[role] = report
    result = ModelComparison(reports, settings.headline_snr)
    for role, line in result.summary().items():
        say(
            "evaluate",
            f"{role:8s} accuracy {line['accuracy']:.4f}, at {settings.headline_snr} dB "
            f"{line[f'accuracy_{settings.headline_snr}dB']}",
        )
    return result
