"""Max-product-SINR downlink power allocation, batched over setups, and spectral efficiency.

Problem (book Theorem 7.2 / eq. 7.8; ``functionPowerOptimization_prodSINR.m``)::

    maximise  Π_jk SINR_jk(ρ)   s.t.  Σ_k ρ_jk ≤ Pmax  for every cell j,   ρ > 0,

with ``SINR_jk = ρ_jk a_jk / (Σ_li ρ_li b_lijk + 1)``. In log-powers ``x = log ρ`` it is convex
(references §8.2)::

    maximise  F(x) = Σ_jk [log a_jk + x_jk − log(Σ_li b_lijk e^{x_li} + 1)]
    s.t.      Σ_k e^{x_jk} ≤ Pmax,

a concave objective (minus log-sum-exps) over a convex set. The book solves it as a geometric
program with CVX + fmincon, one setup at a time, far too slow for a dataset. This module solves
it with a **batched log-barrier Newton method** (Boyd & Vandenberghe §11.3): all setups advance
together, each with its own backtracking line search, and each Newton step is one
batched ``(L·K) × (L·K)`` solve. The barrier parameter ends at ``t`` with ``L / t ≤ gap_tol``, so
every returned point is within ``gap_tol`` (in nats of Σ log SINR) of the optimum — the duality
gap of the barrier method — and satisfies the KKT conditions to that accuracy. Nothing is
hand-written that a library does correctly: cvxpy is the reference (:mod:`amc_tf.mimo.reference`),
too slow to generate 329,000 setups.

Shapes: ``a [S, L, K]``, ``b [S, L, K, L, K]`` (``b[s, l, i, j, k]`` = interference from precoder
(l, i) at UE (j, k); see :mod:`amc_tf.mimo.gains`); powers ``rho [S, L, K]`` in mW.
"""

from __future__ import annotations

import numpy as np

from amc_tf.errors import ConfigError


