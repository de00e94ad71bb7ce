"""Downlink hardening-bound signal and interference terms for MR and M-MMSE precoding.

With noise normalised to one and powers ρ in mW, the downlink SINR of UE k in cell j under the
hardening bound (book eqs. 7.2–7.3, Theorem 4.6 via UL–DL duality) is

    SINR_jk = ρ_jk a_jk / (Σ_{l,i} ρ_li b_lijk + 1),
    a_jk    = |E{w_jkᴴ h^j_jk}|²,
    b_lijk  = E{|w_liᴴ h^l_jk|²} − δ_(l,i)=(j,k) a_jk,

where w_li is BS l's unit-power precoder for its UE i and h^l_jk the channel from BS l to UE k of
cell j. Arrays: ``a`` is ``float64 [S, L, K]`` (``a[s, j, k]``) and ``b`` is
``float64 [S, L, K, L, K]`` (``b[s, l, i, j, k]``: interference *caused by* precoder (l, i) *at*
UE (j, k)).

* **MR closed form** assumes the average normalisation ``w = ĥ / sqrt(E‖ĥ‖²)`` with MMSE
  estimates ``ĥ ~ CN(0, Φ)``, ``Φ^l_li = p τ_p R^l_li Ψ_li⁻¹ R^l_li``; then
  ``a_jk = tr(Φ^j_jk)`` and ``E|w_liᴴ h^l_jk|² = tr(R^l_jk Φ^l_li)/tr(Φ^l_li)
  + δ_ik p² τ_p² |tr(R^l_jk Ψ_lk⁻¹ R^l_lk)|² / tr(Φ^l_lk)`` (the second term is pilot
  contamination; it follows from Gaussian fourth moments, cf. book Corollary 4.5).
* **Monte Carlo** (``functionComputeSINR_DL.m``) draws channels and MMSE estimates and averages;
  the book normalises each realisation (``w = v/‖v‖``, ``Normalisation.INSTANTANEOUS``), which
  has no closed form; ``Normalisation.AVERAGE`` reproduces the closed form's assumption so the
  two can be compared. M-MMSE: ``v = (p Σ_{l,i} ĥ^j_li ĥ^jᴴ_li + p Σ C^j_li + I)⁻¹ ĥ^j_jk``,
  computed with the Woodbury identity (an L·K × L·K solve per realisation instead of M × M).
  The channel factors come from the Toeplitz Schur algorithm, the error covariance ``Σ C`` from
  displacement generators (O(M²) per link, :func:`~amc_tf.mimo.channels.error_covariance_sum`),
  and only the correlation matrices of the estimated links are formed densely (each BS's own for
  MR), in complex64.

The book's convention (Monte Carlo, per-realisation normalisation) is the default for both
precoders (design D7): the MR closed form's own-UE variance term is 2–3.5× the book's at
M = 100 (the norm of an average-normalised precoder fluctuates), which moves the max-product
powers by ~10 % (median); it stays as a documented fast approximation (``mr_method``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from amc_tf.config.mimo import ChannelDraws, MimoSystemConfig, Normalisation, Precoder, precoder
from amc_tf.errors import ConfigError
from amc_tf.mimo import toeplitz
from amc_tf.mimo.channels import correlation_factors, draw_channels, error_covariance_sum, pilot_rows


@dataclass(frozen=True)
class Gains:
    """Hardening-bound terms of S setups (see the module docstring for the index order).

    Attributes:
        a: ``float64 [S, L, K]`` signal gains over noise per mW.
        b: ``float64 [S, L, K, L, K]`` interference gains over noise per mW.
        a_se, b_se: Monte-Carlo standard errors (None for a closed form).
    """

    a: np.ndarray
    b: np.ndarray
    a_se: np.ndarray | None = None
    b_se: np.ndarray | None = None


def mr_closed_form(rows: np.ndarray, config: MimoSystemConfig) -> Gains:
    """MR terms in closed form (average precoder normalisation; see module docstring).

    Uses the Toeplitz structure (:mod:`amc_tf.mimo.toeplitz`): ``Ψ⁻¹`` by Levinson–Trench, and
    every ``tr(R^l_jk A)`` from the diagonal sums of ``A``. The only O(M³) work left is one product
    ``Y = Ψ_li⁻¹ R^l_li`` per (BS, pilot) — with pilot reuse 1 there are L·K of them per setup; the
    diagonal sums of ``Φ^l_li = p τ_p R^l_li Y`` are taken from window sums along the diagonals of
    ``Y`` (:func:`~amc_tf.mimo.toeplitz.product_diagonal_sums`, O(M²)) instead of a second
    product. Kept in complex128: Ψ's condition number reaches ~10⁴–10⁵, and complex64 costs up
    to 5e-4 relative accuracy on the small interference terms. The own-UE variance term is taken
    from its identity ``b_jkjk = tr(R^j_jk Φ^j_jk)/tr(Φ^j_jk)``, so no cancellation occurs.

    Args:
        rows: ``complex128 [S, L_bs, L_cell, K, M]`` first rows of the correlation over noise.
        config: The scenario.

    Returns:
        :class:`Gains` with ``a [S, L, K]`` and ``b [S, L, K, L, K]``.
    """
    s, n_cells, _, k, m = rows.shape
    p_tau = config.pilot_power_mw * config.tau_p
    psi_inv = toeplitz.inverse(pilot_rows(rows, config))  # [S, l, i, M, M]
    own = np.arange(n_cells)
    r_own = _flush(rows[:, own, own])  # [S, l, i, M]
    prefix = toeplitz.diagonal_prefix_sums(psi_inv @ toeplitz.dense(r_own))  # of Y = Ψ_li⁻¹ R^l_li
    y_sums = prefix[..., -1, :]  # diagonal sums of Y
    phi_upper = p_tau * toeplitz.product_diagonal_sums(r_own, prefix)  # lags 0 … M−1 of Φ
    phi_sums = np.concatenate([np.conj(phi_upper[..., :0:-1]), phi_upper], axis=-1)  # Φ is Hermitian
    tr_phi = np.real(phi_sums[..., m - 1])  # [S, l, i]
    weights = toeplitz.trace_weights(rows)  # [S, l, j, k, 2M−1]
    # tr(R^l_jk Φ^l_li) for every (l, i, j, k): [S, l, (j,k), 2M−1] @ [S, l, 2M−1, i]
    tr_r_phi = np.real(weights.reshape(s, n_cells, n_cells * k, 2 * m - 1) @ np.swapaxes(phi_sums, -1, -2))
    b = (tr_r_phi / tr_phi[:, :, None, :]).reshape(s, n_cells, n_cells, k, k).transpose(0, 1, 4, 2, 3)
    # pilot contamination (i = k only): tr(R^l_jk Ψ_lk⁻¹ R^l_lk) = tr(R^l_jk Y_lk)
    cross = np.einsum("sljkd,slkd->slkj", weights, y_sums)
    contamination = p_tau**2 * np.abs(cross) ** 2 / tr_phi[:, :, :, None]  # [S, l, k, j]
    kk = np.arange(k)
    own_b = b[:, own[:, None], kk[None, :], own[:, None], kk[None, :]].copy()  # tr(RΦ)/trΦ, [S, j, k]
    b[:, :, kk, :, kk] += np.moveaxis(contamination, 2, 0)  # b[s, l, k, j, k]
    b[:, own[:, None], kk[None, :], own[:, None], kk[None, :]] = own_b  # E|w h|² − a, exactly
    return Gains(a=tr_phi, b=b)


def monte_carlo(
    rows: np.ndarray,
    config: MimoSystemConfig,
    precoder_name: Precoder | str,
    realizations: int,
    rng: np.random.Generator,
    normalisation: Normalisation | str = Normalisation.INSTANTANEOUS,
    draws: ChannelDraws | str = ChannelDraws.SHARED_BS,
) -> Gains:
    """Hardening-bound terms by Monte Carlo over channel realisations (setups one at a time).

    Args:
        rows: ``complex128 [S, L_bs, L_cell, K, M]`` first rows of the correlation over noise.
        config: The scenario.
        precoder_name: ``MR`` or ``MMMSE``.
        realizations: N channel realisations per setup.
        rng: Source of randomness.
        normalisation: ``instantaneous`` (book) or ``average``.
        draws: ``shared_bs`` (one set of samples coloured by each BS's factors) or
            ``independent`` (per BS, the book's draws); :class:`ChannelDraws`.

    Returns:
        :class:`Gains` with standard errors.
    """
    prec = precoder(precoder_name)
    try:
        norm = Normalisation(normalisation)
    except ValueError:
        raise ConfigError(
            f"unknown normalisation {normalisation!r}; known: {[v.value for v in Normalisation]}"
        ) from None
    try:
        shared = ChannelDraws(draws) is ChannelDraws.SHARED_BS
    except ValueError:
        raise ConfigError(f"unknown draws {draws!r}; known: {[v.value for v in ChannelDraws]}") from None
    if realizations < 2:
        raise ConfigError(f"realizations must be >= 2 for a Monte-Carlo estimate, got {realizations}")
    s, n_cells, _, k, m = rows.shape
    rows = _flush(rows)  # subnormal tails slow every dense product and solve below (~3x for M-MMSE)
    psi_rows = pilot_rows(rows, config)
    psi_inv = toeplitz.inverse(psi_rows)  # [S, j, k, M, M]
    factors = correlation_factors(rows)  # [S, j, l, k, M, M] complex64
    out = [np.empty((s, n_cells, k)) for _ in range(2)] + [np.empty((s, n_cells, k, n_cells, k)) for _ in range(2)]
    a, a_se, b, b_se = out[0], out[1], out[2], out[3]
    own, kk = np.arange(n_cells)[:, None], np.arange(k)[None, :]
    mmmse = prec is Precoder.MMMSE
    for idx in range(s):
        # the estimated links: all of them for M-MMSE, each BS's own for MR
        est_rows = rows[idx] if mmmse else rows[idx, own[:, 0], own[:, 0]]
        ht, hat = draw_channels(
            factors[idx], psi_inv[idx], est_rows, config, realizations, rng, all_estimates=mmmse, shared=shared
        )
        if not mmmse:
            vh = np.conj(np.swapaxes(hat, 1, 2))  # [j, N, K, M]: rows v_jkᴴ
        else:
            z = config.pilot_power_mw * error_covariance_sum(rows[idx], psi_inv[idx], config) + np.eye(m)
            vh = _mmmse_combiners(hat, np.linalg.inv(z), config.pilot_power_mw, k)
        wh = _normalise(vh, norm)
        # g[j, n, i, (l,k)] = w_jiᴴ h^j_lk: per (BS, realisation), [K, M] @ [M, L·K] (a strided view)
        g = wh @ np.swapaxes(np.swapaxes(ht, 1, 2), -1, -2)
        g = np.swapaxes(g, 0, 1).reshape(realizations, n_cells, k, n_cells, k).astype(np.complex128)
        own_g = g[:, own, kk, own, kk]  # [N, j, k]
        mean_own = own_g.mean(axis=0)
        a[idx] = np.abs(mean_own) ** 2
        a_se[idx] = 2.0 * np.abs(mean_own) * own_g.std(axis=0) / np.sqrt(realizations)
        power = np.abs(g) ** 2
        b[idx] = power.mean(axis=0)
        b_se[idx] = power.std(axis=0) / np.sqrt(realizations)
    b[:, own, kk, own, kk] -= a
    return Gains(a=a, b=b, a_se=a_se, b_se=b_se)


def _flush(rows: np.ndarray, rel: float = 1e-12) -> np.ndarray:
    """Zero the generator entries below ``rel`` times the diagonal: the Gaussian tail of the
    local-scattering model reaches subnormal numbers, which slow matrix products ~10×."""
    return np.where(np.abs(rows) < rel * np.abs(rows[..., :1]), 0, rows)


def _mmmse_combiners(hat: np.ndarray, z_inv: np.ndarray, p: float, k: int) -> np.ndarray:
    """M-MMSE combiners of each BS's own UEs by Woodbury, in row layout.

    ``(Z + p Ĥ Ĥᴴ)⁻¹ Ĥ = Z⁻¹Ĥ (I + p Ĥᴴ Z⁻¹ Ĥ)⁻¹`` with ``Ĥ = [ĥ^j_u]`` ``[M, L·K]`` per BS j and
    realisation; with ``G = Z⁻¹Ĥ`` and the Hermitian ``Γ = I + p Ĥᴴ G``, the combiners' conjugate
    rows are ``Vᴴ = Γ⁻¹ Gᴴ``, of which only the K rows of BS j's own UEs are formed. The products
    (``G`` and the Gram matrices, from complex64 operands) run in complex64; the small solves with
    ``Γ`` in complex128.

    Args:
        hat: ``complex64 [L_bs, L·K, N, M]`` estimates in row layout (:func:`draw_channels`).
        z_inv: ``complex128 [L_bs, M, M]`` inverses of ``p Σ C + I``.
        p: Pilot power (mW).
        k: K.

    Returns:
        ``complex [L_bs, N, K, M]``: rows ``v_jkᴴ`` for every realisation.
    """
    n_bs, lk, n, m = hat.shape
    gt = (hat.reshape(n_bs, lk * n, m) @ np.swapaxes(z_inv, -1, -2).astype(np.complex64)).reshape(hat.shape)
    # conjugates throughout, which need one conjugated copy (of G) instead of two: Γ̄ = I + p Ĥᵀ Ḡ
    rows_hat, rows_cg = np.swapaxes(hat, 1, 2), np.swapaxes(np.conj(gt, out=gt), 1, 2)  # [j, N, LK, M]
    gram = np.eye(lk) + p * (rows_hat @ np.swapaxes(rows_cg, -1, -2)).astype(np.complex128)
    # rows of Γ⁻¹ for the own UEs: Γ is Hermitian, so they are the conjugates of Γ⁻¹'s columns,
    # i.e. the columns of Γ̄⁻¹, solved for the K unit vectors of BS j's UEs (no full inverse)
    units = np.zeros((n_bs, 1, lk, k), dtype=np.complex128)
    units[np.arange(n_bs)[:, None], 0, np.arange(n_bs)[:, None] * k + np.arange(k)[None, :], np.arange(k)] = 1.0
    inv_rows = np.swapaxes(np.linalg.solve(gram, np.broadcast_to(units, gram.shape[:2] + (lk, k))), -1, -2)
    return inv_rows.astype(np.complex64) @ rows_cg  # [j, N, K, LK] @ [j, N, LK, M]


def _normalise(vh: np.ndarray, norm: Normalisation) -> np.ndarray:
    """Unit-power precoder rows ``w_jkᴴ`` from combiner rows ``[L, N, K, M]``."""
    energy = np.sum(np.abs(vh) ** 2, axis=-1, keepdims=True)  # [L, N, K, 1]
    if norm is Normalisation.AVERAGE:
        energy = energy.mean(axis=1, keepdims=True)
    return vh / np.sqrt(energy)
