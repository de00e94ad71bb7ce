"""The batched Monte Carlo of :func:`amc_tf.mimo.gains.monte_carlo` against the per-realisation
formulas of the book's ``functionComputeSINR_DL.m``, written out in complex128 on the same draws."""

from __future__ import annotations

import numpy as np
import pytest

from amc_tf.config.base import validate_config
from amc_tf.config.mimo import MimoSystemConfig
from amc_tf.errors import ConfigError
from amc_tf.mimo import channels, gains, geometry, toeplitz


def _reference(
    rows: np.ndarray, sys: MimoSystemConfig, prec: str, n: int, rng, shared: bool
) -> tuple[np.ndarray, np.ndarray]:
    """a ``[L, K]`` and b ``[L, K, L, K]`` of one setup: LAPACK Cholesky factors of the jittered R,
    the same CN(0, I) samples in the same order as the library, MMSE estimates by solving with Ψ,
    per realisation ``v`` (MR: ``ĥ``; M-MMSE: ``(p Σ ĥĥᴴ + p Σ C + I)⁻¹ ĥ`` by a dense solve),
    ``w = v/‖v‖``, then ``a = |E wᴴh|²`` and ``b = E|wᴴh|² − δ a``. With ``shared`` one set of
    samples (and noise) is coloured by every BS's factors."""
    R = toeplitz.dense(rows[0])  # [j, l, k, M, M]
    L, _, K, M, _ = R.shape
    p, tau = sys.pilot_power_mw, sys.tau_p
    jitter = 1e-9 * np.real(np.trace(R, axis1=-2, axis2=-1))[..., None, None] / M * np.eye(M)
    F = np.linalg.cholesky(R + jitter)
    n_draw = 1 if shared else L
    z = channels._cn(rng, (n_draw, L, K, n, M)).astype(np.complex128)  # the library's draw order
    noise = channels._cn(rng, (n_draw, K, n, M)).astype(np.complex128)
    z, noise = np.broadcast_to(z, (L, L, K, n, M)), np.broadcast_to(noise, (L, K, n, M))
    h = np.sqrt(0.5) * np.einsum("jlkmx,jlknx->jlknm", F, z)  # h[j, l, k, realisation, antenna]
    y = np.sqrt(p) * tau * h.sum(axis=1) + np.sqrt(0.5 * tau) * noise  # [j, k, N, M]
    psi = p * tau * R.sum(axis=1) + np.eye(M)
    g = np.zeros((n, L, K, L, K), dtype=np.complex128)
    for j in range(L):
        if prec != "MR":  # the sum of the estimation-error covariances at BS j: one per BS, not per realisation
            c = sum(
                R[j, l, k] - p * tau * R[j, l, k] @ np.linalg.solve(psi[j, k], R[j, l, k])
                for l in range(L)
                for k in range(K)
            )
        for r in range(n):
            psi_y = [np.linalg.solve(psi[j, k], y[j, k, r]) for k in range(K)]  # Ψ⁻¹y: the same for every l
            hat = np.stack([[np.sqrt(p) * R[j, l, k] @ psi_y[k] for k in range(K)] for l in range(L)])  # [l, k, M]
            if prec == "MR":
                v = hat[j]
            else:
                flat = hat.reshape(L * K, M)
                z_mat = p * (flat.T @ np.conj(flat)) + p * c + np.eye(M)
                v = np.linalg.solve(z_mat, hat[j].T).T
            w = v / np.linalg.norm(v, axis=1, keepdims=True)
            g[r, j] = (np.conj(w) @ h[j, :, :, r].reshape(L * K, M).T).reshape(K, L, K)
    own = g[:, np.arange(L)[:, None], np.arange(K)[None, :], np.arange(L)[:, None], np.arange(K)[None, :]]
    a = np.abs(own.mean(axis=0)) ** 2
    b = (np.abs(g) ** 2).mean(axis=0)
    b[np.arange(L)[:, None], np.arange(K)[None, :], np.arange(L)[:, None], np.arange(K)[None, :]] -= a
    return a, b


