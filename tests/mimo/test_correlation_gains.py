"""Local-scattering correlation, Toeplitz algebra, and the hardening-bound terms (MR, M-MMSE)."""

from __future__ import annotations

import numpy as np
import pytest

from amc_tf.config.base import validate_config
from amc_tf.config.mimo import MimoSystemConfig
from amc_tf.errors import ConfigError
from amc_tf.mimo import channels, gains, geometry, power, toeplitz
from amc_tf.mimo.correlation import local_scattering


@pytest.mark.parametrize("model", ["approx", "exact"])
def test_correlation_has_trace_m_and_is_hermitian_psd(model):
    theta = np.array([0.0, 0.7, -1.2, np.pi / 2 - 0.05])
    R = local_scattering(theta, 32, np.deg2rad(10.0), 0.5, model)
    assert R.shape == (4, 32, 32)
    np.testing.assert_allclose(np.trace(R, axis1=1, axis2=2).real, 32.0, rtol=1e-9)
    np.testing.assert_allclose(R, np.conj(np.swapaxes(R, 1, 2)), atol=1e-12)
    assert np.linalg.eigvalsh(R).min() > -1e-9
    # broadside UE: the first-row phase is flat, the correlation decays with the antenna lag
    assert abs(R[0, 0, 1]) > abs(R[0, 0, 5]) > 0


def test_exact_and_approximate_models_agree_for_a_small_spread():
    theta = np.array([0.3, -0.9])
    approx = local_scattering(theta, 16, np.deg2rad(2.0), 0.5, "approx")
    exact = local_scattering(theta, 16, np.deg2rad(2.0), 0.5, "exact")
    assert np.abs(approx - exact).max() < 0.02


def test_unknown_correlation_model_is_refused():
    with pytest.raises(ConfigError, match="unknown correlation model"):
        local_scattering(np.zeros(1), 4, 0.1, 0.5, "laplace")


def test_toeplitz_inverse_diagonal_sums_and_traces():
    rng = np.random.default_rng(0)
    row = rng.standard_normal((3, 12)) + 1j * rng.standard_normal((3, 12))
    row[:, 0] = 40.0  # diagonally dominant: Hermitian positive definite
    T = toeplitz.dense(row)
    np.testing.assert_allclose(toeplitz.inverse(row), np.linalg.inv(T), atol=1e-13)
    A = rng.standard_normal((3, 12, 12)) + 1j * rng.standard_normal((3, 12, 12))
    ref = np.array([[np.trace(a, offset=e) for e in range(-11, 12)] for a in A])
    np.testing.assert_allclose(toeplitz.diagonal_sums(A), ref, atol=1e-12)
    traces = (toeplitz.trace_weights(row) * toeplitz.diagonal_sums(A)).sum(axis=-1)
    np.testing.assert_allclose(traces, np.einsum("bmn,bnm->b", T, A), atol=1e-10)
    # prefix sums down each diagonal, and the diagonal sums of T·A taken from them (lags >= 0)
    prefix = toeplitz.diagonal_prefix_sums(A)
    direct = np.array(
        [
            [
                [sum(a[t, t + e] for t in range(s_row + 1) if 0 <= t + e < 12) for e in range(-11, 12)]
                for s_row in range(12)
            ]
            for a in A
        ]
    )
    np.testing.assert_allclose(prefix, direct, atol=1e-12)
    np.testing.assert_allclose(
        toeplitz.product_diagonal_sums(row, prefix), toeplitz.diagonal_sums(T @ A)[:, 11:], atol=1e-10
    )
    one = toeplitz.product_diagonal_sums(row[:, :1], toeplitz.diagonal_prefix_sums(A[:, :1, :1]))
    np.testing.assert_allclose(one[:, 0], row[:, 0] * A[:, 0, 0])


def _small_system(**overrides) -> MimoSystemConfig:
    return validate_config(MimoSystemConfig, {"antennas": 8, **overrides})


def _dense_mr_reference(rows: np.ndarray, sys: MimoSystemConfig) -> tuple[np.ndarray, np.ndarray]:
    """The MR closed form written out literally with dense matrices, one term at a time."""
    R = toeplitz.dense(rows)
    s, L, _, K, M, _ = R.shape
    pt = sys.pilot_power_mw * sys.tau_p
    psi = pt * R.sum(axis=2) + np.eye(M)
    a = np.zeros((s, L, K))
    b = np.zeros((s, L, K, L, K))
    for n in range(s):
        for l in range(L):
            for i in range(K):
                y = np.linalg.solve(psi[n, l, i], R[n, l, l, i])
                phi = pt * R[n, l, l, i] @ y
                tr_phi = np.trace(phi).real
                for j in range(L):
                    for k in range(K):
                        val = np.trace(R[n, l, j, k] @ phi).real / tr_phi
                        if i == k:
                            val += (
                                pt**2
                                * abs(np.trace(R[n, l, j, k] @ np.linalg.solve(psi[n, l, k], R[n, l, l, k]))) ** 2
                                / tr_phi
                            )
                        b[n, l, i, j, k] = val
                a[n, l, i] = tr_phi
                b[n, l, i, l, i] -= tr_phi
    return a, b


