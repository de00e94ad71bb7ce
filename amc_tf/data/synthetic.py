"""Synthetic RadioML generator: RML2016.10a-style and RML2018.01A-style datasets (numpy only).

Per (class, SNR) key, vectorised over a block of windows:

1. **Source** (:mod:`~amc_tf.data.sources`): i.i.d. uniform symbols, or audio-like speech with
   pauses for the analog classes.
2. **Modulator** (:mod:`~amc_tf.data.modulators`) at 200 kHz and ``samples_per_symbol`` (8):
   linear classes with a root-raised-cosine pulse (roll-off 0.35, 11 symbols, as the original's
   polyphase RRC resampler), GFSK (BT 0.35, h = 0.8/pi), CPFSK (h = 0.5), GMSK (BT 0.3, h = 0.5),
   OQPSK, WBFM/FM (75 kHz deviation), AM-DSB with carrier ``1 + a(t)``, AM-SSB (upper sideband),
   and the RML2018 with/without-carrier AM variants. Unit transmit power.
3. **Slicing**: a transient guard of ``11 * samples_per_symbol + interpolation_taps`` samples
   (past the RRC start-up), then a random offset uniform in [0, samples_per_symbol) (random
   symbol timing phase; symbols and audio excerpts are independent per window, so a larger
   offset would add nothing).
4. **Channel** (:mod:`~amc_tf.data.channel`): SRO and CFO random walks, Rician K = 4 three-path
   fractional-delay fading (0, 0.9, 1.7 samples; 1, 0.8, 0.3), then AWGN at the labelled SNR.
   ``channel.awgn_only`` keeps only the AWGN.
5. **Normalisation**, last: rml2016 divides each window by ``sum(|x[n]|)`` (L1, as the
   original); rml2018 scales each frame to unit mean power (RMS).

SNR conventions (``snr_convention``):

* ``measured`` (default): the noise power of each window is the power of the signal actually
  present in that window after the channel (before noise) divided by 10^(snr/10), so the SNR of
  every window, measured before normalisation, equals its label on average. When the window holds
  no signal at all (the faithful AM-SSB class) the unit reference power is used, so the class is
  pure noise of power 10^(-snr/10).
* ``radioml``: the original's nominal scaling: unit transmit power, complex noise with
  per-component amplitude 10^(-snr/10), i.e. noise power 2 * 10^(-snr/5). The label is then a
  parameter, not a measured SNR (the true SNR is higher than the label and depends on the
  channel gain); use it to compare with curves published on RML2016.10a.

``am_ssb`` (rml2016 only): ``faithful`` reproduces the original file, whose AM-SSB class carries
**no signal**: GNU Radio multiplied the audio by a real 0 Hz sine, which is identically zero, so
the class is channel noise only (radioML/dataset issue #19); ``real`` generates a true upper-
sideband signal.

Seeding is hierarchical: block b of key (class c, SNR s) draws from
``SeedSequence([seed, c, s, b])`` where c and s are positions in the *family's* full class list
and SNR grid and blocks hold ``BLOCK_WINDOWS`` windows. So the same config gives byte-identical
arrays, and a key's windows do not depend on which other classes or SNRs are generated.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from threadpoolctl import threadpool_limits

from amc_tf.data import channel as ch
from amc_tf.data import modulators as mods
from amc_tf.data.dataset import IQDataset
from amc_tf.data.modulations import SAMPLE_RATE_HZ, Modulation
from amc_tf.data.sources import SPEECH_LEVEL, random_symbols, speech_like
from amc_tf.progress import Progress

if TYPE_CHECKING:  # the config is passed in; data/ does not import the config layer at run time
    from amc_tf.config.data import SyntheticConfig

#: RRC roll-off and span (symbols) of the linear classes.
RRC_ROLLOFF = 0.35
RRC_SPAN = 11
#: Windows per seeding block.
BLOCK_WINDOWS = 512


@dataclass(frozen=True)
class Synthesis:
    """One block of windows of one (class, SNR) key, before normalisation.

    Attributes:
        signal: complex128 ``[B, L]`` received signal before noise.
        noise: complex128 ``[B, L]`` the AWGN added to it.
        symbols: complex128 ``[B, n_sym]`` transmitted constellation points (``linear``/
            ``offset``), float64 ±1 (``fsk``), or None (analog).
        starts: int64 ``[B]`` index of each window's first sample in the modulator output,
            where symbol k peaks at ``k * sps + RRC_SPAN * sps // 2`` (``linear``).
        noise_power: float64 ``[B]`` the noise variance used for each window.
    """

    signal: np.ndarray
    noise: np.ndarray
    symbols: np.ndarray | None
    starts: np.ndarray
    noise_power: np.ndarray


def block_seed(cfg: SyntheticConfig, name: str, snr: int, block: int) -> np.random.SeedSequence:
    """The seed of block ``block`` of key (``name``, ``snr``) (positions in the family tables)."""
    fam = cfg.spec
    return np.random.SeedSequence([cfg.seed, fam.names.index(name), fam.snrs.index(snr), block])


def transmit(
    mod: Modulation, rng: np.random.Generator, n_windows: int, n_samples: int, cfg: SyntheticConfig
) -> tuple[np.ndarray, np.ndarray | None]:
    """Source + modulator for one block: complex128 ``[B, n_samples]`` and the symbols (or None)."""
    sps = cfg.samples_per_symbol
    n_sym = -(-n_samples // sps) + RRC_SPAN + 1
    if mod.scheme in ("linear", "offset"):
        points = mod.constellation()[random_symbols(rng, n_windows, n_sym, mod.order)]
        taps = mods.rrc_taps(sps, RRC_ROLLOFF, RRC_SPAN)
        shaper = mods.linear if mod.scheme == "linear" else mods.offset_linear
        return shaper(points, taps, sps)[:, :n_samples], points
    if mod.scheme == "fsk":
        bits = random_symbols(rng, n_windows, n_sym, 2)
        pulse = mods.gaussian_frequency_pulse(sps, mod.bt)
        return mods.cpm(bits, pulse, sps, mod.index)[:, :n_samples], 2.0 * bits - 1.0
    if mod.scheme == "am" and mod.sideband == "ssb" and mod.name == "AM-SSB" and cfg.am_ssb == "faithful":
        return np.zeros((n_windows, n_samples), dtype=np.complex128), None
    audio = speech_like(rng, n_windows, n_samples, SAMPLE_RATE_HZ, analytic=mod.sideband == "ssb")
    if mod.scheme == "fm":
        return mods.fm(audio, SAMPLE_RATE_HZ), None
    return mods.am(audio, sideband=mod.sideband, carrier=mod.carrier, level=SPEECH_LEVEL), None


def synthesize(
    cfg: SyntheticConfig, name: str, snr: int, n_windows: int, seed: np.random.SeedSequence | int
) -> Synthesis:
    """Generate ``n_windows`` windows of class ``name`` at label ``snr`` dB, unnormalised.

    This is the whole chain of :func:`generate` for one block, exposed so that tests and
    notebooks can inspect the clean signal, the noise and the symbols.
    """
    rng = np.random.default_rng(seed)
    mod = cfg.spec.modulation(name)
    window = cfg.resolved_window
    sps = cfg.samples_per_symbol
    guard = RRC_SPAN * sps + cfg.channel.interpolation_taps
    n_stream = guard + sps + window + 8
    stream, symbols = transmit(mod, rng, n_windows, n_stream, cfg)
    starts = guard + rng.integers(0, sps, size=n_windows)
    received = ch.impair(rng, stream, starts, window, cfg.channel, SAMPLE_RATE_HZ)
    if cfg.snr_convention == "measured":
        power = np.mean(np.abs(received) ** 2, axis=1)
        reference = np.where(power > 0, power, 1.0)
        noise_power = reference / 10 ** (snr / 10)
    else:
        noise_power = np.full(n_windows, 2 * 10 ** (-snr / 5))
    noise = ch.awgn(rng, (n_windows, window), noise_power[:, None])
    return Synthesis(received, noise, symbols, starts, noise_power)


def normalise(x: np.ndarray, method: str) -> np.ndarray:
    """Per-window normalisation of complex ``[B, L]``: ``l1`` (sum |x| = 1) or ``rms`` (mean |x|^2 = 1)."""
    if method == "l1":
        scale = np.sum(np.abs(x), axis=1, keepdims=True)
    elif method == "rms":
        scale = np.sqrt(np.mean(np.abs(x) ** 2, axis=1, keepdims=True))
    else:
        raise ValueError(f"normalisation must be 'l1' or 'rms', got {method!r}")
    return x / scale


def generate(cfg: SyntheticConfig, *, progress: bool = False, workers: int | None = None) -> IQDataset:
    """Generate the dataset described by ``cfg``.

    Rows are ordered class by class (label order), SNR ascending within a class. Keys are
    computed in parallel threads (NumPy releases the GIL in its array loops); each key has its
    own seeds and output rows, so the result does not depend on ``workers``.

    Args:
        cfg: Generator configuration.
        progress: Report windows done / total and the rate on stderr (:mod:`amc_tf.progress`).
        workers: Threads; None = ``min(2, os.cpu_count())``.

    Returns:
        ``IQDataset`` with x float32 ``[N, 2, L]`` (row 0 = I, row 1 = Q), y int64 ``[N]``,
        snr int32 ``[N]`` (dB label), the chosen classes, and a manifest recording the config.
    """
    classes = cfg.resolved_classes
    snrs = cfg.resolved_snrs
    per_key = cfg.windows_per_key
    window = cfg.resolved_window
    total = len(classes) * len(snrs) * per_key
    x = np.empty((total, 2, window), dtype=np.float32)
    y = np.repeat(np.arange(len(classes), dtype=np.int64), len(snrs) * per_key)
    snr = np.tile(np.repeat(np.asarray(snrs, dtype=np.int32), per_key), len(classes))
    keys = [(name, s) for name in classes for s in snrs]

    def fill(key_index: int) -> None:
        name, s = keys[key_index]
        row = key_index * per_key
        for block, first in enumerate(range(0, per_key, BLOCK_WINDOWS)):
            n = min(BLOCK_WINDOWS, per_key - first)
            syn = synthesize(cfg, name, s, n, block_seed(cfg, name, s, block))
            z = normalise(syn.signal + syn.noise, cfg.spec.normalisation)
            x[row + first : row + first + n, 0] = z.real
            x[row + first : row + first + n, 1] = z.imag

    n_workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    if n_workers < 1:
        raise ValueError(f"workers must be >= 1, got {n_workers}")
    # One BLAS thread per worker: the products here are small, and nested pools oversubscribe.
    bar = Progress(f"synthetic {cfg.family}", total, enabled=progress, unit="windows", every_s=5.0)
    with bar, threadpool_limits(1), ThreadPoolExecutor(max_workers=n_workers) as pool:
        for done, _ in enumerate(pool.map(fill, range(len(keys))), start=1):
            bar.update(per_key, note=f"{keys[done - 1][0]} ({(done - 1) // len(snrs) + 1}/{len(classes)} classes)")
    manifest = {
        "source": "synthetic",
        "generator": cfg.model_dump(mode="json"),
        "config_hash": cfg.config_hash(),
        "seed": cfg.seed,
        "family": cfg.family,
        "sample_rate_hz": SAMPLE_RATE_HZ,
        "normalisation": cfg.spec.normalisation,
    }
    return IQDataset(x, y, snr, classes, manifest)
