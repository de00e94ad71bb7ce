"""Pure, vectorised modulators: symbols or audio ``[B, n]`` -> complex baseband ``[B, n_samples]``.

Every function works on a batch of B independent windows at once and returns complex128 at the
sample rate; none draws random numbers (the message comes in as an argument). Transmit power is
normalised so that the long-run mean power is 1 ("unit transmit power", used by the ``radioml``
SNR convention):

* linear (PSK/PAM/ASK/QAM/APSK): unit-energy constellation x RRC taps with ``sum(h**2) = sps``;
* offset (OQPSK): same, Q rail delayed by ``sps // 2`` samples;
* fsk (CPFSK, GFSK, GMSK): constant envelope 1;
* fm (WBFM/FM): constant envelope 1;
* am: power 1 during active audio at its nominal level (``sources.SPEECH_LEVEL``); pauses
  carry less (the carrier only for "with carrier" variants, background hiss otherwise).

What is written by hand, and why:

* :func:`rrc_taps`: SciPy has no root-raised-cosine design function (``firwin`` and friends do
  not cover it), so the closed form is implemented, with its two removable singularities.
* :func:`interpolate` (upsample by an integer and FIR-filter, exactly ``scipy.signal.upfirdn``
  with ``down=1``): ``upfirdn`` filters a ``[B, n]`` batch row by row, while one BLAS product of
  a sliding-window view with the polyphase tap matrix does the whole batch at once, which the
  generator's throughput needs. Tests check it against ``upfirdn`` to 1e-12.

Analog parameters (documented choices): WBFM/FM peak deviation 75 kHz for full-scale audio
(GNU Radio ``wfm_tx`` default ``max_dev``; no pre-emphasis), AM modulation index 1 on audio whose
active level is -20 dBFS, so the AM-DSB (with carrier) envelope is ``1 + a(t)`` as in the
original's ``add_const(1.0)``.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

#: WBFM peak frequency deviation for full-scale audio (Hz).
FM_DEVIATION_HZ = 75_000.0
#: AM modulation index m in ``1 + m a(t)``.
AM_INDEX = 1.0


def rrc_taps(sps: int, rolloff: float, span: int) -> np.ndarray:
    """Root-raised-cosine pulse, scaled so that ``sum(h**2) == sps`` (unit output power).

    Args:
        sps: Samples per symbol (>= 2).
        rolloff: Excess bandwidth beta in (0, 1].
        span: Filter length in symbols; the pulse has ``span * sps + 1`` taps (odd, centred).

    Returns:
        float64 ``[span * sps + 1]``.
    """
    if sps < 2 or not 0 < rolloff <= 1 or span < 2:
        raise ValueError(f"rrc_taps needs sps >= 2, 0 < rolloff <= 1, span >= 2; got {sps}, {rolloff}, {span}")
    t = (np.arange(span * sps + 1) - span * sps / 2) / sps  # in symbols
    b = rolloff
    with np.errstate(divide="ignore", invalid="ignore"):
        h = (np.sin(np.pi * t * (1 - b)) + 4 * b * t * np.cos(np.pi * t * (1 + b))) / (
            np.pi * t * (1 - (4 * b * t) ** 2)
        )
    h[np.isclose(t, 0.0)] = 1 - b + 4 * b / np.pi
    edge = np.isclose(np.abs(t), 1 / (4 * b))
    h[edge] = b / np.sqrt(2) * ((1 + 2 / np.pi) * np.sin(np.pi / (4 * b)) + (1 - 2 / np.pi) * np.cos(np.pi / (4 * b)))
    return h * np.sqrt(sps / np.sum(h**2))


def gaussian_frequency_pulse(sps: int, bt: float | None, span: int = 4) -> np.ndarray:
    """Frequency pulse q of a CPM scheme, normalised to ``sum(q) == 1`` (one symbol's phase).

    ``bt=None`` gives the rectangular pulse (CPFSK/MSK); otherwise a rectangle of one symbol
    convolved with a Gaussian of bandwidth-time product ``bt`` truncated to ``span`` symbols
    (GNU Radio ``gfsk_mod``/``gmsk_mod`` construction).

    Returns:
        float64 ``[sps]`` (rectangular) or ``[span * sps + sps - 1]``.
    """
    rect = np.ones(sps)
    if bt is None:
        return rect / sps
    t = (np.arange(span * sps) - (span * sps - 1) / 2) / sps  # symbols
    gauss = np.exp(-2 * np.pi**2 * bt**2 * t**2 / np.log(2))
    q = np.convolve(gauss, rect)
    return q / q.sum()


def interpolate(x: np.ndarray, taps: np.ndarray, up: int) -> np.ndarray:
    """Zero-insertion upsampling by ``up`` followed by the FIR ``taps`` (polyphase, batched).

    Equal to ``scipy.signal.upfirdn(taps, x, up=up, axis=1)``.

    Args:
        x: real or complex ``[B, n]``.
        taps: float ``[T]``.
        up: Integer upsampling factor >= 1.

    Returns:
        ``[B, (n - 1) * up + T]``, float64 or complex128 like ``x``.
    """
    n_taps = len(taps)
    m = -(-n_taps // up)
    phases = np.zeros(m * up)
    phases[:n_taps] = taps
    phases = phases.reshape(m, up)[::-1]  # row i multiplies x[k - (m - 1 - i)] for output block k
    batch, n = x.shape
    parts = np.stack([x.real, x.imag]) if np.iscomplexobj(x) else x[None]
    padded = np.zeros((parts.shape[0], batch, n + 2 * (m - 1)))
    padded[:, :, m - 1 : m - 1 + n] = parts
    blocks = sliding_window_view(padded, m, axis=2) @ phases  # [parts, B, n + m - 1, up]
    out = blocks.reshape(parts.shape[0], batch, -1)[:, :, : (n - 1) * up + n_taps]
    return out[0] + 1j * out[1] if np.iscomplexobj(x) else out[0]


def linear(symbols: np.ndarray, taps: np.ndarray, sps: int) -> np.ndarray:
    """Pulse-shaped linear modulation.

    Args:
        symbols: complex ``[B, n]`` constellation points (unit average energy).
        taps: Pulse-shaping FIR (e.g. :func:`rrc_taps`), float64 ``[T]``.
        sps: Samples per symbol.

    Returns:
        complex128 ``[B, (n - 1) * sps + T]``; symbol k peaks at sample ``k * sps + (T - 1) // 2``.
    """
    return interpolate(symbols, taps, sps)


def offset_linear(symbols: np.ndarray, taps: np.ndarray, sps: int) -> np.ndarray:
    """Offset modulation (OQPSK): I and Q rails pulse-shaped, Q delayed by ``sps // 2`` samples.

    Returns:
        complex128 ``[B, (n - 1) * sps + T]`` (same timing as :func:`linear` for the I rail).
    """
    i_rail = interpolate(symbols.real, taps, sps)
    q_rail = interpolate(symbols.imag, taps, sps)
    half = sps // 2
    q_delayed = np.zeros_like(q_rail)
    q_delayed[:, half:] = q_rail[:, : q_rail.shape[1] - half]
    return i_rail + 1j * q_delayed


def cpm(bits: np.ndarray, pulse: np.ndarray, sps: int, index: float) -> np.ndarray:
    """Binary continuous-phase FSK (CPFSK, GFSK, GMSK), constant envelope 1.

    Args:
        bits: int ``[B, n]`` in {0, 1}; mapped to d = 2 b - 1.
        pulse: Frequency pulse with ``sum == 1`` (:func:`gaussian_frequency_pulse`).
        sps: Samples per symbol.
        index: Modulation index h: the phase moves by ``pi * h * d`` per symbol.

    Returns:
        complex128 ``[B, (n - 1) * sps + len(pulse)]``.
    """
    freq = interpolate(2.0 * bits - 1.0, pulse, sps)  # fraction of a symbol's phase per sample
    return np.exp(1j * np.pi * index * np.cumsum(freq, axis=1))


def fm(audio: np.ndarray, sample_rate: float, deviation_hz: float = FM_DEVIATION_HZ) -> np.ndarray:
    """Frequency modulation: instantaneous frequency ``deviation_hz * a(t)``.

    Args:
        audio: float ``[B, n]`` in [-1, 1].
        sample_rate: Sample rate (Hz).
        deviation_hz: Peak deviation for full-scale audio (Hz); must stay below
            ``sample_rate / 2``.

    Returns:
        complex128 ``[B, n]``, constant envelope 1.
    """
    return np.exp(2j * np.pi * deviation_hz / sample_rate * np.cumsum(audio, axis=1))


def am(audio: np.ndarray, *, sideband: str, carrier: bool, level: float, index: float = AM_INDEX) -> np.ndarray:
    """Amplitude modulation at complex baseband.

    ``dsb``: ``m a(t)``; ``ssb``: the analytic signal ``m (a + j H{a})`` (upper sideband).
    ``carrier=True`` adds 1 (full carrier). The result is divided by the RMS it has during
    active audio at the nominal RMS ``level``, so that power is 1 there.

    Args:
        audio: ``dsb``: float ``[B, n]`` audio in [-1, 1] (the real part is used if complex);
            ``ssb``: its analytic signal, complex ``[B, n]`` (``speech_like(analytic=True)`` or
            ``scipy.signal.hilbert``).
        sideband: ``"dsb"`` or ``"ssb"``.
        carrier: Add the carrier.
        level: Nominal RMS of active audio (``sources.SPEECH_LEVEL``).
        index: Modulation index m.

    Returns:
        complex128 ``[B, n]``.
    """
    if sideband == "ssb":
        if not np.iscomplexobj(audio):
            raise ValueError("single-sideband AM needs the analytic signal of the audio (complex input)")
        message = index * audio
        message_power = 2 * (index * level) ** 2
    elif sideband == "dsb":
        message = index * np.real(audio).astype(np.complex128)
        message_power = (index * level) ** 2
    else:
        raise ValueError(f"sideband must be 'dsb' or 'ssb', got {sideband!r}")
    if carrier:
        return (1.0 + message) / np.sqrt(1.0 + message_power)
    return message / np.sqrt(message_power)