def test_mr_closed_form_matches_the_literal_formula():
    sys = _small_system()
    rows, _ = channels.correlation_rows(geometry.drop_ues(sys, 2, np.random.default_rng(4)), sys)
    g = gains.mr_closed_form(rows, sys)
    a_ref, b_ref = _dense_mr_reference(rows, sys)
    np.testing.assert_allclose(g.a, a_ref, rtol=1e-9)
    np.testing.assert_allclose(g.b, b_ref, rtol=1e-8, atol=1e-14)
    assert (g.a > 0).all() and (g.b > 0).all()


def test_mr_closed_form_matches_the_literal_formula_at_paper_size():
    """M = 100, where Ψ is ill-conditioned (~1e4–1e5): the structured algebra still agrees."""
    sys = _small_system(antennas=100)
    rows, _ = channels.correlation_rows(geometry.drop_ues(sys, 1, np.random.default_rng(14)), sys)
    g = gains.mr_closed_form(rows, sys)
    a_ref, b_ref = _dense_mr_reference(rows, sys)
    np.testing.assert_allclose(g.a, a_ref, rtol=1e-9)
    np.testing.assert_allclose(g.b, b_ref, rtol=1e-7)


@pytest.mark.parametrize("antennas", [100, 16])
def test_mr_gains_and_powers_match_the_frozen_reference(antennas):
    """``data/mr_closed_form_reference.npz`` was written by the first implementation (two dense
    products per (BS, pilot), explicit diagonal sums) for 6 setups: faster algebra must not move
    the gains by more than 1e-6 or the optimal powers by more than 1e-5 (relative)."""
    from pathlib import Path

    from amc_tf.config.mimo import GainsConfig
    from amc_tf.mimo.simulate import compute_gains

    ref = np.load(Path(__file__).parent / "data" / "mr_closed_form_reference.npz")
    sys = _small_system(antennas=antennas)
    pos = ref[f"positions_m{antennas}"]
    distance, angle = geometry.wrapped_links(pos, sys)
    a, b = compute_gains(
        sys,
        GainsConfig(precoders=("MR",), mr_method="closed_form"),
        gains.Precoder.MR,
        geometry.channel_gain_over_noise_db(distance, sys),
        angle,
        np.random.default_rng(0),
    )
    np.testing.assert_allclose(a, ref[f"a_m{antennas}"], rtol=1e-6)
    np.testing.assert_allclose(b, ref[f"b_m{antennas}"], rtol=1e-6)
    np.testing.assert_allclose(power.max_product_power(a, b, sys.pmax_mw), ref[f"power_m{antennas}"], rtol=1e-5)


def test_mr_closed_form_matches_monte_carlo_within_its_error():
    sys = _small_system()
    rows, _ = channels.correlation_rows(geometry.drop_ues(sys, 1, np.random.default_rng(5)), sys)
    closed = gains.mr_closed_form(rows, sys)
    mc = gains.monte_carlo(rows, sys, "MR", 6000, np.random.default_rng(6), normalisation="average")
    # 5 standard errors (plus the O(1/N) bias of |mean|² and of the sample normalisation)
    z_a = np.abs(mc.a - closed.a) / (mc.a_se + 1e-3 * closed.a)
    z_b = np.abs(mc.b - closed.b) / (mc.b_se + 1e-3 * closed.b)
    assert z_a.max() < 5 and z_b.max() < 5
    # the book's per-realisation normalisation differs, but only a little at these sizes
    inst = gains.monte_carlo(rows, sys, "MR", 400, np.random.default_rng(7))
    assert np.median(np.abs(inst.a / closed.a - 1)) < 0.2


def test_mmmse_monte_carlo_terms_are_sane_and_beat_mr():
    sys = _small_system()
    rows, _ = channels.correlation_rows(geometry.drop_ues(sys, 1, np.random.default_rng(8)), sys)
    mm = gains.monte_carlo(rows, sys, "MMMSE", 200, np.random.default_rng(9))
    mr = gains.monte_carlo(rows, sys, "MR", 200, np.random.default_rng(9))
    assert mm.a.shape == (1, 4, 5) and mm.b.shape == (1, 4, 5, 4, 5)
    assert np.isfinite(mm.a).all() and (mm.a > 0).all() and np.isfinite(mm.b).all()
    # at equal power, M-MMSE's interference suppression gives a clearly larger sum SE (book Fig. 7.x)
    rho = np.full((1, 4, 5), sys.pmax_mw / 5)
    se_mm = power.spectral_efficiency(mm.a, np.maximum(mm.b, 0), rho, sys.tau_c, sys.tau_p).sum()
    se_mr = power.spectral_efficiency(mr.a, mr.b, rho, sys.tau_c, sys.tau_p).sum()
    assert se_mm > 1.2 * se_mr


