"""The typed result of a robustness evaluation: :class:`RobustnessReport` and its parts.

Plain dataclasses with JSON and MLflow views (``to_json``, ``metrics``, ``curve_series``), kept
apart from :mod:`amc_tf.evaluation.robustness` (which computes them) so readers of saved reports
and the plotting code need not import the attack machinery.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from amc_tf.attacks.budgets import LinfConvention
from amc_tf.io import write_json


@dataclass
class Curve:
    """Accuracy of one attack (one library) over a PNR grid.

    Attributes:
        attack: Registry name (native) or ART method.
        library: ``"native"`` or ``"art"``.
        pnr_db: The PNRs (dB).
        accuracy: Accuracy at each PNR, in [0, 1].
        seconds: Wall time of each PNR point (without ``shared_seconds``).
        shared_seconds: Work shared by all points (DeepFool's one unbounded run).
        n_examples: Examples attacked.
        audit: Budget audit (:class:`~amc_tf.attacks.budgets.BudgetAudit` as a dict) per PNR.
        settings: The attack's settings.
        gradients: Input-gradient evaluations of the whole curve (one forward+backward pass of one
            example; 0 for controls and ART, which are not counted).
        clean_accuracy: Clean accuracy of the ``n_examples`` examples this curve attacked.
        attacked: Examples attacked at each PNR (survivors sweep: only the survivors; None = all).
        cumulative: Survivors sweep: the accuracy after this attack *and every attack before it in
            the cascade*, at this PNR and every smaller one (robust accuracy only, monotone).
    """

    attack: str
    library: str
    pnr_db: list[float]
    accuracy: list[float]
    seconds: list[float]
    shared_seconds: float
    n_examples: int
    audit: list[dict]
    settings: dict
    gradients: int = 0
    clean_accuracy: float | None = None
    attacked: list[int] | None = None
    cumulative: bool = False

    @property
    def total_seconds(self) -> float:
        return float(sum(self.seconds) + self.shared_seconds)

    @property
    def audit_ok(self) -> bool:
        return all(a["ok"] for a in self.audit)


@dataclass
class Comparison:
    """An ART baseline beside its native counterpart on the same examples and budgets.

    Both accuracy lists are measured on the same ``n_examples`` examples (the first of the
    evaluated ones), whose clean accuracy is ``clean_accuracy``: when ART runs on a subset for
    cost, the native curve is recomputed on that subset, so the pair is like for like.
    """

    art: str
    native: str
    n_examples: int
    pnr_db: list[float]
    art_accuracy: list[float]
    native_accuracy: list[float]
    art_seconds: float
    native_seconds: float
    clean_accuracy: float | None = None

    @property
    def speedup(self) -> float:
        """ART seconds / native seconds (> 1: native is faster)."""
        return self.art_seconds / self.native_seconds if self.native_seconds > 0 else float("inf")


@dataclass
class SNRRow:
    """Clean and attacked accuracy of the examples at one SNR (at the breakdown PNR)."""

    snr_db: int
    n: int
    clean_accuracy: float
    accuracy: dict[str, float]


@dataclass
class RobustnessReport:
    """Everything :func:`evaluate_robustness` measured; ``to_json()`` gives one JSON document.

    ``linf_convention`` names how the L∞ attacks read each PNR's radius ε
    (:class:`~amc_tf.attacks.budgets.LinfConvention`); ``window`` is the examples' length L, so
    :attr:`linf_offset_db` is the dB by which a full-sign L∞ perturbation exceeds the nominal PNR.
    """

    model: str
    classes: list[str]
    snr_db: int
    n_examples: int
    clean_accuracy: float
    pnr_db: list[float]
    curves: list[Curve]
    worst_case: list[float]
    cascade_order: list[str]
    broken_by: list[dict[str, int]]
    breakdown_pnr_db: float | None
    per_snr: list[SNRRow]
    comparisons: list[Comparison]
    warnings: list[str]
    seconds: float
    config: dict = field(default_factory=dict)
    linf_convention: str = LinfConvention.ENERGY_MATCHED.value
    window: int = 0
    sweep: str = "full"

    @property
    def gradients(self) -> int:
        """Input-gradient evaluations of the native curves (the cost the sweep modes are compared on)."""
        return int(sum(c.gradients for c in self.curves if c.library == "native"))

    @property
    def linf_label(self) -> str:
        """Wording of the L∞ convention for plots and reports."""
        return LinfConvention(self.linf_convention).label

    @property
    def linf_offset_db(self) -> float:
        """PNR (dB) of a full-sign perturbation at the L∞ radius, minus the nominal PNR."""
        return LinfConvention(self.linf_convention).full_sign_offset_db(self.window) if self.window else 0.0

    def curve(self, attack: str, library: str = "native") -> Curve:
        """The curve of ``attack`` from ``library`` (KeyError if absent)."""
        for c in self.curves:
            if c.attack == attack and c.library == library:
                return c
        raise KeyError(f"no {library} curve for {attack!r}")

    @property
    def audit_ok(self) -> bool:
        """Every perturbation of every curve within budget and finite."""
        return all(c.audit_ok for c in self.curves)

    def to_json(self) -> dict:
        out = asdict(self)
        for c, src in zip(out["curves"], self.curves):
            c["total_seconds"] = src.total_seconds
        for c, src in zip(out["comparisons"], self.comparisons):
            c["speedup"] = src.speedup
        out["audit_ok"] = self.audit_ok
        out["gradients"] = self.gradients
        out["linf_label"] = self.linf_label
        out["linf_offset_db"] = self.linf_offset_db
        return out

    def save(self, path: str | Path) -> Path:
        """Write :meth:`to_json` atomically."""
        return write_json(path, self.to_json())

    def metrics(self) -> dict[str, float]:
        """Flat scalar metrics for MLflow (``native.pgd_linf.acc.pnr-10``, ``worst_case.acc.pnr-10``, ...)."""
        out: dict[str, float] = {
            "clean_accuracy": self.clean_accuracy,
            "audit_ok": float(self.audit_ok),
            "seconds": self.seconds,
            "gradients": float(self.gradients),
        }
        for c in self.curves:
            for pnr, acc in zip(c.pnr_db, c.accuracy):
                out[f"{c.library}.{c.attack}.acc.pnr{pnr:g}"] = acc
            out[f"{c.library}.{c.attack}.seconds"] = c.total_seconds
        for pnr, acc in zip(self.pnr_db, self.worst_case):
            out[f"worst_case.acc.pnr{pnr:g}"] = acc
        for cmp in self.comparisons:
            out[f"speedup.{cmp.art}"] = cmp.speedup
        return out

    def curve_series(self) -> dict[int, dict[str, float]]:
        """The curves as MLflow step series ``{step: {"native.fgm.acc": ..., "worst_case.acc": ...}}``.

        The step is the PNR in dB when every grid value is an integer (MLflow then charts accuracy
        against PNR), else the position on the grid.
        """
        integral = all(float(p).is_integer() for p in self.pnr_db)
        step = {p: (int(p) if integral else i) for i, p in enumerate(self.pnr_db)}
        series: dict[int, dict[str, float]] = {}
        for c in self.curves:
            for pnr, acc in zip(c.pnr_db, c.accuracy):
                series.setdefault(step[pnr], {})[f"{c.library}.{c.attack}.acc"] = acc
        for pnr, acc in zip(self.pnr_db, self.worst_case):
            series.setdefault(step[pnr], {})["worst_case.acc"] = acc
        return series
