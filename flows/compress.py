"""Flow ``compress``: data → teacher → standard student → distil → Net-Trim → TF-MOT → export → evaluate.

One MLflow parent run, a child run per stage. Tasks exchange file paths (``.keras`` models under
``output_dir/<parent run id>/``) and MLflow URIs, never tensors; the science is in
:mod:`amc_tf.distill`, :mod:`amc_tf.prune`, :mod:`amc_tf.export` and the lead's training and
evaluation modules. Model roles follow the paper: ``teacher``, ``f_S`` (student alone),
``f_D`` (distilled), ``f_P`` (Net-Trim on f_D), ``f_T`` (TF-MOT on f_D at f_P's sparsity).
Windows stay at the data's own scale everywhere: each model built here carries its input gain
(``input_scale``, :func:`amc_tf.models.registry.model_params`), so every saved model and TFLite
file takes raw windows.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from prefect import flow, task
from sklearn.metrics import confusion_matrix

from amc_tf.config.compress import CompressConfig
from amc_tf.config.train import ModelConfig
from amc_tf.data.cache import materialise
from amc_tf.data.dataset import IQDataset, load_dataset
from amc_tf.data.splits import stratified_split
from amc_tf.distill.train import distill_student
from amc_tf.evaluation.metrics import evaluate_predictions, predict_logits
from amc_tf.evaluation.plots import plot_accuracy_vs_snr, plot_confusion, plot_training_history
from amc_tf.export.table import format_table, size_row
from amc_tf.io import atomic_path, write_json
from amc_tf.models.input_scale import input_scale_of
from amc_tf.models.registry import build_model, model_params
from amc_tf.prune.apply import nettrim_dense, sample_windows
from amc_tf.runtime import keras, set_seed
from amc_tf.tracking import runs
from amc_tf.training.fit import fit_classifier

CONFIG = CompressConfig


def _splits(config: CompressConfig, data_path: str) -> dict[str, IQDataset]:
    sp = config.data.split
    ds = load_dataset(data_path, verify=False)
    return stratified_split(ds, train=sp.train, val=sp.val, test=sp.test, seed=config.seed)


def _build(spec: ModelConfig, train: IQDataset) -> keras.Model:
    """Build ``spec`` for ``train`` (input scale from its windows unless given) and log its size and scale."""
    params = model_params(spec.name, spec.params, train.x)
    model = build_model(spec.name, len(train.classes), train.window, **params)
    runs.log_metrics({"n_params": model.count_params(), "input_scale": input_scale_of(model)})
    return model


def _load(path: str) -> keras.Model:
    return keras.models.load_model(path, compile=False)


def _save_and_log(config: CompressConfig, model: keras.Model, role: str, out_dir: str) -> dict:
    """Save ``model`` as ``<out_dir>/<role>.keras``; log (and register) it in MLflow."""
    path = Path(out_dir) / f"{role}.keras"
    with atomic_path(path, suffix=".keras") as tmp:
        model.save(tmp)
    uri = None
    if config.tracking.log_models:
        uri = runs.log_keras_model(model, role)
        runs.set_tags({"model_uri": uri})
        if config.tracking.register_models:
            runs.register_model(uri, f"{config.name}-{role}", alias="candidate")
    return {"path": str(path), "uri": uri}


def _log_history(history: dict[str, list[float]], title: str) -> None:
    for epoch in range(len(next(iter(history.values()), []))):
        runs.log_metrics({k: v[epoch] for k, v in history.items()}, step=epoch)
    runs.log_figure(plot_training_history(history, title), "training_history.png")


@task(name="data")
def data_stage(config: CompressConfig, parent_run_id: str) -> dict:
    """Generate (or reuse from the cache) the dataset."""
    with runs.child_run("data", parent_run_id=parent_run_id):
        ds, path, hit = materialise(config.data, progress=True)
        fp = ds.manifest.get("fingerprint") or ds.fingerprint()
        runs.set_tags({"data_fingerprint": fp, "cache_hit": str(hit), "data_path": str(path)})
        runs.log_metrics({"n_windows": len(ds)})
        print(f"data: {len(ds)} windows, {len(ds.classes)} classes ({'cache hit' if hit else 'generated'}: {path})")
        return {"path": str(path), "fingerprint": fp}


@task(name="train")
def train_stage(config: CompressConfig, data: dict, role: str, parent_run_id: str, out_dir: str) -> dict:
    """Train the teacher or the standard student f_S on hard labels."""
    set_seed(config.seed)
    splits = _splits(config, data["path"])
    spec, recipe = (
        (config.teacher, config.teacher_train) if role == "teacher" else (config.student, config.student_train)
    )
    with runs.child_run(role, parent_run_id=parent_run_id):
        train = splits["train"]
        model = _build(spec, train)
        result = fit_classifier(model, train, splits.get("val", splits["test"]), recipe)
        _log_history(result.history, f"{role} ({model.name})")
        runs.log_metrics(result.summary())
        print(f"{role}: {model.name}, {model.count_params():,} parameters, {result.epochs_run} epochs")
        return _save_and_log(config, model, role, out_dir)


@task(name="distill")
def distill_stage(config: CompressConfig, data: dict, teacher: dict, parent_run_id: str, out_dir: str) -> dict:
    """Distil the teacher into a fresh student: f_D."""
    set_seed(config.seed)
    splits = _splits(config, data["path"])
    with runs.child_run("distill", parent_run_id=parent_run_id, params=config.distill.model_dump()):
        train = splits["train"]
        student = _build(config.student, train)
        result = distill_student(
            student,
            _load(teacher["path"]),
            train,
            splits.get("val", splits["test"]),
            config.distill,
            config.student_train,
        )
        _log_history(result.history, f"distillation ({config.distill.method})")
        runs.log_metrics(result.summary())
        return _save_and_log(config, student, "f_D", out_dir)


@task(name="nettrim")
def nettrim_stage(config: CompressConfig, data: dict, distilled: dict, parent_run_id: str, out_dir: str) -> dict:
    """Net-Trim on f_D's dense layer (no fine-tuning): f_P."""
    nt = config.nettrim
    train = _splits(config, data["path"])["train"]
    idx = sample_windows(len(train), nt.samples, config.seed)
    with runs.child_run("nettrim", parent_run_id=parent_run_id, params=nt.model_dump()):
        pruned, report = nettrim_dense(
            _load(distilled["path"]),
            nt.layer,
            train.x[idx],
            eta=nt.eta,
            rho=nt.rho,
            warm_start=nt.warm_start,
            max_iter=nt.max_iter,
            tol=nt.tol,
            progress=True,
        )
        runs.log_metrics({k: float(v) for k, v in report.to_dict().items() if isinstance(v, (int, float, bool))})
        runs.log_json(report.to_dict(), "nettrim_report.json")
        print(
            f"nettrim: {report.layer} sparsity {report.sparsity:.4f} ({report.nonzero:,} of {report.weights:,}), "
            f"relative output error {report.relative_output_error:.4f}, {report.iterations} iterations, {report.seconds:.1f} s"
        )
        return {**_save_and_log(config, pruned, "f_P", out_dir), "report": report.to_dict()}


