"""Net-Trim: the constrained ADMM solver for one ReLU layer (Aghasi, Abdi, Nguyen & Romberg;
references §5). Pure NumPy/SciPy.

Problem (the convex relaxation of ``relu(Wᵀ X) ≈ Y``, "parallel" scheme):

    minimise ‖W‖₁  subject to  ‖(Wᵀ X − Y)_Ω‖_F ≤ ε   and   (Wᵀ X)_Ωᶜ ≤ V_Ωᶜ

* ``X``: ``[N, P]`` layer inputs, one column per sample, with a row of ones appended for the bias;
* ``Y``: ``[M, P]`` the original layer's post-ReLU outputs on those samples;
* ``W``: ``[N, M]`` the new weights (last row = bias); Ω = {Y > 1e-6} (active outputs),
  ``V = 0`` (an off neuron's pre-activation must stay ≤ 0). ε is either relative,
  ``eta · ‖Y‖_F`` (the authors' ``epsilon_gain``), or an absolute radius in Y's units (the AMC
  compression paper's η = 0.8); :func:`epsilon_for`.

ADMM with the splitting ``W1 = Wᵀ X`` (constraint set), ``W2 = W`` (ℓ1), ``W3`` (primal) as in the
authors' ``net_trim_solver``: data scaled by ``c0 = 0.3 · sqrt(max XXᵀ)``, W1 = projection onto
the ε-ball on Ω and onto ``{· ≤ V}`` on Ωᶜ, W2 = soft-threshold(W3 − U2, 1/ρ), W3 solves
``(I + X Xᵀ) W3 = X (W1 + U1)ᵀ + W2 + U2``, scaled duals updated; the result is the exactly
sparse W2.

**Stop rule.** The reference stops on ``‖ΔW3‖_F`` alone, which says nothing about feasibility. Here
ADMM runs to its own criterion (Boyd et al. 2011, §3.3.1): with the constraint ``(W1, W2) =
(W3ᵀX, W3)``, the primal residual ``r = ‖(W1 − W3ᵀX, W2 − W3)‖`` and the dual residual
``s = ρ‖(ΔW3ᵀX, ΔW3)‖`` must both fall below ``√n·abs_tol + rel_tol·(scale)``, where the scale is
the larger side of the constraint for ``r`` and ``‖ρ U‖`` for ``s`` (n = M·P + N·M).
Because the sparse W2 is returned, the constraint holds only up to the primal residual, and a
relative ``rel_tol`` is coarse when ε is small against ‖Y‖_F (an absolute η): with
``feasibility_rtol`` the solver also requires W2 itself to meet the constraints within that
fraction of ε (:func:`feasibility`, checked every 10 iterations once the residuals are small)
before it stops. ``max_iter`` is a safety cap; :attr:`NetTrimResult.converged` says whether the
criterion fired.

Why this is written here rather than taken from a library: no maintained package implements
Net-Trim, and the authors' solver forms and factors the ``N × N`` matrix ``I + X Xᵀ``. For
VT-CNN2's ``dense1`` (N = 10,561, M = 256) we use instead, when ``P < N``, the Woodbury identity
``(I + X Xᵀ)⁻¹ = I − X K Xᵀ`` with ``K = (I + XᵀX)⁻¹`` (``P × P``, Cholesky-factored once). With
``B = (W1 + U1)ᵀ`` and ``D = W2 + U2`` the update simplifies to

    S = K (B − Xᵀ D),    W3 = D + X S,    Xᵀ W3 = B − S

(because ``I − K XᵀX = K``), so an iteration costs two ``N × P × M`` products and one
``P × P × M`` product, for all M outputs at once, and ``Wᵀ X`` comes for free. cvxpy solves the same
program for small layers (see the tests), but is far too slow and memory-hungry at this size.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import linalg

from amc_tf.errors import ConfigError
from amc_tf.progress import say

#: Outputs above this value count as active (Ω), as in the reference code.
ACTIVE_THRESHOLD = 1e-6

#: How ε is stated: a gain on ‖Y‖_F, or a radius in Y's units.
Tolerance = Literal["relative", "absolute"]


@dataclass(frozen=True)
class NetTrimResult:
    """Output of :func:`net_trim`.

    Residuals and their tolerances are in the solver's scaled units (data divided by ``c0``).

    Attributes:
        W: ``[N, M]`` sparse weights (last row = bias when X carried a row of ones), dtype of X.
        iterations: ADMM iterations run.
        converged: True if the residual criterion fired before ``max_iter``.
        seconds: Wall-clock time of the solve (s).
        epsilon: The constraint radius ε in the caller's (unscaled) units.
        nonzero: Number of non-zero entries of ``W``.
        sparsity: Fraction of exactly-zero entries of ``W`` in [0, 1].
        primal_residual: ``‖(W1 − W3ᵀX, W2 − W3)‖_F`` at the last iteration.
        dual_residual: ``ρ ‖(ΔW3ᵀX, ΔW3)‖_F`` at the last iteration.
        primal_tolerance: The primal threshold of the stop rule at the last iteration.
        dual_tolerance: The dual threshold of the stop rule at the last iteration.
    """

    W: np.ndarray
    iterations: int
    converged: bool
    seconds: float
    epsilon: float
    nonzero: int
    sparsity: float
    primal_residual: float
    dual_residual: float
    primal_tolerance: float
    dual_tolerance: float


def epsilon_from_gain(Y: np.ndarray, eta: float) -> float:
    """ε = ``eta`` · ‖Y‖_F (the authors' ``epsilon_gain``; they sweep 0.01 – 0.7)."""
    return epsilon_for(Y, eta, "relative")


def epsilon_for(Y: np.ndarray, eta: float, tolerance: Tolerance = "relative") -> float:
    """The constraint radius ε: ``eta · ‖Y‖_F`` (``relative``) or ``eta`` itself (``absolute``, Y's units)."""
    if not eta > 0 or not math.isfinite(eta):
        raise ConfigError(f"eta must be a finite number > 0, got {eta}")
    if tolerance == "absolute":
        return float(eta)
    if tolerance != "relative":
        raise ConfigError(f"tolerance must be 'relative' or 'absolute', got {tolerance!r}")
    return float(eta * np.linalg.norm(np.asarray(Y, dtype=np.float64)))


def feasibility(
    W: np.ndarray, X: np.ndarray, Y: np.ndarray, epsilon: float, V: np.ndarray | None = None, rtol: float = 1e-2
) -> dict[str, float | bool]:
    """Measure the Net-Trim constraints on ``W`` directly (caller's units).

    Args:
        W: ``[N, M]`` weights; X ``[N, P]``; Y ``[M, P]``; V ``[M, P]`` or None (= 0).
        epsilon: The radius ε.
        rtol: Slack, as a fraction of ε, allowed for the ADMM residual (the returned W2 meets the
            constraints only up to the primal residual).

    Returns:
        ``output_error`` = ‖(WᵀX − Y)_Ω‖_F, ``inactive_violation`` = ‖max(WᵀX − V, 0)_Ωᶜ‖_F,
        ``relu_error`` = ‖relu(WᵀX) − Y‖_F (≤ the sum of the two when V = 0), and
        ``satisfied``: ``output_error ≤ (1 + rtol) ε`` and ``inactive_violation ≤ rtol · ε``.
    """
    Z = W.T.astype(np.float64) @ X.astype(np.float64)
    Yd = np.asarray(Y, np.float64)
    V = np.zeros_like(Yd) if V is None else np.asarray(V, np.float64)
    output_error, inactive, satisfied = _constraints(Z, Yd, V, Yd > ACTIVE_THRESHOLD, epsilon, rtol)
    return {
        "output_error": output_error,
        "inactive_violation": inactive,
        "relu_error": float(np.linalg.norm(np.maximum(Z, 0.0) - Yd)),
        "satisfied": satisfied,
    }


def _constraints(Z, Y, V, omega, eps, rtol) -> tuple[float, float, bool]:
    """``(‖(Z − Y)_Ω‖, ‖max(Z − V, 0)_Ωᶜ‖, both within the slack)`` for pre-activations ``Z``."""
    output_error = float(np.linalg.norm((Z - Y)[omega]))
    inactive = float(np.linalg.norm(np.maximum(Z - V, 0.0)[~omega]))
    return output_error, inactive, output_error <= (1 + rtol) * eps and inactive <= rtol * eps


def _check_inputs(X, Y, epsilon, V, rho, max_iter, abs_tol, rel_tol):
    if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1]:
        raise ConfigError(f"X must be [N, P] and Y [M, P] with the same P; got {X.shape} and {Y.shape}")
    if not (np.isfinite(X).all() and np.isfinite(Y).all()):
        raise ConfigError("X and Y must be finite")
    if (Y < 0).any():
        raise ConfigError("Y must be a ReLU output (non-negative)")
    if not epsilon >= 0:
        raise ConfigError(f"epsilon must be >= 0, got {epsilon}")
    if V is not None and V.shape != Y.shape:
        raise ConfigError(f"V must have Y's shape {Y.shape}, got {V.shape}")
    if not rho > 0:
        raise ConfigError(f"rho must be > 0, got {rho}")
    if max_iter < 1:
        raise ConfigError(f"max_iter must be >= 1, got {max_iter}")
    if not (abs_tol >= 0 and rel_tol >= 0 and abs_tol + rel_tol > 0):
        raise ConfigError(f"abs_tol and rel_tol must be >= 0 and not both 0, got {abs_tol} and {rel_tol}")