def test_unknown_precoder_and_too_few_realisations_are_refused():
    sys = _small_system()
    rows, _ = channels.correlation_rows(geometry.drop_ues(sys, 1, np.random.default_rng(10)), sys)
    with pytest.raises(ConfigError, match="unknown precoder"):
        gains.monte_carlo(rows, sys, "ZF", 10, np.random.default_rng(0))
    with pytest.raises(ConfigError, match="realizations"):
        gains.monte_carlo(rows, sys, "MR", 1, np.random.default_rng(0))


def _book_own_terms(rows: np.ndarray, sys: MimoSystemConfig, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """The book's MR own-UE terms written out literally (``functionComputeSINR_DL.m``): per
    realisation, channels ``h = sqrtm(R)·CN(0, I)``, the MMSE estimate from the pilot signal, and
    ``w = ĥ/‖ĥ‖``; returns ``(a, own variance) [L, K]`` = ``(|E{wᴴh}|², E|wᴴh|² − a)``."""
    R = toeplitz.dense(rows[0])  # [j, l, k, M, M]
    L, _, K, M, _ = R.shape
    p, tau = sys.pilot_power_mw, sys.tau_p
    vals, vecs = np.linalg.eigh(R)
    sqrt_r = (vecs * np.sqrt(np.maximum(vals, 0))[..., None, :]) @ np.conj(np.swapaxes(vecs, -1, -2))
    psi = p * tau * R.sum(axis=1) + np.eye(M)  # [j, k, M, M]
    a, var = np.zeros((L, K)), np.zeros((L, K))
    for j in range(L):
        for k in range(K):
            z = (rng.standard_normal((L, M, n)) + 1j * rng.standard_normal((L, M, n))) / np.sqrt(2)
            h = sqrt_r[j, :, k] @ z  # [l, M, N]: channels of pilot-k UEs to BS j
            noise = (rng.standard_normal((M, n)) + 1j * rng.standard_normal((M, n))) / np.sqrt(2)
            y = np.sqrt(p) * tau * h.sum(axis=0) + np.sqrt(tau) * noise
            h_hat = np.sqrt(p) * R[j, j, k] @ np.linalg.solve(psi[j, k], y)
            w = h_hat / np.linalg.norm(h_hat, axis=0)
            g = np.sum(np.conj(w) * h[j], axis=0)  # w_jkᴴ h^j_jk per realisation
            a[j, k] = abs(g.mean()) ** 2
            var[j, k] = np.mean(abs(g) ** 2) - a[j, k]
    return a, var


def test_mr_conventions_own_ue_terms_against_the_books_per_realisation_normalisation():
    """At M = 100 the default Monte Carlo (``w = v/‖v‖`` per realisation) matches a literal
    Monte Carlo of the book's functions in the signal *and* own-UE variance terms, while the closed
    form (average normalisation) has an own-UE variance term about 2–3.5× the book's (issue 12)."""
    sys = _small_system(antennas=100)
    rows, _ = channels.correlation_rows(geometry.drop_ues(sys, 1, np.random.default_rng(21)), sys)
    n = 1500
    book_a, book_var = _book_own_terms(rows, sys, n, np.random.default_rng(22))
    ours = gains.monte_carlo(rows, sys, "MR", n, np.random.default_rng(23))
    own, kk = np.arange(4)[:, None], np.arange(5)[None, :]
    ours_var = ours.b[0, own, kk, own, kk]
    assert (np.abs(ours.a[0] - book_a) < 6 * np.sqrt(2) * ours.a_se[0]).all()  # two independent estimates
    # the variance term is a second moment of a hardening quantity: compare within 6 s.e. (+2 %)
    assert (np.abs(ours_var - book_var) < 6 * ours.b_se[0, own, kk, own, kk] + 0.02 * book_var).all()
    closed = gains.mr_closed_form(rows, sys)
    ratio = closed.b[0, own, kk, own, kk] / book_var
    assert 1.8 < np.median(ratio) < 4.0 and ratio.min() > 1.3
    # while its signal term E‖ĥ‖² is only a little above the book's (E‖ĥ‖)² (Jensen)
    signal_ratio = closed.a[0] / book_a
    assert signal_ratio.min() > 0.98 and np.median(signal_ratio) < 1.1
