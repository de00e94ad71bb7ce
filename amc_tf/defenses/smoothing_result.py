"""What a randomized-smoothing certification returns, in wireless units (design D4).

Each example's certified L2 radius ``R`` becomes a **certified PNR** through the budget module's
formula ``PNR = ||δ||² (snr + 1) / ||x||²`` with ``||δ|| = R`` and the example's own SNR label:
``10 log10(R² (snr + 1) / ||x||²)`` dB. No perturbation at or below that PNR can change the
smoothed classifier's decision on that example (with probability ≥ 1 − alpha over the sampling).
Certified accuracy at a PNR ``p`` counts the examples that are correctly classified, not
abstained, and certified at ``p`` or more (Cohen et al. 2019, §4).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from amc_tf.attacks.budgets import Budget, Norm
from amc_tf.results import Result, jsonable

#: Predicted class of an abstained example.
ABSTAIN = -1


def certified_pnr_db(x: np.ndarray, radius_l2: np.ndarray, snr_db: np.ndarray | int) -> np.ndarray:
    """Certified PNR (dB) of per-example L2 radii, ``10 log10(R² (snr+1) / ||x||²)`` (float64 [N]).

    Computed as ``20 log10(R / eps_0)`` with ``eps_0`` the radius of a 0 dB PNR budget
    (:meth:`amc_tf.attacks.budgets.Budget.radius`), so the formula lives in one place.

    Args:
        x: Clean windows ``float32 [N, 2, L]``.
        radius_l2: Certified L2 radii ``[N]`` in input units (0 = nothing certified).
        snr_db: SNR labels in dB, ``[N]`` or a scalar.

    Returns:
        ``float64 [N]`` dB; ``-inf`` where the radius is 0.
    """
    eps0 = Budget.pnr(0.0).radius(x, snr_db, Norm.L2).astype(np.float64)
    radius = np.asarray(radius_l2, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.where(radius > 0, 20.0 * np.log10(np.where(radius > 0, radius, 1.0) / eps0), -np.inf)


@dataclass(frozen=True)
class CertificationResult(Result):
    """Per-example certificates of a smoothed classifier and their summary.

    Attributes:
        predicted: ``int64 [N]`` smoothed prediction, :data:`ABSTAIN` (−1) when abstained.
        radius_l2: ``float64 [N]`` certified L2 radius (input units; 0 when abstained).
        certified_pnr_db: ``float64 [N]`` certified PNR in dB (``-inf`` when abstained).
        correct: ``bool [N]`` prediction equals the label (an abstention is never correct).
        p_a_lower: ``float64 [N]`` one-sided (1 − alpha) Clopper–Pearson lower bound of p_A.
        labels: ``int64 [N]`` true classes.
        snr_db: ``float64 [N]`` SNR labels (dB).
        sigma: The absolute noise σ used (input units, per real component).
        sigma_setting: The configured σ (in ``sigma_unit``).
        sigma_unit: ``nsr_db`` or ``absolute``.
        n0: Selection samples per example.
        n: Estimation samples per example.
        alpha: Failure probability of each certificate.
        seed: Seed of the noise.
        seconds: Wall-clock time of the certification.
    """

    predicted: np.ndarray
    radius_l2: np.ndarray
    certified_pnr_db: np.ndarray
    correct: np.ndarray
    p_a_lower: np.ndarray
    labels: np.ndarray
    snr_db: np.ndarray
    sigma: float
    sigma_setting: float
    sigma_unit: str
    n0: int
    n: int
    alpha: float
    seed: int
    seconds: float

    @property
    def n_examples(self) -> int:
        """Number of certified examples."""
        return int(self.predicted.shape[0])

    @property
    def abstain_rate(self) -> float:
        """Fraction of examples abstained (p_A ≤ 0.5)."""
        return float(np.mean(self.predicted == ABSTAIN)) if self.n_examples else 0.0

    @property
    def smoothed_accuracy(self) -> float:
        """Accuracy of the smoothed classifier's certified predictions (abstentions count as errors)."""
        return float(np.mean(self.correct)) if self.n_examples else 0.0

    @property
    def examples_per_s(self) -> float:
        """Certification throughput (examples per second of wall-clock time)."""
        return self.n_examples / self.seconds if self.seconds > 0 else 0.0

    def certified_accuracy(self, pnr_db_grid: Sequence[float]) -> list[float]:
        """Fraction of examples correct, not abstained and certified at PNR ≥ ``p``, for each ``p``."""
        if not self.n_examples:
            return [0.0 for _ in pnr_db_grid]
        return [float(np.mean(self.correct & (self.certified_pnr_db >= float(p)))) for p in pnr_db_grid]

    def certified_accuracy_at_radius(self, radii_l2: Sequence[float]) -> list[float]:
        """The same at absolute L2 radii (Cohen et al.'s x-axis), for ART/paper comparisons."""
        if not self.n_examples:
            return [0.0 for _ in radii_l2]
        return [float(np.mean(self.correct & (self.radius_l2 >= float(r)))) for r in radii_l2]

    def summary(self) -> dict[str, float]:
        """The headline numbers: settings, accuracy, abstentions, radii and cost."""
        certified = self.predicted != ABSTAIN
        return {
            "sigma": self.sigma,
            "n0": float(self.n0),
            "n": float(self.n),
            "alpha": self.alpha,
            "n_examples": float(self.n_examples),
            "smoothed_accuracy": self.smoothed_accuracy,
            "abstain_rate": self.abstain_rate,
            "radius_l2_median": float(np.median(self.radius_l2[certified])) if certified.any() else 0.0,
            "certified_pnr_db_median": float(np.median(self.certified_pnr_db[certified])) if certified.any() else 0.0,
            "seconds": self.seconds,
            "examples_per_s": self.examples_per_s,
        }

    def metrics(self) -> dict[str, float]:
        return {f"certify_{k}": v for k, v in self.summary().items()}

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        out["certified_pnr_db"] = [None if not np.isfinite(v) else float(v) for v in self.certified_pnr_db]
        return {**out, "summary": jsonable(self.summary())}


__all__ = ["ABSTAIN", "CertificationResult", "certified_pnr_db"]
