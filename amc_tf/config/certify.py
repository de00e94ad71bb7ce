"""Config of randomized-smoothing certification (:func:`amc_tf.defenses.smoothing.certify`).

Cohen, Rosenfeld & Kolter (2019) smooth a base classifier ``f`` with isotropic Gaussian noise of
standard deviation σ per real input component and certify an L2 radius from ``n`` Monte-Carlo
samples with failure probability ``alpha``. The paper's ``n0 = 100``, ``n = 100,000`` and
``alpha = 0.001`` are the defaults; on a CPU, where VT-CNN2 runs ~4,000 windows/s, ``n`` of
1,000–10,000 is what users will want (the largest certifiable radius then shrinks from
``3.8 σ`` at n = 100,000 to ``3.2 σ`` at 10,000 and ``2.5 σ`` at 1,000).

σ is stated in one of two units (``sigma_unit``):

* ``nsr_db`` (default): a noise-to-signal ratio in dB, ``σ² = P_ref · 10^(sigma/10)``, where
  ``P_ref`` is ``reference_power`` or, when that is None, the mean power per real component
  ``mean(x²)`` of the windows being certified (or trained on). One σ for the whole set: a σ that
  followed each example's own power would make the noise depend on the (attacked) input, and the
  certificate of the paper would no longer hold. The default −10 dB adds, at 10 dB SNR, about as
  much noise as the channel already did, whatever the data's scale (RML2016's L1-normalised
  windows ~1e-2, RML2018's unit-RMS frames).
* ``absolute``: σ in input units.
"""

from __future__ import annotations

import enum
import math

from pydantic import Field, field_validator, model_validator

from amc_tf.config.base import Frozen


class SigmaUnit(str, enum.Enum):
    """How :attr:`SmoothingConfig.sigma` is read (module docstring)."""

    ABSOLUTE = "absolute"
    NSR_DB = "nsr_db"


#: The range a dB σ may take: below −60 dB the noise is invisible, above +40 dB it is all there is.
NSR_DB_RANGE = (-60.0, 40.0)


class SmoothingConfig(Frozen):
    """Randomized smoothing: the noise and the Monte-Carlo certification (Cohen et al. 2019).

    Attributes:
        sigma: Noise level; dB (``nsr_db``) or input units (``absolute``, > 0).
        sigma_unit: How ``sigma`` is read (:class:`SigmaUnit`).
        reference_power: ``P_ref`` of a dB σ (mean power per real component, input units squared);
            None = the mean ``x²`` of the data passed. Give it to make training and certification
            use exactly the same σ on different sets.
        n0: Noisy samples that pick the candidate class (Cohen's selection step).
        n: Noisy samples that estimate the candidate's probability (CPU: 1,000–10,000).
        alpha: Failure probability of each certificate (one-sided Clopper–Pearson level).
        batch_size: Noisy windows per forward pass of the model.
    """

    sigma: float = Field(default=-10.0, allow_inf_nan=False)
    sigma_unit: SigmaUnit = SigmaUnit.NSR_DB
    reference_power: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    n0: int = Field(default=100, ge=1)
    n: int = Field(default=100_000, ge=1, le=100_000_000)
    alpha: float = Field(default=0.001, gt=0, lt=1)
    batch_size: int = Field(default=1000, ge=1)

    @field_validator("sigma", mode="before")
    @classmethod
    def _number(cls, value: object) -> object:
        if isinstance(value, bool):
            raise ValueError("sigma must be a number, not a boolean")
        return value

    @model_validator(mode="after")
    def _sigma_in_unit(self) -> SmoothingConfig:
        if self.sigma_unit is SigmaUnit.ABSOLUTE:
            if not self.sigma > 0:
                raise ValueError(f"an absolute sigma must be > 0 (input units), got {self.sigma}")
            if self.reference_power is not None:
                raise ValueError("reference_power applies only to sigma_unit='nsr_db'")
        else:
            low, high = NSR_DB_RANGE
            if not low <= self.sigma <= high:
                raise ValueError(f"a dB sigma (nsr_db) must lie in [{low:g}, {high:g}] dB, got {self.sigma}")
        if self.n < self.n0:
            raise ValueError(f"n ({self.n}) must be >= n0 ({self.n0}): the estimation samples decide the bound")
        if self.alpha ** (1.0 / self.n) <= 0.5:
            raise ValueError(
                f"n = {self.n} samples can never certify at alpha = {self.alpha}: even all-agreeing samples "
                f"give p_A <= alpha^(1/n) = {self.alpha ** (1.0 / self.n):.3f} <= 0.5; raise n"
            )
        return self

    @property
    def max_radius_factor(self) -> float:
        """The largest certifiable radius in units of σ, ``Φ⁻¹(alpha^(1/n))`` (all n samples agree)."""
        from statistics import NormalDist

        return NormalDist().inv_cdf(self.alpha ** (1.0 / self.n))

    def sigma_for(self, mean_power: float) -> float:
        """The absolute σ (input units) for data of mean power per real component ``mean_power``."""
        if self.sigma_unit is SigmaUnit.ABSOLUTE:
            return float(self.sigma)
        power = self.reference_power if self.reference_power is not None else mean_power
        if not (math.isfinite(power) and power > 0):
            raise ValueError(f"a dB sigma needs a positive reference power, got {power}")
        return math.sqrt(power * 10.0 ** (self.sigma / 10.0))


__all__ = ["NSR_DB_RANGE", "SigmaUnit", "SmoothingConfig"]
