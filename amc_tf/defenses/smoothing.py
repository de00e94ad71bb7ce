"""Randomized smoothing: certified L2 robustness of any registry classifier (Cohen, Rosenfeld & Kolter 2019).

The smoothed classifier ``g(x) = argmax_c P(f(x + ε) = c)``, ``ε ~ N(0, σ² I)`` over the ``2L``
real components of a window, is constant on the L2 ball of radius ``R = σ Φ⁻¹(p_A)`` around
``x`` whenever the top class has probability ``p_A > 1/2`` (the paper's Theorem 1 with
``p_B = 1 − p_A``). :func:`certify` is the paper's CERTIFY: ``n0`` noisy samples pick the
candidate class, ``n`` fresh samples give the one-sided (1 − alpha) Clopper–Pearson lower bound
of its probability, and the example is abstained when that bound is ≤ 1/2. :func:`predict_smoothed`
is PREDICT (a two-sided binomial test of the top two counts at level alpha).

Why not ART's ``TensorFlowV2RandomizedSmoothing`` (design D10)? Its mathematics is the paper's
(the same selection/estimation split and the same Clopper–Pearson bound, through
``statsmodels``' ``proportion_confint(method="beta", alpha=2·alpha)``; the tests check ours
against it), but (1) it draws its noise from NumPy's *global* generator, so a certificate is
reproducible only by seeding global state; (2) its bound needs ``statsmodels``, which is not a
dependency here (ART's ``certify`` raises ImportError in our environment); (3) it certifies one
example at a time, with no way to pack several examples' noisy copies into one forward pass; and
(4) it takes one σ, while σ here can be a noise-to-signal ratio in dB of the data
(:class:`~amc_tf.config.certify.SmoothingConfig`). This module reimplements those ~30 lines
with a seeded generator per example (seed, phase, example index), batched sampling through one
compiled forward pass and :func:`scipy.stats.beta` for the bound, and converts each radius to a
certified PNR (:mod:`amc_tf.defenses.smoothing_result`).

Shapes: windows ``float32 [N, 2, L]``, labels ``int [N]``, SNR labels dB ``[N]`` (design D2).
"""

from __future__ import annotations

import time

import numpy as np
from scipy.stats import beta, binomtest, norm

from amc_tf.attacks.base import check_classifier
from amc_tf.config.certify import SmoothingConfig
from amc_tf.defenses.smoothing_noise import (
    ESTIMATION,
    SELECTION,
    forward_classes,
    mean_power,
    noisy_counts,
    resolve_sigma,
)
from amc_tf.defenses.smoothing_plot import plot_certified
from amc_tf.defenses.smoothing_result import ABSTAIN, CertificationResult, certified_pnr_db
from amc_tf.defenses.smoothing_training import noisy_model, train_with_gaussian_noise
from amc_tf.errors import ConfigError
from amc_tf.progress import Progress, say
from amc_tf.runtime import keras


