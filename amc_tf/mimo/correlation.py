"""Local-scattering spatial correlation of a uniform linear array (book §2.6, eqs. 2.23–2.24).

A UE seen at nominal angle θ from the array has multipath components arriving at θ + Δ with a
Gaussian Δ ~ N(0, σ_φ²). The normalised correlation matrix ``R`` of an M-antenna ULA with spacing
d (in wavelengths) is Toeplitz-Hermitian with first row

* exact (eq. 2.23): ``r_n = E_Δ{exp(j2π d n sin(θ + Δ))}``;
* approximate (eq. 2.24, small σ_φ): ``r_n = exp(j2π d n sin θ) · exp(−σ_φ²/2 · (2π d n cos θ)²)``,

and ``[R]_{m,n} = r_{n−m}`` for n ≥ m (``toeplitz(r)`` in MATLAB), so ``tr(R) = M``. The original
dataset code uses the approximation (``accuracy = 2``); it is the default.

The book integrates eq. 2.23 with MATLAB's adaptive ``integral``; here a trapezoidal rule on
±10 σ_φ with 2,049 nodes is used instead. The integrand is smooth and Gaussian-weighted, so the
trapezoid converges spectrally; its weights are positive and renormalised to sum to one, which
keeps R exactly positive semi-definite with unit diagonal (a mixture of rank-one matrices).
"""

from __future__ import annotations

import numpy as np

from amc_tf.config.mimo import CorrelationModel
from amc_tf.errors import ConfigError
from amc_tf.mimo import toeplitz

_EXACT_NODES = 2049
_EXACT_SPAN = 10.0  # in standard deviations


def first_row(
    theta: np.ndarray,
    antennas: int,
    asd_rad: float,
    spacing: float = 0.5,
    model: CorrelationModel | str = CorrelationModel.APPROX,
) -> np.ndarray:
    """First row of the normalised correlation matrix.

    Args:
        theta: ``float [...]`` nominal angles in radians.
        antennas: M.
        asd_rad: Angular standard deviation σ_φ in radians.
        spacing: Antenna spacing in wavelengths.
        model: ``approx`` (eq. 2.24) or ``exact`` (eq. 2.23).

    Returns:
        ``complex128 [..., M]`` with ``r_0 = 1``.
    """
    model = _model(model)
    if antennas < 1:
        raise ConfigError(f"antennas must be >= 1, got {antennas}")
    if not asd_rad > 0:
        raise ConfigError(f"angular standard deviation must be > 0, got {asd_rad}")
    theta = np.asarray(theta, dtype=np.float64)[..., None]
    dist = 2.0 * np.pi * spacing * np.arange(antennas)
    if model is CorrelationModel.APPROX:
        return np.exp(1j * dist * np.sin(theta) - 0.5 * asd_rad**2 * (dist * np.cos(theta)) ** 2)
    delta = np.linspace(-_EXACT_SPAN * asd_rad, _EXACT_SPAN * asd_rad, _EXACT_NODES)
    weight = np.exp(-0.5 * (delta / asd_rad) ** 2)
    weight[[0, -1]] *= 0.5  # trapezoid
    weight /= weight.sum()
    flat = theta.reshape(-1)
    out = np.empty((flat.size, antennas), dtype=np.complex128)
    for start in range(0, flat.size, 8):  # chunks keep the [chunk, M, nodes] phase array small
        phase = np.sin(flat[start : start + 8, None] + delta)[:, None, :]  # [c, 1, nodes]
        out[start : start + 8] = np.exp(1j * dist[None, :, None] * phase) @ weight
    return out.reshape(theta.shape[:-1] + (antennas,))


def local_scattering(
    theta: np.ndarray,
    antennas: int,
    asd_rad: float,
    spacing: float = 0.5,
    model: CorrelationModel | str = CorrelationModel.APPROX,
) -> np.ndarray:
    """Normalised local-scattering correlation matrices (trace M, Hermitian PSD).

    Args:
        theta: ``float [...]`` nominal angles in radians.
        antennas: M.
        asd_rad: σ_φ in radians.
        spacing: Antenna spacing in wavelengths.
        model: ``approx`` or ``exact``.

    Returns:
        ``complex128 [..., M, M]``.
    """
    return toeplitz.dense(first_row(theta, antennas, asd_rad, spacing, model))


def _model(model: CorrelationModel | str) -> CorrelationModel:
    try:
        return CorrelationModel(model)
    except ValueError:
        raise ConfigError(
            f"unknown correlation model {model!r}; known: {[m.value for m in CorrelationModel]}"
        ) from None
