"""The class vocabulary of the synthetic RadioML families, as one data table.

Each family (``FAMILIES["rml2016"]``, ``FAMILIES["rml2018"]``) lists its classes in *label
order* (class index = position), its SNR grid (dB), its window length and its per-window
normalisation. Each class is one :class:`Modulation` row: the original name, analog or digital,
bits per symbol, the waveform scheme and that scheme's parameters. The modulator functions live
in :mod:`amc_tf.data.modulators`; :mod:`amc_tf.data.synthetic` dispatches on ``scheme``.

Sources:

* RML2016.10a (references §1.1–1.2, ``radioML/dataset`` ``transmitters.py``): 11 classes, SNR
  -20…18 dB step 2, 128-sample windows, L1 normalisation. Label order is the sorted order used by
  the VT-CNN2 notebook. GFSK uses GNU Radio's ``gfsk_mod(sensitivity=0.1, bt=0.35)`` at 8
  samples/symbol: 0.1 rad/sample x 8 samples = 0.8 rad per symbol = pi*h, so **h = 0.8/pi ≈ 0.255**
  (kept constant if ``samples_per_symbol`` changes). CPFSK is ``cpfsk_bc(k=0.5)``: h = 0.5 with
  rectangular frequency pulses.
* RML2018.01A (references §1.3): 24 classes in the corrected (torchsig) order, SNR -20…30 dB
  step 2, 1024-sample frames, unit-RMS normalisation. DeepSig never published its generator, so
  the constellations below are documented choices: ASK is *unipolar* (levels 0…M-1, which is
  what separates 4ASK from a bipolar PAM4), OOK is 2-level unipolar ASK, 32QAM/128QAM are cross
  constellations, APSK rings follow DVB-S2/S2X-like layouts (16 = 4+12, 32 = 4+12+16,
  64 = 4+12+20+28, 128 = 8+16+24+32+48), GMSK has BT = 0.3 and h = 0.5, OQPSK delays Q by half a
  symbol. Analog classes share the RML2016 audio chain (WC = with carrier, SC = suppressed).

Every constellation is scaled to unit average symbol energy, and symbols are drawn i.i.d.
uniform (the original whitened its text bits with a random sequence, which makes them so).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from amc_tf.errors import ConfigError

#: Sample rate of every synthetic family (Hz), as in the original generator.
SAMPLE_RATE_HZ = 200_000.0

Scheme = Literal["linear", "offset", "fsk", "fm", "am"]


# --- constellation builders (unit average energy, complex128 [M]) -------------------------------


def _unit(points: np.ndarray) -> np.ndarray:
    points = np.asarray(points, dtype=np.complex128)
    return points / np.sqrt(np.mean(np.abs(points) ** 2))


def psk(order: int, offset: float = 0.0) -> np.ndarray:
    """M-PSK points ``exp(j(2 pi k / M + offset))``, k = 0…M-1."""
    return _unit(np.exp(1j * (2 * np.pi * np.arange(order) / order + offset)))


def pam(order: int) -> np.ndarray:
    """Bipolar M-PAM on the real axis: levels -(M-1), …, -1, 1, …, M-1."""
    return _unit(np.arange(-(order - 1), order, 2))


def ask(order: int) -> np.ndarray:
    """Unipolar M-ASK on the real axis: levels 0, 1, …, M-1 (OOK is ``ask(2)``)."""
    return _unit(np.arange(order))


def qam(order: int) -> np.ndarray:
    """Square QAM (M = 4^k) or cross QAM (32, 128: the 4 corners of the next square removed)."""
    side = int(np.ceil(np.sqrt(order)))
    side += side % 2
    levels = np.arange(-(side - 1), side, 2)
    grid = (levels[:, None] + 1j * levels[None, :]).ravel()
    excess = side * side - order
    if excess:
        corner = int(round(np.sqrt(excess / 4)))
        if 4 * corner * corner != excess:
            raise ValueError(f"no square or cross QAM with {order} points")
        edge = side - 1 - 2 * corner
        grid = grid[~((np.abs(grid.real) > edge) & (np.abs(grid.imag) > edge))]
    return _unit(grid)


def apsk(ring_sizes: tuple[int, ...], radii: tuple[float, ...]) -> np.ndarray:
    """APSK: ``ring_sizes[i]`` equally spaced points on a circle of radius ``radii[i]``.

    Each ring is rotated by half its angular step (pi/n) so that rings do not line up.
    """
    rings = [r * np.exp(1j * (2 * np.pi * np.arange(n) / n + np.pi / n)) for n, r in zip(ring_sizes, radii)]
    return _unit(np.concatenate(rings))


# --- the table ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Modulation:
    """One class of a family.

    Attributes:
        name: The name exactly as in the original dataset.
        kind: ``"digital"`` (symbols from a finite alphabet) or ``"analog"`` (audio source).
        scheme: Waveform family: ``linear`` (constellation + RRC), ``offset`` (OQPSK: Q rail
            delayed by half a symbol), ``fsk`` (continuous-phase FSK, optionally Gaussian),
            ``fm`` (frequency modulation of audio), ``am`` (amplitude modulation of audio).
        bits_per_symbol: log2 of the alphabet size (0 for analog classes).
        constellation: Builder of the unit-energy points, complex128 ``[2**bits_per_symbol]``
            (``linear``/``offset`` only).
        bt: Gaussian filter bandwidth-time product (``fsk``; None = rectangular pulses).
        index: Modulation index h (``fsk``): phase change per symbol is ``pi * h * d``, d = ±1.
        sideband: ``"dsb"`` or ``"ssb"`` (upper sideband; ``am`` only).
        carrier: Whether the AM signal carries its carrier (``1 + m a(t)``).
    """

    name: str
    kind: Literal["digital", "analog"]
    scheme: Scheme
    bits_per_symbol: int = 0
    constellation: Callable[[], np.ndarray] | None = None
    bt: float | None = None
    index: float | None = None
    sideband: Literal["dsb", "ssb"] | None = None
    carrier: bool = False

    @property
    def order(self) -> int:
        """Alphabet size M (0 for analog classes)."""
        return 2**self.bits_per_symbol if self.kind == "digital" else 0


def _linear(name: str, bits: int, builder: Callable[[], np.ndarray]) -> Modulation:
    return Modulation(name, "digital", "linear", bits, builder)


def _am(name: str, sideband: Literal["dsb", "ssb"], carrier: bool) -> Modulation:
    return Modulation(name, "analog", "am", sideband=sideband, carrier=carrier)


#: GNU Radio gfsk_mod(sensitivity=0.1 rad/sample) at 8 samples/symbol: pi*h = 0.8 rad.
GFSK_INDEX = 0.8 / np.pi

_RML2016_ALL = {
    "BPSK": _linear("BPSK", 1, lambda: psk(2)),
    "QPSK": _linear("QPSK", 2, lambda: psk(4, np.pi / 4)),
    "8PSK": _linear("8PSK", 3, lambda: psk(8)),
    "PAM4": _linear("PAM4", 2, lambda: pam(4)),
    "QAM16": _linear("QAM16", 4, lambda: qam(16)),
    "QAM64": _linear("QAM64", 6, lambda: qam(64)),
    "GFSK": Modulation("GFSK", "digital", "fsk", 1, bt=0.35, index=GFSK_INDEX),
    "CPFSK": Modulation("CPFSK", "digital", "fsk", 1, bt=None, index=0.5),
    "WBFM": Modulation("WBFM", "analog", "fm"),
    "AM-DSB": _am("AM-DSB", "dsb", carrier=True),
    "AM-SSB": _am("AM-SSB", "ssb", carrier=False),
}
#: RML2016.10a label order: sorted, as in the VT-CNN2 notebook (references §1.1).
RML2016_ORDER = ("8PSK", "AM-DSB", "AM-SSB", "BPSK", "CPFSK", "GFSK", "PAM4", "QAM16", "QAM64", "QPSK", "WBFM")

_RML2018 = (
    _linear("OOK", 1, lambda: ask(2)),
    _linear("4ASK", 2, lambda: ask(4)),
    _linear("8ASK", 3, lambda: ask(8)),
    _linear("BPSK", 1, lambda: psk(2)),
    _linear("QPSK", 2, lambda: psk(4, np.pi / 4)),
    _linear("8PSK", 3, lambda: psk(8)),
    _linear("16PSK", 4, lambda: psk(16)),
    _linear("32PSK", 5, lambda: psk(32)),
    _linear("16APSK", 4, lambda: apsk((4, 12), (1.0, 2.7))),
    _linear("32APSK", 5, lambda: apsk((4, 12, 16), (1.0, 2.64, 4.64))),
    _linear("64APSK", 6, lambda: apsk((4, 12, 20, 28), (1.0, 2.4, 4.3, 7.0))),
    _linear("128APSK", 7, lambda: apsk((8, 16, 24, 32, 48), (1.0, 2.0, 3.0, 4.0, 5.0))),
    _linear("16QAM", 4, lambda: qam(16)),
    _linear("32QAM", 5, lambda: qam(32)),
    _linear("64QAM", 6, lambda: qam(64)),
    _linear("128QAM", 7, lambda: qam(128)),
    _linear("256QAM", 8, lambda: qam(256)),
    _am("AM-SSB-WC", "ssb", carrier=True),
    _am("AM-SSB-SC", "ssb", carrier=False),
    _am("AM-DSB-WC", "dsb", carrier=True),
    _am("AM-DSB-SC", "dsb", carrier=False),
    Modulation("FM", "analog", "fm"),
    Modulation("GMSK", "digital", "fsk", 1, bt=0.3, index=0.5),
    Modulation("OQPSK", "digital", "offset", 2, lambda: psk(4, np.pi / 4)),
)


@dataclass(frozen=True)
class Family:
    """A dataset family: its classes in label order, SNR grid, window and normalisation."""

    name: str
    classes: tuple[Modulation, ...]
    snrs: tuple[int, ...]
    window: int
    normalisation: Literal["l1", "rms"]

    @property
    def names(self) -> tuple[str, ...]:
        """Class names in label order."""
        return tuple(m.name for m in self.classes)

    def modulation(self, name: str) -> Modulation:
        """The row called ``name`` (KeyError if the family has no such class)."""
        for mod in self.classes:
            if mod.name == name:
                return mod
        raise KeyError(name)


FAMILIES: dict[str, Family] = {
    "rml2016": Family("rml2016", tuple(_RML2016_ALL[n] for n in RML2016_ORDER), tuple(range(-20, 20, 2)), 128, "l1"),
    "rml2018": Family("rml2018", _RML2018, tuple(range(-20, 32, 2)), 1024, "rms"),
}


def family(name: str) -> Family:
    """The family called ``name`` (``"rml2016"`` or ``"rml2018"``)."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise ConfigError(f"unknown family {name!r}; known: {sorted(FAMILIES)}") from None
