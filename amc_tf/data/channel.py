"""Channel impairments of the synthetic generator: SRO, CFO, Rician fading, AWGN.

A NumPy re-statement of GNU Radio's ``dynamic_channel_model`` as the RML2016.10a generator used
it (references §1.2), applied per window and vectorised over a batch of B windows, in the
original order:

1. **Sample-rate offset (SRO).** A bounded random walk of the sample-rate offset (Hz; step std
   ``sro_std_hz`` per sample, clipped to ±``sro_max_hz``) moves the read position of each output
   sample by ``offset / sample_rate``; the stream is read at those fractional positions with a
   5-point Lagrange interpolator (GNU Radio uses an 8-tap MMSE interpolator; at offsets of a few
   ppm both are exact to far below the noise). The config keeps the accumulated drift under one
   sample per window (``sro_max_hz * (window + taps) / fs < 1``).
2. **Carrier-frequency offset (CFO).** A bounded random walk of the frequency (Hz) drives a phase
   rotation ``exp(j 2 pi cumsum(f) / fs)``.
3. **Rician frequency-selective fading.** Each path k gets the gain
   ``g_k (sqrt(K/(K+1)) exp(j phi) + sqrt(1/(K+1)) CN(0, 1))`` and a fractional delay ``d_k``
   realised with a Lagrange FIR of ``interpolation_taps`` taps (GNU Radio interpolates with a
   truncated sinc; Lagrange keeps the delay exact at low frequency, where 8-sample-per-symbol
   signals live, whereas an 8-tap truncated sinc is off by a few hundredths of a sample). The gains are drawn once
   per window (block-static): with the original's fD = 1 Hz at 200 kHz the channel moves by
   ~0.004 rad over a 128-sample window, so time variation inside a window is negligible (the
   config refuses Doppler x duration > 0.01). Path magnitudes are not renormalised (mean power
   gain ``sum(g_k**2)`` = 1.73 with the defaults), as in the original.
4. **AWGN** (:func:`awgn`): circular complex Gaussian noise of a given power per window.

The walks start, at each window's first sample, from a value drawn as the walk's spread after
``walk_start_samples`` steps, since the original's windows came from deep inside long flowgraph
runs. A bound is applied by clipping the walk's path (identical to GNU Radio's per-step clip as
long as the bound is not reached, which at the defaults it practically never is).

Why by hand: SciPy has no time-varying resampler or per-row FIR; each step here is a few
vectorised NumPy passes over ``[B, L]`` arrays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

if TYPE_CHECKING:  # the config is passed in; data/ does not import the config layer at run time
    from amc_tf.config.data import ChannelConfig


def bounded_walk(
    rng: np.random.Generator, n_windows: int, n_steps: int, step_std: float, bound: float, start_steps: int
) -> np.ndarray:
    """Random walks clipped to ``[-bound, bound]``.

    Args:
        rng: Random generator.
        n_windows: Number of independent walks B.
        n_steps: Length of each walk.
        step_std: Std of each increment (unit of the walk, e.g. Hz).
        bound: Clip bound (same unit).
        start_steps: The start value is N(0, step_std**2 * start_steps), clipped.

    Returns:
        float64 ``[n_windows, n_steps]``.
    """
    start = rng.normal(0.0, step_std * np.sqrt(start_steps), size=(n_windows, 1))
    steps = rng.normal(0.0, step_std, size=(n_windows, n_steps))
    return np.clip(start + np.cumsum(steps, axis=1), -bound, bound)


def rows(stream: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
    """Copy ``stream[b, starts[b] : starts[b] + length]`` for every row b.

    Returns:
        ``[B, length]``, same dtype as ``stream``.
    """
    return sliding_window_view(stream, length, axis=1)[np.arange(stream.shape[0]), starts]


def fractional_read(stream: np.ndarray, starts: np.ndarray, drift: np.ndarray) -> np.ndarray:
    """Read row b of ``stream`` at positions ``starts[b] + n + drift[b, n]`` (fractional).

    Five-point (quartic) Lagrange interpolation on the samples n-2 … n+2 around each nominal
    position, which stays accurate for any ``|drift| < 1``.

    Args:
        stream: complex ``[B, N]``; needs 2 samples of margin on both sides of the read span.
        starts: int ``[B]`` nominal position of each row's first output sample.
        drift: float ``[B, P]`` offsets in samples, each ``|drift| < 1``.

    Returns:
        complex128 ``[B, P]``; exact when ``drift == 0``.
    """
    batch, n = drift.shape
    slab = rows(stream, starts - 2, n + 4)
    a, b, c, d, e = drift + 2, drift + 1, drift, drift - 1, drift - 2
    weights = (b * c * d * e / 24, -a * c * d * e / 6, a * b * d * e / 4, -a * b * c * e / 6, a * b * c * d / 24)
    out = np.zeros((batch, n), dtype=np.complex128)
    for j, w in enumerate(weights):
        out += w * slab[:, j : j + n]
    return out


def rotate(x: np.ndarray, freq_hz: np.ndarray, sample_rate: float) -> np.ndarray:
    """Apply a time-varying frequency offset.

    Args:
        x: complex ``[B, n]``.
        freq_hz: float ``[B, n]`` instantaneous offset (Hz).
        sample_rate: Hz.

    Returns:
        complex128 ``[B, n]``: ``x * exp(j 2 pi cumsum(freq) / sample_rate)``.
    """
    phase = 2 * np.pi / sample_rate * np.cumsum(freq_hz, axis=1)
    turn = np.empty(phase.shape, dtype=np.complex128)
    turn.real = np.cos(phase)
    turn.imag = np.sin(phase)
    return x * turn


def rician_gains(rng: np.random.Generator, n_windows: int, gains: np.ndarray, k_factor: float) -> np.ndarray:
    """Per-window complex path gains, Rician with factor K (LOS phase uniform).

    Returns:
        complex128 ``[n_windows, n_paths]`` with ``E|h_k|^2 = gains[k]**2``.
    """
    n_paths = len(gains)
    los = np.exp(2j * np.pi * rng.random((n_windows, n_paths)))
    scatter = (rng.standard_normal((n_windows, n_paths)) + 1j * rng.standard_normal((n_windows, n_paths))) / np.sqrt(2)
    return np.asarray(gains) * (np.sqrt(k_factor / (k_factor + 1)) * los + np.sqrt(1 / (k_factor + 1)) * scatter)


def fractional_delay_filters(delays: np.ndarray, n_taps: int) -> np.ndarray:
    """Lagrange fractional-delay FIRs, one per delay (maximally flat at DC: exact low-frequency
    delay and unit DC gain).

    Delay 0 is a unit impulse at tap ``n_taps // 2 - 1``; delay d is centred d samples later.

    Returns:
        float64 ``[len(delays), n_taps]``.
    """
    centre = n_taps // 2 - 1
    position = centre + np.asarray(delays, dtype=np.float64)[:, None, None]  # [P, 1, 1]
    i = np.arange(n_taps)[None, :, None]
    k = np.arange(n_taps)[None, None, :]
    terms = np.where(i == k, 1.0, (position - k) / np.where(i == k, 1.0, i - k))
    return np.prod(terms, axis=2)


def fir_valid(x: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """Per-window FIR filtering, 'valid' part only.

    Args:
        x: complex ``[B, n + T - 1]``.
        taps: complex ``[B, T]`` (one filter per window).

    Returns:
        complex128 ``[B, n]``: ``y[n] = sum_i taps[i] x[n + T - 1 - i]``.
    """
    n_taps = taps.shape[1]
    n = x.shape[1] - n_taps + 1
    out = np.zeros((x.shape[0], n), dtype=np.complex128)
    for i in range(n_taps):
        out += taps[:, i : i + 1] * x[:, n_taps - 1 - i : n_taps - 1 - i + n]
    return out


def awgn(rng: np.random.Generator, shape: tuple[int, int], power: np.ndarray | float) -> np.ndarray:
    """Circular complex white Gaussian noise.

    Args:
        rng: Random generator.
        shape: ``(B, n)``.
        power: Mean power ``E|w|^2`` per window, float ``[B, 1]`` or a scalar.

    Returns:
        complex128 ``[B, n]``.
    """
    draw = rng.standard_normal((*shape, 2))
    return np.sqrt(np.asarray(power) / 2) * (draw[..., 0] + 1j * draw[..., 1])


def impair(
    rng: np.random.Generator,
    stream: np.ndarray,
    starts: np.ndarray,
    window: int,
    channel: ChannelConfig,
    sample_rate: float,
) -> np.ndarray:
    """Cut one window per row out of ``stream`` and pass it through SRO, CFO and fading.

    Args:
        rng: Random generator (draws happen only for enabled impairments).
        stream: complex ``[B, N]`` transmitted signals.
        starts: int ``[B]`` index in ``stream`` of each window's first sample; the stream must
            hold ``interpolation_taps + 2`` samples before the window and 3 after it.
        window: Output samples L.
        channel: Impairment settings.
        sample_rate: Hz.

    Returns:
        complex128 ``[B, L]``, the received window before noise.
    """
    n_windows = stream.shape[0]
    if channel.awgn_only:
        return rows(stream, starts, window).astype(np.complex128)
    fading = channel.fading
    history = channel.interpolation_taps - 1 if fading else 0
    n = window + history
    if channel.sample_rate_offset:
        sro = bounded_walk(rng, n_windows, n, channel.sro_std_hz, channel.sro_max_hz, channel.walk_start_samples)
        x = fractional_read(stream, starts - history, np.cumsum(sro, axis=1) / sample_rate)
    else:
        x = rows(stream, starts - history, n).astype(np.complex128)
    if channel.carrier_offset:
        cfo = bounded_walk(rng, n_windows, n, channel.cfo_std_hz, channel.cfo_max_hz, channel.walk_start_samples)
        x = rotate(x, cfo, sample_rate)
    if fading:
        gains = rician_gains(rng, n_windows, np.asarray(channel.gains), channel.rician_k)
        taps = gains @ fractional_delay_filters(np.asarray(channel.delays), channel.interpolation_taps)
        x = fir_valid(x, taps)
    return x
