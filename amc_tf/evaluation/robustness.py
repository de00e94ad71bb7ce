"""Robustness evaluation: one call, one typed report (after AutoAttack / RobustBench).

:func:`evaluate_robustness` takes a trained logits classifier, an :class:`~amc_tf.data.dataset.IQDataset`
and a :class:`~amc_tf.config.attack.RobustnessConfig` and returns a :class:`RobustnessReport` with

* clean accuracy of the evaluated examples (drawn at one SNR, 10 dB by default as in the papers);
* accuracy under every native attack at every PNR of the grid, with a budget audit per point
  (measured PNR, ``||delta|| / radius``, NaN count; design D4); the L∞ attacks read each PNR's ε
  through the configured L∞ convention (``energy_matched`` ε/√(2L) by default, or the AMC
  paper's ``same_eps``), which the report names;
* worst-case accuracy per PNR — the cascade of AutoAttack: each attack counts only on examples
  still correct after the attacks before it; the report says how many each attack broke. Every
  attack here treats examples independently (a universal vector is fitted on separate data), so
  the cascade is evaluated from the per-example results without re-running attacks;
* a per-SNR breakdown at one PNR;
* the ART baselines beside their native counterparts on the same examples, budgets and settings
  (accuracy and seconds; PGD without random start on both sides, as ART cannot draw one inside
  per-example balls): ART runs on the first ``art_max_examples`` (DeepFool, UAP:
  ``art_max_examples_deepfool``) evaluated examples for cost, and the native curve of each
  comparison is recomputed on that same subset (the comparison holds its size and clean accuracy);
* sanity checks before trusting a number: outputs that look like probabilities, gradients that
  vanish, and any audit failure, as warnings in the report (and ``warnings.warn``).

With ``config.sweep = survivors`` the cascade's attacks instead run through
:func:`~amc_tf.evaluation.robustness_survivors.survivor_sweep` (robust accuracy only: cumulative,
monotone curves, each attack on the survivors only; the nightly's mode); the controls, the ART
comparisons and the breakdown run as in ``full``. Both modes count input-gradient evaluations.

Attacks use the true labels. DeepFool is run once without a budget and projected onto each PNR's
ball (exactly what a budget-capped DeepFool returns); universal perturbations are fitted per PNR
on their spec's ``n_fit`` examples at the same SNR that are not evaluated, when the data has enough.
Each ART baseline runs with the settings derived from its native twin's spec
(:meth:`~amc_tf.attacks.baselines.art.ArtTwin.settings_from`), beside that twin.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from amc_tf.attacks import CONTROLS, AttackSettings, build_attack
from amc_tf.attacks.base import check_classifier
from amc_tf.attacks.baselines.art import ART_BASELINES, build_art_attack
from amc_tf.attacks.checks import sanity_checks
from amc_tf.attacks.compiled import auto_micro_batch, logits_fn, parts_for
from amc_tf.config.attack import RobustnessConfig, SweepMode
from amc_tf.data.dataset import IQDataset
from amc_tf.errors import DatasetError
from amc_tf.evaluation.robustness_report import Comparison, Curve, RobustnessReport, SNRRow
from amc_tf.evaluation.robustness_survivors import survivor_sweep
from amc_tf.evaluation.robustness_sweep import attack_factory, curve_of, sweep, warm_up
from amc_tf.models.inference import predict_classes
from amc_tf.progress import Progress, say
from amc_tf.runtime import keras
from amc_tf.runtime import rng as make_rng

__all__ = ["Comparison", "Curve", "RobustnessReport", "SNRRow", "evaluate_robustness"]


def _fit_indices(spec: AttackSettings, pool: np.ndarray, least: int, fallback: np.ndarray) -> np.ndarray | None:
    """Indices a universal attack is fitted on: its ``n_fit`` first of ``pool``, or ``fallback`` when
    the pool holds fewer than ``least`` (None for attacks that fit nothing)."""
    n_fit = getattr(spec, "n_fit", None)
    if n_fit is None:
        return None
    return pool[:n_fit] if pool.size >= least else fallback


def _take(data: IQDataset, idx: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    return None if idx is None else (data.x[idx], data.y[idx], data.snr[idx])


# -- the evaluation ------------------------------------------------------------------------------


def evaluate_robustness(
    model: keras.Model, data: IQDataset, config: RobustnessConfig, *, progress: bool = True
) -> RobustnessReport:
    """Evaluate ``model`` against the configured attacks; see the module docstring.

    Args:
        model: Trained classifier with logits, input ``[N, 2, L]``.
        data: Evaluation data (its SNR labels select the examples).
        config: Attacks, PNR grid, SNR, sizes, ART baselines, seed.
        progress: Print progress lines on stderr (one per curve; a counter for slow ART baselines).

    Raises:
        ModelError: the model is not an I/Q logits classifier.
        DatasetError: no example at ``config.snr_db``, or the data's classes do not match the model.
    """
    start = time.perf_counter()
    n_classes, window = check_classifier(model)
    if len(data.classes) != n_classes or data.window != window:
        raise DatasetError(
            f"data ({len(data.classes)} classes, window {data.window}) does not match the model "
            f"({n_classes} classes, window {window})"
        )
    generator = make_rng(config.seed)
    at_snr = np.flatnonzero(data.snr == config.snr_db)
    if at_snr.size == 0:
        raise DatasetError(f"no example at SNR {config.snr_db} dB; the data has SNRs {data.snrs}")
    order = generator.permutation(at_snr)
    evaluated, pool = order[: config.n_examples], order[config.n_examples :]
    x, y, snr = data.x[evaluated], data.y[evaluated], data.snr[evaluated]
    fits = {}
    for spec in [*config.attacks, *(config.spec(ART_BASELINES[b].twin) for b in config.art_baselines)]:
        n_fit = getattr(spec, "n_fit", 0)
        fits[spec.name] = _take(data, _fit_indices(spec, pool, min(n_fit, 16), evaluated[:n_fit]))

    batch_size = config.batch_size
    if config.micro_batch is None:
        logits = logits_fn(model)
    else:
        size = auto_micro_batch(model) if config.micro_batch == "auto" else config.micro_batch
        logits = logits_fn(model, parts_for(batch_size, size))

    def predict(a: np.ndarray) -> np.ndarray:
        return predict_classes(logits, a, batch_size)

    clean = predict(x) == y
    notes = sanity_checks(model, x, y, n_classes, batch_size)
    grid = list(config.pnr_db)
    linf = config.linf_convention
    names = [spec.name for spec in config.attacks]
    run = {"batch_size": batch_size, "seed": config.seed, "micro_batch": config.micro_batch}

    cascade = [n for n in names if n not in CONTROLS]
    survivors = config.sweep is SweepMode.SURVIVORS
    curves: list[Curve] = []
    correct: dict[str, dict[float, np.ndarray]] = {}
    makes = {}
    for spec in config.attacks:
        make = makes[spec.name] = attack_factory(build_attack, spec, model, **run)
        warm_up(make, x, y, snr, linf)
        if survivors and spec.name in cascade:
            continue
        points = sweep(make, predict, x, y, snr, grid, fits[spec.name], linf=linf)
        correct[spec.name] = points.correct
        curves.append(curve_of(spec.name, "native", grid, points, x.shape[0], float(clean.mean())))
        if progress:
            accuracies = ", ".join(f"{p:g} dB {a:.3f}" for p, a in zip(grid, curves[-1].accuracy))
            say("robustness", f"native {spec.name}: {accuracies}")

    if survivors:
        walked = survivor_sweep({n: makes[n] for n in cascade}, predict, x, y, snr, grid, fits, clean, linf)
        curves = walked.curves(grid, clean, cascade) + curves
        worst, broken_by = walked.worst_case(grid, clean, cascade), walked.broken_by
        if progress:
            accuracies = ", ".join(f"{p:g} dB {a:.3f}" for p, a in zip(grid, worst))
            say("robustness", f"survivors sweep, worst case: {accuracies} ({sum(walked.gradients.values())} gradients)")
    else:
        worst, broken_by = _cascade_from_results(grid, clean, cascade, correct)

    sample = (x, y, snr)
    comparisons = [
        _art_side_by_side(method, model, config, run, predict, sample, fits, curves, progress)
        for method in config.art_baselines
    ]
    per_snr = (
        _breakdown(data, config, evaluated, run, model, predict, generator)
        if config.breakdown_pnr_db is not None
        else []
    )

    for c in curves:
        if not c.audit_ok:
            notes.append(f"budget audit failed for {c.library} {c.attack}: a perturbation is over budget or not finite")
    for note in notes:
        warnings.warn(note, stacklevel=2)
    return RobustnessReport(
        model=model.name,
        classes=list(data.classes),
        snr_db=config.snr_db,
        n_examples=int(x.shape[0]),
        clean_accuracy=float(clean.mean()),
        pnr_db=grid,
        curves=curves,
        worst_case=worst,
        cascade_order=cascade,
        broken_by=broken_by,
        breakdown_pnr_db=config.breakdown_pnr_db,
        per_snr=per_snr,
        comparisons=comparisons,
        warnings=notes,
        seconds=time.perf_counter() - start,
        config=config.model_dump(mode="json"),
        linf_convention=linf.value,
        window=int(window),
        sweep=config.sweep.value,
    )


def _cascade_from_results(grid, clean, cascade, correct) -> tuple[list[float], list[dict[str, int]]]:
    """Worst case per PNR and the examples each attack broke first, from the full sweep's results."""
    worst, broken_by = [], []
    for pnr in grid:
        still = clean.copy()
        counts = {}
        for name in cascade:
            broken = still & ~correct[name][pnr]
            counts[name] = int(broken.sum())
            still &= ~broken
        worst.append(float(still.mean()))
        broken_by.append(counts)
    return worst, broken_by


