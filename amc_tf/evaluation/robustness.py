"""Robustness evaluation: one call, one typed report (after AutoAttack / RobustBench).

:func:`evaluate_robustness` takes a trained logits classifier, an :class:`~amc_tf.data.dataset.IQDataset`
and a :class:`~amc_tf.config.attack.RobustnessConfig` and returns a :class:`RobustnessReport` with

* clean accuracy of the evaluated examples (drawn at one SNR, 10 dB by default as in the papers);
* accuracy under every native attack at every PNR of the grid, with a budget audit per point
  (measured PNR, ``||delta|| / radius``, NaN count; design D4);
* worst-case accuracy per PNR — the cascade of AutoAttack: each attack counts only on examples
  still correct after the attacks before it; the report says how many each attack broke. Every
  attack here treats examples independently (a universal vector is fitted on separate data), so
  the cascade is evaluated from the per-example results without re-running attacks;
* a per-SNR breakdown at one PNR;
* the ART baselines beside their native counterparts on the same examples, budgets and settings
  (accuracy and seconds; PGD without random start on both sides, as ART cannot draw one inside
  per-example balls);
* sanity checks before trusting a number: outputs that look like probabilities, gradients that
  vanish, and any audit failure, as warnings in the report (and ``warnings.warn``).

Attacks use the true labels. DeepFool is run once without a budget and projected onto each PNR's
ball (exactly what a budget-capped DeepFool returns); universal perturbations are fitted per PNR
on ``uap.n_fit`` examples at the same SNR that are not evaluated, when the data has enough.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from amc_tf.attacks import CONTROLS, build_attack
from amc_tf.attacks.base import Attack, check_classifier
from amc_tf.attacks.budgets import Budget, Norm, audit, project
from amc_tf.attacks.checks import sanity_checks
from amc_tf.attacks.graph import auto_micro_batch, logits_fn, parts_for
from amc_tf.config.attack import AttackSettings, RobustnessConfig
from amc_tf.data.dataset import IQDataset
from amc_tf.errors import DatasetError
from amc_tf.evaluation.robustness_report import Comparison, Curve, RobustnessReport, SNRRow
from amc_tf.runtime import keras
from amc_tf.runtime import rng as make_rng

__all__ = ["Comparison", "Curve", "RobustnessReport", "SNRRow", "evaluate_robustness"]


# -- attack construction from the config ---------------------------------------------------------


def native_settings(name: str, s: AttackSettings) -> dict[str, Any]:
    """Keyword settings of native attack ``name`` from the typed config."""
    if name in ("pgd_l2", "pgd_linf"):
        return s.pgd.model_dump()
    if name == "mifgsm":
        return s.mifgsm.model_dump()
    if name == "deepfool":
        return s.deepfool.model_dump()
    if name == "uap_svd":
        return {"n_vectors": s.uap.n_vectors, "draws": s.uap.draws}
    if name == "uap_iterative":
        return {"inner": s.uap.inner, "delta": s.uap.delta, "max_passes": s.uap.max_passes}
    return {}


def art_settings(method: str, s: AttackSettings) -> dict[str, Any]:
    """Keyword settings of ART baseline ``method``; ART PGD runs without a random start (ART
    cannot draw one inside per-example balls)."""
    if method in ("pgd_l2", "pgd_linf"):
        return {"steps": s.pgd.steps, "step_fraction": s.pgd.step_fraction, "random_start": False}
    if method == "deepfool":
        return s.deepfool.model_dump()
    if method == "uap":
        return {"delta": s.uap.delta, "max_passes": s.uap.max_passes, "overshoot": s.deepfool.overshoot}
    return {}


# -- one curve -----------------------------------------------------------------------------------


@dataclass
class _Points:
    correct: dict[float, np.ndarray]
    seconds: list[float]
    shared: float
    audits: list[dict]
    settings: dict


def _sweep(
    make: Callable[[Budget | None], Attack],
    predict: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    snr: np.ndarray,
    grid: list[float],
    fit: tuple[np.ndarray, np.ndarray, np.ndarray],
    progress: Callable[[str], None] | None = None,
) -> _Points:
    """Run one attack at every PNR of ``grid``; per-example correctness, timing and audits.

    ``progress`` (for slow attacks) receives one line per finished PNR point.
    """
    correct, seconds, audits = {}, [], []
    shared, free = 0.0, None
    probe = make(Budget.pnr(grid[0]))
    settings = probe.settings()
    if probe.minimal:
        # DeepFool: one unbounded run, projected onto each PNR's ball.
        unbounded = make(None)
        t0 = time.perf_counter()
        free = unbounded.generate(x, y)
        shared = time.perf_counter() - t0
        settings = {**unbounded.settings(), "budget": "projected per PNR"}
    for pnr in grid:
        budget = Budget.pnr(pnr)
        t0 = time.perf_counter()
        if free is not None:
            radius = budget.radius(x, snr, Norm.L2)
            x_adv = x + project(free - x, radius, Norm.L2)
            norm = Norm.L2
        else:
            attack = probe if pnr == grid[0] else make(budget)
            if attack.universal:
                attack.fit(*fit[:2], snr=fit[2])
                x_adv = attack.generate(x)
                radius = np.full(x.shape[0], attack.radius, np.float32)
            else:
                x_adv = attack.generate(x, y, snr=snr)
                radius = attack.resolve_radius(x, snr)
            norm = attack.norm
        seconds.append(time.perf_counter() - t0)
        correct[pnr] = predict(x_adv) == y
        if progress is not None:
            progress(f"{pnr:g} dB done ({len(seconds)}/{len(grid)}), {seconds[-1]:.1f} s")
        audits.append({"pnr_db": pnr, **audit(x, x_adv, radius, norm, snr).to_json()})
    return _Points(correct, seconds, shared, audits, settings)


def _warm_up(make: Callable[[Budget | None], Attack], x: np.ndarray, y: np.ndarray, snr: np.ndarray) -> None:
    """Trace the compiled functions once so that the timed sweep measures steady-state work."""
    attack = make(Budget.pnr(0.0))
    if not attack.universal:
        attack.generate(x[:2], y[:2], snr=snr[:2])


# -- the evaluation ------------------------------------------------------------------------------


def evaluate_robustness(
    model: keras.Model,
    data: IQDataset,
    config: RobustnessConfig,
    *,
    log: Callable[[str], None] | None = None,
) -> RobustnessReport:
    """Evaluate ``model`` against the configured attacks; see the module docstring.

    Args:
        model: Trained classifier with logits, input ``[N, 2, L]``.
        data: Evaluation data (its SNR labels select the examples).
        config: Attacks, PNR grid, SNR, sizes, ART baselines, seed.
        log: Optional progress callback (one line per curve).

    Raises:
        ModelError: the model is not an I/Q logits classifier.
        DatasetError: no example at ``config.snr_db``, or the data's classes do not match the model.
    """
    start = time.perf_counter()
    say = log or (lambda _msg: None)
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
    ev, pool = order[: config.n_examples], order[config.n_examples :]
    x, y, snr = data.x[ev], data.y[ev], data.snr[ev]
    fit_idx = (
        pool[: config.settings.uap.n_fit]
        if pool.size >= min(config.settings.uap.n_fit, 16)
        else ev[: config.settings.uap.n_fit]
    )
    fit = (data.x[fit_idx], data.y[fit_idx], data.snr[fit_idx])

    bs = config.batch_size
    if config.micro_batch is None:
        fn = logits_fn(model)
    else:
        fn = logits_fn(
            model, parts_for(bs, auto_micro_batch(model) if config.micro_batch == "auto" else config.micro_batch)
        )

    def predict(a: np.ndarray) -> np.ndarray:
        out = [np.argmax(fn(a[i : i + bs]).numpy(), axis=1) for i in range(0, a.shape[0], bs)]
        return np.concatenate(out) if out else np.zeros(0, np.int64)

    clean = predict(x) == y
    notes = sanity_checks(model, x, y, n_classes, bs)
    grid = list(config.pnr_db)
    names = [a.value for a in config.attacks]

    def native(name: str, **override: Any) -> Callable[[Budget | None], Attack]:
        kw = {**native_settings(name, config.settings), **override}
        return lambda budget: build_attack(
            name, model, budget=budget, batch_size=bs, seed=config.seed, micro_batch=config.micro_batch, **kw
        )

    curves: list[Curve] = []
    correct: dict[str, dict[float, np.ndarray]] = {}
    for name in names:
        make = native(name)
        _warm_up(make, x, y, snr)
        pts = _sweep(make, predict, x, y, snr, grid, fit)
        correct[name] = pts.correct
        curves.append(_curve(name, "native", grid, pts, x.shape[0]))
        say(f"native {name}: " + ", ".join(f"{p:g} dB {a:.3f}" for p, a in zip(grid, curves[-1].accuracy)))

    cascade = [n for n in names if n not in CONTROLS]
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

    comparisons = _art_side_by_side(model, config, native, predict, x, y, snr, fit, curves, say)
    per_snr = (
        _breakdown(data, config, ev, native, predict, names, generator) if config.breakdown_pnr_db is not None else []
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
    )


def _curve(name: str, library: str, grid: list[float], pts: _Points, n: int) -> Curve:
    return Curve(
        attack=name,
        library=library,
        pnr_db=list(grid),
        accuracy=[float(pts.correct[p].mean()) for p in grid],
        seconds=pts.seconds,
        shared_seconds=pts.shared,
        n_examples=n,
        audit=pts.audits,
        settings=pts.settings,
    )


def _art_side_by_side(model, config, native, predict, x, y, snr, fit, curves, say) -> list[Comparison]:
    if not config.art_baselines:
        return []
    from amc_tf.attacks.art_baseline import NATIVE_COUNTERPART, build_art_attack

    grid = list(config.art_pnr_db) if config.art_pnr_db is not None else list(config.pnr_db)
    out = []
    for method in (b.value for b in config.art_baselines):
        slow = method in ("deepfool", "uap")
        m = min(x.shape[0], config.art_max_examples_deepfool if slow else config.art_max_examples)
        xs, ys, ss = x[:m], y[:m], snr[:m]
        fs = tuple(a[: max(m, 16)] for a in fit) if method == "uap" else fit
        kw = art_settings(method, config.settings)

        def make_art(budget, method=method, kw=kw):
            return build_art_attack(method, model, budget=budget, batch_size=config.batch_size, seed=config.seed, **kw)

        twin = NATIVE_COUNTERPART[method]
        # like for like: ART's PGD cannot start randomly inside per-example balls, so neither does its twin
        same = {"random_start": False, "restarts": 1} if method.startswith("pgd") else {}
        if not slow:
            _warm_up(make_art, xs, ys, ss)
        _warm_up(native(twin, **same), xs, ys, ss)
        progress = (lambda line, method=method: say(f"ART {method}: {line}")) if slow else None
        art_pts = _sweep(make_art, predict, xs, ys, ss, grid, fs, progress)
        curves.append(_curve(method, "art", grid, art_pts, m))
        nat_pts = _sweep(native(twin, **same), predict, xs, ys, ss, grid, fs)
        art_curve = curves[-1]
        out.append(
            Comparison(
                art=method,
                native=twin,
                n_examples=m,
                pnr_db=grid,
                art_accuracy=art_curve.accuracy,
                native_accuracy=[float(nat_pts.correct[p].mean()) for p in grid],
                art_seconds=art_curve.total_seconds,
                native_seconds=float(sum(nat_pts.seconds) + nat_pts.shared),
            )
        )
        say(
            f"ART {method} vs native {twin} on {m} examples: {out[-1].art_seconds:.1f} s vs {out[-1].native_seconds:.1f} s"
        )
    return out


def _breakdown(data, config, evaluated, native, predict, names, generator) -> list[SNRRow]:
    snrs = config.breakdown_snrs if config.breakdown_snrs is not None else data.snrs
    rows = []
    used = set(evaluated.tolist())
    for s in snrs:
        idx = np.flatnonzero(data.snr == s)
        if idx.size == 0:
            continue
        idx = generator.permutation(idx)
        ev = idx[: config.breakdown_n]
        rest = np.array([i for i in idx[config.breakdown_n :] if i not in used], dtype=np.int64)
        fit_idx = rest[: config.settings.uap.n_fit] if rest.size >= 16 else ev
        x, y, snr = data.x[ev], data.y[ev], data.snr[ev]
        fit = (data.x[fit_idx], data.y[fit_idx], data.snr[fit_idx])
        acc = {}
        for name in names:
            pts = _sweep(native(name), predict, x, y, snr, [config.breakdown_pnr_db], fit)
            acc[name] = float(pts.correct[config.breakdown_pnr_db].mean())
        rows.append(SNRRow(snr_db=int(s), n=int(ev.size), clean_accuracy=float(np.mean(predict(x) == y)), accuracy=acc))
    return rows
