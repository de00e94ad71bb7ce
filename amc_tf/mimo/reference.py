"""Reference max-product power allocation with cvxpy's geometric programming mode (one setup).

This is the book's formulation (``functionPowerOptimization_prodSINR.m``, solved there with
CVX ``gp`` mode): variables ρ > 0 and c > 0, maximise Π c_jk subject to
``c_jk (Σ_li b_lijk ρ_li + 1) ≤ a_jk ρ_jk`` and ``Σ_k ρ_jk ≤ Pmax``. At the optimum each c_jk
equals SINR_jk. It is used to verify :func:`amc_tf.mimo.power.max_product_power` and as the
speed anchor of ``amc-tf bench mimo``; solving one setup at a time, it is far too slow for datasets.
"""

from __future__ import annotations

import numpy as np

from amc_tf.errors import AmcError


def max_product_power_gp(a: np.ndarray, b: np.ndarray, pmax: float, solver: str | None = None) -> np.ndarray:
    """Solve one setup as a geometric program.

    Args:
        a: ``float [L, K]`` signal gains.
        b: ``float [L, K, L, K]`` interference gains (``b[l, i, j, k]``), all > 0.
        pmax: Per-BS budget in mW.
        solver: cvxpy solver name (default: cvxpy's choice, Clarabel here).

    Returns:
        ``float64 [L, K]`` optimal powers in mW.

    Raises:
        AmcError: the solver did not report an optimal solution.
    """
    import cvxpy as cp

    a = np.asarray(a, dtype=np.float64)
    n_cells, k = a.shape
    n = n_cells * k
    big_b = np.asarray(b, dtype=np.float64).reshape(n, n)  # [source, destination]
    rho = cp.Variable(n, pos=True)
    c = cp.Variable(n, pos=True)
    constraints = []
    for u in range(n):
        posynomial = sum(big_b[v, u] * rho[v] for v in range(n) if big_b[v, u] > 0) + 1.0
        constraints.append(c[u] * posynomial <= a.reshape(-1)[u] * rho[u])
    for j in range(n_cells):
        constraints.append(cp.sum(rho[j * k : (j + 1) * k]) <= pmax)
    problem = cp.Problem(cp.Maximize(cp.prod(c)), constraints)
    problem.solve(gp=True, solver=solver)
    if problem.status not in ("optimal", "optimal_inaccurate") or rho.value is None:
        raise AmcError(f"cvxpy GP did not solve the power allocation (status {problem.status})")
    return np.asarray(rho.value, dtype=np.float64).reshape(n_cells, k)
