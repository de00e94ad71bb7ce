"""Success rates of the cell-based attacks on a set of per-cell regressors.

A *cell set* is ``{cell j: model}`` for one (architecture, precoder, training) — the L models a
network runs. Attacking cell j means perturbing the 2·L·K positions fed to model j
(:mod:`amc_tf.mimo.cell_attacks`). An attack succeeds on (j, setup) when model j's clean
prediction is feasible (``Σ_k ρ̂_jk ≤ Pmax``) and its adversarial one is not; the success rate
is the number of successes over L·N, as in the paper. A sweep over attacks and budgets is one
typed :class:`Sweep`; budgets are in the attack settings' ``eps_unit`` and every result is also
given as the displacement in metres of the crafted positions.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from amc_tf.config.mimo import AttackObjective, CellAttackName, MimoAttackConfig
from amc_tf.errors import AttackError
from amc_tf.mimo.attack_space import displacement_m
from amc_tf.mimo.cell_attacks import build_cell_attack, predicted_total
from amc_tf.mimo.model_sets import CellSet
from amc_tf.results import Result


@dataclasses.dataclass(frozen=True)
class Sweep(Result):
    """White-box success rates of several attacks over an eps grid on one cell set.

    Attributes:
        clean_feasible: Fraction of (cell, setup) pairs whose clean prediction is within Pmax.
        eps_m: The budgets, in ``eps_unit``.
        success: Attack name → success rate per eps (successes / (L·N)).
        infeasible: Attack name → fraction of adversarial predictions above Pmax, per eps.
        eps_unit: ``metres`` or ``normalized``.
        displacement_m: Attack name → mean |Δ| per coordinate of the crafted positions in metres,
            per eps (over cells, setups and features).
    """

    clean_feasible: float
    eps_m: tuple[float, ...]
    success: dict[str, list[float]]
    infeasible: dict[str, list[float]]
    eps_unit: str = "metres"
    displacement_m: dict[str, list[float]] = dataclasses.field(default_factory=dict)

    def metrics(self) -> dict[str, float]:
        """``clean_feasible`` and ``<attack>_success`` at the largest eps."""
        return {"clean_feasible": self.clean_feasible, **{f"{a}_success": r[-1] for a, r in self.success.items()}}


def craft(
    models: CellSet,
    x: np.ndarray,
    attack: CellAttackName | str,
    eps: float,
    settings: MimoAttackConfig | None = None,
    *,
    seed: int = 0,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
    objective: AttackObjective | str = AttackObjective.TOTAL_POWER,
    optimal: np.ndarray | None = None,
) -> dict[int, np.ndarray]:
    """Adversarial positions against each cell's model: ``{j: float32 [N, F]}`` (``bounds``: the
    data domain, :func:`~amc_tf.mimo.attack_space.cell_bounds`; ``optimal``: ``[N, L, K]`` optimal
    powers in mW, the targets of the ``regression_loss`` objective)."""
    if not models:
        raise AttackError("no models to attack")
    out = {}
    for j, model in sorted(models.items()):
        cell_attack = build_cell_attack(
            attack, model, eps, settings, seed=seed + 7919 * j, bounds=bounds, objective=objective
        )
        out[j] = cell_attack.generate(x, None if optimal is None else optimal[:, j, :])
    return out


def mean_displacement_m(x: np.ndarray, x_adv: dict[int, np.ndarray]) -> float:
    """Mean |Δ| per coordinate (metres) of crafted positions, over every cell's examples."""
    return float(np.mean([displacement_m(x, adv)["mean_abs"] for _, adv in sorted(x_adv.items())]))


def feasible_rate(models: CellSet, x: np.ndarray, pmax: float) -> float:
    """Fraction of (cell, setup) pairs whose clean prediction is within the budget."""
    return float(np.mean([np.mean(predicted_total(m, x) <= pmax) for _, m in sorted(models.items())]))


def success_rate(models: CellSet, x_clean: np.ndarray, x_adv: dict[int, np.ndarray], pmax: float) -> dict[str, float]:
    """Success and infeasibility rates of crafted examples evaluated on ``models``.

    Args:
        models: ``{j: model}`` evaluated (white-box if they crafted ``x_adv``, else transfer).
        x_clean: ``float32 [N, F]`` clean positions.
        x_adv: ``{j: float32 [N, F]}`` crafted against cell j.
        pmax: Budget in mW.

    Returns:
        ``{"success": successes / (L·N), "infeasible": adversarial infeasible / (L·N),
        "clean_feasible": clean feasible / (L·N)}``.
    """
    hits, infeasible, feasible = 0, 0, 0
    for j, model in sorted(models.items()):
        if j not in x_adv:
            raise AttackError(f"no adversarial examples for cell {j}")
        clean_ok = predicted_total(model, x_clean) <= pmax
        adv_bad = predicted_total(model, x_adv[j]) > pmax
        hits += int((clean_ok & adv_bad).sum())
        infeasible += int(adv_bad.sum())
        feasible += int(clean_ok.sum())
    total = len(models) * len(x_clean)
    return {"success": hits / total, "infeasible": infeasible / total, "clean_feasible": feasible / total}


def attack_sweep(
    models: CellSet,
    x: np.ndarray,
    attacks: tuple[CellAttackName | str, ...],
    eps_grid: tuple[float, ...],
    pmax: float,
    settings: MimoAttackConfig | None = None,
    *,
    seed: int = 0,
    scale_pgd_step: bool = False,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
) -> Sweep:
    """White-box success rate of every attack at every eps.

    Args:
        scale_pgd_step: Use PGDM steps ``max(pgd_step_m, 2.5·eps/pgd_iters)`` (for wide eps grids:
            Q steps of the paper's α = 0.01 never leave a ball of 0.4).
        bounds: The data domain the crafted positions are clipped to (if the settings say so).

    Returns:
        The :class:`Sweep`.
    """
    base = settings or MimoAttackConfig()
    clean_feasible = feasible_rate(models, x, pmax)
    success: dict[str, list[float]] = {}
    infeasible: dict[str, list[float]] = {}
    moved: dict[str, list[float]] = {}
    for attack in attacks:
        name = CellAttackName(attack).value
        success[name], infeasible[name], moved[name] = [], [], []
        for eps in eps_grid:
            s = (
                base.model_copy(update={"pgd_step_m": max(base.pgd_step_m, 2.5 * eps / base.pgd_iters)})
                if scale_pgd_step
                else base
            )
            x_adv = craft(models, x, attack, eps, s, seed=seed, bounds=bounds)
            rates = success_rate(models, x, x_adv, pmax)
            success[name].append(rates["success"])
            infeasible[name].append(rates["infeasible"])
            moved[name].append(mean_displacement_m(x, x_adv))
    grid = tuple(float(e) for e in eps_grid)
    return Sweep(clean_feasible, grid, success, infeasible, base.eps_unit.value, moved)