def _project(Z: np.ndarray, Y: np.ndarray, V: np.ndarray, omega: np.ndarray, eps: float) -> np.ndarray:
    """W1 update: ε-ball around Y on Ω, half-space ``≤ V`` on Ωᶜ."""
    W1 = np.minimum(Z, V)
    diff = np.where(omega, Z - Y, 0.0)
    norm = float(np.linalg.norm(diff))
    scale = 1.0 if norm <= eps else eps / norm
    return np.where(omega, Y + scale * diff, W1)


def _norm2(*arrays: np.ndarray) -> float:
    """Frobenius norm of the stacked arrays."""
    return math.sqrt(sum(float(np.vdot(a, a)) for a in arrays))


def net_trim(
    X: np.ndarray,
    Y: np.ndarray,
    epsilon: float,
    *,
    V: np.ndarray | None = None,
    W0: np.ndarray | None = None,
    rho: float = 1.0,
    max_iter: int = 10_000,
    abs_tol: float = 1e-7,
    rel_tol: float = 1e-3,
    feasibility_rtol: float | None = None,
    woodbury: bool | None = None,
    progress: Callable[[int, float, float, float], None] | bool | None = None,
    progress_every: int = 25,
) -> NetTrimResult:
    """Solve the Net-Trim program for one ReLU layer (module docstring) by ADMM.

    Args:
        X: ``[N, P]`` inputs (float32 or float64; the iteration runs in this dtype, the
            ``P × P`` / ``N × N`` factorisation in float64). Append a row of ones for a bias.
        Y: ``[M, P]`` non-negative target outputs (post-ReLU).
        epsilon: Radius ε ≥ 0 of the active-output constraint (see :func:`epsilon_for`).
        V: ``[M, P]`` upper bounds on inactive pre-activations (default 0, the parallel scheme).
        W0: ``[N, M]`` starting point of the primal W3 (e.g. the layer's current weights: the
            first W2 is then their soft-thresholded copy); default zeros, as the reference.
        rho: ADMM penalty ρ > 0 (soft threshold 1/ρ on the scaled problem; reference: 1). It
            changes the path, not the solution.
        max_iter: Safety cap on the iterations (the normal stop is the residual criterion).
        abs_tol: Absolute part of both residual thresholds, per ``√n`` (scaled units).
        rel_tol: Relative part of both residual thresholds (Boyd et al. suggest 1e-3 … 1e-4).
        feasibility_rtol: If given, stopping also needs the returned W2 to pass
            :func:`feasibility` with this slack (a fraction of ε).
        woodbury: Use the ``P × P`` system (Woodbury); None = when ``P < N``.
        progress: ``callback(iteration, sparsity, primal_residual, dual_residual)`` every
            ``progress_every`` iterations, True for a line on stderr, None/False for silence.
        progress_every: Iterations between progress reports.

    Returns:
        :class:`NetTrimResult` with the exactly sparse W (the ℓ1 copy W2, unscaled).
    """
    dtype = np.float32 if np.asarray(X).dtype == np.float32 else np.float64
    X = np.asarray(X, dtype=dtype)
    Y = np.asarray(Y, dtype=dtype)
    V = None if V is None else np.asarray(V, dtype=dtype)
    _check_inputs(X, Y, epsilon, V, rho, max_iter, abs_tol, rel_tol)
    if progress is True:
        progress = _stderr_progress
    t0 = time.perf_counter()
    N, P = X.shape
    M = Y.shape[0]
    woodbury = P < N if woodbury is None else woodbury

    # Scale as the reference does: c0 = 0.3 sqrt(max XXᵀ); max XXᵀ is on the diagonal.
    c0 = 0.3 * float(np.sqrt(np.max(np.einsum("ij,ij->i", X, X, dtype=np.float64))))
    c0 = c0 if c0 > 0 else 1.0
    Xs, Ys = X / dtype(c0), Y / dtype(c0)
    Vs = np.zeros_like(Ys) if V is None else V / dtype(c0)
    eps = epsilon / c0
    omega = Y > ACTIVE_THRESHOLD

    if woodbury:
        G = Xs.T.astype(np.float64) @ Xs.astype(np.float64)
        G[np.diag_indices_from(G)] += 1.0
        K = linalg.cho_solve(linalg.cho_factor(G, lower=True), np.eye(P)).astype(dtype)
        del G
    else:
        C = Xs.astype(np.float64) @ Xs.T.astype(np.float64)
        C[np.diag_indices_from(C)] += 1.0
        chol = linalg.cho_factor(C, lower=True)
        del C

    W2 = np.zeros((N, M), dtype)
    U1 = np.zeros((M, P), dtype)
    U2 = np.zeros((N, M), dtype)
    if W0 is None:
        W3 = np.zeros((N, M), dtype)
        XtW3 = np.zeros((P, M), dtype)  # = (W3ᵀ X)ᵀ
    else:
        if W0.shape != (N, M):
            raise ConfigError(f"W0 must have shape {(N, M)}, got {W0.shape}")
        W3 = np.array(W0, dtype=dtype)
        XtW3 = Xs.T @ W3
    thresh = dtype(1.0 / rho)
    root_n = math.sqrt(M * P + N * M)
    converged = False
    it = small = 0
    primal = dual = primal_tol = dual_tol = math.inf
    for it in range(1, max_iter + 1):
        W1 = _project(XtW3.T - U1, Ys, Vs, omega, eps)
        T = W3 - U2
        W2 = np.sign(T) * np.maximum(np.abs(T) - thresh, 0)
        B = (W1 + U1).T
        D = W2 + U2
        if woodbury:
            S = K @ (B - Xs.T @ D)
            W3_new = D + Xs @ S
            XtW3_new = B - S
        else:
            W3_new = linalg.cho_solve(chol, (Xs @ B + D).astype(np.float64)).astype(dtype)
            XtW3_new = Xs.T @ W3_new
        r1, r2 = W1 - XtW3_new.T, W2 - W3_new
        dual = rho * _norm2(XtW3_new - XtW3, W3_new - W3)
        W3, XtW3 = W3_new, XtW3_new
        U1 += r1
        U2 += r2
        primal = _norm2(r1, r2)
        primal_tol = root_n * abs_tol + rel_tol * max(_norm2(W1, W2), _norm2(XtW3, W3))
        dual_tol = root_n * abs_tol + rel_tol * rho * _norm2(U1, U2)
        if progress and (it % progress_every == 0 or it == 1):
            progress(it, float(np.mean(W2 == 0)), primal, dual)
        if primal <= primal_tol and dual <= dual_tol:
            if feasibility_rtol is None:
                converged = True
                break
            small += 1
            if (small - 1) % 10 == 0 and _constraints(W2.T @ Xs, Ys, Vs, omega, eps, feasibility_rtol)[2]:
                converged = True
                break
    nonzero = int(np.count_nonzero(W2))
    return NetTrimResult(
        W=W2,
        iterations=it,
        converged=converged,
        seconds=time.perf_counter() - t0,
        epsilon=float(epsilon),
        nonzero=nonzero,
        sparsity=1.0 - nonzero / W2.size,
        primal_residual=primal,
        dual_residual=dual,
        primal_tolerance=primal_tol,
        dual_tolerance=dual_tol,
    )


def _stderr_progress(it: int, sparsity: float, primal: float, dual: float) -> None:
    say("net-trim", f"iteration {it:5d}  sparsity {sparsity:.4f}  primal {primal:.3e}  dual {dual:.3e}")
