"""Success rates of the cell-based attacks on a set of per-cell regressors.

A *cell set* is ``{cell j: model}`` for one (architecture, precoder, training) — the L models a
network runs. Attacking cell j means perturbing the 2·L·K positions fed to model j
(:mod:`amc_tf.attacks.regression`). An attack succeeds on (j, setup) when model j's clean
prediction is feasible (``Σ_k ρ̂_jk ≤ Pmax``) and its adversarial one is not; the success rate
is the number of successes over L·N, as in the paper.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from amc_tf.attacks.regression import build_attack, predicted_total
from amc_tf.config.mimo import Attack, MimoAttackConfig
from amc_tf.errors import AttackError

CellSet = dict[int, Any]


def craft(
    models: CellSet,
    x: np.ndarray,
    attack: Attack | str,
    eps: float,
    settings: MimoAttackConfig | None = None,
    *,
    seed: int = 0,
) -> dict[int, np.ndarray]:
    """Adversarial positions against each cell's model: ``{j: float32 [N, F]}``."""
    if not models:
        raise AttackError("no models to attack")
    return {
        j: build_attack(attack, model, eps, settings, seed=seed + 7919 * j).generate(x)
        for j, model in sorted(models.items())
    }


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
    attacks: tuple[Attack, ...],
    eps_grid: tuple[float, ...],
    pmax: float,
    settings: MimoAttackConfig | None = None,
    *,
    seed: int = 0,
    scale_pgd_step: bool = False,
) -> dict[str, Any]:
    """White-box success rate of every attack at every eps.

    Args:
        scale_pgd_step: Use PGDM steps ``max(pgd_step_m, 2.5·eps/pgd_iters)`` (for wide eps grids:
            Q steps of the paper's α = 0.01 m never leave a 0.4 m ball).

    Returns:
        ``{"clean_feasible": r, "eps_m": [...], "success": {attack: [rate per eps]},
        "infeasible": {attack: [...]}}``.
    """
    base = settings or MimoAttackConfig()
    out: dict[str, Any] = {
        "clean_feasible": feasible_rate(models, x, pmax),
        "eps_m": [float(e) for e in eps_grid],
        "success": {},
        "infeasible": {},
    }
    for attack in attacks:
        name = Attack(attack).value
        out["success"][name], out["infeasible"][name] = [], []
        for eps in eps_grid:
            s = (
                base.model_copy(update={"pgd_step_m": max(base.pgd_step_m, 2.5 * eps / base.pgd_iters)})
                if scale_pgd_step
                else base
            )
            rates = success_rate(models, x, craft(models, x, attack, eps, s, seed=seed), pmax)
            out["success"][name].append(rates["success"])
            out["infeasible"][name].append(rates["infeasible"])
    return out