def clopper_pearson_lower(count: np.ndarray | int, n: int, alpha: float) -> np.ndarray:
    """One-sided (1 − alpha) Clopper–Pearson lower confidence bound of a binomial proportion.

    ``Beta(alpha; k, n − k + 1)`` quantile, 0 for ``k = 0`` — what Cohen et al.'s code and ART get
    from ``proportion_confint(k, n, alpha=2·alpha, method="beta")[0]``.

    Args:
        count: Successes ``k`` (scalar or ``[N]``), ``0 <= k <= n``.
        n: Trials.
        alpha: One-sided failure probability.

    Returns:
        ``float64`` bound(s) of the shape of ``count``.
    """
    k = np.asarray(count, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bound = beta.ppf(alpha, np.where(k > 0, k, 1.0), n - k + 1.0)
    return np.where(k > 0, bound, 0.0)


def _check_inputs(model: keras.Model, x: np.ndarray, y: np.ndarray | None, snr_db) -> tuple[int, np.ndarray]:
    n_classes, window = check_classifier(model)
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[1:] != (2, window):
        raise ConfigError(f"x must be I/Q windows [N, 2, {window}] for model {model.name!r}, got shape {x.shape}")
    x = np.ascontiguousarray(x, dtype=np.float32)
    if not np.isfinite(x).all():
        raise ConfigError("x holds NaN or Inf values")
    if y is not None and np.asarray(y).shape != (x.shape[0],):
        raise ConfigError(f"y must be class indices of shape [{x.shape[0]}], got shape {np.asarray(y).shape}")
    if snr_db is not None and np.ndim(snr_db) and np.shape(snr_db) != (x.shape[0],):
        raise ConfigError(f"snr_db must be a scalar or of shape [{x.shape[0]}], got shape {np.shape(snr_db)}")
    return n_classes, x


def certify(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    snr_db: np.ndarray | int,
    config: SmoothingConfig,
    *,
    seed: int,
    progress: bool = True,
) -> CertificationResult:
    """Cohen et al.'s CERTIFY on every window: smoothed prediction, L2 radius and certified PNR.

    Args:
        model: Base classifier, ``float32 [M, 2, L] -> logits [M, C]`` (design D3).
        x: Clean windows ``float32 [N, 2, L]``.
        y: True classes ``int [N]``.
        snr_db: SNR labels in dB, ``[N]`` or a scalar (for the certified PNR).
        config: Noise and sampling settings (σ in dB is resolved on ``x``).
        seed: Root seed of the noise (same seed, same certificates on CPU).
        progress: Print the settings, a progress line and the outcome on stderr.

    Returns:
        The per-example certificates (:class:`~amc_tf.defenses.smoothing_result.CertificationResult`).
    """
    n_classes, x = _check_inputs(model, x, y, snr_db)
    labels = np.asarray(y, dtype=np.int64)
    sigma = resolve_sigma(config, x)
    snr = np.broadcast_to(np.asarray(snr_db, dtype=np.float64), (x.shape[0],)).copy()
    pnr_of_radius = certified_pnr_db(x, np.full(x.shape[0], sigma), snr) if x.shape[0] else np.zeros(0)
    if progress:
        say(
            "certify",
            f"{model.name}: {x.shape[0]} windows, sigma {sigma:.4g} ({config.sigma:g} {config.sigma_unit.value}, "
            f"1 sigma = {np.median(pnr_of_radius) if x.shape[0] else float('nan'):.1f} dB PNR), "
            f"n0 {config.n0}, n {config.n}, alpha {config.alpha:g}",
        )
    classes_of = forward_classes(model)
    run = {"seed": seed, "batch_size": config.batch_size}
    start = time.perf_counter()
    with Progress("certify", x.shape[0], unit="windows", enabled=progress) as bar:
        selected = np.argmax(noisy_counts(classes_of, x, sigma, config.n0, n_classes, phase=SELECTION, **run), axis=1)
        counts = noisy_counts(classes_of, x, sigma, config.n, n_classes, phase=ESTIMATION, progress=bar, **run)
    seconds = time.perf_counter() - start
    p_lower = clopper_pearson_lower(counts[np.arange(x.shape[0]), selected], config.n, config.alpha)
    certified = p_lower > 0.5
    radius = np.where(certified, sigma * norm.ppf(np.where(certified, p_lower, 0.75)), 0.0)
    predicted = np.where(certified, selected, ABSTAIN).astype(np.int64)
    result = CertificationResult(
        predicted=predicted,
        radius_l2=radius,
        certified_pnr_db=certified_pnr_db(x, radius, snr),
        correct=(predicted == labels) & certified,
        p_a_lower=p_lower,
        labels=labels,
        snr_db=snr,
        sigma=float(sigma),
        sigma_setting=float(config.sigma),
        sigma_unit=config.sigma_unit.value,
        n0=config.n0,
        n=config.n,
        alpha=config.alpha,
        seed=int(seed),
        seconds=seconds,
    )
    if progress:
        say(
            "certify",
            f"smoothed accuracy {result.smoothed_accuracy:.3f}, abstained {result.abstain_rate:.3f}, "
            f"{result.examples_per_s:.2f} windows/s",
        )
    return result


def predict_smoothed(
    model: keras.Model, x: np.ndarray, config: SmoothingConfig, *, seed: int, n: int | None = None
) -> np.ndarray:
    """Cohen et al.'s PREDICT: the smoothed class, or :data:`ABSTAIN` when the top two counts are not
    separated by a two-sided binomial test at level ``alpha`` (the answer then is wrong with
    probability ≤ alpha).

    Args:
        model: Base classifier with logits.
        x: Windows ``float32 [N, 2, L]``.
        config: σ, ``alpha`` and ``batch_size`` (σ in dB is resolved on ``x``).
        seed: Root seed of the noise.
        n: Noisy samples per window (default ``config.n``).

    Returns:
        ``int64 [N]`` classes, −1 where abstained.
    """
    n_classes, x = _check_inputs(model, x, None, None)
    draws = config.n if n is None else int(n)
    if draws < 1:
        raise ConfigError(f"n must be >= 1, got {draws}")
    counts = noisy_counts(
        forward_classes(model),
        x,
        resolve_sigma(config, x),
        draws,
        n_classes,
        seed=seed,
        phase=ESTIMATION,
        batch_size=config.batch_size,
    )
    top2 = np.sort(counts, axis=1)[:, -2:]
    out = np.argmax(counts, axis=1).astype(np.int64)
    for i, (second, first) in enumerate(top2):
        if first + second == 0 or binomtest(int(first), int(first + second), 0.5).pvalue > config.alpha:
            out[i] = ABSTAIN
    return out


def max_certified_pnr_db(x: np.ndarray, snr_db: np.ndarray | int, config: SmoothingConfig) -> np.ndarray:
    """The certified PNR (dB) each window would get if all ``n`` samples agreed — the ceiling of
    the certified-accuracy curve for this σ and ``n``."""
    sigma = resolve_sigma(config, x)
    return certified_pnr_db(x, np.full(x.shape[0], sigma * config.max_radius_factor), snr_db)


__all__ = [
    "ABSTAIN",
    "CertificationResult",
    "certify",
    "certified_pnr_db",
    "clopper_pearson_lower",
    "max_certified_pnr_db",
    "mean_power",
    "noisy_counts",
    "noisy_model",
    "plot_certified",
    "predict_smoothed",
    "resolve_sigma",
    "train_with_gaussian_noise",
]
