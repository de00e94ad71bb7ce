"""Flow ``evaluate_robustness``: a trained classifier against the attack suite, one MLflow record.

One parent run (params = the flattened config; tags = git commit, config hash, Prefect flow-run
id, data fingerprint, the evaluated model's URI) with two child runs: ``data`` (materialise the
dataset, cached by config hash) and ``robustness`` (the report: per-attack PNR curves, native
and ART, worst case, per-SNR breakdown, budget audit — as metrics, ``robustness_report.json`` and
PNG figures). The science is :func:`amc_tf.evaluation.robustness.evaluate_robustness`; the tasks
only pass paths and URIs.
"""

from __future__ import annotations

import time
from pathlib import Path

from prefect import flow, task

from amc_tf.config.classifier import EvaluateRobustnessConfig
from amc_tf.data.cache import materialise
from amc_tf.data.dataset import IQDataset, load_dataset
from amc_tf.data.splits import stratified_split
from amc_tf.errors import ConfigError
from amc_tf.evaluation import robustness as rob
from amc_tf.evaluation.robustness_plots import report_figures
from amc_tf.runtime import set_seed
from amc_tf.tracking import runs

CONFIG = EvaluateRobustnessConfig


def evaluation_split(config: EvaluateRobustnessConfig, data_path: str) -> IQDataset:
    """The configured split of the dataset at ``data_path`` (same seeded split as training)."""
    ds = load_dataset(data_path, verify=False)
    if config.split == "all":
        return ds
    sp = config.data.split
    return stratified_split(ds, train=sp.train, val=sp.val, test=sp.test, seed=config.seed)[config.split]


@task(name="data")
def data_stage(config: EvaluateRobustnessConfig, parent_run_id: str) -> dict:
    """Generate (or reuse from the cache) the evaluation dataset; log its fingerprint."""
    with runs.child_run("data", parent_run_id=parent_run_id) as run:
        ds, path, hit = materialise(config.data, progress=False)
        fp = ds.manifest.get("fingerprint") or ds.fingerprint()
        runs.set_tags({"data_fingerprint": fp, "cache_hit": str(hit), "data_path": str(path)})
        runs.log_metrics({"n_windows": len(ds), "cache_hit": float(hit)})
        return {"path": str(path), "fingerprint": fp, "cache_hit": hit, "run_id": run.info.run_id}


@task(name="robustness")
def robustness_stage(config: EvaluateRobustnessConfig, data: dict, parent_run_id: str, out_dir: str) -> dict:
    """Attack the model; log the report (metrics, JSON, figures) in a child run."""
    set_seed(config.seed)
    model = runs.load_keras_model(config.model_uri)
    ds = evaluation_split(config, data["path"])
    with runs.child_run("robustness", parent_run_id=parent_run_id, tags={"model_uri": config.model_uri}) as run:
        report = rob.evaluate_robustness(model, ds, config.robustness, log=print)
        runs.log_metrics(report.metrics())
        for step, values in report.curve_series().items():
            runs.log_metrics(values, step=step)
        runs.log_json(report.to_json(), "robustness_report.json")
        for name, fig in report_figures(report).items():
            runs.log_figure(fig, name)
        path = report.save(Path(out_dir) / "robustness_report.json")
        print(
            f"robustness: clean {report.clean_accuracy:.3f}; worst case {report.worst_case[0]:.3f} at {report.pnr_db[0]:g} dB "
            f"... {report.worst_case[-1]:.3f} at {report.pnr_db[-1]:g} dB; audit {'ok' if report.audit_ok else 'FAILED'}"
        )
        return {
            "run_id": run.info.run_id,
            "report_path": str(path),
            "clean_accuracy": report.clean_accuracy,
            "worst_case": dict(zip(report.pnr_db, report.worst_case)),
            "audit_ok": report.audit_ok,
            "warnings": report.warnings,
        }


@flow(name="evaluate_robustness", log_prints=True)
def evaluate_robustness(config: EvaluateRobustnessConfig) -> dict:
    """Run data → robustness for ``config``; return the parent run id and the headline numbers."""
    if config.model_uri is None:
        raise ConfigError("evaluate_robustness needs model_uri (an MLflow model URI or a training run id)")
    uri = runs.configure(config.tracking.uri)
    experiment = config.tracking.experiment or config.kind
    t0 = time.perf_counter()
    with runs.parent_run(experiment, config.name, config, tags={"model_uri": config.model_uri}) as parent:
        pid = parent.info.run_id
        data = data_stage(config, pid)
        runs.set_tags({"data_fingerprint": data["fingerprint"]})
        result = robustness_stage(config, data, pid, str(Path(config.output_dir) / pid))
        wall = time.perf_counter() - t0
        runs.log_metrics(
            {"clean_accuracy": result["clean_accuracy"], "audit_ok": float(result["audit_ok"]), "wall_seconds": wall}
        )
    return {
        "run_id": pid,
        "experiment": experiment,
        "tracking_uri": uri,
        "robustness_run_id": result["run_id"],
        "report_path": result["report_path"],
        "clean_accuracy": result["clean_accuracy"],
        "worst_case": result["worst_case"],
        "audit_ok": result["audit_ok"],
        "wall_seconds": wall,
    }
