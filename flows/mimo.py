"""Flow ``mimo``: data → M1/M2 → adversarial training → attacks → transfer → sum SE.

One MLflow parent run, a child run per stage. The science lives in :mod:`amc_tf.mimo.stages`;
each task calls one stage on paths, logs its numbers, JSON and figures, and returns paths.
Datasets and model sets are cached by content hash, so a rerun skips finished work.
"""

from __future__ import annotations

import time
from pathlib import Path

from prefect import flow, task

from amc_tf.config.mimo import MimoPipelineConfig
from amc_tf.mimo import stages
from amc_tf.mimo.plots import plot_margins, plot_success_rates, plot_sum_se_cdf, plot_transfer
from amc_tf.tracking import runs

CONFIG = MimoPipelineConfig


@task(name="data")
def data_stage(config: MimoPipelineConfig, parent_run_id: str) -> dict:
    """Generate (or reuse) the train and test splits."""
    with runs.child_run("data", parent_run_id=parent_run_id):
        out = {split: stages.ensure_split(config, split) for split in ("train", "test")}
        for split, info in out.items():
            runs.log_metrics(
                {
                    f"{split}_setups": info["n_setups"],
                    f"{split}_seconds": info["seconds"],
                    f"{split}_cache_hit": float(info["cache_hit"]),
                }
            )
            if info["setups_per_s"]:
                runs.log_metrics({f"{split}_setups_per_s": info["setups_per_s"]})
        runs.set_tags({"data_fingerprint": out["train"]["fingerprint"], "test_fingerprint": out["test"]["fingerprint"]})
        print(
            f"data: {out['train']['n_setups']} train / {out['test']['n_setups']} test setups ({out['train']['path']})"
        )
        return out


@task(name="train")
def train_stage(config: MimoPipelineConfig, data: dict, parent_run_id: str) -> dict:
    """Train M1/M2 per precoder and cell; log the validation losses and the model files."""
    with runs.child_run("train", parent_run_id=parent_run_id):
        out = stages.train_standard(config, data["train"]["path"], data["train"]["fingerprint"])
        _log_model_set(out, "standard")
        took = "cached" if out["cache_hit"] else f"{out['seconds']:.0f} s"
        print(f"train: {len(out['models'])} models ({took})")
        return out


@task(name="adversarial_training")
def adversarial_stage(config: MimoPipelineConfig, data: dict, standard: dict, parent_run_id: str) -> dict:
    """PGDM adversarial training of every model; the robust models are logged and registered."""
    with runs.child_run(
        "adversarial_training", parent_run_id=parent_run_id, params={"eps_m": config.adversarial.eps_m}
    ):
        out = stages.train_robust(config, data["train"]["path"], standard["path"])
        _log_model_set(out, "adversarial")
        if config.tracking.log_models:
            from amc_tf.mimo.training import load_models

            for key, model in sorted(load_models(out["path"]).items(), key=lambda kv: kv[0].name):
                uri = runs.log_keras_model(model, key.name)
                if config.tracking.register_models:
                    runs.register_model(uri, f"{config.name}-{key.name}", alias="robust")
        print(f"adversarial training: {len(out['models'])} models")
        return out


@task(name="attacks")
def attack_stage(
    config: MimoPipelineConfig, data: dict, standard: dict, robust: dict | None, parent_run_id: str
) -> dict:
    """White-box FGSM / PGDM / MI-FGSM / random sweeps on standard and robust models, and the
    diagnostics behind them (:func:`amc_tf.mimo.stages.budget_margins`)."""
    with runs.child_run("attacks", parent_run_id=parent_run_id):
        paths = {"standard": standard["path"], **({"adversarial": robust["path"]} if robust else {})}
        result = stages.robustness(config, data["test"]["path"], paths)
        runs.log_metrics(headline(result))
        runs.log_json(result, "robustness.json")
        runs.log_figure(plot_success_rates(result), "success_rates.png")
        # why the rates are what they are: margins to Pmax, gradient sizes, a wide eps grid
        margins, histograms = stages.budget_margins(config, data["test"]["path"], paths)
        runs.log_metrics(margin_headline(margins))
        runs.log_json(margins, "margins.json")
        runs.log_figure(plot_margins(histograms), "margins.png")
        if margins["wide"]:
            runs.log_figure(plot_success_rates(margins["wide"], log_eps=True), "success_wide_eps.png")
        return {"robustness": result, "margins": margins}


