"""Sum spectral efficiency of the DNN's power allocation, with and without attacks.

The physical UE positions — hence the true hardening-bound terms a, b of each test setup — do not
change under attack; only the positions *reported* to the DNNs do. So the SE is evaluated with the
true a, b and the powers the DNNs predict from the (possibly perturbed) inputs: cell j's powers
come from model j fed with the cell-j attack's positions.

Where eq. 14 is not applied, a cell predicted above Pmax is scaled down to Pmax
(:func:`enforce_budget`) unless told otherwise: a BS cannot radiate more than its budget, and an
infeasible allocation applied as predicted *raises* the SE (more power in every cell lifts every
SINR), which would credit the attack with the budget it broke.

Predicted powers are clipped at zero (an ELU output can dip to −1 mW) and, where stated, re-scaled
as the paper's eq. 14 writes it: each cell's prediction is scaled to the *optimal* total of that
cell, up or down, ``ρ̂^R_jk = ρ̂_jk · Σ_k′ ρ_jk′ / Σ_k′ ρ̂_jk′`` (ρ the optimal powers), so the
re-scaled allocation spends exactly what the optimum spends and only its split among the UEs
can be wrong. The clean DNN curve is not re-scaled. The SE is
``(τ_d/τ_c) log2(1 + SINR)`` per UE (:func:`amc_tf.mimo.power.spectral_efficiency`), summed over
the L·K UEs of the network.
"""

from __future__ import annotations

import numpy as np

from amc_tf.config.mimo import MimoSystemConfig
from amc_tf.errors import AttackError
from amc_tf.mimo.cell_attacks import predict_powers
from amc_tf.mimo.model_sets import CellSet
from amc_tf.mimo.power import spectral_efficiency


def rescale_to_optimal_total(rho: np.ndarray, optimal: np.ndarray) -> np.ndarray:
    """Eq. 14: clip at 0, then scale each cell's powers so they sum to the optimal total.

    Args:
        rho: ``[N, L, K]`` predicted (possibly attacked) powers in mW.
        optimal: ``[N, L, K]`` optimal powers in mW (only their per-cell sums are used).

    Returns:
        ``float64 [N, L, K]`` with ``Σ_k out[n, j, k] = Σ_k optimal[n, j, k]``; a cell predicted
        all-zero gets the optimal total split equally.
    """
    rho = np.maximum(np.asarray(rho, dtype=np.float64), 0.0)
    optimal = np.asarray(optimal, dtype=np.float64)
    if rho.shape != optimal.shape:
        raise AttackError(f"predicted {list(rho.shape)} and optimal {list(optimal.shape)} powers differ in shape")
    total, target = rho.sum(axis=-1, keepdims=True), optimal.sum(axis=-1, keepdims=True)
    equal = np.broadcast_to(target / rho.shape[-1], rho.shape)
    return np.where(total > 0, rho * target / np.where(total > 0, total, 1.0), equal)


def enforce_budget(rho: np.ndarray, pmax: float) -> np.ndarray:
    """Clip at 0, then scale every cell whose total exceeds ``pmax`` down to ``pmax`` (others kept).

    Args:
        rho: ``[N, L, K]`` powers in mW.
        pmax: Per-BS budget in mW.

    Returns:
        ``float64 [N, L, K]`` with ``Σ_k out[n, j, k] <= pmax``.
    """
    rho = np.maximum(np.asarray(rho, dtype=np.float64), 0.0)
    total = rho.sum(axis=-1, keepdims=True)
    return np.where(total > pmax, rho * (pmax / np.where(total > 0, total, 1.0)), rho)


def predicted_powers(models: CellSet, x: np.ndarray | dict[int, np.ndarray], n_users: int) -> np.ndarray:
    """Powers of every cell, ``float64 [N, L, K]`` mW.

    Args:
        models: ``{j: model}`` for all L cells.
        x: Positions ``float32 [N, F]`` for all cells, or ``{j: [N, F]}`` per cell (attacked).
        n_users: K.
    """
    cols = []
    for j in range(len(models)):
        if j not in models:
            raise AttackError(f"cells must be numbered 0..{len(models) - 1}; cell {j} is missing")
        xj = x[j] if isinstance(x, dict) else x
        cols.append(predict_powers(models[j], xj)[:, :n_users])
    return np.stack(cols, axis=1).astype(np.float64)


def sum_se(a: np.ndarray, b: np.ndarray, rho: np.ndarray, system: MimoSystemConfig) -> np.ndarray:
    """Network sum SE in bit/s/Hz per setup, ``[N]``, for powers ``rho [N, L, K]`` (clipped at 0)."""
    return spectral_efficiency(a, b, np.maximum(rho, 0.0), system.tau_c, system.tau_p).sum(axis=(1, 2))


def empirical_cdf(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(sorted values, cumulative probabilities)`` for plotting a CDF."""
    v = np.sort(np.asarray(values, dtype=np.float64))
    return v, np.arange(1, len(v) + 1) / max(len(v), 1)


def summarise(samples: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Mean, median and 5th percentile of each sum-SE sample (bit/s/Hz)."""
    return {
        name: {"mean": float(np.mean(v)), "median": float(np.median(v)), "p05": float(np.percentile(v, 5))}
        for name, v in samples.items()
    }
