"""From random UE drops to optimal powers: one batch of setups through the whole simulator.

Pipeline per setup (Sanguinetti, Zappone & Debbah, Asilomar 2018, ``main.m``): drop K UEs per
cell → wrap-around distances and angles → gains over noise (pathloss, optional shadowing) →
local-scattering correlation → MMSE estimation statistics → hardening-bound terms a, b per
precoder (MR in closed form or Monte Carlo, M-MMSE by Monte Carlo) → max-product-SINR powers.

Randomness: one :class:`numpy.random.SeedSequence` per batch is split into independent streams
for the drops, the shadowing and the channel realisations, so a batch's content does not depend
on how it is chunked internally.
"""

from __future__ import annotations

import numpy as np

from amc_tf.config.mimo import GainMethod, GainsConfig, MimoSystemConfig, Precoder
from amc_tf.mimo import gains as gains_mod
from amc_tf.mimo.channels import rows_from_links
from amc_tf.mimo.geometry import channel_gain_over_noise_db, drop_ues, validate_positions, wrapped_links
from amc_tf.mimo.power import max_product_power

#: Setups whose correlation terms are computed at once: large enough to amortise the Python
#: loops over lags, small enough that the ~3 MB of M × M arrays per setup (M = 100) stay in cache.
CHUNK = 4


def simulate(
    system: MimoSystemConfig,
    gains_config: GainsConfig,
    n_setups: int,
    seed: np.random.SeedSequence | int,
    *,
    keep_gains: bool = False,
) -> dict[str, np.ndarray]:
    """Draw ``n_setups`` setups and compute their optimal max-product powers.

    Args:
        system: The scenario.
        gains_config: Precoders and how their terms are computed.
        n_setups: S.
        seed: Seed or seed sequence of this batch.
        keep_gains: Also return the hardening-bound terms (needed for SE evaluation).

    Returns:
        ``positions``: ``float64 [S, L, K, 2]`` metres; for each precoder P in the config,
        ``power_P``: ``float64 [S, L, K]`` optimal powers in mW, and with ``keep_gains``
        ``a_P``: ``float32 [S, L, K]`` and ``b_P``: ``float32 [S, L, K, L, K]``.
    """
    seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    drop_seq, rest_seq = seq.spawn(2)
    positions = drop_ues(system, n_setups, np.random.default_rng(drop_seq))
    return evaluate_positions(system, gains_config, positions, rest_seq, keep_gains=keep_gains)


def evaluate_positions(
    system: MimoSystemConfig,
    gains_config: GainsConfig,
    positions: np.ndarray,
    seed: np.random.SeedSequence | int,
    *,
    keep_gains: bool = False,
) -> dict[str, np.ndarray]:
    """Optimal powers (and optionally gains) for given UE positions; see :func:`simulate`.

    Raises:
        DatasetError: positions of the wrong shape, non-finite, or outside their cells.
    """
    positions = validate_positions(positions, system)
    seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    shadow_seq, channel_seq = seq.spawn(2)
    distance, angle = wrapped_links(positions, system)
    gain_db = channel_gain_over_noise_db(distance, system, np.random.default_rng(shadow_seq))
    mc_rng = np.random.default_rng(channel_seq)
    out: dict[str, np.ndarray] = {"positions": positions}
    for prec in gains_config.precoders:
        a, b = compute_gains(system, gains_config, prec, gain_db, angle, mc_rng)
        out[f"power_{prec.value}"] = max_product_power(a, b, system.pmax_mw)
        if keep_gains:
            out[f"a_{prec.value}"] = a.astype(np.float32)
            out[f"b_{prec.value}"] = b.astype(np.float32)
    return out


def compute_gains(
    system: MimoSystemConfig,
    gains_config: GainsConfig,
    prec: Precoder,
    gain_db: np.ndarray,
    angle: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Hardening-bound terms of one precoder for links ``[S, L_bs, L_cell, K]``, chunked.

    Returns:
        ``(a [S, L, K], b [S, L, K, L, K])`` float64.
    """
    s = gain_db.shape[0]
    a_parts, b_parts = [], []
    for start in range(0, s, CHUNK):
        rows = rows_from_links(gain_db[start : start + CHUNK], angle[start : start + CHUNK], system)
        if prec is Precoder.MR and gains_config.mr_method is GainMethod.CLOSED_FORM:
            g = gains_mod.mr_closed_form(rows, system)
        else:
            g = gains_mod.monte_carlo(
                rows, system, prec, gains_config.realizations, rng, gains_config.normalisation, gains_config.draws
            )
        a_parts.append(g.a)
        b_parts.append(g.b)
    a, b = np.concatenate(a_parts), np.concatenate(b_parts)
    # Monte-Carlo interference estimates are non-negative by construction; the own-UE variance
    # term (E|w h|² − |E w h|²) can round to a tiny negative value with few realisations.
    return a, np.maximum(b, 0.0)
