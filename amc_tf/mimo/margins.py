"""How far the power predictions sit from the budget, and how far an attack can push them.

A cell attack succeeds when it lifts the predicted total ``Σ_k ρ̂_jk`` of a feasible prediction
above Pmax (:mod:`amc_tf.mimo.robustness`). Whether that is possible with a budget of eps metres
is a question of two numbers per (cell, setup), both reported here:

* the **margin** ``Pmax − Σ_k ρ̂_jk`` of the clean prediction (mW): how much the total must rise;
* the **reach** ``eps · ‖∇ₓ Σ_k ρ̂_jk‖₁`` (mW): the first-order rise of one signed step of size
  eps (FGSM's, and the most an L∞ ball of radius eps allows while the model is locally linear).

Both are compared with the **true** optimum: the max-product allocation need not spend the whole
budget (raising a cell's powers also raises the interference it causes), so the fraction of cells
whose optimal total is within ``rtol`` of Pmax tells how close to the boundary a perfect model's
predictions would sit. Gradients are taken with respect to the positions in metres, the unit of
the budget (the models standardise their inputs internally).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from amc_tf.errors import AttackError
from amc_tf.mimo.cell_attacks import CellFGSM, predicted_total
from amc_tf.mimo.model_sets import CellSet

#: Quantiles reported for every distribution.
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


def optimal_budget_use(power: np.ndarray, pmax: float, rtol: float = 1e-3) -> dict[str, Any]:
    """How much of the budget the optimal powers spend.

    Args:
        power: ``float [N, L, K]`` optimal powers in mW.
        pmax: Budget per cell in mW.
        rtol: A cell "uses all of Pmax" when its total is within ``rtol·Pmax`` of Pmax.

    Returns:
        ``{"at_pmax": fraction of (setup, cell) pairs, "total_mw": quantiles of the totals,
        "slack_mw": quantiles of Pmax − total}``.
    """
    totals = np.asarray(power, dtype=np.float64).sum(axis=-1).reshape(-1)
    return {
        "at_pmax": float(np.mean(totals >= pmax * (1.0 - rtol))),
        "rtol": rtol,
        "total_mw": _quantiles(totals),
        "slack_mw": _quantiles(pmax - totals),
    }


def clean_margins(models: CellSet, x: np.ndarray, pmax: float) -> np.ndarray:
    """``Pmax − Σ_k ρ̂_jk`` of the clean predictions, ``float64 [L, N]`` mW (negative = infeasible)."""
    if not models:
        raise AttackError("no models")
    return np.stack([pmax - predicted_total(models[j], x) for j in sorted(models)])


def gradient_l1(models: CellSet, x: np.ndarray) -> np.ndarray:
    """``‖∇ₓ Σ_k ρ̂_jk‖₁`` per (cell, setup), ``float64 [L, N]`` in mW per metre."""
    return np.stack(
        [np.abs(CellFGSM(models[j], eps=0.0).gradient(x)).sum(axis=1).astype(np.float64) for j in sorted(models)]
    )


def margin_report(
    models: CellSet, x: np.ndarray, pmax: float, eps_grid: tuple[float, ...], true_power: np.ndarray | None = None
) -> dict[str, Any]:
    """Margins of the clean predictions, gradient sizes, and first-order reach per eps.

    Args:
        models: ``{j: model}`` for the L cells.
        x: ``float32 [N, F]`` clean positions in metres.
        pmax: Budget in mW.
        eps_grid: Budgets in metres at which the reach is compared with the margins.
        true_power: ``float [N, L, K]`` optimal powers, to report the bias of the predicted
            totals against the true ones.

    Returns:
        ``{"margin_mw": quantiles, "feasible": fraction, "within_mw": {d: fraction of feasible
        predictions within d mW of Pmax}, "grad_l1_mw_per_m": quantiles, "reach": {eps:
        fraction of (cell, setup) pairs that are feasible and whose margin is below the
        first-order reach}, and with ``true_power`` "total_bias_mw" (mean predicted − true
        total), "relative_total_error" quantiles and "reach_unbiased" (the reach with the
        predictions shifted by minus that bias)}``.
    """
    margins = clean_margins(models, x, pmax)
    grad = gradient_l1(models, x)
    feasible = margins >= 0
    out: dict[str, Any] = {
        "margin_mw": _quantiles(margins),
        "feasible": float(feasible.mean()),
        "within_mw": {str(d): float(np.mean(feasible & (margins <= d))) for d in (1.0, 5.0, 10.0, 25.0, 50.0)},
        "grad_l1_mw_per_m": _quantiles(grad),
        "reach": {str(float(e)): float(np.mean(feasible & (margins < e * grad))) for e in eps_grid},
    }
    if true_power is not None:
        true_totals = np.asarray(true_power, dtype=np.float64).sum(axis=-1).T  # [L, N]
        predicted = pmax - margins
        bias = float(np.mean(predicted - true_totals))
        out["total_bias_mw"] = bias
        out["relative_total_error"] = _quantiles((predicted - true_totals) / true_totals)
        # the same model without its mean bias: how many pairs a step of eps would then flip
        shifted = margins + bias
        out["reach_unbiased"] = {str(float(e)): float(np.mean((shifted >= 0) & (shifted < e * grad))) for e in eps_grid}
    return out


def _quantiles(values: np.ndarray) -> dict[str, float]:
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    return {"mean": float(v.mean()), **{f"q{round(100 * q):02d}": float(np.quantile(v, q)) for q in QUANTILES}}
