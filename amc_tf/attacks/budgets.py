"""The one place an attack budget in wireless units becomes per-example radii (design D4).

The papers state a classifier attack's budget as a perturbation-to-noise ratio ``PNR`` (dB) or a
perturbation-to-signal ratio ``PSR`` (dB). With the received window ``x`` (signal plus noise), its
nominal SNR label (linear ``snr``) and the perturbation ``delta``::

    PNR = ||delta||^2 (snr + 1) / ||x||^2          (the noise energy is ||x||^2 / (snr + 1))
    PSR = PNR / snr
    eps = sqrt(PNR * ||x||^2 / (snr + 1))           (per-example L2 radius)

L-infinity attacks (FGSM, PGD-inf, MI-FGSM) read that ``eps`` through an L∞ convention
(:class:`LinfConvention`, a budget's ``linf``):

* ``energy_matched`` (default): ``eps_inf = eps / sqrt(2L)``: a full-sign perturbation of that
  radius carries exactly the energy ``eps^2``, so every attack sits on one PNR axis;
* ``same_eps`` (the AMC compression paper): ``eps_inf = eps``, one ε for the PNR and the L∞
  radius. A full-sign perturbation then carries ``2L eps^2``: its measured PNR is the nominal one
  plus ``10 log10(2L)`` dB (24.1 dB at L = 128), so its curve sits that far left of the
  energy-matched one.

A universal perturbation (Sadeghi & Larsson, references §6) uses one energy for the whole
data set: ``(mean_i ||x_i||)^2`` at that SNR, their ``SigPow``. Absolute budgets (``Budget.absolute``)
are a radius in the attack's own norm, as ART takes them. There is no box clipping: I/Q has none.

Every attack resolves its budget here and nowhere else; :func:`audit` checks the result.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np

from amc_tf.errors import AttackError


class Norm(str, enum.Enum):
    """Norm of a perturbation ball."""

    L2 = "l2"
    LINF = "linf"


class LinfConvention(str, enum.Enum):
    """How an L-infinity attack reads the L2 radius ``eps`` of a PNR/PSR budget (module docstring)."""

    ENERGY_MATCHED = "energy_matched"
    SAME_EPS = "same_eps"

    @property
    def label(self) -> str:
        """Plot/report wording of the convention."""
        if self is LinfConvention.SAME_EPS:
            return "L∞ radius ε (same ε as the PNR, paper)"
        return "L∞ radius ε/√(2L) (energy-matched)"

    def full_sign_offset_db(self, window: int) -> float:
        """dB by which a full-sign perturbation at the L∞ radius exceeds the nominal PNR (window ``L``)."""
        return 10.0 * math.log10(2 * window) if self is LinfConvention.SAME_EPS else 0.0


class BudgetKind(str, enum.Enum):
    """How a budget is stated: PNR (dB), PSR (dB) or an absolute radius (input units)."""

    PNR_DB = "pnr_db"
    PSR_DB = "psr_db"
    EPS = "eps"


@dataclass(frozen=True)
class Budget:
    """An attack budget; construct with :meth:`pnr`, :meth:`psr` or :meth:`absolute`.

    Attributes:
        kind: How ``value`` is to be read.
        value: dB for PNR/PSR (any finite number); a non-negative radius for ``EPS``.
        linf: How L-infinity attacks read a PNR/PSR radius (ignored by L2 attacks and by
            absolute budgets, which are already a radius in the attack's norm).
    """

    kind: BudgetKind
    value: float
    linf: LinfConvention = LinfConvention.ENERGY_MATCHED

    def __post_init__(self) -> None:
        if not isinstance(self.kind, BudgetKind):
            try:
                object.__setattr__(self, "kind", BudgetKind(self.kind))
            except ValueError:
                raise AttackError(
                    f"budget kind must be one of {[k.value for k in BudgetKind]}, got {self.kind!r}"
                ) from None
        try:
            value = float(self.value)
        except (TypeError, ValueError):
            raise AttackError(f"budget value must be a number, got {self.value!r}") from None
        if not math.isfinite(value):
            raise AttackError(f"budget value must be finite, got {self.value!r}")
        if self.kind is BudgetKind.EPS and value < 0:
            raise AttackError(f"an absolute budget eps must be >= 0, got {value}")
        object.__setattr__(self, "value", value)
        try:
            object.__setattr__(self, "linf", LinfConvention(self.linf))
        except ValueError:
            raise AttackError(
                f"linf convention must be one of {[c.value for c in LinfConvention]}, got {self.linf!r}"
            ) from None

    @classmethod
    def pnr(cls, db: float, linf: LinfConvention | str = LinfConvention.ENERGY_MATCHED) -> Budget:
        """Perturbation-to-noise ratio in dB (``linf``: the L∞ convention)."""
        return cls(BudgetKind.PNR_DB, db, linf)

    @classmethod
    def psr(cls, db: float, linf: LinfConvention | str = LinfConvention.ENERGY_MATCHED) -> Budget:
        """Perturbation-to-signal ratio in dB (``linf``: the L∞ convention)."""
        return cls(BudgetKind.PSR_DB, db, linf)

    @classmethod
    def absolute(cls, eps: float) -> Budget:
        """A radius in the attack's own norm, in input units (ART's ``eps``)."""
        return cls(BudgetKind.EPS, eps)

    @property
    def needs_snr(self) -> bool:
        """True when resolving this budget needs each example's SNR label."""
        return self.kind is not BudgetKind.EPS

    def __str__(self) -> str:
        unit = {"pnr_db": "dB PNR", "psr_db": "dB PSR", "eps": "(absolute eps)"}[self.kind.value]
        same = self.linf is LinfConvention.SAME_EPS and self.kind is not BudgetKind.EPS
        return f"{self.value:g} {unit}" + (" (L∞ radius = ε, same_eps)" if same else "")

    # -- resolution ------------------------------------------------------------------------

    def radius(self, x: np.ndarray, snr_db: np.ndarray | None, norm: Norm) -> np.ndarray:
        """Per-example radius in ``norm``.

        Args:
            x: I/Q windows, ``float32 [N, 2, L]``.
            snr_db: Nominal SNR labels in dB, ``int [N]`` (a scalar is broadcast); needed for
                PNR/PSR budgets.
            norm: The attack's norm.

        Returns:
            ``float32 [N]`` radii (L2, or L-infinity under :attr:`linf`; input units).
        """
        norm = Norm(norm)
        if self.kind is BudgetKind.EPS:
            return np.full(x.shape[0], self.value, dtype=np.float32)
        energy = np.sum(np.square(x.astype(np.float64)), axis=(1, 2))
        l2 = np.sqrt(self._energy_ratio(snr_db, x.shape[0]) * energy)
        return _to_norm(l2, norm, x.shape[2], self.linf).astype(np.float32)

    def universal_radius(self, x: np.ndarray, snr_db: np.ndarray | None, norm: Norm = Norm.L2) -> float:
        """One radius for a universal perturbation from the data's ``(mean ||x||)^2`` (Sadeghi & Larsson).

        Args:
            x: The data the perturbation is made for, ``float32 [N, 2, L]``.
            snr_db: Their SNR labels (dB); a PNR budget needs a single SNR value.
            norm: The perturbation's norm.
        """
        norm = Norm(norm)
        if self.kind is BudgetKind.EPS:
            return self.value
        snr = _snr_array(snr_db, x.shape[0])
        if self.kind is BudgetKind.PNR_DB and np.unique(snr).size > 1:
            raise AttackError(
                "a universal perturbation under a PNR budget needs data at one SNR; "
                f"got SNRs {sorted(set(snr.tolist()))}"
            )
        sig_pow = float(np.mean(np.linalg.norm(x.reshape(x.shape[0], -1).astype(np.float64), axis=1))) ** 2
        ratio = (
            self._energy_ratio(snr[:1], 1)[0]
            if self.kind is BudgetKind.PNR_DB
            else self._energy_ratio(snr, x.shape[0]).mean()
        )
        return float(_to_norm(np.array([math.sqrt(ratio * sig_pow)]), norm, x.shape[2], self.linf)[0])

    def _energy_ratio(self, snr_db: np.ndarray | None, n: int) -> np.ndarray:
        """``||delta||^2 / ||x||^2`` per example: ``PNR/(snr+1)`` or ``PSR*snr/(snr+1)``."""
        snr_lin = 10.0 ** (_snr_array(snr_db, n) / 10.0)
        linear = 10.0 ** (self.value / 10.0)
        if self.kind is BudgetKind.PNR_DB:
            return linear / (snr_lin + 1.0)
        return linear * snr_lin / (snr_lin + 1.0)