def _art_side_by_side(method, model, config, run, predict, sample, fits, curves, progress) -> Comparison:
    """ART baseline ``method`` and its native twin on the same examples, budgets and settings."""
    baseline = ART_BASELINES[method]
    twin = config.spec(baseline.twin)
    grid = list(config.art_pnr_db) if config.art_pnr_db is not None else list(config.pnr_db)
    slow = baseline.minimal or baseline.universal
    m = min(sample[0].shape[0], config.art_max_examples_deepfool if slow else config.art_max_examples)
    xs, ys, ss = (a[:m] for a in sample)
    fit = fits[twin.name]
    fit = tuple(a[: max(m, 16)] for a in fit) if fit is not None and baseline.universal else fit
    art_settings = baseline.settings_from(twin, config.spec)
    make_art = attack_factory(
        build_art_attack, method, model, batch_size=config.batch_size, seed=config.seed, **art_settings
    )
    make_native = attack_factory(build_attack, baseline.twin_spec(twin), model, **run)
    if not slow:
        warm_up(make_art, xs, ys, ss, config.linf_convention)
    warm_up(make_native, xs, ys, ss, config.linf_convention)
    counter = Progress(f"ART {method}", len(grid), unit="PNR points", enabled=progress) if slow else None
    art_points = sweep(make_art, predict, xs, ys, ss, grid, fit, counter, linf=config.linf_convention)
    if counter is not None:
        counter.close()
    subset_clean = float(np.mean(predict(xs) == ys))
    curves.append(curve_of(method, "art", grid, art_points, m, subset_clean))
    native_points = sweep(make_native, predict, xs, ys, ss, grid, fit, linf=config.linf_convention)
    comparison = Comparison(
        art=method,
        native=twin.name,
        n_examples=m,
        pnr_db=grid,
        art_accuracy=curves[-1].accuracy,
        native_accuracy=[float(native_points.correct[p].mean()) for p in grid],
        art_seconds=curves[-1].total_seconds,
        native_seconds=float(sum(native_points.seconds) + native_points.shared),
        clean_accuracy=subset_clean,
    )
    if progress:
        say(
            "robustness",
            f"ART {method} vs native {twin.name} on the same {m} examples (clean {subset_clean:.3f}): "
            f"{comparison.art_seconds:.1f} s vs {comparison.native_seconds:.1f} s",
        )
    return comparison