def sinr(a: np.ndarray, b: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Downlink SINR of every UE, ``float64 [S, L, K]`` (linear), for powers ``rho [S, L, K]`` mW."""
    a, b, rho = _check(a, b, rho=rho)
    interference = np.einsum("slijk,sli->sjk", b, rho) + 1.0
    return rho * a / interference


def spectral_efficiency(a: np.ndarray, b: np.ndarray, rho: np.ndarray, tau_c: int, tau_p: int) -> np.ndarray:
    """``SE_jk = (τ_d / τ_c) log2(1 + SINR_jk)`` in bit/s/Hz with ``τ_d = τ_c − τ_p``; ``[S, L, K]``."""
    if not 0 < tau_p < tau_c:
        raise ConfigError(f"need 0 < tau_p < tau_c, got tau_p={tau_p}, tau_c={tau_c}")
    return (tau_c - tau_p) / tau_c * np.log2(1.0 + sinr(a, b, np.maximum(rho, 0.0)))


def log_product_sinr(a: np.ndarray, b: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """The objective ``Σ_jk log SINR_jk`` (nats) per setup, ``[S]``."""
    return np.log(sinr(a, b, rho)).sum(axis=(1, 2))


def kkt_residuals(a: np.ndarray, b: np.ndarray, rho: np.ndarray, pmax: float) -> dict[str, np.ndarray]:
    """How far ``rho`` is from satisfying the KKT conditions of the log-domain problem.

    With ``g = ∇_x F`` (``g_u = 1 − Σ_v b_uv ρ_u / I_v``) and the constraint gradient
    ``ρ_u`` (u in cell j), optimality needs ``g_u = λ_j ρ_u`` with ``λ_j ≥ 0`` and
    ``λ_j (Pmax − Σ_k ρ_jk) = 0``. λ_j is fitted by non-negative least squares per cell.

    Returns:
        Per setup ``[S]``: ``stationarity`` (max |g_u − λ_j ρ_u|, dimensionless),
        ``slackness`` (max λ_j·(Pmax − Σ_k ρ_jk), nats), ``infeasibility``
        (max(0, Σ_k ρ_jk − Pmax) in mW) and ``lambda`` ``[S, L]``.
    """
    a, b, rho = _check(a, b, rho=rho)
    s, n_cells, k = a.shape
    big_b = b.reshape(s, n_cells * k, n_cells * k)
    r = rho.reshape(s, -1)
    interference = (r[:, None, :] @ big_b)[:, 0, :] + 1.0
    g = (1.0 - (big_b * r[:, :, None] / interference[:, None, :]).sum(axis=2)).reshape(s, n_cells, k)
    lam = np.maximum((g * rho).sum(axis=2) / (rho**2).sum(axis=2), 0.0)  # [S, L]
    slack = pmax - rho.sum(axis=2)
    return {
        "stationarity": np.abs(g - lam[:, :, None] * rho).max(axis=(1, 2)),
        "slackness": np.abs(lam * slack).max(axis=1),
        "infeasibility": np.maximum(-slack, 0.0).max(axis=1),
        "lambda": lam,
    }


def max_product_power(
    a: np.ndarray, b: np.ndarray, pmax: float, *, gap_tol: float = 1e-7, mu: float = 50.0, max_newton: int = 100
) -> np.ndarray:
    """Optimal max-product-SINR powers for every setup at once.

    Args:
        a: ``float [S, L, K]`` positive signal gains over noise per mW.
        b: ``float [S, L, K, L, K]`` non-negative interference gains over noise per mW.
        pmax: Per-BS power budget in mW.
        gap_tol: Final duality gap in nats of ``Σ log SINR`` (absolute, per setup): the product
            of SINRs is within a relative ``gap_tol`` of the optimum.
        mu: Barrier-parameter growth per outer iteration.
        max_newton: Cap on Newton steps per outer iteration.

    Returns:
        ``float64 [S, L, K]`` powers in mW (strictly inside the budget, by at most ~gap_tol).

    Raises:
        ConfigError: bad shapes, non-finite or non-positive gains, or a non-positive budget.
    """
    a, b, _ = _check(a, b)
    if not (np.isfinite(pmax) and pmax > 0):
        raise ConfigError(f"pmax must be a positive number of mW, got {pmax}")
    s, n_cells, k = a.shape
    n = n_cells * k
    big_b = b.reshape(s, n, n)  # [s, source v, destination u]
    cell = np.repeat(np.eye(n_cells), k, axis=1)  # [L, n]: membership of user u in cell j
    x = np.full((s, n), np.log(pmax / (2.0 * k)))
    t = 1.0
    while True:
        x = _centre(x, t, big_b, cell, pmax, max_newton, 0.01 * gap_tol)
        if n_cells / t <= gap_tol:
            break
        t *= mu
    return np.exp(x).reshape(s, n_cells, k)


def _barrier_value(x: np.ndarray, t: float, big_b: np.ndarray, cell: np.ndarray, pmax: float) -> np.ndarray:
    """φ_t(x) = −t Σ_u [x_u − log I_u] − Σ_j log(Pmax − Σ_{u∈j} e^{x_u}); +inf outside the set."""
    rho = np.exp(x)
    interference = (rho[:, None, :] @ big_b)[:, 0, :] + 1.0
    slack = pmax - rho @ cell.T
    with np.errstate(invalid="ignore", divide="ignore"):
        value = -t * (x - np.log(interference)).sum(axis=1) - np.log(slack).sum(axis=1)
    return np.where((slack > 0).all(axis=1), value, np.inf)


def _centre(
    x: np.ndarray, t: float, big_b: np.ndarray, cell: np.ndarray, pmax: float, max_newton: int, tol: float
) -> np.ndarray:
    """Minimise φ_t from a strictly feasible ``x`` by damped Newton steps (batched).

    A setup stops when ``λ²/(2t) ≤ tol`` (its distance to the central point, in nats of the
    objective) or when no step decreases φ_t any more in float64.
    """
    s, n = x.shape
    active = np.ones(s, dtype=bool)
    eye = np.eye(n)
    same = cell.T @ cell  # [n, n] same-cell mask
    for _ in range(max_newton):
        idx = np.nonzero(active)[0]
        if idx.size == 0:
            break
        xa, ba = x[idx], big_b[idx]
        rho = np.exp(xa)
        interference = (rho[:, None, :] @ ba)[:, 0, :] + 1.0  # I_u = Σ_v b_vu ρ_v + 1
        q = ba * rho[:, :, None] / interference[:, None, :]  # q[s, v, u] = b_vu ρ_v / I_u
        slack = pmax - rho @ cell.T  # [s, L]
        slack_u = slack @ cell  # slack of each user's cell, [s, n]
        grad = t * (q.sum(axis=2) - 1.0) + rho / slack_u
        hess = t * (q.sum(axis=2)[:, :, None] * eye - q @ np.swapaxes(q, 1, 2))
        hess += (rho / slack_u)[:, :, None] * eye
        hess += same * (rho / slack_u)[:, :, None] * (rho / slack_u)[:, None, :]
        step = -np.linalg.solve(hess, grad[..., None])[..., 0]
        decrement = -(grad * step).sum(axis=1)  # λ² ≥ 0
        done = decrement / (2.0 * t) <= tol
        # backtracking line search (feasibility, then Armijo), every setup its own step size
        value = _barrier_value(xa, t, ba, cell, pmax)
        alpha = np.ones(idx.size)
        pending = ~done
        for _ in range(60):
            if not pending.any():
                break
            trial = xa + alpha[:, None] * step
            new = _barrier_value(trial, t, ba, cell, pmax)
            ok = (new <= value - 0.25 * alpha * decrement) & (new < value)
            pending &= ~ok
            alpha = np.where(pending, 0.5 * alpha, alpha)
        moved = ~done & ~pending
        x[idx[moved]] = xa[moved] + alpha[moved, None] * step[moved]
        active[idx[done | pending]] = False  # converged, or no descent left at float64 precision
    return x


def _check(
    a: np.ndarray, b: np.ndarray, rho: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 3:
        raise ConfigError(f"a must have shape [S, L, K], got {list(a.shape)}")
    if b.shape != a.shape + a.shape[1:]:
        raise ConfigError(f"b must have shape {list(a.shape + a.shape[1:])} to match a, got {list(b.shape)}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ConfigError("gains a and b must be finite")
    if (a <= 0).any() or (b < 0).any():
        raise ConfigError("signal gains a must be > 0 and interference gains b >= 0")
    if rho is not None:
        rho = np.asarray(rho, dtype=np.float64)
        if rho.shape != a.shape:
            raise ConfigError(f"rho must have shape {list(a.shape)}, got {list(rho.shape)}")
    return a, b, rho