@task(name="tfmot")
def tfmot_stage(
    config: CompressConfig, data: dict, distilled: dict, sparsity: float, parent_run_id: str, out_dir: str
) -> dict:
    """TF-MOT gradual magnitude pruning of f_D with fine-tuning: f_T."""
    from amc_tf.prune.tfmot import prune_magnitude

    set_seed(config.seed)
    tc = config.tfmot
    splits = _splits(config, data["path"])
    train, val = splits["train"], splits.get("val", splits["test"])
    with runs.child_run("tfmot", parent_run_id=parent_run_id, params={**tc.model_dump(), "resolved_target": sparsity}):
        pruned = prune_magnitude(
            _load(distilled["path"]),
            train.x,
            train.y,
            target_sparsity=sparsity,
            layers=tc.layers,
            epochs=tc.epochs,
            batch_size=tc.batch_size,
            learning_rate=tc.learning_rate,
            frequency=tc.frequency,
            validation_data=(val.x, val.y),
        )
        zeros = sum(int(np.sum(pruned.get_layer(n).get_weights()[0] == 0)) for n in (tc.layers or []))
        runs.log_metrics({"target_sparsity": sparsity, "zeros_in_pruned_kernels": zeros})
        return _save_and_log(config, pruned, "f_T", out_dir)


@task(name="export")
def export_stage(config: CompressConfig, data: dict, models: dict[str, str], parent_run_id: str, out_dir: str) -> dict:
    """TFLite for every compressed model; the size / sparsity / latency / accuracy table."""
    ex = config.export
    test = _splits(config, data["path"])["test"]
    at = test.subset(test.snr == ex.snr)
    with runs.child_run("export", parent_run_id=parent_run_id):
        rows = [
            size_row(role, _load(path), Path(out_dir) / f"{role}.tflite", at.x, at.y, repeats=ex.latency_repeats)
            for role, path in models.items()
            if role != "teacher"
        ]
        table = format_table(rows, accuracy_label=f"acc @ {ex.snr} dB")
        result = {"rows": [r.to_dict() for r in rows], "snr": ex.snr, "n_windows": len(at)}
        by = {r.model: r for r in rows}
        if "f_S" in by and "f_P" in by:
            result["gzip_ratio_fP_over_fS"] = by["f_P"].gzip_bytes / by["f_S"].gzip_bytes
        for r in rows:
            runs.log_metrics({f"{r.model}_{k}": float(v) for k, v in r.to_dict().items() if k != "model"})
        if "gzip_ratio_fP_over_fS" in result:
            runs.log_metrics({"gzip_ratio_fP_over_fS": result["gzip_ratio_fP_over_fS"]})
        runs.log_json(result, "size_table.json")
        with atomic_path(Path(out_dir) / "size_table.md", suffix=".md") as tmp:
            tmp.write_text(table + "\n")
        runs.log_artifact(Path(out_dir) / "size_table.md")
        print(table)
        return {**result, "table": table}