def _breakdown(data, config, evaluated, run, model, predict, generator) -> list[SNRRow]:
    """Accuracy under every configured attack at ``config.breakdown_pnr_db``, per SNR."""
    snrs = config.breakdown_snrs if config.breakdown_snrs is not None else data.snrs
    rows = []
    used = set(evaluated.tolist())
    pnr = config.breakdown_pnr_db
    for s in snrs:
        idx = np.flatnonzero(data.snr == s)
        if idx.size == 0:
            continue
        idx = generator.permutation(idx)
        chosen = idx[: config.breakdown_n]
        rest = np.array([i for i in idx[config.breakdown_n :] if i not in used], dtype=np.int64)
        x, y, snr = data.x[chosen], data.y[chosen], data.snr[chosen]
        accuracy = {}
        for spec in config.attacks:
            fit = _take(data, _fit_indices(spec, rest, 16, chosen))
            make = attack_factory(build_attack, spec, model, **run)
            points = sweep(make, predict, x, y, snr, [pnr], fit, linf=config.linf_convention)
            accuracy[spec.name] = float(points.correct[pnr].mean())
        clean = float(np.mean(predict(x) == y))
        rows.append(SNRRow(snr_db=int(s), n=int(chosen.size), clean_accuracy=clean, accuracy=accuracy))
    return rows
