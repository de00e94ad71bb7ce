"""Wrap-around multi-cell layout, UE drops and large-scale fading (book §7 running example).

The book's ``functionExampleSetup.m`` (Björnson, Hoydis & Sanguinetti, *Massive MIMO Networks*,
2017) places L base stations at the centres of the cells of a √L × √L grid of squares and wraps
the square around (a torus): the distance and angle from a UE to BS j use the nearest of BS j's
nine replicas. Here the nearest replica is found per coordinate (minimum image), which is the same
replica as the book's search over the 9 offsets.

Conventions (shared by the whole ``amc_tf.mimo`` package):

* positions: ``float64 [S, L, K, 2]`` metres, ``[..., 0] = x``, ``[..., 1] = y``, absolute
  coordinates in ``[0, √L·side]²``; UE k of cell l is ``positions[:, l, k]``;
* cells are numbered like the MATLAB code (column-major over the grid): BS j sits at
  ``(side·(j // √L + ½), side·(j % √L + ½))`` — for L = 4, side = 250 m: (125, 125), (125, 375),
  (375, 125), (375, 375);
* link arrays are ``[S, L_bs, L_cell, K]``: entry ``[s, j, l, k]`` is the link between BS j and
  UE k of cell l.
"""

from __future__ import annotations

import math

import numpy as np

from amc_tf.config.mimo import MimoSystemConfig
from amc_tf.errors import ConfigError, DatasetError


def grid_size(config: MimoSystemConfig) -> int:
    """Cells per grid dimension (√L)."""
    return math.isqrt(config.n_cells)


def square_side(config: MimoSystemConfig) -> float:
    """Side of the whole wrap-around square in metres (√L · cell side)."""
    return grid_size(config) * config.cell_side_m


