"""The stages of the ``mimo`` pipeline as plain functions on paths (the flow only wraps them).

data → standard models (M1/M2 × MR/M-MMSE × L cells) → adversarially trained models →
white-box attack sweeps on both → M1↔M2 transfer → sum-SE view. Each stage reads its inputs from
disk, writes its outputs atomically, and returns JSON-able results. Datasets and model sets are
cached under ``config.data.cache_dir`` by the hash of everything that determines them, so a rerun
or a resumed run skips finished work (D6).
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from amc_tf.config.mimo import Attack, MimoPipelineConfig, Precoder
from amc_tf.mimo import dataset as ds_mod
from amc_tf.mimo.adversarial import adversarial_train
from amc_tf.mimo.margins import clean_margins, margin_report, optimal_budget_use
from amc_tf.mimo.robustness import CellSet, attack_sweep, craft
from amc_tf.mimo.sumse import predicted_powers, rescale_to_budget, sum_se, summarise
from amc_tf.mimo.training import ModelKey, load_models, save_models, split_indices, train_cell_model
from amc_tf.mimo.transfer import transfer_matrix


def dataset_spec(config: MimoPipelineConfig, split: str) -> ds_mod.DatasetSpec:
    """The spec of the ``train`` or ``test`` split (the test split keeps its a, b terms)."""
    n = config.data.train_setups if split == "train" else config.data.test_setups
    return ds_mod.DatasetSpec(
        system=config.system,
        gains=config.gains,
        n_setups=n,
        shard_size=config.data.shard_size,
        seed=config.seed,
        split=split,
        keep_gains=split != "train",
    )


def ensure_split(config: MimoPipelineConfig, split: str, *, progress: bool = True) -> dict[str, Any]:
    """Generate (or reuse / resume) a split; returns its path, size, fingerprint and throughput."""
    spec = dataset_spec(config, split)
    path = ds_mod.dataset_dir(config.data.cache_dir, spec)
    hit = (path / "manifest.json").is_file()
    start = time.perf_counter()
    ds_mod.generate(spec, path, workers=config.data.workers, progress=progress)
    seconds = time.perf_counter() - start
    manifest = json.loads((path / "manifest.json").read_text())
    return {
        "path": str(path),
        "n_setups": spec.n_setups,
        "fingerprint": manifest["fingerprint"],
        "cache_hit": hit,
        "seconds": seconds,
        "setups_per_s": spec.n_setups / seconds if not hit else None,
    }


def _models_dir(config: MimoPipelineConfig, kind: str, *parts: str) -> Path:
    key = json.dumps(
        [
            kind,
            config.train.model_dump(mode="json"),
            config.adversarial.model_dump(mode="json") if kind == "adversarial" else None,
            config.attack.pgd_step_m,
            config.attack.pgd_iters,
            config.seed,
            *parts,
        ]
    )
    return Path(config.data.cache_dir) / f"models-{kind}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def _train_val(config: MimoPipelineConfig, data: ds_mod.MimoDataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = data.features()
    train_idx, val_idx = split_indices(len(data), config.train.val_fraction, config.seed)
    return x, train_idx, val_idx


def train_standard(config: MimoPipelineConfig, train_path: str, fingerprint: str) -> dict[str, Any]:
    """Train M1/M2 for every precoder and cell (cached by config + data fingerprint)."""
    out = _models_dir(config, "standard", fingerprint)
    if (out / "index.json").is_file():
        return {"path": str(out), "cache_hit": True, **json.loads((out / "index.json").read_text())["info"]}
    data = ds_mod.load(train_path)
    x, tr, va = _train_val(config, data)
    models, info = {}, {}
    start = time.perf_counter()
    for prec in config.gains.precoders:
        for arch in config.train.archs:
            for cell in range(config.system.n_cells):
                key = ModelKey(arch, prec, cell)
                y = data.targets(prec, cell)
                models[key], hist = train_cell_model(
                    arch, x[tr], y[tr], x[va], y[va], config.train, seed=config.seed + cell
                )
                info[key.name] = {"epochs": hist["epochs"], "best_val_loss": hist["best_val_loss"]}
    summary = {"models": info, "seconds": time.perf_counter() - start, "n_train": int(len(tr)), "n_val": int(len(va))}
    save_models(models, out, summary)
    return {"path": str(out), "cache_hit": False, **summary}


def train_robust(config: MimoPipelineConfig, train_path: str, standard_path: str) -> dict[str, Any]:
    """Adversarially train a copy of every standard model (cached)."""
    out = _models_dir(config, "adversarial", standard_path)
    if (out / "index.json").is_file():
        return {"path": str(out), "cache_hit": True, **json.loads((out / "index.json").read_text())["info"]}
    data = ds_mod.load(train_path)
    x, tr, va = _train_val(config, data)
    standard = load_models(standard_path)
    models, info = {}, {}
    start = time.perf_counter()
    for key, model in sorted(standard.items(), key=lambda kv: kv[0].name):
        y = data.targets(key.precoder, key.cell)
        models[key], hist = adversarial_train(
            model,
            key.arch,
            x[tr],
            y[tr],
            x[va],
            y[va],
            config.train,
            config.adversarial,
            config.attack,
            seed=config.seed + key.cell,
        )
        info[key.name] = {"epochs": hist["epochs"], "best_adv_val_loss": hist["best_val_loss"]}
    summary = {"models": info, "seconds": time.perf_counter() - start}
    save_models(models, out, summary)
    return {"path": str(out), "cache_hit": False, **summary}


def cell_sets(models: dict[ModelKey, Any]) -> dict[tuple[Precoder, str], CellSet]:
    """Group a model set into ``{(precoder, arch): {cell: model}}``."""
    out: dict[tuple[Precoder, str], CellSet] = {}
    for key, model in models.items():
        out.setdefault((key.precoder, key.arch.value), {})[key.cell] = model
    return out


def robustness(config: MimoPipelineConfig, test_path: str, model_paths: dict[str, str]) -> dict[str, Any]:
    """White-box sweeps ``{precoder: {arch: {training: sweep}}}`` for each model set given."""
    x = ds_mod.load(test_path).features()
    out: dict[str, Any] = {}
    for training, path in model_paths.items():
        for (prec, arch), models in sorted(cell_sets(load_models(path)).items()):
            sweep = attack_sweep(
                models,
                x,
                config.attack.attacks,
                config.attack.eps_m,
                config.system.pmax_mw,
                config.attack,
                seed=config.seed,
            )
            out.setdefault(prec.value, {}).setdefault(arch, {})[training] = sweep
    return out


def budget_margins(
    config: MimoPipelineConfig, test_path: str, model_paths: dict[str, str]
) -> tuple[dict[str, Any], dict[str, dict[str, np.ndarray]]]:
    """Why attacks succeed or not: margins of the clean predictions to Pmax, the optimum's use of
    the budget, gradient sizes, and success rates over ``attack.wide_eps_m``
    (:mod:`amc_tf.mimo.margins`).

    Returns:
        ``(summary, histograms)``: ``summary = {"optimal": {precoder: ...}, "margins":
        {precoder: {arch: {training: report}}}, "wide": {precoder: {arch: {training: sweep}}}}``
        and ``histograms["<arch>, <precoder>"] = {"optimal": Pmax − optimal totals,
        <training>: Pmax − predicted totals}`` (mW, flattened over cells and setups).
    """
    data = ds_mod.load(test_path)
    x, pmax, attack = data.features(), config.system.pmax_mw, config.attack
    summary: dict[str, Any] = {
        "optimal": {p.value: optimal_budget_use(data.power(p), pmax) for p in config.gains.precoders},
        "margins": {},
        "wide": {},
    }
    histograms: dict[str, dict[str, np.ndarray]] = {}
    for training, path in model_paths.items():
        for (prec, arch), models in sorted(cell_sets(load_models(path)).items()):
            report = margin_report(models, x, pmax, attack.wide_eps_m or attack.eps_m, data.power(prec))
            summary["margins"].setdefault(prec.value, {}).setdefault(arch, {})[training] = report
            panel = histograms.setdefault(
                f"{arch}, {prec.value}", {"optimal": pmax - data.power(prec).sum(axis=-1).reshape(-1)}
            )
            panel[training] = clean_margins(models, x, pmax).reshape(-1)
            if attack.wide_eps_m:
                sweep = attack_sweep(
                    models,
                    x,
                    attack.wide_attacks,
                    attack.wide_eps_m,
                    pmax,
                    attack,
                    seed=config.seed,
                    scale_pgd_step=True,
                )
                summary["wide"].setdefault(prec.value, {}).setdefault(arch, {})[training] = sweep
    return summary, histograms


def transfer(config: MimoPipelineConfig, test_path: str, standard_path: str) -> dict[str, Any]:
    """M1 ↔ M2 transfer matrices per precoder (standard models)."""
    x = ds_mod.load(test_path).features()
    by_prec: dict[Precoder, dict[str, CellSet]] = {}
    for (prec, arch), models in cell_sets(load_models(standard_path)).items():
        by_prec.setdefault(prec, {})[arch] = models
    return {
        prec.value: transfer_matrix(
            sets,
            x,
            config.attack.transfer_attacks,
            config.attack.eps_m,
            config.system.pmax_mw,
            config.attack,
            seed=config.seed,
        )
        for prec, sets in sorted(by_prec.items())
        if len(sets) > 1
    }


def sum_se_view(
    config: MimoPipelineConfig, test_path: str, standard_path: str, robust_path: str | None
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, Any]]:
    """Sum-SE samples per (precoder, arch): optimal, DNN clean, FGSM/PGDM at ``sumse_eps_m`` with
    re-scaling (eq. 14), and adversarially trained + PGDM + re-scaling.

    Returns:
        ``(panels, summary)`` with ``panels["<arch>, <precoder>"][condition] = float64 [N]``.
    """
    data = ds_mod.load(test_path)
    x, sys, eps = data.features(), config.system, config.attack.sumse_eps_m
    standard = cell_sets(load_models(standard_path))
    robust = cell_sets(load_models(robust_path)) if robust_path else {}
    panels: dict[str, dict[str, np.ndarray]] = {}
    for (prec, arch), models in sorted(standard.items()):
        a, b = data.gains(prec)
        k = sys.ues_per_cell
        samples = {"optimal": sum_se(a, b, data.power(prec), sys)}
        samples["DNN, no attack"] = sum_se(a, b, rescale_to_budget(predicted_powers(models, x, k), sys.pmax_mw), sys)
        for attack in (Attack.FGSM, Attack.PGDM):
            x_adv = craft(models, x, attack, eps, config.attack, seed=config.seed)
            samples[f"{attack.value} + re-scaling"] = sum_se(
                a, b, rescale_to_budget(predicted_powers(models, x_adv, k), sys.pmax_mw), sys
            )
        if (prec, arch) in robust:
            r_models = robust[(prec, arch)]
            x_adv = craft(r_models, x, Attack.PGDM, eps, config.attack, seed=config.seed)
            samples["adv. trained, PGDM + re-scaling"] = sum_se(
                a, b, rescale_to_budget(predicted_powers(r_models, x_adv, k), sys.pmax_mw), sys
            )
        panels[f"{arch}, {prec.value}"] = samples
    return panels, {key: summarise(value) for key, value in panels.items()}