@task(name="transfer")
def transfer_stage(config: MimoPipelineConfig, data: dict, standard: dict, parent_run_id: str) -> dict:
    """Black-box transfer M1 ↔ M2 per precoder."""
    with runs.child_run("transfer", parent_run_id=parent_run_id):
        result = stages.transfer(config, data["test"]["path"], standard["path"])
        runs.log_json(result, "transfer.json")
        if result:
            runs.log_figure(plot_transfer(result, "PGDM"), "transfer.png")
        return result


@task(name="sum_se")
def sumse_stage(
    config: MimoPipelineConfig, data: dict, standard: dict, robust: dict | None, parent_run_id: str
) -> dict:
    """Sum-SE CDFs: optimal, DNN, FGSM/PGDM + re-scaling, adversarial training + re-scaling."""
    with runs.child_run("sum_se", parent_run_id=parent_run_id, params={"eps_m": config.attack.sumse_eps_m}):
        panels, summary = stages.sum_se_view(
            config, data["test"]["path"], standard["path"], robust["path"] if robust else None
        )
        runs.log_json(summary, "sum_se_summary.json")
        runs.log_json({p: {c: v for c, v in conds.items()} for p, conds in panels.items()}, "sum_se_samples.json")
        runs.log_figure(plot_sum_se_cdf(panels), "sum_se_cdf.png")
        return summary


def headline(robustness: dict) -> dict[str, float]:
    """Success rates at the largest eps per (precoder, arch, training, attack) as flat metrics."""
    out = {}
    for prec, archs in robustness.items():
        for arch, trainings in archs.items():
            for training, sweep in trainings.items():
                out[f"{prec}_{arch}_{training}_clean_feasible"] = sweep["clean_feasible"]
                for attack, rates in sweep["success"].items():
                    out[f"{prec}_{arch}_{training}_{attack}_success"] = rates[-1]
    return out


def margin_headline(summary: dict) -> dict[str, float]:
    """Flat metrics of :func:`amc_tf.mimo.stages.budget_margins`: the optimum's use of Pmax, and
    per model set the median margin, the mean bias of the predicted totals and the median
    gradient size."""
    out = {f"{prec}_optimal_at_pmax": v["at_pmax"] for prec, v in summary["optimal"].items()}
    for prec, archs in summary["margins"].items():
        for arch, trainings in archs.items():
            for training, r in trainings.items():
                key = f"{prec}_{arch}_{training}"
                out[f"{key}_median_margin_mw"] = r["margin_mw"]["q50"]
                out[f"{key}_grad_l1_median_mw_per_m"] = r["grad_l1_mw_per_m"]["q50"]
                if "total_bias_mw" in r:
                    out[f"{key}_total_bias_mw"] = r["total_bias_mw"]
    return out


def _log_model_set(info: dict, name: str) -> None:
    runs.log_metrics({"cache_hit": float(info["cache_hit"]), "n_models": len(info["models"])})
    for key, values in info["models"].items():
        runs.log_metrics({f"{key}_{k}": v for k, v in values.items()})
    for path in sorted(Path(info["path"]).iterdir()):
        runs.log_artifact(path, f"models/{name}")


@flow(name="mimo", log_prints=True)
def mimo(config: MimoPipelineConfig) -> dict:
    """Run the power-allocation robustness pipeline for ``config``; returns run id and headline numbers."""
    uri = runs.configure(config.tracking.uri)
    experiment = config.tracking.experiment or config.kind
    t0 = time.perf_counter()
    with runs.parent_run(experiment, config.name, config) as parent:
        pid = parent.info.run_id
        data = data_stage(config, pid)
        runs.set_tags({"data_fingerprint": data["train"]["fingerprint"]})
        standard = train_stage(config, data, pid)
        robust = adversarial_stage(config, data, standard, pid) if config.adversarial.enabled else None
        attacks = attack_stage(config, data, standard, robust, pid)
        robustness = attacks["robustness"]
        transfer = transfer_stage(config, data, standard, pid)
        sum_se = sumse_stage(config, data, standard, robust, pid)
        wall = time.perf_counter() - t0
        runs.log_metrics({**headline(robustness), "wall_seconds": wall})
    return {
        "run_id": pid,
        "experiment": experiment,
        "tracking_uri": uri,
        "data": data,
        "models": {"standard": standard["path"], "adversarial": robust["path"] if robust else None},
        "robustness": robustness,
        "transfer": transfer,
        "sum_se": sum_se,
        "margins": margin_headline(attacks["margins"]),
        "headline": headline(robustness),
        "wall_seconds": wall,
    }


if __name__ == "__main__":
    import sys

    from amc_tf.config.base import load_config

    print(mimo(load_config(sys.argv[1] if len(sys.argv) > 1 else "configs/mimo_quickstart.yaml", MimoPipelineConfig)))
