"""The stages of the ``mimo`` pipeline as plain functions on typed results (the flow only wraps them).

data → standard models (M1/M2 × MR/M-MMSE × L cells) → adversarially trained models →
white-box attack sweeps on both, with the margins that explain them → M1↔M2 transfer → sum-SE
view. Each stage reads its inputs from disk, writes its outputs atomically, and returns a frozen
result of :mod:`amc_tf.mimo.stage_results`. Datasets and model sets are cached under
``config.data.cache_dir`` by everything that determines them, including the source of the code
that made them (:mod:`amc_tf.cache`), so a rerun or a resumed run skips finished work (D6).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from amc_tf import cache
from amc_tf.config.mimo import CellAttackName, MimoPipelineConfig, Precoder
from amc_tf.mimo import dataset as ds_mod
from amc_tf.mimo import model_sets
from amc_tf.mimo.adversarial import adversarial_train
from amc_tf.mimo.attack_space import cell_bounds
from amc_tf.mimo.margins import clean_margins, margin_report, optimal_budget_use
from amc_tf.mimo.model_sets import CellSet, ModelKey, cell_sets, load_models, save_models
from amc_tf.mimo.robustness import attack_sweep, craft
from amc_tf.mimo.stage_results import AttackSweeps, Datasets, Margins, ModelSet, SplitData, SumSE, TransferResult
from amc_tf.mimo.sumse import enforce_budget, predicted_powers, rescale_to_optimal_total, sum_se
from amc_tf.mimo.training import split_indices, train_cell_model
from amc_tf.mimo.transfer import transfer_matrix
from amc_tf.progress import say


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


def ensure_split(config: MimoPipelineConfig, split: str, *, progress: bool = True) -> SplitData:
    """Generate (or reuse / resume) one split."""
    spec = dataset_spec(config, split)
    path = ds_mod.dataset_dir(config.data.cache_dir, spec)
    hit = ds_mod.is_complete(path)
    start = time.perf_counter()
    ds_mod.generate(spec, path, workers=config.data.workers, progress=progress)
    seconds = time.perf_counter() - start
    fingerprint = ds_mod.read_manifest(path)["fingerprint"]
    rate = None if hit else spec.n_setups / seconds
    return SplitData(split, str(path), spec.n_setups, fingerprint, hit, seconds, rate)


def pending_shards(config: MimoPipelineConfig, split: str) -> tuple[dict, str, list[int]]:
    """The ``split``'s spec (as JSON), dataset directory and shards still to compute, for running
    :func:`amc_tf.mimo.dataset.generate_shard` elsewhere (e.g. on Dask) before :func:`ensure_split`."""
    spec = dataset_spec(config, split)
    path = ds_mod.dataset_dir(config.data.cache_dir, spec)
    return spec.model_dump(mode="json"), str(path), ds_mod.pending_shards(spec, path)


def prepare_data(config: MimoPipelineConfig, *, progress: bool = True) -> Datasets:
    """Both splits of the run."""
    data = Datasets(ensure_split(config, "train", progress=progress), ensure_split(config, "test", progress=progress))
    say("mimo data", f"{data.train.n_setups} train / {data.test.n_setups} test setups ({data.train.path})")
    return data


def _cached(path, training: str) -> ModelSet:
    info = model_sets.read_index(path)["info"]
    return ModelSet(training, str(path), True, info["models"], info["seconds"], info.get("n_train"), info.get("n_val"))


def _report(result: ModelSet) -> ModelSet:
    took = "cached" if result.cache_hit else f"{result.seconds:.0f} s"
    say(f"mimo {result.training} models", f"{len(result.models)} models ({took}, {result.path})")
    return result


def train_standard(config: MimoPipelineConfig, train: SplitData) -> ModelSet:
    """Train M1/M2 for every precoder and cell (cached)."""
    out = model_sets.standard_entry(config, train.fingerprint)
    if cache.is_complete(out):
        return _report(_cached(out, "standard"))
    data = ds_mod.load(train.path)
    x = data.features()
    train_idx, val_idx = split_indices(len(data), config.train.val_fraction, config.seed)
    models, info = {}, {}
    start = time.perf_counter()
    for prec in config.gains.precoders:
        for arch in config.train.archs:
            for cell in range(config.system.n_cells):
                key = ModelKey(arch, prec, cell)
                y = data.targets(prec, cell)
                models[key], hist = train_cell_model(
                    arch,
                    x[train_idx],
                    y[train_idx],
                    x[val_idx],
                    y[val_idx],
                    config.train,
                    seed=config.seed + cell,
                    input_transform=config.train.transform_for(prec),
                )
                info[key.name] = {"epochs": hist["epochs"], "best_val_loss": hist["best_val_loss"]}
    seconds = time.perf_counter() - start
    save_models(models, out, {"models": info, "seconds": seconds, "n_train": len(train_idx), "n_val": len(val_idx)})
    return _report(ModelSet("standard", str(out), False, info, seconds, len(train_idx), len(val_idx)))


def train_robust(config: MimoPipelineConfig, train: SplitData, standard: ModelSet) -> ModelSet:
    """Adversarially train a copy of every standard model (cached)."""
    out = model_sets.adversarial_entry(config, train.fingerprint, standard.path)
    if cache.is_complete(out):
        return _report(_cached(out, "adversarial"))
    data = ds_mod.load(train.path)
    x = data.features()
    train_idx, val_idx = split_indices(len(data), config.train.val_fraction, config.seed)
    models, info = {}, {}
    start = time.perf_counter()
    for key, model in sorted(load_models(standard.path).items(), key=lambda kv: kv[0].name):
        y = data.targets(key.precoder, key.cell)
        models[key], hist = adversarial_train(
            model,
            key.arch,
            x[train_idx],
            y[train_idx],
            x[val_idx],
            y[val_idx],
            config.train,
            config.adversarial,
            config.attack,
            seed=config.seed + key.cell,
            bounds=cell_bounds(config.system),
            input_transform=config.train.transform_for(key.precoder),
        )
        info[key.name] = {"epochs": hist["epochs"], "best_adv_val_loss": hist["best_val_loss"]}
    seconds = time.perf_counter() - start
    save_models(models, out, {"models": info, "seconds": seconds})
    return _report(ModelSet("adversarial", str(out), False, info, seconds))


def _grouped(sets: Sequence[ModelSet]):
    """``(training, precoder, arch, {cell: model})`` for every cell set of ``sets``, in order."""
    for model_set in sets:
        for (prec, arch), models in sorted(cell_sets(load_models(model_set.path)).items()):
            yield model_set.training, prec, arch, models


def robustness(config: MimoPipelineConfig, test: SplitData, sets: Sequence[ModelSet]) -> AttackSweeps:
    """White-box sweeps of ``config.attack.attacks`` over ``attack.eps_m`` for each model set."""
    x = ds_mod.load(test.path).features()
    out: dict = {}
    for training, prec, arch, models in _grouped(sets):
        sweep = attack_sweep(
            models,
            x,
            config.attack.attacks,
            config.attack.eps_m,
            config.system.pmax_mw,
            config.attack,
            seed=config.seed,
            bounds=cell_bounds(config.system),
        )
        out.setdefault(prec.value, {}).setdefault(arch, {})[training] = sweep
    return AttackSweeps(out)


def budget_margins(config: MimoPipelineConfig, test: SplitData, sets: Sequence[ModelSet]) -> Margins:
    """Why attacks succeed or not: margins of the clean predictions to Pmax, the optimum's use of
    the budget, gradient sizes, and success rates over ``attack.wide_eps_m``
    (:mod:`amc_tf.mimo.margins`)."""
    data = ds_mod.load(test.path)
    x, pmax, attack = data.features(), config.system.pmax_mw, config.attack
    optimal = {p.value: optimal_budget_use(data.power(p), pmax) for p in config.gains.precoders}
    margins: dict = {}
    wide: dict = {}
    histograms: dict[str, dict[str, np.ndarray]] = {}
    for training, prec, arch, models in _grouped(sets):
        report = margin_report(models, x, pmax, attack.wide_eps_m or attack.eps_m, data.power(prec))
        margins.setdefault(prec.value, {}).setdefault(arch, {})[training] = report
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
                bounds=cell_bounds(config.system),
            )
            wide.setdefault(prec.value, {}).setdefault(arch, {})[training] = sweep
    return Margins(optimal, margins, AttackSweeps(wide), histograms)


def transfer(config: MimoPipelineConfig, test: SplitData, standard: ModelSet) -> TransferResult:
    """M1 ↔ M2 transfer matrices per precoder (standard models)."""
    x = ds_mod.load(test.path).features()
    by_prec: dict[Precoder, dict[str, CellSet]] = {}
    for _, prec, arch, models in _grouped([standard]):
        by_prec.setdefault(prec, {})[arch] = models
    attack = config.attack
    return TransferResult(
        {
            prec.value: transfer_matrix(
                sets,
                x,
                attack.transfer_attacks,
                attack.eps_m,
                config.system.pmax_mw,
                attack,
                seed=config.seed,
                bounds=cell_bounds(config.system),
            )
            for prec, sets in sorted(by_prec.items())
            if len(sets) > 1
        }
    )


def sum_se_view(config: MimoPipelineConfig, test: SplitData, standard: ModelSet, robust: ModelSet | None) -> SumSE:
    """Sum-SE samples per (precoder, arch), the paper's cases at ``sumse_eps_m``: optimal; DNN
    clean; (ii) FGSM without re-scaling; (iii) FGSM with eq. 14's re-scaling to the optimal total;
    (iv) the adversarially trained model under FGSM with re-scaling; and the same for PGDM. The
    attacks maximise ``attack.sumse_objective``; without re-scaling the per-BS budget is enforced
    when ``attack.sumse_enforce_budget``."""
    data = ds_mod.load(test.path)
    x, system, settings = data.features(), config.system, config.attack
    k, bounds, eps = system.ues_per_cell, cell_bounds(system), settings.sumse_eps_m
    standard_sets = cell_sets(load_models(standard.path))
    robust_sets = cell_sets(load_models(robust.path)) if robust else {}
    panels: dict[str, dict[str, np.ndarray]] = {}
    for (prec, arch), models in sorted(standard_sets.items()):
        a, b = data.gains(prec)
        optimal = data.power(prec)

        def se(cell_models: CellSet, inputs, rescale: bool, a=a, b=b, optimal=optimal) -> np.ndarray:
            rho = predicted_powers(cell_models, inputs, k)
            if rescale:
                rho = rescale_to_optimal_total(rho, optimal)
            elif settings.sumse_enforce_budget:
                rho = enforce_budget(rho, system.pmax_mw)
            return sum_se(a, b, rho, system)

        def attacked(cell_models: CellSet, attack: CellAttackName, optimal=optimal) -> dict[int, np.ndarray]:
            objective = settings.sumse_objective
            return craft(
                cell_models,
                x,
                attack,
                eps,
                settings,
                seed=config.seed,
                bounds=bounds,
                objective=objective,
                optimal=optimal,
            )

        samples = {"optimal": sum_se(a, b, optimal, system), "DNN, no attack": se(models, x, False)}
        for attack in (CellAttackName.FGSM, CellAttackName.PGDM):
            x_adv = attacked(models, attack)
            if attack is CellAttackName.FGSM:
                samples["FGSM, no re-scaling"] = se(models, x_adv, False)
            samples[f"{attack.value} + re-scaling"] = se(models, x_adv, True)
        for attack in (CellAttackName.FGSM, CellAttackName.PGDM):
            if (prec, arch) in robust_sets:
                robust_models = robust_sets[(prec, arch)]
                samples[f"adv. trained, {attack.value} + re-scaling"] = se(
                    robust_models, attacked(robust_models, attack), True
                )
        panels[f"{arch}, {prec.value}"] = samples
    return SumSE(panels)
