"""Channel statistics, realisations and MMSE channel estimation (book §3.2, ``functionChannelEstimates.m``).

Every channel is normalised by the noise power, so that a power in mW times a gain is an SNR.
With pilot reuse 1 (τ_p = K), UE k of every cell sends pilot k; BS j's processed pilot signal for
pilot k is ``y_jk = √p τ_p Σ_l h^j_lk + √τ_p n`` and its MMSE estimate of the channel from UE k of
cell l is ``ĥ^j_lk = √p R^j_lk Ψ_jk⁻¹ y_jk`` with ``Ψ_jk = p τ_p Σ_l R^j_lk + I_M``; the estimation
error has covariance ``C^j_lk = R^j_lk − p τ_p R^j_lk Ψ_jk⁻¹ R^j_lk`` (book eqs. 3.9–3.11).

Shapes (S setups, L cells, K UEs per cell, M antennas, N realisations):

* ``rows``: ``complex128 [S, L_bs, L_cell, K, M]`` — first rows of the Hermitian Toeplitz
  ``R^j_lk = β^j_lk/σ² · R(θ^j_lk)`` (:mod:`amc_tf.mimo.toeplitz`); ``R`` is the dense form
  ``[..., M, M]``;
* ``psi_rows``: ``[S, L_bs, K, M]`` first rows of Ψ;
* a channel draw ``H``: ``complex128 [N, L_bs, M, L·K]`` for one setup — column ``l·K + k`` of
  ``H[n, j]`` is the channel from BS j to UE k of cell l.

The channel draw uses a Cholesky factor of ``R(θ) + 10⁻⁹·tr(R)/M · I`` rather than the book's
``sqrtm``: any square-root factor gives the same Gaussian distribution, Cholesky is far cheaper
than an eigen-decomposition, and the jitter (needed because the local-scattering R is numerically
rank deficient) changes the covariance by a relative 10⁻⁹, far below the Monte-Carlo error. The
factors come from the first rows by the Toeplitz Schur algorithm
(:func:`~amc_tf.mimo.toeplitz.cholesky_rows`, O(M²) instead of LAPACK's O(M³) on the dense R).
Factors and Ψ⁻¹ are computed in complex128; the draws and the products applied to them
(channels, pilot signals, estimates) run in complex64, which halves the dominant cost: single
precision errors (~10⁻⁷ relative) are far below the Monte-Carlo error of 100 realisations.
"""

from __future__ import annotations

import numpy as np

from amc_tf.config.mimo import MimoSystemConfig
from amc_tf.mimo import toeplitz
from amc_tf.mimo.correlation import first_row
from amc_tf.mimo.geometry import channel_gain_over_noise_db, validate_positions, wrapped_links

_JITTER = 1e-9


