"""The survivors sweep: robust accuracy only, each attack on the examples still standing (AutoAttack).

The PNR grid is walked from the smallest budget to the largest. At each PNR the cascade's attacks
run in order, each only on the examples that are still correctly classified — clean-correct, not
broken by an attack before it at this PNR, and not broken at any smaller PNR. A broken example's
adversarial window is carried forward unchanged: its radius under a PNR budget,
``eps = sqrt(PNR ||x||^2 / (snr + 1))`` (design D4), depends only on the clean window and the SNR
label and grows with the PNR for every example (the L∞ radius is a fixed multiple of it under either
convention), so a perturbation inside one PNR's ball lies inside every larger one. Robust
accuracy is therefore monotone non-increasing in the PNR by construction, and (attacks being
per-example) never above the full sweep's worst case, at a fraction of its gradient evaluations.

A minimal attack (DeepFool) runs unbounded once per example, the first time the example reaches
it, and is projected onto each later ball; a universal one is fitted per PNR on separate data as
in the full sweep and applied to the survivors. The curves are cumulative (after this attack and
every attack before it); every point's budget audit covers all examples that attack has broken so
far, carried ones included, against that point's radii.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from amc_tf.attacks.base import Attack
from amc_tf.attacks.budgets import Budget, BudgetAudit, LinfConvention, Norm, audit, project
from amc_tf.evaluation.robustness_report import Curve
from amc_tf.evaluation.robustness_sweep import fit_gradients, gradient_count

#: The audit of a point where an attack has broken nothing (no perturbation to check).
_NOTHING_BROKEN = BudgetAudit(0, 0, 0, 0.0, None, None, None).to_json()


@dataclass
class SurvivorSweep:
    """The result of :func:`survivor_sweep` (``n`` examples, grid of ``P`` PNRs, cascade of ``A`` attacks).

    Attributes:
        alive: ``{attack: {pnr: bool [n]}}``: still correct after this attack and all before it
            at this PNR and every smaller one.
        broken_by: Per PNR, ``{attack: examples it broke first}`` (at this PNR or a smaller one).
        attacked: ``{attack: [examples attacked at each PNR]}`` (only survivors are attacked).
        gradients: ``{attack: input-gradient evaluations over the whole grid}``.
        seconds, shared: ``{attack: wall seconds per PNR}``, ``{attack: seconds of one-off work}``.
        audits: ``{attack: [budget audit per PNR]}`` of the examples it has broken so far.
        settings: ``{attack: its settings}``.
        adversarial: ``{pnr: float32 [n, 2, L]}``: the inputs after the cascade at that PNR (the
            clean window where no attack succeeded).
    """

    alive: dict[str, dict[float, np.ndarray]] = field(default_factory=dict)
    broken_by: list[dict[str, int]] = field(default_factory=list)
    attacked: dict[str, list[int]] = field(default_factory=dict)
    gradients: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, list[float]] = field(default_factory=dict)
    shared: dict[str, float] = field(default_factory=dict)
    audits: dict[str, list[dict]] = field(default_factory=dict)
    settings: dict[str, dict] = field(default_factory=dict)
    adversarial: dict[float, np.ndarray] = field(default_factory=dict)

    def worst_case(self, grid: list[float], clean: np.ndarray, order: list[str]) -> list[float]:
        """Robust accuracy after the whole cascade at each PNR (clean accuracy without attacks)."""
        if not order:
            return [float(clean.mean())] * len(grid)
        return [float(self.alive[order[-1]][p].mean()) for p in grid]

    def curves(self, grid: list[float], clean: np.ndarray, order: list[str]) -> list[Curve]:
        """One cumulative :class:`Curve` per cascade attack."""
        n = clean.shape[0]
        return [
            Curve(
                attack=name,
                library="native",
                pnr_db=list(grid),
                accuracy=[float(self.alive[name][p].mean()) for p in grid],
                seconds=self.seconds[name],
                shared_seconds=self.shared[name],
                n_examples=n,
                audit=self.audits[name],
                settings=self.settings[name],
                gradients=self.gradients[name],
                clean_accuracy=float(clean.mean()),
                attacked=self.attacked[name],
                cumulative=True,
            )
            for name in order
        ]


def survivor_sweep(
    makes: dict[str, Callable[[Budget | None], Attack]],
    predict: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    snr: np.ndarray,
    grid: list[float],
    fits: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray] | None],
    clean: np.ndarray,
    linf: LinfConvention = LinfConvention.ENERGY_MATCHED,
) -> SurvivorSweep:
    """Walk ``grid`` (ascending) with the cascade ``makes`` (in order) on the survivors only.

    Args:
        makes: ``{attack name: budget -> attack}`` in cascade order (no controls).
        predict: ``float32 [m, 2, L] -> int64 [m]`` predicted classes.
        x, y, snr: The examples ``float32 [n, 2, L]``, labels ``int [n]``, SNR labels (dB) ``[n]``.
        grid: PNRs in dB.
        fits: Each universal attack's fit data (None for the others).
        clean: ``bool [n]``: the model is correct on the clean example (the others are never attacked).
        linf: The budgets' L∞ convention.
    """
    grid = sorted(grid)
    order = list(makes)
    out = SurvivorSweep()
    n = x.shape[0]
    alive = clean.copy()
    current = x.copy()
    owner = np.full(n, -1)
    free: dict[str, np.ndarray] = {}
    done: dict[str, np.ndarray] = {}
    for name in order:
        for part in (out.attacked, out.seconds, out.audits):
            part[name] = []
        out.alive[name], out.gradients[name], out.shared[name] = {}, 0, 0.0
    for pnr in grid:
        budget = Budget.pnr(pnr, linf)
        for k, name in enumerate(order):
            idx = np.flatnonzero(alive)
            attack = makes[name](budget)
            out.settings.setdefault(name, {**attack.settings(), "sweep": "survivors (cumulative)"})
            t0 = time.perf_counter()
            if idx.size == 0 and not attack.universal:
                x_adv = x[idx]
            elif attack.minimal:
                if name not in free:
                    free[name], done[name] = np.zeros_like(x), np.zeros(n, bool)
                need = idx[~done[name][idx]]
                if need.size:
                    unbounded = makes[name](None)
                    s0 = time.perf_counter()
                    free[name][need] = unbounded.generate(x[need], y[need])
                    out.shared[name] += time.perf_counter() - s0
                    out.gradients[name] += gradient_count(unbounded, need.size)
                    done[name][need] = True
                t0 = time.perf_counter()
                radius = budget.radius(x[idx], snr[idx], Norm.L2)
                x_adv = x[idx] + project(free[name][idx] - x[idx], radius, Norm.L2)
            elif attack.universal:
                fit = fits[name]
                attack.fit(*fit[:2], snr=fit[2])
                out.gradients[name] += fit_gradients(attack, fit[0].shape[0])
                x_adv = attack.generate(x[idx]) if idx.size else x[idx]
            else:
                x_adv = attack.generate(x[idx], y[idx], snr=snr[idx])
                out.gradients[name] += gradient_count(attack, idx.size)
            out.seconds[name].append(time.perf_counter() - t0)
            out.attacked[name].append(int(idx.size))
            broken = idx[predict(x_adv) != y[idx]] if idx.size else idx
            current[broken] = x_adv[np.isin(idx, broken)]
            alive[broken], owner[broken] = False, k
            out.alive[name][pnr] = alive.copy()
            mine = np.flatnonzero(owner == k)
            norm = Norm.L2 if attack.minimal else attack.norm
            if attack.universal:
                radius = np.full(mine.size, attack.radius, np.float32)
            else:
                radius = budget.radius(x[mine], snr[mine], norm)
            if mine.size == 0:
                out.audits[name].append({"pnr_db": pnr, **_NOTHING_BROKEN})
                continue
            out.audits[name].append({"pnr_db": pnr, **audit(x[mine], current[mine], radius, norm, snr[mine]).to_json()})
        out.broken_by.append({name: int((owner == k).sum()) for k, name in enumerate(order)})
        out.adversarial[pnr] = current.copy()
    return out