@task(name="evaluate")
def evaluate_stage(
    config: CompressConfig, data: dict, models: dict[str, str], parent_run_id: str, out_dir: str
) -> dict:
    """Per-SNR accuracy and macro-F1 curves, per-class P/R/F1, confusion matrices, per model."""
    ev = config.evaluation
    test = _splits(config, data["path"])["test"]
    keep = np.ones(len(test), bool)
    if ev.snr_min is not None:
        keep &= test.snr >= ev.snr_min
    if ev.snr_max is not None:
        keep &= test.snr <= ev.snr_max
    test = test.subset(keep)
    labels = np.arange(len(test.classes))
    with runs.child_run("evaluate", parent_run_id=parent_run_id):
        reports, summary = {}, {}
        for role, path in models.items():
            pred = predict_logits(_load(path), test.x, ev.batch_size).argmax(axis=1)
            rep = evaluate_predictions(test.y, pred, test.snr, test.classes, focus_snr=None).to_dict()
            rep["confusion_by_snr"] = {
                s: confusion_matrix(test.y[test.snr == s], pred[test.snr == s], labels=labels).tolist()
                for s in ev.confusion_snrs
                if np.any(test.snr == s)
            }
            for s, cm in rep["confusion_by_snr"].items():
                runs.log_figure(plot_confusion(cm, test.classes, f"{role} at {s} dB"), f"confusion_{role}_{s}dB.png")
            reports[role] = rep
            summary[role] = {
                "accuracy": rep["accuracy"],
                f"accuracy_{ev.headline_snr}dB": rep["accuracy_by_snr"].get(ev.headline_snr),
            }
            runs.log_metrics(
                {
                    f"{role}_accuracy": rep["accuracy"],
                    **{f"{role}_acc_snr_{s}".replace("-", "m"): a for s, a in rep["accuracy_by_snr"].items()},
                    **{f"{role}_f1_snr_{s}".replace("-", "m"): f for s, f in rep["f1_by_snr"].items()},
                }
            )
        runs.log_figure(
            plot_accuracy_vs_snr({r: v["accuracy_by_snr"] for r, v in reports.items()}, "Accuracy vs SNR"),
            "accuracy_vs_snr.png",
        )
        runs.log_figure(
            plot_accuracy_vs_snr({r: v["f1_by_snr"] for r, v in reports.items()}, "Macro F1 vs SNR", ylabel="macro F1"),
            "f1_vs_snr.png",
        )
        runs.log_json(reports, "classification_reports.json")
        write_json(Path(out_dir) / "classification_reports.json", reports)
        for role, s in summary.items():
            print(
                f"evaluate: {role:8s} accuracy {s['accuracy']:.4f}, at {ev.headline_snr} dB {s[f'accuracy_{ev.headline_snr}dB']}"
            )
        return summary


@flow(name="compress", log_prints=True)
def compress(config: CompressConfig) -> dict:
    """Run the compression pipeline for ``config``; return run ids, the size table and accuracies."""
    uri = runs.configure(config.tracking.uri)
    experiment = config.tracking.experiment or config.kind
    t0 = time.perf_counter()
    with runs.parent_run(experiment, config.name, config) as parent:
        pid = parent.info.run_id
        out_dir = str(Path(config.output_dir) / pid)
        data = data_stage(config, pid)
        runs.set_tags({"data_fingerprint": data["fingerprint"]})
        teacher = train_stage(config, data, "teacher", pid, out_dir)
        models = {"teacher": teacher["path"]}
        models["f_S"] = train_stage(config, data, "f_S", pid, out_dir)["path"]
        distilled = distill_stage(config, data, teacher, pid, out_dir)
        models["f_D"] = distilled["path"]
        nettrim = None
        if config.nettrim is not None:
            nettrim = nettrim_stage(config, data, distilled, pid, out_dir)
            models["f_P"] = nettrim["path"]
        if config.tfmot is not None:
            # Equal sparsity with Net-Trim by default (kept inside TF-MOT's open interval (0, 1)).
            target = config.tfmot.target_sparsity or min(max(nettrim["report"]["sparsity"], 0.01), 0.99)
            models["f_T"] = tfmot_stage(config, data, distilled, target, pid, out_dir)["path"]
        export = export_stage(config, data, models, pid, out_dir) if config.export is not None else None
        evaluated = evaluate_stage(config, data, models, pid, out_dir)
        wall = time.perf_counter() - t0
        runs.log_metrics({"wall_seconds": wall, **{f"{r}_accuracy": s["accuracy"] for r, s in evaluated.items()}})
    return {
        "run_id": pid,
        "experiment": experiment,
        "tracking_uri": uri,
        "models": models,
        "accuracy": evaluated,
        "nettrim": nettrim["report"] if nettrim else None,
        "size_table": export,
        "wall_seconds": wall,
    }