def _snr_array(snr_db: np.ndarray | int | None, n: int) -> np.ndarray:
    if snr_db is None:
        raise AttackError("a PNR/PSR budget needs the SNR label (dB) of every example; pass snr=")
    arr = np.asarray(snr_db, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise AttackError(f"snr must be a scalar or an array [{n}], got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise AttackError("snr labels must be finite numbers (dB)")
    return arr


def _to_norm(l2: np.ndarray, norm: Norm, window: int, linf: LinfConvention) -> np.ndarray:
    if norm is Norm.L2 or linf is LinfConvention.SAME_EPS:
        return l2
    return l2 / math.sqrt(2 * window)


def perturbation_norm(delta: np.ndarray, norm: Norm) -> np.ndarray:
    """Per-example norm of ``delta [N, 2, L]`` in ``norm`` (float64 [N])."""
    flat = delta.reshape(delta.shape[0], -1).astype(np.float64)
    if Norm(norm) is Norm.L2:
        return np.linalg.norm(flat, axis=1)
    return np.abs(flat).max(axis=1) if flat.shape[1] else np.zeros(flat.shape[0])


def project(delta: np.ndarray, radius: np.ndarray, norm: Norm) -> np.ndarray:
    """Project perturbations ``[N, 2, L]`` onto balls of per-example ``radius [N]`` (exact for L2, L-inf)."""
    r = np.asarray(radius, dtype=np.float64).reshape(-1, 1, 1)
    if Norm(norm) is Norm.LINF:
        return np.clip(delta, -r, r).astype(delta.dtype)
    n = perturbation_norm(delta, Norm.L2).reshape(-1, 1, 1)
    scale = np.where(n > r, r / np.where(n > 0, n, 1.0), 1.0)
    return (delta * scale).astype(delta.dtype)


def measured_pnr_db(x: np.ndarray, x_adv: np.ndarray, snr_db: np.ndarray | int) -> np.ndarray:
    """PNR (dB) each perturbation actually has: ``10 log10(||d||^2 (snr+1) / ||x||^2)`` (float64 [N]).

    A zero perturbation gives ``-inf``.
    """
    delta = x_adv.astype(np.float64) - x.astype(np.float64)
    energy = np.sum(np.square(x.astype(np.float64)), axis=(1, 2))
    snr_lin = 10.0 ** (_snr_array(snr_db, x.shape[0]) / 10.0)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(np.sum(np.square(delta), axis=(1, 2)) * (snr_lin + 1.0) / energy)


@dataclass(frozen=True)
class BudgetAudit:
    """Result of checking a batch of perturbations against their budget (design D4).

    Attributes:
        n: Number of examples checked.
        n_nan: Examples whose adversarial window holds NaN or Inf.
        n_over: Examples whose perturbation exceeds its radius by more than the tolerance.
        max_ratio: Largest ``||delta|| / radius`` (0 when every radius is 0 and delta is 0).
        pnr_db_min, pnr_db_mean, pnr_db_max: Measured PNR over examples with a non-zero
            perturbation (None without SNR labels or when all perturbations are zero).
    """

    n: int
    n_nan: int
    n_over: int
    max_ratio: float
    pnr_db_min: float | None
    pnr_db_mean: float | None
    pnr_db_max: float | None

    @property
    def ok(self) -> bool:
        """No NaN/Inf and every perturbation within budget."""
        return self.n_nan == 0 and self.n_over == 0

    def to_json(self) -> dict:
        return {**self.__dict__, "ok": self.ok}


def audit(
    x: np.ndarray,
    x_adv: np.ndarray,
    radius: np.ndarray,
    norm: Norm,
    snr_db: np.ndarray | int | None = None,
    rtol: float = 1e-4,
) -> BudgetAudit:
    """Check ``x_adv`` against per-example ``radius`` in ``norm``: within budget, finite.

    Args:
        x, x_adv: ``float32 [N, 2, L]`` clean and adversarial windows.
        radius: ``[N]`` radii in ``norm``.
        norm: The ball's norm.
        snr_db: SNR labels (dB) to report the measured PNR; optional.
        rtol: Relative slack for float32 rounding.
    """
    finite = np.isfinite(x_adv).all(axis=(1, 2))
    delta = np.where(finite[:, None, None], x_adv.astype(np.float64) - x, 0.0)
    size = perturbation_norm(delta, norm)
    r = np.asarray(radius, dtype=np.float64)
    over = size > r * (1 + rtol) + 1e-12
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(r > 0, size / np.where(r > 0, r, 1.0), np.where(size > 0, np.inf, 0.0))
    pnr = (None, None, None)
    if snr_db is not None and finite.any():
        measured = measured_pnr_db(
            x[finite], (x + delta)[finite], np.broadcast_to(np.asarray(snr_db), x.shape[:1])[finite]
        )
        measured = measured[np.isfinite(measured)]
        if measured.size:
            pnr = (float(measured.min()), float(measured.mean()), float(measured.max()))
    return BudgetAudit(
        n=int(x.shape[0]),
        n_nan=int((~finite).sum()),
        n_over=int(over.sum()),
        max_ratio=float(ratio.max()) if ratio.size else 0.0,
        pnr_db_min=pnr[0],
        pnr_db_mean=pnr[1],
        pnr_db_max=pnr[2],
    )
