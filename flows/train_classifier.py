"""Flow ``train_classifier``: data → train → evaluate, one MLflow parent run, a child per stage.

The science lives in ``amc_tf``; each task only loads inputs by path, calls the library, logs,
and returns paths / URIs.
"""

from __future__ import annotations

import time
from pathlib import Path

from prefect import flow, task

from amc_tf.config.classifier import TrainClassifierConfig
from amc_tf.data.cache import materialise
from amc_tf.data.dataset import load_dataset
from amc_tf.data.splits import stratified_split
from amc_tf.evaluation.metrics import evaluate_classifier
from amc_tf.evaluation.plots import plot_accuracy_vs_snr, plot_confusion, plot_training_history
from amc_tf.io import atomic_path
from amc_tf.models.registry import build_model, model_params
from amc_tf.runtime import keras, set_seed
from amc_tf.tracking import runs
from amc_tf.training.fit import fit_classifier

CONFIG = TrainClassifierConfig


def load_splits(config: TrainClassifierConfig, data_path: str):
    ds = load_dataset(data_path, verify=False)
    sp = config.data.split
    return stratified_split(ds, train=sp.train, val=sp.val, test=sp.test, seed=config.seed)


@task(name="data")
def data_stage(config: TrainClassifierConfig, parent_run_id: str) -> dict:
    """Generate (or reuse from the cache) the dataset; log its fingerprint."""
    with runs.child_run("data", parent_run_id=parent_run_id) as run:
        t0 = time.perf_counter()
        ds, path, hit = materialise(config.data, progress=True)
        seconds = time.perf_counter() - t0
        fp = ds.fingerprint() if not ds.manifest.get("fingerprint") else ds.manifest["fingerprint"]
        runs.set_tags({"data_fingerprint": fp, "cache_hit": str(hit), "data_path": str(path)})
        runs.log_metrics({"n_windows": len(ds), "seconds": seconds, "cache_hit": float(hit)})
        runs.log_json(ds.manifest, "data_manifest.json")
        print(
            f"data: {len(ds)} windows, {len(ds.classes)} classes, {'cache hit' if hit else f'generated in {seconds:.1f} s'} ({path})"
        )
        return {"path": str(path), "fingerprint": fp, "cache_hit": hit, "n": len(ds), "run_id": run.info.run_id}


@task(name="train")
def train_stage(config: TrainClassifierConfig, data: dict, parent_run_id: str, out_dir: str) -> dict:
    """Build the configured model and train it with early stopping; save and log it."""
    set_seed(config.seed)
    splits = load_splits(config, data["path"])
    train = splits["train"]
    val = splits.get("val", splits["test"])
    with runs.child_run("train", parent_run_id=parent_run_id) as run:
        params = model_params(config.model.name, config.model.params, train.x)
        model = build_model(config.model.name, len(train.classes), train.window, **params)
        runs.log_metrics({"n_params": model.count_params(), "n_train": len(train), "n_val": len(val)})
        if "input_scale" in params:
            runs.log_metrics({"input_scale": params["input_scale"]})
        result = fit_classifier(model, train, val, config.train)
        for epoch in range(result.epochs_run):
            runs.log_metrics({k: v[epoch] for k, v in result.history.items()}, step=epoch)
        runs.log_metrics(result.summary())
        runs.log_figure(plot_training_history(result.history, f"{model.name} training"), "training_history.png")
        model_path = Path(out_dir) / "model.keras"
        with atomic_path(model_path, suffix=".keras") as tmp:
            model.save(tmp)
        model_uri = None
        if config.tracking.log_models:
            model_uri = runs.log_keras_model(model, "model")
            runs.set_tags({"model_uri": model_uri})
            if config.tracking.register_models:
                runs.register_model(model_uri, f"{config.name}-{model.name}", alias="candidate")
        print(f"train: {result.epochs_run} epochs, best {result.best_epoch + 1}, {result.windows_per_s:.0f} windows/s")
        return {"model_path": str(model_path), "model_uri": model_uri, "run_id": run.info.run_id, **result.summary()}


@task(name="evaluate")
def evaluate_stage(config: TrainClassifierConfig, data: dict, trained: dict, parent_run_id: str) -> dict:
    """Evaluate on the test split: accuracy per SNR, P/R/F1 per class, confusion matrices, plots."""
    splits = load_splits(config, data["path"])
    test = splits["test"]
    model = keras.models.load_model(trained["model_path"], compile=False)
    ev = config.evaluation
    with runs.child_run("evaluate", parent_run_id=parent_run_id) as run:
        report = evaluate_classifier(model, test, batch_size=ev.batch_size, focus_snr=ev.focus_snr)
        headline = report.accuracy_above(ev.headline_snr_min)
        metrics = report.metrics("test_")
        metrics[f"test_acc_snr_ge_{ev.headline_snr_min}".replace("-", "m")] = headline
        runs.log_metrics(metrics)
        runs.log_json(report.to_dict(), "classification_report.json")
        runs.log_figure(
            plot_accuracy_vs_snr({model.name: report.accuracy_by_snr}, "Test accuracy vs SNR"), "accuracy_vs_snr.png"
        )
        runs.log_figure(plot_confusion(report.confusion, report.classes, "Confusion (all SNRs)"), "confusion_all.png")
        if report.confusion_focus is not None:
            runs.log_figure(
                plot_confusion(report.confusion_focus, report.classes, f"Confusion at {ev.focus_snr} dB"),
                f"confusion_{ev.focus_snr}dB.png",
            )
        print(f"evaluate: accuracy {report.accuracy:.4f} overall, {headline:.4f} for SNR >= {ev.headline_snr_min} dB")
        return {
            "accuracy": report.accuracy,
            "headline_accuracy": headline,
            "accuracy_by_snr": report.accuracy_by_snr,
            "run_id": run.info.run_id,
        }


@flow(name="train_classifier", log_prints=True)
def train_classifier(config: TrainClassifierConfig) -> dict:
    """Run data → train → evaluate for ``config``; return the parent run id and headline numbers."""
    uri = runs.configure(config.tracking.uri)
    experiment = config.tracking.experiment or config.kind
    t0 = time.perf_counter()
    with runs.parent_run(experiment, config.name, config) as parent:
        pid = parent.info.run_id
        out_dir = str(Path(config.output_dir) / pid)
        data = data_stage(config, pid)
        runs.set_tags({"data_fingerprint": data["fingerprint"]})
        trained = train_stage(config, data, pid, out_dir)
        evaluated = evaluate_stage(config, data, trained, pid)
        wall = time.perf_counter() - t0
        runs.log_metrics(
            {
                "test_accuracy": evaluated["accuracy"],
                f"test_acc_snr_ge_{config.evaluation.headline_snr_min}".replace("-", "m"): evaluated[
                    "headline_accuracy"
                ],
                "wall_seconds": wall,
            }
        )
        if trained.get("model_uri"):
            runs.set_tags({"model_uri": trained["model_uri"]})
    return {
        "run_id": pid,
        "experiment": experiment,
        "tracking_uri": uri,
        "model_uri": trained.get("model_uri"),
        "model_path": trained["model_path"],
        "accuracy": evaluated["accuracy"],
        "headline_accuracy": evaluated["headline_accuracy"],
        "accuracy_by_snr": evaluated["accuracy_by_snr"],
        "cache_hit": data["cache_hit"],
        "wall_seconds": wall,
    }