def correlation_rows(
    positions: np.ndarray, config: MimoSystemConfig, rng: np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """First rows of the correlation matrices of every BS–UE link, normalised by the noise.

    Args:
        positions: ``float64 [S, L, K, 2]`` UE positions in metres (validated).
        config: The scenario.
        rng: Needed only with shadowing.

    Returns:
        ``(rows, gain_db)``: ``complex128 [S, L_bs, L_cell, K, M]`` and the gains over noise
        ``float64 [S, L_bs, L_cell, K]`` in dB.
    """
    positions = validate_positions(positions, config)
    distance, angle = wrapped_links(positions, config)
    gain_db = channel_gain_over_noise_db(distance, config, rng)
    return rows_from_links(gain_db, angle, config), gain_db


def rows_from_links(gain_db: np.ndarray, angle: np.ndarray, config: MimoSystemConfig) -> np.ndarray:
    """Correlation first rows ``[..., M]`` from link gains over noise (dB) and angles (rad) ``[...]``."""
    r_norm = first_row(angle, config.antennas, np.deg2rad(config.asd_deg), config.antenna_spacing, config.correlation)
    return r_norm * (10.0 ** (gain_db / 10.0))[..., None]


def pilot_rows(rows: np.ndarray, config: MimoSystemConfig) -> np.ndarray:
    """First rows of ``Ψ_jk = p τ_p Σ_l R^j_lk + I``: ``[S, L_bs, L_cell, K, M]`` → ``[S, L_bs, K, M]``."""
    psi = config.pilot_power_mw * config.tau_p * rows.sum(axis=2)
    psi[..., 0] += 1.0
    return psi


def error_covariance_sum(rows: np.ndarray, psi_inv: np.ndarray, config: MimoSystemConfig) -> np.ndarray:
    """``Σ_{l,k} C^j_lk`` per BS, the estimation-error term of M-MMSE combining (one setup).

    ``C^j_lk = R^j_lk − p τ_p R^j_lk Ψ_jk⁻¹ R^j_lk``. Every ``R Ψ⁻¹ R`` is a product of Toeplitz
    matrices and a Toeplitz inverse, whose displacement ``A − Z A Zᵀ`` has rank 6
    (:func:`~amc_tf.mimo.toeplitz.sandwich_generators`): the displacements of a BS's L·K terms are
    summed as one ``[M, 6·L·K] @ [6·L·K, M]`` product and the sum is rebuilt in one O(M²) sweep
    (:func:`~amc_tf.mimo.toeplitz.from_displacement`), instead of L·K triangular solves of M × M
    and a rank-M·L·K update. Exact (no truncation): it agrees with the dense ``R − p τ_p R Ψ⁻¹ R``
    to ≤ 5·10⁻¹² of each BS's largest entry at M = 100 (``tests/mimo/test_error_covariance.py``).

    Args:
        rows: ``complex128 [L_bs, L_cell, K, M]`` first rows of the correlation matrices.
        psi_inv: ``complex128 [L_bs, K, M, M]`` inverses of Ψ (:func:`~amc_tf.mimo.toeplitz.inverse` of
            :func:`pilot_rows`).
        config: The scenario.

    Returns:
        ``complex128 [L_bs, M, M]`` (Hermitian).
    """
    n_bs, m = rows.shape[0], rows.shape[-1]
    left, right = toeplitz.sandwich_generators(rows, psi_inv[:, None, :, :, 0], psi_inv[:, None])
    left, right = (np.moveaxis(g, -2, 1).reshape(n_bs, m, -1) for g in (left, right))  # [j, M, 6·L·K]
    phi = toeplitz.from_displacement(left @ np.conj(np.swapaxes(right, -1, -2)))  # Σ_lk R Ψ⁻¹ R
    c = toeplitz.dense(rows.sum(axis=(1, 2))) - config.pilot_power_mw * config.tau_p * phi
    return 0.5 * (c + np.conj(np.swapaxes(c, -1, -2)))


def correlation_factors(rows: np.ndarray) -> np.ndarray:
    """Cholesky factors of ``R + 10⁻⁹·tr(R)/M · I`` (jitter relative to the mean diagonal) in row
    layout: ``z @ U`` are CN(0, R) rows for rows ``z`` of CN(0, I) samples.

    Args:
        rows: ``complex128 [..., M]`` first rows of the Hermitian Toeplitz R.

    Returns:
        ``complex64 [..., M, M]`` upper triangular ``U = Fᵀ`` with ``F Fᴴ ≈ R``.
    """
    jittered = np.array(rows, dtype=np.complex128)
    jittered[..., 0] *= 1.0 + _JITTER  # tr(R)/M is the constant diagonal of a Toeplitz R
    with np.errstate(invalid="ignore", divide="ignore"):
        upper = toeplitz.cholesky_rows(jittered, np.complex64)
    # a failed rotation makes the whole generator non-finite, and every later step puts its first
    # entry on the diagonal: checking the diagonal finds it without a pass over all M² entries
    bad = ~np.isfinite(np.diagonal(upper, axis1=-2, axis2=-1)).all(axis=-1)
    if bad.any():  # a rotation with |ρ| ≥ 1 (not seen with the jitter): LAPACK on the dense matrix
        upper[bad] = np.swapaxes(np.linalg.cholesky(toeplitz.dense(jittered[bad])), -1, -2)
    return upper


def draw_channels(
    factors: np.ndarray,
    psi_inv: np.ndarray,
    rows: np.ndarray,
    config: MimoSystemConfig,
    n: int,
    rng: np.random.Generator,
    *,
    all_estimates: bool,
    shared: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Channel realisations and their MMSE estimates for one setup, complex64, in *row layout*:
    one row of M antennas per realisation (``out[j, u, n, :]`` is the transposed channel vector
    of UE u at BS j in realisation n), so every product runs on contiguous rows and the callers'
    per-realisation products need no transposing copy.

    Args:
        factors: ``complex64 [L_bs, L_cell, K, M, M]`` factors of R in row layout (one setup,
            :func:`correlation_factors`).
        psi_inv: ``[L_bs, K, M, M]`` inverses of Ψ.
        rows: First rows of the correlation matrices of the estimated links: ``[L_bs, L_cell, K, M]``
            with ``all_estimates``, else only each BS's own links ``[L_bs, K, M]`` (``R^j_jk``);
            their dense ``(√p R)ᵀ`` is built directly in complex64.
        config: The scenario.
        n: Realisations N.
        rng: Source of randomness.
        all_estimates: Estimate every UE's channel at every BS (M-MMSE); otherwise only each BS's
            own UEs (MR).
        shared: One set of CN(0, I) samples (and receiver noise) for all BSs, coloured by each
            BS's own factors: each BS's channels keep their joint law, different BSs' channels
            become dependent (:class:`amc_tf.config.mimo.ChannelDraws`); else one set per BS.

    Returns:
        ``(H, H_hat)``: ``complex64 [L_bs, L·K, N, M]`` true channels (UE index ``l·K + k``) and
        the estimates, ``[L_bs, L·K, N, M]`` if ``all_estimates`` else ``[L_bs, K, N, M]``.
    """
    n_bs, n_cell, k, m, _ = factors.shape
    p, tau = config.pilot_power_mw, config.tau_p
    half = np.float32(np.sqrt(0.5))
    # hᵀ = zᵀ Fᵀ: rows of i.i.d. samples times the factor in row layout
    n_draw = 1 if shared else n_bs
    ht = _cn(rng, (n_draw, n_cell, k, n, m)) @ factors  # broadcast over the BSs when shared
    ht *= half
    noise = _cn(rng, (n_draw, k, n, m))
    noise *= half * np.float32(np.sqrt(tau))
    yt = np.float32(np.sqrt(p) * tau) * ht.sum(axis=1) + noise  # [j, k, N, M]
    ut = yt @ np.swapaxes(psi_inv.astype(np.complex64), -1, -2)  # (Ψ⁻¹ y)ᵀ
    rt = toeplitz.dense((np.sqrt(p) * np.conj(rows)).astype(np.complex64))  # (√p R)ᵀ = √p R̄ (Hermitian)
    if all_estimates:
        hat = (ut[:, None] @ rt).reshape(n_bs, n_cell * k, n, m)  # [j, (l,k), N, M]
    else:
        hat = ut @ rt  # [j, k, N, M]
    return ht.reshape(n_bs, n_cell * k, n, m), hat


def _cn(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """``complex64`` samples with independent N(0, 1) real and imaginary parts (variance 2: the
    caller folds the √½ of CN(0, 1) into its factor, saving a pass over the samples)."""
    size = int(np.prod(shape))
    return rng.standard_normal(2 * size, dtype=np.float32).view(np.complex64).reshape(shape)