@pytest.mark.parametrize("draws", ["shared_bs", "independent"])
@pytest.mark.parametrize(("prec", "n", "a_rtol", "b_rtol"), [("MR", 40, 3e-6, 5e-6), ("MMMSE", 12, 1e-5, 5e-5)])
def test_monte_carlo_matches_the_per_realisation_formulas_in_double_precision(prec, n, a_rtol, b_rtol, draws):
    """Same draws, same formulas. The library takes the factors from the Toeplitz Schur algorithm,
    M-MMSE by Woodbury, the error covariance from displacement generators, and runs the draws and the
    products applied to them in complex64, whose float32 rounding and BLAS summation order bound
    the agreement with this complex128 reference — not 1e-10. Measured at M = 100: MR a 4e-7 (1.0e-6 with
    shared draws), b 2e-6
    of its largest term; M-MMSE a 3e-6, b 1.5e-5, as with the error covariance by triangular
    solves (the complex64 path before the Schur factors and the triangular solves gave 3e-7 / 2e-6
    and 3e-6 / 1.6e-5). b is compared normwise (its weakest
    interference terms, ~10⁻⁴ of the largest, carry the absolute rounding of an M-term float32
    inner product); the bounds are ~3x the measured errors."""
    sys = validate_config(MimoSystemConfig, {"antennas": 100})
    rows, _ = channels.correlation_rows(geometry.drop_ues(sys, 1, np.random.default_rng(31)), sys)
    ours = gains.monte_carlo(rows, sys, prec, n, np.random.default_rng(32), draws=draws)
    a_ref, b_ref = _reference(rows, sys, prec, n, np.random.default_rng(32), draws == "shared_bs")
    np.testing.assert_allclose(ours.a[0], a_ref, rtol=a_rtol)
    assert np.abs(ours.b[0] - b_ref).max() <= b_rtol * np.abs(b_ref).max()


@pytest.mark.parametrize("prec", ["MR", "MMMSE"])
def test_shared_draws_estimate_the_same_terms_as_independent_draws(prec):
    """Shared samples only correlate the Monte-Carlo errors of different BSs' terms: on one setup
    the two estimates of every a and b term agree within 4.5 combined standard errors, and the
    shared draws' standard errors are those of independent draws (same number of realisations)."""
    sys = validate_config(MimoSystemConfig, {"antennas": 32})
    rows, _ = channels.correlation_rows(geometry.drop_ues(sys, 1, np.random.default_rng(41)), sys)
    n = 300 if prec == "MR" else 120
    shared = gains.monte_carlo(rows, sys, prec, n, np.random.default_rng(42), draws="shared_bs")
    indep = gains.monte_carlo(rows, sys, prec, n, np.random.default_rng(43), draws="independent")
    for term in ("a", "b"):
        x, y = getattr(shared, term), getattr(indep, term)
        se = np.hypot(getattr(shared, f"{term}_se"), getattr(indep, f"{term}_se"))
        assert np.all(np.abs(x - y) <= 4.5 * se + 1e-12 * np.abs(y).max()), term
        ratio = getattr(shared, f"{term}_se") / np.maximum(getattr(indep, f"{term}_se"), 1e-300)
        assert 0.5 < np.median(ratio) < 2.0
    with pytest.raises(ConfigError, match="unknown draws"):
        gains.monte_carlo(rows, sys, prec, 4, np.random.default_rng(0), draws="sometimes")


def test_schur_factors_match_lapack_cholesky():
    """The Toeplitz Schur factors equal LAPACK's Cholesky of the dense matrices (to the complex64
    rounding of the stored factor), and a failed rotation would fall back to LAPACK."""
    sys = validate_config(MimoSystemConfig, {"antennas": 100, "cell_side_m": 500.0})
    rows, _ = channels.correlation_rows(geometry.drop_ues(sys, 2, np.random.default_rng(33)), sys)
    upper = channels.correlation_factors(rows)
    R = toeplitz.dense(rows)
    jitter = 1e-9 * np.real(rows[..., :1, None]) * np.eye(100)
    lower = np.linalg.cholesky(R + jitter)
    scale = np.abs(lower).max(axis=(-2, -1), keepdims=True)
    assert upper.dtype == np.complex64 and np.isfinite(upper).all()
    assert (np.abs(np.swapaxes(upper, -1, -2) - lower) / scale).max() < 5e-7
    exact = toeplitz.cholesky_rows(np.array([[4.0, 1.0 + 1.0j, 0.5]]))[0]
    np.testing.assert_allclose(exact.T @ np.conj(exact), toeplitz.dense(np.array([4.0, 1.0 + 1.0j, 0.5])), atol=1e-12)
