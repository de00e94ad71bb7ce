"""Message sources of the synthetic generator: random symbols and an audio-like signal with pauses.

Digital classes: the original fed whitened Shakespeare text (bits XOR-ed with a random sequence,
references §1.2), which is statistically i.i.d. uniform, so :func:`random_symbols` draws uniform
symbol indices directly.

Analog classes: the original fed a speech podcast (44.1 kHz). Shipping audio is not an option, so
:func:`speech_like` synthesises a source-filter "speech" signal with the properties that matter
to a 128- to 1024-sample window at 200 kHz (0.64–5.1 ms):

* voiced sound: a harmonic series with fundamental f0 ~ U(85, 255) Hz, harmonics up to 4 kHz,
  a -6 dB/octave tilt and two formant peaks (F1 ~ U(300, 900) Hz, F2 ~ U(900, 2500) Hz), random
  harmonic phases; plus aspiration noise 15 dB below, band-limited to 0–4 kHz;
* level: active speech has RMS ``SPEECH_LEVEL`` (0.1 = -20 dBFS, a typical podcast level) times a
  loudness factor uniform over a 10 dB range, scaled so that its power has mean 1;
* pauses: speech is an alternating on/off renewal process (talk spurts ~ Exp(1.2 s), pauses
  ~ Exp(0.4 s), so 25 % of windows start in a pause); a window may contain one onset or offset,
  ramped over 5 ms; pauses keep a background hiss 50 dB below the speech level.

The audio is built at ``AUDIO_RATE_HZ`` (25 kHz) directly in analytic form ``a + j H{a}``: the
harmonic series as ``-j sum_k A_k exp(j theta_k)`` and the noise as complex white noise low-passed
to ±2 kHz (``scipy.signal`` Butterworth, ``sosfilt``) and shifted up by 2 kHz. So SSB gets an exact
Hilbert pair without FFT edge effects, and the other classes take the real part. It is brought to
the output rate by :func:`amc_tf.data.modulators.interpolate` with a ``scipy.signal.firwin``
Kaiser low-pass (the same design as ``resample_poly``), and guard samples on both sides are
discarded so no filter transient reaches the output. The audio is not clipped: active speech peaks
near 0.6, well inside full scale.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from amc_tf.data.modulators import interpolate

#: RMS of active speech before the loudness factor (-20 dBFS).
SPEECH_LEVEL = 0.1
#: Rate at which the audio is synthesised (Hz); the output rate must be an integer multiple.
AUDIO_RATE_HZ = 25_000
#: Mean talk-spurt and pause durations (s) of the on/off process.
TALK_MEAN_S = 1.2
PAUSE_MEAN_S = 0.4

_MAX_HARMONIC_HZ = 4_000.0
_RAMP_S = 5e-3
_BACKGROUND_DB = -50.0
_ASPIRATION_DB = -15.0
_LOUDNESS_RANGE_DB = 10.0
_GUARD = 24  # audio-rate samples discarded on each side (filter transients)
_NOISE_SETTLE = 64  # extra noise samples filtered then dropped (IIR start-up transient)
_NOISE_LOWPASS = signal.butter(6, _MAX_HARMONIC_HZ / 2, fs=AUDIO_RATE_HZ, output="sos")


def random_symbols(rng: np.random.Generator, n_windows: int, n_symbols: int, order: int) -> np.ndarray:
    """I.i.d. uniform symbol indices.

    Returns:
        int64 ``[n_windows, n_symbols]`` in ``[0, order)``.
    """
    return rng.integers(0, order, size=(n_windows, n_symbols), dtype=np.int64)


def speech_like(
    rng: np.random.Generator, n_windows: int, n_samples: int, sample_rate: float, *, analytic: bool = False
) -> np.ndarray:
    """Audio-like signal with pauses, one independent excerpt per window.

    Args:
        rng: Random generator.
        n_windows: Number of excerpts B.
        n_samples: Samples per excerpt at ``sample_rate``.
        sample_rate: Output sample rate (Hz), an integer multiple of ``AUDIO_RATE_HZ``.
        analytic: Return the analytic signal ``a + j H{a}`` instead of ``a`` (same random draws,
            so the real part is the same audio).

    Returns:
        float64 ``[n_windows, n_samples]`` dimensionless audio (full scale ±1; active speech RMS
        ``SPEECH_LEVEL`` on average), or complex128 of the same shape when ``analytic``.
    """
    up = int(round(sample_rate / AUDIO_RATE_HZ))
    if up < 1 or not np.isclose(up * AUDIO_RATE_HZ, sample_rate):
        raise ValueError(f"sample_rate must be an integer multiple of {AUDIO_RATE_HZ} Hz, got {sample_rate}")
    n_audio = -(-n_samples // up) + 2 * _GUARD
    t = np.arange(n_audio) / AUDIO_RATE_HZ  # s
    voiced = _voiced(rng, n_windows, t)
    white = rng.standard_normal((n_windows, n_audio + _NOISE_SETTLE, 2))
    noise = signal.sosfilt(_NOISE_LOWPASS, white[..., 0] + 1j * white[..., 1], axis=1)[:, _NOISE_SETTLE:]
    noise *= np.exp(1j * np.pi * _MAX_HARMONIC_HZ * t)  # shift ±2 kHz up to 0…4 kHz
    noise /= _real_rms(noise)
    speech = voiced / _real_rms(voiced) + 10 ** (_ASPIRATION_DB / 20) * noise
    speech /= _real_rms(speech)
    loudness_db = rng.uniform(-_LOUDNESS_RANGE_DB, 0.0, size=(n_windows, 1))
    mean_power = (1 - 10 ** (-_LOUDNESS_RANGE_DB / 10)) / (_LOUDNESS_RANGE_DB / 10 * np.log(10))
    level = SPEECH_LEVEL * 10 ** (loudness_db / 20) / np.sqrt(mean_power)
    gate = _talk_gate(rng, n_windows, t)
    audio = gate * level * speech + 10 ** (_BACKGROUND_DB / 20) * SPEECH_LEVEL * noise
    if not analytic:
        audio = audio.real
    if up > 1:
        taps = up * signal.firwin(20 * up + 1, 1.0 / up, window=("kaiser", 5.0))
        audio = interpolate(audio, taps, up)[:, 10 * up :]  # drop the filter delay
    lead = _GUARD * up
    return audio[:, lead : lead + n_samples]


def _real_rms(x: np.ndarray) -> np.ndarray:
    """RMS of the real part along time, ``[B, 1]``."""
    return np.sqrt(np.mean(x.real**2, axis=1, keepdims=True))


def _voiced(rng: np.random.Generator, n_windows: int, t: np.ndarray) -> np.ndarray:
    """Analytic harmonic series with formants, complex128 ``[B, len(t)]`` (arbitrary scale).

    The real audio is ``sum_k A_k sin(theta_k)``, whose analytic signal is ``-j sum_k A_k e^{j theta_k}``.
    """
    f0 = rng.uniform(85.0, 255.0, size=(n_windows, 1))  # Hz
    f1 = rng.uniform(300.0, 900.0, size=(n_windows, 1))
    f2 = rng.uniform(900.0, 2500.0, size=(n_windows, 1))
    k = np.arange(1, int(_MAX_HARMONIC_HZ // 85.0) + 1)[None, :]
    fk = k * f0  # [B, K] Hz
    amp = (1.0 / k) * (1 + 3 * np.exp(-(((fk - f1) / 150.0) ** 2)) + 2 * np.exp(-(((fk - f2) / 250.0) ** 2)))
    amp = np.where(fk <= _MAX_HARMONIC_HZ, amp, 0.0)
    coeff = amp * np.exp(2j * np.pi * rng.random(amp.shape))  # [B, K]
    # sum_k c_k z^k with z = exp(j 2 pi f0 t), by Horner's rule over k (one [B, T] product per k).
    z = np.exp(2j * np.pi * f0 * t[None, :])
    acc = np.zeros((n_windows, t.size), dtype=np.complex128)
    for i in range(coeff.shape[1] - 1, -1, -1):
        acc = (acc + coeff[:, i : i + 1]) * z
    return -1j * acc


def _talk_gate(rng: np.random.Generator, n_windows: int, t: np.ndarray) -> np.ndarray:
    """On/off speech activity in [0, 1], float64 ``[B, len(t)]``, at most one switch per excerpt."""
    p_talk = TALK_MEAN_S / (TALK_MEAN_S + PAUSE_MEAN_S)
    talking = rng.random((n_windows, 1)) < p_talk
    # Residual life of the current state (memoryless): exponential with that state's mean.
    switch_at = rng.exponential(1.0, size=(n_windows, 1)) * np.where(talking, TALK_MEAN_S, PAUSE_MEAN_S)
    ramp = np.clip((t[None, :] - switch_at) / _RAMP_S, 0.0, 1.0)  # 0 before the switch, 1 after
    return np.where(talking, 1.0 - ramp, ramp)