def bs_positions(config: MimoSystemConfig) -> np.ndarray:
    """Base-station positions, ``float64 [L, 2]`` metres, at the cell centres (MATLAB order)."""
    n = grid_size(config)
    j = np.arange(config.n_cells)
    return config.cell_side_m * np.stack([j // n + 0.5, j % n + 0.5], axis=-1)


def drop_ues(config: MimoSystemConfig, n_setups: int, rng: np.random.Generator) -> np.ndarray:
    """Draw UE positions uniformly in their own cell, at least ``min_distance_m`` from its BS.

    Args:
        config: The scenario.
        n_setups: S, number of independent setups.
        rng: Source of randomness.

    Returns:
        ``float64 [S, L, K, 2]`` absolute positions in metres.
    """
    if n_setups < 1:
        raise ConfigError(f"n_setups must be >= 1, got {n_setups}")
    side, r_min = config.cell_side_m, config.min_distance_m
    shape = (n_setups, config.n_cells, config.ues_per_cell, 2)
    offset = rng.uniform(-side / 2, side / 2, size=shape)
    redraw = np.linalg.norm(offset, axis=-1) < r_min
    while redraw.any():  # rejection sampling, like the book (P(redraw) = π·35²/250² ≈ 6 %)
        offset[redraw] = rng.uniform(-side / 2, side / 2, size=(int(redraw.sum()), 2))
        redraw = np.linalg.norm(offset, axis=-1) < r_min
    return offset + bs_positions(config)[None, :, None, :]


def validate_positions(
    positions: np.ndarray, config: MimoSystemConfig, *, check_min_distance: bool = True
) -> np.ndarray:
    """Check that UE positions are finite and inside their own cell; return them as float64.

    Args:
        positions: ``[S, L, K, 2]`` metres (or ``[L, K, 2]`` for one setup).
        config: The scenario.
        check_min_distance: Also require the distance to the serving BS to be at least
            ``min_distance_m`` (0.5 mm rounding slack).

    Raises:
        DatasetError: wrong shape, non-finite values, a UE outside its cell or too close to its BS.
    """
    pos = np.asarray(positions, dtype=np.float64)
    if pos.ndim == 3:
        pos = pos[None]
    want = (config.n_cells, config.ues_per_cell, 2)
    if pos.ndim != 4 or pos.shape[1:] != want:
        raise DatasetError(f"positions must have shape [S, {want[0]}, {want[1]}, 2], got {list(np.shape(positions))}")
    if not np.isfinite(pos).all():
        raise DatasetError(f"positions contain {int((~np.isfinite(pos)).sum())} non-finite values")
    rel = pos - bs_positions(config)[None, :, None, :]
    outside = (np.abs(rel) > config.cell_side_m / 2 + 1e-9).any(axis=-1)
    if outside.any():
        s, l, k = np.argwhere(outside)[0]
        raise DatasetError(
            f"{int(outside.sum())} UE(s) lie outside their own cell of side {config.cell_side_m} m, e.g. setup {s}, "
            f"cell {l}, UE {k} at ({pos[s, l, k, 0]:.2f}, {pos[s, l, k, 1]:.2f}) m"
        )
    if check_min_distance:
        close = np.linalg.norm(rel, axis=-1) < config.min_distance_m - 5e-4
        if close.any():
            s, l, k = np.argwhere(close)[0]
            raise DatasetError(
                f"{int(close.sum())} UE(s) closer than {config.min_distance_m} m to their BS, "
                f"e.g. setup {s}, cell {l}, UE {k}"
            )
    return pos


def wrapped_links(positions: np.ndarray, config: MimoSystemConfig) -> tuple[np.ndarray, np.ndarray]:
    """Distances and angles from every BS (nearest wrap-around replica) to every UE.

    Args:
        positions: ``float64 [S, L, K, 2]`` metres.
        config: The scenario.

    Returns:
        ``(distance, angle)``, both ``float64 [S, L_bs, L_cell, K]``: distance in metres and the
        UE's angle seen from the BS replica in radians (``atan2(Δy, Δx)``, the book's
        ``angle(UE − BS)``).
    """
    span = square_side(config)
    delta = positions[:, None, :, :, :] - bs_positions(config)[None, :, None, None, :]
    delta = delta - span * np.round(delta / span)  # nearest of the 9 replicas
    distance = np.hypot(delta[..., 0], delta[..., 1])
    angle = np.arctan2(delta[..., 1], delta[..., 0])
    return distance, angle


def pathloss_db(distance_m: np.ndarray, config: MimoSystemConfig) -> np.ndarray:
    """Large-scale channel gain without shadowing: ``−35.3 − 37.6·log10(d / 1 m)`` dB (defaults)."""
    d = np.asarray(distance_m, dtype=np.float64)
    if (d <= 0).any():
        raise DatasetError("distances must be positive for the pathloss model")
    return config.pathloss_at_1m_db - 10.0 * config.pathloss_exponent * np.log10(d)


def channel_gain_over_noise_db(
    distance_m: np.ndarray, config: MimoSystemConfig, rng: np.random.Generator | None = None
) -> np.ndarray:
    """Channel gain divided by the noise power, in dB, so that ``p[mW] · 10^(g/10)`` is an SNR.

    With ``shadowing_std_db > 0`` an independent N(0, σ²) dB term is added per (BS, UE) link and
    redrawn, as in the book, until the serving BS is the strongest for that UE.

    Args:
        distance_m: ``[S, L_bs, L_cell, K]`` wrapped distances in metres.
        config: The scenario.
        rng: Needed only when shadowing is on.

    Returns:
        ``float64 [S, L_bs, L_cell, K]`` in dB.
    """
    gain = pathloss_db(distance_m, config)
    sigma = config.shadowing_std_db
    if sigma > 0:
        if rng is None:
            raise ConfigError("shadowing_std_db > 0 needs a random generator")
        own = np.arange(config.n_cells)
        shadow = sigma * rng.standard_normal(gain.shape)
        for _ in range(1000):
            total = gain + shadow
            serving = total[:, own, own, :]  # [S, L, K]
            bad = serving < total.max(axis=1)  # some other BS is stronger
            if not bad.any():
                break
            s, l, k = np.nonzero(bad)
            shadow[s, :, l, k] = sigma * rng.standard_normal((len(s), config.n_cells))
        else:
            raise DatasetError("could not draw shadowing with the serving BS strongest after 1000 rounds")
        gain = gain + shadow
    return gain - config.noise_dbm


def features(positions: np.ndarray) -> np.ndarray:
    """DNN input: the x of every UE, then the y (MATLAB column-major over (k, cell)).

    Args:
        positions: ``[S, L, K, 2]`` metres.

    Returns:
        ``float32 [S, 2·L·K]`` metres: ``[x_{0,0}, x_{0,1}, …, x_{L-1,K-1}, y_{0,0}, …]``.
    """
    pos = np.asarray(positions)
    s = pos.shape[0]
    return np.concatenate([pos[..., 0].reshape(s, -1), pos[..., 1].reshape(s, -1)], axis=1).astype(np.float32)


def positions_from_features(x: np.ndarray, config: MimoSystemConfig) -> np.ndarray:
    """Inverse of :func:`features`: ``[S, 2·L·K]`` → ``float64 [S, L, K, 2]``."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != config.n_features:
        raise DatasetError(f"features must have shape [S, {config.n_features}], got {list(x.shape)}")
    half = config.n_features // 2
    shape = (x.shape[0], config.n_cells, config.ues_per_cell)
    return np.stack([x[:, :half].reshape(shape), x[:, half:].reshape(shape)], axis=-1)
