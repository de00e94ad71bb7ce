"""Typed configuration of the classifier data: the synthetic RadioML generator
(:mod:`amc_tf.data.synthetic`), file datasets and the stratified split.

Defaults reproduce the RML2016.10a recipe (references §1.2): 1000 windows per (class, SNR) key,
GNU Radio ``dynamic_channel_model(200e3, 0.01, 50, 0.01, 0.5e3, 8, fD=1, LOS, K=4,
delays [0, 0.9, 1.7], mags [1, 0.8, 0.3], ntaps 8)``. See the generator's module docstring for
what each field means physically.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from amc_tf.config.base import Frozen
from amc_tf.data.modulations import FAMILIES, SAMPLE_RATE_HZ, Family

#: Largest Doppler-times-window product for which the block-static fading model is accepted.
MAX_DOPPLER_WINDOW_PRODUCT = 0.01


class ChannelConfig(Frozen):
    """Channel impairments, applied in the original order SRO -> CFO -> fading -> AWGN.

    Attributes:
        awgn_only: Skip SRO, CFO and fading (AWGN at the labelled SNR only).
        sample_rate_offset: Enable the sample-rate-offset random walk.
        sro_std_hz: Step std of the SRO random walk (Hz per sample).
        sro_max_hz: Bound of the SRO walk (Hz).
        carrier_offset: Enable the carrier-frequency-offset random walk.
        cfo_std_hz: Step std of the CFO random walk (Hz per sample).
        cfo_max_hz: Bound of the CFO walk (Hz).
        walk_start_samples: The walks' value at a window's first sample is drawn as after this
            many steps from 0 (the original's windows sat 10^4–10^5 samples into each flowgraph
            run, where the walks had wandered ~ std * sqrt(steps)).
        fading: Enable Rician frequency-selective fading.
        rician_k: Rician K factor (LOS / scattered power, linear).
        delays: Path delays (samples, fractional allowed).
        gains: Path magnitudes (linear; not renormalised, as in the original).
        doppler_hz: Maximum Doppler shift (Hz). The fading is drawn once per window
            (block-static), which is exact only while Doppler x window duration is tiny; the
            generator refuses settings where it exceeds 0.01.
        interpolation_taps: FIR length used to realise the fractional delays.
    """

    awgn_only: bool = False
    sample_rate_offset: bool = True
    sro_std_hz: float = Field(0.01, ge=0)
    sro_max_hz: float = Field(50.0, ge=0)
    carrier_offset: bool = True
    cfo_std_hz: float = Field(0.01, ge=0)
    cfo_max_hz: float = Field(500.0, ge=0)
    walk_start_samples: int = Field(40_000, ge=0)
    fading: bool = True
    rician_k: float = Field(4.0, ge=0)
    delays: list[float] = Field(default_factory=lambda: [0.0, 0.9, 1.7], min_length=1)
    gains: list[float] = Field(default_factory=lambda: [1.0, 0.8, 0.3], min_length=1)
    doppler_hz: float = Field(1.0, ge=0)
    interpolation_taps: int = Field(8, ge=4, le=64)

    @model_validator(mode="after")
    def _paths(self) -> ChannelConfig:
        if len(self.delays) != len(self.gains):
            raise ValueError(f"delays ({len(self.delays)}) and gains ({len(self.gains)}) must have the same length")
        limit = self.interpolation_taps / 2
        bad = [d for d in self.delays if not 0 <= d <= limit]
        if bad:
            raise ValueError(f"delays {bad} outside [0, interpolation_taps/2 = {limit}] samples")
        if any(g < 0 for g in self.gains):
            raise ValueError(f"gains must be >= 0, got {self.gains}")
        return self


class SyntheticConfig(Frozen):
    """What to generate: family, classes, SNRs, window, conventions, channel and seed.

    Attributes:
        family: ``rml2016`` (11 classes, 128 samples, L1 norm) or ``rml2018`` (24 classes,
            1024 samples, RMS norm).
        windows_per_key: Windows per (class, SNR) pair (the original: 1000).
        snrs: SNR labels (dB) to generate; None = the family's whole grid. Each must be on it.
        classes: Class names to generate (label order stays the family's); None = all.
        window: Samples per window; None = the family's (128 or 1024).
        samples_per_symbol: Oversampling of the digital classes.
        am_ssb: ``faithful`` = RML2016's AM-SSB class carries no signal (the original multiplied
            the audio by a 0 Hz sine, i.e. by zero: only channel noise remains); ``real`` = a true
            upper-sideband signal. Only the rml2016 class ``AM-SSB`` is affected.
        snr_convention: ``measured`` = noise power set from the signal power present in each
            window after the channel; ``radioml`` = the original's nominal scaling (unit transmit
            power, per-component noise amplitude 10^(-snr/10)).
        channel: Channel impairments.
        seed: Root seed of the hierarchical seeding.
    """

    family: Literal["rml2016", "rml2018"] = "rml2016"
    windows_per_key: int = Field(1000, gt=0)
    snrs: list[int] | None = None
    classes: list[str] | None = None
    window: int | None = Field(None, ge=16, le=65_536)
    samples_per_symbol: int = Field(8, ge=2, le=64)
    am_ssb: Literal["faithful", "real"] = "faithful"
    snr_convention: Literal["measured", "radioml"] = "measured"
    channel: ChannelConfig = Field(default_factory=ChannelConfig)
    seed: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _check(self) -> SyntheticConfig:
        fam = FAMILIES[self.family]
        if self.snrs is not None:
            if not self.snrs:
                raise ValueError("snrs must not be empty (use null for the whole grid)")
            off = [s for s in self.snrs if s not in fam.snrs]
            if off:
                raise ValueError(f"SNR(s) {off} not on the {self.family} grid {fam.snrs[0]}..{fam.snrs[-1]} dB step 2")
            if len(set(self.snrs)) != len(self.snrs):
                raise ValueError(f"duplicate SNRs in {self.snrs}")
        if self.classes is not None:
            if not self.classes:
                raise ValueError("classes must not be empty (use null for all)")
            unknown = [c for c in self.classes if c not in fam.names]
            if unknown:
                raise ValueError(f"unknown class name(s) {unknown}; valid {self.family} names: {list(fam.names)}")
            if len(set(self.classes)) != len(self.classes):
                raise ValueError(f"duplicate class names in {self.classes}")
        drift = self.channel.sro_max_hz * (self.resolved_window + self.channel.interpolation_taps) / SAMPLE_RATE_HZ
        if self.channel.sample_rate_offset and not self.channel.awgn_only and drift >= 1:
            raise ValueError(
                f"sro_max_hz x (window + interpolation_taps) / sample rate = {drift:.3g} >= 1: "
                "the sample-rate offset could drift a whole sample within one window"
            )
        product = self.channel.doppler_hz * self.resolved_window / SAMPLE_RATE_HZ
        if self.channel.fading and not self.channel.awgn_only and product > MAX_DOPPLER_WINDOW_PRODUCT:
            raise ValueError(
                f"doppler_hz x window / sample rate = {product:.3g} > {MAX_DOPPLER_WINDOW_PRODUCT}: "
                "the block-static fading model would be wrong"
            )
        return self

    @property
    def spec(self) -> Family:
        """The family's data table."""
        return FAMILIES[self.family]

    @property
    def resolved_classes(self) -> tuple[str, ...]:
        """Chosen class names in the family's label order."""
        chosen = set(self.classes) if self.classes is not None else None
        return tuple(n for n in self.spec.names if chosen is None or n in chosen)

    @property
    def resolved_snrs(self) -> tuple[int, ...]:
        """Chosen SNRs (dB), ascending."""
        return tuple(sorted(self.snrs)) if self.snrs is not None else self.spec.snrs

    @property
    def resolved_window(self) -> int:
        """Samples per window."""
        return self.window if self.window is not None else self.spec.window


