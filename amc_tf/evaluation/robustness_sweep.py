"""One attack over a PNR grid: the unit of work of :mod:`amc_tf.evaluation.robustness`.

:func:`sweep` runs an attack (built per budget by a factory) at every PNR of a grid and returns
per-example correctness, wall time and budget audits; a minimal attack (DeepFool) runs once
without a budget and is projected onto each ball, a universal one is fitted per PNR on separate
data. :func:`warm_up` traces the compiled functions first so that timings are steady-state.
:func:`gradient_count` is the cost measure both sweep modes report: input-gradient evaluations,
one model forward+backward pass of one scalar for one example (PGD-k: k per example, DeepFool: one
per candidate class per evaluation of its batch).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from amc_tf.attacks.base import Attack
from amc_tf.attacks.budgets import Budget, LinfConvention, Norm, audit, project
from amc_tf.evaluation.robustness_report import Curve
from amc_tf.progress import Progress
from amc_tf.runtime import keras


@dataclass
class SweepPoints:
    """One attack over a PNR grid: per-example correctness, seconds per point, shared seconds, audits, settings."""

    correct: dict[float, np.ndarray]
    seconds: list[float]
    shared: float
    audits: list[dict]
    settings: dict
    gradients: int = 0


def gradient_count(attack: Attack, n: int) -> int:
    """Input-gradient evaluations of the last ``attack.generate`` on ``n`` examples (0 for the controls).

    PGD / FGM / MI-FGSM: ``steps x restarts`` per example. DeepFool evaluates the class gradients
    of its ``k`` candidates for the whole batch until the batch's last example flips, so a batch
    costs ``k x (its largest step count + 1)`` per example (read from ``last_steps``). Universal
    attacks cost nothing per example (their fit is :func:`fit_gradients`). ART attacks: 0 (not counted).
    """
    if n == 0 or not attack.uses_model or attack.universal:
        return 0
    if attack.minimal:
        steps = getattr(attack, "last_steps", None)
        if steps is None or steps.size != n:
            return 0
        cap = attack.max_iter + 1
        return int(sum((j - i) * min(int(steps[i:j].max()) + 1, cap) for i, j in attack.batches(n)) * attack.k)
    return int(n * getattr(attack, "steps", 0) * getattr(attack, "restarts", 1))


def fit_gradients(attack: Attack, n_fit: int) -> int:
    """Input gradients of fitting a universal attack on ``n_fit`` examples (SVD: ``draws x n_vectors``;
    the iterative UAP's inner DeepFool is not counted)."""
    spec = attack.spec
    if getattr(spec, "n_vectors", None) is None:
        return 0
    return int(spec.draws * min(spec.n_vectors, n_fit))


def sweep(
    make: Callable[[Budget | None], Attack],
    predict: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    snr: np.ndarray,
    grid: list[float],
    fit: tuple[np.ndarray, np.ndarray, np.ndarray],
    progress: Progress | None = None,
    linf: LinfConvention = LinfConvention.ENERGY_MATCHED,
) -> SweepPoints:
    """Run one attack at every PNR of ``grid``; per-example correctness, timing and audits.

    ``fit`` is the universal attacks' fit data (unused by the others); ``progress`` (for slow
    attacks) counts the finished PNR points; ``linf`` is the budgets' L∞ convention.
    """
    correct, seconds, audits = {}, [], []
    shared, free, gradients = 0.0, None, 0
    probe = make(Budget.pnr(grid[0], linf))
    settings = probe.settings()
    if probe.minimal:
        # DeepFool: one unbounded run, projected onto each PNR's ball.
        unbounded = make(None)
        t0 = time.perf_counter()
        free = unbounded.generate(x, y)
        shared = time.perf_counter() - t0
        gradients += gradient_count(unbounded, x.shape[0])
        settings = {**unbounded.settings(), "budget": "projected per PNR"}
    for pnr in grid:
        budget = Budget.pnr(pnr, linf)
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
                gradients += fit_gradients(attack, fit[0].shape[0])
            else:
                x_adv = attack.generate(x, y, snr=snr)
                radius = attack.resolve_radius(x, snr)
                gradients += gradient_count(attack, x.shape[0])
            norm = attack.norm
        seconds.append(time.perf_counter() - t0)
        correct[pnr] = predict(x_adv) == y
        if progress is not None:
            progress.update(note=f"{pnr:g} dB in {seconds[-1]:.1f} s")
        audits.append({"pnr_db": pnr, **audit(x, x_adv, radius, norm, snr).to_json()})
    return SweepPoints(correct, seconds, shared, audits, settings, gradients)


def warm_up(
    make: Callable[[Budget | None], Attack],
    x: np.ndarray,
    y: np.ndarray,
    snr: np.ndarray,
    linf: LinfConvention = LinfConvention.ENERGY_MATCHED,
) -> None:
    """Trace the compiled functions once so that the timed sweep measures steady-state work."""
    attack = make(Budget.pnr(0.0, linf))
    if not attack.universal:
        attack.generate(x[:2], y[:2], snr=snr[:2])


def attack_factory(build: Callable[..., Attack], attack: Any, model: keras.Model, **run: Any):
    """``budget -> attack``: ``build(attack, model, budget=budget, **run)``."""
    return lambda budget: build(attack, model, budget=budget, **run)


def curve_of(name: str, library: str, grid: list[float], pts: SweepPoints, n: int, clean: float | None = None) -> Curve:
    """The report's :class:`~amc_tf.evaluation.robustness_report.Curve` of a sweep on ``n`` examples
    (``clean``: their clean accuracy)."""
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
        gradients=pts.gradients,
        clean_accuracy=clean,
    )