class SplitConfig(Frozen):
    """Stratified (class, SNR) split fractions. ``val = 0`` uses the test set for validation, as
    the VT-CNN2 notebook does (its 50/50 split); give ``val > 0`` for a held-out validation set."""

    train: float = Field(default=0.5, gt=0, lt=1)
    val: float = Field(default=0.0, ge=0, lt=1)
    test: float = Field(default=0.5, gt=0, lt=1)

    @model_validator(mode="after")
    def _sums_to_one(self) -> SplitConfig:
        total = self.train + self.val + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"train + val + test must equal 1, got {total:.6g}")
        return self


class DataSpec(Frozen):
    """Where the data comes from: the synthetic generator (default) or an imported ``.npz``.

    Attributes:
        synthetic: Generator settings (used when ``path`` is None).
        path: A dataset written by ``amc-tf data import`` / ``data generate``.
        classes: Optional subset of class names (``path`` datasets).
        snrs: Optional subset of SNR labels in dB (``path`` datasets).
        split: Split fractions.
        cache_dir: Where generated datasets are cached, keyed by the generator config hash.
    """

    synthetic: SyntheticConfig | None = None
    path: str | None = None
    classes: list[str] | None = None
    snrs: list[int] | None = None
    split: SplitConfig = SplitConfig()
    cache_dir: str = ".cache/datasets"

    @model_validator(mode="after")
    def _one_source(self) -> DataSpec:
        if self.synthetic is not None and self.path is not None:
            raise ValueError("give either data.synthetic or data.path, not both")
        if self.path is None and (self.classes is not None or self.snrs is not None):
            raise ValueError(
                "data.classes / data.snrs select from a file dataset; for synthetic data set them under data.synthetic"
            )
        return self

    def generator(self) -> SyntheticConfig | None:
        """The effective generator config (defaults when neither source is given)."""
        if self.path is not None:
            return None
        return self.synthetic if self.synthetic is not None else SyntheticConfig()
